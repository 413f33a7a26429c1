//! Robustness of the link and `inspect` on damaged inputs (issue 6): every fixture is mutated a
//! few hundred times (truncations; damaged ELF header, section headers, symbols, relocations,
//! BTF header, BTF types and strings, `.BTF.ext`; flipped bits in code and data), and each
//! mutant is linked with an intact object and inspected. Every run must end with success or a
//! clean error within a few seconds; a successful link must give an object that parses again
//! (bpfmerge's parser and goblin). A sample goes through the CLI binary: exit 0 or 1, no panic,
//! and after an error no output and no temporary file (a previous output untouched).
//!
//! Mutations are deterministic (seeded per fixture and mutation number); a failure prints the
//! fixture, mutation number, seed and what was damaged. `BPFMERGE_MUTATIONS=N` changes the
//! number of mutations per fixture (default 200);
//! `BPFMERGE_MUTATION_ONLY=scenario/file.o#N` runs just one of them and keeps the mutant.

mod mutate;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mutate::{
    check_output, fixture_objects, mutate, run_bounded, seed_for, short_name, Anatomy, Rng,
};

/// A run taking longer than this is a hang (normal runs take milliseconds even in debug builds).
const LIMIT: Duration = Duration::from_secs(5);
/// One mutation in CLI_EVERY also runs through the binary.
const CLI_EVERY: u64 = 25;

fn mutations_per_fixture() -> u64 {
    std::env::var("BPFMERGE_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// An intact partner for `fixture`: a sibling it links with, else the seed scenario's objects.
fn partner_for(fixture: &Path, data: &[u8], all: &[PathBuf]) -> (String, Arc<Vec<u8>>) {
    let dir = fixture.parent().expect("fixture dir");
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed");
    let candidates = all
        .iter()
        .filter(|p| p.parent() == Some(dir) && p.as_path() != fixture)
        .cloned()
        .chain([seed.join("handler.o"), seed.join("entry.o")]);
    let mut first = None;
    for c in candidates {
        if c == fixture {
            continue;
        }
        let bytes = std::fs::read(&c).expect("read partner");
        let name = short_name(&c);
        let ok = bpfmerge::link_bytes(&[("m.o".to_string(), data), (name.clone(), &bytes)]).is_ok();
        if ok {
            return (name, Arc::new(bytes));
        }
        first.get_or_insert((name, Arc::new(bytes)));
    }
    first.expect("a partner")
}

struct Case<'a> {
    fixture: &'a str,
    n: u64,
    seed: u64,
    desc: &'a str,
}

impl std::fmt::Display for Case<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} mutation #{} (seed {:#018x}): {}",
            self.fixture, self.n, self.seed, self.desc
        )
    }
}

/// Library run: link (mutant first or second) and inspect. Returns whether the link succeeded.
fn run_lib(
    case: &Case<'_>,
    mutant: &Arc<Vec<u8>>,
    partner: &(String, Arc<Vec<u8>>),
    mutant_first: bool,
) -> Result<bool, String> {
    let (m, p, pname) = (mutant.clone(), partner.1.clone(), partner.0.clone());
    let (linked, took) = run_bounded(LIMIT, move || {
        let mine = ("mutant.o".to_string(), m.as_slice());
        let theirs = (pname, p.as_slice());
        let objects = if mutant_first {
            vec![mine, theirs]
        } else {
            vec![theirs, mine]
        };
        match bpfmerge::link_bytes(&objects) {
            Ok((out, _)) => Some(check_output(&out)),
            Err(e) => {
                // Errors must render (Display walks the error's fields).
                let _ = e.to_string();
                None
            }
        }
    })
    .map_err(|e| format!("link: {e}\n  {case}"))?;
    if took > LIMIT {
        return Err(format!("link took {took:?}\n  {case}"));
    }
    if let Some(Err(e)) = &linked {
        return Err(format!("link succeeded but {e}\n  {case}"));
    }
    let m = mutant.clone();
    run_bounded(LIMIT, move || {
        if let Ok(info) = bpfmerge::inspect_bytes("mutant.o", &m) {
            let _ = bpfmerge::InspectReport {
                objects: vec![info],
            }
            .to_text();
        }
    })
    .map_err(|e| format!("inspect: {e}\n  {case}"))?;
    Ok(linked.is_some())
}

