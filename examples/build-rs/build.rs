//! Compile every `bpf/*.bpf.c`, link the objects into one with bpfmerge (the `packets` map that
//! each file defines through `common.h` becomes one map), and generate the skeleton
//! `$OUT_DIR/app.skel.rs` from the merged object.

use std::path::PathBuf;
use std::process::Command;

use libbpf_cargo::SkeletonBuilder;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".into());
    println!("cargo:rerun-if-env-changed=CLANG");
    println!("cargo:rerun-if-changed=bpf");

    let mut sources: Vec<PathBuf> = std::fs::read_dir("bpf")
        .expect("bpf/")
        .map(|e| e.expect("bpf/ entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".bpf.c"))
        .collect();
    sources.sort();

    let mut linker = bpfmerge::Linker::new();
    for src in &sources {
        let stem = src
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".bpf.c", "");
        let obj = out.join(format!("{stem}.bpf.o"));
        let status = Command::new(&clang)
            .args(["-O2", "-g", "-target", "bpf", "-c"])
            .arg(src)
            .arg("-o")
            .arg(&obj)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {clang}: {e}"));
        assert!(status.success(), "{clang} failed on {}", src.display());
        linker = linker.file(obj);
    }

    // Same checks and errors as `bpfmerge link`; e.g. two files disagreeing on `packets`'
    // max_entries fail the build with a message naming the map, both files and both values.
    let merged = out.join("app.bpf.o");
    if let Err(e) = linker.write(&merged) {
        panic!("bpfmerge: {e}");
    }

    SkeletonBuilder::new()
        .obj(&merged)
        .generate(out.join("app.skel.rs"))
        .expect("generating the skeleton");
}
