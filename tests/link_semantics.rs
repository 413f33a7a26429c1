//! Link semantics as a user meets them on the command line (exit status, messages, `-v`,
//! `--json`, `check`), rule by rule of docs/link.md: map definitions compared as libbpf sees
//! them, file-local (static) maps kept apart, identical definitions folded, libbpf-compatible
//! input checks. The kernel behaviour of the same scenarios is in tests/link_kernel.rs.

mod common;

use std::ffi::OsString;

use serde_json::Value;

use common::{bpfmerge, fixture, for_each_compiler, TempDir};

fn args(words: &[&str], fixtures: &[&str]) -> Vec<OsString> {
    let mut v: Vec<OsString> = words.iter().map(OsString::from).collect();
    v.extend(fixtures.iter().map(|f| fixture(f).into_os_string()));
    v
}

/// `bpfmerge <fixtures> -o out <extra>`: (exit code, stdout, stderr, whether out exists).
fn link(test: &str, fixtures: &[&str], extra: &[&str]) -> (Option<i32>, String, String, bool) {
    let dir = TempDir::new(test);
    let out = dir.join("out.o");
    let mut a = args(&[], fixtures);
    a.push("-o".into());
    a.push(out.clone().into_os_string());
    a.extend(extra.iter().map(OsString::from));
    let r = bpfmerge(&a);
    (r.code, r.stdout, r.stderr, out.exists())
}

fn json_map<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["maps"]
        .as_array()
        .expect("maps array")
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no map {name} in {report}"))
}

// ---- Map definition rules (docs/link.md R1-R5) ----------------------------------------------

/// R1/R4: `jmp` and `outer` declared plainly in plain.c and with `values` in vals.c are one
/// definition; the kept one is vals.c's (it has the initialisers), whatever the input order.
#[test]
fn values_member_means_value_size_4_and_the_richest_definition_is_kept() {
    for_each_compiler(values_member_means_value_size_4_and_the_richest_definition_is_kept_body);
}

fn values_member_means_value_size_4_and_the_richest_definition_is_kept_body() {
    for order in [
        ["values_plain/plain", "values_plain/vals"],
        ["values_plain/vals", "values_plain/plain"],
    ] {
        // `-v` prints to stderr.
        let (code, _, stdout, written) = link("values_size_4", &order, &["-v"]);
        let stderr = &stdout;
        assert_eq!(code, Some(0), "{order:?}: {stderr}");
        assert!(written);
        for map in ["jmp (PROG_ARRAY (3))", "outer (ARRAY_OF_MAPS (12))"] {
            let line = stdout
                .lines()
                .find(|l| l.starts_with(&format!("map {map}")))
                .unwrap_or_else(|| panic!("no line for {map}:\n{stdout}"));
            assert!(
                line.contains("merged 2 definitions")
                    && line.ends_with(&format!("{})", fixture("values_plain/vals").display())),
                "{order:?}: {line}"
            );
        }
    }
}

/// R1 refusals: what libbpf refuses in a map definition is refused, exit 1, naming the file,
/// the map and the field, and nothing is written.
#[test]
fn map_definitions_libbpf_refuses_are_refused() {
    for_each_compiler(map_definitions_libbpf_refuses_are_refused_body);
}

fn map_definitions_libbpf_refuses_are_refused_body() {
    for (fx, needles) in [
        (
            "bad_values/on_array",
            &[
                "on_array.o",
                "map `arr`",
                "`values` is only allowed on a prog array or a map-in-map, not on type ARRAY",
            ][..],
        ),
        (
            "bad_values/size8",
            &[
                "size8.o",
                "map `jmp`",
                "value size 8 conflicts with `values`, which means value size 4",
            ][..],
        ),
        (
            "bad_values/key_conflict",
            &[
                "key_conflict.o",
                "map `keys`",
                "field `key`: conflicting sizes 8 and 4",
            ][..],
        ),
    ] {
        let (code, _, stderr, written) = link("libbpf_refuses", &[fx], &[]);
        assert_eq!(code, Some(1), "{fx}: {stderr}");
        assert!(!written, "{fx}: output written on error");
        assert!(!stderr.contains("panicked"), "{stderr}");
        for n in needles {
            assert!(stderr.contains(n), "{fx}: `{n}` in {stderr}");
        }
    }
}

