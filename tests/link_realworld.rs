//! Link rules found wrong on real projects' objects (kernel selftests, libbpf-tools, sched-ext),
//! checked on the linked ELF and on link-time errors; the scenarios that also run programs in
//! the kernel are in tests/link_kernel.rs (`hidden_vis`, ...). docs/link.md names each rule.

mod common;

use std::path::{Path, PathBuf};

use common::{bpfmerge, fixture, for_each_compiler, TempDir};

/// Link `stems` (fixture stems) into `dir/name.o`; panics with bpfmerge's stderr on failure.
fn link_ok(dir: &TempDir, name: &str, stems: &[&str]) -> PathBuf {
    let out = dir.join(&format!("{name}.o"));
    let mut args: Vec<PathBuf> = stems.iter().map(|s| fixture(s)).collect();
    args.push("-o".into());
    args.push(out.clone());
    let r = bpfmerge(&args);
    assert_eq!(r.code, Some(0), "linking {stems:?}: {}", r.stderr);
    out
}

/// (binding, visibility) of every symbol called `name` in the object at `path`.
fn bind_and_visibility(path: &Path, name: &str) -> Vec<(u8, u8)> {
    let bytes = std::fs::read(path).unwrap();
    let elf = goblin::elf::Elf::parse(&bytes).unwrap();
    elf.syms
        .iter()
        .filter(|s| elf.strtab.get_at(s.st_name) == Some(name))
        .map(|s| (s.st_bind(), s.st_visibility()))
        .collect()
}

const STB_GLOBAL: u8 = 1;
const STV_DEFAULT: u8 = 0;
const STV_HIDDEN: u8 = 2;

/// Visibility is contaminating (libbpf's linker.c, linker_append_elf_sym): the strictest
/// visibility of any symbol of the name — the definition, an extern declaration, a losing weak
/// definition — is the output symbol's, whatever the input order. def.c's definitions are
/// DEFAULT; use.c's extern of take_second and weak.c's weak take_third are HIDDEN.
#[test]
fn visibility_is_the_strictest_of_every_symbol_of_the_name() {
    for_each_compiler(|| {
        let dir = TempDir::new("visibility_is_the_strictest_of_every_symbol_of_the_name");
        let orders: [&[&str]; 3] = [
            &["hidden_vis/use", "hidden_vis/def", "hidden_vis/weak"],
            &["hidden_vis/def", "hidden_vis/use", "hidden_vis/weak"],
            &["hidden_vis/weak", "hidden_vis/def", "hidden_vis/use"],
        ];
        for (n, order) in orders.iter().enumerate() {
            let out = link_ok(&dir, &format!("order{n}"), order);
            for name in ["take_second", "take_third"] {
                assert_eq!(
                    bind_and_visibility(&out, name),
                    [(STB_GLOBAL, STV_HIDDEN)],
                    "{name} in the link of {order:?}"
                );
            }
            // A name nobody marks hidden keeps its default visibility.
            assert_eq!(
                bind_and_visibility(&out, "xdp_vis_def"),
                [(STB_GLOBAL, STV_DEFAULT)]
            );
        }
        // def.c alone: nothing says hidden.
        let alone = link_ok(&dir, "alone", &["hidden_vis/def"]);
        assert_eq!(
            bind_and_visibility(&alone, "take_second"),
            [(STB_GLOBAL, STV_DEFAULT)]
        );
    });
}

/// Link `stems` expecting failure: exit status 1, nothing written; returns stderr.
fn link_fails(dir: &TempDir, stems: &[&str]) -> String {
    let out = dir.join("refused.o");
    let mut args: Vec<PathBuf> = stems.iter().map(|s| fixture(s)).collect();
    args.push("-o".into());
    args.push(out.clone());
    let r = bpfmerge(&args);
    assert_eq!(
        r.code,
        Some(1),
        "linking {stems:?} should fail: {}",
        r.stderr
    );
    assert!(!out.exists(), "a refused link wrote {}", out.display());
    r.stderr
}

