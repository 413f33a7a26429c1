//! Takes one BTF map definition struct, gives its effective fields as libbpf and the kernel see
//! them (implied sizes filled in, libbpf's own rejections applied), and compares two such
//! definitions field by field (BTF types structurally). The rules are listed in docs/link.md.

use crate::btf::FastSet;

use crate::btf::{Btf, BtfType, Equivalence, TypeId};
use crate::error::{Error, Result};

/// The fields of one BTF map definition (`struct { __uint(type, ..); ... }`).
#[derive(Clone, Debug, Default)]
pub struct MapFields {
    pub map_type: Option<u64>,
    pub key_size: Option<u64>,
    pub key: Option<TypeId>,
    pub value_size: Option<u64>,
    pub value: Option<TypeId>,
    pub max_entries: Option<u64>,
    pub map_flags: Option<u64>,
    pub numa_node: Option<u64>,
    pub pinning: Option<u64>,
    pub map_extra: Option<u64>,
    /// Inner map definition of a map-in-map (`__array(values, struct inner)`).
    pub inner: Option<Box<MapFields>>,
    /// Byte offset of the `values` member, when the definition has one.
    pub values_offset: Option<u64>,
    /// Size of the definition struct in bytes.
    pub struct_size: u64,
}

/// The same definition in every field that the link reads: equal numbers and the same
/// optional parts, key and value types equivalent (one class of `eq`), inner maps alike. Two
/// such definitions can share one field set: no comparison between them finds a difference,
/// and the survivor choice and slot reading see the same values.
pub fn same_fields(eq: &Equivalence, a: &MapFields, b: &MapFields) -> bool {
    let same_ty = |x: Option<TypeId>, y: Option<TypeId>| match (x, y) {
        (None, None) => true,
        (Some(x), Some(y)) => eq.same(x, y),
        _ => false,
    };
    let same_inner = match (&a.inner, &b.inner) {
        (None, None) => true,
        (Some(x), Some(y)) => same_fields(eq, x, y),
        _ => false,
    };
    a.map_type == b.map_type
        && a.key_size == b.key_size
        && same_ty(a.key, b.key)
        && a.value_size == b.value_size
        && same_ty(a.value, b.value)
        && a.max_entries == b.max_entries
        && a.map_flags == b.map_flags
        && a.numa_node == b.numa_node
        && a.pinning == b.pinning
        && a.map_extra == b.map_extra
        && a.values_offset == b.values_offset
        && a.struct_size == b.struct_size
        && same_inner
}

pub const MAP_TYPES: &[&str] = &[
    "UNSPEC",
    "HASH",
    "ARRAY",
    "PROG_ARRAY",
    "PERF_EVENT_ARRAY",
    "PERCPU_HASH",
    "PERCPU_ARRAY",
    "STACK_TRACE",
    "CGROUP_ARRAY",
    "LRU_HASH",
    "LRU_PERCPU_HASH",
    "LPM_TRIE",
    "ARRAY_OF_MAPS",
    "HASH_OF_MAPS",
    "DEVMAP",
    "SOCKMAP",
    "CPUMAP",
    "XSKMAP",
    "SOCKHASH",
    "CGROUP_STORAGE",
    "REUSEPORT_SOCKARRAY",
    "PERCPU_CGROUP_STORAGE",
    "QUEUE",
    "STACK",
    "SK_STORAGE",
    "DEVMAP_HASH",
    "STRUCT_OPS",
    "RINGBUF",
    "INODE_STORAGE",
    "TASK_STORAGE",
    "BLOOM_FILTER",
    "USER_RINGBUF",
    "CGRP_STORAGE",
    "ARENA",
];

/// Human name of a map type number.
pub fn map_type_name(t: u64) -> String {
    match MAP_TYPES.get(t as usize) {
        Some(n) => format!("{n} ({t})"),
        None => format!("{t}"),
    }
}

/// Read `__uint(name, N)`: a pointer to an array of N elements.
fn read_uint(btf: &Btf, ty: TypeId) -> Result<u64> {
    let ptr = btf.skip_mods(ty)?;
    let BtfType::Ptr { ty: arr } = btf.get(ptr)? else {
        return Err(Error::btf(format!(
            "expected __uint() (pointer to array), found {}",
            btf.display(ty)
        )));
    };
    let arr = btf.skip_mods(*arr)?;
    match btf.get(arr)? {
        BtfType::Array { nelems, .. } => Ok(u64::from(*nelems)),
        _ => Err(Error::btf(format!(
            "expected __uint() (pointer to array), found {}",
            btf.display(ty)
        ))),
    }
}

