//! Bad input: bpfmerge exits with 1 (2 for usage errors), says what is wrong on stderr (naming
//! the map or symbol, both files and both values), never panics, and writes nothing: no output
//! file appears, a pre-existing output file keeps its bytes, no temporary file is left behind.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{bpfmerge, fixture, for_each_compiler, TempDir};

const SENTINEL: &[u8] = b"pre-existing output, must survive a failed link\n";

/// Run `bpfmerge INPUTS -o OUT` twice, once without and once with a pre-existing OUT; both must
/// fail with `code` and leave the output directory as it was. Returns stderr (of the first run).
fn expect_failure(inputs: &[PathBuf], code: i32, test: &str) -> String {
    let outdir = TempDir::new(test);
    let out = outdir.join("out.o");
    let run = |out: &Path| {
        let mut args: Vec<&std::ffi::OsStr> = inputs.iter().map(|p| p.as_os_str()).collect();
        args.push("-o".as_ref());
        args.push(out.as_os_str());
        bpfmerge(&args)
    };

    let r = run(&out);
    assert_eq!(
        r.code,
        Some(code),
        "exit status of bpfmerge {inputs:?}; stderr:\n{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("panicked"),
        "bpfmerge panicked:\n{}",
        r.stderr
    );
    assert!(!r.stderr.trim().is_empty(), "no message on stderr");
    assert!(!out.exists(), "a failed link created {}", out.display());
    assert_eq!(
        outdir.entries(),
        Vec::<String>::new(),
        "a failed link left files behind"
    );

    fs::write(&out, SENTINEL).unwrap();
    let r2 = run(&out);
    assert_eq!(r2.code, Some(code), "second run; stderr:\n{}", r2.stderr);
    assert!(
        !r2.stderr.contains("panicked"),
        "bpfmerge panicked:\n{}",
        r2.stderr
    );
    assert_eq!(
        fs::read(&out).unwrap(),
        SENTINEL,
        "a failed link changed the existing output"
    );
    assert_eq!(
        outdir.entries(),
        vec!["out.o".to_string()],
        "a failed link left files behind"
    );
    r.stderr
}

/// Words of `text`, split at anything but letters, digits and `_`, lowercased.
fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// `stderr` has, as a whole word (case-insensitive), at least one of `alternatives`.
fn assert_word(stderr: &str, alternatives: &[&str], what: &str) {
    let toks = tokens(stderr);
    assert!(
        alternatives
            .iter()
            .any(|a| toks.iter().any(|t| t == &a.to_ascii_lowercase())),
        "stderr does not name {what} (any of {alternatives:?}):\n{stderr}"
    );
}

/// `stderr` with the input paths (and their file names) blanked out, so that a value's name that
/// happens to be part of a file name (hash.o, pinned.o) is only found when the message says it.
fn without_paths(stderr: &str, inputs: &[PathBuf]) -> String {
    let mut s = stderr.to_string();
    for p in inputs {
        s = s.replace(&*p.to_string_lossy(), " ");
        if let Some(name) = p.file_name() {
            s = s.replace(&*name.to_string_lossy(), " ");
        }
    }
    s
}

