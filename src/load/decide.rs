//! Reuse, migrate or refuse: takes an object's definition of a map (parameters and BTF key and
//! value types) and the live map of the same name (parameters and the types the kernel holds),
//! gives the decision: reuse (saying how the two were compared), migrate (the plan: key and
//! value conversions, what changes) or a refusal naming the map, the field or member and both
//! values. Pure: no kernel call.

use super::compat::{self, Host, MapParams};
use crate::error::{Error, MapIncompatible, Result};
use crate::migrate::{self, Conversion, MapTypes, Shape, Verdict};

/// How a reused map was compared with the object's definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compared {
    /// Parameters, and the key and value types structurally (BTF on both sides).
    Btf,
    /// Parameters and sizes only: the live map has no BTF, or the object declares the key
    /// and value by size.
    Sizes,
    /// Nothing to compare: the map is created by this load.
    None,
}

/// The object's side or the live map's side of a comparison.
#[derive(Clone, Copy)]
pub struct Def<'a> {
    pub params: &'a MapParams,
    /// `None`: no BTF (a live map created without it, or a definition by sizes).
    pub types: Option<&'a MapTypes>,
}

/// How [`Subject::existing`] starts for a map pinned before this load.
pub const PINNED: &str = "the map pinned at ";

/// What the comparison is about, for messages.
pub struct Subject<'a> {
    pub map: &'a str,
    /// The object whose definition is compared.
    pub file: &'a str,
    /// "the map pinned at ..." / "the map created by ...".
    pub existing: &'a str,
    /// `--migrate` was given and the live map is a pinned one (not created by this load).
    pub may_migrate: bool,
}

/// What becomes of the live map.
#[derive(Debug)]
pub enum Decision {
    Reuse(Compared),
    Migrate(Plan),
}

/// How the entries of a pinned map follow the object's definition.
#[derive(Debug)]
pub struct Plan {
    /// `None`: the key bytes are kept.
    pub key: Option<Conversion>,
    /// `None`: the value bytes are kept.
    pub value: Option<Conversion>,
    /// One line per change: `max_entries: 16384 -> 32768`, `value.gone: removed (dropped)`.
    pub changes: Vec<String>,
    /// A per-CPU map: values are converted once per CPU.
    pub percpu: bool,
    /// max_entries shrinks: the entries are counted before anything is copied.
    pub shrinks: bool,
    /// An LRU map: the copy is counted afterwards (an LRU map evicts instead of refusing).
    pub lru: bool,
}

/// Flags that do not change how entries are stored or read from user space:
/// `BPF_F_NO_PREALLOC`, `BPF_F_NO_COMMON_LRU`, `BPF_F_NUMA_NODE`, `BPF_F_ZERO_SEED`,
/// `BPF_F_RDONLY_PROG`, `BPF_F_WRONLY_PROG`, `BPF_F_MMAPABLE`.
const NEUTRAL_FLAGS: u32 = 1 | 2 | 4 | 0x40 | 0x80 | 0x100 | 0x400;
/// `BPF_F_RDONLY` and `BPF_F_WRONLY`: user space cannot write (new map) or read (old map).
const F_RDONLY: u32 = 8;
const F_WRONLY: u32 = 0x10;

/// Decide what to do with the live map `live` for the definition `def`.
pub fn decide(s: &Subject<'_>, def: Def<'_>, live: Def<'_>, host: &Host) -> Result<Decision> {
    // The first difference: (field, the object's value, the live map's value).
    let (field, wanted, found) = match (
        compat::check(def.params, live.params, host),
        type_difference(def.types, live.types),
    ) {
        (None, None) => return Ok(Decision::Reuse(compared(def.types, live.types))),
        (Some(m), _) => (m.field.to_string(), m.wanted, m.found),
        (None, Some(d)) => (
            format!("{} type", d.side),
            d.new,
            format!("{} — {}", d.old, d.why),
        ),
    };
    if s.may_migrate {
        return plan(def, live, host)
            .map(Decision::Migrate)
            .map_err(|why| refuse_migration(s, &why));
    }
    // Say when `--migrate` would carry the entries over (only pinned maps can migrate).
    let hint = if s.existing.starts_with(PINNED) && plan(def, live, host).is_ok() {
        "; `bpfmerge load --migrate` can carry its entries over"
    } else {
        ""
    };
    Err(incompatible(s, field, wanted, found + hint))
}

