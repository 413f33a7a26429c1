//! The full contents of a loaded map, in a form that compares across loading paths: program
//! and map ids (which differ on every load) are replaced by names, per-CPU values by their sum
//! over CPUs, and ring buffers by the records they held. [`diff`] lists every difference.
//!
//! Per-CPU maps are compared by the sum over CPUs of each u64 lane of the value: which CPU a
//! BPF_PROG_TEST_RUN runs on is up to the scheduler, so the per-CPU split is not part of the
//! behaviour; the sum is.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use libbpf_rs::{MapCore, MapFlags, MapHandle, MapType, ProgramHandle, RingBufferBuilder};

/// One value of a map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val {
    /// The bytes of a plain value.
    Bytes(Vec<u8>),
    /// A per-CPU value: for each u64 lane, the sum over CPUs.
    PerCpuSum(Vec<u64>),
    /// A prog array slot: the program's name.
    Prog(String),
    /// A map-in-map slot: the inner map's name and contents.
    Map(String, Box<MapDump>),
}

impl Val {
    /// The `lane`-th u64 of the value (per-CPU: summed over CPUs).
    pub fn lane(&self, lane: usize) -> Option<u64> {
        match self {
            Val::Bytes(b) => b
                .get(lane * 8..lane * 8 + 8)
                .map(|s| u64::from_ne_bytes(s.try_into().expect("8 bytes"))),
            Val::PerCpuSum(l) => l.get(lane).copied(),
            Val::Prog(_) | Val::Map(..) => None,
        }
    }
}

fn u64_lanes(b: &[u8]) -> Option<Vec<u64>> {
    (b.len() % 8 == 0 && !b.is_empty()).then(|| {
        b.chunks_exact(8)
            .map(|c| u64::from_ne_bytes(c.try_into().expect("8 bytes")))
            .collect()
    })
}

fn fmt_bytes(b: &[u8]) -> String {
    match (b.len(), u64_lanes(b)) {
        (4, _) => u32::from_ne_bytes(b.try_into().expect("4 bytes")).to_string(),
        (8, Some(l)) => l[0].to_string(),
        (_, Some(l)) => format!("{l:?}"),
        _ => b
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Bytes(b) => f.write_str(&fmt_bytes(b)),
            Val::PerCpuSum(l) if l.len() == 1 => write!(f, "{} (sum over CPUs)", l[0]),
            Val::PerCpuSum(l) => write!(f, "{l:?} (sums over CPUs)"),
            Val::Prog(p) => write!(f, "program {p}"),
            Val::Map(name, d) => write!(f, "map {name} {d}"),
        }
    }
}

/// Everything a map holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapDump {
    pub map_type: String,
    /// key bytes -> value, every key present.
    pub entries: BTreeMap<Vec<u8>, Val>,
    /// Ring buffers: the records, in order.
    pub records: Vec<Vec<u8>>,
}

impl fmt::Display for MapDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e: Vec<String> = self
            .entries
            .iter()
            .map(|(k, v)| format!("{}: {v}", fmt_bytes(k)))
            .collect();
        write!(f, "{{{}}}", e.join(", "))?;
        if !self.records.is_empty() {
            let r: Vec<String> = self.records.iter().map(|r| fmt_bytes(r)).collect();
            write!(f, " records [{}]", r.join(", "))?;
        }
        Ok(())
    }
}

