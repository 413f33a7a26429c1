//! Helpers of the kernel load tests: takes fixture names and pin dirs, gives CLI runs of
//! `bpfmerge load/unload`, a self-removing unique pin dir, BPF_PROG_TEST_RUN on pinned programs,
//! pinned-map reads and writes, and snapshots of a pin dir.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use libbpf_rs::{MapCore, MapFlags, MapHandle, ProgramHandle};

pub const XDP_ABORTED: u32 = 0;
pub const XDP_DROP: u32 = 1;
pub const XDP_PASS: u32 = 2;

#[path = "../common/compiler.rs"]
mod compiler;
#[allow(unused_imports)]
pub use compiler::{for_each_compiler, support_object, Compiler};

/// Absolute path of `fixtures/<rel>` ("scenario/file.o") of the current compiler (see
/// [`for_each_compiler`]); an absolute `rel` as it is.
pub fn fixture(rel: &str) -> PathBuf {
    if Path::new(rel).is_absolute() {
        return PathBuf::from(rel);
    }
    let stem = rel.strip_suffix(".o").unwrap_or(rel);
    compiler::fixture_path_cc(stem, false, compiler::compiler())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

fn bpffs_mounted() -> bool {
    std::fs::read_to_string("/proc/mounts")
        .map(|m| {
            m.lines().any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.get(1) == Some(&"/sys/fs/bpf") && f.get(2) == Some(&"bpf")
            })
        })
        .unwrap_or(false)
}

/// True when the kernel tests can run. Otherwise prints why and returns false, or panics when
/// `BPFMERGE_REQUIRE_KERNEL=1` (a skip is then a failure).
pub fn kernel_ready(test: &str) -> bool {
    let reason = if !is_root() {
        Some("not running as root")
    } else if !bpffs_mounted()
        && Command::new("mount")
            .args(["-t", "bpf", "bpf", "/sys/fs/bpf"])
            .status()
            .map(|s| !s.success())
            .unwrap_or(true)
    {
        Some("no bpffs at /sys/fs/bpf and it cannot be mounted")
    } else {
        None
    };
    match reason {
        None => true,
        Some(why) => {
            if std::env::var("BPFMERGE_REQUIRE_KERNEL").as_deref() == Ok("1") {
                panic!("{test}: kernel test cannot run ({why}) but BPFMERGE_REQUIRE_KERNEL=1");
            }
            eprintln!("SKIP {test}: {why}");
            false
        }
    }
}

/// A unique pin dir under /sys/fs/bpf, removed with everything in it when dropped (also when
/// the test fails).
pub struct PinDir {
    pub path: PathBuf,
}

static SEQ: AtomicU32 = AtomicU32::new(0);

impl PinDir {
    pub fn new(test: &str) -> PinDir {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let path = PathBuf::from(format!(
            "/sys/fs/bpf/bpfmerge-test-{test}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        PinDir { path }
    }

    pub fn maps(&self, name: &str) -> PathBuf {
        self.path.join("maps").join(name)
    }

    pub fn progs(&self, name: &str) -> PathBuf {
        self.path.join("progs").join(name)
    }
}

impl Drop for PinDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Run the real `bpfmerge` binary.
pub fn bpfmerge<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_bpfmerge"))
        .args(args)
        .output()
        .expect("run bpfmerge")
}

/// `bpfmerge load <objs> --pin-dir DIR --json`, which must succeed; its JSON report.
pub fn load_ok(dir: &Path, objs: &[&str]) -> serde_json::Value {
    let out = load_cmd(dir, objs);
    assert!(
        out.status.success(),
        "load {objs:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("load --json prints JSON")
}

/// `bpfmerge load <objs> --pin-dir DIR --json`, whatever its outcome.
pub fn load_cmd(dir: &Path, objs: &[&str]) -> Output {
    let mut args: Vec<std::ffi::OsString> = vec!["load".into()];
    args.extend(objs.iter().map(|o| fixture(o).into_os_string()));
    args.extend([
        "--pin-dir".into(),
        dir.as_os_str().to_owned(),
        "--json".into(),
    ]);
    bpfmerge(args)
}

/// The report entry of map `name`.
pub fn report_map<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["maps"]
        .as_array()
        .and_then(|maps| maps.iter().find(|m| m["name"] == name))
        .unwrap_or_else(|| panic!("map {name} not in report {report}"))
}

/// The report entry of program `name`.
pub fn report_prog<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["progs"]
        .as_array()
        .and_then(|progs| progs.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("program {name} not in report {report}"))
}

/// Run the program pinned at `pin` once with a zeroed packet of `len` bytes
/// (BPF_PROG_TEST_RUN); its return value.
pub fn run_xdp(pin: &Path, len: usize) -> u32 {
    let prog = ProgramHandle::from_pinned_path(pin)
        .unwrap_or_else(|e| panic!("open program {}: {e}", pin.display()));
    let data = vec![0u8; len];
    // SAFETY: an all-zero bpf_test_run_opts is its documented initial state (libbpf-rs does the
    // same); `data` outlives the call and its length is passed with it.
    let mut opts: libbpf_rs::libbpf_sys::bpf_test_run_opts = unsafe { std::mem::zeroed() };
    opts.sz = std::mem::size_of_val(&opts) as _;
    opts.data_in = data.as_ptr().cast();
    opts.data_size_in = data.len() as _;
    opts.repeat = 1;
    // SAFETY: the fd is valid while `prog` lives, `opts` is initialised above.
    let rc = unsafe {
        libbpf_rs::libbpf_sys::bpf_prog_test_run_opts(prog.as_fd().as_raw_fd(), &mut opts)
    };
    assert_eq!(
        rc,
        0,
        "test run of {}: {}",
        pin.display(),
        std::io::Error::last_os_error()
    );
    opts.retval
}

