//! Helpers shared by the integration tests: running bpfmerge (or, for comparison, libbpf's
//! linker), temporary and bpffs directories cleaned up on drop, the kernel gate, loading an
//! object through libbpf-rs, running programs with BPF_PROG_TEST_RUN and reading maps.
//!
//! A scenario's program runs and the map values to read are data ([`scenarios::Scenario`]), so
//! any path that produces loaded objects (link then load, pinned run-time loading, libbpf's
//! linker) can run [`execute`] on them and compare the [`Observed`] results.
#![allow(dead_code)]

pub mod compiler;
pub mod dump;
pub mod scenarios;

use std::ffi::OsStr;
use std::fs;
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use libbpf_rs::{MapCore, MapFlags, MapHandle, MapType, Object, ObjectBuilder, ProgramHandle};

#[allow(unused_imports)]
pub use compiler::{
    compiler, compilers, fixture_path_cc, for_each_compiler, panic_message, support_object,
    with_compiler, Compiler,
};
pub use dump::{MapDump, Val};
pub use scenarios::{Expect, Frame, Probe, RunInput, Scenario, Setup};

// ---------------------------------------------------------------------------------------------
// Paths and commands
// ---------------------------------------------------------------------------------------------

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures_dir() -> PathBuf {
    repo_dir().join("fixtures")
}

/// `fixtures/<scenario>/<file>.o` for a stem "scenario/file", of the current [`compiler`]; the
/// `weak/` variant (shared maps declared `__weak`, for libbpf's linker) when `weak`.
pub fn fixture_path(stem: &str, weak: bool) -> PathBuf {
    fixture_path_cc(stem, weak, compiler())
}

/// The plain fixture (what bpfmerge links).
pub fn fixture(stem: &str) -> PathBuf {
    fixture_path(stem, false)
}

