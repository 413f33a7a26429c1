//! Kernel tests of the migration building blocks (`bpfmerge::migrate`): a map's key and value
//! types read back from the kernel's BTF, and entries copied between two real maps with their
//! values converted (batched and one by one, plain and per-CPU), refusing a value that would be
//! lost. Expected values are computed from the layouts written in each test.
#![cfg(feature = "load")]

mod common;
mod migrate_shapes;

use std::os::fd::AsFd;

use bpfmerge::migrate;
use common::{fixture, kernel_ready};
use libbpf_rs::{MapCore, MapFlags, MapType};
use migrate_shapes::{conversion, create, record, uint, v1, v2, value_spec};

fn v1_value(i: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(i.to_ne_bytes());
    v.extend((i ^ 0xffff).to_ne_bytes());
    v.extend((u64::from(i) << 20).to_ne_bytes());
    v
}

fn v2_value(i: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend((u64::from(i) << 20).to_ne_bytes());
    v.extend(u64::from(i).to_ne_bytes());
    v.extend([0u8; 8]);
    v
}

fn migrate_10000(batched: bool) {
    let old = create(MapType::Hash, "mig_v1", 16, 10_000);
    for i in 0..10_000u32 {
        old.update(&i.to_ne_bytes(), &v1_value(i), MapFlags::ANY)
            .unwrap();
    }
    // max_entries doubled
    let new = create(MapType::Hash, "mig_v2", 24, 20_000);
    let conv = conversion(&v1(), &v2());
    let spec = value_spec(&conv, 16, 24, None, batched);
    let copied = migrate::copy_entries(old.as_fd(), new.as_fd(), &spec).expect("copy");
    assert_eq!(copied.entries, 10_000);
    assert_eq!(
        copied.batched, batched,
        "this kernel (6.x) has batch ops on hash maps"
    );
    for i in 0..10_000u32 {
        let got = new.lookup(&i.to_ne_bytes(), MapFlags::ANY).unwrap();
        assert_eq!(got.as_deref(), Some(&v2_value(i)[..]), "entry {i}");
        // The old map is only read.
        let kept = old.lookup(&i.to_ne_bytes(), MapFlags::ANY).unwrap();
        assert_eq!(kept.as_deref(), Some(&v1_value(i)[..]), "old entry {i}");
    }
    assert_eq!(new.keys().count(), 10_000);
}

#[test]
fn ten_thousand_entries_follow_a_changed_value_struct_batched() {
    if kernel_ready("ten_thousand_entries_follow_a_changed_value_struct_batched") {
        migrate_10000(true);
    }
}

#[test]
fn ten_thousand_entries_follow_a_changed_value_struct_one_by_one() {
    if kernel_ready("ten_thousand_entries_follow_a_changed_value_struct_one_by_one") {
        migrate_10000(false);
    }
}

#[test]
fn per_cpu_values_keep_every_cpus_value() {
    if !kernel_ready("per_cpu_values_keep_every_cpus_value") {
        return;
    }
    let ncpus = migrate::possible_cpus().unwrap();
    let old = create(MapType::PercpuHash, "mig_pc1", 16, 64);
    let per_cpu = |i: u32, cpu: usize| v1_value(i * 100 + cpu as u32);
    for i in 0..50u32 {
        let values: Vec<Vec<u8>> = (0..ncpus).map(|c| per_cpu(i, c)).collect();
        old.update_percpu(&i.to_ne_bytes(), &values, MapFlags::ANY)
            .unwrap();
    }
    let new = create(MapType::PercpuHash, "mig_pc2", 24, 128);
    let conv = conversion(&v1(), &v2());
    for batched in [true, false] {
        let spec = value_spec(&conv, 16, 24, Some(ncpus), batched);
        assert_eq!(
            migrate::copy_entries(old.as_fd(), new.as_fd(), &spec)
                .unwrap()
                .entries,
            50
        );
        for i in 0..50u32 {
            let got = new
                .lookup_percpu(&i.to_ne_bytes(), MapFlags::ANY)
                .unwrap()
                .unwrap();
            let want: Vec<Vec<u8>> = (0..ncpus).map(|c| v2_value(i * 100 + c as u32)).collect();
            assert_eq!(got, want, "entry {i} (batched: {batched})");
        }
    }
}

#[test]
fn a_value_that_would_be_truncated_stops_the_copy_naming_entry_and_member() {
    if !kernel_ready("a_value_that_would_be_truncated_stops_the_copy_naming_entry_and_member") {
        return;
    }
    let old = create(MapType::Hash, "mig_wide", 8, 16);
    old.update(&1u32.to_ne_bytes(), &7u64.to_ne_bytes(), MapFlags::ANY)
        .unwrap();
    old.update(
        &2u32.to_ne_bytes(),
        &(1u64 << 40).to_ne_bytes(),
        MapFlags::ANY,
    )
    .unwrap();
    let new = create(MapType::Hash, "mig_narrow", 4, 16);
    let conv = conversion(&record(8, &[("n", 0, 8)]), &record(4, &[("n", 0, 4)]));
    for batched in [true, false] {
        let spec = value_spec(&conv, 8, 4, None, batched);
        let err = migrate::copy_entries(old.as_fd(), new.as_fd(), &spec)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("key 02000000") || err.contains("key 00000002"),
            "{err}"
        );
        assert!(err.contains("member `n` holds 1099511627776"), "{err}");
    }
}

/// The kernel keeps the BTF a map was created with: `counters` of seed/entry.c is
/// `__type(key, __u32); __type(value, __u64);` with bpf_defs.h's typedefs
/// `unsigned int` / `unsigned long long`.
#[test]
fn a_loaded_maps_types_come_back_from_the_kernel() {
    if !kernel_ready("a_loaded_maps_types_come_back_from_the_kernel") {
        return;
    }
    let obj = common::load(&fixture("seed/entry"));
    let map = obj
        .maps()
        .find(|m| m.name() == "counters")
        .expect("counters");
    let types = migrate::map_types(map.as_fd())
        .unwrap()
        .expect("created with BTF");
    assert_eq!(types.key, Some(uint(4)));
    assert_eq!(types.value, Some(uint(8)));
    // A map created without BTF has none to compare.
    let plain = create(MapType::Array, "mig_nobtf", 8, 4);
    assert_eq!(migrate::map_types(plain.as_fd()).unwrap(), None);
}
