//! Encoding a `Btf`: takes the container, gives a raw `.BTF` section (24-byte header, types,
//! then the whole interned string table) in the requested byte order.

use super::kind::*;
use super::raw::{BTF_HDR_LEN, BTF_MAGIC};
use super::{Btf, BtfType, EnumValue, Member, Param, VarSecinfo};
use object::Endianness;

/// Little helper writing words in one byte order.
pub(crate) struct Writer {
    pub buf: Vec<u8>,
    big: bool,
}

impl Writer {
    pub(crate) fn new(endian: Endianness) -> Writer {
        Writer {
            buf: Vec::new(),
            big: matches!(endian, Endianness::Big),
        }
    }
    pub(crate) fn u16(&mut self, v: u16) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }
    pub(crate) fn u32(&mut self, v: u32) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }
    /// Overwrite the u32 at `at` (which the writer already wrote).
    pub(crate) fn set_u32(&mut self, at: usize, v: u32) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        if let Some(dst) = self.buf.get_mut(at..at + 4) {
            dst.copy_from_slice(&b);
        }
    }
}

fn info(kind: u32, vlen: usize, kflag: bool) -> u32 {
    (kind << 24) | (vlen as u32 & 0xffff) | (u32::from(kflag) << 31)
}

impl Btf {
    /// Encode as a raw `.BTF` section. Types at ids `1..len()` in order; the string table is
    /// emitted whole (it holds every string the types and `.BTF.ext` refer to).
    ///
    /// Vlen-carrying lists longer than 65535 cannot be encoded and are cut (never produced by
    /// parsing); a `Void` placeholder past id 0 is written as `void *` to keep ids stable.
    pub fn encode(&self, endian: Endianness) -> Vec<u8> {
        let mut w = Writer::new(endian);
        w.u16(BTF_MAGIC);
        w.buf.push(1); // version
        w.buf.push(0); // flags
        w.u32(BTF_HDR_LEN as u32);
        for _ in 0..4 {
            w.u32(0); // type_off, type_len, str_off, str_len: patched below
        }
        for t in self.types().skip(1) {
            encode_type(&mut w, t);
        }
        let type_len = (w.buf.len() - BTF_HDR_LEN) as u32;
        let strs = self.strings.bytes();
        w.buf.extend_from_slice(strs);
        w.set_u32(8, 0);
        w.set_u32(12, type_len);
        w.set_u32(16, type_len);
        w.set_u32(20, strs.len() as u32);
        w.buf
    }
}

/// Encode one type (takes the writer and the type; appends its 12-byte head and trailing
/// words): the kinds with a vlen-carrying list each by their own step, the others by
/// `encode_fixed`.
fn encode_type(w: &mut Writer, t: &BtfType) {
    match t {
        BtfType::Struct {
            name,
            size,
            kind_flag,
            members,
        }
        | BtfType::Union {
            name,
            size,
            kind_flag,
            members,
        } => encode_members(w, t.kind(), name.0, *size, *kind_flag, members),
        BtfType::Enum {
            name,
            size,
            signed,
            values,
        } => encode_enum(w, name.0, *size, *signed, values),
        BtfType::Enum64 {
            name,
            size,
            signed,
            values,
        } => encode_enum64(w, name.0, *size, *signed, values),
        BtfType::FuncProto { ret, params } => encode_func_proto(w, ret.0, params),
        BtfType::Datasec { name, size, vars } => encode_datasec(w, name.0, *size, vars),
        _ => encode_fixed(w, t),
    }
}

/// Write a type's head (takes the name offset, info word and size-or-type word).
#[inline]
fn head(w: &mut Writer, name: u32, info: u32, st: u32) {
    w.u32(name);
    w.u32(info);
    w.u32(st);
}

/// The part of a vlen-carrying list that can be encoded (takes the list, gives its first
/// 65535 entries at most).
#[inline]
fn cut<T>(list: &[T]) -> &[T] {
    list.get(..list.len().min(0xffff)).unwrap_or(&[])
}

