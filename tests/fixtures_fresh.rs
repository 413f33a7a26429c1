//! The committed fixtures are what `scripts/build-fixtures.sh` makes from `bpf/` today, for
//! each of the two compilers (clang 14: `fixtures/<scenario>/`, clang 19:
//! `fixtures/<scenario>/clang19/`). A compiler's set is checked when that compiler is installed
//! and is the build that made the set (another version compiles to other bytes); otherwise the
//! check is skipped with a note, except under `CI=true` or `BPFMERGE_REQUIRE_KERNEL=1`, where
//! both compilers must be there (scripts/setup.sh installs them) and a skip is a failure.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixture_path_cc, fixtures_dir, repo_dir, Compiler, TempDir};
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

/// The binary the build script runs for `cc` (same defaults as scripts/build-fixtures.sh).
fn binary(cc: Compiler) -> String {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match cc {
        Compiler::Clang14 => var("CLANG14").or_else(|| var("CLANG")).unwrap_or_else(|| {
            let present = Command::new("clang-14").arg("--version").output().is_ok();
            if present { "clang-14" } else { "clang" }.to_string()
        }),
        Compiler::Clang19 => var("CLANG19").unwrap_or_else(|| "clang-19".to_string()),
    }
}

/// A skip is a failure in CI (both compilers are installed there).
fn skip(test: &str, why: String) {
    let required = std::env::var("CI").as_deref() == Ok("true")
        || std::env::var("BPFMERGE_REQUIRE_KERNEL").as_deref() == Ok("1");
    assert!(
        !required,
        "{test}: {why} (CI=true or BPFMERGE_REQUIRE_KERNEL=1: both compilers must be installed; \
         run scripts/setup.sh)"
    );
    eprintln!("SKIP {test}: {why}");
}

/// Whether `rel` (relative to fixtures/) is one of `cc`'s objects: clang 19's are under
/// `<scenario>/clang19/`, clang 14's are the others.
fn belongs_to(rel: &Path, cc: Compiler) -> bool {
    let in_clang19 = rel.components().nth(1).map(|c| c.as_os_str()) == Some("clang19".as_ref());
    in_clang19 == (cc == Compiler::Clang19)
}

fn check_compiler(cc: Compiler) {
    let test = format!("fixtures_match_sources ({})", cc.name());
    let clang = binary(cc);
    let version = match Command::new(&clang).arg("--version").output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        _ => {
            return skip(
                &test,
                format!(
                    "{clang} not found, the {} fixtures are not checked against bpf/",
                    cc.name()
                ),
            )
        }
    };
    let version = version.lines().next().unwrap_or("").trim().to_string();
    let producer = fixture_producer(&fixture_path_cc("seed/entry", false, cc));
    if !version.starts_with(&producer) {
        return skip(
            &test,
            format!(
                "the {} fixtures were built by {producer:?}, {clang} is {version:?}; its output \
                 would differ anyway",
                cc.name()
            ),
        );
    }

    let tmp = TempDir::new("fixtures_fresh");
    let out = Command::new("bash")
        .arg(repo_dir().join("scripts/build-fixtures.sh"))
        .arg(tmp.path())
        .arg(cc.id())
        .env(
            if cc == Compiler::Clang14 {
                "CLANG14"
            } else {
                "CLANG19"
            },
            &clang,
        )
        .output()
        .expect("run scripts/build-fixtures.sh");
    assert!(
        out.status.success(),
        "{test}: scripts/build-fixtures.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let built = files_under(tmp.path());
    assert!(!built.is_empty(), "{test}: the script built nothing");
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
    // Stale fixtures: committed objects of this compiler for a scenario that the script no
    // longer builds. Folders without sources in bpf/ (fixtures/bad) are not the script's.
    for rel in files_under(&fixtures_dir()) {
        let scenario = rel.components().next().unwrap().as_os_str().to_owned();
        if repo_dir().join("bpf").join(&scenario).is_dir()
            && belongs_to(&rel, cc)
            && !built.contains(&rel)
        {
            problems.push(format!(
                "{} is committed but not built from bpf/",
                rel.display()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{test}: fixtures/ is out of date; run scripts/build-fixtures.sh and commit:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn clang14_fixtures_match_sources() {
    check_compiler(Compiler::Clang14);
}

#[test]
fn clang19_fixtures_match_sources() {
    check_compiler(Compiler::Clang19);
}

/// Each compiler's set is where the tests look for it, and was made by that compiler.
#[test]
fn each_set_is_made_by_its_compiler() {
    for (cc, major) in [(Compiler::Clang14, "14."), (Compiler::Clang19, "19.")] {
        let producer = fixture_producer(&fixture_path_cc("seed/entry", false, cc));
        assert!(
            producer.contains(&format!("clang version {major}")),
            "{}: fixtures/seed/ entry.o was made by {producer:?}",
            cc.name()
        );
        assert!(belongs_to(
            fixture_path_cc("seed/entry", true, cc)
                .strip_prefix(fixtures_dir())
                .unwrap(),
            cc
        ));
    }
}

/// `for_each_compiler` runs the body once per compiler with that compiler's fixture paths, runs
/// every compiler even after a failure, and names the failing compiler in the test's failure.
#[test]
fn for_each_compiler_runs_each_set_and_names_failures() {
    use std::cell::RefCell;
    let seen = RefCell::new(Vec::new());
    common::for_each_compiler(|| {
        seen.borrow_mut()
            .push((common::compiler(), common::fixture("seed/entry")))
    });
    let want: Vec<(Compiler, PathBuf)> = common::compilers()
        .into_iter()
        .map(|cc| (cc, fixture_path_cc("seed/entry", false, cc)))
        .collect();
    assert_eq!(*seen.borrow(), want);
    assert_eq!(
        common::compiler(),
        Compiler::Clang14,
        "restored after the loop"
    );
    if common::compilers().len() < 2 {
        return;
    }
    assert_eq!(
        fixture_path_cc("seed/entry", true, Compiler::Clang19),
        fixtures_dir().join("seed/clang19/weak/entry.o")
    );

    seen.borrow_mut().clear();
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        common::for_each_compiler(|| {
            seen.borrow_mut().push((common::compiler(), PathBuf::new()));
            assert!(common::compiler() != Compiler::Clang14, "fails here");
        })
    }))
    .expect_err("a failing body fails the loop");
    let msg = common::panic_message(failed.as_ref());
    assert_eq!(msg, "[clang 14] fails here");
    assert_eq!(seen.borrow().len(), 2, "clang 19 still ran");
}
