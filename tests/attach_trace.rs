//! Kernel tests of `bpfmerge load --attach` with a tracepoint program (bpf/attach_trace):
//! `sched_process_exec` counted for one command name only (written by the test into the
//! shared `want` map), while that command runs N times. The attaching `bpfmerge` process has
//! exited before any of it runs (the pinned link keeps the program attached); a reload
//! replaces the link (perf-event links cannot be updated) and the old one stops counting.
#![cfg(feature = "load")]

mod attach_support;
mod load_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use libbpf_rs::{MapCore, MapFlags, MapHandle};
use load_support::{all_u64, bpfmerge, fixture, kernel_ready, map_id, PinDir};

const RUNS: u64 = 5;

/// A symlink to /bin/true whose name (the comm of the process that runs it) is unique to
/// this test process; removed when dropped.
struct TrueCmd {
    dir: PathBuf,
    path: PathBuf,
    comm: String,
}

impl TrueCmd {
    fn new() -> TrueCmd {
        // comm holds 15 bytes: "bmtrue" and up to 9 digits of the pid.
        let comm = format!("bmtrue{}", std::process::id() % 1_000_000_000);
        let dir =
            std::env::temp_dir().join(format!("bpfmerge-attach-trace-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(&comm);
        std::os::unix::fs::symlink("/bin/true", &path).unwrap();
        TrueCmd { dir, path, comm }
    }

    /// Run it `n` times, each to completion.
    fn run(&self, n: u64) {
        for _ in 0..n {
            let st = Command::new(&self.path).status().unwrap();
            assert!(st.success());
        }
    }
}

impl Drop for TrueCmd {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn set_want(pin: &Path, comm: &str) {
    let mut value = [0u8; 16];
    value[..comm.len()].copy_from_slice(comm.as_bytes());
    MapHandle::from_pinned_path(pin)
        .unwrap()
        .update(&0u32.to_ne_bytes(), &value, MapFlags::ANY)
        .unwrap();
}

#[test]
fn tracepoint_counts_exactly_after_the_attaching_process_exited_and_after_reload() {
    if !kernel_ready(
        "tracepoint_counts_exactly_after_the_attaching_process_exited_and_after_reload",
    ) {
        return;
    }
    let dir = PinDir::new("trace");
    let cmd = TrueCmd::new();
    let first = attach_support::attach_ok(&dir.path, "attach_trace/exec_v1.o", &[]);
    let link = &first["links"][0];
    assert_eq!(link["action"], "created", "{first}");
    assert_eq!(link["link_type"], "perf_event");
    assert_eq!(link["target"], "tracepoint sched_process_exec");
    let hits = dir.maps("hits");
    // `want` is empty: nothing counted whatever runs.
    cmd.run(2);
    assert_eq!(all_u64(&hits), [0, 0, 0, 0]);

    // bpfmerge has exited; its pinned link still runs v1, which counts into hits[0] exactly
    // the RUNS execs of our command (one sched_process_exec each).
    set_want(&dir.maps("want"), &cmd.comm);
    cmd.run(RUNS);
    assert_eq!(all_u64(&hits), [RUNS, 0, 0, 0]);

    // Reload with v2: a new link replaces the old one (same pin); the maps and their contents
    // stay; from now on only v2 counts (hits[1]) — the old link was detached, or hits[0]
    // would grow too.
    let hits_id = map_id(&hits);
    let second = attach_support::attach_ok(&dir.path, "attach_trace/exec_v2.o", &[]);
    let link2 = &second["links"][0];
    assert_eq!(link2["action"], "replaced", "{second}");
    assert_ne!(link2["id"], link["id"]);
    assert_eq!(map_id(&hits), hits_id);
    let (pinned_link, pinned_prog) = attach_support::link_ids(&dir.path.join("links/on_exec"));
    assert_eq!(u64::from(pinned_link), link2["id"].as_u64().unwrap());
    assert_eq!(
        u64::from(pinned_prog),
        second["progs"][0]["id"].as_u64().unwrap()
    );
    cmd.run(RUNS);
    assert_eq!(all_u64(&hits), [RUNS, RUNS, 0, 0]);

    // status lists the link; unload detaches it: nothing counts any more.
    let status = bpfmerge(["status", "--json", "--pin-dir", dir.path.to_str().unwrap()]);
    let s: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(s["links"][0]["name"], "on_exec", "{s}");
    assert_eq!(s["links"][0]["id"], link2["id"]);
    assert_eq!(s["links"][0]["prog_id"], second["progs"][0]["id"]);
    let out = bpfmerge(["unload", "--pin-dir", dir.path.to_str().unwrap()]);
    assert!(out.status.success());
    let removed = String::from_utf8_lossy(&out.stdout);
    let link_line = removed.find("links/on_exec").expect("link pin removed");
    let prog_line = removed.find("progs/on_exec").expect("program pin removed");
    assert!(link_line < prog_line, "link pins go first:\n{removed}");
    cmd.run(RUNS);
    assert_eq!(all_u64(&hits), [RUNS, RUNS, 0, 0]);
}

/// fentry, lsm and kprobe sections are attached by libbpf's auto-attach (tracing links, a
/// perf-event link). Where the kernel refuses such programs or their attachment (no BTF
/// trampolines, BPF LSM not active, no kprobe events — the case of the CI kernel for all
/// three), `load --attach` fails naming the program and the kernel's reason, and leaves no pin
/// dir behind; where it allows them, the fentry and kprobe programs count exactly the
/// nanosleeps of this thread.
#[test]
fn fentry_lsm_and_kprobe_attach_or_are_refused_naming_the_program() {
    if !kernel_ready("fentry_lsm_and_kprobe_attach_or_are_refused_naming_the_program") {
        return;
    }
    let cases = [
        ("attach_trace/sleep.o", "on_sleep", "tracing"),
        ("attach_trace/lsm.o", "allow_open", "tracing"),
        ("attach_trace/ksleep.o", "on_ksleep", "perf_event"),
    ];
    for (obj, prog, link_type) in cases {
        let dir = PinDir::new("tracing");
        let out = bpfmerge([
            "load".as_ref(),
            fixture(obj).as_os_str(),
            "--pin-dir".as_ref(),
            dir.path.as_os_str(),
            "--attach".as_ref(),
            "--json".as_ref(),
        ]);
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            eprintln!("{obj}: refused by this kernel: {err}");
            assert_eq!(out.status.code(), Some(1));
            assert!(err.contains(&format!("program `{prog}`")), "{err}");
            assert!(
                err.contains("refused by the kernel") || err.contains("attaching to"),
                "{err}"
            );
            // The kernel's (or libbpf's) reason follows.
            assert!(err.contains("libbpf: "), "{err}");
            assert!(!dir.path.exists(), "{obj}: nothing pinned");
            continue;
        }
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["links"][0]["link_type"], link_type, "{report}");
        if prog == "allow_open" {
            continue;
        }
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() } as u32;
        MapHandle::from_pinned_path(dir.maps("want_tid"))
            .unwrap()
            .update(&0u32.to_ne_bytes(), &tid.to_ne_bytes(), MapFlags::ANY)
            .unwrap();
        for _ in 0..RUNS {
            std::thread::sleep(std::time::Duration::from_micros(10));
        }
        // One do_nanosleep per sleep of this thread.
        assert_eq!(all_u64(&dir.maps("sleeps")), [RUNS, 0, 0, 0], "{obj}");
    }
}