/// Run the binary with a time bound; (exit code, stderr).
fn run_cli(args: &[&std::ffi::OsStr]) -> Result<(Option<i32>, String), String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bpfmerge"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run bpfmerge: {e}"))?;
    let start = Instant::now();
    loop {
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            break;
        }
        if start.elapsed() > LIMIT * 3 {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("bpfmerge {args:?} did not finish (hang)"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    Ok((
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into(),
    ))
}

fn dir_listing(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("read tmp dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// CLI run in `dir`: link and inspect through the binary, checking exit codes, stderr, the
/// output file and leftovers. `lib_ok` is what the library said about the same link.
fn run_cli_case(
    case: &Case<'_>,
    dir: &Path,
    mutant: &[u8],
    partner: &[u8],
    mutant_first: bool,
    lib_ok: bool,
) -> Result<(), String> {
    let m = dir.join("mutant.o");
    let p = dir.join("partner.o");
    let out = dir.join("out.o");
    std::fs::write(&m, mutant).map_err(|e| e.to_string())?;
    std::fs::write(&p, partner).map_err(|e| e.to_string())?;
    // Half the cases have a previous output that an error must leave untouched.
    let previous = (case.n / CLI_EVERY) % 2 == 0;
    let _ = std::fs::remove_file(&out);
    if previous {
        std::fs::write(&out, b"previous output").map_err(|e| e.to_string())?;
    }
    let before = dir_listing(dir);
    let (a, b) = if mutant_first { (&m, &p) } else { (&p, &m) };
    let (code, stderr) = run_cli(&[a.as_os_str(), b.as_os_str(), "-o".as_ref(), out.as_os_str()])?;
    if stderr.contains("panicked") {
        return Err(format!("link via CLI panicked: {stderr}\n  {case}"));
    }
    let after = dir_listing(dir);
    match code {
        Some(0) => {
            let bytes = std::fs::read(&out).map_err(|e| format!("no output after exit 0: {e}"))?;
            check_output(&bytes).map_err(|e| format!("CLI {e}\n  {case}"))?;
            if !lib_ok {
                return Err(format!("CLI linked but the library refused\n  {case}"));
            }
            let mut expected = before.clone();
            expected.insert("out.o".into());
            if after != expected {
                return Err(format!("leftover files after a link: {after:?}\n  {case}"));
            }
        }
        Some(1) => {
            if lib_ok {
                return Err(format!(
                    "CLI failed but the library linked: {stderr}\n  {case}"
                ));
            }
            if !stderr.contains("error") {
                return Err(format!("exit 1 without an error message\n  {case}"));
            }
            if after != before {
                return Err(format!(
                    "files changed after a failed link: {before:?} -> {after:?}\n  {case}"
                ));
            }
            if previous && std::fs::read(&out).ok().as_deref() != Some(b"previous output") {
                return Err(format!(
                    "a failed link changed the previous output\n  {case}"
                ));
            }
        }
        other => {
            return Err(format!(
                "link via CLI exited with {other:?}: {stderr}\n  {case}"
            ))
        }
    }
    let (code, stderr) = run_cli(&["inspect".as_ref(), m.as_os_str()])?;
    if stderr.contains("panicked") || !matches!(code, Some(0) | Some(1)) {
        return Err(format!(
            "inspect via CLI exited with {code:?}: {stderr}\n  {case}"
        ));
    }
    Ok(())
}

#[test]
fn mutated_fixtures_link_and_inspect_cleanly() {
    let per = mutations_per_fixture();
    let fixtures = fixture_objects();
    assert!(fixtures.len() >= 20, "fixtures found: {fixtures:?}");
    let tmp = std::env::temp_dir().join(format!("bpfmerge-mutation-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).expect("tmp dir");

    // BPFMERGE_MUTATION_ONLY=scenario/file.o#N runs one mutation and writes the mutant to
    // $TMPDIR/bpfmerge-mutant.o (to reproduce a failure with the CLI).
    let only = std::env::var("BPFMERGE_MUTATION_ONLY").ok();
    let start = Instant::now();
    let (mut runs, mut linked, mut cli_runs) = (0u64, 0u64, 0u64);
    let mut failures = Vec::new();
    for path in &fixtures {
        let name = short_name(path);
        let data = std::fs::read(path).expect("read fixture");
        let anatomy = Anatomy::of(&data);
        let partner = partner_for(path, &data, &fixtures);
        for n in 0..per {
            let seed = seed_for(&name, n);
            let mut rng = Rng::new(seed);
            let (bytes, desc) = mutate(&mut rng, &data, &anatomy);
            let mutant_first = rng.chance(2);
            let case = Case {
                fixture: &name,
                n,
                seed,
                desc: &desc,
            };
            if let Some(only) = &only {
                if *only != format!("{name}#{n}") {
                    continue;
                }
                let dump = std::env::temp_dir().join("bpfmerge-mutant.o");
                std::fs::write(&dump, &bytes).expect("dump mutant");
                eprintln!("{case}: mutant written to {}", dump.display());
            }
            let mutant = Arc::new(bytes);
            runs += 1;
            let lib_ok = match run_lib(&case, &mutant, &partner, mutant_first) {
                Ok(ok) => ok,
                Err(e) => {
                    failures.push(e);
                    continue;
                }
            };
            linked += u64::from(lib_ok);
            if n % CLI_EVERY == 0 {
                cli_runs += 1;
                if let Err(e) = run_cli_case(&case, &tmp, &mutant, &partner.1, mutant_first, lib_ok)
                {
                    failures.push(e);
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!(
        "mutation: {} fixtures x {per} mutations = {runs} links + inspects ({linked} linked, \
         {} refused cleanly), {cli_runs} through the CLI, in {:?}",
        fixtures.len(),
        runs - linked,
        start.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of {runs} mutations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The mutator itself is deterministic: the same seed gives the same bytes.
#[test]
fn mutations_are_reproducible() {
    let path = &fixture_objects()[0];
    let data = std::fs::read(path).expect("read");
    let a = Anatomy::of(&data);
    for n in 0..50 {
        let seed = seed_for("x", n);
        let one = mutate(&mut Rng::new(seed), &data, &a);
        let two = mutate(&mut Rng::new(seed), &data, &a);
        assert_eq!(one, two, "mutation {n}");
    }
}
