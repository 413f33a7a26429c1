//! In-memory BTF types (`BtfType`), the string table, and the `Btf` container.
//! API CONTRACT (stub: bodies to be written) — see mod.rs for the flow.

use crate::error::{Error, Result};
use object::Endianness;

/// Index of a type in a `Btf` (0 = void).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TypeId(pub u32);

/// Offset of a NUL-terminated string in the `Btf`'s string table (0 = "").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StrOff(pub u32);

/// BTF_VAR_STATIC / GLOBAL_ALLOCATED / GLOBAL_EXTERN.
pub const VAR_STATIC: u32 = 0;
pub const VAR_GLOBAL: u32 = 1;
pub const VAR_EXTERN: u32 = 2;
/// BTF_FUNC_STATIC / GLOBAL / EXTERN.
pub const FUNC_STATIC: u16 = 0;
pub const FUNC_GLOBAL: u16 = 1;
pub const FUNC_EXTERN: u16 = 2;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Member {
    pub name: StrOff,
    pub ty: TypeId,
    /// Raw `offset` word: bit offset, or (kind_flag set) bitfield_size << 24 | bit offset.
    pub offset: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    pub name: StrOff,
    pub ty: TypeId,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VarSecinfo {
    pub ty: TypeId,
    pub offset: u32,
    pub size: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EnumValue {
    pub name: StrOff,
    /// 32-bit values for ENUM (sign-extended per `signed`), full for ENUM64.
    pub value: u64,
}

/// One BTF type. `kind_flag` is kept where the kind gives it a meaning.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BtfType {
    /// Placeholder at id 0.
    Void,
    Int {
        name: StrOff,
        size: u32,
        /// the u32 after the header (encoding<<24 | offset<<16 | bits)
        data: u32,
    },
    Ptr {
        ty: TypeId,
    },
    Array {
        elem: TypeId,
        index: TypeId,
        nelems: u32,
    },
    Struct {
        name: StrOff,
        size: u32,
        kind_flag: bool,
        members: Vec<Member>,
    },
    Union {
        name: StrOff,
        size: u32,
        kind_flag: bool,
        members: Vec<Member>,
    },
    Enum {
        name: StrOff,
        size: u32,
        signed: bool,
        values: Vec<EnumValue>,
    },
    Enum64 {
        name: StrOff,
        size: u32,
        signed: bool,
        values: Vec<EnumValue>,
    },
    Fwd {
        name: StrOff,
        is_union: bool,
    },
    Typedef {
        name: StrOff,
        ty: TypeId,
    },
    Volatile {
        ty: TypeId,
    },
    Const {
        ty: TypeId,
    },
    Restrict {
        ty: TypeId,
    },
    TypeTag {
        name: StrOff,
        ty: TypeId,
    },
    Func {
        name: StrOff,
        proto: TypeId,
        linkage: u16,
    },
    FuncProto {
        ret: TypeId,
        params: Vec<Param>,
    },
    Var {
        name: StrOff,
        ty: TypeId,
        linkage: u32,
    },
    Datasec {
        name: StrOff,
        size: u32,
        vars: Vec<VarSecinfo>,
    },
    Float {
        name: StrOff,
        size: u32,
    },
    DeclTag {
        name: StrOff,
        ty: TypeId,
        component_idx: i32,
    },
}

/// Where a redirected type goes in `Btf::compact`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redirect {
    /// Drop the type; references to it become references to this one.
    To(TypeId),
    /// Drop the type; it must be unreferenced (old DATASECs).
    Remove,
}

/// Result of `Btf::append`: how the appended section's ids map into the container.
#[derive(Clone, Copy, Debug)]
pub struct Appended {
    /// Input type id `i > 0` became `TypeId(base + i)`; input id 0 stays void.
    pub base: u32,
    /// Number of types appended (ids base+1 ..= base+count).
    pub count: u32,
}

/// Structural equivalence classes of a `Btf`'s types.
#[derive(Clone, Debug)]
pub struct Equivalence {
    canon: Vec<TypeId>,
}

impl Equivalence {
    /// The canonical (lowest-id) member of `id`'s class.
    pub fn canon(&self, id: TypeId) -> TypeId {
        self.canon.get(id.0 as usize).copied().unwrap_or(id)
    }
    pub fn same(&self, a: TypeId, b: TypeId) -> bool {
        self.canon(a) == self.canon(b)
    }
}

/// Old id -> new id after `compact`.
#[derive(Clone, Debug)]
pub struct TypeRemap {
    map: Vec<TypeId>,
}

impl TypeRemap {
    pub fn get(&self, old: TypeId) -> TypeId {
        self.map.get(old.0 as usize).copied().unwrap_or(TypeId(0))
    }
}

/// A set of BTF types with one interned string table.
#[derive(Clone, Debug, Default)]
pub struct Btf {
    pub types: Vec<BtfType>,
    // strings: interned table, private
}

impl Btf {
    pub fn new() -> Btf {
        todo!()
    }
    /// Parse one raw `.BTF` section (either byte order, told by the magic) and append its types.
    pub fn append(&mut self, _data: &[u8]) -> Result<Appended> {
        todo!()
    }
    /// Intern a string of a raw `.BTF` section `data` (as given to `append`) at offset `off`.
    pub fn intern_from(&mut self, _data: &[u8], _off: u32) -> Result<StrOff> {
        todo!()
    }
    pub fn intern(&mut self, _s: &str) -> StrOff {
        todo!()
    }
    /// The string at `off` ("" if out of range).
    pub fn str(&self, _off: StrOff) -> &str {
        todo!()
    }
    pub fn get(&self, _id: TypeId) -> Result<&BtfType> {
        todo!()
    }
    pub fn push(&mut self, _t: BtfType) -> TypeId {
        todo!()
    }
    pub fn len(&self) -> usize {
        self.types.len()
    }
    /// Follow typedef/const/volatile/restrict/type_tag to the underlying type (bounded: error on loops).
    pub fn skip_mods(&self, _id: TypeId) -> Result<TypeId> {
        todo!()
    }
    /// Size in bytes of a type (follows modifiers/typedefs/vars; ptr = 8; array = elem*n).
    pub fn size_of(&self, _id: TypeId) -> Result<u32> {
        todo!()
    }
    /// Human text for errors: "struct foo", "__u32", "int[4]", "void *", ...
    pub fn display(&self, _id: TypeId) -> String {
        todo!()
    }
    pub fn equivalence(&self) -> Equivalence {
        let _ = Error::btf("");
        todo!()
    }
    pub fn compact(&mut self, _eq: &Equivalence, _redirects: &[(TypeId, Redirect)]) -> TypeRemap {
        todo!()
    }
    pub fn encode(&self, _endian: Endianness) -> Vec<u8> {
        todo!()
    }
}
