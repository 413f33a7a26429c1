//! Takes the inputs' `.maps` symbols with their BTF, gives one `MergedMap` per map name: every
//! definition read from BTF, compared field by field (naming the differing field), a survivor
//! chosen and the `.values` initialiser slots of all definitions combined.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::btf::{Appended, Btf, BtfType, Equivalence, TypeId, VAR_EXTERN, VAR_STATIC};
use crate::error::{Error, Result};
use crate::input::{reloc, Input, SecIdx, SymIdx, SymPlace};

/// Index of a merged map in `MapPlan::maps`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MapId(pub usize);

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

/// One definition (or extern declaration) of a map in one input.
#[derive(Clone, Debug)]
pub struct MapDef {
    pub input: usize,
    /// The ELF symbol (defined in `.maps`, or undefined for an extern); None for an extern
    /// declaration no code refers to.
    pub sym: Option<SymIdx>,
    /// The VAR type (container ids).
    pub var: TypeId,
    /// The definition struct type (container ids).
    pub def_ty: TypeId,
    pub fields: MapFields,
    pub is_extern: bool,
    pub is_static: bool,
    /// Offset and size of the definition in the input's `.maps` section.
    pub offset: u64,
    pub size: u64,
}

/// What a `.values` slot points at, in a form comparable across inputs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SlotKey {
    /// A global symbol (program or function) by name.
    Global(String),
    /// A map by name (map-in-map).
    Map(String),
    /// A local (static) symbol of one input.
    Local(usize, usize),
}

/// One initialised `.values` slot.
#[derive(Clone, Debug)]
pub struct Slot {
    pub key: SlotKey,
    pub input: usize,
    /// The symbol the slot names (for a section-relative initialiser: the symbol found at
    /// that place).
    pub sym: SymIdx,
    /// The map it names, for a map-in-map slot.
    pub map: Option<MapId>,
}

/// All definitions of one map name, merged.
#[derive(Clone, Debug)]
pub struct MergedMap {
    pub name: String,
    pub defs: Vec<MapDef>,
    /// Index into `defs` of the definition that is kept.
    pub survivor: usize,
    /// No input defines it: it stays an extern declaration with no place in `.maps`.
    pub is_extern: bool,
    /// Combined initialiser slots.
    pub slots: BTreeMap<u64, Slot>,
    /// Offset and size in the output `.maps` section.
    pub out_offset: u64,
    pub out_size: u64,
}

impl MergedMap {
    pub fn survivor(&self) -> &MapDef {
        &self.defs[self.survivor]
    }
}

/// Every map of the link.
#[derive(Clone, Debug, Default)]
pub struct MapPlan {
    /// In order of first appearance.
    pub maps: Vec<MergedMap>,
    /// (input, symbol) of a definition or extern declaration -> its map.
    pub by_symbol: HashMap<(usize, SymIdx), MapId>,
    /// Per input: (start, end, map) of each definition in its `.maps` section, sorted.
    pub by_offset: Vec<Vec<(u64, u64, MapId)>>,
    /// Per input: its `.maps` section, if any.
    pub maps_section: Vec<Option<SecIdx>>,
    /// Size of the output `.maps` section.
    pub section_size: u64,
}

impl MapPlan {
    /// The map whose definition covers `offset` in `input`'s `.maps` section.
    pub fn at_offset(&self, input: usize, offset: u64) -> Option<MapId> {
        let list = self.by_offset.get(input)?;
        let i = list.partition_point(|&(start, _, _)| start <= offset);
        let &(start, end, id) = list.get(i.checked_sub(1)?)?;
        (offset >= start && offset < end.max(start + 1)).then_some(id)
    }

    pub fn by_name(&self, name: &str) -> Option<MapId> {
        self.maps.iter().position(|m| m.name == name).map(MapId)
    }
}