/// Read all of `map`. Reading a ring buffer consumes its records.
pub fn dump_map(map: &dyn MapCore) -> MapDump {
    let name = map.name().to_string_lossy().into_owned();
    let ty = map.map_type();
    let mut dump = MapDump {
        map_type: format!("{ty:?}"),
        entries: BTreeMap::new(),
        records: Vec::new(),
    };
    if ty == MapType::RingBuf {
        let mut builder = RingBufferBuilder::new();
        builder
            .add(map, |d: &[u8]| {
                dump.records.push(d.to_vec());
                0
            })
            .unwrap_or_else(|e| panic!("ring buffer {name}: {e:#}"));
        let rb = builder
            .build()
            .unwrap_or_else(|e| panic!("ring buffer {name}: {e:#}"));
        rb.consume()
            .unwrap_or_else(|e| panic!("ring buffer {name}: {e:#}"));
        drop(rb);
        return dump;
    }
    let id_of = |v: &[u8]| u32::from_ne_bytes(v.try_into().expect("a 4-byte id"));
    for key in map.keys() {
        let val = match ty {
            MapType::PercpuArray | MapType::PercpuHash | MapType::LruPercpuHash => {
                let Some(per_cpu) = map
                    .lookup_percpu(&key, MapFlags::ANY)
                    .unwrap_or_else(|e| panic!("lookup_percpu {name}: {e:#}"))
                else {
                    continue;
                };
                let lanes: Vec<Vec<u64>> = per_cpu
                    .iter()
                    .map(|v| {
                        u64_lanes(v).unwrap_or_else(|| {
                            panic!("{name}: per-CPU values of {} bytes are not u64s", v.len())
                        })
                    })
                    .collect();
                let sums = (0..lanes[0].len())
                    .map(|i| lanes.iter().map(|l| l[i]).sum())
                    .collect();
                Val::PerCpuSum(sums)
            }
            MapType::Array
            | MapType::Hash
            | MapType::LruHash
            | MapType::ProgArray
            | MapType::ArrayOfMaps
            | MapType::HashOfMaps => {
                // Empty prog array and map-in-map slots are absent.
                let Some(v) = map
                    .lookup(&key, MapFlags::ANY)
                    .unwrap_or_else(|e| panic!("lookup {name}: {e:#}"))
                else {
                    continue;
                };
                // Prog arrays and maps of maps read back ids: name what they point at.
                match ty {
                    MapType::ProgArray => {
                        let id = id_of(&v);
                        let prog = ProgramHandle::from_prog_id(id)
                            .unwrap_or_else(|e| panic!("program id {id} in {name}: {e:#}"));
                        Val::Prog(prog.name().to_string_lossy().into_owned())
                    }
                    MapType::ArrayOfMaps | MapType::HashOfMaps => {
                        let id = id_of(&v);
                        let inner = MapHandle::from_map_id(id)
                            .unwrap_or_else(|e| panic!("map id {id} in {name}: {e:#}"));
                        let inner_name = inner.name().to_string_lossy().into_owned();
                        Val::Map(inner_name, Box::new(dump_map(&inner)))
                    }
                    _ => Val::Bytes(v),
                }
            }
            other => panic!("map {name}: cannot dump a {other:?} map yet (teach dump_map)"),
        };
        dump.entries.insert(key, val);
    }
    dump
}

/// Every difference between two paths' dumps of the same maps, one line each:
/// `map M key K: A=<value> B=<value>`.
pub fn diff(
    (a_label, a): (&str, &[(String, MapDump)]),
    (b_label, b): (&str, &[(String, MapDump)]),
) -> Vec<String> {
    let mut out = Vec::new();
    let names: BTreeSet<&String> = a.iter().chain(b).map(|(n, _)| n).collect();
    let find = |d: &'_ [(String, MapDump)], n: &str| -> Option<MapDump> {
        d.iter().find(|(m, _)| m == n).map(|(_, d)| d.clone())
    };
    for name in names {
        match (find(a, name), find(b, name)) {
            (Some(x), Some(y)) => diff_one(name, (a_label, &x), (b_label, &y), &mut out),
            (x, y) => out.push(format!(
                "map {name}: {a_label} {}, {b_label} {}",
                if x.is_some() {
                    "has it"
                } else {
                    "has no such map"
                },
                if y.is_some() {
                    "has it"
                } else {
                    "has no such map"
                },
            )),
        }
    }
    out
}

fn diff_one(
    name: &str,
    (al, a): (&str, &MapDump),
    (bl, b): (&str, &MapDump),
    out: &mut Vec<String>,
) {
    if a.map_type != b.map_type {
        out.push(format!(
            "map {name}: type {al}={} {bl}={}",
            a.map_type, b.map_type
        ));
    }
    let keys: BTreeSet<&Vec<u8>> = a.entries.keys().chain(b.entries.keys()).collect();
    for k in keys {
        let (x, y) = (a.entries.get(k), b.entries.get(k));
        if x != y {
            let show = |v: Option<&Val>| v.map_or("<absent>".to_string(), |v| v.to_string());
            out.push(format!(
                "map {name} key {}: {al}={} {bl}={}",
                fmt_bytes(k),
                show(x),
                show(y)
            ));
        }
    }
    if a.records != b.records {
        let show = |r: &[Vec<u8>]| {
            r.iter()
                .map(|r| fmt_bytes(r))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push(format!(
            "map {name} records: {al}=[{}] {bl}=[{}]",
            show(&a.records),
            show(&b.records)
        ));
    }
}