/// Read `map_extra`, as libbpf's `get_map_field_long` does: `__uint(name, N)` (a pointer to
/// an array), or `__ulong(name, N)` (libbpf >= 1.4's `enum { __unique_value = N } name`, for
/// 64-bit values such as an arena's address): an ENUM or ENUM64 with exactly one value. An
/// ENUM's value is taken as libbpf takes it, a signed 32-bit number widened to 64 bits.
fn read_ulong(btf: &Btf, ty: TypeId) -> Result<u64> {
    let t = btf.skip_mods(ty)?;
    match btf.get(t)? {
        BtfType::Ptr { .. } => read_uint(btf, ty),
        BtfType::Enum { values, .. } | BtfType::Enum64 { values, .. } if values.len() != 1 => {
            Err(Error::btf(format!(
                "expected __ulong() (an enum of one value), found {} with {} values",
                btf.display(ty),
                values.len()
            )))
        }
        BtfType::Enum { values, .. } => Ok(values[0].value as u32 as i32 as i64 as u64),
        BtfType::Enum64 { values, .. } => Ok(values[0].value),
        _ => Err(Error::btf(format!(
            "expected __uint() (pointer to array) or __ulong() (enum), found {}",
            btf.display(ty)
        ))),
    }
}

/// Read `__type(name, T)`: a pointer to T.
fn read_type(btf: &Btf, ty: TypeId) -> Result<TypeId> {
    let ptr = btf.skip_mods(ty)?;
    match btf.get(ptr)? {
        BtfType::Ptr { ty } => Ok(*ty),
        _ => Err(Error::btf(format!(
            "expected __type() (pointer), found {}",
            btf.display(ty)
        ))),
    }
}

/// Map types whose `values` member libbpf accepts (prog arrays and map-in-map).
pub const PROG_ARRAY: u64 = 3;
pub const ARRAY_OF_MAPS: u64 = 12;
pub const HASH_OF_MAPS: u64 = 13;

/// Map types for which libbpf creates the map without BTF key/value type ids (its
/// `bpf_object__create_map`): only their sizes reach the kernel, so only sizes are compared.
const NO_BTF_KEY_VALUE: &[u64] = &[
    4,  // PERF_EVENT_ARRAY
    8,  // CGROUP_ARRAY
    7,  // STACK_TRACE
    12, // ARRAY_OF_MAPS
    13, // HASH_OF_MAPS
    14, // DEVMAP
    25, // DEVMAP_HASH
    16, // CPUMAP
    17, // XSKMAP
    15, // SOCKMAP
    18, // SOCKHASH
    22, // QUEUE
    23, // STACK
    33, // ARENA
];

/// Whether libbpf hands the kernel this map type's BTF key and value types.
pub fn keeps_btf_key_value(map_type: Option<u64>) -> bool {
    !NO_BTF_KEY_VALUE.contains(&map_type.unwrap_or(0))
}

/// Parse a map definition struct into its effective fields (rules R1-R3 of docs/link.md):
/// a size given twice (`__uint(key_size, N)` and `__type(key, T)`) must agree and is one size;
/// a `values` member (only on a prog array or map-in-map, only last, not in an inner map) means
/// value_size 4. What libbpf refuses is refused, naming the field.
pub fn parse_fields(btf: &Btf, def_ty: TypeId, depth: u32) -> Result<MapFields> {
    let st = btf.skip_mods(def_ty)?;
    let BtfType::Struct {
        size,
        kind_flag,
        members,
        ..
    } = btf.get(st)?
    else {
        return Err(Error::btf(format!(
            "map definition is {}, not a struct",
            btf.display(def_ty)
        )));
    };
    let mut f = MapFields {
        struct_size: u64::from(*size),
        ..MapFields::default()
    };
    for (k, m) in members.iter().enumerate() {
        let bit_off = if *kind_flag {
            m.offset & 0xff_ffff
        } else {
            m.offset
        };
        let name = btf.str(m.name);
        let member = Member {
            ty: m.ty,
            byte_offset: u64::from(bit_off / 8),
            last: k + 1 == members.len(),
            inner: depth > 0,
        };
        parse_member(btf, &mut f, name, &member).map_err(|e| match e {
            Error::BadBtf { section, reason } => Error::BadBtf {
                section,
                reason: format!("map definition field `{name}`: {reason}"),
            },
            other => other,
        })?;
    }
    Ok(f)
}

