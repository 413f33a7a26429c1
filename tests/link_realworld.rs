//! Link rules found wrong on real projects' objects (kernel selftests, libbpf-tools, sched-ext),
//! checked on the linked ELF and on link-time errors; the scenarios that also run programs in
//! the kernel are in tests/link_kernel.rs (`hidden_vis`, ...). docs/link.md names each rule.

mod common;

use std::path::{Path, PathBuf};

use common::scenarios::{XDP_DROP, XDP_PASS};
use common::{bpfmerge, find_map, find_prog, fixture, for_each_compiler, run_packet, TempDir};
use libbpf_rs::{MapCore, MapFlags};

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

/// `inspect --json`'s `map_extra` of map `name` in the object at `path`.
fn inspected_map_extra(path: &Path, name: &str) -> u64 {
    let r = bpfmerge(&["inspect".as_ref(), path.as_os_str(), "--json".as_ref()]);
    assert_eq!(r.code, Some(0), "inspect {}: {}", path.display(), r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    v["objects"][0]["maps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no map {name} in {}", r.stdout))["map_extra"]
        .as_u64()
        .unwrap()
}

fn read_u64(map: &dyn MapCore, key: u32) -> Option<u64> {
    let v = map.lookup(&key.to_ne_bytes(), MapFlags::ANY).ok()??;
    Some(u64::from_ne_bytes(v.get(..8)?.try_into().ok()?))
}

/// `__ulong(map_extra, 3)` — libbpf >= 1.4's one-value enum, read by libbpf's
/// `get_map_field_long` — is accepted by link, inspect and check. Kernel: the linked bloom
/// filter (3 hash functions) is one map for both files: query.c finds nothing in the empty
/// filter (XDP_DROP: an empty bloom filter has no false positives), add.c adds 42, then query.c
/// may find it (XDP_PASS: an added value is always found). (bpftool 7.1's libbpf 1.1 cannot
/// open `__ulong` objects, so this is loaded with libbpf-rs's vendored libbpf, not a Scenario.)
#[test]
fn ulong_map_extra_is_read_like_libbpf_and_the_bloom_filter_works() {
    let test = "ulong_map_extra_is_read_like_libbpf_and_the_bloom_filter_works";
    for_each_compiler(|| {
        let dir = TempDir::new(test);
        let stems = ["ulong_extra/add", "ulong_extra/query"];
        let out = link_ok(&dir, "merged", &stems);
        for s in stems {
            assert_eq!(inspected_map_extra(&fixture(s), "seen"), 3, "{s}");
        }
        assert_eq!(inspected_map_extra(&out, "seen"), 3, "linked");
        let mut check: Vec<PathBuf> = vec!["check".into()];
        check.extend(stems.iter().map(|s| fixture(s)));
        let r = bpfmerge(&check);
        assert_eq!(r.code, Some(0), "check: {}", r.stderr);
        if !common::kernel_ready(test) {
            return;
        }
        let objs = [common::load(&out)];
        let (add, has) = (
            find_prog(&objs, "xdp_bloom_add"),
            find_prog(&objs, "xdp_bloom_has"),
        );
        assert_eq!(run_packet(&has), XDP_DROP, "empty filter");
        assert_eq!(run_packet(&add), XDP_PASS, "push succeeded");
        assert_eq!(run_packet(&has), XDP_PASS, "42 was added by the other file");
        let seen = find_map(&objs, "seen");
        assert_eq!(seen.info().unwrap().info.map_extra, 3, "kernel's map_extra");
        let counts = find_map(&objs, "seen_count");
        assert_eq!(read_u64(&counts, 0), Some(1), "xdp_bloom_add ran once");
        assert_eq!(read_u64(&counts, 1), Some(2), "xdp_bloom_has ran twice");
    });
}

/// A 64-bit `__ulong(map_extra, 1 << 44)` (an arena's address) is an ENUM64 from clang 19 and
/// compared as 64 bits: arena_other.c's 1 << 45 is a map_extra conflict. clang 14 has no
/// ENUM64 and writes a 4-byte enum whose value is cut to 0 (libbpf reads 0 as well), so there
/// both definitions agree on 0.
#[test]
fn ulong_map_extra_of_64_bits_is_compared() {
    for_each_compiler(|| {
        let dir = TempDir::new("ulong_map_extra_of_64_bits_is_compared");
        let arena = fixture("ulong_extra_link/arena");
        let other = fixture("ulong_extra_link/arena_other");
        if common::compiler::compiler() == common::compiler::Compiler::Clang14 {
            assert_eq!(inspected_map_extra(&arena, "arena"), 0);
            link_ok(
                &dir,
                "merged",
                &["ulong_extra_link/arena", "ulong_extra_link/arena_other"],
            );
            return;
        }
        assert_eq!(inspected_map_extra(&arena, "arena"), 1 << 44);
        assert_eq!(inspected_map_extra(&other, "arena"), 1 << 45);
        let err = link_fails(
            &dir,
            &["ulong_extra_link/arena", "ulong_extra_link/arena_other"],
        );
        assert!(
            err.contains(&format!(
                "map `arena`: map_extra differs: {} has 17592186044416, {} has 35184372088832",
                arena.display(),
                other.display()
            )),
            "{err}"
        );
    });
}