/// Encode a type of a kind without a vlen-carrying list (takes the writer and the type; the
/// kinds with one are `encode_type`'s other steps and write nothing here).
fn encode_fixed(w: &mut Writer, t: &BtfType) {
    match t {
        BtfType::Void => head(w, 0, info(KIND_PTR, 0, false), 0),
        BtfType::Int { name, size, data } => {
            head(w, name.0, info(KIND_INT, 0, false), *size);
            w.u32(*data);
        }
        BtfType::Ptr { ty } => head(w, 0, info(KIND_PTR, 0, false), ty.0),
        BtfType::Volatile { ty } => head(w, 0, info(KIND_VOLATILE, 0, false), ty.0),
        BtfType::Const { ty } => head(w, 0, info(KIND_CONST, 0, false), ty.0),
        BtfType::Restrict { ty } => head(w, 0, info(KIND_RESTRICT, 0, false), ty.0),
        BtfType::Typedef { name, ty } => head(w, name.0, info(KIND_TYPEDEF, 0, false), ty.0),
        BtfType::TypeTag { name, ty } => head(w, name.0, info(KIND_TYPE_TAG, 0, false), ty.0),
        BtfType::Array {
            elem,
            index,
            nelems,
        } => {
            head(w, 0, info(KIND_ARRAY, 0, false), 0);
            w.u32(elem.0);
            w.u32(index.0);
            w.u32(*nelems);
        }
        BtfType::Fwd { name, is_union } => head(w, name.0, info(KIND_FWD, 0, *is_union), 0),
        BtfType::Func {
            name,
            proto,
            linkage,
        } => head(
            w,
            name.0,
            info(KIND_FUNC, usize::from(*linkage), false),
            proto.0,
        ),
        BtfType::Var { name, ty, linkage } => {
            head(w, name.0, info(KIND_VAR, 0, false), ty.0);
            w.u32(*linkage);
        }
        BtfType::Float { name, size } => head(w, name.0, info(KIND_FLOAT, 0, false), *size),
        BtfType::DeclTag {
            name,
            ty,
            component_idx,
        } => {
            head(w, name.0, info(KIND_DECL_TAG, 0, false), ty.0);
            w.u32(*component_idx as u32);
        }
        BtfType::Struct { .. }
        | BtfType::Union { .. }
        | BtfType::Enum { .. }
        | BtfType::Enum64 { .. }
        | BtfType::FuncProto { .. }
        | BtfType::Datasec { .. } => {}
    }
}

/// Encode a STRUCT or UNION (takes its kind, name, size, kind_flag and members).
fn encode_members(
    w: &mut Writer,
    kind: u32,
    name: u32,
    size: u32,
    kflag: bool,
    members: &[Member],
) {
    let members = cut(members);
    head(w, name, info(kind, members.len(), kflag), size);
    for m in members {
        w.u32(m.name.0);
        w.u32(m.ty.0);
        w.u32(m.offset);
    }
}

/// Encode an ENUM (takes its name, size, signedness and values, each written as 32 bits).
fn encode_enum(w: &mut Writer, name: u32, size: u32, signed: bool, values: &[EnumValue]) {
    let values = cut(values);
    head(w, name, info(KIND_ENUM, values.len(), signed), size);
    for v in values {
        w.u32(v.name.0);
        w.u32(v.value as u32);
    }
}

/// Encode an ENUM64 (takes its name, size, signedness and values, each as low then high word).
fn encode_enum64(w: &mut Writer, name: u32, size: u32, signed: bool, values: &[EnumValue]) {
    let values = cut(values);
    head(w, name, info(KIND_ENUM64, values.len(), signed), size);
    for v in values {
        w.u32(v.name.0);
        w.u32(v.value as u32);
        w.u32((v.value >> 32) as u32);
    }
}

/// Encode a FUNC_PROTO (takes its return type and parameters).
fn encode_func_proto(w: &mut Writer, ret: u32, params: &[Param]) {
    let params = cut(params);
    head(w, 0, info(KIND_FUNC_PROTO, params.len(), false), ret);
    for p in params {
        w.u32(p.name.0);
        w.u32(p.ty.0);
    }
}

/// Encode a DATASEC (takes its name, size and variables).
fn encode_datasec(w: &mut Writer, name: u32, size: u32, vars: &[VarSecinfo]) {
    let vars = cut(vars);
    head(w, name, info(KIND_DATASEC, vars.len(), false), size);
    for v in vars {
        w.u32(v.ty.0);
        w.u32(v.offset);
        w.u32(v.size);
    }
}
