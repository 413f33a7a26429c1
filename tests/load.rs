//! Kernel tests of `bpfmerge load` / `unload`: drive the real binary, then check behaviour by
//! running the pinned programs (BPF_PROG_TEST_RUN) and reading the pinned maps. They skip when
//! not root (a failure with BPFMERGE_REQUIRE_KERNEL=1). Every test uses its own pin dir.
//! Tests on fixtures run on clang 14's and on clang 19's (`for_each_compiler`).
#![cfg(feature = "load")]

mod load_support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use libbpf_rs::MapCore;
use load_support::*;

const ENTRY: &str = "seed/entry.o";
const HANDLER: &str = "seed/handler.o";

/// Two objects loaded by two separate invocations share `counters` and `xdp_actions` (same
/// kernel ids, the second reuses); the entry program tail-calls the handler through the shared
/// prog array and both count into the one `counters`.
#[test]
fn separate_loads_share_maps_and_tail_call_across_objects() {
    for_each_compiler(separate_loads_share_maps_and_tail_call_across_objects_body);
}

fn separate_loads_share_maps_and_tail_call_across_objects_body() {
    if !kernel_ready("separate_loads_share_maps_and_tail_call_across_objects") {
        return;
    }
    let dir = PinDir::new("share");
    let first = load_ok(&dir.path, &[ENTRY]);
    let second = load_ok(&dir.path, &[HANDLER]);
    for map in ["counters", "xdp_actions"] {
        let (a, b) = (report_map(&first, map), report_map(&second, map));
        assert_eq!(a["id"], b["id"], "{map} shared");
        assert_eq!(a["reused"], false);
        assert_eq!(b["reused"], true);
        assert_eq!(map_id(&dir.maps(map)), a["id"].as_u64().unwrap() as u32);
    }
    let counters = dir.maps("counters");
    // Slot 1 of the prog array is empty: the entry program falls through to XDP_ABORTED.
    assert_eq!(run_xdp(&dir.progs("xdp_entry"), 64), XDP_ABORTED);
    assert_eq!(all_u64(&counters), [1, 0, 0, 0]);
    set_tail_call(&dir.maps("xdp_actions"), 1, &dir.progs("xdp_handler"));
    // Now entry (object 1) tail-calls handler (object 2), which returns XDP_PASS.
    assert_eq!(run_xdp(&dir.progs("xdp_entry"), 64), XDP_PASS);
    assert_eq!(all_u64(&counters), [2, 1, 0, 0]);
    assert_eq!(run_xdp(&dir.progs("xdp_handler"), 64), XDP_PASS);
    assert_eq!(all_u64(&counters), [2, 2, 0, 0]);
}

/// A value one program writes into a shared map is read by a program of another object,
/// loaded by another invocation.
#[test]
fn value_written_by_one_program_is_read_by_the_other() {
    for_each_compiler(value_written_by_one_program_is_read_by_the_other_body);
}

fn value_written_by_one_program_is_read_by_the_other_body() {
    if !kernel_ready("value_written_by_one_program_is_read_by_the_other") {
        return;
    }
    let dir = PinDir::new("mailbox");
    let w = load_ok(&dir.path, &["loader_share/writer.o"]);
    let r = load_ok(&dir.path, &["loader_share/reader.o"]);
    assert_eq!(
        report_map(&w, "mailbox")["id"],
        report_map(&r, "mailbox")["id"]
    );
    let mailbox = dir.maps("mailbox");
    assert_eq!(
        run_xdp(&dir.progs("xdp_reader"), 64),
        XDP_DROP,
        "nothing written yet"
    );
    assert_eq!(run_xdp(&dir.progs("xdp_writer"), 64), XDP_PASS);
    assert_eq!(all_u64(&mailbox), [64, 0]);
    assert_eq!(run_xdp(&dir.progs("xdp_reader"), 64), XDP_PASS);
    assert_eq!(run_xdp(&dir.progs("xdp_writer"), 100), XDP_PASS);
    assert_eq!(run_xdp(&dir.progs("xdp_reader"), 64), XDP_PASS);
    assert_eq!(
        all_u64(&mailbox),
        [100, 164],
        "reader summed what writer wrote"
    );
}

/// Several objects given to one `load` share maps as if loaded one after another: the second
/// reuses the map the first created (not yet pinned), and one map of each name is pinned.
#[test]
fn one_load_shares_maps_between_its_objects() {
    for_each_compiler(one_load_shares_maps_between_its_objects_body);
}