const STB_WEAK: u8 = 2;

/// A weak definition referenced by a strong (plain) extern is GLOBAL in the output, as in
/// libbpf's linker ("a mix of weak and non-weak extern definitions will end up being strong"):
/// lib.c's `__weak policy` + user.c's `extern int policy(int)`. Alone, lib.c's stays WEAK.
/// Relinking the output with another strong `policy` is then a conflict (libbpf's linker
/// refuses it too), where before it silently replaced the function; linked with lib.c directly,
/// other.c's strong `policy` beats the weak one (kernel: user.c's policy(2) returns 2).
#[test]
fn weak_definition_with_a_strong_extern_becomes_global() {
    let test = "weak_definition_with_a_strong_extern_becomes_global";
    for_each_compiler(|| {
        let dir = TempDir::new(test);
        let alone = link_ok(&dir, "alone", &["weak_promote/lib"]);
        assert_eq!(
            bind_and_visibility(&alone, "policy"),
            [(STB_WEAK, STV_DEFAULT)]
        );
        for (n, order) in [
            ["weak_promote/lib", "weak_promote/user"],
            ["weak_promote/user", "weak_promote/lib"],
        ]
        .iter()
        .enumerate()
        {
            let out = link_ok(&dir, &format!("order{n}"), order);
            assert_eq!(
                bind_and_visibility(&out, "policy"),
                [(STB_GLOBAL, STV_DEFAULT)],
                "{order:?}"
            );
        }
        let merged = dir.join("order0.o");
        let other = fixture("weak_promote_relink/other");
        let refused = dir.join("relinked.o");
        let r = bpfmerge(&[
            merged.as_os_str(),
            other.as_os_str(),
            "-o".as_ref(),
            refused.as_os_str(),
        ]);
        assert_eq!(
            r.code,
            Some(1),
            "relink with a second strong policy: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("symbol `policy` is defined in both"),
            "{}",
            r.stderr
        );
        assert!(!refused.exists());
        let direct = link_ok(
            &dir,
            "direct",
            &[
                "weak_promote/lib",
                "weak_promote_relink/other",
                "weak_promote/user",
            ],
        );
        assert_eq!(
            bind_and_visibility(&direct, "policy"),
            [(STB_GLOBAL, STV_DEFAULT)]
        );
        if !common::kernel_ready(test) {
            return;
        }
        let objs = [common::load(&direct)];
        // other.c's policy(x) = x: user.c's policy(2) = XDP_PASS, lib.c's policy(1) = XDP_DROP,
        // other.c's policy(3) = XDP_TX.
        assert_eq!(run_packet(&find_prog(&objs, "xdp_wp_user")), XDP_PASS);
        assert_eq!(run_packet(&find_prog(&objs, "xdp_wp_lib")), XDP_DROP);
        assert_eq!(run_packet(&find_prog(&objs, "xdp_wp_other")), 3);
    });
}

/// Names of the symbols (not section symbols) in section `section` of the object at `path`.
fn symbols_in(path: &Path, section: &str) -> Vec<String> {
    common::elf_summary(path)
        .symbols
        .into_iter()
        .filter(|s| s.section.as_deref() == Some(section) && !s.name.is_empty())
        .filter(|s| s.name != section)
        .map(|s| s.name)
        .collect()
}

/// `license` and `version` appear once, and a later file's copy under another name leaves no
/// alias symbol and no BTF VAR (a dangling VAR in no DATASEC): the output has the first file's
/// names only, in either order, each VAR listed once in its DATASEC.
#[test]
fn dropped_license_and_version_copies_leave_no_symbol_or_var() {
    for_each_compiler(|| {
        let dir = TempDir::new("dropped_license_and_version_copies_leave_no_symbol_or_var");
        for (n, (order, kept)) in [
            (
                ["license_once/one", "license_once/two"],
                ["LICENSE", "VERSION"],
            ),
            (
                ["license_once/two", "license_once/one"],
                ["_license", "_version"],
            ),
        ]
        .iter()
        .enumerate()
        {
            let out = link_ok(&dir, &format!("order{n}"), order);
            assert_eq!(symbols_in(&out, "license"), [kept[0]], "{order:?}");
            assert_eq!(symbols_in(&out, "version"), [kept[1]], "{order:?}");
            let r = common::bpftool(&[
                "btf".as_ref(),
                "dump".as_ref(),
                "file".as_ref(),
                out.as_os_str(),
            ]);
            assert_eq!(r.code, Some(0), "{}", r.stderr);
            let vars: Vec<&str> = r
                .stdout
                .lines()
                .filter(|l| l.contains("] VAR '"))
                .filter_map(|l| l.split('\'').nth(1))
                .filter(|v| {
                    v.to_lowercase().contains("license") || v.to_lowercase().contains("version")
                })
                .collect();
            assert_eq!(vars, kept, "{order:?}: {}", r.stdout);
        }
    });
}

