//! Kernel tests of BTF-aware map compatibility and `bpfmerge load --migrate` (issue 12), on the
//! fixtures of bpf/migrate_types, bpf/migrate_stats and bpf/migrate_percpu. Every expected
//! value is worked out from the C sources and from what the test stored (see
//! tests/migrate_support), never taken from bpfmerge's output.
#![cfg(feature = "load")]

mod load_support;
mod migrate_support;

use libbpf_rs::{MapCore, MapFlags, MapHandle, MapType};
use load_support::{
    for_each_compiler, kernel_ready, map_id, open_map, prog_id, report_map, run_xdp, tree, PinDir,
    XDP_DROP, XDP_PASS,
};
use migrate_support::{
    assert_v1_intact, assert_v2_migrated, entries, fill_v1, load, load_json, text, ENTRIES, V1, V2,
};

const PAIR_V1: &str = "migrate_types/pair_v1.o";
const STATS_V1: &str = "migrate_stats/stats_v1.o";
const STATS_V2: &str = "migrate_stats/stats_v2.o";

/// pair[1] = { a = 1, b = 2 } in v1's layout (a @0, b @4).
fn store_pair(dir: &PinDir) {
    let mut v = 1u32.to_ne_bytes().to_vec();
    v.extend(2u32.to_ne_bytes());
    open_map(&dir.maps("pair"))
        .update(&1u32.to_ne_bytes(), &v, MapFlags::ANY)
        .expect("store pair");
}

fn pair_value(dir: &PinDir) -> Vec<u8> {
    open_map(&dir.maps("pair"))
        .lookup(&1u32.to_ne_bytes(), MapFlags::ANY)
        .expect("lookup")
        .expect("pair[1] present")
}

#[test]
fn reordered_or_retyped_value_members_are_refused_naming_the_member_and_types() {
    if !kernel_ready("reordered_or_retyped_value_members_are_refused") {
        return;
    }
    for_each_compiler(|| {
        let dir = PinDir::new("mig-types");
        load_json(&dir.path, &[PAIR_V1], &[]);
        store_pair(&dir);
        // pair_check returns XDP_DROP when pair[1] is { a = 1, b = 2 } (pair.h).
        assert_eq!(run_xdp(&dir.progs("pair_check"), 64), XDP_DROP);
        let before = (map_id(&dir.maps("pair")), prog_id(&dir.progs("pair_check")));
        let cases = [
            (
                "migrate_types/pair_swapped.o",
                // struct { a; b; } -> struct { b; a; }: the first member's name differs.
                "member 0 is `a` in the pinned map, `b` in the object",
            ),
            (
                "migrate_types/pair_retyped.o",
                // __u32 b -> __s32 b at the same place.
                "member `b`: unsigned int (4 bytes) vs int (4 bytes)",
            ),
        ];
        for (obj, detail) in cases {
            let out = load(&dir.path, &[obj], &[]);
            let (_, err) = text(&out);
            assert_eq!(out.status.code(), Some(1), "{obj}: {err}");
            assert!(err.contains("map `pair`: value type differs"), "{err}");
            assert!(err.contains("defines struct pair"), "{err}");
            assert!(err.contains(detail), "{obj}: {err}");
            assert!(err.contains("--migrate"), "{err}");
            // Nothing changed: same map, same bytes, same program, still dropping.
            assert_eq!(
                (map_id(&dir.maps("pair")), prog_id(&dir.progs("pair_check"))),
                before
            );
            assert_eq!(pair_value(&dir), [1, 0, 0, 0, 2, 0, 0, 0].map(u8::to_le));
            assert_eq!(run_xdp(&dir.progs("pair_check"), 64), XDP_DROP);
        }
    });
}

