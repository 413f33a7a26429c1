//! Tests of the BTF module: helpers to read fixture sections and to compare BTF semantically
//! (names as text, not offsets); the tests themselves are in the submodules.

mod corrupt;
mod dedup;
mod ext;
mod intern;
mod kernel;
mod roundtrip;

use super::{Btf, BtfType, StrOff};
use object::{Object, ObjectSection};
use std::path::PathBuf;

pub(super) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every committed object the tests read: the seed fixtures and src/btf/testdata.
pub(super) fn all_objects() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for dir in ["fixtures/seed", "fixtures/seed/weak", "src/btf/testdata"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .expect("fixture dir")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "o"))
            .collect();
        files.sort();
        v.extend(files);
    }
    assert!(v.len() >= 7, "fixtures missing: {v:?}");
    v
}

/// The bytes of section `name` of object file `path` (None when absent).
pub(super) fn section(path: &std::path::Path, name: &str) -> Option<Vec<u8>> {
    let data = std::fs::read(path).expect("read fixture");
    let file = object::File::parse(&*data).expect("parse fixture");
    let s = file.section_by_name(name)?;
    Some(s.data().expect("section data").to_vec())
}

pub(super) fn obj(rel: &str) -> PathBuf {
    root().join(rel)
}

pub(super) fn btf_of(rel: &str) -> Vec<u8> {
    section(&obj(rel), ".BTF").expect(".BTF present")
}

/// A type as text with its strings resolved (so two containers can be compared).
pub(super) fn describe(btf: &Btf, t: &BtfType) -> String {
    let mut t = t.clone();
    let mut names = Vec::new();
    t.for_each_str_mut(|s| {
        names.push(btf.str(*s).to_string());
        *s = StrOff(0);
    });
    format!("{t:?} {names:?}")
}

/// Every type of `btf` described (index = id).
pub(super) fn describe_all(btf: &Btf) -> Vec<String> {
    btf.types().map(|t| describe(btf, t)).collect()
}

/// `bpftool btf dump file` of raw BTF bytes (None when bpftool is not installed).
pub(super) fn bpftool_dump(bytes: &[u8], tag: &str) -> Option<String> {
    let dir = std::env::temp_dir().join(format!("bpfmerge-btf-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(format!("{tag}.btf"));
    std::fs::write(&path, bytes).ok()?;
    let out = bpftool(&path)?;
    let _ = std::fs::remove_file(&path);
    Some(out)
}

/// `bpftool btf dump file PATH` (None when bpftool is not installed; panics when it fails).
pub(super) fn bpftool(path: &std::path::Path) -> Option<String> {
    let out = match std::process::Command::new("bpftool")
        .args(["btf", "dump", "file"])
        .arg(path)
        .output()
    {
        Ok(o) => o,
        Err(_) => {
            eprintln!("bpftool not found: skipping the bpftool comparison");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "bpftool rejected {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}
