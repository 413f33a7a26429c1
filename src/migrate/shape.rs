//! BTF type -> [`Shape`]: takes a `Btf` and a type id, gives the byte layout a program reads
//! through that type (typedefs and qualifiers looked through, member names kept), the form in
//! which a pinned map's types and an object's types are compared and converted.

use crate::btf::{Btf, BtfType, Member, TypeId};

/// How deep a type may nest before it is refused (malformed BTF loops without a pointer).
const MAX_DEPTH: usize = 64;

/// The layout of a map key or value as a program sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// An integer, `bool` or `char`, by its base name (`unsigned int`, `_Bool`).
    Int {
        name: String,
        size: u32,
        signed: bool,
    },
    /// An enum: an integer with named values.
    Enum {
        name: String,
        size: u32,
        signed: bool,
        values: Vec<(String, u64)>,
    },
    Float {
        name: String,
        size: u32,
    },
    /// Any pointer (8 bytes; what it points to is not part of the map's bytes).
    Ptr,
    Struct(Record),
    Union(Record),
    Array {
        elem: Box<Shape>,
        len: u32,
    },
}

/// A struct or union.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub size: u32,
    pub fields: Vec<Field>,
}

/// One member of a struct or union.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// Offset from the start of the record, in bits.
    pub bit_offset: u32,
    /// Width of a bitfield member, in bits; `None` for an ordinary member.
    pub bitfield: Option<u32>,
    pub shape: Shape,
}

impl Shape {
    /// Byte size of the shape.
    pub fn size(&self) -> u64 {
        match self {
            Shape::Int { size, .. } | Shape::Enum { size, .. } | Shape::Float { size, .. } => {
                u64::from(*size)
            }
            Shape::Ptr => 8,
            Shape::Struct(r) | Shape::Union(r) => u64::from(r.size),
            Shape::Array { elem, len } => elem.size() * u64::from(*len),
        }
    }

    /// Short human name: `unsigned int`, `struct stats`, `__u64[4]`-like `unsigned long long[4]`.
    pub fn describe(&self) -> String {
        match self {
            Shape::Int { name, .. } | Shape::Float { name, .. } => name.clone(),
            Shape::Enum { name, .. } => format!("enum {}", or_anon(name)),
            Shape::Ptr => "pointer".into(),
            Shape::Struct(r) => format!("struct {}", or_anon(&r.name)),
            Shape::Union(r) => format!("union {}", or_anon(&r.name)),
            Shape::Array { elem, len } => format!("{}[{len}]", elem.describe()),
        }
    }
}

fn or_anon(name: &str) -> &str {
    if name.is_empty() {
        "(anon)"
    } else {
        name
    }
}

/// The shape of type `id` of `btf`; an error text when the type has no layout (void, a
/// function, a forward declaration) or nests too deep.
pub fn shape_of(btf: &Btf, id: TypeId) -> Result<Shape, String> {
    build(btf, id, MAX_DEPTH)
}

fn build(btf: &Btf, id: TypeId, depth: usize) -> Result<Shape, String> {
    if depth == 0 {
        return Err(format!("type [{}] nests too deep", id.0));
    }
    let base = btf.skip_mods(id).map_err(|e| e.to_string())?;
    let t = btf.get(base).map_err(|e| e.to_string())?;
    let name = |off| btf.str(off).to_string();
    Ok(match t {
        BtfType::Int {
            name: n,
            size,
            data,
        } => Shape::Int {
            name: name(*n),
            size: *size,
            // BTF_INT_SIGNED is bit 0 of the encoding (bits 24..28 of the data word).
            signed: (data >> 24) & 1 == 1,
        },
        BtfType::Enum {
            name: n,
            size,
            signed,
            values,
        }
        | BtfType::Enum64 {
            name: n,
            size,
            signed,
            values,
        } => Shape::Enum {
            name: name(*n),
            size: *size,
            signed: *signed,
            values: values.iter().map(|v| (name(v.name), v.value)).collect(),
        },
        BtfType::Float { name: n, size } => Shape::Float {
            name: name(*n),
            size: *size,
        },
        BtfType::Ptr { .. } => Shape::Ptr,
        BtfType::Struct {
            name: n,
            size,
            kind_flag,
            members,
        } => Shape::Struct(record(btf, name(*n), *size, *kind_flag, members, depth)?),
        BtfType::Union {
            name: n,
            size,
            kind_flag,
            members,
        } => Shape::Union(record(btf, name(*n), *size, *kind_flag, members, depth)?),
        BtfType::Array { elem, nelems, .. } => Shape::Array {
            elem: Box::new(build(btf, *elem, depth - 1)?),
            len: *nelems,
        },
        other => {
            return Err(format!(
                "type [{}] ({}) has no data layout",
                base.0,
                other.kind_name()
            ))
        }
    })
}

fn record(
    btf: &Btf,
    name: String,
    size: u32,
    kind_flag: bool,
    members: &[Member],
    depth: usize,
) -> Result<Record, String> {
    let fields = members
        .iter()
        .map(|m| {
            // With kind_flag set the offset word is bitfield_size << 24 | bit offset.
            let (bit_offset, width) = if kind_flag {
                (m.offset & 0x00ff_ffff, m.offset >> 24)
            } else {
                (m.offset, 0)
            };
            Ok(Field {
                name: btf.str(m.name).to_string(),
                bit_offset,
                bitfield: (width != 0).then_some(width),
                shape: build(btf, m.ty, depth - 1)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Record { name, size, fields })
}
