//! Per-kind facts about `BtfType`: takes a type, gives its kind number and name, its name string
//! offset, and its type references (in a fixed order, with a label for error messages).

use super::{BtfType, StrOff, TypeId};
use std::fmt;

pub(crate) const KIND_INT: u32 = 1;
pub(crate) const KIND_PTR: u32 = 2;
pub(crate) const KIND_ARRAY: u32 = 3;
pub(crate) const KIND_STRUCT: u32 = 4;
pub(crate) const KIND_UNION: u32 = 5;
pub(crate) const KIND_ENUM: u32 = 6;
pub(crate) const KIND_FWD: u32 = 7;
pub(crate) const KIND_TYPEDEF: u32 = 8;
pub(crate) const KIND_VOLATILE: u32 = 9;
pub(crate) const KIND_CONST: u32 = 10;
pub(crate) const KIND_RESTRICT: u32 = 11;
pub(crate) const KIND_FUNC: u32 = 12;
pub(crate) const KIND_FUNC_PROTO: u32 = 13;
pub(crate) const KIND_VAR: u32 = 14;
pub(crate) const KIND_DATASEC: u32 = 15;
pub(crate) const KIND_FLOAT: u32 = 16;
pub(crate) const KIND_DECL_TAG: u32 = 17;
pub(crate) const KIND_TYPE_TAG: u32 = 18;
pub(crate) const KIND_ENUM64: u32 = 19;

/// Name of a raw kind number, as bpftool prints it.
pub(crate) fn kind_name(kind: u32) -> &'static str {
    match kind {
        0 => "VOID",
        KIND_INT => "INT",
        KIND_PTR => "PTR",
        KIND_ARRAY => "ARRAY",
        KIND_STRUCT => "STRUCT",
        KIND_UNION => "UNION",
        KIND_ENUM => "ENUM",
        KIND_FWD => "FWD",
        KIND_TYPEDEF => "TYPEDEF",
        KIND_VOLATILE => "VOLATILE",
        KIND_CONST => "CONST",
        KIND_RESTRICT => "RESTRICT",
        KIND_FUNC => "FUNC",
        KIND_FUNC_PROTO => "FUNC_PROTO",
        KIND_VAR => "VAR",
        KIND_DATASEC => "DATASEC",
        KIND_FLOAT => "FLOAT",
        KIND_DECL_TAG => "DECL_TAG",
        KIND_TYPE_TAG => "TYPE_TAG",
        KIND_ENUM64 => "ENUM64",
        _ => "UNKNOWN",
    }
}

/// Which field of a type holds a reference (for error messages).
#[derive(Clone, Copy, Debug)]
pub(crate) enum RefSlot {
    Type,
    Elem,
    Index,
    Member(usize),
    Return,
    Param(usize),
    Var(usize),
}

impl fmt::Display for RefSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefSlot::Type => write!(f, "type"),
            RefSlot::Elem => write!(f, "element type"),
            RefSlot::Index => write!(f, "index type"),
            RefSlot::Member(i) => write!(f, "member {i}"),
            RefSlot::Return => write!(f, "return type"),
            RefSlot::Param(i) => write!(f, "param {i}"),
            RefSlot::Var(i) => write!(f, "var {i}"),
        }
    }
}

impl BtfType {
    /// The raw BTF kind number (0 for `Void`).
    pub fn kind(&self) -> u32 {
        match self {
            BtfType::Void => 0,
            BtfType::Int { .. } => KIND_INT,
            BtfType::Ptr { .. } => KIND_PTR,
            BtfType::Array { .. } => KIND_ARRAY,
            BtfType::Struct { .. } => KIND_STRUCT,
            BtfType::Union { .. } => KIND_UNION,
            BtfType::Enum { .. } => KIND_ENUM,
            BtfType::Enum64 { .. } => KIND_ENUM64,
            BtfType::Fwd { .. } => KIND_FWD,
            BtfType::Typedef { .. } => KIND_TYPEDEF,
            BtfType::Volatile { .. } => KIND_VOLATILE,
            BtfType::Const { .. } => KIND_CONST,
            BtfType::Restrict { .. } => KIND_RESTRICT,
            BtfType::TypeTag { .. } => KIND_TYPE_TAG,
            BtfType::Func { .. } => KIND_FUNC,
            BtfType::FuncProto { .. } => KIND_FUNC_PROTO,
            BtfType::Var { .. } => KIND_VAR,
            BtfType::Datasec { .. } => KIND_DATASEC,
            BtfType::Float { .. } => KIND_FLOAT,
            BtfType::DeclTag { .. } => KIND_DECL_TAG,
        }
    }

