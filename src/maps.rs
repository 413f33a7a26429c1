//! Takes the inputs' `.maps` symbols with their BTF, gives one `MergedMap` per map name: every
//! definition read from BTF, compared field by field (naming the differing field), a survivor
//! chosen and the `.values` initialiser slots of all definitions combined.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::btf::{FastMap, FastSet};

use crate::btf::{Appended, Btf, BtfType, Equivalence, TypeId, VAR_EXTERN, VAR_STATIC};
use crate::error::{Error, Result};
use crate::input::{reloc, Input, SecIdx, SymIdx, SymPlace};
pub use crate::mapdef::{
    compare, compare_all, map_type_name, parse_fields, same_fields, types_match, MapFields,
};

/// Index of a merged map in `MapPlan::maps`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MapId(pub usize);

/// One definition (or extern declaration) of a map in one input.
#[derive(Clone, Debug)]
pub struct MapDef {
    pub input: usize,
    /// The ELF symbol (defined in `.maps`, or undefined for an extern); None for an extern
    /// declaration no code refers to (see [`MapDef::sym`]). Its index + 1 in 32 bits: a
    /// definition takes 48 bytes, not 64 (16 a small object, kept until the last stage).
    sym: Option<std::num::NonZeroU32>,
    /// The VAR type (container ids).
    pub var: TypeId,
    /// The definition struct type (container ids).
    pub def_ty: TypeId,
    /// Shared with the map's first definition when the two are the same (see
    /// [`mapdef::same_fields`]): 16,000 weak copies of 16 maps hold 16 field sets.
    pub fields: Arc<MapFields>,
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
    /// A file-local (static) map kept apart from the same-named map(s) before it because the
    /// definitions differ: the name in the source and why (`static, definitions differ: type
    /// HASH vs ARRAY`). `name` is then the derived output name.
    pub kept_apart: Option<KeptApart>,
}

/// Why a static map is a map of its own, and under which source name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptApart {
    pub source_name: String,
    pub reason: String,
}

impl MergedMap {
    pub fn survivor(&self) -> &MapDef {
        &self.defs[self.survivor]
    }
}

impl MapDef {
    /// The ELF symbol of the definition or extern declaration, if any.
    pub fn sym(&self) -> Option<SymIdx> {
        self.sym.map(|s| SymIdx(s.get() as usize - 1))
    }
}

/// The stored form of symbol `k` in a [`MapDef`] (its index + 1; a symbol table of 2^32 - 1
/// entries would be 96 GiB).
fn symbol_slot(k: usize) -> Result<std::num::NonZeroU32> {
    u32::try_from(k + 1)
        .ok()
        .and_then(std::num::NonZeroU32::new)
        .ok_or_else(|| Error::Usage(format!("more than {} symbols", u32::MAX - 1)))
}

/// Every map of the link.
#[derive(Clone, Debug, Default)]
pub struct MapPlan {
    /// In order of first appearance.
    pub maps: Vec<MergedMap>,
    /// (symbol, map) of each definition or extern declaration, by input (see
    /// [`MapPlan::of_symbol`]): 8 bytes an entry, where a hash map took 50.
    by_symbol: Vec<(u32, u32)>,
    /// Per input: where its part of `by_symbol` starts.
    symbols_from: Vec<usize>,
    /// Per input: (start, end, map) of each definition in its `.maps` section, sorted.
    pub by_offset: Vec<Vec<(u64, u64, MapId)>>,
    /// Per input: its `.maps` section, if any.
    pub maps_section: Vec<Option<SecIdx>>,
    /// Size of the output `.maps` section.
    pub section_size: u64,
}

impl MapPlan {
    /// The map that `input`'s symbol `sym` defines or declares, if any.
    pub fn of_symbol(&self, input: usize, sym: SymIdx) -> Option<MapId> {
        let from = *self.symbols_from.get(input)?;
        let to = self
            .symbols_from
            .get(input + 1)
            .copied()
            .unwrap_or(self.by_symbol.len());
        let list = self.by_symbol.get(from..to)?;
        let key = u32::try_from(sym.0).ok()?;
        // The last entry of the key: a later definition of one symbol replaces an earlier one.
        let end = list.partition_point(|&(s, _)| s <= key);
        let &(s, map) = list.get(end.checked_sub(1)?)?;
        (s == key).then_some(MapId(map as usize))
    }

