//! Helpers of the migration kernel tests (tests/migrate.rs, tests/migrate_kill.rs): the
//! layouts of the `migrate_stats` fixtures written out by hand from bpf/migrate_stats/*.c,
//! filling a pinned v1 map, reading v1 and v2 entries back, running `bpfmerge load`.

#![allow(dead_code)]

use std::path::Path;
use std::process::Output;

use libbpf_rs::{MapCore, MapFlags};

use crate::load_support::{bpfmerge, fixture, open_map};

/// Entries the tests store in v1's `stats` (its max_entries is 16384).
pub const ENTRIES: u32 = 10_000;

/// A v1 `struct stats` (bpf/migrate_stats/stats_v1.c): packets @0 (u64), gone @8 (u32),
/// proto @12 (u32), bytes @16 (u64); 24 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct V1 {
    pub packets: u64,
    pub gone: u32,
    pub proto: u32,
    pub bytes: u64,
}

/// A v2 `struct stats` (bpf/migrate_stats/stats_v2_layout.h): bytes @0, packets @8,
/// added @16 (u64 each), proto @24 (u32); 32 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct V2 {
    pub bytes: u64,
    pub packets: u64,
    pub added: u64,
    pub proto: u32,
}

impl V1 {
    /// The value the tests store under key `i`. `proto` goes up to 316, so that narrowing it
    /// to one byte loses values (keys 239..=249 and others: 17 + i % 300 > 255).
    pub fn of(i: u32) -> V1 {
        V1 {
            packets: u64::from(i) * 3 + 1,
            gone: i ^ 0xffff,
            proto: 17 + i % 300,
            bytes: (u64::from(i) << 20) | 7,
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(24);
        v.extend(self.packets.to_ne_bytes());
        v.extend(self.gone.to_ne_bytes());
        v.extend(self.proto.to_ne_bytes());
        v.extend(self.bytes.to_ne_bytes());
        v
    }

    pub fn parse(b: &[u8]) -> V1 {
        V1 {
            packets: u64::from_ne_bytes(b[0..8].try_into().unwrap()),
            gone: u32::from_ne_bytes(b[8..12].try_into().unwrap()),
            proto: u32::from_ne_bytes(b[12..16].try_into().unwrap()),
            bytes: u64::from_ne_bytes(b[16..24].try_into().unwrap()),
        }
    }

    /// What the migration makes of it: `bytes`, `packets`, `proto` kept by name, `gone`
    /// dropped, `added` zeroed.
    pub fn migrated(&self) -> V2 {
        V2 {
            bytes: self.bytes,
            packets: self.packets,
            added: 0,
            proto: self.proto,
        }
    }
}

impl V2 {
    pub fn parse(b: &[u8]) -> V2 {
        V2 {
            bytes: u64::from_ne_bytes(b[0..8].try_into().unwrap()),
            packets: u64::from_ne_bytes(b[8..16].try_into().unwrap()),
            added: u64::from_ne_bytes(b[16..24].try_into().unwrap()),
            proto: u32::from_ne_bytes(b[24..28].try_into().unwrap()),
        }
    }
}

/// Store `V1::of(i)` under every key `0..n` of the v1 map pinned at `pin`.
pub fn fill_v1(pin: &Path, n: u32) {
    let map = open_map(pin);
    for i in 0..n {
        map.update(&i.to_ne_bytes(), &V1::of(i).bytes(), MapFlags::ANY)
            .expect("fill v1");
    }
}

/// Every entry of the map pinned at `pin`, sorted by key, as raw values.
pub fn entries(pin: &Path) -> Vec<(u32, Vec<u8>)> {
    let map = open_map(pin);
    let mut out: Vec<(u32, Vec<u8>)> = map
        .keys()
        .map(|k| {
            let key = u32::from_ne_bytes(k[..4].try_into().unwrap());
            let v = map
                .lookup(&k, MapFlags::ANY)
                .expect("lookup")
                .expect("listed key present");
            (key, v)
        })
        .collect();
    out.sort_by_key(|(k, _)| *k);
    out
}

/// The v1 map pinned at `pin` holds exactly `V1::of(i)` for `i in 0..n`.
pub fn assert_v1_intact(pin: &Path, n: u32, when: &str) {
    let got = entries(pin);
    assert_eq!(got.len(), n as usize, "{when}: entry count");
    for (k, v) in got {
        assert_eq!(v.len(), 24, "{when}: value size");
        assert_eq!(V1::parse(&v), V1::of(k), "{when}: key {k}");
    }
}

/// The v2 map pinned at `pin` holds exactly `V1::of(i).migrated()` for `i in 0..n`.
pub fn assert_v2_migrated(pin: &Path, n: u32, when: &str) {
    let got = entries(pin);
    assert_eq!(got.len(), n as usize, "{when}: entry count");
    for (k, v) in got {
        assert_eq!(v.len(), 32, "{when}: value size");
        assert_eq!(V2::parse(&v), V1::of(k).migrated(), "{when}: key {k}");
    }
}

/// `bpfmerge load <fixtures> --pin-dir DIR <extra>`.
pub fn load(dir: &Path, objs: &[&str], extra: &[&str]) -> Output {
    let mut args: Vec<std::ffi::OsString> = vec!["load".into()];
    args.extend(objs.iter().map(|o| fixture(o).into_os_string()));
    args.push("--pin-dir".into());
    args.push(dir.as_os_str().to_owned());
    args.extend(extra.iter().map(|e| e.into()));
    bpfmerge(args)
}

pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Run `load`, which must succeed; its JSON report (`--json` is added).
pub fn load_json(dir: &Path, objs: &[&str], extra: &[&str]) -> serde_json::Value {
    let mut extra = extra.to_vec();
    extra.push("--json");
    let out = load(dir, objs, &extra);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "load {objs:?} {extra:?}: {stderr}");
    serde_json::from_str(&stdout).expect("JSON report")
}
