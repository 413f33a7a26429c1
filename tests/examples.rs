//! The examples in `examples/` work: the Makefile (clang, `bpfmerge link`, `bpftool gen
//! skeleton`, `bpfmerge check`) and the crate whose build.rs links with `bpfmerge::Linker` and
//! generates a libbpf-rs skeleton, whose own test loads it and runs both programs.
//! Skipped when clang, make or bpftool is missing, unless BPFMERGE_REQUIRE_KERNEL=1 (CI), where
//! a skip is a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{repo_dir, TempDir};

fn tool_present(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// True when every tool is installed; otherwise prints why and returns false, or panics under
/// BPFMERGE_REQUIRE_KERNEL=1.
fn tools_ready(test: &str, tools: &[(&str, &str)]) -> bool {
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".into());
    let missing: Vec<String> = tools
        .iter()
        .map(|&(t, a)| (if t == "clang" { clang.as_str() } else { t }, a))
        .filter(|&(t, a)| !tool_present(t, a))
        .map(|(t, _)| t.to_string())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let reason = format!("{} not installed", missing.join(", "));
    if std::env::var("BPFMERGE_REQUIRE_KERNEL").as_deref() == Ok("1") {
        panic!("{test}: {reason}, and BPFMERGE_REQUIRE_KERNEL=1");
    }
    eprintln!("SKIP {test}: {reason}");
    false
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn make(out_dir: &Path, target: &str) -> std::process::Output {
    let mut cmd = Command::new("make");
    cmd.arg("-C")
        .arg(repo_dir().join("examples/makefile"))
        .arg(format!("OUT={}", out_dir.display()))
        .arg(format!("BPFMERGE={}", env!("CARGO_BIN_EXE_bpfmerge")))
        .arg(target);
    if let Ok(clang) = std::env::var("CLANG") {
        cmd.arg(format!("CLANG={clang}"));
    }
    run(&mut cmd)
}

#[test]
fn makefile_example_links_and_generates_a_skeleton() {
    if !tools_ready(
        "makefile_example",
        &[
            ("clang", "--version"),
            ("make", "--version"),
            ("bpftool", "version"),
        ],
    ) {
        return;
    }
    let tmp = TempDir::new("makefile-example");
    let out = make(tmp.path(), "all");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // `link -v`: the merged map and the files it came from.
    assert!(
        stderr.contains("map packets (ARRAY (2)): merged 2 definitions"),
        "link -v output:\n{stderr}"
    );

    let skel = std::fs::read_to_string(tmp.join("app.skel.h")).expect("app.skel.h");
    assert_eq!(
        skel.matches("struct bpf_map *packets;").count(),
        1,
        "one `packets` map in the skeleton"
    );
    for prog in ["xdp_count", "xdp_filter"] {
        assert!(
            skel.contains(&format!("struct bpf_program *{prog};")),
            "{prog} in the skeleton"
        );
    }

    // The merged object holds one `packets` map and both programs.
    let inspect = common::bpfmerge(&[
        "inspect".as_ref(),
        "--json".as_ref(),
        tmp.join("app.bpf.o").as_os_str(),
    ]);
    assert_eq!(inspect.code, Some(0), "{}", inspect.stderr);
    let v: serde_json::Value = serde_json::from_str(&inspect.stdout).unwrap();
    let obj = &v["objects"][0];
    let maps: Vec<&str> = obj["maps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(maps, ["packets"]);
    assert_eq!(obj["programs"].as_array().unwrap().len(), 2);

    // `make check`: the dry run passes and writes nothing new.
    let before = tmp.entries();
    let out = make(tmp.path(), "check");
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok: the inputs link without conflict"));
    assert_eq!(tmp.entries(), before);
}

#[test]
fn build_rs_example_links_with_the_library_and_loads_its_skeleton() {
    if !tools_ready("build_rs_example", &[("clang", "--version")]) {
        return;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Its own target dir: the example's dependencies (vendored libbpf) are built once and kept
    // under target/, apart from this crate's (whose build lock `cargo test` holds).
    let target_dir: PathBuf = repo_dir().join("target/examples");
    let mut cmd = Command::new(cargo);
    cmd.arg("test")
        .arg("--manifest-path")
        .arg(repo_dir().join("examples/build-rs/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // Variables cargo sets for this test would otherwise leak into the nested build.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("CARGO_PKG_NAME");
    let out = run(&mut cmd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("test both_programs_share_one_map ... ok"),
        "the example's kernel test did not run:\n{stdout}"
    );
}