/// `stderr` names the file `name` (not merely as the tail of a longer name: "pinned.o" is not
/// found in "unpinned.o").
fn assert_file(stderr: &str, name: &str, what: &str) {
    let found = stderr.match_indices(name).any(|(i, _)| {
        stderr[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    });
    assert!(found, "stderr does not name {what} ({name}):\n{stderr}");
}

fn assert_text(stderr: &str, text: &str, what: &str) {
    assert!(
        stderr.contains(text),
        "stderr does not mention {what} ({text:?}):\n{stderr}"
    );
}

// --- files that are not linkable objects ---------------------------------------------------

#[test]
fn missing_file() {
    let dir = TempDir::new("missing");
    let missing = dir.join("no_such_object.o");
    let err = expect_failure(&[fixture("seed/entry"), missing], 1, "missing_file");
    assert_file(&err, "no_such_object.o", "the missing file");
}

#[test]
fn not_elf() {
    let dir = TempDir::new("not_elf");
    let bad = dir.join("not_an_object.o");
    fs::write(&bad, b"this is a text file, not an ELF object\n".repeat(4)).unwrap();
    let err = expect_failure(&[fixture("seed/entry"), bad], 1, "not_elf");
    assert_file(&err, "not_an_object.o", "the bad file");
    assert_word(&err, &["elf"], "what the file should have been");
}

#[test]
fn empty_file() {
    let dir = TempDir::new("empty");
    let bad = dir.join("empty_object.o");
    fs::write(&bad, b"").unwrap();
    let err = expect_failure(&[bad, fixture("seed/handler")], 1, "empty_file");
    assert_file(&err, "empty_object.o", "the bad file");
}

/// Cut at several points: inside the ELF header, right after it (section headers out of
/// bounds), and in the middle (section data or headers cut).
#[test]
fn truncated_object() {
    for_each_compiler(truncated_object_body);
}

fn truncated_object_body() {
    let whole = fs::read(fixture("seed/entry")).unwrap();
    let dir = TempDir::new("truncated");
    for len in [20, 64, whole.len() / 2, whole.len() - 1] {
        let bad = dir.join(&format!("truncated_{len}.o"));
        fs::write(&bad, &whole[..len]).unwrap();
        let err = expect_failure(&[bad, fixture("seed/handler")], 1, "truncated_object");
        assert_file(&err, &format!("truncated_{len}.o"), "the truncated file");
    }
}

/// fixtures/bad/x86_64.o: a host object (`cc -c`), ELF64 but EM_X86_64.
#[test]
fn x86_64_object() {
    for_each_compiler(x86_64_object_body);
}

fn x86_64_object_body() {
    let inputs = [
        fixture("seed/entry"),
        common::fixtures_dir().join("bad/x86_64.o"),
    ];
    let err = expect_failure(&inputs, 1, "x86_64_object");
    assert_file(&err, "x86_64.o", "the x86-64 file");
    assert_word(
        &without_paths(&err, &inputs),
        &[
            "machine",
            "e_machine",
            "x86",
            "62",
            "em_x86_64",
            "architecture",
            "amd64",
        ],
        "the wrong machine",
    );
}

/// A little-endian and a big-endian (`-target bpfeb`) BPF object cannot be linked together.
#[test]
fn mixed_byte_order() {
    for_each_compiler(mixed_byte_order_body);
}

fn mixed_byte_order_body() {
    let inputs = [
        fixture("conflict_endian/little"),
        fixture("conflict_endian/big"),
    ];
    let err = expect_failure(&inputs, 1, "mixed_byte_order");
    assert_file(&err, "big.o", "the big-endian file");
    assert_word(
        &without_paths(&err, &inputs),
        &[
            "endian",
            "endianness",
            "byte",
            "big",
            "msb",
            "bpfeb",
            "little",
            "lsb",
            "order",
        ],
        "the byte order",
    );
}

/// The same object twice: two strong definitions of each program, identical, so they fold
/// (docs/link.md, "Identical definitions fold") — no longer an error.
#[test]
fn same_object_twice_folds() {
    for_each_compiler(same_object_twice_folds_body);
}

fn same_object_twice_folds_body() {
    let dir = TempDir::new("same_object_twice_folds");
    let out = dir.join("out.o");
    let entry = fixture("seed/entry");
    let r = bpfmerge(&[
        "-v".as_ref(),
        entry.as_os_str(),
        entry.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("folded function xdp_entry: identical definitions"),
        "{}",
        r.stderr
    );
}

// --- conflicting definitions -----------------------------------------------------------------

/// One conflicting pair: link `a` and `b` (fixture stems), expect exit 1 and stderr naming the
/// subject (map or symbol), the field, both files and both values.
struct Conflict {
    a: &'static str,
    b: &'static str,
    subject: &'static str,
    /// Any of these words names the field (empty: no field, e.g. a duplicate function).
    field: &'static [&'static str],
    /// Any of these words names a's value / b's value (empty: nothing to name).
    value_a: &'static [&'static str],
    value_b: &'static [&'static str],
}