fn one_load_shares_maps_between_its_objects_body() {
    if !kernel_ready("one_load_shares_maps_between_its_objects") {
        return;
    }
    let dir = PinDir::new("oneload");
    let report = load_ok(&dir.path, &[ENTRY, HANDLER]);
    let counters = report_map(&report, "counters");
    assert_eq!(counters["reused"], false);
    assert_eq!(counters["objects"].as_array().unwrap().len(), 2);
    assert_eq!(
        report["maps"].as_array().unwrap().len(),
        2,
        "one map per name: {report}"
    );
    set_tail_call(&dir.maps("xdp_actions"), 1, &dir.progs("xdp_handler"));
    assert_eq!(run_xdp(&dir.progs("xdp_entry"), 64), XDP_PASS);
    assert_eq!(all_u64(&dir.maps("counters")), [1, 1, 0, 0]);
    // Global-data maps are per object and never pinned.
    assert_eq!(
        tree(&dir.path),
        [
            "maps",
            "maps/counters",
            "maps/xdp_actions",
            "progs",
            "progs/xdp_entry",
            "progs/xdp_handler"
        ]
        .into_iter()
        .map(PathBuf::from)
        .collect()
    );
    // Two objects of one load whose definitions disagree: refused, nothing pinned.
    let dir2 = PinDir::new("oneload-mismatch");
    let out = load_cmd(&dir2.path, &[ENTRY, "loader_mismatch/counters8.o"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("map `counters`: max_entries differs"), "{err}");
    assert!(
        err.contains("the map created by") && err.contains("entry.o"),
        "{err}"
    );
    assert!(
        !dir2.path.exists(),
        "a failed load into a new DIR leaves nothing behind"
    );
}

/// Reloading keeps every entry of the pinned maps: 100 reloads with writes (from user space and
/// from the program) between them lose nothing; meanwhile a reader always finds the program pin
/// (it is replaced by rename, never missing).
#[test]
fn reloads_keep_map_contents_and_the_program_pin_never_disappears() {
    for_each_compiler(reloads_keep_map_contents_and_the_program_pin_never_disappears_body);
}

fn reloads_keep_map_contents_and_the_program_pin_never_disappears_body() {
    if !kernel_ready("reloads_keep_map_contents_and_the_program_pin_never_disappears") {
        return;
    }
    let dir = PinDir::new("reload");
    let first = load_ok(&dir.path, &[ENTRY]);
    let counters_id = report_map(&first, "counters")["id"].clone();
    let counters = dir.maps("counters");
    let pin = dir.progs("xdp_entry");

    let stop = Arc::new(AtomicBool::new(false));
    let (misses, looks) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let watcher = {
        let (stop, misses, looks, pin) = (stop.clone(), misses.clone(), looks.clone(), pin.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if libbpf_rs::ProgramHandle::from_pinned_path(&pin).is_err() {
                    misses.fetch_add(1, Ordering::Relaxed);
                }
                looks.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let mut prog_ids = std::collections::BTreeSet::new();
    for i in 0..100u64 {
        write_u64(&counters, 2, 1000 + i);
        assert_eq!(run_xdp(&pin, 64), XDP_ABORTED);
        let report = load_ok(&dir.path, &[ENTRY]);
        let map = report_map(&report, "counters");
        assert_eq!(map["id"], counters_id, "reload {i} reused counters");
        assert_eq!(map["reused"], true);
        prog_ids.insert(report_prog(&report, "xdp_entry")["id"].as_u64().unwrap());
        assert_eq!(
            read_u64(&counters, 0),
            i + 1,
            "reload {i} kept the program's count"
        );
        assert_eq!(
            read_u64(&counters, 2),
            1000 + i,
            "reload {i} kept the written value"
        );
    }
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    assert_eq!(
        misses.load(Ordering::Relaxed),
        0,
        "program pin missing during a reload"
    );
    assert!(looks.load(Ordering::Relaxed) > 0);
    assert_eq!(prog_ids.len(), 100, "every reload pinned a new program");
    assert_eq!(prog_id(&pin) as u64, *prog_ids.iter().max().unwrap());
    assert_eq!(all_u64(&counters), [100, 0, 1099, 0]);
    let names: Vec<_> = tree(&dir.path).into_iter().collect();
    assert_eq!(names.len(), 5, "no temporary pins left: {names:?}");
}

/// A pinned map that does not match the object's definition is refused, naming the map, the
/// field and both values; the map, its contents and every pin stay as they were.
#[test]
fn incompatible_pinned_map_is_refused_and_left_untouched() {
    for_each_compiler(incompatible_pinned_map_is_refused_and_left_untouched_body);
}

fn incompatible_pinned_map_is_refused_and_left_untouched_body() {
    if !kernel_ready("incompatible_pinned_map_is_refused_and_left_untouched") {
        return;
    }
    let dir = PinDir::new("mismatch");
    load_ok(&dir.path, &[ENTRY]);
    let counters = dir.maps("counters");
    run_xdp(&dir.progs("xdp_entry"), 64);
    write_u64(&counters, 3, 77);
    let before = snapshot(&dir.path);
    let contents = all_u64(&counters);

    let out = load_cmd(&dir.path, &["loader_mismatch/counters8.o"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("map `counters`"), "{err}");
    assert!(err.contains("max_entries"), "{err}");
    assert!(err.contains("defines 8"), "{err}");
    assert!(err.contains("has 4"), "{err}");
    assert!(out.stdout.is_empty());

    assert_eq!(
        snapshot(&dir.path),
        before,
        "pins (and their kernel ids) unchanged"
    );
    assert_eq!(all_u64(&counters), contents, "contents unchanged");
    assert_eq!(contents, [1, 0, 0, 77]);
    assert!(!dir.maps("mismatch_extra").exists());
    assert!(!dir.progs("xdp_mismatch").exists());
}

/// When the verifier rejects the second object, the first object's pins and the maps are
/// unchanged, the error carries the rejected program's verifier log, and the old programs still
/// work.
#[test]
fn verifier_rejection_changes_no_pin_and_no_map() {
    for_each_compiler(verifier_rejection_changes_no_pin_and_no_map_body);
}

fn verifier_rejection_changes_no_pin_and_no_map_body() {
    if !kernel_ready("verifier_rejection_changes_no_pin_and_no_map") {
        return;
    }
    let dir = PinDir::new("reject");
    load_ok(&dir.path, &[ENTRY, HANDLER]);
    set_tail_call(&dir.maps("xdp_actions"), 1, &dir.progs("xdp_handler"));
    assert_eq!(run_xdp(&dir.progs("xdp_entry"), 64), XDP_PASS);
    let before = snapshot(&dir.path);
    let counters = dir.maps("counters");
    let contents = all_u64(&counters);

    let out = load_cmd(&dir.path, &[ENTRY, "loader_reject/reject.o"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("program `xdp_reject` was rejected by the verifier"),
        "{err}"
    );
    assert!(err.contains("reject.o"), "{err}");
    assert!(
        err.contains("invalid mem access 'map_value_or_null'"),
        "verifier log: {err}"
    );

    assert_eq!(
        snapshot(&dir.path),
        before,
        "same pins, same program and map ids"
    );
    assert_eq!(all_u64(&counters), contents);
    assert!(!dir.maps("reject_extra").exists());
    assert_eq!(
        run_xdp(&dir.progs("xdp_entry"), 64),
        XDP_PASS,
        "old programs still work"
    );
    assert_eq!(all_u64(&counters), [contents[0] + 1, contents[1] + 1, 0, 0]);
}

/// Eight concurrent loads into one DIR all succeed, serialised by the lock on DIR: while the
/// test itself holds that lock none of them gets anywhere; once released, exactly one creates
/// the maps, all share them, and the end state is one consistent set of pins (the programs of
/// one of the loads, no temporaries).
#[test]
fn concurrent_loads_are_serialised() {
    for_each_compiler(concurrent_loads_are_serialised_body);
}

fn concurrent_loads_are_serialised_body() {
    if !kernel_ready("concurrent_loads_are_serialised") {
        return;
    }
    let dir = PinDir::new("concurrent");
    std::fs::create_dir_all(&dir.path).unwrap();
    let lock = hold_lock(&dir.path);
    let children: Vec<std::process::Child> = (0..8)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_bpfmerge"))
                .arg("load")
                .arg(fixture(ENTRY))
                .arg(fixture(HANDLER))
                .arg("--pin-dir")
                .arg(&dir.path)
                .arg("--json")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn bpfmerge")
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        tree(&dir.path).is_empty(),
        "a load went ahead while DIR was locked"
    );
    drop(lock);
    let reports: Vec<serde_json::Value> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().expect("wait for bpfmerge");
            assert!(out.status.success(), "{}", stderr(&out));
            serde_json::from_slice(&out.stdout).expect("JSON report")
        })
        .collect();
    for map in ["counters", "xdp_actions"] {
        let ids: std::collections::BTreeSet<_> = reports
            .iter()
            .map(|r| report_map(r, map)["id"].as_u64().unwrap())
            .collect();
        assert_eq!(ids.len(), 1, "{map}: one map for all loads");
        let created = reports
            .iter()
            .filter(|r| report_map(r, map)["reused"] == false)
            .count();
        assert_eq!(created, 1, "{map}: created once");
        assert_eq!(map_id(&dir.maps(map)) as u64, *ids.iter().next().unwrap());
    }
    let pinned = (
        prog_id(&dir.progs("xdp_entry")),
        prog_id(&dir.progs("xdp_handler")),
    );
    assert!(
        reports.iter().any(|r| {
            let id = |n| report_prog(r, n)["id"].as_u64().unwrap() as u32;
            (id("xdp_entry"), id("xdp_handler")) == pinned
        }),
        "the pinned programs come from one and the same load"
    );
    assert_eq!(
        tree(&dir.path).len(),
        6,
        "no temporaries: {:?}",
        tree(&dir.path)
    );
    set_tail_call(&dir.maps("xdp_actions"), 1, &dir.progs("xdp_handler"));
    assert_eq!(run_xdp(&dir.progs("xdp_entry"), 64), XDP_PASS);
    assert_eq!(all_u64(&dir.maps("counters")), [1, 1, 0, 0]);
}

/// `unload` removes the program pins (and with `--maps` the map pins), then the directories
/// left empty — exactly what `load` pinned; the maps survive a plain `unload` with their data.
#[test]
fn unload_removes_exactly_what_load_pinned() {
    for_each_compiler(unload_removes_exactly_what_load_pinned_body);
}

fn unload_removes_exactly_what_load_pinned_body() {
    if !kernel_ready("unload_removes_exactly_what_load_pinned") {
        return;
    }
    let dir = PinDir::new("unload");
    let report = load_ok(&dir.path, &[ENTRY, HANDLER]);
    run_xdp(&dir.progs("xdp_entry"), 64);
    let pinned: std::collections::BTreeSet<PathBuf> = report["maps"]
        .as_array()
        .unwrap()
        .iter()
        .chain(report["progs"].as_array().unwrap())
        .map(|e| PathBuf::from(e["pin_path"].as_str().unwrap()))
        .collect();
    let on_disk: std::collections::BTreeSet<PathBuf> = tree(&dir.path)
        .into_iter()
        .map(|rel| dir.path.join(rel))
        .filter(|p| !p.is_dir())
        .collect();
    assert_eq!(on_disk, pinned, "the report names every pin");

    let dir_arg = dir.path.as_os_str().to_owned();
    let out = bpfmerge(["unload".into(), "--pin-dir".into(), dir_arg.clone()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        tree(&dir.path),
        ["maps", "maps/counters", "maps/xdp_actions"]
            .into_iter()
            .map(PathBuf::from)
            .collect()
    );
    assert_eq!(
        all_u64(&dir.maps("counters")),
        [1, 0, 0, 0],
        "maps keep their data"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("progs/xdp_entry") && text.contains("progs/xdp_handler"),
        "{text}"
    );

    let out = bpfmerge([
        "unload".into(),
        "--pin-dir".into(),
        dir_arg.clone(),
        "--maps".into(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!dir.path.exists(), "DIR removed once empty");

    let out = bpfmerge(["unload".into(), "--pin-dir".into(), dir_arg]);
    assert_eq!(out.status.code(), Some(1), "nothing to unload is an error");
    assert!(stderr(&out).contains("does not exist"));
}

/// Without --pin-dir, DIR is /sys/fs/bpf/bpfmerge/<stem of the first object>.
#[test]
fn default_pin_dir_is_named_after_the_first_object() {
    for_each_compiler(default_pin_dir_is_named_after_the_first_object_body);
}

fn default_pin_dir_is_named_after_the_first_object_body() {
    if !kernel_ready("default_pin_dir_is_named_after_the_first_object") {
        return;
    }
    let stem = format!("bpfmergetest{}", std::process::id());
    let tmp = std::env::temp_dir().join(format!("{stem}-src"));
    std::fs::create_dir_all(&tmp).unwrap();
    let obj = tmp.join(format!("{stem}.o"));
    std::fs::copy(fixture(ENTRY), &obj).unwrap();
    // Declared first, dropped last: after the pin dir inside it.
    let _parent = RemoveIfEmpty(PathBuf::from("/sys/fs/bpf/bpfmerge"));
    let dir = PinDir {
        path: PathBuf::from(format!("/sys/fs/bpf/bpfmerge/{stem}")),
    };
    let out = bpfmerge(["load".as_ref(), obj.as_os_str(), "--json".as_ref()]);
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["pin_dir"], dir.path.to_str().unwrap());
    assert_eq!(run_xdp(&dir.progs("xdp_entry"), 64), XDP_ABORTED);
    assert_eq!(read_u64(&dir.maps("counters"), 0), 1);
}

/// The kernel adjustments allowed by the compatibility check, each exercised by a reload (or a
/// second object) that must reuse the pinned map: a ring buffer declared with 5000 bytes
/// (created as 8192) shared with one declared as 8192; a perf event array without max_entries
/// (created with one entry per CPU); a devmap (the kernel reports BPF_F_RDONLY_PROG).
#[test]
fn kernel_adjusted_maps_are_reused() {
    for_each_compiler(kernel_adjusted_maps_are_reused_body);
}

fn kernel_adjusted_maps_are_reused_body() {
    if !kernel_ready("kernel_adjusted_maps_are_reused") {
        return;
    }
    let dir = PinDir::new("adjust");
    let cases = [
        (
            "events",
            "loader_adjust/ring_odd.o",
            "xdp_ring_odd",
            "loader_adjust/ring_page.o",
            "xdp_ring_page",
        ),
        (
            "events",
            "loader_adjust/ring_page.o",
            "xdp_ring_page",
            "loader_adjust/ring_odd.o",
            "xdp_ring_odd",
        ),
        (
            "perf_events",
            "loader_adjust/perf.o",
            "xdp_perf",
            "loader_adjust/perf.o",
            "xdp_perf",
        ),
        (
            "tx_ports",
            "loader_adjust/devmap.o",
            "xdp_devmap",
            "loader_adjust/devmap.o",
            "xdp_devmap",
        ),
    ];
    for (map, first, first_prog, second, second_prog) in cases {
        let a = load_ok(&dir.path, &[first]);
        let b = load_ok(&dir.path, &[second]);
        assert_eq!(
            report_map(&a, map)["id"],
            report_map(&b, map)["id"],
            "{map}: {first} then {second}"
        );
        assert_eq!(report_map(&b, map)["reused"], true);
        assert_eq!(run_xdp(&dir.progs(first_prog), 64), XDP_PASS);
        assert_eq!(run_xdp(&dir.progs(second_prog), 64), XDP_PASS);
        let info = open_map(&dir.maps(map)).info().unwrap().info;
        match map {
            "events" => assert_eq!(info.max_entries, 8192),
            "perf_events" => {
                assert_eq!(
                    info.max_entries as usize,
                    libbpf_rs::num_possible_cpus().unwrap()
                )
            }
            _ => assert_eq!(
                info.map_flags & 0x80,
                0x80,
                "devmap reports BPF_F_RDONLY_PROG"
            ),
        }
        let out = bpfmerge([
            "unload".as_ref(),
            "--pin-dir".as_ref(),
            dir.path.as_os_str(),
            "--maps".as_ref(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
}

/// A DIR outside bpffs, and a caller without privileges, get a clear error and exit 1.
#[test]
fn no_bpffs_or_no_privileges_is_a_clear_error() {
    for_each_compiler(no_bpffs_or_no_privileges_is_a_clear_error_body);
}

fn no_bpffs_or_no_privileges_is_a_clear_error_body() {
    if !kernel_ready("no_bpffs_or_no_privileges_is_a_clear_error") {
        return;
    }
    let not_bpffs =
        std::env::temp_dir().join(format!("bpfmerge-test-nobpffs-{}", std::process::id()));
    let out = bpfmerge([
        "load".as_ref(),
        fixture(ENTRY).as_os_str(),
        "--pin-dir".as_ref(),
        not_bpffs.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not on a bpf filesystem"),
        "{}",
        stderr(&out)
    );
    assert!(!not_bpffs.exists());

    let out = bpfmerge([
        "unload".as_ref(),
        "--pin-dir".as_ref(),
        std::env::temp_dir().as_os_str(),
        "--maps".as_ref(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "unload refuses a DIR outside bpffs"
    );
    assert!(
        stderr(&out).contains("not on a bpf filesystem"),
        "{}",
        stderr(&out)
    );

    // As user nobody (setpriv from util-linux), when available. The object is copied to a
    // world-readable place first: the checkout may sit in a directory nobody cannot read
    // (`mktemp -d` makes 0700 ones), and the test is about privileges, not file access.
    let dir = PinDir::new("nopriv");
    let obj = std::env::temp_dir().join(format!("bpfmerge-nopriv-{}.o", std::process::id()));
    std::fs::copy(fixture(ENTRY), &obj).expect("copy the object");
    std::fs::set_permissions(&obj, std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .expect("chmod the object");
    let setpriv = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_bpfmerge"))
        .arg("load")
        .arg(&obj)
        .arg("--pin-dir")
        .arg(&dir.path)
        .output();
    match setpriv {
        Ok(out) => {
            assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
            assert!(stderr(&out).contains("needs root"), "{}", stderr(&out));
            assert!(!dir.path.join("maps").exists() && !dir.path.join("progs").exists());
        }
        Err(e) => eprintln!("setpriv unavailable ({e}): unprivileged case not run"),
    }
    let _ = std::fs::remove_file(&obj);
}

/// Removes an (empty) directory when dropped, after the `PinDir` inside it.
struct RemoveIfEmpty(PathBuf);

impl Drop for RemoveIfEmpty {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// A map declared `pinning = LIBBPF_PIN_BY_NAME` is pinned in DIR/maps like any other (not at
/// libbpf's default /sys/fs/bpf/<name>) and reused from there on reload.
#[test]
fn pin_by_name_maps_live_in_dir_maps() {
    for_each_compiler(pin_by_name_maps_live_in_dir_maps_body);
}

fn pin_by_name_maps_live_in_dir_maps_body() {
    if !kernel_ready("pin_by_name_maps_live_in_dir_maps") {
        return;
    }
    let dir = PinDir::new("byname");
    let first = load_ok(&dir.path, &["loader_byname/byname.o"]);
    assert!(dir.maps("byname_hits").exists());
    assert!(!std::path::Path::new("/sys/fs/bpf/byname_hits").exists());
    assert_eq!(run_xdp(&dir.progs("xdp_byname"), 64), XDP_PASS);
    let second = load_ok(&dir.path, &["loader_byname/byname.o"]);
    assert_eq!(
        report_map(&first, "byname_hits")["id"],
        report_map(&second, "byname_hits")["id"]
    );
    assert_eq!(report_map(&second, "byname_hits")["reused"], true);
    assert_eq!(run_xdp(&dir.progs("xdp_byname"), 64), XDP_PASS);
    assert_eq!(read_u64(&dir.maps("byname_hits"), 0), 2);
}

/// Map and program names that would escape DIR/maps or DIR/progs (here `../../escaped_*`, set
/// with asm labels) are refused with an error naming the file and the name; nothing is pinned.
#[test]
fn names_that_would_escape_the_pin_dir_are_refused() {
    for_each_compiler(names_that_would_escape_the_pin_dir_are_refused_body);
}

fn names_that_would_escape_the_pin_dir_are_refused_body() {
    if !kernel_ready("names_that_would_escape_the_pin_dir_are_refused") {
        return;
    }
    let dir = PinDir::new("badname");
    for (obj, what) in [
        ("loader_badname/badmap.o", "map name `../../escaped_map`"),
        (
            "loader_badname/badprog.o",
            "program name `../../escaped_prog`",
        ),
    ] {
        let out = load_cmd(&dir.path, &[obj]);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        let path = fixture(obj);
        assert!(
            err.contains(what) && err.contains(&*path.to_string_lossy()),
            "{err}"
        );
        assert!(!dir.path.exists(), "nothing created for {obj}");
    }
    for escaped in ["escaped_map", "escaped_prog"] {
        assert!(!std::path::Path::new("/sys/fs/bpf").join(escaped).exists());
    }
}

/// When nothing is mounted at /sys/fs/bpf, `load` mounts bpffs there. Run in a private mount
/// namespace (unshare) where /sys/fs/bpf is unmounted first, so the host's bpffs is untouched.
#[test]
fn bpffs_is_mounted_when_missing() {
    for_each_compiler(bpffs_is_mounted_when_missing_body);
}

fn bpffs_is_mounted_when_missing_body() {
    if !kernel_ready("bpffs_is_mounted_when_missing") {
        return;
    }
    let dir = PinDir::new("automount");
    let script = format!(
        "umount /sys/fs/bpf || exit 90; grep -q ' /sys/fs/bpf bpf ' /proc/mounts && exit 91; \
         '{bin}' load '{obj}' --pin-dir '{dir}' || exit 92; \
         grep -q ' /sys/fs/bpf bpf ' /proc/mounts || exit 93; test -e '{dir}/progs/xdp_entry'",
        bin = env!("CARGO_BIN_EXE_bpfmerge"),
        obj = fixture(ENTRY).display(),
        dir = dir.path.display(),
    );
    let out = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output();
    match out {
        Ok(out) => assert!(
            out.status.success(),
            "exit {:?}: {}",
            out.status.code(),
            stderr(&out)
        ),
        Err(e) => {
            eprintln!("unshare unavailable ({e}): automount case not run");
            return;
        }
    }
    assert!(
        !dir.path.exists(),
        "the pins lived in the private bpffs only"
    );
}

/// libbpf fills prog-array slots from `.values` as soon as an object's programs loaded, even in a
/// reused pinned map. When a later object of the same `load` is rejected, the pinned prog
/// array gets its old slot back: the entry program still tail-calls the old handler.
#[test]
fn failed_load_restores_prog_array_slots_filled_from_values() {
    for_each_compiler(failed_load_restores_prog_array_slots_filled_from_values_body);
}

fn failed_load_restores_prog_array_slots_filled_from_values_body() {
    if !kernel_ready("failed_load_restores_prog_array_slots_filled_from_values") {
        return;
    }
    let dir = PinDir::new("values");
    load_ok(&dir.path, &[ENTRY, HANDLER]);
    let actions = dir.maps("xdp_actions");
    set_tail_call(&actions, 1, &dir.progs("xdp_handler"));
    let before = snapshot(&dir.path);

    let out = load_cmd(
        &dir.path,
        &["loader_reject/fill_slot.o", "loader_reject/reject.o"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("xdp_reject"), "{}", stderr(&out));
    assert_eq!(snapshot(&dir.path), before);
    assert_eq!(
        run_xdp(&dir.progs("xdp_entry"), 64),
        XDP_PASS,
        "slot 1 is the handler again"
    );
    assert_eq!(all_u64(&dir.maps("counters")), [1, 1, 0, 0]);

    // The same object loaded successfully does take slot 1 (XDP_TX from xdp_fill).
    load_ok(&dir.path, &["loader_reject/fill_slot.o"]);
    assert_eq!(run_xdp(&dir.progs("xdp_entry"), 64), 3);
}

const DECL: &str = "init/decl.o";
const VALS: &str = "init/vals.o";
const XDP_TX: u32 = 3;

/// vals.o initialises `outer` with `.values = { [0] = &inner_map }`; decl.o declares `outer`
/// plainly and its `xdp_lookup` goes through `outer[0]`. libbpf writes map-in-map slots only
/// into maps it creates, so when vals.o *reuses* `outer` bpfmerge writes the slot itself:
/// within one load (decl.o first creates it), across loads (the pinned `outer` of an earlier
/// invocation), and in the other order (libbpf's own path, vals.o creates it).
#[test]
fn map_in_map_initialiser_reaches_a_reused_outer_map() {
    for_each_compiler(map_in_map_initialiser_reaches_a_reused_outer_map_body);
}

fn map_in_map_initialiser_reaches_a_reused_outer_map_body() {
    if !kernel_ready("map_in_map_initialiser_reaches_a_reused_outer_map") {
        return;
    }
    let check = |dir: &PinDir| {
        assert_eq!(
            slot_id(&dir.maps("outer"), 0),
            Some(map_id(&dir.maps("inner_map"))),
            "outer[0] is inner_map"
        );
        assert_eq!(run_xdp(&dir.progs("xdp_lookup"), 64), XDP_PASS);
        assert_eq!(all_u64(&dir.maps("inner_map")), [5, 0, 0, 0]);
        assert_eq!(slot_id(&dir.maps("outer"), 1), None, "slot 1 stays empty");
        // The prog-array initialisers (libbpf's part) work alongside.
        assert_eq!(run_xdp(&dir.progs("xdp_start"), 64), XDP_TX);
    };

    // One load, decl.o first: vals.o reuses the `outer` decl.o created.
    let dir = PinDir::new("mim-oneload");
    let report = load_ok(&dir.path, &[DECL, VALS]);
    let outer = report_map(&report, "outer");
    assert_eq!(outer["reused"], false);
    assert_eq!(outer["objects"].as_array().unwrap().len(), 2);
    check(&dir);

    // Two loads: vals.o reuses the `outer` pinned (empty) by the first.
    let dir = PinDir::new("mim-twoloads");
    load_ok(&dir.path, &[DECL]);
    assert_eq!(slot_id(&dir.maps("outer"), 0), None);
    assert_eq!(
        run_xdp(&dir.progs("xdp_lookup"), 64),
        XDP_DROP,
        "outer[0] is empty"
    );
    let report = load_ok(&dir.path, &[VALS]);
    assert_eq!(report_map(&report, "outer")["reused"], true);
    check(&dir);
    // Loading vals.o again writes the slot again: the new inner_map is the pinned one (reused).
    load_ok(&dir.path, &[VALS]);
    assert_eq!(all_u64(&dir.maps("inner_map")), [5, 0, 0, 0], "kept");
    assert_eq!(run_xdp(&dir.progs("xdp_lookup"), 64), XDP_PASS);
    assert_eq!(all_u64(&dir.maps("inner_map")), [10, 0, 0, 0]);

    // The other order: vals.o creates `outer`, libbpf fills it.
    let dir = PinDir::new("mim-valsfirst");
    load_ok(&dir.path, &[VALS, DECL]);
    check(&dir);
}

/// A map-in-map slot bpfmerge wrote into a pinned outer map is put back when the load fails
/// later (here: a verifier rejection of the next object), like prog-array slots: an empty
/// slot is emptied again, a slot that held another map holds it again.
#[test]
fn failed_load_restores_map_in_map_slots() {
    for_each_compiler(failed_load_restores_map_in_map_slots_body);
}

fn failed_load_restores_map_in_map_slots_body() {
    if !kernel_ready("failed_load_restores_map_in_map_slots") {
        return;
    }
    let dir = PinDir::new("mim-restore");
    load_ok(&dir.path, &[DECL]);
    let outer = dir.maps("outer");

    // Empty before: empty after.
    let before = snapshot(&dir.path);
    let out = load_cmd(&dir.path, &[VALS, "loader_reject/reject.o"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("xdp_reject"), "{}", stderr(&out));
    assert_eq!(snapshot(&dir.path), before);
    assert_eq!(slot_id(&outer, 0), None);
    assert_eq!(run_xdp(&dir.progs("xdp_lookup"), 64), XDP_DROP);
    assert_eq!(
        slot_id(&dir.maps("chain"), 1),
        None,
        "chain[1] restored too"
    );

    // Another map before: that map after.
    let spare = new_array("spare", 4);
    let spare_id = spare.info().expect("map info").info.id;
    set_inner(&outer, 0, &spare);
    let out = load_cmd(&dir.path, &[VALS, "loader_reject/reject.o"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(snapshot(&dir.path), before);
    assert_eq!(slot_id(&outer, 0), Some(spare_id));
    assert_eq!(run_xdp(&dir.progs("xdp_lookup"), 64), XDP_PASS);
    let v = spare
        .lookup(&0u32.to_ne_bytes(), libbpf_rs::MapFlags::ANY)
        .unwrap()
        .unwrap();
    assert_eq!(v, 5u64.to_ne_bytes(), "xdp_lookup wrote into spare");

    // A load that succeeds replaces it with vals.o's inner_map.
    load_ok(&dir.path, &[VALS]);
    assert_eq!(slot_id(&outer, 0), Some(map_id(&dir.maps("inner_map"))));
}

/// `static` map definitions (libbpf refuses them) load: `static_hits`, static in both
/// statics/a.o and statics/b.o, is one shared, pinned map, within one load and across loads;
/// the objects keep their names (global-data maps `a.bss`, ... as when opened from the file).
#[test]
fn static_map_definitions_load_and_are_shared() {
    for_each_compiler(static_map_definitions_load_and_are_shared_body);
}

fn static_map_definitions_load_and_are_shared_body() {
    if !kernel_ready("static_map_definitions_load_and_are_shared") {
        return;
    }
    let run = |dir: &PinDir| {
        assert_eq!(run_xdp(&dir.progs("xdp_a"), 64), XDP_PASS);
        assert_eq!(run_xdp(&dir.progs("xdp_a"), 64), XDP_PASS);
        assert_eq!(run_xdp(&dir.progs("xdp_b"), 64), XDP_TX);
        // a.c adds 1 per run, b.c adds 10.
        assert_eq!(all_u64(&dir.maps("static_hits")), [12]);
        let results = all_u64(&dir.maps("results"));
        assert_eq!(results[0], 10 + 64, "a.c's own static pick()");
        assert_eq!(results[4], 20 + 64, "b.c's own static pick()");
        assert_eq!((results[1], results[5]), (0xA0, 0xB0), "own .rodata");
    };

    let dir = PinDir::new("statics-oneload");
    let report = load_ok(&dir.path, &["statics/a.o", "statics/b.o"]);
    let hits = report_map(&report, "static_hits");
    assert_eq!(hits["reused"], false);
    assert_eq!(hits["objects"].as_array().unwrap().len(), 2);
    assert_eq!(report["maps"].as_array().unwrap().len(), 2, "{report}");
    run(&dir);
    for (prog, obj) in [("xdp_a", "a"), ("xdp_b", "b")] {
        let names = prog_map_names(&dir.progs(prog));
        for sec in ["bss", "data", "rodata"] {
            assert!(names.contains(&format!("{obj}.{sec}")), "{prog}: {names:?}");
        }
        assert!(names.contains("static_hits"), "{prog}: {names:?}");
    }

    let dir = PinDir::new("statics-twoloads");
    let first = load_ok(&dir.path, &["statics/a.o"]);
    let second = load_ok(&dir.path, &["statics/b.o"]);
    let (a, b) = (
        report_map(&first, "static_hits"),
        report_map(&second, "static_hits"),
    );
    assert_eq!(a["id"], b["id"]);
    assert_eq!(b["reused"], true);
    run(&dir);
}

/// Static map definitions that clang reaches through the `.maps` section symbol plus an
/// offset (in code and in a `.values` initialiser), next to a global one, and a static
/// map-in-map initialised with a static inner map (tests/load_support/static_offsets.c).
#[test]
fn static_maps_at_any_offset_load() {
    for_each_compiler(static_maps_at_any_offset_load_body);
}

fn static_maps_at_any_offset_load_body() {
    if !kernel_ready("static_maps_at_any_offset_load") {
        return;
    }
    let obj = support_object("static_offsets.o");
    let obj = &*obj.to_string_lossy();
    let dir = PinDir::new("static-offsets");
    load_ok(&dir.path, &[obj]);
    assert_eq!(
        slot_id(&dir.maps("nest"), 1),
        Some(map_id(&dir.maps("second")))
    );
    assert_eq!(run_xdp(&dir.progs("xdp_offsets"), 64), XDP_PASS);
    assert_eq!(all_u64(&dir.maps("glob")), [1]);
    assert_eq!(all_u64(&dir.maps("first")), [2, 0]);
    assert_eq!(
        all_u64(&dir.maps("second")),
        [3 + 4, 0, 0],
        "direct and via nest[1]"
    );
}