const MAP_TYPES: &[&str] = &[
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

/// Parse a map definition struct.
pub fn parse_fields(btf: &Btf, def_ty: TypeId, depth: u32) -> Result<MapFields> {
    if depth > 4 {
        return Err(Error::btf("map-in-map definitions nest too deeply"));
    }
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
    for m in members {
        let bit_off = if *kind_flag {
            m.offset & 0xff_ffff
        } else {
            m.offset
        };
        let name = btf.str(m.name);
        let ctx = |e: Error| match e {
            Error::BadBtf { section, reason } => Error::BadBtf {
                section,
                reason: format!("map definition field `{name}`: {reason}"),
            },
            other => other,
        };
        match name {
            "type" => f.map_type = Some(read_uint(btf, m.ty).map_err(ctx)?),
            "max_entries" => f.max_entries = Some(read_uint(btf, m.ty).map_err(ctx)?),
            "map_flags" => f.map_flags = Some(read_uint(btf, m.ty).map_err(ctx)?),
            "numa_node" => f.numa_node = Some(read_uint(btf, m.ty).map_err(ctx)?),
            "pinning" => f.pinning = Some(read_uint(btf, m.ty).map_err(ctx)?),
            "map_extra" => f.map_extra = Some(read_uint(btf, m.ty).map_err(ctx)?),
            "key_size" => f.key_size = Some(read_uint(btf, m.ty).map_err(ctx)?),
            "value_size" => f.value_size = Some(read_uint(btf, m.ty).map_err(ctx)?),
            "key" => f.key = Some(read_type(btf, m.ty).map_err(ctx)?),
            "value" => f.value = Some(read_type(btf, m.ty).map_err(ctx)?),
            "values" => {
                f.values_offset = Some(u64::from(bit_off / 8));
                let arr = btf.skip_mods(m.ty)?;
                if let BtfType::Array { elem, .. } = btf.get(arr)? {
                    let elem = btf.skip_mods(*elem)?;
                    if let BtfType::Ptr { ty } = btf.get(elem)? {
                        let target = btf.skip_mods(*ty)?;
                        if let BtfType::Struct { .. } = btf.get(target)? {
                            f.inner = Some(Box::new(parse_fields(btf, target, depth + 1)?));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    // A `key`/`value` type gives the size when no explicit size is set.
    if f.key_size.is_none() {
        if let Some(k) = f.key {
            f.key_size = Some(u64::from(btf.size_of(k)?));
        }
    }
    if f.value_size.is_none() {
        if let Some(v) = f.value {
            f.value_size = Some(u64::from(btf.size_of(v)?));
        }
    }
    Ok(f)
}

/// A differing field: (field, value in a, value in b).
type Difference = (String, String, String);

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
    out.extend(num("key_size", a.key_size, b.key_size));
    if let (Some(x), Some(y)) = (a.key, b.key) {
        if !types_match(btf, eq, x, y) {
            out.push(type_difference(btf, "key type", x, y));
        }
    }
    out.extend(num("value_size", a.value_size, b.value_size));
    if let (Some(x), Some(y)) = (a.value, b.value) {
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
    let mut assumed = HashSet::new();
    match_rec(btf, eq, a, b, &mut assumed, 0)
}

fn match_rec(
    btf: &Btf,
    eq: &Equivalence,
    a: TypeId,
    b: TypeId,
    assumed: &mut HashSet<(TypeId, TypeId)>,
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

/// Collect every map definition of every input, merge by name, check agreement.
pub fn plan(
    inputs: &[Input<'_>],
    btf: &Btf,
    appended: &[Option<Appended>],
    eq: &Equivalence,
) -> Result<MapPlan> {
    let mut conflicts = Vec::new();
    let plan = plan_collecting(inputs, btf, appended, eq, &mut conflicts)?;
    match conflicts.into_iter().next() {
        Some(c) => Err(Error::MapConflict(Box::new(c))),
        None => Ok(plan),
    }
}

/// [`plan`] for `bpfmerge check`: map disagreements (every differing field of every definition
/// against the first, and every conflicting `.values` slot) are pushed to `conflicts` instead
/// of ending the plan; other errors still end it. With conflicts the plan keeps the first
/// definition's view and is only good for reporting.
pub fn plan_collecting(
    inputs: &[Input<'_>],
    btf: &Btf,
    appended: &[Option<Appended>],
    eq: &Equivalence,
    conflicts: &mut Vec<crate::error::MapConflict>,
) -> Result<MapPlan> {
    let mut plan = MapPlan {
        by_offset: vec![Vec::new(); inputs.len()],
        maps_section: vec![None; inputs.len()],
        ..MapPlan::default()
    };
    let mut by_name: HashMap<String, MapId> = HashMap::new();
    for (i, input) in inputs.iter().enumerate() {
        let maps_sec = input.section_by_name(".maps");
        plan.maps_section[i] = maps_sec;
        if input.section_by_name("maps").is_some() {
            return Err(Error::BadObject {
                file: input.name.clone(),
                reason: "legacy `maps` section (struct bpf_map_def) is not supported; \
                         declare maps in SEC(\".maps\") with BTF"
                    .into(),
            });
        }
        let defs = collect_input(i, input, btf, appended[i], maps_sec).map_err(|e| match e {
            // Already names the file.
            Error::BadObject { .. } => e,
            e => e.in_file(&input.name),
        })?;
        for def in defs {
            let name = def_name(btf, &def);
            let id = *by_name.entry(name.clone()).or_insert_with(|| {
                plan.maps.push(MergedMap {
                    name,
                    defs: Vec::new(),
                    survivor: 0,
                    is_extern: false,
                    slots: BTreeMap::new(),
                    out_offset: 0,
                    out_size: 0,
                });
                MapId(plan.maps.len() - 1)
            });
            if let Some(sym) = def.sym {
                plan.by_symbol.insert((i, sym), id);
            }
            if !def.is_extern {
                plan.by_offset[i].push((def.offset, def.offset + def.size, id));
            }
            plan.maps[id.0].defs.push(def);
        }
        plan.by_offset[i].sort();
    }

    // Compare every definition with the first one, and choose the survivor.
    for map in &mut plan.maps {
        let first = &map.defs[0];
        for other in &map.defs[1..] {
            for (field, a, b) in compare_all(btf, eq, &first.fields, &other.fields) {
                conflicts.push(crate::error::MapConflict {
                    map: map.name.clone(),
                    field,
                    file_a: inputs[first.input].name.clone(),
                    value_a: a,
                    file_b: inputs[other.input].name.clone(),
                    value_b: b,
                });
            }
        }
        // The kept definition: one that can hold initialisers if any has a `values` member,
        // else the first global one, else the first static one.
        let with_values = map
            .defs
            .iter()
            .position(|d| !d.is_extern && d.fields.values_offset.is_some());
        let first_global = map.defs.iter().position(|d| !d.is_extern && !d.is_static);
        let first_defined = map.defs.iter().position(|d| !d.is_extern);
        // With no definition at all the map stays an extern (a partial link): the loader, or
        // a later link, must find its definition.
        map.is_extern = first_defined.is_none();
        map.survivor = with_values.or(first_global).or(first_defined).unwrap_or(0);
    }

    // Initialiser slots.
    for (i, input) in inputs.iter().enumerate() {
        let Some(sec) = plan.maps_section[i] else {
            continue;
        };
        for r in &input.section(sec).relocs {
            let Some(id) = plan.at_offset(i, r.offset) else {
                return Err(Error::BadObject {
                    file: input.name.clone(),
                    reason: format!(
                        "section .maps: relocation at offset {} is outside every map definition",
                        r.offset
                    ),
                });
            };
            let map = &plan.maps[id.0];
            let Some(def) = map.defs.iter().find(|d| {
                d.input == i && !d.is_extern && d.offset <= r.offset && r.offset < d.offset + d.size
            }) else {
                continue;
            };
            let bad = |why: String| Error::BadObject {
                file: input.name.clone(),
                reason: format!("map `{}`: {why}", map.name),
            };
            let Some(voff) = def.fields.values_offset else {
                return Err(bad(format!(
                    "relocation at offset {} but the definition has no `values` member",
                    r.offset
                )));
            };
            let rel = r.offset - def.offset;
            if r.r_type != reloc::ABS64 || rel < voff || (rel - voff) % 8 != 0 {
                return Err(bad(format!(
                    "relocation at offset {} (type {}) is not a `.values` slot",
                    r.offset, r.r_type
                )));
            }
            let slot = (rel - voff) / 8;
            // A section-relative initialiser (clang's form for a static inner map or program)
            // names whatever is defined at that place.
            let mut sym = r.sym;
            let mut inner = plan.by_symbol.get(&(i, r.sym)).copied();
            let first = &input.symbols[r.sym.0];
            if first.is_section() && inner.is_none() {
                let sec = first.section();
                let place = u64::try_from(r.addend).ok();
                if sec.is_some() && sec == plan.maps_section[i] {
                    inner = place.and_then(|p| plan.at_offset(i, p));
                } else if let Some(k) = input.symbols.iter().position(|s| {
                    !s.is_section()
                        && s.section() == sec
                        && Some(s.value) == place
                        && s.typ == object::elf::STT_FUNC.0
                }) {
                    sym = SymIdx(k);
                }
                if inner.is_none() && sym == r.sym {
                    let sec_name = sec.map_or("?", |s| input.section(s).name.as_str());
                    return Err(bad(format!(
                        "`.values` slot {slot} points at offset {} of section {sec_name}, where no map or function is defined",
                        r.addend
                    )));
                }
            }
            let target = &input.symbols[sym.0];
            let key = if let Some(mid) = inner {
                SlotKey::Map(plan.maps[mid.0].name.clone())
            } else if target.is_local() {
                SlotKey::Local(i, sym.0)
            } else {
                SlotKey::Global(target.name.to_string())
            };
            let target_name = match inner {
                Some(mid) => plan.maps[mid.0].name.clone(),
                None => target.name.clone(),
            };
            let new = Slot {
                key,
                input: i,
                sym,
                map: inner,
            };
            let old_name = plan.maps[id.0]
                .slots
                .get(&slot)
                .map(|old| slot_name(&plan.maps, inputs, old));
            let map = &mut plan.maps[id.0];
            if let Some(old) = map.slots.get(&slot) {
                if old.key != new.key {
                    conflicts.push(crate::error::MapConflict {
                        map: map.name.clone(),
                        field: format!("initial value of slot {slot}"),
                        file_a: inputs[old.input].name.clone(),
                        value_a: format!("`{}`", old_name.unwrap_or_default()),
                        file_b: input.name.clone(),
                        value_b: format!("`{target_name}`"),
                    });
                }
            } else {
                map.slots.insert(slot, new);
            }
        }
    }

    // Output layout of `.maps`: survivors in order of first appearance, 8-byte aligned, except
    // that a map named in another map's `.values` comes first (libbpf creates maps in `.maps`
    // order and fills a map-in-map's slots when it creates the outer map).
    let mut off = 0u64;
    for id in creation_order(&plan) {
        let map = &mut plan.maps[id.0];
        if map.is_extern {
            continue;
        }
        let s = map.survivor();
        let size = match (s.fields.values_offset, map.slots.keys().next_back()) {
            (Some(voff), Some(&last)) => voff + 8 * (last + 1),
            _ => s.fields.struct_size,
        };
        map.out_offset = off;
        map.out_size = size;
        off = (off + size).next_multiple_of(8);
    }
    plan.section_size = off;
    Ok(plan)
}

/// What a slot names, for messages.
fn slot_name(maps: &[MergedMap], inputs: &[Input<'_>], slot: &Slot) -> String {
    match slot.map {
        Some(m) => maps[m.0].name.clone(),
        None => inputs[slot.input].symbols[slot.sym.0].name.clone(),
    }
}

/// Maps in first-appearance order, moved so that every map comes after the maps its `.values`
/// slots name (a stable topological order; a cycle keeps the remaining order).
fn creation_order(plan: &MapPlan) -> Vec<MapId> {
    let n = plan.maps.len();
    let deps: Vec<Vec<usize>> = plan
        .maps
        .iter()
        .map(|m| {
            m.slots
                .values()
                .filter_map(|s| match &s.key {
                    SlotKey::Map(name) => plan.by_name(name).map(|id| id.0),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let before = order.len();
        for i in 0..n {
            if !done[i] && deps[i].iter().all(|&d| done[d] || d == i) {
                done[i] = true;
                order.push(MapId(i));
            }
        }
        if order.len() == before {
            // A cycle: keep the rest as they are.
            for (i, d) in done.iter_mut().enumerate() {
                if !*d {
                    *d = true;
                    order.push(MapId(i));
                }
            }
        }
    }
    order
}

fn def_name(btf: &Btf, def: &MapDef) -> String {
    match btf.get(def.var) {
        Ok(BtfType::Var { name, .. }) => btf.str(*name).to_string(),
        _ => String::new(),
    }
}

/// The map definitions of one input: each VAR of its `.maps` DATASEC with its ELF symbol.
fn collect_input(
    i: usize,
    input: &Input<'_>,
    btf: &Btf,
    appended: Option<Appended>,
    maps_sec: Option<SecIdx>,
) -> Result<Vec<MapDef>> {
    let Some(app) = appended else {
        if maps_sec.is_some() {
            return Err(Error::BadObject {
                file: input.name.clone(),
                reason: "has a .maps section but no .BTF; compile with clang -g".into(),
            });
        }
        return Ok(Vec::new());
    };
    // Find the `.maps` DATASEC among this input's types.
    let mut out = Vec::new();
    for id in app.base + 1..=app.base + app.count {
        let Ok(BtfType::Datasec { name, vars, .. }) = btf.get(TypeId(id)) else {
            continue;
        };
        if btf.str(*name) != ".maps" {
            continue;
        }
        for v in vars {
            let BtfType::Var {
                name: vname,
                ty,
                linkage,
            } = btf.get(v.ty)?
            else {
                return Err(Error::btf(format!(
                    "DATASEC .maps entry is {}, not a VAR",
                    btf.display(v.ty)
                )));
            };
            let var_name = btf.str(*vname);
            let is_extern = *linkage == VAR_EXTERN;
            let fields = parse_fields(btf, *ty, 0).map_err(|e| match e {
                Error::BadBtf { section, reason } => Error::BadBtf {
                    section,
                    reason: format!("map `{var_name}`: {reason}"),
                },
                other => other,
            })?;
            // The ELF symbol: defined in .maps, or undefined for an extern.
            let sym = input.symbols.iter().enumerate().position(|(_, s)| {
                s.name == var_name
                    && !s.is_section()
                    && if is_extern {
                        s.place == SymPlace::Undefined
                    } else {
                        maps_sec.is_some_and(|m| s.section() == Some(m))
                    }
            });
            let (offset, size) = match sym {
                Some(s) => (input.symbols[s].value, input.symbols[s].size),
                None if is_extern => (0, 0),
                None => {
                    return Err(Error::BadObject {
                        file: input.name.clone(),
                        reason: format!("map `{var_name}` has BTF but no symbol in .maps"),
                    })
                }
            };
            if !is_extern && fields.struct_size > size {
                return Err(Error::btf(format!(
                    "map `{var_name}`: its definition type is {} bytes, but its symbol in .maps \
                     is {size} bytes",
                    fields.struct_size
                )));
            }
            out.push(MapDef {
                input: i,
                sym: sym.map(SymIdx),
                var: v.ty,
                def_ty: *ty,
                fields,
                is_extern,
                is_static: *linkage == VAR_STATIC,
                offset,
                size,
            });
        }
    }
    // In section order (BTF lists them in declaration order; externs have no place).
    out.sort_by_key(|d| (d.is_extern, d.offset));
    Ok(out)
}
