//! Real-world-shaped sources (`tests/realworld/`, modelled on libbpf-tools and xdp-tools:
//! CO-RE reads against a `vmlinux.h` dumped from the running kernel, tp_btf, raw tracepoints,
//! a ring buffer, kfuncs, `__kconfig` externs, `.rodata` knobs, `.bss` and a named `.data`
//! section, global subprograms called across files, a `bpf_loop` callback, a DECL_TAG on a
//! global subprogram's argument, per-CPU XDP stats shared by two files) are compiled here by
//! clang 14 and clang 19, linked by bpfmerge, loaded through libbpf-rs and run; and, with clang
//! 19 only, two files of BPF arena globals (`.addr_space.1`).
//!
//! Needs the kernel (root, bpffs), bpftool (for `vmlinux.h`) and each compiler; a missing tool
//! skips with a note, which is a failure under `CI=true` or `BPFMERGE_REQUIRE_KERNEL=1`.
//! fentry programs are not used: this kernel refuses them (EPERM) even unlinked.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{find_map, find_prog, load, run_packet, test_run, Compiler, RunInput, TempDir};
use libbpf_rs::{MapCore, MapFlags, ProgramHandle};

/// The tool's sources, linked into one object.
const TOOL: &[&str] = &["events", "stats", "xdp_a", "xdp_b"];
/// Arena globals (`.addr_space.1`), linked into another object: clang 19 only, since clang 14
/// has no BPF address spaces (it puts `__arena` globals in plain .data/.bss).
const ARENA: &[&str] = &["arena_a", "arena_b"];

fn required() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
        || std::env::var("BPFMERGE_REQUIRE_KERNEL").as_deref() == Ok("1")
}

/// Skip (return false) with a note, or fail when the tools are required.
fn have(ok: bool, what: &str) -> bool {
    assert!(
        ok || !required(),
        "{what} (required under CI / BPFMERGE_REQUIRE_KERNEL=1)"
    );
    if !ok {
        eprintln!("SKIP realworld: {what}");
    }
    ok
}

fn binary(cc: Compiler) -> &'static str {
    match cc {
        Compiler::Clang14 => "clang-14",
        Compiler::Clang19 => "clang-19",
    }
}