fn incompatible(s: &Subject<'_>, field: String, wanted: String, found: String) -> Error {
    Error::MapIncompatible(Box::new(MapIncompatible {
        map: s.map.to_string(),
        field,
        file: s.file.to_string(),
        wanted,
        existing: s.existing.to_string(),
        found,
    }))
}

/// The refusal of a migration.
pub fn refuse_migration(s: &Subject<'_>, why: &str) -> Error {
    Error::Load(format!(
        "map `{}`: cannot be migrated to the definition in {}: {why}; {} was left unchanged",
        s.map, s.file, s.existing
    ))
}

/// How the types were compared when they agree.
fn compared(def: Option<&MapTypes>, live: Option<&MapTypes>) -> Compared {
    match (def, live) {
        (Some(d), Some(l)) if d.value.is_some() && l.value.is_some() => Compared::Btf,
        _ => Compared::Sizes,
    }
}

/// The first key or value type difference, when both sides have types for it.
struct TypeDifference {
    side: &'static str,
    /// The object's type and the live map's.
    new: String,
    old: String,
    why: String,
}

fn type_difference(def: Option<&MapTypes>, live: Option<&MapTypes>) -> Option<TypeDifference> {
    let (def, live) = (def?, live?);
    [
        ("key", &live.key, &def.key),
        ("value", &live.value, &def.value),
    ]
    .into_iter()
    .find_map(|(side, old, new)| {
        let (old, new) = (old.as_ref()?, new.as_ref()?);
        migrate::first_difference(old, new).map(|why| TypeDifference {
            side,
            new: new.describe(),
            old: old.describe(),
            why,
        })
    })
}

/// The migration plan, or why there is none.
fn plan(def: Def<'_>, live: Def<'_>, host: &Host) -> std::result::Result<Plan, String> {
    let want = compat::as_created(def.params, host);
    let old = live.params;
    check_migratable(old, &want)?;
    let mut changes = param_changes(old, &want);
    let (key, value) = conversions(def, live, old, &want)?;
    for (name, c) in [("key", &key), ("value", &value)] {
        if let Some(c) = c {
            changes.extend(c.mapping.iter().map(|m| format!("{name}.{m}")));
        }
    }
    Ok(Plan {
        key,
        value,
        changes,
        percpu: matches!(old.map_type, PERCPU_HASH | PERCPU_ARRAY | LRU_PERCPU_HASH),
        shrinks: want.max_entries < old.max_entries,
        lru: matches!(old.map_type, LRU_HASH | LRU_PERCPU_HASH),
    })
}

/// Refuse a migration from the live map's parameters `old` to `want` that would change the
/// map type or `map_extra`, copy a map type whose entries are not plain data, change a flag
/// that changes how entries are stored or accessed, or shrink an array.
fn check_migratable(old: &MapParams, want: &MapParams) -> std::result::Result<(), String> {
    if want.map_type != old.map_type {
        return Err(format!(
            "its type changes from {} to {} (a map keeps its type across a migration)",
            compat::type_name(old.map_type),
            compat::type_name(want.map_type)
        ));
    }
    not_copyable(old.map_type).map_or(Ok(()), |why| {
        Err(format!("{} {why}", compat::type_name(old.map_type)))
    })?;
    check_flags(old.map_flags, want.map_flags)?;
    if want.map_extra != old.map_extra {
        return Err(format!(
            "map_extra changes from {:#x} to {:#x}",
            old.map_extra, want.map_extra
        ));
    }
    let array = matches!(old.map_type, ARRAY | PERCPU_ARRAY);
    if array && want.max_entries < old.max_entries {
        return Err(format!(
            "an array has an entry at every index: shrinking it from {} to {} entries would \
             drop indexes {}..{}",
            old.max_entries,
            want.max_entries,
            want.max_entries,
            old.max_entries - 1
        ));
    }
    Ok(())
}

/// One line per parameter that changes from `old` to `want` (max_entries, map_flags).
fn param_changes(old: &MapParams, want: &MapParams) -> Vec<String> {
    let mut changes = Vec::new();
    if want.max_entries != old.max_entries {
        changes.push(format!(
            "max_entries: {} -> {}",
            old.max_entries, want.max_entries
        ));
    }
    if want.map_flags != old.map_flags {
        changes.push(format!(
            "map_flags: {:#x} -> {:#x}",
            old.map_flags, want.map_flags
        ));
    }
    changes
}