#[test]
fn an_unchanged_reload_reuses_the_map_compared_by_btf_and_keeps_its_state() {
    if !kernel_ready("an_unchanged_reload_reuses_the_map_compared_by_btf") {
        return;
    }
    for_each_compiler(|| {
        let dir = PinDir::new("mig-same");
        let first = load_json(&dir.path, &[PAIR_V1], &[]);
        assert_eq!(report_map(&first, "pair")["compared"], "none");
        store_pair(&dir);
        let id = map_id(&dir.maps("pair"));
        let again = load_json(&dir.path, &[PAIR_V1], &["--migrate"]);
        let pair = report_map(&again, "pair");
        assert_eq!(pair["reused"], true);
        assert_eq!(pair["compared"], "btf");
        assert!(pair["migrated"].is_null(), "{pair}");
        assert_eq!(map_id(&dir.maps("pair")), id);
        assert_eq!(run_xdp(&dir.progs("pair_check"), 64), XDP_DROP);
    });
}

#[test]
fn a_pinned_map_without_btf_is_compared_by_sizes_and_the_report_says_so() {
    if !kernel_ready("a_pinned_map_without_btf_is_compared_by_sizes") {
        return;
    }
    for_each_compiler(|| {
        let dir = PinDir::new("mig-nobtf");
        std::fs::create_dir_all(dir.path.join("maps")).unwrap();
        // pair_v1's `pair`: hash, key 4, value 8, 64 entries; created here without BTF.
        let opts = libbpf_rs::libbpf_sys::bpf_map_create_opts {
            sz: std::mem::size_of::<libbpf_rs::libbpf_sys::bpf_map_create_opts>() as _,
            ..Default::default()
        };
        let mut map = MapHandle::create(MapType::Hash, Some("pair"), 4, 8, 64, &opts).unwrap();
        map.pin(dir.maps("pair")).unwrap();
        let id = map_id(&dir.maps("pair"));
        let out = load(&dir.path, &[PAIR_V1], &[]);
        let (stdout, err) = text(&out);
        assert!(out.status.success(), "{err}");
        assert!(stdout.contains("compared by sizes only"), "{stdout}");
        let report = load_json(&dir.path, &[PAIR_V1], &[]);
        assert_eq!(report_map(&report, "pair")["compared"], "sizes");
        assert_eq!(report_map(&report, "jumps")["compared"], "btf");
        assert_eq!(map_id(&dir.maps("pair")), id);
        store_pair(&dir);
        assert_eq!(run_xdp(&dir.progs("pair_check"), 64), XDP_DROP);
    });
}

/// The probe of stats_v2.c: probe[0] = { key u32 @0, proto u32 @4, bytes @8, packets @16,
/// added @24 }; stats_probe copies stats[key] into it.
fn probe(dir: &PinDir, key: u32) -> Option<V2> {
    let mut v = key.to_ne_bytes().to_vec();
    v.resize(32, 0);
    open_map(&dir.maps("probe"))
        .update(&0u32.to_ne_bytes(), &v, MapFlags::ANY)
        .unwrap();
    match run_xdp(&dir.progs("stats_probe"), 64) {
        XDP_DROP => None,
        XDP_PASS => {
            let p = open_map(&dir.maps("probe"))
                .lookup(&0u32.to_ne_bytes(), MapFlags::ANY)
                .unwrap()
                .unwrap();
            let u64_at = |at: usize| u64::from_ne_bytes(p[at..at + 8].try_into().unwrap());
            Some(V2 {
                proto: u32::from_ne_bytes(p[4..8].try_into().unwrap()),
                bytes: u64_at(8),
                packets: u64_at(16),
                added: u64_at(24),
            })
        }
        other => panic!("stats_probe returned {other}"),
    }
}

