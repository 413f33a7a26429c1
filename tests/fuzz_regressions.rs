//! Regression tests for what the fuzzers and the mutation test found (issue 6).
//!
//! - `PATCHES`: a fixture with a few bytes overwritten, exactly as the failing mutation did;
//!   the link (alone, and with an intact partner in both orders) must end in a clean error
//!   that says what is wrong or in an output that passes the output checks (when the partner
//!   makes the damaged part irrelevant), at least one of them the error; never a panic.
//! - `fuzz/regressions/<target>/*`: every crash input the cargo-fuzz targets found, replayed
//!   through the same library calls as the target.

mod mutate;

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (fixture, intact partner, [(byte offset, width, little-endian value)], words the error
/// must contain, what the mutation was).
type Patch = (
    &'static str,
    &'static str,
    &'static [(usize, usize, u64)],
    &'static str,
    &'static str,
);

const PATCHES: &[Patch] = &[
    (
        "globals/lib.o",
        "globals/main.o",
        // BTF type [27] (DATASEC .kconfig): its entry names type [23] instead of the VAR [22].
        &[(2708, 4, 0x17)],
        "not a VAR or FUNC",
        "a section-less DATASEC (.kconfig) entry naming a non-VAR was copied into the output",
    ),
    (
        "loader_share/reader.o",
        "loader_share/writer.o",
        // Section header 5: sh_addralign = 2^63.
        &[(5024, 8, 0x8000_0000_0000_0000)],
        "alignment",
        "a section aligned to 2^63: the ELF writer's padding overflowed (capacity overflow panic)",
    ),
    (
        "globals/lib.o",
        "globals/main.o",
        // Section header 8 (.maps): sh_type = SHT_NULL.
        &[(6916, 4, 0)],
        "not PROGBITS",
        "a .maps section that is not PROGBITS: its maps were linked without their definitions",
    ),
    (
        "conflict_license/dual.o",
        "seed/handler.o",
        // Section header 6 (license): sh_type = 0x7fffffff.
        &[(4684, 4, 0x7fff_ffff)],
        "not PROGBITS",
        "a license section of unknown type: its 13-byte LICENSE landed in the partner's 4-byte \
         DATASEC license",
    ),
    (
        "conflict_license/gpl.o",
        "seed/handler.o",
        // BTF: LICENSE's char array made 0x7fffffff long.
        &[(1884, 4, 0x7fff_ffff)],
        "beyond the end of section",
        "a variable's BTF size beyond its section gave an output DATASEC entry outside the section",
    ),
    (
        "loader_badname/badprog.o",
        "seed/handler.o",
        // BTF type [12] (DATASEC license): name_off = 0.
        &[(1124, 4, 0)],
        "names no section",
        "a DATASEC renamed to no section kept its defined variable as if it were a .ksyms extern",
    ),
    (
        "seed/entry.o",
        "seed/handler.o",
        // BTF type [13] (STRUCT, counters' definition): size 0xffffffff.
        &[(1808 + 8, 4, 0xffff_ffff)],
        "symbol in .maps is 32 bytes",
        "a map definition struct claiming 4 GiB made the output .maps 4 GiB of zeroes (a hang, \
         then out of memory)",
    ),
    (
        "seed/entry.o",
        "seed/handler.o",
        // BTF type [12] (INT unsigned long long, counters' value): size 0xffffffff.
        &[(1792 + 8, 4, 0xffff_ffff)],
        "INT has size",
        "an INT of 4 GiB gave a map value_size of 0xffffffff and was written out",
    ),
    (
        "seed/entry.o",
        "seed/handler.o",
        // BTF type [6] (the ARRAY behind counters' max_entries): element type = itself.
        &[(1704 + 12, 4, 6)],
        "contains itself",
        "a BTF array of itself (a type of infinite size) was linked and written out",
    ),
    (
        "seed/entry.o",
        "seed/handler.o",
        // BTF type [20] (STRUCT xdp_md): first member's type = the struct itself.
        &[(2008 + 16, 4, 20)],
        "contains itself",
        "a BTF struct holding itself by value was linked and written out",
    ),
    (
        "conflict_values/first.o",
        "seed/handler.o",
        &[(3940, 4, 0x8000_0000)],
        "not linked",
        "the program section's sh_type made unknown: `.values` named a function that was \
         dropped and the output's .maps relocation pointed at symbol 0",
    ),
    (
        "init/decl.o",
        "init/vals.o",
        &[(6174, 2, 6)],
        "not linked",
        "a function symbol moved to a relocation section: `.values` slot pointed at symbol 0",
    ),
    (
        "conflict_values/first.o",
        "seed/handler.o",
        &[(2068, 4, 0xffff_fff0)],
        "not on an instruction",
        "a .BTF.ext record's insn_off set to 0xfffffff0: adding the section's output offset \
         overflowed (panic)",
    ),
];

fn patched(fixture: &str, patch: &[(usize, usize, u64)]) -> Vec<u8> {
    let mut data = std::fs::read(repo().join("fixtures").join(fixture)).expect("fixture");
    for &(at, width, v) in patch {
        for i in 0..width {
            data[at + i] = (v >> (8 * i)) as u8;
        }
    }
    data
}

/// A link must fail cleanly or give an object that passes the output checks.
fn link_checked(objects: &[(String, &[u8])]) -> Result<(), String> {
    match bpfmerge::link_bytes(objects) {
        Ok((out, _)) => {
            if let Err(e) = mutate::check_output(&out) {
                panic!("linked, but {e}");
            }
            Ok(())
        }
        Err(e) => Err(format!("{e}")),
    }
}

#[test]
fn patched_fixtures_fail_cleanly() {
    for (fixture, partner, patch, words, what) in PATCHES {
        let data = patched(fixture, patch);
        let other = std::fs::read(repo().join("fixtures").join(partner)).expect("partner");
        let mut refused = 0;
        for objects in [
            vec![("m.o".to_string(), data.as_slice())],
            vec![
                ("m.o".to_string(), data.as_slice()),
                (partner.to_string(), other.as_slice()),
            ],
            vec![
                (partner.to_string(), other.as_slice()),
                ("m.o".to_string(), data.as_slice()),
            ],
        ] {
            if let Err(err) = link_checked(&objects) {
                assert!(
                    err.contains(words),
                    "{fixture} ({what}): error {err:?} should say {words:?}"
                );
                refused += 1;
            }
        }
        assert!(refused > 0, "{fixture} patched ({what}) must not link");
        let _ = bpfmerge::inspect_bytes("m.o", &data);
    }
}

/// Replays `fuzz/regressions/<target>/*` through the calls of each fuzz target.
#[test]
fn fuzz_crash_inputs_are_handled() {
    let dir = repo().join("fuzz/regressions");
    let mut n = 0;
    for target in ["parse_object", "parse_btf", "parse_btf_ext", "link_mutated"] {
        let Ok(entries) = std::fs::read_dir(dir.join(target)) else {
            continue;
        };
        for e in entries {
            let path = e.expect("entry").path();
            let data = std::fs::read(&path).expect("read crash input");
            replay(target, &path, &data);
            n += 1;
        }
    }
    eprintln!("replayed {n} fuzz crash inputs");
}

fn replay(target: &str, path: &Path, data: &[u8]) {
    let name = path.display().to_string();
    match target {
        "parse_object" => {
            let _ = bpfmerge::input::parse(&name, data);
            let _ = bpfmerge::inspect_bytes(&name, data);
        }
        "parse_btf" => {
            let mut btf = bpfmerge::btf::Btf::new();
            if btf.append(data).is_ok() {
                btf.append(data).expect("the same BTF parses twice");
                let eq = btf.equivalence();
                let _ = btf.compact(&eq, &[]);
                for endian in [object::Endianness::Little, object::Endianness::Big] {
                    let bytes = btf.encode(endian);
                    bpfmerge::btf::Btf::new()
                        .append(&bytes)
                        .expect("encoded BTF parses again");
                }
            }
        }
        "parse_btf_ext" => {
            const OBJECTS: &[&str] = &[
                "core/enter.o",
                "seed/entry.o",
                "statics/a.o",
                "globals/main.o",
            ];
            let Some((&which, ext)) = data.split_first() else {
                return;
            };
            let obj = std::fs::read(
                repo()
                    .join("fixtures")
                    .join(OBJECTS[which as usize % OBJECTS.len()]),
            )
            .expect("fixture");
            let input = bpfmerge::input::parse("fixture.o", &obj).expect("fixture parses");
            let btf_data = input.btf.expect("fixture has BTF");
            let mut btf = bpfmerge::btf::Btf::new();
            let app = btf.append(btf_data).expect("fixture BTF parses");
            if let Ok(mut parsed) =
                bpfmerge::btf::ext::BtfExt::parse(ext, btf_data, app.base, &mut btf)
            {
                let mut merged = bpfmerge::btf::ext::BtfExt::default();
                merged.merge(&parsed, |_| 8);
                merged.merge(&parsed, |_| 0);
                let eq = btf.equivalence();
                let remap = btf.compact(&eq, &[]);
                parsed.remap_types(&remap);
                merged.remap_types(&remap);
                let _ = parsed.encode(object::Endianness::Little);
                let _ = merged.encode(object::Endianness::Big);
            }
        }
        "link_mutated" => {
            const GOOD: &[&str] = &[
                "seed/handler.o",
                "statics/b.o",
                "globals/lib.o",
                "init/decl.o",
            ];
            let Some((&which, obj)) = data.split_first() else {
                return;
            };
            let good = std::fs::read(
                repo()
                    .join("fixtures")
                    .join(GOOD[which as usize % GOOD.len()]),
            )
            .expect("fixture");
            for objects in [
                vec![
                    ("mutated.o".to_string(), obj),
                    ("good.o".to_string(), good.as_slice()),
                ],
                vec![
                    ("good.o".to_string(), good.as_slice()),
                    ("mutated.o".to_string(), obj),
                ],
            ] {
                if let Ok((out, _)) = bpfmerge::link_bytes(&objects) {
                    bpfmerge::input::parse("out.o", &out).expect("linked output parses again");
                    bpfmerge::inspect_bytes("out.o", &out).expect("linked output inspects");
                    let _ = bpfmerge::link_bytes(&[("out.o".to_string(), out.as_slice())]);
                }
            }
        }
        _ => unreachable!(),
    }
}
