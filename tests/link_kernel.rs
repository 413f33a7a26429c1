//! Link each scenario's fixtures, then check the result: it loads into the running kernel
//! through libbpf-rs and behaves as the C sources say (BPF_PROG_TEST_RUN, then map contents
//! that are only possible when the maps are shared and the statics are not), bpftool loads and
//! dumps it, linking is deterministic, and a linked object links again (alone, or with the
//! last input added later) into an object that behaves the same.
//!
//! Kernel tests skip with a printed reason when not root or without bpffs; with
//! `BPFMERGE_REQUIRE_KERNEL=1` that is a failure. `BPFMERGE_TEST_LINKER=bpftool|libbpf` runs
//! the same tests with libbpf's linker on the `weak/` fixtures (to check the tests themselves).
//! Every test runs on clang 14's and on clang 19's fixtures (`common::for_each_compiler`).

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use common::scenarios::{self, Scenario};
use common::{
    bpftool, elf_summary, fixture_inputs, for_each_compiler, link, linker, load_and_check, Input,
    LinkerKind, TempDir,
};

/// Scenarios the selected linker cannot link are skipped (only ever for libbpf's linker).
fn linkable(sc: &Scenario, test: &str) -> bool {
    if linker() != LinkerKind::Bpfmerge && !sc.libbpf.yes() {
        eprintln!(
            "SKIP {test}: libbpf's linker cannot link scenario {}",
            sc.name
        );
        return false;
    }
    true
}

/// Link the scenario's fixtures into `dir/<name>.o`.
fn link_scenario(sc: &Scenario, dir: &TempDir, name: &str) -> PathBuf {
    let out = dir.join(&format!("{name}.o"));
    link(&fixture_inputs(sc.objects), &out);
    out
}

fn behaviour(sc: &Scenario, test: &str) {
    require_kernel!(test);
    if !linkable(sc, test) {
        return;
    }
    let dir = TempDir::new(test);
    let out = link_scenario(sc, &dir, "merged");
    load_and_check(&out, sc, "link then load");
}