/// One member of a definition struct, with where it stands.
struct Member {
    ty: TypeId,
    byte_offset: u64,
    /// The last member of the struct.
    last: bool,
    /// In an inner map definition.
    inner: bool,
}

/// Set `slot` to the size `sz`, refusing a different size set before (libbpf: "conflicting
/// key size").
fn set_size(slot: &mut Option<u64>, sz: u64) -> Result<()> {
    match *slot {
        Some(old) if old != 0 && sz != 0 && old != sz => Err(Error::btf(format!(
            "conflicting sizes {old} and {sz} (libbpf refuses this definition)"
        ))),
        _ => {
            *slot = Some(sz);
            Ok(())
        }
    }
}

fn parse_member(btf: &Btf, f: &mut MapFields, name: &str, m: &Member) -> Result<()> {
    match name {
        "type" => f.map_type = Some(read_uint(btf, m.ty)?),
        "max_entries" => f.max_entries = Some(read_uint(btf, m.ty)?),
        "map_flags" => f.map_flags = Some(read_uint(btf, m.ty)?),
        "numa_node" => f.numa_node = Some(read_uint(btf, m.ty)?),
        "pinning" => f.pinning = Some(read_uint(btf, m.ty)?),
        "map_extra" => f.map_extra = Some(read_ulong(btf, m.ty)?),
        "key_size" => set_size(&mut f.key_size, read_uint(btf, m.ty)?)?,
        "value_size" => set_size(&mut f.value_size, read_uint(btf, m.ty)?)?,
        "key" => {
            let t = read_type(btf, m.ty)?;
            set_size(&mut f.key_size, u64::from(btf.size_of(t)?))?;
            f.key = Some(t);
        }
        "value" => {
            let t = read_type(btf, m.ty)?;
            set_size(&mut f.value_size, u64::from(btf.size_of(t)?))?;
            f.value = Some(t);
        }
        "values" => parse_values(btf, f, m)?,
        // libbpf ignores unknown members (outside its strict mode).
        _ => {}
    }
    Ok(())
}

/// The `values` member (`__array(values, ...)`): where the initialiser slots start, the inner
/// map definition of a map-in-map, and value_size 4.
fn parse_values(btf: &Btf, f: &mut MapFields, m: &Member) -> Result<()> {
    if m.inner {
        return Err(Error::btf(
            "an inner map definition cannot have `values` (libbpf: multi-level inner maps are \
             not supported)",
        ));
    }
    if !m.last {
        return Err(Error::btf(
            "`values` must be the last member of the definition",
        ));
    }
    let t = f.map_type.unwrap_or(0);
    if ![PROG_ARRAY, ARRAY_OF_MAPS, HASH_OF_MAPS].contains(&t) {
        return Err(Error::btf(format!(
            "`values` is only allowed on a prog array or a map-in-map, not on type {}",
            map_type_name(t)
        )));
    }
    if let Some(sz) = f.value_size.filter(|&sz| sz != 0 && sz != 4) {
        return Err(Error::btf(format!(
            "value size {sz} conflicts with `values`, which means value size 4"
        )));
    }
    f.value_size = Some(4);
    f.values_offset = Some(m.byte_offset);
    let arr = btf.skip_mods(m.ty)?;
    if let BtfType::Array { elem, .. } = btf.get(arr)? {
        let elem = btf.skip_mods(*elem)?;
        if let BtfType::Ptr { ty } = btf.get(elem)? {
            let target = btf.skip_mods(*ty)?;
            if let BtfType::Struct { .. } = btf.get(target)? {
                if t != PROG_ARRAY {
                    f.inner = Some(Box::new(parse_fields(btf, target, 1)?));
                }
            }
        }
    }
    Ok(())
}

/// A differing field: (field, value in a, value in b).
type Difference = (String, String, String);

/// An optional numeric field as libbpf reads it: absent is 0.
fn opt(v: Option<u64>) -> u64 {
    v.unwrap_or(0)
}