/// Ids of the FUNC_PROTOs that no type of the BTF (as `bpftool btf dump` prints it) refers to.
fn unreferenced_protos(path: &Path) -> Vec<String> {
    let r = common::bpftool(&[
        "btf".as_ref(),
        "dump".as_ref(),
        "file".as_ref(),
        path.as_os_str(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let protos: Vec<String> = r
        .stdout
        .lines()
        .filter(|l| l.contains("] FUNC_PROTO "))
        .filter_map(|l| l.strip_prefix('[')?.split(']').next().map(str::to_string))
        .collect();
    let referenced = |id: &str| {
        r.stdout.split(|c: char| c.is_whitespace()).any(|w| {
            w.strip_prefix("type_id=")
                .or_else(|| w.strip_prefix("ret_type_id="))
                .is_some_and(|v| v.trim_end_matches(',') == id)
        })
    };
    protos.into_iter().filter(|p| !referenced(p)).collect()
}

/// A resolved extern function's FUNC_PROTO (clang writes one per extern declaration) leaves
/// the output with it: no FUNC_PROTO without a user, in extern_call's link (caller.c's
/// `extern int triple(int)`) and in every scenario's.
#[test]
fn resolved_extern_functions_leave_no_unreferenced_prototype() {
    for_each_compiler(|| {
        let dir = TempDir::new("resolved_extern_functions_leave_no_unreferenced_prototype");
        let out = link_ok(
            &dir,
            "extern_call",
            &["extern_call/caller", "extern_call/callee"],
        );
        assert_eq!(
            unreferenced_protos(&out),
            Vec::<String>::new(),
            "extern_call"
        );
        for sc in common::scenarios::ALL {
            let out = link_ok(&dir, sc.name, sc.objects);
            assert_eq!(
                unreferenced_protos(&out),
                Vec::<String>::new(),
                "{}",
                sc.name
            );
        }
    });
}

/// Relinking is equivalent, and byte-stable after one pass (docs/link.md, "Relinking"): for
/// every scenario, the linked object relinked alone has the same BTF as `bpftool btf dump`
/// prints it, and relinking that gives exactly the same bytes.
#[test]
fn relinking_reaches_a_byte_fixed_point_with_the_same_btf() {
    for_each_compiler(|| {
        let dir = TempDir::new("relinking_reaches_a_byte_fixed_point_with_the_same_btf");
        let relink = |from: &Path, to: &Path| {
            let r = bpfmerge(&[from.as_os_str(), "-o".as_ref(), to.as_os_str()]);
            assert_eq!(
                r.code,
                Some(0),
                "relinking {}: {}",
                from.display(),
                r.stderr
            );
        };
        let dump = |p: &Path| {
            let r = common::bpftool(&[
                "btf".as_ref(),
                "dump".as_ref(),
                "file".as_ref(),
                p.as_os_str(),
            ]);
            assert_eq!(r.code, Some(0), "{}", r.stderr);
            r.stdout
        };
        for sc in common::scenarios::ALL {
            let l1 = link_ok(&dir, &format!("{}_1", sc.name), sc.objects);
            let (l2, l3) = (
                dir.join(&format!("{}_2.o", sc.name)),
                dir.join(&format!("{}_3.o", sc.name)),
            );
            relink(&l1, &l2);
            relink(&l2, &l3);
            assert_eq!(dump(&l1), dump(&l2), "{}: BTF after one relink", sc.name);
            assert!(
                std::fs::read(&l2).unwrap() == std::fs::read(&l3).unwrap(),
                "{}: the second relink changed bytes",
                sc.name
            );
        }
    });
}

/// Objects whose relink is not byte-identical, and why: the first link drops an empty `.rodata`
/// DATASEC, whose name stays in the BTF string table (the BTF module never drops strings), so
/// the relinked object's table lacks it. docs/link.md, "Relinking".
const RELINK_STRING_LEFTOVERS: &[&str] = &["hidden_vis/weak"];

/// Every fixture object linked alone and relinked gives the same bytes (the output's DATASECs
/// and `.BTF.ext` sections are written in the order their names were first met, so the relink
/// meets them in the same order), except the objects of [`RELINK_STRING_LEFTOVERS`].
#[test]
fn single_objects_relink_byte_identical() {
    for_each_compiler(|| {
        let dir = TempDir::new("single_objects_relink_byte_identical");
        let mut stems: Vec<&str> = common::scenarios::ALL
            .iter()
            .flat_map(|sc| sc.objects.iter().copied())
            .collect();
        stems.sort();
        stems.dedup();
        for stem in stems {
            let name = stem.replace('/', "_");
            let l1 = link_ok(&dir, &format!("{name}_1"), &[stem]);
            let l2 = dir.join(&format!("{name}_2.o"));
            let r = bpfmerge(&[l1.as_os_str(), "-o".as_ref(), l2.as_os_str()]);
            assert_eq!(r.code, Some(0), "{}", r.stderr);
            let same = std::fs::read(&l1).unwrap() == std::fs::read(&l2).unwrap();
            assert_eq!(
                same,
                !RELINK_STRING_LEFTOVERS.contains(&stem),
                "{stem}: relink byte-identical"
            );
        }
    });
}