pub fn open_map(pin: &Path) -> MapHandle {
    MapHandle::from_pinned_path(pin).unwrap_or_else(|e| panic!("open map {}: {e}", pin.display()))
}

/// Value (u64) at `key` of the array pinned at `pin`.
pub fn read_u64(pin: &Path, key: u32) -> u64 {
    let map = open_map(pin);
    let v = map
        .lookup(&key.to_ne_bytes(), MapFlags::ANY)
        .expect("lookup")
        .expect("array slot exists");
    u64::from_ne_bytes(v.try_into().expect("8-byte value"))
}

pub fn write_u64(pin: &Path, key: u32, value: u64) {
    open_map(pin)
        .update(&key.to_ne_bytes(), &value.to_ne_bytes(), MapFlags::ANY)
        .expect("update");
}

/// All u64 values of the array pinned at `pin`.
pub fn all_u64(pin: &Path) -> Vec<u64> {
    let n = open_map(pin).max_entries();
    (0..n).map(|k| read_u64(pin, k)).collect()
}

/// Put the program pinned at `prog_pin` into slot `key` of the prog array pinned at `array_pin`.
pub fn set_tail_call(array_pin: &Path, key: u32, prog_pin: &Path) {
    let prog = ProgramHandle::from_pinned_path(prog_pin).expect("open program");
    let fd = prog.as_fd().as_raw_fd() as u32;
    open_map(array_pin)
        .update(&key.to_ne_bytes(), &fd.to_ne_bytes(), MapFlags::ANY)
        .expect("set prog array slot");
}

pub fn map_id(pin: &Path) -> u32 {
    open_map(pin).info().expect("map info").info.id
}

pub fn prog_id(pin: &Path) -> u32 {
    ProgramHandle::from_pinned_path(pin)
        .expect("open program")
        .id()
}

/// Every path under `dir` (files and directories), relative to `dir`.
pub fn tree(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            out.insert(p.strip_prefix(root).expect("under root").to_path_buf());
            if p.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// What a pin dir holds: each pin with the kernel id of the object pinned there.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, u32> {
    tree(dir)
        .into_iter()
        .filter(|rel| !dir.join(rel).is_dir())
        .map(|rel| {
            let p = dir.join(&rel);
            let id = if rel.starts_with("maps") {
                map_id(&p)
            } else {
                prog_id(&p)
            };
            (rel, id)
        })
        .collect()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Take the lock `bpfmerge load` takes on DIR (an exclusive flock on the directory); held until
/// the returned file is dropped.
pub fn hold_lock(dir: &Path) -> std::fs::File {
    let f = std::fs::File::open(dir).expect("open DIR");
    // SAFETY: flock on a valid fd; no memory is involved.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(rc, 0, "flock {}", dir.display());
    f
}

/// Id of the map (map-in-map) or program (prog array) in slot `key` of the map pinned at
/// `pin`; None when the slot is empty.
pub fn slot_id(pin: &Path, key: u32) -> Option<u32> {
    open_map(pin)
        .lookup(&key.to_ne_bytes(), MapFlags::ANY)
        .expect("lookup")
        .map(|v| u32::from_ne_bytes(v.try_into().expect("4-byte id")))
}

/// Put the map `inner` into slot `key` of the map-in-map pinned at `outer_pin`.
pub fn set_inner(outer_pin: &Path, key: u32, inner: &MapHandle) {
    let fd = inner.as_fd().as_raw_fd() as u32;
    open_map(outer_pin)
        .update(&key.to_ne_bytes(), &fd.to_ne_bytes(), MapFlags::ANY)
        .expect("set map-in-map slot");
}

/// A new ARRAY map (u32 -> u64) of `max_entries`, not pinned.
pub fn new_array(name: &str, max_entries: u32) -> MapHandle {
    let opts = libbpf_rs::libbpf_sys::bpf_map_create_opts {
        sz: std::mem::size_of::<libbpf_rs::libbpf_sys::bpf_map_create_opts>() as _,
        ..Default::default()
    };
    MapHandle::create(
        libbpf_rs::MapType::Array,
        Some(name),
        4,
        8,
        max_entries,
        &opts,
    )
    .unwrap_or_else(|e| panic!("creating map {name}: {e}"))
}

/// Names of the maps the program pinned at `pin` uses (global-data maps included).
pub fn prog_map_names(pin: &Path) -> BTreeSet<String> {
    let json = |args: &[&str]| -> serde_json::Value {
        let out = Command::new("bpftool")
            .args(args)
            .output()
            .expect("run bpftool");
        assert!(out.status.success(), "bpftool {args:?}: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).expect("bpftool -j prints JSON")
    };
    let prog = json(&["-j", "prog", "show", "pinned", &pin.to_string_lossy()]);
    prog["map_ids"]
        .as_array()
        .expect("map_ids")
        .iter()
        .map(|id| {
            let id = id.as_u64().expect("map id").to_string();
            json(&["-j", "map", "show", "id", &id])["name"]
                .as_str()
                .expect("map name")
                .to_string()
        })
        .collect()
}