/// bpftool loads every program of the linked object (pinning each under a fresh bpffs
/// directory) and dumps its BTF, in which each map's variable appears once.
fn bpftool_loadall_and_btf_dump(sc: &Scenario, test: &str) {
    require_kernel!(test);
    if !linkable(sc, test) {
        return;
    }
    let dir = TempDir::new(test);
    let out = link_scenario(sc, &dir, "merged");

    let pins = TempDir::under(std::path::Path::new(common::BPFFS), test);
    let pin_dir = pins.join("progs");
    let r = bpftool(&[
        "prog".as_ref(),
        "loadall".as_ref(),
        out.as_os_str(),
        pin_dir.as_os_str(),
    ]);
    assert_eq!(
        r.code,
        Some(0),
        "bpftool prog loadall failed:\n{}",
        r.stderr
    );
    let pinned: BTreeSet<String> = common::list_dir(&pin_dir).into_iter().collect();
    let want: BTreeSet<String> = sc.progs.iter().map(|s| s.to_string()).collect();
    assert_eq!(pinned, want, "programs pinned by bpftool prog loadall");

    let r = bpftool(&[
        "btf".as_ref(),
        "dump".as_ref(),
        "file".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(r.code, Some(0), "bpftool btf dump failed:\n{}", r.stderr);
    for m in sc.maps {
        let var = format!("VAR '{m}' ");
        let n = r.stdout.matches(&var).count();
        assert_eq!(
            n, 1,
            "BTF of the linked object has {n} VARs named {m}:\n{}",
            r.stdout
        );
    }
    assert!(
        r.stdout.contains("DATASEC '.maps'"),
        "no .maps DATASEC in the BTF:\n{}",
        r.stdout
    );
}

fn deterministic(sc: &Scenario, test: &str) {
    if !linkable(sc, test) {
        return;
    }
    let dir = TempDir::new(test);
    let a = link_scenario(sc, &dir, "first");
    let b = link_scenario(sc, &dir, "second");
    let (a, b) = (fs::read(a).unwrap(), fs::read(b).unwrap());
    assert!(!a.is_empty(), "empty output");
    assert!(a == b, "linking the same inputs twice gave different bytes");
}

/// Linking the linked object alone again gives an object that loads and behaves the same; doing
/// it twice reaches a fixed point in size (nothing is added on each pass).
fn relink_alone(sc: &Scenario, test: &str) {
    if !linkable(sc, test) {
        return;
    }
    let dir = TempDir::new(test);
    let once = link_scenario(sc, &dir, "once");
    let twice = dir.join("twice.o");
    link(&[Input::Path(once.clone())], &twice);
    let thrice = dir.join("thrice.o");
    link(&[Input::Path(twice.clone())], &thrice);
    if linker() == LinkerKind::Bpfmerge {
        let (t2, t3) = (fs::read(&twice).unwrap(), fs::read(&thrice).unwrap());
        assert!(t2 == t3, "relinking a relinked object changed it again");
    }
    if !common::kernel_ready(test) {
        return;
    }
    load_and_check(&twice, sc, "link, link the result alone, load");
}

/// Link all inputs but the last, then link that output with the last input: the same behaviour
/// as linking all at once (the partial link keeps externs, weak symbols and map definitions).
fn relink_with_last(sc: &Scenario, test: &str) {
    if !linkable(sc, test) {
        return;
    }
    let dir = TempDir::new(test);
    let (last, first) = sc.objects.split_last().expect("a scenario has objects");
    let partial = dir.join("partial.o");
    link(&fixture_inputs(first), &partial);
    let out = dir.join("merged.o");
    link(&[Input::Path(partial), Input::Fixture(last)], &out);
    if !common::kernel_ready(test) {
        return;
    }
    load_and_check(
        &out,
        sc,
        "link all but the last, then link with the last, load",
    );
}

/// bpfmerge's own promises about the output, checked with goblin rather than libbpf: a
/// relocatable EM_BPF object, each map one global symbol in `.maps` whose size adds up to the
/// section (no leftover bytes of dropped definitions), no `.debug_*` or `.llvm_addrsig`.
fn elf_shape(sc: &Scenario, test: &str) {
    if linker() != LinkerKind::Bpfmerge {
        eprintln!("SKIP {test}: checks bpfmerge's output only");
        return;
    }
    let dir = TempDir::new(test);
    let out = link_scenario(sc, &dir, "merged");
    let elf = elf_summary(&out);
    assert_eq!(elf.machine, goblin::elf::header::EM_BPF, "e_machine");
    assert_eq!(elf.e_type, goblin::elf::header::ET_REL, "e_type");
    assert!(elf.little_endian, "the fixtures are little-endian");
    let mut maps_bytes = 0;
    for m in sc.maps {
        let syms: Vec<_> = elf.symbols_named(m).collect();
        assert_eq!(syms.len(), 1, "symbols named {m}: {syms:?}");
        let s = syms[0];
        assert_eq!(s.section.as_deref(), Some(".maps"), "section of {m}");
        assert_eq!(s.bind, goblin::elf::sym::STB_GLOBAL, "binding of map {m}");
        assert!(s.size > 0, "size of {m}");
        maps_bytes += s.size;
    }
    let maps_size = elf.section_size(".maps").expect("a .maps section");
    assert!(
        maps_size >= maps_bytes && maps_size < maps_bytes + 8 * sc.maps.len() as u64,
        ".maps is {maps_size} bytes for map definitions of {maps_bytes} bytes in all (alignment \
         aside): leftover bytes of dropped definitions?"
    );
    for (name, _) in &elf.sections {
        assert!(
            !name.starts_with(".debug_")
                && !name.starts_with(".rel.debug_")
                && name != ".llvm_addrsig",
            "section {name} should have been dropped"
        );
    }
    for p in sc.progs {
        let n = elf.symbols_named(p).count();
        assert_eq!(n, 1, "symbols named {p}");
    }
    // `.values` relocations: each lies inside a surviving map definition and points at a
    // program or a map of the scenario.
    let maps_relocs = elf.relocs_of(".maps");
    for (off, target) in maps_relocs {
        let inside = sc.maps.iter().any(|m| {
            elf.symbols_named(m).any(|s| {
                s.section.as_deref() == Some(".maps") && *off >= s.value && *off < s.value + s.size
            })
        });
        assert!(
            inside,
            ".maps relocation at {off} ({target}) lies in no map definition"
        );
        assert!(
            sc.progs.contains(&target.as_str()) || sc.maps.contains(&target.as_str()),
            ".maps relocation at {off} points at {target:?}, not a program or map"
        );
    }
    assert_eq!(
        maps_relocs.len(),
        sc.values_relocs,
        ".maps relocations (one per .values slot): {maps_relocs:?}"
    );
}

macro_rules! scenario_tests {
    ($($name:ident => $sc:expr),* $(,)?) => {$(
        mod $name {
            use super::*;
            const SC: &Scenario = &$sc;
            fn t(what: &str) -> String {
                format!("{}::{}", stringify!($name), what)
            }
            #[test]
            fn behaviour() {
                for_each_compiler(|| super::behaviour(SC, &t("behaviour")));
            }
            #[test]
            fn bpftool_loadall_and_btf_dump() {
                for_each_compiler(|| super::bpftool_loadall_and_btf_dump(SC, &t("bpftool_loadall_and_btf_dump")));
            }
            #[test]
            fn deterministic() {
                for_each_compiler(|| super::deterministic(SC, &t("deterministic")));
            }
            #[test]
            fn relink_alone() {
                for_each_compiler(|| super::relink_alone(SC, &t("relink_alone")));
            }
            #[test]
            fn relink_with_last() {
                for_each_compiler(|| super::relink_with_last(SC, &t("relink_with_last")));
            }
            #[test]
            fn elf_shape() {
                for_each_compiler(|| super::elf_shape(SC, &t("elf_shape")));
            }
        }
    )*};
}

scenario_tests! {
    seed => scenarios::SEED,
    statics => scenarios::STATICS,
    globals => scenarios::GLOBALS,
    globals_lib_first => scenarios::GLOBALS_LIB_FIRST,
    many => scenarios::MANY,
    init => scenarios::INIT,
    core => scenarios::CORE,
    loader_share => scenarios::LOADER_SHARE,
    firewall => scenarios::FIREWALL,
    tc_pair => scenarios::TC_PAIR,
    trace => scenarios::TRACE,
    typedef_keys => scenarios::TYPEDEF_KEYS,
    cc19_strings => scenarios::CC19_STRINGS,
    values_plain => scenarios::VALUES_PLAIN,
    static_maps => scenarios::STATIC_MAPS,
    empty_section => scenarios::EMPTY_SECTION,
    fold => scenarios::FOLD,
    fold_sample => scenarios::FOLD_SAMPLE,
    externs => scenarios::EXTERNS,
    fold_static_maps => scenarios::FOLD_STATIC_MAPS,
    hidden_vis => scenarios::HIDDEN_VIS,
    extern_types => scenarios::EXTERN_TYPES,
    typed_survivor => scenarios::TYPED_SURVIVOR,
    typed_survivor_typed_first => scenarios::TYPED_SURVIVOR_TYPED_FIRST,
    weak_promote => scenarios::WEAK_PROMOTE,
    license_once => scenarios::LICENSE_ONCE,
    extern_call => scenarios::EXTERN_CALL,
    proto_copy => scenarios::PROTO_COPY,
}

/// Every scenario in `scenarios::ALL` has its tests above.
#[test]
fn all_scenarios_have_tests() {
    let tested = [
        "seed",
        "statics",
        "globals",
        "globals_lib_first",
        "many",
        "init",
        "core",
        "loader_share",
        "firewall",
        "tc_pair",
        "trace",
        "typedef_keys",
        "cc19_strings",
        "values_plain",
        "static_maps",
        "empty_section",
        "fold",
        "fold_sample",
        "externs",
        "fold_static_maps",
        "hidden_vis",
        "extern_types",
        "typed_survivor",
        "typed_survivor_typed_first",
        "weak_promote",
        "license_once",
        "extern_call",
        "proto_copy",
    ];
    let all: Vec<&str> = scenarios::ALL.iter().map(|s| s.name).collect();
    assert_eq!(all, tested);
}

/// Two scenarios linked together (different maps and programs, no conflicts) still behave:
/// seed's tail call and statics' per-file statics in one object.
#[test]
fn two_scenarios_in_one_object() {
    for_each_compiler(two_scenarios_in_one_object_body);
}

fn two_scenarios_in_one_object_body() {
    let test = "two_scenarios_in_one_object";
    require_kernel!(test);
    let dir = TempDir::new(test);
    let out = dir.join("merged.o");
    let mut inputs = fixture_inputs(scenarios::SEED.objects);
    inputs.extend(fixture_inputs(scenarios::STATICS.objects));
    link(&inputs, &out);
    let objs = [common::load(&out)];
    for sc in [&scenarios::SEED, &scenarios::STATICS] {
        let obs = common::execute(&objs, sc);
        common::assert_expected(sc, &obs, "seed + statics in one link");
    }
}
