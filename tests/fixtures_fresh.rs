//! The committed fixtures are what `scripts/build-fixtures.sh` makes from `bpf/` today.
//! Skipped (with a note, never a failure) when clang is not installed, or when it is not the
//! clang that built the fixtures (another version compiles to other bytes).

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixtures_dir, repo_dir, TempDir};

/// Relative paths of all regular files under `root`.
fn files_under(root: &Path) -> BTreeSet<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        for e in fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

/// The compiler named in a fixture's DWARF (first string of `.debug_str`, clang's producer).
fn fixture_producer(obj: &Path) -> String {
    let bytes = fs::read(obj).unwrap();
    let elf = goblin::elf::Elf::parse(&bytes).expect("fixture parses");
    let sh = elf
        .section_headers
        .iter()
        .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(".debug_str"))
        .expect("fixture has .debug_str");
    let data = &bytes[sh.sh_offset as usize..(sh.sh_offset + sh.sh_size) as usize];
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    String::from_utf8_lossy(&data[..end]).into_owned()
}

#[test]
fn fixtures_match_sources() {
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".into());
    let version = match Command::new(&clang).arg("--version").output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        _ => {
            eprintln!("SKIP fixtures_match_sources: {clang} not found, the fixtures are not checked against bpf/");
            return;
        }
    };
    let version = version.lines().next().unwrap_or("").trim().to_string();
    let producer = fixture_producer(&fixtures_dir().join("seed/entry.o"));
    if !version.starts_with(&producer) {
        eprintln!(
            "SKIP fixtures_match_sources: the fixtures were built by {producer:?}, this is {version:?}; \
             its output would differ anyway"
        );
        return;
    }

    let tmp = TempDir::new("fixtures_fresh");
    let out = Command::new("bash")
        .arg(repo_dir().join("scripts/build-fixtures.sh"))
        .arg(tmp.path())
        .env("CLANG", &clang)
        .output()
        .expect("run scripts/build-fixtures.sh");
    assert!(
        out.status.success(),
        "scripts/build-fixtures.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let built = files_under(tmp.path());
    assert!(!built.is_empty(), "the script built nothing");
    let mut problems = Vec::new();
    for rel in &built {
        match fs::read(fixtures_dir().join(rel)) {
            Err(_) => problems.push(format!("{} is not committed", rel.display())),
            Ok(committed) => {
                if committed != fs::read(tmp.path().join(rel)).unwrap() {
                    problems.push(format!("{} differs from a fresh build", rel.display()));
                }
            }
        }
    }
    // Stale fixtures: committed objects of a scenario that the script no longer builds. Folders
    // without sources in bpf/ (fixtures/bad) are not the script's.
    for rel in files_under(&fixtures_dir()) {
        let scenario = rel.components().next().unwrap().as_os_str().to_owned();
        if repo_dir().join("bpf").join(&scenario).is_dir() && !built.contains(&rel) {
            problems.push(format!(
                "{} is committed but not built from bpf/",
                rel.display()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "fixtures/ is out of date; run scripts/build-fixtures.sh and commit:\n  {}",
        problems.join("\n  ")
    );
}