/// Externs are type-checked against their definition, and `.kconfig`/`.ksyms` externs and
/// weak definitions against each other, as libbpf's linker does (glob_sym_btf_matches): each
/// pair below is refused naming the symbol, both files and both types. The expected types and
/// reasons are read off the C sources in bpf/extern_types and bpf/extern_types_bad.
#[test]
fn extern_types_must_match_their_definition() {
    for_each_compiler(|| {
        let dir = TempDir::new("extern_types_must_match_their_definition");
        let cases: [(&[&str], &str, [&str; 2], &str); 7] = [
            (
                &["extern_types/def", "extern_types_bad/long_counter"],
                "counter",
                ["`int counter` in", "`long counter` in"],
                "INT sizes 4 and 8 bytes",
            ),
            (
                &["extern_types/def", "extern_types_bad/short_proto"],
                "combine",
                ["`long combine(long, long)` in", "`int combine(int)` in"],
                "numbers of function parameters 2 and 1",
            ),
            (
                &["extern_types_bad/var_of_func", "extern_types/def"],
                "combine",
                ["`int combine` in", "`long combine(long, long)` in"],
                "BTF kinds VAR and FUNC",
            ),
            (
                &["extern_types/use", "extern_types_bad/wide_kconfig"],
                "LINUX_KERNEL_VERSION",
                [
                    "`unsigned int LINUX_KERNEL_VERSION` in",
                    "`unsigned long long LINUX_KERNEL_VERSION` in",
                ],
                "INT sizes 4 and 8 bytes",
            ),
            (
                &["extern_types_bad/ksym_struct", "extern_types_bad/ksym_int"],
                "runqueues",
                [
                    "`const struct rq_like runqueues` in",
                    "`const int runqueues` in",
                ],
                "BTF kinds STRUCT and INT",
            ),
            (
                &["extern_types_bad/weak_int", "extern_types_bad/strong_long"],
                "knob",
                ["`int knob` in", "`long knob` in"],
                "INT sizes 4 and 8 bytes",
            ),
            (
                &["extern_types_bad/strong_long", "extern_types_bad/weak_int"],
                "knob",
                ["`long knob` in", "`int knob` in"],
                "INT sizes 8 and 4 bytes",
            ),
        ];
        for (stems, name, types, reason) in cases {
            let err = link_fails(&dir, stems);
            let files: Vec<String> = stems
                .iter()
                .map(|s| fixture(s).display().to_string())
                .collect();
            let want = format!(
                "symbol `{name}`: incompatible types: {} {} and {} {} ({reason})",
                types[0], files[0], types[1], files[1]
            );
            assert!(
                err.contains(&want),
                "{stems:?}: expected\n  {want}\ngot\n  {err}"
            );
        }
    });
}

/// `check` reports every incompatible extern as a `symbol` conflict with both types.
#[test]
fn check_reports_every_incompatible_extern() {
    for_each_compiler(|| {
        let stems = [
            "extern_types/def",
            "extern_types_bad/long_counter",
            "extern_types_bad/short_proto",
        ];
        let mut args: Vec<PathBuf> = stems.iter().map(|s| fixture(s)).collect();
        args.insert(0, "check".into());
        args.push("--json".into());
        let r = bpfmerge(&args);
        assert_eq!(r.code, Some(1), "{}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let conflicts = v["conflicts"].as_array().unwrap();
        let summary: Vec<(String, String, Vec<String>)> = conflicts
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["field"].as_str().unwrap().to_string(),
                    c["values"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_str().unwrap().to_string())
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "counter".to_string(),
                    "type: INT sizes 4 and 8 bytes".to_string(),
                    vec!["int counter".to_string(), "long counter".to_string()]
                ),
                (
                    "combine".to_string(),
                    "type: numbers of function parameters 2 and 1".to_string(),
                    vec![
                        "long combine(long, long)".to_string(),
                        "int combine(int)".to_string()
                    ]
                ),
            ]
        );
    });
}

/// The agreeing declarations link (the kernel test `extern_types::*` runs them): one
/// LINUX_KERNEL_VERSION extern, undefined, in the output.
#[test]
fn agreeing_externs_link_into_one() {
    for_each_compiler(|| {
        let dir = TempDir::new("agreeing_externs_link_into_one");
        let out = link_ok(
            &dir,
            "merged",
            &["extern_types/def", "extern_types/use", "extern_types/kc"],
        );
        let elf = common::elf_summary(&out);
        let kv: Vec<_> = elf.symbols_named("LINUX_KERNEL_VERSION").collect();
        assert_eq!(kv.len(), 1, "{kv:?}");
        assert_eq!(kv[0].section, None, "still an extern");
        assert_eq!(elf.symbols_named("counter").count(), 1);
        assert_eq!(elf.symbols_named("combine").count(), 1);
    });
}