/// `vmlinux.h` of the running kernel, written into `dir`.
fn vmlinux_h(dir: &TempDir) -> Option<PathBuf> {
    let out = Command::new("bpftool")
        .args([
            "btf",
            "dump",
            "file",
            "/sys/kernel/btf/vmlinux",
            "format",
            "c",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let path = dir.join("vmlinux.h");
    std::fs::write(&path, out.stdout).ok()?;
    Some(path)
}

/// Compile `sources` with `cc`, link them with bpfmerge; the merged object.
fn build(cc: Compiler, sources: &[&str], include: &Path, dir: &TempDir) -> PathBuf {
    let src = common::repo_dir().join("tests/realworld");
    let mut objs = Vec::new();
    for s in sources {
        let obj = dir.join(&format!("{}-{s}.o", cc.id()));
        let out = Command::new(binary(cc))
            .current_dir(&src)
            .args(["-O2", "-g", "-target", "bpf", "-c"])
            .arg(format!("{s}.bpf.c"))
            .arg("-I")
            .arg(include)
            .arg("-o")
            .arg(&obj)
            .output()
            .expect("run the compiler");
        assert!(
            out.status.success(),
            "{} {s}.bpf.c:\n{}",
            cc.name(),
            String::from_utf8_lossy(&out.stderr)
        );
        objs.push(obj);
    }
    let merged = dir.join(&format!("{}-{}-merged.o", cc.id(), sources[0]));
    let mut args: Vec<&std::ffi::OsStr> = objs.iter().map(|p| p.as_os_str()).collect();
    args.extend(["-o".as_ref(), merged.as_os_str()]);
    let r = common::bpfmerge(&args);
    assert_eq!(r.code, Some(0), "{}: link failed:\n{}", cc.name(), r.stderr);
    merged
}

/// The u64 at offset 0 of the value of the one-entry internal map whose name ends in `suffix`.
fn global_u64(objs: &[libbpf_rs::Object], suffix: &str) -> u64 {
    let map = objs
        .iter()
        .flat_map(|o| o.maps())
        .find(|m| m.name().to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| panic!("no internal map *{suffix}"));
    let v = map
        .lookup(&0u32.to_ne_bytes(), MapFlags::ANY)
        .expect("lookup")
        .expect("the global data map has key 0");
    u64::from_ne_bytes(v[..8].try_into().expect("8 bytes"))
}

fn count(objs: &[libbpf_rs::Object], kind: u32) -> Option<u64> {
    let v = find_map(objs, "counts")
        .lookup(&kind.to_ne_bytes(), MapFlags::ANY)
        .expect("lookup")?;
    Some(u64::from_ne_bytes(v[..8].try_into().expect("8 bytes")))
}

/// Sum over CPUs of (rx_packets, rx_bytes) of xdp_stats_map[action].
fn xdp_stats(objs: &[libbpf_rs::Object], action: u32) -> (u64, u64) {
    let per_cpu = find_map(objs, "xdp_stats_map")
        .lookup_percpu(&action.to_ne_bytes(), MapFlags::ANY)
        .expect("lookup")
        .expect("an array slot");
    per_cpu.iter().fold((0, 0), |(p, b), v| {
        (
            p + u64::from_ne_bytes(v[..8].try_into().unwrap()),
            b + u64::from_ne_bytes(v[8..16].try_into().unwrap()),
        )
    })
}

fn raw_tp(objs: &[libbpf_rs::Object], prog: &str, args: &'static [u64]) -> u32 {
    let p = find_prog(objs, prog);
    let handle = ProgramHandle::try_from(&p).expect("program handle");
    test_run(&handle, &RunInput::RawTp(args))
}

/// Program runs and their effects, as the C sources in tests/realworld/ say.
fn check_behaviour(cc: Compiler, objs: &[libbpf_rs::Object]) {
    let name = cc.name();
    // xdp_b.bpf.c's programs record XDP_DROP (1) and XDP_TX (3); xdp_a.bpf.c's records
    // cfg.action, XDP_PASS (2) in .rodata. Each: one 64-byte packet, cfg.mult 1.
    assert_eq!(run_packet(&find_prog(objs, "xdp_drop_func")), 1, "{name}");
    assert_eq!(run_packet(&find_prog(objs, "xdp_tx_func")), 3, "{name}");
    assert_eq!(run_packet(&find_prog(objs, "xdp_cfg_func")), 2, "{name}");
    for action in [1, 2, 3] {
        assert_eq!(xdp_stats(objs, action), (1, 64), "{name}: stats[{action}]");
    }
    assert_eq!(xdp_stats(objs, 0), (0, 0), "{name}: stats[0]");

    // test_rename(5): total_events += 5; count_event(KIND_TEST = 3, 6): 6 rounds of
    // loop_weight 3 = 18; the first update returns 0.
    assert_eq!(raw_tp(objs, "test_rename", &[5]), 0, "{name}");
    assert_eq!(count(objs, 3), Some(18), "{name}: counts[KIND_TEST]");
    // handle_sys_enter(args[1] = 13): total_events += 1; count_event(KIND_SYSCALL = 2,
    // 13 & 7 = 5): 15; returns (0 < 0) = 0.
    assert_eq!(raw_tp(objs, "handle_sys_enter", &[0, 13]), 0, "{name}");
    assert_eq!(count(objs, 2), Some(15), "{name}: counts[KIND_SYSCALL]");
    assert_eq!(global_u64(objs, ".bss"), 5 + 1, "{name}: total_events");
    assert_eq!(global_u64(objs, ".data.loops"), 7 + 2, "{name}: loops_done");
}

/// handle_exec, attached, sees an exec of ours: the event names the child's pid, our pid as
/// its parent (the CO-RE reads in task_ppid), and counts[KIND_EXEC] grows by loop_weight 3.
fn check_exec_event(cc: Compiler, objs: &[libbpf_rs::Object]) {
    let name = cc.name();
    let _link = find_prog(objs, "handle_exec")
        .attach()
        .unwrap_or_else(|e| panic!("{name}: attach handle_exec: {e:#}"));
    let child = Command::new("true").spawn().expect("spawn true");
    let child_pid = child.id();
    let mut child = child;
    child.wait().expect("wait for true");

    let events = find_map(objs, "events");
    let mut seen: Vec<(u32, u32, u32, String)> = Vec::new();
    let mut rb = libbpf_rs::RingBufferBuilder::new();
    rb.add(&events, |data: &[u8]| {
        let u32_at = |o: usize| u32::from_ne_bytes(data[o..o + 4].try_into().unwrap());
        let comm = &data[20..36];
        let end = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
        seen.push((
            u32_at(0),
            u32_at(4),
            u32_at(16),
            String::from_utf8_lossy(&comm[..end]).into_owned(),
        ));
        0
    })
    .expect("ring buffer");
    let rb = rb.build().expect("ring buffer");
    rb.consume().expect("consume");
    drop(rb);
    let ours = seen.iter().find(|e| e.0 == child_pid);
    assert_eq!(
        ours.map(|e| (e.1, e.2, e.3.as_str())),
        Some((std::process::id(), 1, "true")),
        "{name}: the exec event of pid {child_pid} (all events: {seen:?})"
    );
    assert!(
        count(objs, 1).is_some_and(|n| n >= 3 && n % 3 == 0),
        "{name}: counts[KIND_EXEC] = {:?}",
        count(objs, 1)
    );
}

#[test]
fn realworld_sources_link_load_and_run_on_both_compilers() {
    let test = "realworld_sources_link_load_and_run_on_both_compilers";
    require_kernel!(test);
    let dir = TempDir::new("realworld");
    let Some(vmlinux) = vmlinux_h(&dir) else {
        have(false, "bpftool cannot dump /sys/kernel/btf/vmlinux");
        return;
    };
    let include = vmlinux.parent().expect("a directory").to_path_buf();
    for cc in common::compilers() {
        let present = Command::new(binary(cc)).arg("--version").output().is_ok();
        if !have(present, &format!("{} not found", binary(cc))) {
            continue;
        }
        let merged = build(cc, TOOL, &include, &dir);
        let objs = [load(&merged)];
        check_behaviour(cc, &objs);
        check_exec_event(cc, &objs);
        if cc == Compiler::Clang19 {
            let objs = [load(&build(cc, ARENA, &include, &dir))];
            // arena_a: arena_counter 0 -> 1, returns arena_arr[1] 20 + 1. arena_b then returns
            // b_val 5 + b_more[1] 7 + 1000 * 1: its globals are found after arena_a's.
            assert_eq!(
                run_packet(&find_prog(&objs, "xdp_arena_a")),
                21,
                "clang 19 arena"
            );
            assert_eq!(
                run_packet(&find_prog(&objs, "xdp_arena_b")),
                1012,
                "clang 19 arena"
            );
        }
    }
}
