//! Issue 4: the ways of sharing maps behave the same, for every scenario of `bpf/`.
//!
//! For each scenario of [`scenarios::ALL`] (a folder of C sources and a declaration of program
//! runs and expected values, see `tests/common/scenarios.rs`):
//! - path A: `bpfmerge` links the objects, `bpfmerge load` loads the merged object;
//! - path B: `bpfmerge load` loads the separate objects (maps shared through pins and
//!   `bpf_map__reuse_fd`), unless the scenario declares it not applicable;
//! - path C: libbpf's own static linker (libbpf-rs `Linker`) links the `weak/` variants (shared
//!   maps declared `__weak`), `bpfmerge load` loads the result;
//!
//! then the same setup and program runs (BPF_PROG_TEST_RUN) on the pins of each path, and a
//! comparison of the return values and the full contents of every map of the scenario (all
//! keys; per-CPU maps as the sum over CPUs of each u64 lane, since which CPU a test run lands on
//! is the scheduler's choice; prog array slots and map-in-map slots by the name of what they
//! hold; ring buffers by their records). B and C are compared with A, and a difference fails
//! with `scenario, path, map, key, both values`. The hand-derived expected values are checked
//! on every path. A path a scenario declares not applicable must indeed fail (the harness tries
//! it), so the declaration cannot go stale; it is reported, never skipped silently.
//!
//! Cross-checks on every merged object: goblin parses it independently, `bpftool btf dump file`
//! and `bpftool gen skeleton` accept it, linking twice gives the same bytes, and the merged
//! object linked again alone loads and behaves the same as path A.
//!
//! All of it runs on each compiler's fixtures (clang 14 and clang 19, see `common::Compiler`).
//! One line per scenario and compiler, `compare <scenario> (clang 19): A=ok B=ok C=ok` (or `B=not-applicable (why)`,
//! `C=not-linkable-by-libbpf (why)`), and one `crosscheck <scenario>: ...` line, are written
//! straight to the stderr handle so that they show in `cargo test` output (libtest captures only
//! `print!`/`eprint!`). Global-data maps (`.data`, `.bss`, `.rodata`) are not compared: with
//! path B they belong to each object and are not pinned; the scenarios make their effect
//! visible through the shared maps instead.

mod common;

use std::fs;
use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

use common::scenarios::{self, Applies, Scenario};
use common::{
    bpftool, dump, elf_problems, execute_on, fixture_inputs, fixture_path, try_link_with,
    unexpected, with_compiler, Input, LinkerKind, Observed, Pinned, TempDir,
};

/// A line in the test output, also when the test passes.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// `bpfmerge load` the objects into a fresh pin dir, check it loaded the scenario's programs
/// and maps, run the scenario on the pins, then `bpfmerge unload --maps`.
fn run_loaded(sc: &Scenario, objs: &[PathBuf], tag: &str) -> Result<Observed, String> {
    let pinned = Pinned::load(objs, &format!("{}-{tag}", sc.name))?;
    pinned.check_names(sc)?;
    let obs = execute_on(&pinned, sc);
    pinned.unload()?;
    Ok(obs)
}

/// Every difference between path `label`'s observations and path A's, one line each.
fn differences(a: &Observed, label: &str, b: &Observed) -> Vec<String> {
    let mut out = Vec::new();
    for (i, ((prog, ra), (_, rb))) in a.returns.iter().zip(&b.returns).enumerate() {
        if ra != rb {
            out.push(format!(
                "run {} ({prog}) returned: A={ra:?} {label}={rb:?}",
                i + 1
            ));
        }
    }
    out.extend(dump::diff(("A", &a.maps), (label, &b.maps)));
    out
}

/// One scenario's result: its `compare` and `crosscheck` lines and its failures.
struct Outcome {
    line: Vec<String>,
    checks: Vec<String>,
    errors: Vec<String>,
}

impl Outcome {
    fn fail(&mut self, path: &str, what: impl IntoIterator<Item = String>) -> bool {
        let before = self.errors.len();
        self.errors
            .extend(what.into_iter().map(|e| format!("{path}: {e}")));
        self.errors.len() == before
    }