    /// "STRUCT", "TYPEDEF", ... as bpftool prints it.
    pub fn kind_name(&self) -> &'static str {
        kind_name(self.kind())
    }

    /// The type's own name (0 for kinds without one).
    pub fn name(&self) -> StrOff {
        match self {
            BtfType::Int { name, .. }
            | BtfType::Struct { name, .. }
            | BtfType::Union { name, .. }
            | BtfType::Enum { name, .. }
            | BtfType::Enum64 { name, .. }
            | BtfType::Fwd { name, .. }
            | BtfType::Typedef { name, .. }
            | BtfType::TypeTag { name, .. }
            | BtfType::Func { name, .. }
            | BtfType::Var { name, .. }
            | BtfType::Datasec { name, .. }
            | BtfType::Float { name, .. }
            | BtfType::DeclTag { name, .. } => *name,
            BtfType::Void
            | BtfType::Ptr { .. }
            | BtfType::Array { .. }
            | BtfType::Volatile { .. }
            | BtfType::Const { .. }
            | BtfType::Restrict { .. }
            | BtfType::FuncProto { .. } => StrOff(0),
        }
    }

    /// Every type reference with its slot, in a fixed order (the order equivalence compares).
    pub(crate) fn for_each_ref_slot(&self, mut f: impl FnMut(RefSlot, TypeId)) {
        match self {
            BtfType::Void
            | BtfType::Int { .. }
            | BtfType::Enum { .. }
            | BtfType::Enum64 { .. }
            | BtfType::Fwd { .. }
            | BtfType::Float { .. } => {}
            BtfType::Ptr { ty }
            | BtfType::Typedef { ty, .. }
            | BtfType::Volatile { ty }
            | BtfType::Const { ty }
            | BtfType::Restrict { ty }
            | BtfType::TypeTag { ty, .. }
            | BtfType::Var { ty, .. }
            | BtfType::DeclTag { ty, .. } => f(RefSlot::Type, *ty),
            BtfType::Func { proto, .. } => f(RefSlot::Type, *proto),
            BtfType::Array { elem, index, .. } => {
                f(RefSlot::Elem, *elem);
                f(RefSlot::Index, *index);
            }
            BtfType::Struct { members, .. } | BtfType::Union { members, .. } => {
                for (i, m) in members.iter().enumerate() {
                    f(RefSlot::Member(i), m.ty);
                }
            }
            BtfType::FuncProto { ret, params } => {
                f(RefSlot::Return, *ret);
                for (i, p) in params.iter().enumerate() {
                    f(RefSlot::Param(i), p.ty);
                }
            }
            BtfType::Datasec { vars, .. } => {
                for (i, v) in vars.iter().enumerate() {
                    f(RefSlot::Var(i), v.ty);
                }
            }
        }
    }

    /// Every type reference, in the same order as `for_each_ref_slot`.
    pub fn for_each_ref(&self, mut f: impl FnMut(TypeId)) {
        self.for_each_ref_slot(|_, t| f(t));
    }

    /// Every type reference, mutably, in the same order as `for_each_ref`.
    pub fn for_each_ref_mut(&mut self, mut f: impl FnMut(&mut TypeId)) {
        match self {
            BtfType::Void
            | BtfType::Int { .. }
            | BtfType::Enum { .. }
            | BtfType::Enum64 { .. }
            | BtfType::Fwd { .. }
            | BtfType::Float { .. } => {}
            BtfType::Ptr { ty }
            | BtfType::Typedef { ty, .. }
            | BtfType::Volatile { ty }
            | BtfType::Const { ty }
            | BtfType::Restrict { ty }
            | BtfType::TypeTag { ty, .. }
            | BtfType::Var { ty, .. }
            | BtfType::DeclTag { ty, .. } => f(ty),
            BtfType::Func { proto, .. } => f(proto),
            BtfType::Array { elem, index, .. } => {
                f(elem);
                f(index);
            }
            BtfType::Struct { members, .. } | BtfType::Union { members, .. } => {
                for m in members {
                    f(&mut m.ty);
                }
            }
            BtfType::FuncProto { ret, params } => {
                f(ret);
                for p in params {
                    f(&mut p.ty);
                }
            }
            BtfType::Datasec { vars, .. } => {
                for v in vars {
                    f(&mut v.ty);
                }
            }
        }
    }

    /// Every string reference, mutably (the type's name, member/param/enumerator names).
    pub fn for_each_str_mut(&mut self, mut f: impl FnMut(&mut StrOff)) {
        match self {
            BtfType::Void
            | BtfType::Ptr { .. }
            | BtfType::Array { .. }
            | BtfType::Volatile { .. }
            | BtfType::Const { .. }
            | BtfType::Restrict { .. } => {}
            BtfType::Int { name, .. }
            | BtfType::Fwd { name, .. }
            | BtfType::Typedef { name, .. }
            | BtfType::TypeTag { name, .. }
            | BtfType::Func { name, .. }
            | BtfType::Var { name, .. }
            | BtfType::Float { name, .. }
            | BtfType::DeclTag { name, .. } => f(name),
            BtfType::Datasec { name, .. } => f(name),
            BtfType::Struct { name, members, .. } | BtfType::Union { name, members, .. } => {
                f(name);
                for m in members {
                    f(&mut m.name);
                }
            }
            BtfType::Enum { name, values, .. } | BtfType::Enum64 { name, values, .. } => {
                f(name);
                for v in values {
                    f(&mut v.name);
                }
            }
            BtfType::FuncProto { params, .. } => {
                for p in params {
                    f(&mut p.name);
                }
            }
        }
    }
}