#[test]
fn ten_thousand_entries_migrate_from_v1_to_v2_and_the_new_program_reads_them() {
    if !kernel_ready("ten_thousand_entries_migrate_from_v1_to_v2") {
        return;
    }
    for_each_compiler(|| {
        let dir = PinDir::new("mig-stats");
        load_json(&dir.path, &[STATS_V1], &[]);
        let stats = dir.maps("stats");
        fill_v1(&stats, ENTRIES);
        // v1's stats_update on a 60-byte packet: key 60 gets packets + 1 and bytes + 60.
        assert_eq!(run_xdp(&dir.progs("stats_update"), 60), XDP_PASS);
        let expect = |k: u32| {
            let mut v = V1::of(k);
            if k == 60 {
                v.packets += 1;
                v.bytes += 60;
            }
            v
        };
        let old_id = map_id(&stats);

        // The dry run says what would happen and changes nothing.
        let pins = tree(&dir.path);
        let dry = load_json(&dir.path, &[STATS_V2], &["--migrate", "--dry-run"]);
        let planned = dry["maps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "stats")
            .unwrap();
        assert_eq!(planned["action"], "migrate", "{dry}");
        assert_eq!(planned["migration"]["entries"], ENTRIES);
        assert_eq!(planned["migration"]["from_id"], old_id);
        assert_eq!(tree(&dir.path), pins);
        assert_eq!(map_id(&stats), old_id);

        let report = load_json(&dir.path, &[STATS_V2], &["--migrate"]);
        let m = report_map(&report, "stats");
        assert_eq!(m["reused"], false);
        let g = &m["migrated"];
        assert_eq!(g["from_id"], old_id);
        assert_eq!(g["entries"], ENTRIES);
        let changes: Vec<&str> = g["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        // From the two struct definitions: bytes 16 -> 0, packets 0 -> 8, proto 12 -> 24,
        // gone removed, added new; max_entries 16384 -> 32768.
        for want in [
            "max_entries: 16384 -> 32768",
            "value.bytes: moved from bit 128 to 0",
            "value.packets: moved from bit 0 to 64",
            "value.proto: moved from bit 96 to 192",
            "value.added: added (zeroed)",
            "value.gone: removed (dropped)",
        ] {
            assert!(changes.contains(&want), "{want} not in {changes:?}");
        }

        // The new map: another map under the same pin, v2's definition, every entry converted.
        let new = open_map(&stats);
        let info = new.info().unwrap().info;
        assert_ne!(info.id, old_id);
        assert_eq!((info.max_entries, info.value_size), (32768, 32));
        let got = entries(&stats);
        assert_eq!(got.len(), ENTRIES as usize);
        for (k, v) in &got {
            assert_eq!(V2::parse(v), expect(*k).migrated(), "key {k}");
        }
        assert!(!tree(&dir.path)
            .iter()
            .any(|p| p.to_string_lossy().contains('~')));

        // v2's programs read the migrated entries through the new layout.
        for k in (0..ENTRIES).step_by(97).chain([60, ENTRIES - 1]) {
            assert_eq!(probe(&dir, k), Some(expect(k).migrated()), "probe {k}");
        }
        assert_eq!(probe(&dir, ENTRIES + 5), None);
        // ... and update them: a 61-byte packet adds 1 packet and 61 bytes to key 61.
        assert_eq!(run_xdp(&dir.progs("stats_update"), 61), XDP_PASS);
        let mut e61 = expect(61).migrated();
        e61.packets += 1;
        e61.bytes += 61;
        assert_eq!(probe(&dir, 61), Some(e61));
    });
}

#[test]
fn a_per_cpu_hash_migrates_with_every_cpus_value() {
    if !kernel_ready("a_per_cpu_hash_migrates_with_every_cpus_value") {
        return;
    }
    for_each_compiler(|| {
        let dir = PinDir::new("mig-pcpu");
        load_json(&dir.path, &["migrate_percpu/pcpu_v1.o"], &[]);
        let pin = dir.maps("pcpu");
        let cpus = libbpf_rs::num_possible_cpus().unwrap();
        // v1 counts: pkts u64 @0, drops u32 @8; 16 bytes per CPU.
        let v1 = |k: u32, c: usize| (u64::from(k) * 100 + c as u64, k + c as u32 * 1000);
        let map = open_map(&pin);
        for k in 0..100u32 {
            let values: Vec<Vec<u8>> = (0..cpus)
                .map(|c| {
                    let (pkts, drops) = v1(k, c);
                    let mut b = pkts.to_ne_bytes().to_vec();
                    b.extend(drops.to_ne_bytes());
                    b.resize(16, 0);
                    b
                })
                .collect();
            map.update_percpu(&k.to_ne_bytes(), &values, MapFlags::ANY)
                .unwrap();
        }
        drop(map);
        let report = load_json(&dir.path, &["migrate_percpu/pcpu_v2.o"], &["--migrate"]);
        assert_eq!(report_map(&report, "pcpu")["migrated"]["entries"], 100);
        let map = open_map(&pin);
        assert_eq!(map.info().unwrap().info.max_entries, 256);
        for k in 0..100u32 {
            let per_cpu = map
                .lookup_percpu(&k.to_ne_bytes(), MapFlags::ANY)
                .unwrap()
                .unwrap_or_else(|| panic!("key {k} missing"));
            assert_eq!(per_cpu.len(), cpus);
            for (c, b) in per_cpu.iter().enumerate() {
                // v2 counts: drops u32 @0, flags u32 @4 (new: 0), pkts u64 @8.
                let (pkts, drops) = v1(k, c);
                assert_eq!(u32::from_ne_bytes(b[0..4].try_into().unwrap()), drops);
                assert_eq!(u32::from_ne_bytes(b[4..8].try_into().unwrap()), 0);
                assert_eq!(u64::from_ne_bytes(b[8..16].try_into().unwrap()), pkts);
            }
        }
    });
}

/// After a refused or failed migration: the same map, every entry as stored, the same
/// program, no temporary pins.
fn assert_untouched(dir: &PinDir, map: u32, prog: u32, when: &str) {
    assert_eq!(map_id(&dir.maps("stats")), map, "{when}: map replaced");
    assert_eq!(prog_id(&dir.progs("stats_update")), prog, "{when}: program");
    assert_v1_intact(&dir.maps("stats"), ENTRIES, when);
    let leftovers: Vec<_> = tree(&dir.path)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains('~'))
        .collect();
    assert!(leftovers.is_empty(), "{when}: {leftovers:?}");
}

fn v1_loaded_and_filled(dir: &PinDir, objs: &[&str]) -> (u32, u32) {
    load_json(&dir.path, objs, &[]);
    fill_v1(&dir.maps("stats"), ENTRIES);
    (
        map_id(&dir.maps("stats")),
        prog_id(&dir.progs("stats_update")),
    )
}

#[test]
fn a_migration_that_would_truncate_or_overflow_is_refused_and_changes_nothing() {
    if !kernel_ready("a_migration_that_would_truncate_is_refused") {
        return;
    }
    for_each_compiler(|| {
        let dir = PinDir::new("mig-narrow");
        let (map, prog) = v1_loaded_and_filled(&dir, &[STATS_V1]);
        // proto = 17 + i % 300 reaches 316, which one byte cannot hold.
        let out = load(&dir.path, &["migrate_stats/stats_narrow.o"], &["--migrate"]);
        let (_, err) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("map `stats`: migrating its entries failed"),
            "{err}"
        );
        assert!(err.contains("member `proto` holds"), "{err}");
        assert!(err.contains("an unsigned 1-byte integer"), "{err}");
        assert!(err.contains("entry with key"), "{err}");
        assert_untouched(&dir, map, prog, "narrowing");
        // The dry run refuses it too.
        let out = load(
            &dir.path,
            &["migrate_stats/stats_narrow.o"],
            &["--migrate", "--dry-run"],
        );
        let (stdout, _) = text(&out);
        assert_eq!(out.status.code(), Some(1));
        assert!(stdout.contains("refuse"), "{stdout}");
        assert!(stdout.contains("member `proto` holds"), "{stdout}");
        // 10,000 entries do not fit into 8192.
        let out = load(&dir.path, &["migrate_stats/stats_small.o"], &["--migrate"]);
        let (_, err) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("it holds 10000 entries, more than the 8192"),
            "{err}"
        );
        assert_untouched(&dir, map, prog, "shrinking");
        // Without --migrate a changed definition is refused as before.
        let out = load(&dir.path, &[STATS_V2], &[]);
        let (_, err) = text(&out);
        assert_eq!(out.status.code(), Some(1));
        assert!(err.contains("map `stats`: value_size differs"), "{err}");
        assert!(
            err.contains("`bpfmerge load --migrate` can carry its entries over"),
            "{err}"
        );
        assert_untouched(&dir, map, prog, "without --migrate");
    });
}