    /// Enter `sym -> id` for `input` (inputs in order; see [`MapPlan::end_symbols_of`]).
    fn note_symbol(&mut self, input: usize, sym: SymIdx, id: MapId) -> Result<()> {
        let too_many = || Error::Usage(format!("more than {} symbols or maps", u32::MAX));
        let sym = u32::try_from(sym.0).map_err(|_| too_many())?;
        let map = u32::try_from(id.0).map_err(|_| too_many())?;
        debug_assert_eq!(self.symbols_from.len(), input + 1);
        self.by_symbol.push((sym, map));
        Ok(())
    }

    /// Start input `input`'s part of the symbol table.
    fn start_symbols_of(&mut self, input: usize) {
        debug_assert_eq!(self.symbols_from.len(), input);
        self.symbols_from.push(self.by_symbol.len());
    }

    /// Sort the last input's part of the symbol table for lookups (stable: of two entries of
    /// one symbol the later wins).
    fn end_symbols_of(&mut self, input: usize) {
        let from = self.symbols_from[input];
        self.by_symbol[from..].sort_by_key(|&(s, _)| s);
    }

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
    group_all(inputs, btf, appended, eq, &mut plan)?;
    derive_names(inputs, &mut plan);
    for map in &mut plan.maps {
        compare_defs(inputs, btf, eq, map, conflicts);
        choose_survivor(map);
    }
    collect_slots(inputs, &mut plan, conflicts)?;
    lay_out(&mut plan);
    Ok(plan)
}