    /// Record path `label`'s result: compared with A (when A worked) and with the expected
    /// values.
    fn path(
        &mut self,
        sc: &Scenario,
        label: &str,
        a: Option<&Observed>,
        obs: Result<Observed, String>,
    ) {
        let ok = match obs {
            Err(e) => self.fail(label, [e]),
            Ok(obs) => {
                let mut wrong: Vec<String> = unexpected(sc, &obs)
                    .into_iter()
                    .map(|e| format!("unexpected: {e}"))
                    .collect();
                if let Some(a) = a.filter(|_| label != "A") {
                    wrong.extend(
                        differences(a, label, &obs)
                            .into_iter()
                            .map(|d| format!("differs from A: {d}")),
                    );
                }
                self.fail(label, wrong)
            }
        };
        self.line
            .push(format!("{label}={}", if ok { "ok" } else { "FAIL" }));
    }

    fn check(&mut self, name: &str, problems: Vec<String>) {
        let ok = self.fail(&format!("crosscheck {name}"), problems);
        self.checks
            .push(format!("{name}={}", if ok { "ok" } else { "FAIL" }));
    }
}

/// A path the scenario declares not applicable: it must fail (`attempt` is its error or its
/// observations), and the line says why.
fn not_applicable(
    out: &mut Outcome,
    label: &str,
    tag: &str,
    reason: &str,
    attempt: Result<Observed, String>,
) {
    match attempt {
        Err(e) => {
            let first = e
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim();
            out.line
                .push(format!("{label}={tag} ({reason}; it says: {first})"));
        }
        Ok(_) => {
            out.fail(
                label,
                [format!(
                    "declared {tag} ({reason}), but it linked, loaded and ran: drop the \
                     declaration so that the path is compared"
                )],
            );
            out.line.push(format!("{label}=FAIL"));
        }
    }
}

fn link_with(kind: LinkerKind, inputs: &[Input], out: &Path) -> Result<PathBuf, String> {
    try_link_with(kind, inputs, out)?;
    Ok(out.to_path_buf())
}

fn compare_scenario(sc: &Scenario) -> Outcome {
    let mut out = Outcome {
        line: Vec::new(),
        checks: Vec::new(),
        errors: Vec::new(),
    };
    let dir = TempDir::new(&format!("compare-{}", sc.name));
    let inputs = fixture_inputs(sc.objects);

    // Path A.
    let merged = dir.join("merged.o");
    let a =
        link_with(LinkerKind::Bpfmerge, &inputs, &merged).and_then(|m| run_loaded(sc, &[m], "A"));
    let a_obs = a.as_ref().ok().cloned();
    out.path(sc, "A", None, a);
    let a_obs = a_obs.as_ref();

    // Path B.
    let separate: Vec<PathBuf> = sc.objects.iter().map(|s| fixture_path(s, false)).collect();
    let b = run_loaded(sc, &separate, "B");
    match sc.separately {
        Applies::Yes => out.path(sc, "B", a_obs, b),
        Applies::No(why) => not_applicable(&mut out, "B", "not-applicable", why, b),
    }

    // Path C.
    let c = link_with(LinkerKind::Libbpf, &inputs, &dir.join("libbpf.o"))
        .and_then(|m| run_loaded(sc, &[m], "C"));
    match sc.libbpf {
        Applies::Yes => out.path(sc, "C", a_obs, c),
        Applies::No(why) => not_applicable(&mut out, "C", "not-linkable-by-libbpf", why, c),
    }

    // Cross-checks on the merged object.
    if merged.exists() {
        crosscheck(sc, &dir, &merged, a_obs, &mut out);
    }
    out
}