#[test]
fn migration_is_refused_while_another_objects_pinned_program_uses_the_map() {
    if !kernel_ready("migration_is_refused_while_another_program_uses_the_map") {
        return;
    }
    for_each_compiler(|| {
        let dir = PinDir::new("mig-other");
        let (map, prog) = v1_loaded_and_filled(&dir, &[STATS_V1, "migrate_stats/stats_other.o"]);
        let out = load(&dir.path, &[STATS_V2], &["--migrate"]);
        let (_, err) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("program `stats_other`"), "{err}");
        assert!(err.contains("not replaced by this load"), "{err}");
        assert_untouched(&dir, map, prog, "other user");
        let out = load(&dir.path, &[STATS_V2], &["--migrate", "--dry-run"]);
        let (stdout, _) = text(&out);
        assert_eq!(out.status.code(), Some(1));
        assert!(stdout.contains("stats_other"), "{stdout}");
        // The other program still shares the map: a 70-byte packet counts into key 70.
        assert_eq!(run_xdp(&dir.progs("stats_other"), 70), XDP_PASS);
        let v = open_map(&dir.maps("stats"))
            .lookup(&70u32.to_ne_bytes(), MapFlags::ANY)
            .unwrap()
            .unwrap();
        assert_eq!(V1::parse(&v).packets, V1::of(70).packets + 1);
    });
}