/// Every map definition of every input, in input order (and section order within one), put
/// into its merged map as soon as its input is read (no list of all definitions is held).
fn group_all(
    inputs: &[Input<'_>],
    btf: &Btf,
    appended: &[Option<Appended>],
    eq: &Equivalence,
    plan: &mut MapPlan,
) -> Result<()> {
    let mut by_name: FastMap<String, Vec<MapId>> = FastMap::default();
    for (i, input) in inputs.iter().enumerate() {
        plan.start_symbols_of(i);
        for def in collect_checked(i, input, btf, appended[i], plan)? {
            group(btf, eq, &mut by_name, def, plan)?;
        }
        plan.end_symbols_of(i);
    }
    for list in &mut plan.by_offset {
        list.sort_unstable();
    }
    plan.by_symbol.shrink_to_fit();
    Ok(())
}

/// One input's map definitions (its `.maps` section noted in the plan); a legacy `maps`
/// section is refused.
fn collect_checked(
    i: usize,
    input: &Input<'_>,
    btf: &Btf,
    app: Option<Appended>,
    plan: &mut MapPlan,
) -> Result<Vec<MapDef>> {
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
    collect_input(i, input, btf, app, maps_sec).map_err(|e| match e {
        // Already names the file.
        Error::BadObject { .. } => e,
        e => e.in_file(&input.name),
    })
}

/// Put a definition into a merged map (docs/link.md, "File-local maps"): the first map of
/// its name it agrees with. A static definition that agrees with none is file-local: a map of
/// its own, kept apart (renamed later). A global or extern one that agrees with none joins the
/// first map of its name that has a non-static definition (its differences are conflicts);
/// when all maps of its name are static ones it starts its own map, which keeps the name.
fn group(
    btf: &Btf,
    eq: &Equivalence,
    by_name: &mut FastMap<String, Vec<MapId>>,
    def: MapDef,
    plan: &mut MapPlan,
) -> Result<()> {
    let name = def_name(btf, &def);
    let same_name = match by_name.get_mut(&name) {
        Some(list) => list,
        None => by_name.entry(name.clone()).or_default(),
    };
    let id = place_def(btf, eq, plan, same_name, &name, &def);
    let mut def = def;
    if let Some(first) = plan.maps[id.0].defs.first() {
        if same_fields(eq, &first.fields, &def.fields) {
            def.fields = Arc::clone(&first.fields);
        }
    }
    let i = def.input;
    if let Some(sym) = def.sym() {
        plan.note_symbol(i, sym, id)?;
    }
    if !def.is_extern {
        plan.by_offset[i].push((def.offset, def.offset + def.size, id));
    }
    plan.maps[id.0].defs.push(def);
    Ok(())
}

fn is_local(d: &MapDef) -> bool {
    d.is_static && !d.is_extern
}

/// The merged map a definition goes to (see [`group`]); `same_name` lists the maps of its name.
fn place_def(
    btf: &Btf,
    eq: &Equivalence,
    plan: &mut MapPlan,
    same_name: &mut Vec<MapId>,
    name: &str,
    def: &MapDef,
) -> MapId {
    let rep = |plan: &MapPlan, id: MapId| plan.maps[id.0].defs[0].fields.clone();
    if let Some(id) = same_name
        .iter()
        .copied()
        .find(|&id| compare(btf, eq, &plan.maps[id.0].defs[0].fields, &def.fields).is_none())
    {
        return id;
    }
    let Some(&first) = same_name.first() else {
        return new_map(plan, same_name, name, None);
    };
    if is_local(def) {
        let reason = apart_reason(btf, eq, &rep(plan, first), &def.fields);
        return new_map(plan, same_name, name, Some(reason));
    }
    if let Some(&global) = same_name
        .iter()
        .find(|id| !plan.maps[id.0].defs.iter().all(is_local))
    {
        return global;
    }
    // Only static maps of this name so far: they are the file-local ones.
    for &id in same_name.iter() {
        if plan.maps[id.0].kept_apart.is_none() {
            let reason = apart_reason(btf, eq, &def.fields, &rep(plan, id));
            plan.maps[id.0].kept_apart = Some(KeptApart {
                source_name: name.to_string(),
                reason,
            });
        }
    }
    new_map(plan, same_name, name, None)
}

/// A new merged map named `name` (kept apart when `apart` gives the reason).
fn new_map(
    plan: &mut MapPlan,
    same_name: &mut Vec<MapId>,
    name: &str,
    apart: Option<String>,
) -> MapId {
    plan.maps.push(MergedMap {
        name: name.to_string(),
        defs: Vec::new(),
        survivor: 0,
        is_extern: false,
        slots: BTreeMap::new(),
        out_offset: 0,
        out_size: 0,
        kept_apart: apart.map(|reason| KeptApart {
            source_name: name.to_string(),
            reason,
        }),
    });
    let id = MapId(plan.maps.len() - 1);
    same_name.push(id);
    id
}

/// `static, definitions differ: type HASH vs ARRAY` (the first difference).
fn apart_reason(btf: &Btf, eq: &Equivalence, a: &MapFields, b: &MapFields) -> String {
    let diff = match compare(btf, eq, a, b) {
        Some((field, _, _)) if field == "type" => {
            let bare = |t: Option<u64>| {
                let t = t.unwrap_or(0);
                crate::mapdef::MAP_TYPES
                    .get(t as usize)
                    .map_or_else(|| t.to_string(), |n| n.to_string())
            };
            format!("type {} vs {}", bare(a.map_type), bare(b.map_type))
        }
        Some((field, x, y)) => format!("{field} {x} vs {y}"),
        None => "they differ".into(),
    };
    format!("static, definitions differ: {diff}")
}

/// Give every kept-apart map a unique output name derived from its source name: `<name>_<n>`
/// with the smallest n >= 2 that no other map and no global symbol uses, the name cut so that
/// the whole fits the kernel's 15-character map names (docs/link.md, "File-local maps").
fn derive_names(inputs: &[Input<'_>], plan: &mut MapPlan) {
    if plan.maps.iter().all(|m| m.kept_apart.is_none()) {
        return;
    }
    // Names of the other maps (also as the kernel cuts them) and of every global symbol.
    let mut taken: FastSet<String> = plan
        .maps
        .iter()
        .filter(|m| m.kept_apart.is_none())
        .flat_map(|m| {
            [
                m.name.clone(),
                m.name.chars().take(KERNEL_NAME_LEN).collect(),
            ]
        })
        .chain(inputs.iter().flat_map(|inp| {
            inp.symbols
                .iter()
                .filter(|s| !s.is_local())
                .map(|s| s.name.to_string())
        }))
        .collect();
    for m in plan.maps.iter_mut().filter(|m| m.kept_apart.is_some()) {
        let name = (2u32..)
            .map(|n| derived_name(&m.name, n))
            .find(|cand| !taken.contains(cand))
            .unwrap_or_else(|| m.name.clone());
        taken.insert(name.clone());
        m.name = name;
    }
}

/// The kernel keeps 15 characters of a map name (BPF_OBJ_NAME_LEN 16 with the NUL).
pub const KERNEL_NAME_LEN: usize = 15;

/// `<base>_<n>`, `base` cut to fit 15 characters.
pub fn derived_name(base: &str, n: u32) -> String {
    let suffix = format!("_{n}");
    let keep = KERNEL_NAME_LEN.saturating_sub(suffix.len());
    let cut: String = base.chars().take(keep).collect();
    format!("{cut}{suffix}")
}

/// Compare every definition of a map with its first one, pushing each difference.
fn compare_defs(
    inputs: &[Input<'_>],
    btf: &Btf,
    eq: &Equivalence,
    map: &MergedMap,
    conflicts: &mut Vec<crate::error::MapConflict>,
) {
    let first = &map.defs[0];
    for other in &map.defs[1..] {
        if Arc::ptr_eq(&first.fields, &other.fields) {
            continue;
        }
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
}

/// The kept definition is the richest one (rule R4 of docs/link.md): one with a `values`
/// member (it can hold the initialisers), then one that names key and value types (over sizes
/// only), then a global one over a static one; the first among equals. With no definition at
/// all the map stays an extern (a partial link: the loader, or a later link, must find it).
fn choose_survivor(map: &mut MergedMap) {
    let richness = |d: &MapDef| {
        (
            d.fields.values_offset.is_some(),
            u8::from(d.fields.key.is_some()) + u8::from(d.fields.value.is_some()),
            !d.is_static,
        )
    };
    let best = map
        .defs
        .iter()
        .enumerate()
        .filter(|(_, d)| !d.is_extern)
        .fold(None::<(usize, _)>, |best, (k, d)| match best {
            Some((_, r)) if r >= richness(d) => best,
            _ => Some((k, richness(d))),
        });
    map.is_extern = best.is_none();
    map.survivor = best.map_or(0, |(k, _)| k);
}

/// The `.values` initialiser slots of every input, combined per map.
fn collect_slots(
    inputs: &[Input<'_>],
    plan: &mut MapPlan,
    conflicts: &mut Vec<crate::error::MapConflict>,
) -> Result<()> {
    for (i, input) in inputs.iter().enumerate() {
        let Some(sec) = plan.maps_section[i] else {
            continue;
        };
        for r in input.relocs(sec) {
            if let Some((id, slot, new)) = read_slot(i, input, plan, r)? {
                add_slot(inputs, plan, conflicts, id, slot, new);
            }
        }
    }
    Ok(())
}

/// The slot one `.maps` relocation of input `i` initialises: (map, slot number, target), or
/// None for a relocation in an extern's place.
fn read_slot(
    i: usize,
    input: &Input<'_>,
    plan: &MapPlan,
    r: &crate::input::Reloc,
) -> Result<Option<(MapId, u64, Slot)>> {
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
        return Ok(None);
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
    let (sym, inner) = slot_target(i, input, plan, r).map_err(|place| {
        bad(format!(
            "`.values` slot {slot} points at offset {} of section {place}, where no map or \
             function is defined",
            r.addend
        ))
    })?;
    let target = &input.symbols[sym.0];
    let key = if let Some(mid) = inner {
        SlotKey::Map(plan.maps[mid.0].name.clone())
    } else if target.is_local() {
        SlotKey::Local(i, sym.0)
    } else {
        SlotKey::Global(target.name.to_string())
    };
    Ok(Some((
        id,
        slot,
        Slot {
            key,
            input: i,
            sym,
            map: inner,
        },
    )))
}

/// What a `.values` relocation names: the symbol, and the map when it is a map. A
/// section-relative initialiser (clang's form for a static inner map or program) names
/// whatever is defined at that place; Err(section name) when nothing is.
fn slot_target(
    i: usize,
    input: &Input<'_>,
    plan: &MapPlan,
    r: &crate::input::Reloc,
) -> std::result::Result<(SymIdx, Option<MapId>), String> {
    let mut sym = r.sym();
    let mut inner = plan.of_symbol(i, r.sym());
    let first = &input.symbols[r.sym().0];
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
        if inner.is_none() && sym == r.sym() {
            return Err(sec
                .map_or("?", |s| input.section(s).name.as_ref())
                .to_string());
        }
    }
    Ok((sym, inner))
}

/// Record a slot; a slot already initialised to something else is a conflict.
fn add_slot(
    inputs: &[Input<'_>],
    plan: &mut MapPlan,
    conflicts: &mut Vec<crate::error::MapConflict>,
    id: MapId,
    slot: u64,
    new: Slot,
) {
    let Some(old) = plan.maps[id.0].slots.get(&slot) else {
        plan.maps[id.0].slots.insert(slot, new);
        return;
    };
    if old.key != new.key {
        conflicts.push(crate::error::MapConflict {
            map: plan.maps[id.0].name.clone(),
            field: format!("initial value of slot {slot}"),
            file_a: inputs[old.input].name.clone(),
            value_a: format!("`{}`", slot_name(&plan.maps, inputs, old)),
            file_b: inputs[new.input].name.clone(),
            value_b: format!("`{}`", slot_name(&plan.maps, inputs, &new)),
        });
    }
}

/// Output layout of `.maps`: survivors in order of first appearance, 8-byte aligned, except
/// that a map named in another map's `.values` comes first (libbpf creates maps in `.maps`
/// order and fills a map-in-map's slots when it creates the outer map).
fn lay_out(plan: &mut MapPlan) {
    let mut off = 0u64;
    for id in creation_order(plan) {
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
}

/// What a slot names, for messages.
fn slot_name(maps: &[MergedMap], inputs: &[Input<'_>], slot: &Slot) -> String {
    match slot.map {
        Some(m) => maps[m.0].name.clone(),
        None => inputs[slot.input].symbols[slot.sym.0].name.to_string(),
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
    let mut out = Vec::new();
    for (_, t) in btf.decls(app) {
        match t {
            BtfType::Datasec { name, vars, .. } if btf.str(*name) == ".maps" => {
                for v in vars {
                    out.push(map_def(i, input, btf, v.ty, maps_sec)?);
                }
            }
            _ => {}
        }
    }
    // In section order (BTF lists them in declaration order; externs have no place).
    out.sort_by_key(|d| (d.is_extern, d.offset));
    Ok(out)
}

/// The definition that the `.maps` DATASEC entry `var` of input `i` stands for: its VAR, the
/// fields of its type, and where its ELF symbol puts it.
fn map_def(
    i: usize,
    input: &Input<'_>,
    btf: &Btf,
    var: TypeId,
    maps_sec: Option<SecIdx>,
) -> Result<MapDef> {
    let BtfType::Var { name, ty, linkage } = btf.get(var)? else {
        return Err(Error::btf(format!(
            "DATASEC .maps entry is {}, not a VAR",
            btf.display(var)
        )));
    };
    let var_name = btf.str(*name);
    let is_extern = *linkage == VAR_EXTERN;
    let fields = map_fields(btf, *ty, var_name)?;
    let sym = map_symbol(input, var_name, is_extern, maps_sec);
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
    Ok(MapDef {
        input: i,
        sym: sym.map(symbol_slot).transpose()?,
        var,
        def_ty: *ty,
        fields: Arc::new(fields),
        is_extern,
        is_static: *linkage == VAR_STATIC,
        offset,
        size,
    })
}

/// The fields of map `var_name`'s definition type `ty`; a BTF error names the map.
fn map_fields(btf: &Btf, ty: TypeId, var_name: &str) -> Result<MapFields> {
    parse_fields(btf, ty, 0).map_err(|e| match e {
        Error::BadBtf { section, reason } => Error::BadBtf {
            section,
            reason: format!("map `{var_name}`: {reason}"),
        },
        other => other,
    })
}

/// The ELF symbol of map `var_name`: defined in `.maps`, or undefined for an extern.
fn map_symbol(
    input: &Input<'_>,
    var_name: &str,
    is_extern: bool,
    maps_sec: Option<SecIdx>,
) -> Option<usize> {
    input.symbols.iter().position(|s| {
        *s.name == *var_name
            && !s.is_section()
            && if is_extern {
                s.place() == SymPlace::Undefined
            } else {
                maps_sec.is_some_and(|m| s.section() == Some(m))
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names_fit_the_kernel_limit() {
        assert_eq!(derived_name("map_static", 2), "map_static_2");
        // 15 characters: the name is cut, the suffix kept.
        assert_eq!(derived_name("a_very_long_map_name", 2), "a_very_long_m_2");
        assert_eq!(derived_name("a_very_long_map_name", 10), "a_very_long__10");
        assert!(derived_name("x", 12345).len() <= KERNEL_NAME_LEN);
    }
}