/// Compare two definitions; the first differing field, if any.
pub fn compare(btf: &Btf, eq: &Equivalence, a: &MapFields, b: &MapFields) -> Option<Difference> {
    compare_all(btf, eq, a, b).into_iter().next()
}

/// Compare two definitions; every differing field, in the order of [`compare`].
pub fn compare_all(btf: &Btf, eq: &Equivalence, a: &MapFields, b: &MapFields) -> Vec<Difference> {
    let mut out = Vec::new();
    let num = |field: &str, x: Option<u64>, y: Option<u64>| -> Option<Difference> {
        (opt(x) != opt(y)).then(|| (field.to_string(), opt(x).to_string(), opt(y).to_string()))
    };
    if opt(a.map_type) != opt(b.map_type) {
        out.push((
            "type".into(),
            map_type_name(opt(a.map_type)),
            map_type_name(opt(b.map_type)),
        ));
    }
    // R3: for map types created without BTF key/value types only the sizes count.
    let typed = keeps_btf_key_value(a.map_type) && keeps_btf_key_value(b.map_type);
    out.extend(num("key_size", a.key_size, b.key_size));
    if let (true, Some(x), Some(y)) = (typed, a.key, b.key) {
        if !types_match(btf, eq, x, y) {
            out.push(type_difference(btf, "key type", x, y));
        }
    }
    out.extend(num("value_size", a.value_size, b.value_size));
    if let (true, Some(x), Some(y)) = (typed, a.value, b.value) {
        if !types_match(btf, eq, x, y) {
            out.push(type_difference(btf, "value type", x, y));
        }
    }
    for (field, x, y) in [
        ("max_entries", a.max_entries, b.max_entries),
        ("map_flags", a.map_flags, b.map_flags),
        ("numa_node", a.numa_node, b.numa_node),
        ("pinning", a.pinning, b.pinning),
        ("map_extra", a.map_extra, b.map_extra),
    ] {
        out.extend(num(field, x, y));
    }
    if let (Some(x), Some(y)) = (&a.inner, &b.inner) {
        for (f, va, vb) in compare_all(btf, eq, x, y) {
            out.push((format!("inner map {f}"), va, vb));
        }
    }
    out
}

/// Whether two key/value types are the same type, looking through typedefs and modifiers at
/// every level (`u32` from vmlinux.h and `__u32` from linux/types.h are one type), as libbpf's
/// linker does. Struct, union and enum names, member names and offsets must agree.
pub fn types_match(btf: &Btf, eq: &Equivalence, a: TypeId, b: TypeId) -> bool {
    let mut assumed = FastSet::default();
    match_rec(btf, eq, a, b, &mut assumed, 0)
}

/// Whether `a` and `b` match (see [`types_match`]): equivalent, or a pair already being
/// compared, or, after modifiers, the same kind of type with matching parts.
fn match_rec(
    btf: &Btf,
    eq: &Equivalence,
    a: TypeId,
    b: TypeId,
    assumed: &mut FastSet<(TypeId, TypeId)>,
    depth: u32,
) -> bool {
    if eq.same(a, b) {
        return true;
    }
    let (Ok(a), Ok(b)) = (btf.skip_mods(a), btf.skip_mods(b)) else {
        return false;
    };
    if eq.same(a, b) || !assumed.insert((a, b)) {
        // Equal, or already being compared further up (a cycle): equal unless shown otherwise.
        return true;
    }
    if depth > 64 {
        return false;
    }
    let (Ok(ta), Ok(tb)) = (btf.get(a), btf.get(b)) else {
        return false;
    };
    let mut sub = |x: TypeId, y: TypeId| match_rec(btf, eq, x, y, assumed, depth + 1);
    kinds_match(btf, ta, tb, &mut sub)
}