#[test]
fn a_verifier_rejection_during_a_migrating_load_leaves_the_old_map_and_entries() {
    if !kernel_ready("a_verifier_rejection_during_a_migrating_load") {
        return;
    }
    for_each_compiler(|| {
        let dir = PinDir::new("mig-reject");
        let (map, prog) = v1_loaded_and_filled(&dir, &[STATS_V1]);
        let out = load(&dir.path, &["migrate_stats/stats_reject.o"], &["--migrate"]);
        let (_, err) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("rejected by the verifier"), "{err}");
        assert_untouched(&dir, map, prog, "verifier rejection");
        // The good v2 still migrates afterwards.
        load_json(&dir.path, &[STATS_V2], &["--migrate"]);
        assert_v2_migrated(&dir.maps("stats"), ENTRIES, "after the rejection");
    });
}

#[test]
fn shrinking_max_entries_migrates_when_the_entries_fit() {
    if !kernel_ready("shrinking_max_entries_migrates_when_the_entries_fit") {
        return;
    }
    for_each_compiler(|| {
        let dir = PinDir::new("mig-shrink");
        load_json(&dir.path, &[STATS_V1], &[]);
        // 5000 entries fit into stats_small's 8192 (v1 has 16384).
        fill_v1(&dir.maps("stats"), 5000);
        let report = load_json(&dir.path, &["migrate_stats/stats_small.o"], &["--migrate"]);
        let g = &report_map(&report, "stats")["migrated"];
        assert_eq!(g["entries"], 5000);
        assert!(g["changes"]
            .as_array()
            .unwrap()
            .contains(&"max_entries: 16384 -> 8192".into()));
        assert_eq!(
            open_map(&dir.maps("stats"))
                .info()
                .unwrap()
                .info
                .max_entries,
            8192
        );
        assert_v2_migrated(&dir.maps("stats"), 5000, "shrunk");
    });
}