fn file_name(stem: &str) -> String {
    format!("{}.o", stem.rsplit('/').next().unwrap())
}

fn check_conflict(c: &Conflict, test: &str) {
    for_each_compiler(|| check_conflict_body(c, test));
}

fn check_conflict_body(c: &Conflict, test: &str) {
    for (first, second) in [(c.a, c.b), (c.b, c.a)] {
        let inputs = [fixture(first), fixture(second)];
        let err = expect_failure(&inputs, 1, test);
        assert_file(&err, &file_name(first), "the first file");
        assert_file(&err, &file_name(second), "the second file");
        let words = without_paths(&err, &inputs);
        assert_word(&words, &[c.subject], "the conflicting map or symbol");
        if !c.field.is_empty() {
            assert_word(&words, c.field, "the field that differs");
        }
        if !c.value_a.is_empty() {
            assert_word(&words, c.value_a, &format!("{}'s value", c.a));
            assert_word(&words, c.value_b, &format!("{}'s value", c.b));
        }
    }
}

#[test]
fn conflict_max_entries() {
    // small.c: flows max_entries 1024; big.c: 4096.
    check_conflict(
        &Conflict {
            a: "conflict_max_entries/small",
            b: "conflict_max_entries/big",
            subject: "flows",
            field: &["max_entries"],
            value_a: &["1024"],
            value_b: &["4096"],
        },
        "conflict_max_entries",
    );
}

#[test]
fn conflict_key_type() {
    // Both keys are 4 bytes: struct key_v4 { __u32 addr; } vs struct key_ports { __u16 sport, dport; }.
    check_conflict(
        &Conflict {
            a: "conflict_key_type/v4",
            b: "conflict_key_type/ports",
            subject: "conns",
            field: &["key", "key_type"],
            value_a: &["key_v4"],
            value_b: &["key_ports"],
        },
        "conflict_key_type",
    );
}

#[test]
fn conflict_map_type() {
    // hash.c: BPF_MAP_TYPE_HASH (1); lru.c: BPF_MAP_TYPE_LRU_HASH (9). A number or a name.
    check_conflict(
        &Conflict {
            a: "conflict_map_type/hash",
            b: "conflict_map_type/lru",
            subject: "conn_table",
            field: &["type", "map_type"],
            value_a: &["1", "hash", "bpf_map_type_hash"],
            value_b: &["9", "lru_hash", "bpf_map_type_lru_hash"],
        },
        "conflict_map_type",
    );
}

#[test]
fn conflict_pinning() {
    // unpinned.c: no pinning attribute (LIBBPF_PIN_NONE, 0); pinned.c: LIBBPF_PIN_BY_NAME (1).
    check_conflict(
        &Conflict {
            a: "conflict_pinning/unpinned",
            b: "conflict_pinning/pinned",
            subject: "pinned_stats",
            field: &["pinning"],
            value_a: &["0", "none", "libbpf_pin_none", "pin_none", "unpinned"],
            value_b: &["1", "by_name", "libbpf_pin_by_name", "pin_by_name"],
        },
        "conflict_pinning",
    );
}

#[test]
fn conflict_strong_functions() {
    // one.c and two.c both define the global (strong) function classify().
    check_conflict(
        &Conflict {
            a: "conflict_func/one",
            b: "conflict_func/two",
            subject: "classify",
            field: &[],
            value_a: &[],
            value_b: &[],
        },
        "conflict_strong_functions",
    );
}

#[test]
fn conflict_license() {
    for_each_compiler(conflict_license_body);
}

fn conflict_license_body() {
    // gpl.c: "GPL"; dual.c: "Dual MIT/GPL".
    for (first, second) in [
        ("conflict_license/gpl", "conflict_license/dual"),
        ("conflict_license/dual", "conflict_license/gpl"),
    ] {
        let inputs = [fixture(first), fixture(second)];
        let err = expect_failure(&inputs, 1, "conflict_license");
        assert_file(&err, &file_name(first), "the first file");
        assert_file(&err, &file_name(second), "the second file");
        let words = without_paths(&err, &inputs);
        assert_word(&words, &["license"], "the license section");
        assert_text(&words, "Dual MIT/GPL", "dual.c's license");
        // gpl.c's "GPL": a second "GPL" besides the one inside "Dual MIT/GPL".
        assert!(
            words.matches("GPL").count() >= 2,
            "stderr does not name gpl.c's license \"GPL\":\n{err}"
        );
    }
}

