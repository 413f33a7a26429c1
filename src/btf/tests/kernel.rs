//! The kernel and libbpf accept what this module encodes: objects whose `.BTF`/`.BTF.ext` are
//! replaced by our encoding (alone, and merged + deduplicated with another object's BTF) load
//! with `bpftool prog loadall` (libbpf: BTF sanitising, CO-RE, func/line info; kernel: BTF_LOAD,
//! BPF_PROG_LOAD with func_info/line_info). Skipped with a reason when not root or when
//! bpftool / llvm-objcopy / bpffs are missing; `BPFMERGE_REQUIRE_KERNEL=1` makes a skip fail.

use super::super::ext::BtfExt;
use super::super::{Redirect, TypeId};
use super::*;
use object::Endianness;
use std::path::{Path, PathBuf};
use std::process::Command;

fn skip(reason: &str) {
    assert!(
        std::env::var("BPFMERGE_REQUIRE_KERNEL").as_deref() != Ok("1"),
        "kernel test skipped: {reason}"
    );
    eprintln!("skipping kernel test: {reason}");
}

fn tool_ok(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Copy of `obj` with its `.BTF` / `.BTF.ext` replaced.
fn replace_btf(obj: &Path, dir: &Path, tag: &str, btf: &[u8], ext: &[u8]) -> PathBuf {
    let (b, e, out) = (
        dir.join(format!("{tag}.BTF")),
        dir.join(format!("{tag}.BTF.ext")),
        dir.join(format!("{tag}.o")),
    );
    std::fs::write(&b, btf).unwrap();
    std::fs::write(&e, ext).unwrap();
    let st = Command::new("llvm-objcopy")
        .arg(format!("--update-section=.BTF={}", b.display()))
        .arg(format!("--update-section=.BTF.ext={}", e.display()))
        .arg(obj)
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success(), "llvm-objcopy failed");
    out
}

/// `bpftool prog loadall`, then remove the pins. Panics with bpftool's output on failure.
fn load(obj: &Path, tag: &str) {
    let pin = PathBuf::from(format!(
        "/sys/fs/bpf/bpfmerge-btf-test-{}-{tag}",
        std::process::id()
    ));
    let out = Command::new("bpftool")
        .args(["-d", "prog", "loadall"])
        .arg(obj)
        .arg(&pin)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&pin);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{tag}: load failed:\n{log}");
    // libbpf would silently drop func/line info it rejects: make sure it kept them.
    assert!(
        !log.contains("BTF.ext") || !log.contains("fail"),
        "{tag}: {log}"
    );
}

#[test]
fn kernel_and_libbpf_accept_our_encoding() {
    if !Path::new("/sys/fs/bpf").is_dir() || std::fs::metadata("/sys/kernel/btf/vmlinux").is_err() {
        return skip("no bpffs or no kernel BTF");
    }
    if !tool_ok("bpftool") || !tool_ok("llvm-objcopy") {
        return skip("bpftool or llvm-objcopy not installed");
    }
    if Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout != b"0\n")
        .unwrap_or(true)
    {
        return skip("not root");
    }
    let dir = std::env::temp_dir().join(format!("bpfmerge-btf-kernel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Each object alone, both parts re-encoded (string table order differs from clang's).
    for rel in [
        "fixtures/seed/entry.o",
        "fixtures/seed/handler.o",
        "src/btf/testdata/core_kern.o",
    ] {
        let path = obj(rel);
        let raw = section(&path, ".BTF").unwrap();
        let raw_ext = section(&path, ".BTF.ext").unwrap();
        let mut btf = Btf::new();
        let app = btf.append(&raw).unwrap();
        let ext = BtfExt::parse(&raw_ext, &raw, app.base, &mut btf).unwrap();
        let tag = path.file_stem().unwrap().to_string_lossy().into_owned();
        let o = replace_btf(
            &path,
            &dir,
            &tag,
            &btf.encode(Endianness::Little),
            &ext.encode(Endianness::Little),
        );
        load(&o, &tag);
    }
    // Merged: entry.o carrying the deduplicated BTF of entry.o + handler.o + core_kern.o, with
    // the others' VARs redirected to entry's and their DATASECs removed, as the linker does.
    let entry = obj("fixtures/seed/entry.o");
    let mut btf = Btf::new();
    let mut exts = Vec::new();
    for rel in [
        "fixtures/seed/entry.o",
        "fixtures/seed/handler.o",
        "src/btf/testdata/core_kern.o",
    ] {
        let path = obj(rel);
        let raw = section(&path, ".BTF").unwrap();
        let app = btf.append(&raw).unwrap();
        let raw_ext = section(&path, ".BTF.ext").unwrap();
        exts.push(BtfExt::parse(&raw_ext, &raw, app.base, &mut btf).unwrap());
    }
    let eq = btf.equivalence();
    let kinds = |kind: &str, name: &str| -> Vec<TypeId> {
        (0..btf.len() as u32)
            .map(TypeId)
            .filter(|&i| {
                let t = btf.get(i).unwrap();
                t.kind_name() == kind && btf.str(t.name()) == name
            })
            .collect()
    };
    let mut redirects = Vec::new();
    for name in ["counters", "xdp_actions", "LICENSE"] {
        let v = kinds("VAR", name);
        for &other in &v[1..] {
            redirects.push((other, Redirect::To(v[0])));
        }
    }
    for name in [".maps", "license"] {
        for &other in &kinds("DATASEC", name)[1..] {
            redirects.push((other, Redirect::Remove));
        }
    }
    let n_before = btf.len();
    let remap = btf.compact(&eq, &redirects);
    assert!(btf.len() < n_before);
    let mut ext = exts.swap_remove(0);
    ext.remap_types(&remap);
    let o = replace_btf(
        &entry,
        &dir,
        "merged",
        &btf.encode(Endianness::Little),
        &ext.encode(Endianness::Little),
    );
    load(&o, "merged");
    if std::env::var_os("BPFMERGE_KEEP_TEST_FILES").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