/// R3: a perf event array is created without BTF key/value types, so `int` and `__u32` keys
/// and values of the same size are one definition (an ARRAY's are not: see
/// tests/link_errors.rs, conflict_key_type).
#[test]
fn key_and_value_types_libbpf_does_not_pass_to_the_kernel_are_not_compared() {
    for_each_compiler(key_and_value_types_libbpf_does_not_pass_to_the_kernel_are_not_compared_body);
}

fn key_and_value_types_libbpf_does_not_pass_to_the_kernel_are_not_compared_body() {
    let (code, _, stderr, written) = link(
        "no_btf_types",
        &["map_rules/signed", "map_rules/unsigned"],
        &[],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(written);
}

// ---- File-local maps -------------------------------------------------------------------------

const STATIC_MAPS: &[&str] = &["static_maps/a", "static_maps/b"];
const KEPT_APART: &str = "kept apart: static, definitions differ: type HASH vs ARRAY";

#[test]
fn differing_static_maps_are_kept_apart_and_reported_by_v() {
    for_each_compiler(differing_static_maps_are_kept_apart_and_reported_by_v_body);
}

fn differing_static_maps_are_kept_apart_and_reported_by_v_body() {
    // `-v` prints to stderr.
    let (code, _, stdout, written) = link("static_apart_v", STATIC_MAPS, &["-v"]);
    let stderr = &stdout;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(written);
    assert!(
        stdout.contains(&format!(
            "map map_static_2 (ARRAY (2)): from {}: {KEPT_APART}; renamed map_static -> \
             map_static_2",
            fixture("static_maps/b").display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("map map_static (HASH (1)): from"),
        "{stdout}"
    );
    // Static maps that agree are still one map.
    assert!(
        stdout.contains("map map_same (ARRAY (2)): merged 2 definitions"),
        "{stdout}"
    );
}

#[test]
fn differing_static_maps_in_json_and_check() {
    for_each_compiler(differing_static_maps_in_json_and_check_body);
}

fn differing_static_maps_in_json_and_check_body() {
    let (code, stdout, stderr, _) = link("static_apart_json", STATIC_MAPS, &["--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("json");
    let kept = json_map(&report, "map_static_2");
    assert_eq!(kept["renamed_from"], "map_static");
    assert_eq!(kept["kept_apart"], KEPT_APART);
    assert_eq!(kept["map_type"], "ARRAY (2)");
    let first = json_map(&report, "map_static");
    assert!(first["renamed_from"].is_null() && first["kept_apart"].is_null());

    let r = bpfmerge(&args(&["check", "--json"], STATIC_MAPS));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let check: Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(check["ok"], true);
    assert_eq!(json_map(&check, "map_static_2")["kept_apart"], KEPT_APART);
    let r = bpfmerge(&args(&["check"], STATIC_MAPS));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains(KEPT_APART), "{}", r.stdout);
}

/// A global map that differs from another definition is still a conflict.
#[test]
fn differing_global_maps_stay_an_error() {
    for_each_compiler(differing_global_maps_stay_an_error_body);
}

fn differing_global_maps_stay_an_error_body() {
    let (code, _, stderr, written) = link(
        "global_differs",
        &["conflict_map_type/hash", "conflict_map_type/lru"],
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!written);
    assert!(
        stderr.contains("map `conn_table`: type differs"),
        "{stderr}"
    );
}

// ---- Input checks ----------------------------------------------------------------------------

/// An empty code section that carries a func_info record (a naked empty function in a section
/// of its own, as the selftests' linked_funcs1.c has it) links, and `check` finds nothing
/// wrong; tests/link_kernel.rs `empty_section::*` loads and runs the result.
#[test]
fn empty_section_with_func_info_links() {
    for_each_compiler(empty_section_with_func_info_links_body);
}

fn empty_section_with_func_info_links_body() {
    let objs = ["empty_section/funcs", "empty_section/other"];
    let (code, _, stderr, written) = link("empty_section", &objs, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(written);
    assert!(stderr.is_empty(), "{stderr}");
    let r = bpfmerge(&args(&["check"], &objs));
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    // In the other order too (the empty section is then the last piece of its own section).
    let (code, _, stderr, _) = link("empty_section_rev", &[objs[1], objs[0]], &[]);
    assert_eq!(code, Some(0), "{stderr}");
}

// ---- Identical definitions fold --------------------------------------------------------------

const FOLD: &[&str] = &["fold/main", "fold/tool"];

#[test]
fn identical_definitions_fold_and_are_reported() {
    for_each_compiler(identical_definitions_fold_and_are_reported_body);
}

fn identical_definitions_fold_and_are_reported_body() {
    let (code, _, stderr, written) = link("fold_v", FOLD, &["-v"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(written);
    let (m, t) = (
        fixture("fold/main").display().to_string(),
        fixture("fold/tool").display().to_string(),
    );
    for what in ["function scale", "variable knob"] {
        let line = format!("folded {what}: identical definitions in {m} and {t} (kept {m})");
        assert!(stderr.contains(&line), "`{line}` in {stderr}");
    }

    let (code, stdout, stderr, _) = link("fold_json", FOLD, &["--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("json");
    let folded = report["folded"].as_array().expect("folded");
    let names: Vec<(&str, &str)> = folded
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("scale", "function"), ("knob", "variable")]);
    assert_eq!(folded[0]["kept_from"], m.as_str());
    assert_eq!(folded[0]["folded_from"], serde_json::json!([t]));

    let r = bpfmerge(&args(&["check", "--json"], FOLD));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let check: Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(check["folded"].as_array().map(Vec::len), Some(2));
}

/// The tracepoint programs two tools share (xdp_sample-like) fold, each program once, also
/// the one printing with a bpf_printk-style `static const char fmt[]` (each copy reaches its
/// own file's .rodata object, with the same bytes). With another format of the same length
/// the instructions are the same but the data is not: no fold, and the error shows both.
#[test]
fn identical_programs_of_two_tools_fold() {
    for_each_compiler(identical_programs_of_two_tools_fold_body);
}

fn identical_programs_of_two_tools_fold_body() {
    let objs = ["fold_sample/basic", "fold_sample/cpumap"];
    let (code, _, stderr, _) = link("fold_sample", &objs, &["-v"]);
    assert_eq!(code, Some(0), "{stderr}");
    for p in ["tp_xdp_exception", "tp_xdp_redirect"] {
        assert!(
            stderr.contains(&format!("folded function {p}: identical definitions")),
            "{stderr}"
        );
    }
    let (code, _, stderr, written) = link(
        "fold_sample_fmt",
        &["fold_sample/basic", "fold_differ/sample_fmt"],
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!written);
    assert!(
        stderr.contains(r#"refers to read-only .rodata data "xdp_exception: err %llu\n\0" of "#)
            && stderr.contains(r#"vs read-only .rodata data "xdp_exception: ERR %llu\n\0" of "#),
        "{stderr}"
    );
}

/// A strong definition that differs from the first stays an error, naming the first
/// difference: here the instruction index and both instructions (2 * x vs 3 * x).
#[test]
fn differing_definitions_name_the_first_difference() {
    for_each_compiler(differing_definitions_name_the_first_difference_body);
}

fn differing_definitions_name_the_first_difference_body() {
    let objs = ["fold/main", "fold_differ/differ"];
    let (code, _, stderr, written) = link("fold_differs", &objs, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!written, "nothing written on error");
    let m = fixture("fold/main").display().to_string();
    let d = fixture("fold_differ/differ").display().to_string();
    let msg = format!(
        "symbol `scale` is defined in both {m} and {d}, and the definitions differ: instruction "
    );
    assert!(stderr.contains(&msg), "{stderr}");
    // `x * 2` is a left shift by 1 (0x67 lsh imm 1), `x * 3` a multiplication (0x27 mul imm 3).
    assert!(
        stderr.contains("67 06 00 00 01 00 00 00 vs 27 06 00 00 03 00 00 00"),
        "{stderr}"
    );
    // `knob` is identical in both and folds; the map merges: only `scale` is a conflict.
    let r = bpfmerge(&args(&["check", "--json"], &objs));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let check: Value = serde_json::from_str(&r.stdout).expect("json");
    let conflicts = check["conflicts"].as_array().expect("conflicts");
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0]["kind"], "symbol");
    assert_eq!(conflicts[0]["name"], "scale");
    assert!(conflicts[0]["field"]
        .as_str()
        .is_some_and(|f| f.starts_with("definition: instruction ")));
    assert_eq!(check["folded"][0]["name"], "knob");
}

/// A variable that does not fold names its difference: the first differing byte, the section,
/// or the BTF type (when the bytes agree).
#[test]
fn differing_variables_name_the_difference() {
    for_each_compiler(differing_variables_name_the_difference_body);
}

fn differing_variables_name_the_difference_body() {
    for (fx, difference) in [
        ("fold_differ/knob_value", "byte 0: 0x01 vs 0x02"),
        ("fold_differ/knob_data", "section .rodata vs .data"),
        (
            "fold_differ/knob_signed",
            "BTF type: const volatile __u64 vs const volatile __s64",
        ),
    ] {
        let (code, _, stderr, written) = link("knob_differs", &["fold/main", fx], &[]);
        assert_eq!(code, Some(1), "{fx}: {stderr}");
        assert!(!written);
        assert!(
            stderr.contains("symbol `knob` is defined in both "),
            "{fx}: {stderr}"
        );
        assert!(
            stderr.contains(&format!("the definitions differ: {difference};")),
            "{fx}: {stderr}"
        );
    }
}

/// F3: copies whose code reaches their own file's statics are different code (each copy
/// would need its own statics), so they do not fold: the error names the file-local target.
#[test]
fn copies_using_their_own_statics_do_not_fold() {
    for_each_compiler(copies_using_their_own_statics_do_not_fold_body);
}

fn copies_using_their_own_statics_do_not_fold_body() {
    let (code, _, stderr, written) = link("own_statics", &["statics/a", "statics/a"], &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!written);
    assert!(
        stderr.contains("symbol `xdp_a` is defined in both")
            && stderr.contains("the definitions differ: relocation at instruction ")
            && stderr.contains("(file-local)"),
        "{stderr}"
    );
}

/// A header's global function using the header's static map: when the static maps agree they
/// are one map and the functions fold (tests/link_kernel.rs `fold_static_maps::*` runs it);
/// when they differ they are kept apart, the functions reach different maps and do not fold.
#[test]
fn functions_fold_only_when_their_static_maps_are_one() {
    for_each_compiler(functions_fold_only_when_their_static_maps_are_one_body);
}

fn functions_fold_only_when_their_static_maps_are_one_body() {
    let (code, _, stderr, _) = link(
        "fsm_fold",
        &["fold_static_maps/x", "fold_static_maps/y"],
        &["-v"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("folded function bump_hdr: identical definitions"),
        "{stderr}"
    );
    let (code, _, stderr, written) = link(
        "fsm_apart",
        &["fold_static_maps/x", "fold_differ/own_map"],
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!written);
    assert!(
        stderr.contains(
            "the definitions differ: relocation at instruction 5: refers to map `hdr_map` vs \
             map `hdr_map_2`"
        ),
        "{stderr}"
    );
}