/// Exit code and output of a finished command.
#[derive(Debug)]
pub struct CmdOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CmdOutput {
    fn from(out: std::process::Output) -> Self {
        CmdOutput {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

pub fn run_cmd<S: AsRef<OsStr>>(program: impl AsRef<OsStr>, args: &[S]) -> CmdOutput {
    let program = program.as_ref();
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.to_string_lossy()));
    CmdOutput::from(out)
}

/// Run the bpfmerge binary built for these tests.
pub fn bpfmerge<S: AsRef<OsStr>>(args: &[S]) -> CmdOutput {
    run_cmd(env!("CARGO_BIN_EXE_bpfmerge"), args)
}

pub fn bpftool<S: AsRef<OsStr>>(args: &[S]) -> CmdOutput {
    run_cmd("bpftool", args)
}

// ---------------------------------------------------------------------------------------------
// Temporary directories
// ---------------------------------------------------------------------------------------------

static UNIQUE: AtomicUsize = AtomicUsize::new(0);

fn unique_name(tag: &str) -> String {
    let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
    let tag: String = tag
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("bpfmerge-test-{}-{n}-{tag}", std::process::id())
}

/// A fresh directory, removed with its contents on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        Self::under(&std::env::temp_dir(), tag)
    }

    /// A fresh directory under `parent` (for instance on bpffs, for pins).
    pub fn under(parent: &Path, tag: &str) -> Self {
        let p = parent.join(unique_name(tag));
        fs::create_dir_all(&p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Names of the entries in the directory, sorted.
    pub fn entries(&self) -> Vec<String> {
        list_dir(&self.0)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub fn list_dir(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------
// Kernel gate
// ---------------------------------------------------------------------------------------------

pub const BPFFS: &str = "/sys/fs/bpf";

/// Why kernel tests cannot run here, or None when they can (root and bpffs at /sys/fs/bpf).
pub fn kernel_unavailable() -> Option<String> {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .map(str::to_owned);
    if euid.as_deref() != Some("0") {
        return Some(format!(
            "not root (effective uid {})",
            euid.as_deref().unwrap_or("unknown")
        ));
    }
    let mounts = fs::read_to_string("/proc/mounts").unwrap_or_default();
    let bpffs = mounts.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 2 && f[1] == BPFFS && f[2] == "bpf"
    });
    if !bpffs {
        return Some(format!("no bpffs mounted at {BPFFS}"));
    }
    None
}

/// True when the kernel tests can run. Otherwise prints why and returns false, or panics when
/// `BPFMERGE_REQUIRE_KERNEL=1` (CI), where a skipped kernel test is a failure.
pub fn kernel_ready(test: &str) -> bool {
    match kernel_unavailable() {
        None => true,
        Some(reason) => {
            if std::env::var("BPFMERGE_REQUIRE_KERNEL").as_deref() == Ok("1") {
                panic!("{test}: kernel test cannot run: {reason}, and BPFMERGE_REQUIRE_KERNEL=1");
            }
            eprintln!("SKIP {test}: {reason}");
            false
        }
    }
}

/// `require_kernel!("name")` returns from the test when the kernel tests cannot run here.
#[macro_export]
macro_rules! require_kernel {
    ($name:expr) => {
        if !$crate::common::kernel_ready($name) {
            return;
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Linking
// ---------------------------------------------------------------------------------------------

/// Which linker the link tests use. `BPFMERGE_TEST_LINKER=bpftool` (`bpftool gen object`) or
/// `=libbpf` (libbpf-rs's `Linker`, the vendored libbpf) link the `weak/` fixtures instead, to
/// check the tests and the BPF programs against libbpf's own linker. Default: bpfmerge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkerKind {
    Bpfmerge,
    Bpftool,
    Libbpf,
}

pub fn linker() -> LinkerKind {
    match std::env::var("BPFMERGE_TEST_LINKER").as_deref() {
        Err(_) | Ok("") | Ok("bpfmerge") => LinkerKind::Bpfmerge,
        Ok("bpftool") => LinkerKind::Bpftool,
        Ok("libbpf") => LinkerKind::Libbpf,
        Ok(other) => panic!("BPFMERGE_TEST_LINKER={other}: expected bpfmerge, bpftool or libbpf"),
    }
}

/// A link input: a fixture stem ("seed/entry"), resolved to the plain or weak object depending
/// on the linker, or a path (e.g. an earlier link's output).
#[derive(Clone, Debug)]
pub enum Input {
    Fixture(&'static str),
    Path(PathBuf),
}

impl Input {
    pub fn path_for(&self, kind: LinkerKind) -> PathBuf {
        match self {
            Input::Fixture(stem) => fixture_path(stem, kind != LinkerKind::Bpfmerge),
            Input::Path(p) => p.clone(),
        }
    }
}

pub fn fixture_inputs(stems: &[&'static str]) -> Vec<Input> {
    stems.iter().map(|s| Input::Fixture(s)).collect()
}

/// Link `inputs` into `out` with the selected linker; Err(message) when it fails.
pub fn try_link(inputs: &[Input], out: &Path) -> Result<(), String> {
    try_link_with(linker(), inputs, out)
}

/// Link `inputs` into `out` with linker `kind` (bpfmerge on the plain fixtures, libbpf's on the
/// `weak/` ones); Err(message) when it fails.
pub fn try_link_with(kind: LinkerKind, inputs: &[Input], out: &Path) -> Result<(), String> {
    let paths: Vec<PathBuf> = inputs.iter().map(|i| i.path_for(kind)).collect();
    match kind {
        LinkerKind::Bpfmerge => {
            let mut args: Vec<&OsStr> = paths.iter().map(|p| p.as_os_str()).collect();
            args.push(OsStr::new("-o"));
            args.push(out.as_os_str());
            let r = bpfmerge(&args);
            if r.code == Some(0) {
                Ok(())
            } else {
                Err(format!(
                    "bpfmerge {paths:?} exited with {:?}:\n{}",
                    r.code, r.stderr
                ))
            }
        }
        LinkerKind::Bpftool => {
            let mut args: Vec<&OsStr> =
                vec![OsStr::new("gen"), OsStr::new("object"), out.as_os_str()];
            args.extend(paths.iter().map(|p| p.as_os_str()));
            let r = bpftool(&args);
            if r.code == Some(0) {
                Ok(())
            } else {
                Err(format!(
                    "bpftool gen object {paths:?} exited with {:?}:\n{}",
                    r.code, r.stderr
                ))
            }
        }
        LinkerKind::Libbpf => {
            let link = || -> Result<(), String> {
                let mut l = libbpf_rs::Linker::new(out).map_err(|e| format!("{e:#}"))?;
                for p in &paths {
                    l.add_file(p)
                        .map_err(|e| format!("libbpf linker, adding {}: {e:#}", p.display()))?;
                }
                l.link()
                    .map_err(|e| format!("libbpf linker {paths:?}: {e:#}"))
            };
            // libbpf-rs 0.27 hands libbpf's negative error codes to a debug assertion that
            // wants them positive: in a test build a refusal is a panic, not an Err.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(link)).unwrap_or_else(|p| {
                Err(format!(
                    "libbpf linker {paths:?} refused the inputs (libbpf's reason is in its \
                     log; libbpf-rs panicked on the error code: {})",
                    panic_message(p.as_ref())
                ))
            })
        }
    }
}

/// Link or panic with the linker's message.
pub fn link(inputs: &[Input], out: &Path) {
    if let Err(e) = try_link(inputs, out) {
        panic!("link failed: {e}");
    }
    assert!(
        out.exists(),
        "the linker reported success but wrote no {}",
        out.display()
    );
}

// ---------------------------------------------------------------------------------------------
// Loading and running
// ---------------------------------------------------------------------------------------------

/// Open and load an object into the kernel (libbpf prints a verifier log to stderr on failure).
pub fn load(path: &Path) -> Object {
    let open = ObjectBuilder::default()
        .open_file(path)
        .unwrap_or_else(|e| panic!("libbpf cannot open {}: {e:#}", path.display()));
    open.load()
        .unwrap_or_else(|e| panic!("libbpf cannot load {}: {e:#}", path.display()))
}

pub fn find_prog<'a>(objs: &'a [Object], name: &str) -> libbpf_rs::ProgramMut<'a> {
    objs.iter()
        .flat_map(|o| o.progs_mut())
        .find(|p| p.name() == name)
        .unwrap_or_else(|| panic!("no program {name} in the loaded objects"))
}

pub fn find_map<'a>(objs: &'a [Object], name: &str) -> libbpf_rs::Map<'a> {
    objs.iter()
        .flat_map(|o| o.maps())
        .find(|m| m.name() == name)
        .unwrap_or_else(|| panic!("no map {name} in the loaded objects"))
}