#[test]
fn conflict_initial_values() {
    // first.c: jmp .values [0] = prog_first; second.c: [0] = prog_second.
    check_conflict(
        &Conflict {
            a: "conflict_values/first",
            b: "conflict_values/second",
            subject: "jmp",
            field: &[],
            value_a: &["prog_first"],
            value_b: &["prog_second"],
        },
        "conflict_initial_values",
    );
}

// --- usage errors --------------------------------------------------------------------------

#[test]
fn usage_errors_exit_2() {
    let dir = TempDir::new("usage");
    let out = dir.join("out.o");
    let entry = fixture("seed/entry");
    let cases: Vec<Vec<&std::ffi::OsStr>> = vec![
        vec![],                                                // nothing at all
        vec![entry.as_os_str()],                               // no -o
        vec![entry.as_os_str(), "-o".as_ref()],                // -o without a value
        vec!["link".as_ref(), "-o".as_ref(), out.as_os_str()], // no inputs
        vec![
            entry.as_os_str(),
            "--no-such-flag".as_ref(),
            "-o".as_ref(),
            out.as_os_str(),
        ],
    ];
    for args in cases {
        let r = common::bpfmerge(&args);
        assert_eq!(r.code, Some(2), "bpfmerge {args:?}; stderr:\n{}", r.stderr);
        assert!(
            !r.stderr.contains("panicked"),
            "bpfmerge {args:?} panicked:\n{}",
            r.stderr
        );
        assert!(
            !r.stderr.trim().is_empty(),
            "bpfmerge {args:?}: no usage message"
        );
        assert!(!out.exists(), "bpfmerge {args:?} wrote {}", out.display());
    }
}

/// Every conflict scenario under bpf/ has a test here.
#[test]
fn every_conflict_folder_is_tested() {
    let tested = [
        "conflict_endian",
        "conflict_func",
        "conflict_key_type",
        "conflict_license",
        "conflict_map_type",
        "conflict_max_entries",
        "conflict_pinning",
        "conflict_values",
    ];
    let found: Vec<String> = common::list_dir(&common::repo_dir().join("bpf"))
        .into_iter()
        .filter(|n| n.starts_with("conflict_"))
        .collect();
    assert_eq!(found, tested);
}

/// The message checks above find what they should and nothing more (a good message passes, a
/// message that only names the files does not).
#[test]
fn message_checks_are_strict() {
    let inputs = [
        PathBuf::from("/x/conflict_pinning/unpinned.o"),
        PathBuf::from("/x/conflict_pinning/pinned.o"),
    ];
    let good =
        "bpfmerge: error: map pinned_stats: pinning differs: /x/conflict_pinning/unpinned.o \
                has 0 (none), /x/conflict_pinning/pinned.o has 1 (by_name)";
    assert_file(good, "unpinned.o", "a");
    assert_file(good, "pinned.o", "b");
    let words = without_paths(good, &inputs);
    assert_word(&words, &["pinned_stats"], "subject");
    assert_word(&words, &["pinning"], "field");
    assert_word(&words, &["unpinned", "0"], "value a");
    assert_word(&words, &["by_name"], "value b");

    let fails = |f: &dyn Fn()| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err();
    let only_files = "error in /x/conflict_pinning/unpinned.o and /x/conflict_pinning/pinned.o";
    let words = without_paths(only_files, &inputs);
    assert!(fails(&|| assert_word(
        &words,
        &["unpinned", "0"],
        "value a"
    )));
    assert!(fails(&|| assert_word(&words, &["pinned_stats"], "subject")));
    assert!(fails(&|| assert_file(
        "error in /x/unpinned.o",
        "pinned.o",
        "b"
    )));
    assert!(fails(&|| assert_word(
        "key_size differs",
        &["key"],
        "field"
    )));
}