#[test]
fn a_dry_run_says_create_reuse_or_refuse_and_changes_nothing() {
    if !kernel_ready("a_dry_run_says_create_reuse_or_refuse") {
        return;
    }
    for_each_compiler(|| {
        let dir = PinDir::new("mig-dry");
        // Nothing pinned yet: everything would be created, and DIR is not even made.
        let dry = load_json(&dir.path, &[PAIR_V1], &["--dry-run"]);
        // (map, action), sorted by map name.
        let actions = |v: &serde_json::Value| -> Vec<(String, String)> {
            let mut a: Vec<(String, String)> = v["maps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    let name = m["name"].as_str().unwrap().to_string();
                    (name, m["action"].as_str().unwrap().to_string())
                })
                .collect();
            a.sort();
            a
        };
        let pairs = |l: &[(&str, &str)]| -> Vec<(String, String)> {
            l.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(
            actions(&dry),
            pairs(&[("jumps", "create"), ("pair", "create")])
        );
        assert_eq!(dry["progs"][0]["action"], "create");
        assert!(!dir.path.exists());
        load_json(&dir.path, &[PAIR_V1], &[]);
        let pins = load_support::snapshot(&dir.path);
        // Same object: reused, compared by BTF; program pin replaced.
        let dry = load_json(&dir.path, &[PAIR_V1], &["--dry-run"]);
        assert_eq!(
            actions(&dry),
            pairs(&[("jumps", "reuse"), ("pair", "reuse")])
        );
        assert!(dry["maps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["compared"] == "btf"));
        assert_eq!(dry["progs"][0]["action"], "replace");
        // Reordered members without --migrate: refused with the reason, exit status 1.
        let out = load(
            &dir.path,
            &["migrate_types/pair_swapped.o"],
            &["--dry-run", "--json"],
        );
        let (stdout, err) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("1 map would be refused"), "{err}");
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(
            actions(&v),
            pairs(&[("jumps", "reuse"), ("pair", "refuse")])
        );
        let pair = v["maps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "pair");
        let reason = pair.unwrap()["reason"].as_str().unwrap();
        assert!(
            reason.contains("member 0 is `a` in the pinned map"),
            "{reason}"
        );
        assert_eq!(load_support::snapshot(&dir.path), pins);
    });
}

/// A command named `comm` (a symlink to /bin/true in a private directory), run to count its
/// execs; removed when dropped.
struct Command {
    dir: std::path::PathBuf,
    path: std::path::PathBuf,
    comm: String,
}

impl Command {
    fn new() -> Command {
        // comm holds 15 bytes: "bmmig" and up to 9 digits of the pid.
        let comm = format!("bmmig{}", std::process::id() % 1_000_000_000);
        let dir = std::env::temp_dir().join(format!("bpfmerge-migrate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(&comm);
        std::os::unix::fs::symlink("/bin/true", &path).unwrap();
        Command { dir, path, comm }
    }

    fn run(&self, n: u64) {
        for _ in 0..n {
            assert!(std::process::Command::new(&self.path)
                .status()
                .unwrap()
                .success());
        }
    }
}

impl Drop for Command {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn u64_at(map: &MapHandle, key: u32) -> u64 {
    let v = map
        .lookup(&key.to_ne_bytes(), MapFlags::ANY)
        .unwrap()
        .unwrap();
    u64::from_ne_bytes(v.try_into().unwrap())
}

#[test]
fn attach_and_migrate_carry_the_counts_before_the_new_program_runs() {
    if !kernel_ready("attach_and_migrate_carry_the_counts") {
        return;
    }
    let cmd = Command::new();
    for_each_compiler(|| {
        let dir = PinDir::new("mig-attach");
        load_json(&dir.path, &["migrate_trace/exec_v1.o"], &["--attach"]);
        let mut want = [0u8; 16];
        want[..cmd.comm.len()].copy_from_slice(cmd.comm.as_bytes());
        open_map(&dir.maps("want"))
            .update(&0u32.to_ne_bytes(), &want, MapFlags::ANY)
            .unwrap();
        // v1 counts each exec of the command into hits[0] (exec.h, VERSION 1).
        cmd.run(3);
        let old = open_map(&dir.maps("hits"));
        assert_eq!(u64_at(&old, 0), 3);
        let report = load_json(
            &dir.path,
            &["migrate_trace/exec_v2.o"],
            &["--attach", "--migrate"],
        );
        // hits grows from 4 to 8 slots: migrated; `want` is unchanged: reused.
        assert_eq!(report_map(&report, "want")["reused"], true);
        let g = &report_map(&report, "hits")["migrated"];
        assert_eq!(g["entries"], 4, "an array of 4 has 4 entries: {g}");
        assert_eq!(report["links"][0]["program"], "on_exec");
        let new = open_map(&dir.maps("hits"));
        assert_eq!(new.info().unwrap().info.max_entries, 8);
        assert_eq!((u64_at(&new, 0), u64_at(&new, 1)), (3, 0));
        // v2 counts into hits[1] of the new map; nothing counts into the old map any more.
        cmd.run(2);
        assert_eq!((u64_at(&new, 0), u64_at(&new, 1)), (3, 2));
        assert_eq!((u64_at(&old, 0), u64_at(&old, 1)), (3, 0));
    });
}