/// Names of the programs of an object, sorted.
pub fn prog_names(obj: &Object) -> Vec<String> {
    let mut v: Vec<String> = obj
        .progs()
        .map(|p| p.name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Names of the `.maps` maps of an object (not the `.data`/`.rodata`/`.bss` maps libbpf makes
/// for global variables, whose names contain a dot), sorted, duplicates kept.
pub fn map_names(obj: &Object) -> Vec<String> {
    let mut v: Vec<String> = obj
        .maps()
        .map(|m| m.name().to_string_lossy().into_owned())
        .filter(|n| !n.contains('.'))
        .collect();
    v.sort();
    v
}

/// A 64-byte frame with the headers of `f` (see [`scenarios::Frame`]); programs see
/// `data_end - data == 64`.
pub fn frame(f: &Frame) -> [u8; 64] {
    let mut p = [0u8; 64];
    p[..6].copy_from_slice(&[0xff; 6]); // destination MAC
    p[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 1]); // source MAC
    p[12..14].copy_from_slice(&f.ethertype.to_be_bytes());
    if f.ethertype == scenarios::ETH_P_IP {
        p[14] = 0x45; // version 4, IHL 5
        p[16..18].copy_from_slice(&50u16.to_be_bytes()); // total length 64 - 14
        p[22] = 64; // TTL
        p[23] = f.proto;
        p[26..30].copy_from_slice(&f.saddr);
        p[30..34].copy_from_slice(&f.daddr);
    }
    p
}

/// A 64-byte Ethernet + IPv4 + UDP frame ([`scenarios::UDP_FRAME`]).
pub fn packet() -> [u8; 64] {
    frame(&scenarios::UDP_FRAME)
}

/// Run an XDP or tc program of a loaded object once on [`packet`]; its return value.
pub fn run_packet(prog: &libbpf_rs::ProgramMut<'_>) -> u32 {
    let handle = ProgramHandle::try_from(prog)
        .unwrap_or_else(|e| panic!("program {:?}: {e:#}", prog.name()));
    test_run(&handle, &RunInput::Packet)
}

/// Run a program once with BPF_PROG_TEST_RUN: XDP / tc programs on a packet, raw tracepoint
/// programs with `args` as their context (`ctx->args[i]`). Its return value.
pub fn test_run(prog: &ProgramHandle, input: &RunInput) -> u32 {
    let data = match input {
        RunInput::Packet => Some(packet()),
        RunInput::Frame(f) => Some(frame(f)),
        RunInput::RawTp(_) => None,
    };
    let mut ctx: Vec<u8> = match input {
        RunInput::RawTp(args) => args.iter().flat_map(|a| a.to_ne_bytes()).collect(),
        _ => Vec::new(),
    };
    // SAFETY: an all-zero bpf_test_run_opts is its documented initial state (libbpf-rs does the
    // same); the buffers outlive the call and their lengths are passed with them.
    let mut opts: libbpf_rs::libbpf_sys::bpf_test_run_opts = unsafe { std::mem::zeroed() };
    opts.sz = std::mem::size_of_val(&opts) as _;
    // repeat stays 0 (one run): raw tracepoint test runs refuse any other value.
    if let Some(d) = &data {
        opts.data_in = d.as_ptr().cast();
        opts.data_size_in = d.len() as _;
    }
    if !ctx.is_empty() {
        opts.ctx_in = ctx.as_mut_ptr().cast();
        opts.ctx_size_in = ctx.len() as _;
    }
    // SAFETY: the fd is valid while `prog` lives, `opts` is initialised above.
    let rc = unsafe {
        libbpf_rs::libbpf_sys::bpf_prog_test_run_opts(prog.as_fd().as_raw_fd(), &mut opts)
    };
    assert_eq!(
        rc,
        0,
        "test run of {:?}: {}",
        prog.name(),
        std::io::Error::last_os_error()
    );
    opts.retval
}

/// The id of the calling thread (`task->pid` in the kernel).
pub fn thread_id() -> u64 {
    let link = fs::read_link("/proc/thread-self").expect("readlink /proc/thread-self");
    link.file_name()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("unexpected /proc/thread-self -> {}", link.display()))
}

/// The running kernel's version as libbpf computes LINUX_KERNEL_VERSION from the release
/// string "a.b.c...": (a << 16) + (b << 8) + min(c, 255).
pub fn kernel_version() -> u64 {
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").expect("read osrelease");
    let nums: Vec<u64> = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .map(|s| s.parse().unwrap_or(0))
        .collect();
    let at = |i: usize| nums.get(i).copied().unwrap_or(0);
    (at(0) << 16) + (at(1) << 8) + at(2).min(255)
}

// ---------------------------------------------------------------------------------------------
// Loaded programs and maps, wherever they come from
// ---------------------------------------------------------------------------------------------

/// Programs and maps by name: objects loaded in this process, or pins of `bpfmerge load`.
pub trait Target {
    fn prog(&self, name: &str) -> ProgramHandle;
    fn map(&self, name: &str) -> MapHandle;
}

/// Objects loaded through libbpf-rs (one merged object, or several sharing maps).
impl Target for [Object] {
    fn prog(&self, name: &str) -> ProgramHandle {
        ProgramHandle::try_from(&find_prog(self, name))
            .unwrap_or_else(|e| panic!("program {name}: {e:#}"))
    }
    fn map(&self, name: &str) -> MapHandle {
        MapHandle::try_from(&find_map(self, name)).unwrap_or_else(|e| panic!("map {name}: {e:#}"))
    }
}

/// What `bpfmerge load --pin-dir DIR --json` loaded: programs at `DIR/progs/<name>`, maps at
/// `DIR/maps/<name>`. Dropping it runs `bpfmerge unload --pin-dir DIR --maps` (and removes DIR).
pub struct Pinned {
    dir: TempDir,
    /// The `--json` report.
    pub report: serde_json::Value,
}

impl Pinned {
    /// `bpfmerge load <objs> --pin-dir <fresh dir on bpffs> --json`; Err(its message) when it
    /// fails.
    pub fn load(objs: &[PathBuf], tag: &str) -> Result<Pinned, String> {
        let dir = TempDir::under(Path::new(BPFFS), tag);
        let mut args: Vec<&OsStr> = vec![OsStr::new("load")];
        args.extend(objs.iter().map(|p| p.as_os_str()));
        args.extend([
            OsStr::new("--pin-dir"),
            dir.path().as_os_str(),
            OsStr::new("--json"),
        ]);
        let r = bpfmerge(&args);
        if r.code != Some(0) {
            return Err(format!(
                "bpfmerge load exited with {:?}: {}",
                r.code,
                r.stderr.trim()
            ));
        }
        let report = serde_json::from_str(&r.stdout)
            .map_err(|e| format!("load --json printed no JSON ({e}): {}", r.stdout))?;
        Ok(Pinned { dir, report })
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Names of the report's maps or programs (`what` = "maps" / "progs"), sorted.
    pub fn names(&self, what: &str) -> Vec<String> {
        let mut v: Vec<String> = self.report[what]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|m| m["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// The report lists exactly the scenario's programs and maps (each map once).
    pub fn check_names(&self, sc: &Scenario) -> Result<(), String> {
        let sorted = |v: &[&str]| {
            let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
            v.sort();
            v
        };
        for (what, want) in [("progs", sorted(sc.progs)), ("maps", sorted(sc.maps))] {
            let got = self.names(what);
            if got != want {
                return Err(format!("load reported {what} {got:?}, expected {want:?}"));
            }
        }
        Ok(())
    }

    /// `bpfmerge unload --pin-dir DIR --maps`, which must leave nothing behind.
    pub fn unload(self) -> Result<(), String> {
        let r = bpfmerge(&[
            OsStr::new("unload"),
            OsStr::new("--pin-dir"),
            self.dir().as_os_str(),
            OsStr::new("--maps"),
        ]);
        if r.code != Some(0) {
            return Err(format!(
                "bpfmerge unload exited with {:?}: {}",
                r.code, r.stderr
            ));
        }
        if self.dir().exists() {
            return Err(format!("{} left after unload", self.dir().display()));
        }
        Ok(())
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        if self.dir().exists() {
            let _ = bpfmerge(&[
                OsStr::new("unload"),
                OsStr::new("--pin-dir"),
                self.dir().as_os_str(),
                OsStr::new("--maps"),
            ]);
        }
    }
}

impl Target for Pinned {
    fn prog(&self, name: &str) -> ProgramHandle {
        let p = self.dir().join("progs").join(name);
        ProgramHandle::from_pinned_path(&p)
            .unwrap_or_else(|e| panic!("program pinned at {}: {e:#}", p.display()))
    }
    fn map(&self, name: &str) -> MapHandle {
        let p = self.dir().join("maps").join(name);
        MapHandle::from_pinned_path(&p)
            .unwrap_or_else(|e| panic!("map pinned at {}: {e:#}", p.display()))
    }
}

// ---------------------------------------------------------------------------------------------
// Scenario execution
// ---------------------------------------------------------------------------------------------

/// What a probe saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    Absent,
    Value(u64),
    Records(Vec<u64>),
    /// The map value is not what the probe reads (e.g. not 8 bytes).
    Unreadable(String),
}

/// Everything a scenario run observed: each run's return values, the full contents of every
/// map of the scenario (see [`dump`]), and each check's probe read from those contents. Two
/// paths that behave the same give equal `Observed`s (thread ids aside, when they run on
/// different threads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub returns: Vec<(String, Vec<u32>)>,
    pub maps: Vec<(String, MapDump)>,
    pub probes: Vec<(String, Seen)>,
}

/// [`execute_on`] objects loaded in this process.
pub fn execute(objs: &[Object], sc: &Scenario) -> Observed {
    execute_on(objs, sc)
}

/// Apply the scenario's setup and runs to the loaded programs and maps, then read every map of
/// the scenario in full and the checks' probes from that.
pub fn execute_on(target: &(impl Target + ?Sized), sc: &Scenario) -> Observed {
    for s in sc.setup {
        match *s {
            Setup::ProgArray { map, key, prog } => {
                let p = target.prog(prog);
                let fd = p.as_fd().as_raw_fd() as u32;
                target
                    .map(map)
                    .update(&key.to_ne_bytes(), &fd.to_ne_bytes(), MapFlags::ANY)
                    .unwrap_or_else(|e| panic!("{map}[{key}] = {prog}: {e:#}"));
            }
            Setup::NewInnerArray {
                outer,
                slot,
                max_entries,
            } => {
                let opts = libbpf_rs::libbpf_sys::bpf_map_create_opts {
                    sz: std::mem::size_of::<libbpf_rs::libbpf_sys::bpf_map_create_opts>() as _,
                    ..Default::default()
                };
                let inner =
                    MapHandle::create(MapType::Array, Some("test_inner"), 4, 8, max_entries, &opts)
                        .unwrap_or_else(|e| panic!("creating an inner array map: {e:#}"));
                let fd = inner.as_fd().as_raw_fd() as u32;
                target
                    .map(outer)
                    .update(&slot.to_ne_bytes(), &fd.to_ne_bytes(), MapFlags::ANY)
                    .unwrap_or_else(|e| panic!("{outer}[{slot}] = new inner map: {e:#}"));
                // The outer map holds its own reference; our fd may close now.
            }
            Setup::Update { map, key, value } => target
                .map(map)
                .update(key, value, MapFlags::ANY)
                .unwrap_or_else(|e| panic!("{map}[{key:?}] = {value:?}: {e:#}")),
        }
    }
    let mut returns = Vec::new();
    for r in sc.runs {
        let prog = target.prog(r.prog);
        let rets: Vec<u32> = (0..r.times).map(|_| test_run(&prog, &r.input)).collect();
        returns.push((r.prog.to_string(), rets));
    }
    let maps: Vec<(String, MapDump)> = sc
        .maps
        .iter()
        .map(|m| (m.to_string(), dump::dump_map(&target.map(m))))
        .collect();
    let probes = sc
        .checks
        .iter()
        .map(|c| (c.probe.to_string(), probe(&maps, &c.probe)))
        .collect();
    Observed {
        returns,
        maps,
        probes,
    }
}

/// Read a probe from the full map contents.
pub fn probe(maps: &[(String, MapDump)], p: &Probe) -> Seen {
    let dump_of = |name: &str| -> &MapDump {
        maps.iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d)
            .unwrap_or_else(|| panic!("probe {p}: {name} is not a map of the scenario"))
    };
    let lane = |d: &MapDump, key: Vec<u8>, lane: usize| match d.entries.get(&key) {
        None => Seen::Absent,
        Some(v) => v
            .lane(lane)
            .map_or_else(|| Seen::Unreadable(v.to_string()), Seen::Value),
    };
    match *p {
        Probe::U64 { map, key } | Probe::PerCpuSum { map, key } => {
            lane(dump_of(map), key.to_ne_bytes().into(), 0)
        }
        Probe::Field {
            map, key, lane: l, ..
        } => lane(dump_of(map), key.bytes(), l),
        Probe::Ringbuf { map } => {
            let recs: Option<Vec<u64>> = dump_of(map)
                .records
                .iter()
                .map(|r| Some(u64::from_ne_bytes(r.as_slice().try_into().ok()?)))
                .collect();
            recs.map_or_else(
                || Seen::Unreadable(format!("records of {map} are not u64s")),
                Seen::Records,
            )
        }
        Probe::Inner { outer, slot, key } => {
            match dump_of(outer).entries.get(&slot.to_ne_bytes()[..]) {
                None => Seen::Absent,
                Some(Val::Map(_, inner)) => lane(inner, key.to_ne_bytes().into(), 0),
                Some(v) => Seen::Unreadable(v.to_string()),
            }
        }
    }
}

impl Expect {
    /// The value this expectation stands for, in this process and thread.
    pub fn resolve(&self) -> Seen {
        match *self {
            Expect::Value(v) => Seen::Value(v),
            Expect::Absent => Seen::Absent,
            Expect::Records(r) => Seen::Records(r.to_vec()),
            Expect::ProcessId => Seen::Value(std::process::id().into()),
            Expect::ThreadId => Seen::Value(thread_id()),
            Expect::KernelVersion => Seen::Value(kernel_version()),
        }
    }
}

/// Where `obs` is not what the scenario's C sources say (see the `why` of each run and check),
/// one line each.
pub fn unexpected(sc: &Scenario, obs: &Observed) -> Vec<String> {
    let mut errors = Vec::new();
    for (r, (_, rets)) in sc.runs.iter().zip(&obs.returns) {
        if rets.iter().any(|&x| x != r.ret) {
            errors.push(format!(
                "{} returned {rets:?}, expected {} each time: {}",
                r.prog, r.ret, r.why
            ));
        }
    }
    for (c, (name, seen)) in sc.checks.iter().zip(&obs.probes) {
        let want = c.expect.resolve();
        if *seen != want {
            errors.push(format!("{name} is {seen:?}, expected {want:?}: {}", c.why));
        }
    }
    errors
}

/// Assert that `obs` is what the scenario's C sources say.
pub fn assert_expected(sc: &Scenario, obs: &Observed, path: &str) {
    let errors = unexpected(sc, obs);
    assert!(
        errors.is_empty(),
        "scenario {} ({path}) misbehaves:\n  {}",
        sc.name,
        errors.join("\n  ")
    );
}

/// Load `obj_path`, check its programs and maps are the scenario's (each map once), run the
/// scenario and assert the expected results. Returns what was observed.
pub fn load_and_check(obj_path: &Path, sc: &Scenario, path: &str) -> Observed {
    let obj = load(obj_path);
    let mut progs: Vec<String> = sc.progs.iter().map(|s| s.to_string()).collect();
    progs.sort();
    assert_eq!(prog_names(&obj), progs, "{}: programs of {path}", sc.name);
    let mut maps: Vec<String> = sc.maps.iter().map(|s| s.to_string()).collect();
    maps.sort();
    assert_eq!(
        map_names(&obj),
        maps,
        "{}: maps of {path} (each exactly once)",
        sc.name
    );
    let objs = [obj];
    let obs = execute(&objs, sc);
    assert_expected(sc, &obs, path);
    obs
}

// ---------------------------------------------------------------------------------------------
// Independent ELF checks (goblin)
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
pub struct ElfSymbol {
    pub name: String,
    pub section: Option<String>,
    pub bind: u8,
    pub value: u64,
    pub size: u64,
}

#[derive(Debug)]
pub struct ElfSummary {
    pub machine: u16,
    pub e_type: u16,
    pub little_endian: bool,
    /// (name, size) of each section in order.
    pub sections: Vec<(String, u64)>,
    pub symbols: Vec<ElfSymbol>,
    /// Relocations of each section that has them: (target section name, [(offset, symbol name)]).
    pub relocs: Vec<(String, Vec<(u64, String)>)>,
}

impl ElfSummary {
    pub fn section_size(&self, name: &str) -> Option<u64> {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, s)| s)
    }

    pub fn relocs_of(&self, section: &str) -> &[(u64, String)] {
        self.relocs
            .iter()
            .find(|(s, _)| s == section)
            .map_or(&[], |(_, r)| r.as_slice())
    }

    pub fn symbols_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a ElfSymbol> + 'a {
        self.symbols.iter().filter(move |s| s.name == name)
    }
}