/// A program without a target (here an XDP program and no `--xdp`) fails `--attach` before
/// anything is attached or pinned — the tracepoint program of the other object is not
/// attached either; `--attach=available` attaches what it can and reports the rest.
#[test]
fn a_program_without_target_fails_everything_or_is_left_unattached_with_available() {
    if !kernel_ready(
        "a_program_without_target_fails_everything_or_is_left_unattached_with_available",
    ) {
        return;
    }
    let dir = PinDir::new("available");
    let args = |attach: &str| {
        vec![
            "load".into(),
            fixture("attach_trace/exec_v1.o").into_os_string(),
            fixture("attach_net/xdp_v1.o").into_os_string(),
            "--pin-dir".into(),
            dir.path.clone().into_os_string(),
            attach.into(),
            "--json".into(),
        ]
    };
    let out = bpfmerge(args("--attach"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("program `xdp_guard`") && err.contains("--xdp IFACE"),
        "{err}"
    );
    assert!(!dir.path.exists(), "nothing pinned, nothing attached");

    let out = bpfmerge(args("--attach=available"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let links = report["links"].as_array().unwrap();
    assert_eq!(links.len(), 1, "{report}");
    assert_eq!(links[0]["program"], "on_exec");
    assert_eq!(report["unattached"][0]["program"], "xdp_guard");
    assert!(report["unattached"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("--xdp"));
    // Both programs are pinned; only the tracepoint one has a link.
    assert!(dir.progs("xdp_guard").exists() && dir.progs("on_exec").exists());
    assert!(dir.path.join("links/on_exec").exists());
    assert!(!dir.path.join("links/xdp_guard").exists());
}