/// The key's and then the value's conversion from the live map's (`old` sizes, `live` types)
/// to the definition's (`want` sizes, `def` types).
fn conversions(
    def: Def<'_>,
    live: Def<'_>,
    old: &MapParams,
    want: &MapParams,
) -> std::result::Result<(Option<Conversion>, Option<Conversion>), String> {
    let key = conversion(
        "key",
        old.key_size,
        want.key_size,
        live.types.and_then(|t| t.key.as_ref()),
        def.types.and_then(|t| t.key.as_ref()),
    )?;
    let value = conversion(
        "value",
        old.value_size,
        want.value_size,
        live.types.and_then(|t| t.value.as_ref()),
        def.types.and_then(|t| t.value.as_ref()),
    )?;
    Ok((key, value))
}

/// The conversion of one side (`None`: bytes kept), or why the entries cannot follow.
fn conversion(
    side: &str,
    old_size: u32,
    new_size: u32,
    old: Option<&Shape>,
    new: Option<&Shape>,
) -> std::result::Result<Option<Conversion>, String> {
    match (old, new) {
        (Some(o), Some(n)) => match migrate::compare(o, n) {
            Verdict::Same => Ok(None),
            Verdict::Convert(c) => Ok(Some(c)),
            Verdict::Refused(why) => Err(format!("{side}: {why}")),
        },
        _ if old_size == new_size => Ok(None),
        (None, _) => Err(format!(
            "{side}_size changes from {old_size} to {new_size} and the pinned map has no BTF \
             {side} type to convert its entries by"
        )),
        (Some(_), None) => Err(format!(
            "{side}_size changes from {old_size} to {new_size} and the object declares the \
             {side} by size, without a BTF type to convert the entries to"
        )),
    }
}

fn check_flags(old: u32, new: u32) -> std::result::Result<(), String> {
    let changed = (old ^ new) & !NEUTRAL_FLAGS;
    if changed != 0 {
        return Err(format!(
            "map_flags change from {old:#x} to {new:#x}, and {changed:#x} changes how entries \
             are stored or accessed (only {NEUTRAL_FLAGS:#x} may change)"
        ));
    }
    if old & F_WRONLY != 0 {
        return Err("the pinned map is write-only for user space (BPF_F_WRONLY)".into());
    }
    if new & F_RDONLY != 0 {
        return Err("the new map is read-only for user space (BPF_F_RDONLY)".into());
    }
    Ok(())
}

const HASH: u32 = 1;
const ARRAY: u32 = 2;
const PERCPU_HASH: u32 = 5;
const PERCPU_ARRAY: u32 = 6;
const LRU_HASH: u32 = 9;
const LRU_PERCPU_HASH: u32 = 10;
const LPM_TRIE: u32 = 11;