pub fn elf_summary(path: &Path) -> ElfSummary {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let elf = goblin::elf::Elf::parse(&bytes)
        .unwrap_or_else(|e| panic!("goblin cannot parse {}: {e}", path.display()));
    let sec_name = |i: usize| -> Option<String> {
        elf.section_headers
            .get(i)
            .and_then(|sh| elf.shdr_strtab.get_at(sh.sh_name))
            .map(str::to_owned)
    };
    let sections = elf
        .section_headers
        .iter()
        .map(|sh| {
            (
                elf.shdr_strtab.get_at(sh.sh_name).unwrap_or("").to_owned(),
                sh.sh_size,
            )
        })
        .collect();
    let symbols = elf
        .syms
        .iter()
        .map(|s| ElfSymbol {
            name: elf.strtab.get_at(s.st_name).unwrap_or("").to_owned(),
            section: if s.st_shndx == 0 {
                None
            } else {
                sec_name(s.st_shndx)
            },
            bind: s.st_bind(),
            value: s.st_value,
            size: s.st_size,
        })
        .collect();
    let relocs = elf
        .shdr_relocs
        .iter()
        .map(|(rel_idx, rs)| {
            let target = elf
                .section_headers
                .get(*rel_idx)
                .map_or(0, |sh| sh.sh_info as usize);
            let entries = rs
                .iter()
                .map(|r| {
                    let name = elf
                        .syms
                        .get(r.r_sym)
                        .and_then(|s| elf.strtab.get_at(s.st_name))
                        .unwrap_or("")
                        .to_owned();
                    (r.r_offset, name)
                })
                .collect();
            (sec_name(target).unwrap_or_default(), entries)
        })
        .collect();
    ElfSummary {
        relocs,
        machine: elf.header.e_machine,
        e_type: elf.header.e_type,
        little_endian: elf.little_endian,
        sections,
        symbols,
    }
}

