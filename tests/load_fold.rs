//! Kernel tests of `bpfmerge load` folding identical same-named programs of several objects
//! (docs/load.md, "Identical programs fold"): bpf/fold_sample's two tools both carry sample.h's
//! tracepoint programs, as xdp-tools' tools carry xdp_sample.bpf.c's. One `load` of both pins
//! each program once, and the pinned programs behave as the fold_sample scenario says; a pair
//! whose same-named programs differ is refused and pins nothing. Both compilers' fixtures.
#![cfg(feature = "load")]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use common::scenarios::FOLD_SAMPLE;
use common::{
    assert_expected, bpfmerge, execute_on, fixture, for_each_compiler, kernel_ready, Pinned,
    TempDir, BPFFS,
};

/// `bpfmerge load A B --pin-dir DIR EXTRA...`.
fn load_two(dir: &Path, a: &Path, b: &Path, extra: &[&str]) -> common::CmdOutput {
    let mut args = vec![
        OsStr::new("load"),
        a.as_os_str(),
        b.as_os_str(),
        OsStr::new("--pin-dir"),
        dir.as_os_str(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    bpfmerge(&args)
}

/// `unload --maps` of `dir`: every pin the test made goes.
fn unload_all(dir: &Path) {
    let u = bpfmerge(&[
        OsStr::new("unload"),
        OsStr::new("--maps"),
        OsStr::new("--pin-dir"),
        dir.as_os_str(),
    ]);
    assert_eq!(u.code, Some(0), "{}", u.stderr);
}

/// Every file under `dir` (pins), recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `load basic.o cpumap.o`: tp_xdp_exception and tp_xdp_redirect are defined by both and
/// identical, so they fold into basic.o's (reported, pinned once); the scenario's runs on the
/// pins give the scenario's hand-derived values (sample_stats = [5, 1, 1, 1], see FOLD_SAMPLE
/// in tests/common/scenarios.rs).
#[test]
fn identical_programs_of_two_objects_fold_and_run() {
    for_each_compiler(identical_programs_of_two_objects_fold_and_run_body);
}

fn identical_programs_of_two_objects_fold_and_run_body() {
    if !kernel_ready("identical_programs_of_two_objects_fold_and_run") {
        return;
    }
    let (basic, cpumap) = (fixture("fold_sample/basic"), fixture("fold_sample/cpumap"));
    let pinned = Pinned::load(&[basic.clone(), cpumap.clone()], "loadfold").expect("load");
    // Each program once in `progs`, the sample programs from basic.o (the first object).
    pinned.check_names(&FOLD_SAMPLE).expect("names");
    let progs = pinned.report["progs"].as_array().expect("progs");
    for p in progs {
        let want = if p["name"] == "xdp_cpumap" {
            &cpumap
        } else {
            &basic
        };
        assert_eq!(p["object"], want.display().to_string(), "{p}");
    }
    let folded = pinned.report["folded"].as_array().expect("folded");
    let names: Vec<&str> = folded.iter().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(names, ["tp_xdp_exception", "tp_xdp_redirect"], "{folded:?}");
    for f in folded {
        assert_eq!(f["object"], cpumap.display().to_string(), "{f}");
        assert_eq!(f["kept"], basic.display().to_string(), "{f}");
    }
    // Four program pins (no second pin, no leftover temporary), one map pin.
    let mut pins: Vec<String> = files_under(pinned.dir())
        .iter()
        .filter_map(|p| p.strip_prefix(pinned.dir()).ok())
        .map(|p| p.display().to_string())
        .collect();
    pins.sort();
    assert_eq!(
        pins,
        [
            "maps/sample_stats",
            "progs/tp_xdp_exception",
            "progs/tp_xdp_redirect",
            "progs/xdp_basic",
            "progs/xdp_cpumap",
        ]
    );
    let obs = execute_on(&pinned, &FOLD_SAMPLE);
    assert_expected(&FOLD_SAMPLE, &obs, "load with folded programs");
    pinned.unload().expect("unload");
}

/// The text report says which program folded into which.
#[test]
fn text_report_names_each_fold() {
    if !kernel_ready("text_report_names_each_fold") {
        return;
    }
    let dir = TempDir::under(Path::new(BPFFS), "loadfold-text");
    let (basic, cpumap) = (fixture("fold_sample/basic"), fixture("fold_sample/cpumap"));
    let r = load_two(dir.path(), &basic, &cpumap, &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    for p in ["tp_xdp_exception", "tp_xdp_redirect"] {
        let line = format!(
            "{} is identical to {}'s: not pinned",
            cpumap.display(),
            basic.display()
        );
        assert!(
            r.stdout
                .lines()
                .any(|l| l.starts_with(&format!("fold {p} ")) && l.ends_with(&line)),
            "{}",
            r.stdout
        );
    }
    unload_all(dir.path());
}

/// fold_differ/sample_fmt.c compiles sample.h with another format string of the same length:
/// tp_xdp_exception has the same instructions in both objects, but its format load reaches
/// `.rodata` bytes that differ. `load` refuses the pair naming that relocation and both
/// strings, exits 1, and pins nothing (not even the maps or the other programs).
#[test]
fn differing_programs_of_one_name_are_refused_and_pin_nothing() {
    for_each_compiler(differing_programs_of_one_name_are_refused_and_pin_nothing_body);
}

fn differing_programs_of_one_name_are_refused_and_pin_nothing_body() {
    if !kernel_ready("differing_programs_of_one_name_are_refused_and_pin_nothing") {
        return;
    }
    let dir = TempDir::under(Path::new(BPFFS), "loadfold-differ");
    let (basic, fmt) = (
        fixture("fold_sample/basic"),
        fixture("fold_differ/sample_fmt"),
    );
    let r = load_two(dir.path(), &basic, &fmt, &[]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let head = format!(
        "program `tp_xdp_exception` is defined in both {} and {}, and the definitions differ: \
         relocation at instruction ",
        basic.display(),
        fmt.display()
    );
    assert!(r.stderr.contains(&head), "{}", r.stderr);
    assert!(
        r.stderr
            .contains(r#"refers to read-only .rodata data "xdp_exception: err %llu\n\0" of "#)
            && r.stderr
                .contains(r#"vs read-only .rodata data "xdp_exception: ERR %llu\n\0" of "#),
        "{}",
        r.stderr
    );
    assert_eq!(files_under(dir.path()), Vec::<PathBuf>::new());
}

/// With `--attach`, each folded program is attached once: one link per name, running the
/// pinned (first object's) copy; the later copies are neither pinned nor attached.
#[test]
fn attach_attaches_each_folded_program_once() {
    if !kernel_ready("attach_attaches_each_folded_program_once") {
        return;
    }
    let dir = TempDir::under(Path::new(BPFFS), "loadfold-attach");
    let (basic, cpumap) = (fixture("fold_sample/basic"), fixture("fold_sample/cpumap"));
    let r = load_two(
        dir.path(),
        &basic,
        &cpumap,
        &["--attach=available", "--json"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let links = v["links"].as_array().expect("links");
    // sample.h's two raw tracepoint programs attach; the XDP programs need --xdp.
    let names: Vec<&str> = links.iter().filter_map(|l| l["program"].as_str()).collect();
    assert_eq!(names, ["tp_xdp_exception", "tp_xdp_redirect"], "{v}");
    for l in links {
        let prog = v["progs"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == l["program"]))
            .expect("the link's program is reported");
        assert_eq!(l["prog_id"], prog["id"], "{l}");
        assert_eq!(prog["object"], basic.display().to_string());
    }
    unload_all(dir.path());
}