/// Whether two types (modifiers skipped) are of one kind with matching parts; `sub` compares
/// the types they refer to.
fn kinds_match(
    btf: &Btf,
    ta: &BtfType,
    tb: &BtfType,
    sub: &mut impl FnMut(TypeId, TypeId) -> bool,
) -> bool {
    match (ta, tb) {
        (BtfType::Void, BtfType::Void) => true,
        (
            BtfType::Int {
                size: s1, data: d1, ..
            },
            BtfType::Int {
                size: s2, data: d2, ..
            },
        ) => s1 == s2 && d1 == d2,
        (BtfType::Float { size: s1, .. }, BtfType::Float { size: s2, .. }) => s1 == s2,
        (BtfType::Ptr { ty: x }, BtfType::Ptr { ty: y }) => sub(*x, *y),
        (
            BtfType::Array {
                elem: e1,
                nelems: n1,
                ..
            },
            BtfType::Array {
                elem: e2,
                nelems: n2,
                ..
            },
        ) => n1 == n2 && sub(*e1, *e2),
        (BtfType::Struct { .. }, BtfType::Struct { .. })
        | (BtfType::Union { .. }, BtfType::Union { .. }) => records_match(btf, ta, tb, sub),
        (BtfType::Enum { .. }, BtfType::Enum { .. })
        | (BtfType::Enum64 { .. }, BtfType::Enum64 { .. }) => enums_match(btf, ta, tb),
        (
            BtfType::Fwd { name: n1, .. },
            BtfType::Struct { name: n2, .. } | BtfType::Union { name: n2, .. },
        )
        | (
            BtfType::Struct { name: n1, .. } | BtfType::Union { name: n1, .. },
            BtfType::Fwd { name: n2, .. },
        )
        | (BtfType::Fwd { name: n1, .. }, BtfType::Fwd { name: n2, .. }) => {
            btf.str(*n1) == btf.str(*n2)
        }
        (BtfType::FuncProto { .. }, BtfType::FuncProto { .. }) => protos_match(ta, tb, sub),
        _ => false,
    }
}

/// Two structs (or two unions) match when their names and sizes agree and their members, in
/// order, have the same names and offsets and matching types.
fn records_match(
    btf: &Btf,
    ta: &BtfType,
    tb: &BtfType,
    sub: &mut impl FnMut(TypeId, TypeId) -> bool,
) -> bool {
    match (ta, tb) {
        (
            BtfType::Struct {
                name: n1,
                size: s1,
                members: m1,
                ..
            },
            BtfType::Struct {
                name: n2,
                size: s2,
                members: m2,
                ..
            },
        )
        | (
            BtfType::Union {
                name: n1,
                size: s1,
                members: m1,
                ..
            },
            BtfType::Union {
                name: n2,
                size: s2,
                members: m2,
                ..
            },
        ) => {
            btf.str(*n1) == btf.str(*n2)
                && s1 == s2
                && m1.len() == m2.len()
                && m1.iter().zip(m2).all(|(x, y)| {
                    btf.str(x.name) == btf.str(y.name) && x.offset == y.offset && sub(x.ty, y.ty)
                })
        }
        _ => false,
    }
}

/// Two enums (or two 64-bit enums) match when their names, sizes and values agree.
fn enums_match(btf: &Btf, ta: &BtfType, tb: &BtfType) -> bool {
    match (ta, tb) {
        (
            BtfType::Enum {
                name: n1,
                size: s1,
                values: v1,
                ..
            },
            BtfType::Enum {
                name: n2,
                size: s2,
                values: v2,
                ..
            },
        )
        | (
            BtfType::Enum64 {
                name: n1,
                size: s1,
                values: v1,
                ..
            },
            BtfType::Enum64 {
                name: n2,
                size: s2,
                values: v2,
                ..
            },
        ) => btf.str(*n1) == btf.str(*n2) && s1 == s2 && v1 == v2,
        _ => false,
    }
}

/// Two function prototypes match when they have as many parameters, and their return types
/// and then their parameter types match.
fn protos_match(ta: &BtfType, tb: &BtfType, sub: &mut impl FnMut(TypeId, TypeId) -> bool) -> bool {
    match (ta, tb) {
        (
            BtfType::FuncProto {
                ret: r1,
                params: p1,
            },
            BtfType::FuncProto {
                ret: r2,
                params: p2,
            },
        ) => {
            p1.len() == p2.len() && sub(*r1, *r2) && p1.iter().zip(p2).all(|(x, y)| sub(x.ty, y.ty))
        }
        _ => false,
    }
}

/// The difference of two types of `field`, named as C; two types printed alike are told apart
/// as two layouts.
fn type_difference(btf: &Btf, field: &str, x: TypeId, y: TypeId) -> Difference {
    let (dx, dy) = (btf.display(x), btf.display(y));
    if dx == dy {
        (
            field.to_string(),
            format!("{dx} (one layout)"),
            format!("{dy} (another layout)"),
        )
    } else {
        (field.to_string(), dx, dy)
    }
}