/// What goblin, parsing `path` on its own, finds wrong with a relocatable BPF object (empty
/// when nothing): a header that is not ET_REL / EM_BPF, section contents outside the file,
/// symbols in no section or outside theirs, relocations outside their section or naming no
/// symbol, local symbols after the first global one (or `.symtab`'s sh_info not pointing at
/// that first global).
pub fn elf_problems(path: &Path) -> Vec<String> {
    use goblin::elf::section_header::{SHT_NOBITS, SHT_SYMTAB};
    use goblin::elf::sym::{STB_LOCAL, STT_SECTION};
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let elf = match goblin::elf::Elf::parse(&bytes) {
        Ok(elf) => elf,
        Err(e) => return vec![format!("goblin cannot parse it: {e}")],
    };
    let mut bad = Vec::new();
    if elf.header.e_type != goblin::elf::header::ET_REL
        || elf.header.e_machine != goblin::elf::header::EM_BPF
    {
        bad.push(format!(
            "e_type {} / e_machine {}: not a relocatable BPF object",
            elf.header.e_type, elf.header.e_machine
        ));
    }
    let shdrs = &elf.section_headers;
    let name = |i: usize| {
        shdrs
            .get(i)
            .and_then(|sh| elf.shdr_strtab.get_at(sh.sh_name))
            .unwrap_or("?")
            .to_owned()
    };
    for (i, sh) in shdrs.iter().enumerate() {
        if sh.sh_type != SHT_NOBITS && sh.sh_offset.saturating_add(sh.sh_size) > bytes.len() as u64
        {
            bad.push(format!("section {} ends past the end of the file", name(i)));
        }
        // The ELF rules: a mergeable section (clang's `.rodata.str1.1`) says its element size.
        if sh.sh_flags & u64::from(goblin::elf::section_header::SHF_MERGE) != 0
            && sh.sh_entsize == 0
        {
            bad.push(format!(
                "section {} is SHF_MERGE with sh_entsize 0",
                name(i)
            ));
        }
    }
    let syms: Vec<_> = elf.syms.iter().collect();
    for (i, s) in syms.iter().enumerate().skip(1) {
        let sname = elf.strtab.get_at(s.st_name).unwrap_or("?");
        let shndx = s.st_shndx;
        if shndx == 0 || shndx >= 0xff00 {
            continue; // undefined (extern) or absolute
        }
        match shdrs.get(shndx) {
            None => bad.push(format!(
                "symbol {i} ({sname}) in section {shndx}, which does not exist"
            )),
            Some(sh) if s.st_type() != STT_SECTION && s.st_value + s.st_size > sh.sh_size => bad
                .push(format!(
                    "symbol {sname} ({}+{}) extends past its section {} ({} bytes)",
                    s.st_value,
                    s.st_size,
                    name(shndx),
                    sh.sh_size
                )),
            Some(_) => {}
        }
    }
    if let Some(first_global) = syms.iter().position(|s| s.st_bind() != STB_LOCAL) {
        if let Some(late) = syms[first_global..]
            .iter()
            .position(|s| s.st_bind() == STB_LOCAL)
        {
            bad.push(format!(
                "local symbol {} comes after the first global one ({first_global})",
                first_global + late
            ));
        }
        let info = shdrs
            .iter()
            .find(|sh| sh.sh_type == SHT_SYMTAB)
            .map(|sh| sh.sh_info as usize);
        if info != Some(first_global) {
            bad.push(format!(
                ".symtab sh_info is {info:?}, the first global symbol is {first_global}"
            ));
        }
    }
    for (rel_idx, relocs) in &elf.shdr_relocs {
        let target = shdrs.get(*rel_idx).map_or(0, |sh| sh.sh_info as usize);
        let size = shdrs.get(target).map_or(0, |sh| sh.sh_size);
        for r in relocs.iter() {
            // The smallest relocated field of a BPF object is 4 bytes (R_BPF_64_ABS32 and the
            // immediate of an instruction); instructions are 8.
            if r.r_offset + 4 > size {
                bad.push(format!(
                    "relocation at {} of section {} ({size} bytes) lies outside it",
                    r.r_offset,
                    name(target)
                ));
            }
            if r.r_sym >= syms.len() {
                bad.push(format!(
                    "relocation at {} of section {} names symbol {}, which does not exist",
                    r.r_offset,
                    name(target),
                    r.r_sym
                ));
            }
        }
    }
    bad
}