fn crosscheck(
    sc: &Scenario,
    dir: &TempDir,
    merged: &Path,
    a: Option<&Observed>,
    out: &mut Outcome,
) {
    out.check("goblin", elf_problems(merged));

    let r = bpftool(&[
        "btf".as_ref(),
        "dump".as_ref(),
        "file".as_ref(),
        merged.as_os_str(),
    ]);
    let problems = if r.code == Some(0) {
        vec![]
    } else {
        vec![format!("bpftool btf dump file failed: {}", r.stderr.trim())]
    };
    out.check("btf-dump", problems);

    let r = bpftool(&[
        "gen".as_ref(),
        "skeleton".as_ref(),
        merged.as_os_str(),
        "name".as_ref(),
        sc.name.as_ref(),
    ]);
    let mut problems = Vec::new();
    if r.code != Some(0) {
        problems.push(format!("bpftool gen skeleton failed: {}", r.stderr.trim()));
    } else {
        let wanted = sc
            .maps
            .iter()
            .map(|m| format!("struct bpf_map *{m};"))
            .chain(sc.progs.iter().map(|p| format!("struct bpf_program *{p};")));
        for w in wanted {
            if !r.stdout.contains(&w) {
                problems.push(format!("the skeleton has no `{w}`"));
            }
        }
    }
    out.check("skeleton", problems);

    let again = dir.join("again.o");
    let problems = match try_link_with(LinkerKind::Bpfmerge, &fixture_inputs(sc.objects), &again) {
        Err(e) => vec![e],
        Ok(()) if fs::read(merged).ok() != fs::read(&again).ok() => {
            vec!["linking the same inputs twice gave different bytes".to_string()]
        }
        Ok(()) => vec![],
    };
    out.check("deterministic", problems);

    let relinked = dir.join("relinked.o");
    let problems = match link_with(
        LinkerKind::Bpfmerge,
        &[Input::Path(merged.to_path_buf())],
        &relinked,
    )
    .and_then(|r| {
        let mut p = elf_problems(&r);
        p.extend(run_loaded(sc, &[r], "relinked").map(|obs| {
            a.map(|a| differences(a, "relinked", &obs))
                .unwrap_or_default()
        })?);
        Ok(p)
    }) {
        Err(e) => vec![e],
        Ok(p) => p,
    };
    out.check("relinked", problems);
}

#[test]
fn all_paths_agree() {
    require_kernel!("all_paths_agree");
    let start = Instant::now();
    let mut errors = Vec::new();
    // Every scenario on each compiler's fixtures; `name` says which ("seed (clang 19)").
    for (cc, sc) in common::compilers()
        .into_iter()
        .flat_map(|cc| scenarios::ALL.iter().map(move |sc| (cc, sc)))
    {
        let name = format!("{} ({})", sc.name, cc.name());
        match catch_unwind(AssertUnwindSafe(|| {
            with_compiler(cc, || compare_scenario(sc))
        })) {
            Ok(out) => {
                say(&format!("compare {name}: {}", out.line.join(" ")));
                say(&format!("crosscheck {name}: {}", out.checks.join(" ")));
                errors.extend(out.errors.iter().map(|e| format!("{name}: {e}")));
            }
            Err(p) => {
                let msg = common::panic_message(p.as_ref());
                say(&format!("compare {name}: FAIL (panicked: {msg})"));
                errors.push(format!("{name}: panicked: {msg}"));
            }
        }
    }
    say(&format!(
        "compare: {} scenarios x {} compilers in {:.1?}",
        scenarios::ALL.len(),
        common::compilers().len(),
        start.elapsed()
    ));
    assert!(
        errors.is_empty(),
        "the paths disagree or misbehave:\n  {}",
        errors.join("\n  ")
    );
}

