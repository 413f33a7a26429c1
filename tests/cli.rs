//! The command line around the linker: `check` / `link --dry-run` (every conflict, exit 1,
//! nothing written), `link -v`, `completions`, `man` (and that the committed `man/` pages are
//! what the clap definition generates), `status`, the `Linker` library API giving the CLI's
//! errors, and errors that suggest their fix.

mod common;

use std::ffi::OsString;
use std::path::Path;

use common::{bpfmerge, fixture, for_each_compiler, TempDir};

fn args(words: &[&str], fixtures: &[&str]) -> Vec<OsString> {
    let mut v: Vec<OsString> = words.iter().map(OsString::from).collect();
    v.extend(fixtures.iter().map(|f| fixture(f).into_os_string()));
    v
}

const MANY_CONFLICTS: &[&str] = &[
    "conflict_max_entries/big",
    "conflict_max_entries/small",
    "conflict_map_type/hash",
    "conflict_map_type/lru",
    "conflict_license/dual",
    "conflict_license/gpl",
    "conflict_func/one",
    "conflict_func/two",
];

#[test]
fn check_reports_every_conflict_and_exits_1() {
    for_each_compiler(check_reports_every_conflict_and_exits_1_body);
}

fn check_reports_every_conflict_and_exits_1_body() {
    let r = bpfmerge(&args(&["check"], MANY_CONFLICTS));
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    for needle in [
        "map `flows`: max_entries differs",
        "map `conn_table`: type differs",
        "section `license` differs",
        "symbol `classify` is defined in both",
        "4 conflicts: nothing would be written",
        // what would merge
        "map flows (HASH (1)): merged 2 definitions",
    ] {
        assert!(r.stdout.contains(needle), "`{needle}` in:\n{}", r.stdout);
    }
    // Each conflict is on stderr as an error too (CI logs).
    assert_eq!(
        r.stderr.matches("bpfmerge: error: ").count(),
        4,
        "{}",
        r.stderr
    );
}

#[test]
fn check_lists_every_differing_field_of_a_map() {
    for_each_compiler(check_lists_every_differing_field_of_a_map_body);
}