/// Why the contents of a map of this type cannot be copied; `None` for the types whose
/// entries are plain data read and written by key.
pub fn not_copyable(map_type: u32) -> Option<&'static str> {
    Some(match map_type {
        HASH | ARRAY | PERCPU_HASH | PERCPU_ARRAY | LRU_HASH | LRU_PERCPU_HASH | LPM_TRIE => {
            return None
        }
        3 => "holds references to programs, not data (the loaded object fills its slots)",
        4 => "holds perf event file descriptors, not data",
        7 => "holds stack traces the kernel collects; user space cannot write them",
        8 => "holds references to cgroups, not data",
        12 | 13 => "holds references to other maps, not data",
        14 | 25 => "holds redirect targets (network devices) set up by their owner",
        15 | 18 | 20 => "holds sockets, not data",
        16 => "holds redirect targets (CPUs) with their queues",
        17 => "holds AF_XDP sockets, not data",
        19 | 21 => "holds storage that belongs to the cgroups a program is attached to",
        22 | 23 => "has no keys to copy by (its entries can only be popped)",
        24 | 28 | 29 | 32 => "holds storage owned by sockets, inodes, tasks or cgroups",
        26 => "registers kernel operations; it has no entries to copy",
        27 | 31 => "is a ring buffer: its records are consumed, not kept by key",
        30 => "is a bloom filter: its entries cannot be listed",
        33 => "is an arena of memory pages, not entries",
        _ => "is a map type bpfmerge does not know how to copy",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: Host = Host {
        possible_cpus: 2,
        page_size: 4096,
    };

    fn hash(max_entries: u32, value_size: u32) -> MapParams {
        MapParams {
            map_type: HASH,
            key_size: 4,
            value_size,
            max_entries,
            map_flags: 0,
            map_extra: 0,
        }
    }

    fn subject(may_migrate: bool) -> Subject<'static> {
        Subject {
            map: "stats",
            file: "v2.o",
            existing: "the map pinned at /x",
            may_migrate,
        }
    }

    fn no_btf(p: &MapParams) -> Def<'_> {
        Def {
            params: p,
            types: None,
        }
    }

    #[test]
    fn growing_max_entries_is_refused_without_migrate_and_planned_with_it() {
        let (old, new) = (hash(4, 8), hash(8, 8));
        let e = decide(&subject(false), no_btf(&new), no_btf(&old), &HOST).unwrap_err();
        assert!(e.to_string().contains("max_entries differs"), "{e}");
        assert!(e.to_string().contains("--migrate` can carry"), "{e}");
        match decide(&subject(true), no_btf(&new), no_btf(&old), &HOST).unwrap() {
            Decision::Migrate(p) => {
                assert_eq!(p.changes, vec!["max_entries: 4 -> 8".to_string()]);
                assert!(p.key.is_none() && p.value.is_none() && !p.shrinks);
            }
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn value_size_change_without_btf_is_refused_naming_the_reason() {
        let (old, new) = (hash(4, 8), hash(4, 16));
        let e = decide(&subject(true), no_btf(&new), no_btf(&old), &HOST).unwrap_err();
        let s = e.to_string();
        assert!(s.contains("value_size changes from 8 to 16"), "{s}");
        assert!(s.contains("has no BTF"), "{s}");
        assert!(s.contains("left unchanged"), "{s}");
    }

    #[test]
    fn uncopyable_types_array_shrinks_and_layout_flags_are_refused() {
        let prog_array = |n| MapParams {
            map_type: 3,
            value_size: 4,
            ..hash(n, 4)
        };
        let e = decide(
            &subject(true),
            no_btf(&prog_array(4)),
            no_btf(&prog_array(2)),
            &HOST,
        )
        .unwrap_err();
        assert!(e
            .to_string()
            .contains("prog_array (3) holds references to programs"));
        // Without --migrate, no hint where migration would be refused anyway.
        let e = decide(
            &subject(false),
            no_btf(&prog_array(4)),
            no_btf(&prog_array(2)),
            &HOST,
        )
        .unwrap_err();
        assert!(!e.to_string().contains("--migrate"), "{e}");
        let array = |n| MapParams {
            map_type: ARRAY,
            ..hash(n, 8)
        };
        let e = decide(&subject(true), no_btf(&array(2)), no_btf(&array(4)), &HOST).unwrap_err();
        assert!(e.to_string().contains("drop indexes 2..3"), "{e}");
        // BPF_F_NO_PREALLOC may change; BPF_F_RDONLY (user space read-only) may not.
        let flagged = |f| MapParams {
            map_flags: f,
            ..hash(8, 8)
        };
        assert!(matches!(
            decide(
                &subject(true),
                no_btf(&flagged(1)),
                no_btf(&flagged(0)),
                &HOST
            )
            .unwrap(),
            Decision::Migrate(_)
        ));
        let e = decide(
            &subject(true),
            no_btf(&flagged(8)),
            no_btf(&flagged(0)),
            &HOST,
        )
        .unwrap_err();
        assert!(e.to_string().contains("0x8 changes how entries"), "{e}");
        // Same definition: reused, compared by sizes (no BTF).
        assert!(matches!(
            decide(
                &subject(true),
                no_btf(&hash(4, 8)),
                no_btf(&hash(4, 8)),
                &HOST
            )
            .unwrap(),
            Decision::Reuse(Compared::Sizes)
        ));
    }

    #[test]
    fn plain_data_maps_are_copyable_and_the_others_say_why_not() {
        for t in [
            HASH,
            ARRAY,
            PERCPU_HASH,
            PERCPU_ARRAY,
            LRU_HASH,
            LRU_PERCPU_HASH,
            LPM_TRIE,
        ] {
            assert!(not_copyable(t).is_none(), "{t}");
        }
        assert!(not_copyable(12).unwrap().contains("other maps"));
        assert!(not_copyable(27).unwrap().contains("ring buffer"));
    }
}