/// Every folder of `bpf/` is used by a scenario of `scenarios::ALL` (with all its files) or
/// listed in `scenarios::NOT_COMPARED` with a reason, never both, never neither.
#[test]
fn every_bpf_folder_is_compared_or_excluded() {
    let bpf = common::repo_dir().join("bpf");
    let mut problems = Vec::new();
    for folder in common::list_dir(&bpf) {
        if folder == "include" || !bpf.join(&folder).is_dir() {
            continue;
        }
        let stems: Vec<String> = common::list_dir(&bpf.join(&folder))
            .into_iter()
            .filter_map(|f| f.strip_suffix(".c").map(|s| format!("{folder}/{s}")))
            .collect();
        let used: Vec<&str> = scenarios::ALL
            .iter()
            .flat_map(|sc| sc.objects.iter().copied())
            .filter(|o| o.starts_with(&format!("{folder}/")))
            .collect();
        let excluded = scenarios::NOT_COMPARED.iter().find(|(f, _)| *f == folder);
        match (used.is_empty(), excluded) {
            (true, None) => problems.push(format!(
                "bpf/{folder} is in no scenario of scenarios::ALL and not in NOT_COMPARED"
            )),
            (false, Some(_)) => problems.push(format!(
                "bpf/{folder} is compared and also listed in NOT_COMPARED"
            )),
            (true, Some((_, why))) => say(&format!("compare {folder}: not compared ({why})")),
            (false, None) => {
                for s in &stems {
                    if !used.contains(&s.as_str()) {
                        problems.push(format!("{s}.c is in no scenario's objects"));
                    }
                }
            }
        }
    }
    for (f, _) in scenarios::NOT_COMPARED {
        if !bpf.join(f).is_dir() {
            problems.push(format!("NOT_COMPARED names bpf/{f}, which does not exist"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The diff names the map, the key and both paths' values, and sees every kind of difference
/// (a value, a missing key, a ring buffer record, a map only one side has).
#[test]
fn diff_names_map_key_and_both_values() {
    use common::{MapDump, Val};
    use std::collections::BTreeMap;
    let dump = |entries: &[(u32, Val)], records: &[u64]| MapDump {
        map_type: "Array".into(),
        entries: entries
            .iter()
            .map(|(k, v)| (k.to_ne_bytes().to_vec(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
        records: records.iter().map(|r| r.to_ne_bytes().to_vec()).collect(),
    };
    let u = |v: u64| Val::Bytes(v.to_ne_bytes().to_vec());
    let a = vec![
        ("hits".to_string(), dump(&[(0, u(1)), (1, u(2))], &[])),
        ("rb".to_string(), dump(&[], &[5, 6])),
        ("only_a".to_string(), dump(&[], &[])),
    ];
    let b = vec![
        (
            "hits".to_string(),
            dump(&[(0, u(1)), (1, u(3)), (2, u(0))], &[]),
        ),
        ("rb".to_string(), dump(&[], &[5])),
    ];
    let d = dump::diff(("A", &a), ("B", &b));
    assert_eq!(
        d,
        [
            "map hits key 1: A=2 B=3",
            "map hits key 2: A=<absent> B=0",
            "map only_a: A has it, B has no such map",
            "map rb records: A=[5, 6] B=[5]",
        ],
    );
    assert!(dump::diff(("A", &a), ("A again", &a)).is_empty());
}

/// The goblin cross-check finds nothing in a good merged object, and notices a `.symtab` whose
/// sh_info does not point at the first global symbol and a relocation outside its section.
#[test]
fn goblin_crosscheck_sees_broken_objects() {
    let dir = TempDir::new("goblin_crosscheck");
    let merged = dir.join("merged.o");
    try_link_with(
        LinkerKind::Bpfmerge,
        &fixture_inputs(scenarios::SEED.objects),
        &merged,
    )
    .expect("link seed");
    assert_eq!(elf_problems(&merged), Vec::<String>::new());

    let bytes = fs::read(&merged).unwrap();
    let elf = goblin::elf::Elf::parse(&bytes).unwrap();
    let shdr_at = |i: usize| elf.header.e_shoff as usize + i * elf.header.e_shentsize as usize;
    let symtab = elf
        .section_headers
        .iter()
        .position(|sh| sh.sh_type == goblin::elf::section_header::SHT_SYMTAB)
        .unwrap();
    let rel = elf
        .section_headers
        .iter()
        .position(|sh| sh.sh_type == goblin::elf::section_header::SHT_REL && sh.sh_size > 0)
        .unwrap();
    let rel_offset = elf.section_headers[rel].sh_offset as usize;

    let mut bad = bytes.clone();
    bad[shdr_at(symtab) + 44..shdr_at(symtab) + 48].copy_from_slice(&1u32.to_le_bytes());
    let p = dir.join("bad_info.o");
    fs::write(&p, &bad).unwrap();
    let problems = elf_problems(&p);
    assert!(
        problems.iter().any(|e| e.contains(".symtab sh_info")),
        "{problems:?}"
    );

    let mut bad = bytes;
    bad[rel_offset..rel_offset + 8].copy_from_slice(&0x10_0000u64.to_le_bytes());
    let p = dir.join("bad_reloc.o");
    fs::write(&p, &bad).unwrap();
    let problems = elf_problems(&p);
    assert!(
        problems.iter().any(|e| e.contains("lies outside it")),
        "{problems:?}"
    );
}