fn check_lists_every_differing_field_of_a_map_body() {
    // v4.o's `conns` differs from ports.o's in its key type only; max_entries etc. agree.
    let r = bpfmerge(&args(
        &["check", "--json"],
        &["conflict_key_type/ports", "conflict_key_type/v4"],
    ));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let fields: Vec<&str> = v["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"key type"), "{fields:?}");
    let c = &v["conflicts"][0];
    assert_eq!(c["kind"], "map");
    assert_eq!(c["name"], "conns");
    assert_eq!(c["files"].as_array().unwrap().len(), 2);
}

#[test]
fn check_passes_on_inputs_that_link() {
    for_each_compiler(check_passes_on_inputs_that_link_body);
}

fn check_passes_on_inputs_that_link_body() {
    let r = bpfmerge(&args(&["check"], &["seed/entry", "seed/handler"]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("ok: the inputs link without conflict"));
    assert!(r
        .stdout
        .contains("map counters (ARRAY (2)): merged 2 definitions"));
}

#[test]
fn dry_run_writes_nothing() {
    for_each_compiler(dry_run_writes_nothing_body);
}

fn dry_run_writes_nothing_body() {
    let tmp = TempDir::new("dry-run");
    let out = tmp.join("out.o");
    let mut a = args(&["link", "--dry-run"], &["seed/entry", "seed/handler"]);
    a.extend(["-o".into(), out.clone().into_os_string()]);
    let r = bpfmerge(&a);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("ok:"));
    assert!(
        tmp.entries().is_empty(),
        "dry run wrote {:?}",
        tmp.entries()
    );

    // -o is optional with --dry-run, required without.
    let r = bpfmerge(&args(&["--dry-run"], MANY_CONFLICTS));
    assert_eq!(r.code, Some(1));
    let r = bpfmerge(&args(&["link"], &["seed/entry"]));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
}

#[test]
fn verbose_link_names_maps_definitions_and_programs() {
    for_each_compiler(verbose_link_names_maps_definitions_and_programs_body);
}

fn verbose_link_names_maps_definitions_and_programs_body() {
    let tmp = TempDir::new("verbose");
    let mut a = args(&["-v"], &["seed/entry", "seed/handler"]);
    a.extend(["-o".into(), tmp.join("m.o").into_os_string()]);
    let r = bpfmerge(&a);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let e = fixture("seed/entry").display().to_string();
    let h = fixture("seed/handler").display().to_string();
    assert!(
        r.stderr.contains(&format!(
            "map xdp_actions (PROG_ARRAY (3)): merged 2 definitions from {e}, {h} (kept {e})"
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(&format!("{e}: programs xdp_entry")));
    assert!(r.stderr.contains(&format!("{h}: programs xdp_handler")));
}

#[test]
fn map_conflicts_say_which_definition_to_change() {
    for_each_compiler(map_conflicts_say_which_definition_to_change_body);
}

fn map_conflicts_say_which_definition_to_change_body() {
    let tmp = TempDir::new("suggest");
    let mut a = args(
        &[],
        &["conflict_max_entries/big", "conflict_max_entries/small"],
    );
    a.extend(["-o".into(), tmp.join("m.o").into_os_string()]);
    let r = bpfmerge(&a);
    assert_eq!(r.code, Some(1));
    let small = fixture("conflict_max_entries/small").display().to_string();
    let big = fixture("conflict_max_entries/big").display().to_string();
    assert!(
        r.stderr.contains(&format!(
            "change max_entries of `flows` in {small} to 4096 as in {big}"
        )),
        "{}",
        r.stderr
    );
    let r = bpfmerge(&args(
        &["check"],
        &["conflict_license/dual", "conflict_license/gpl"],
    ));
    assert!(r
        .stderr
        .contains("give `license` the same value in every file"));
}

#[test]
fn completions_for_each_shell() {
    for (shell, needle) in [
        ("bash", "_bpfmerge()"),
        ("zsh", "#compdef bpfmerge"),
        ("fish", "complete -c bpfmerge"),
        ("elvish", "bpfmerge"),
        ("powershell", "bpfmerge"),
    ] {
        let r = bpfmerge(&["completions", shell]);
        assert_eq!(r.code, Some(0), "{shell}: {}", r.stderr);
        assert!(r.stdout.contains(needle), "{shell}: no `{needle}`");
        for sub in ["link", "check", "inspect", "status"] {
            assert!(r.stdout.contains(sub), "{shell}: no `{sub}`");
        }
    }
    let r = bpfmerge(&["completions", "tcsh"]);
    assert_eq!(r.code, Some(2));
}

#[test]
fn man_page_is_generated_and_the_committed_pages_are_fresh() {
    let r = bpfmerge(&["man"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.starts_with(".ie") || r.stdout.contains(".TH bpfmerge"));
    assert!(r.stdout.contains("Exit status"));

    let tmp = TempDir::new("man");
    let r = bpfmerge(&["man".as_ref(), "--out-dir".as_ref(), tmp.path().as_os_str()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let generated = tmp.entries();
    for page in [
        "bpfmerge.1",
        "bpfmerge-link.1",
        "bpfmerge-check.1",
        "bpfmerge-status.1",
    ] {
        assert!(generated.contains(&page.to_string()), "{generated:?}");
    }
    let committed = common::repo_dir().join("man");
    assert_eq!(
        common::list_dir(&committed),
        generated,
        "man/ is stale: run `cargo run -- man --out-dir man`"
    );
    for page in &generated {
        assert_eq!(
            std::fs::read(committed.join(page)).unwrap(),
            std::fs::read(tmp.join(page)).unwrap(),
            "man/{page} is stale: run `cargo run -- man --out-dir man`"
        );
    }
}

#[test]
fn linker_api_gives_the_cli_errors_and_output() {
    for_each_compiler(linker_api_gives_the_cli_errors_and_output_body);
}

fn linker_api_gives_the_cli_errors_and_output_body() {
    use bpfmerge::Linker;
    let tmp = TempDir::new("linker-api");

    // Same bytes as the CLI.
    let cli_out = tmp.join("cli.o");
    let mut a = args(&[], &["seed/entry", "seed/handler"]);
    a.extend(["-o".into(), cli_out.clone().into_os_string()]);
    assert_eq!(bpfmerge(&a).code, Some(0));
    let lib_out = tmp.join("lib.o");
    let report = Linker::new()
        .file(fixture("seed/entry"))
        .file(fixture("seed/handler"))
        .write(&lib_out)
        .unwrap();
    assert_eq!(
        std::fs::read(&cli_out).unwrap(),
        std::fs::read(&lib_out).unwrap()
    );
    assert_eq!(report.output.as_deref(), Some(lib_out.as_path()));
    let in_memory = Linker::new()
        .bytes(
            fixture("seed/entry").display().to_string(),
            std::fs::read(fixture("seed/entry")).unwrap(),
        )
        .file(fixture("seed/handler"))
        .link()
        .unwrap();
    assert_eq!(in_memory, std::fs::read(&cli_out).unwrap());

    // Same error as the CLI, and nothing written.
    let bad = Linker::new()
        .files(["conflict_max_entries/big", "conflict_max_entries/small"].map(fixture));
    let err = bad.write(tmp.join("bad.o")).unwrap_err().to_string();
    assert!(!tmp.join("bad.o").exists());
    let mut a = args(
        &[],
        &["conflict_max_entries/big", "conflict_max_entries/small"],
    );
    a.extend(["-o".into(), tmp.join("bad.o").into_os_string()]);
    let r = bpfmerge(&a);
    assert!(r.stderr.contains(&err), "CLI:\n{}\nlib: {err}", r.stderr);
    let check = bad.check().unwrap();
    assert!(!check.ok);
    assert_eq!(check.conflicts[0].message, err);

    // Output naming an input is refused; an unreadable input names the file.
    let e = Linker::new()
        .file(&lib_out)
        .write(&lib_out)
        .unwrap_err()
        .to_string();
    assert!(e.contains("is also an input"), "{e}");
    let e = Linker::new()
        .file("/nonexistent.o")
        .link()
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent.o"), "{e}");
    assert!(Linker::new().link().is_err());
}

fn status(dir: &Path, json: bool) -> common::CmdOutput {
    let mut a: Vec<&std::ffi::OsStr> =
        vec!["status".as_ref(), "--pin-dir".as_ref(), dir.as_os_str()];
    if json {
        a.push("--json".as_ref());
    }
    bpfmerge(&a)
}

#[test]
fn status_lists_pins_with_kernel_ids_and_entries() {
    for_each_compiler(status_lists_pins_with_kernel_ids_and_entries_body);
}

fn status_lists_pins_with_kernel_ids_and_entries_body() {
    if !common::kernel_ready("status_lists_pins_with_kernel_ids_and_entries") {
        return;
    }
    let dir = TempDir::under(Path::new(common::BPFFS), "status");
    let load = bpfmerge(&[
        "load".as_ref(),
        "--json".as_ref(),
        "--pin-dir".as_ref(),
        dir.path().as_os_str(),
        fixture("seed/entry").as_os_str(),
        fixture("seed/handler").as_os_str(),
    ]);
    assert_eq!(load.code, Some(0), "{}", load.stderr);
    let loaded: serde_json::Value = serde_json::from_str(&load.stdout).unwrap();

    let get = |json: &serde_json::Value, list: &str, name: &str| -> serde_json::Value {
        json[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {list}: {json}"))
            .clone()
    };
    let r = status(dir.path(), true);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let st: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    for m in ["counters", "xdp_actions"] {
        assert_eq!(get(&st, "maps", m)["id"], get(&loaded, "maps", m)["id"]);
    }
    for p in ["xdp_entry", "xdp_handler"] {
        let s = get(&st, "progs", p);
        assert_eq!(s["id"], get(&loaded, "progs", p)["id"]);
        assert_eq!(s["prog_type"], "xdp (6)");
    }
    let counters = get(&st, "maps", "counters");
    assert_eq!(counters["map_type"], "array (2)");
    assert_eq!(counters["entries"], 4); // an array has all its slots
    assert_eq!(get(&st, "maps", "xdp_actions")["entries"], 0); // an empty prog array

    // Fill one slot of the prog array: one entry.
    let actions = dir.join("maps/xdp_actions");
    let handler = dir.join("progs/xdp_handler");
    let u = common::bpftool(&[
        "map".as_ref(),
        "update".as_ref(),
        "pinned".as_ref(),
        actions.as_os_str(),
        "key".as_ref(),
        "1".as_ref(),
        "0".as_ref(),
        "0".as_ref(),
        "0".as_ref(),
        "value".as_ref(),
        "pinned".as_ref(),
        handler.as_os_str(),
    ]);
    assert_eq!(u.code, Some(0), "{}", u.stderr);
    let st: serde_json::Value = serde_json::from_str(&status(dir.path(), true).stdout).unwrap();
    assert_eq!(get(&st, "maps", "xdp_actions")["entries"], 1);

    let text = status(dir.path(), false).stdout;
    assert!(text.contains("map  counters"), "{text}");
    assert!(text.contains("prog xdp_entry"), "{text}");

    let r = bpfmerge(&[
        "unload".as_ref(),
        "--maps".as_ref(),
        "--pin-dir".as_ref(),
        dir.path().as_os_str(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

#[test]
fn status_errors_say_what_to_do() {
    // Not on bpffs: how to mount it.
    let tmp = TempDir::new("status-not-bpffs");
    let r = status(tmp.path(), false);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("mount -t bpf bpf /sys/fs/bpf"),
        "{}",
        r.stderr
    );
    // Nothing there: how to load.
    let r = status(&tmp.join("missing"), false);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("bpfmerge load"), "{}", r.stderr);
}

/// Bad usage is exit status 2 (DESIGN: 0 success, 1 input error, 2 bad usage): clap's own
/// errors, and `-o` naming one of the inputs; a bad input stays 1.
#[test]
fn bad_usage_exits_2_bad_input_exits_1() {
    for_each_compiler(bad_usage_exits_2_bad_input_exits_1_body);
}

fn bad_usage_exits_2_bad_input_exits_1_body() {
    let tmp = TempDir::new("bad_usage_exits_2");
    let a = tmp.join("a.o");
    std::fs::copy(fixture("seed/entry"), &a).unwrap();
    let before = std::fs::read(&a).unwrap();
    let b = fixture("seed/handler");
    let r = bpfmerge(&[a.as_os_str(), b.as_os_str(), "-o".as_ref(), a.as_os_str()]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("also an input"), "{}", r.stderr);
    assert_eq!(
        std::fs::read(&a).unwrap(),
        before,
        "the input was left as it was"
    );
    let r = bpfmerge(&["link", "--no-such-flag"]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    let out = tmp.join("out.o");
    let r = bpfmerge(&["/nonexistent/x.o".as_ref(), "-o".as_ref(), out.as_os_str()]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
}

/// An object linked with itself: every global is defined twice, identically, so each folds
/// (docs/link.md, "Identical definitions fold") and `check` lists every fold.
#[test]
fn check_lists_every_fold_of_an_object_linked_with_itself() {
    for_each_compiler(check_lists_every_fold_of_an_object_linked_with_itself_body);
}

fn check_lists_every_fold_of_an_object_linked_with_itself_body() {
    let one = fixture("conflict_func/one");
    let r = bpfmerge(&["check".as_ref(), one.as_os_str(), one.as_os_str()]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    // one.c defines the global function `classify` and the program `xdp_one`.
    for name in ["function classify", "function xdp_one"] {
        assert!(
            r.stdout
                .contains(&format!("folded {name}: identical definitions")),
            "{}",
            r.stdout
        );
    }
}
