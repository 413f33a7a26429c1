//! Adversarial but valid-looking inputs and output safety (issue 6). Each input is a real
//! fixture with a few fields rewritten in place (located with goblin), so no binary is committed:
//! relocations outside their section, symbols in sections that do not exist, BTF type loops,
//! DATASECs naming missing variables, absurd map sizes, map and program names that would
//! escape the pin dir. Then the output file rules: `-o` naming an input is refused, output goes
//! through a temporary file and a rename, a failed link leaves a previous output untouched.

mod load_support;
mod mutate;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use mutate::run_bounded;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// A fixture's bytes with helpers to find and overwrite its fields (little-endian fixtures).
#[derive(Clone)]
struct Obj {
    data: Vec<u8>,
}

impl Obj {
    fn new(rel: &str) -> Obj {
        Obj {
            data: std::fs::read(fixture(rel)).expect("read fixture"),
        }
    }

    fn put(&mut self, at: usize, width: usize, v: u64) -> &mut Obj {
        for i in 0..width {
            self.data[at + i] = (v >> (8 * i)) as u8;
        }
        self
    }

    fn get(&self, at: usize, width: usize) -> u64 {
        (0..width).fold(0, |acc, i| acc | (u64::from(self.data[at + i]) << (8 * i)))
    }

    fn elf(&self) -> goblin::elf::Elf<'_> {
        goblin::elf::Elf::parse(&self.data).expect("fixture parses")
    }

    /// Offset of the section header of `name`, and the header.
    fn shdr(&self, name: &str) -> (usize, goblin::elf::SectionHeader) {
        let elf = self.elf();
        let (i, sh) = elf
            .section_headers
            .iter()
            .enumerate()
            .find(|(_, s)| elf.shdr_strtab.get_at(s.sh_name) == Some(name))
            .unwrap_or_else(|| panic!("no section {name}"));
        (elf.header.e_shoff as usize + 64 * i, sh.clone())
    }

    /// Offset of the symbol table entry of `name`.
    fn sym(&self, name: &str) -> usize {
        let elf = self.elf();
        let (_, symtab) = self.shdr(".symtab");
        let i = elf
            .syms
            .iter()
            .position(|s| elf.strtab.get_at(s.st_name) == Some(name))
            .unwrap_or_else(|| panic!("no symbol {name}"));
        symtab.sh_offset as usize + 24 * i
    }

    /// Offsets of the relocation entries of section `rel_name` (e.g. `.relxdp`).
    fn rels(&self, rel_name: &str) -> Vec<usize> {
        let (_, sh) = self.shdr(rel_name);
        (0..sh.sh_size as usize / 16)
            .map(|k| sh.sh_offset as usize + 16 * k)
            .collect()
    }

    /// Absolute offset of BTF type `id`'s record.
    fn btf_type(&self, id: usize) -> usize {
        mutate::Anatomy::of(&self.data).btf_types[id - 1].0
    }

    /// Absolute offset of the BTF string `s` (NUL-terminated, first occurrence).
    fn btf_str(&self, s: &str) -> usize {
        let a = mutate::Anatomy::of(&self.data);
        let (off, len) = a.btf_strs.expect("BTF strings");
        let strs = &self.data[off..off + len];
        let mut needle = s.as_bytes().to_vec();
        needle.push(0);
        let pos = (0..strs.len())
            .find(|&i| (i == 0 || strs[i - 1] == 0) && strs[i..].starts_with(&needle))
            .unwrap_or_else(|| panic!("no BTF string {s}"));
        off + pos
    }

    /// Every occurrence of `from\0` in the file replaced by `to\0` (same length).
    fn rename_everywhere(&mut self, from: &str, to: &str) -> &mut Obj {
        assert_eq!(from.len(), to.len());
        let mut f = from.as_bytes().to_vec();
        f.push(0);
        let mut n = 0;
        for i in 0..self.data.len() - f.len() {
            if self.data[i..].starts_with(&f) && (i == 0 || self.data[i - 1] == 0) {
                self.data[i..i + to.len()].copy_from_slice(to.as_bytes());
                n += 1;
            }
        }
        assert!(n > 0, "{from} not found");
        self
    }
}

/// Link `objects` in-process within 5 s without a panic; the output, if any, must parse again.
fn link(objects: &[(&str, &Obj)]) -> Result<(), String> {
    let owned: Vec<(String, Vec<u8>)> = objects
        .iter()
        .map(|(n, o)| (n.to_string(), o.data.clone()))
        .collect();
    let (r, _) = run_bounded(Duration::from_secs(5), move || {
        let objects: Vec<(String, &[u8])> = owned
            .iter()
            .map(|(n, d)| (n.clone(), d.as_slice()))
            .collect();
        match bpfmerge::link_bytes(&objects) {
            Ok((out, _)) => {
                if let Err(e) = mutate::check_output(&out) {
                    panic!("linked, but {e}");
                }
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    })
    .unwrap_or_else(|e| panic!("link: {e}"));
    for (n, o) in objects {
        let d = o.data.clone();
        let n = n.to_string();
        run_bounded(Duration::from_secs(5), move || {
            let _ = bpfmerge::inspect_bytes(&n, &d);
        })
        .unwrap_or_else(|e| panic!("inspect: {e}"));
    }
    r
}

/// The link of `obj` alone and with seed/handler.o must fail naming `words`.
fn assert_refused(what: &str, obj: &Obj, words: &[&str]) {
    let partner = Obj::new("seed/handler.o");
    for objects in [
        vec![("bad.o", obj)],
        vec![("bad.o", obj), ("seed/handler.o", &partner)],
    ] {
        let err = link(&objects).expect_err(&format!("{what}: must not link"));
        for w in words {
            assert!(err.contains(w), "{what}: error {err:?} should say {w:?}");
        }
        eprintln!("{what}: {err}");
    }
}

#[test]
fn relocation_outside_its_section() {
    let base = Obj::new("seed/entry.o");
    let (_, xdp) = base.shdr("xdp");
    let rel = base.rels(".relxdp")[0];
    for off in [
        xdp.sh_size,
        xdp.sh_size - 8,
        u64::MAX - 7,
        1 << 40,
        xdp.sh_size + 8,
    ] {
        let mut o = base.clone();
        o.put(rel, 8, off);
        assert_refused(
            &format!(
                "relocation at offset {off:#x} of xdp ({} bytes)",
                xdp.sh_size
            ),
            &o,
            &["bad.o", "xdp", "outside"],
        );
    }
    // Not on an instruction boundary.
    let mut o = base.clone();
    o.put(rel, 8, base.get(rel, 8) + 4);
    assert_refused(
        "relocation inside an instruction",
        &o,
        &["not on an instruction"],
    );
    // Names a symbol that does not exist.
    let mut o = base.clone();
    o.put(rel + 12, 4, 10_000);
    assert_refused("relocation naming symbol 10000", &o, &["symbol 10000"]);
}

#[test]
fn symbol_in_a_section_that_does_not_exist() {
    let base = Obj::new("seed/entry.o");
    for (sym, shndx) in [
        ("counters", 0x400u64),
        ("xdp_entry", 200),
        ("counters", 0xff00),
    ] {
        let mut o = base.clone();
        o.put(base.sym(sym) + 6, 2, shndx);
        assert_refused(&format!("symbol {sym} in section {shndx}"), &o, &["bad.o"]);
    }
    // SHN_XINDEX without an extended index table.
    let mut o = base.clone();
    o.put(base.sym("xdp_entry") + 6, 2, 0xffff);
    assert_refused("symbol with SHN_XINDEX", &o, &["bad.o", "xdp_entry"]);
    // A symbol that lies outside its (existing) section.
    let mut o = base.clone();
    o.put(base.sym("xdp_entry") + 8, 8, 1 << 20);
    assert_refused("symbol beyond its section", &o, &["xdp_entry", "outside"]);
}

// seed/entry.o's BTF (see `bpftool btf dump file fixtures/seed/entry.o`):
// [3] ARRAY int[2]  [6] ARRAY int[4] (max_entries)  [7] PTR -> [8] TYPEDEF __u32 -> [9] INT
// [10] PTR -> [11] TYPEDEF __u64 -> [12] INT u64   [13] STRUCT counters' definition
// [14] VAR counters  [17] STRUCT xdp_actions'  [18] VAR xdp_actions  [20] STRUCT xdp_md
// [24] ARRAY char[4]  [25] VAR LICENSE  [26] DATASEC .maps  [27] DATASEC license

#[test]
fn btf_type_loops() {
    let base = Obj::new("seed/entry.o");
    // TYPEDEF __u32 -> itself (the maps' key type).
    let mut o = base.clone();
    o.put(base.btf_type(8) + 8, 4, 8);
    assert_refused("typedef __u32 naming itself", &o, &["bad.o"]);
    // TYPEDEF __u32 -> PTR [7] -> TYPEDEF __u32: a loop through a pointer.
    let mut o = base.clone();
    o.put(base.btf_type(8) + 8, 4, 7);
    let _ = link(&[("loop.o", &o)]);
    // TYPEDEF __u32 -> TYPEDEF __u64 -> TYPEDEF __u32.
    let mut o = base.clone();
    o.put(base.btf_type(8) + 8, 4, 11);
    o.put(base.btf_type(11) + 8, 4, 8);
    assert_refused("two typedefs naming each other", &o, &["bad.o"]);
    // A struct holding itself by value (xdp_md's first member).
    let mut o = base.clone();
    o.put(base.btf_type(20) + 12 + 4, 4, 20);
    assert_refused("struct holding itself", &o, &["bad.o", "contains itself"]);
    // The map definition struct holding itself (member `key`, a pointer, made the struct).
    let mut o = base.clone();
    o.put(base.btf_type(13) + 12 + 12 * 2 + 4, 4, 13);
    assert_refused("map definition holding itself", &o, &["bad.o", "counters"]);
    // An array of itself.
    let mut o = base.clone();
    o.put(base.btf_type(6) + 12, 4, 6);
    assert_refused(
        "array of itself as max_entries",
        &o,
        &["bad.o", "contains itself"],
    );
}

#[test]
fn datasec_naming_a_missing_variable() {
    let base = Obj::new("seed/entry.o");
    let sec = base.btf_type(26);
    // The first entry of DATASEC .maps names: void, an INT, a type beyond the table.
    for (ty, what) in [(0u64, "void"), (9, "an INT"), (10_000, "type 10000")] {
        let mut o = base.clone();
        o.put(sec + 12, 4, ty);
        assert_refused(
            &format!("DATASEC .maps entry naming {what}"),
            &o,
            &["bad.o"],
        );
    }
    // The entry's offset and size point outside the section. Like libbpf's linker, bpfmerge
    // rebuilds DATASECs from the symbols, so this may link: then the output's DATASEC must be
    // right (`link` checks every DATASEC entry lies inside its section).
    for (field, v, what) in [
        (4, 0x1000u64, "DATASEC entry beyond .maps"),
        (8, 0xffff_fff0, "DATASEC entry of absurd size"),
    ] {
        let mut o = base.clone();
        o.put(sec + 12 + field, 4, v);
        let partner = Obj::new("seed/handler.o");
        let r = link(&[("bad.o", &o), ("seed/handler.o", &partner)]);
        eprintln!("{what}: {r:?}");
    }
    // The VAR is renamed in BTF only: the DATASEC names a variable no symbol defines.
    let mut o = base.clone();
    let at = base.btf_str("counters");
    o.data[at] = b'k';
    assert_refused("DATASEC VAR with no symbol", &o, &["bad.o"]);
}

#[test]
fn map_definitions_with_absurd_sizes() {
    let base = Obj::new("seed/entry.o");
    // max_entries = u32::MAX: a valid-looking number the kernel will judge; linking alone is
    // fine, but the two definitions of `counters` now disagree.
    let mut o = base.clone();
    o.put(base.btf_type(6) + 12 + 8, 4, 0xffff_ffff);
    link(&[("big.o", &o)]).expect("max_entries u32::MAX links alone");
    let partner = Obj::new("seed/handler.o");
    let err = link(&[("big.o", &o), ("seed/handler.o", &partner)]).expect_err("disagree");
    assert!(err.contains("max_entries"), "{err}");
    // A value type of 4 GiB (u64 INT of size 0xffffffff), and of 2^32 * 8 bytes (an array
    // whose size overflows u32).
    let mut o = base.clone();
    o.put(base.btf_type(12) + 8, 4, 0xffff_ffff);
    assert_refused("value type of 0xffffffff bytes", &o, &["bad.o"]);
    let mut o = base.clone();
    o.put(base.btf_type(11) + 8, 4, 6); // __u64 -> int[4]
    o.put(base.btf_type(6) + 12 + 8, 4, 0x8000_0000); // int[2^31]
    assert_refused("value type whose size overflows", &o, &["bad.o"]);
    // The map definition struct claims 4 GiB; the symbol is 32 bytes.
    let mut o = base.clone();
    o.put(base.btf_type(13) + 8, 4, 0xffff_ffff);
    assert_refused("map definition struct of 4 GiB", &o, &["bad.o"]);
    // The `.maps` symbol of `counters` claims a huge size.
    let mut o = base.clone();
    o.put(base.sym("counters") + 16, 8, u64::MAX);
    assert_refused("map symbol of size u64::MAX", &o, &["bad.o", "counters"]);
}

// ---------------------------------------------------------------------------------------------
// Pin names
// ---------------------------------------------------------------------------------------------

/// Load objects through the CLI into a fresh pin dir; refused naming `words`, nothing pinned
/// anywhere (inside DIR or next to it).
fn assert_load_refused(what: &str, objs: &[&Path], words: &[&str]) {
    let dir = load_support::PinDir::new("adv-names");
    let parent = Path::new("/sys/fs/bpf");
    let before = load_support::tree(parent);
    let mut args: Vec<std::ffi::OsString> = vec!["load".into()];
    args.extend(objs.iter().map(|p| p.as_os_str().to_owned()));
    args.extend(["--pin-dir".into(), dir.path.clone().into_os_string()]);
    let out = load_support::bpfmerge(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{what}: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    for w in words {
        assert!(err.contains(w), "{what}: error {err:?} should say {w:?}");
    }
    let after = load_support::tree(parent);
    let new: Vec<_> = after.difference(&before).collect();
    assert!(new.is_empty(), "{what}: pinned {new:?}");
    eprintln!("{what}: {}", err.trim());
}

#[test]
fn map_and_program_names_cannot_escape_the_pin_dir() {
    if !load_support::kernel_ready("map_and_program_names_cannot_escape_the_pin_dir") {
        return;
    }
    let dir = Tmp::new("names");
    let tmp = dir.0.clone();
    let write = |name: &str, o: &Obj| {
        let p = tmp.join(name);
        std::fs::write(&p, &o.data).expect("write");
        p
    };
    // A map name with `/` (ELF symbol and BTF VAR renamed alike), a map named `..`-something,
    // a program with `/`, a map renamed only in BTF (libbpf takes map names from BTF).
    let cases: Vec<(&str, Obj, &str)> = vec![
        (
            "map name ../../xx",
            Obj::new("seed/entry.o")
                .rename_everywhere("counters", "../../xx")
                .clone(),
            "../../xx",
        ),
        (
            "map name ..",
            Obj::new("seed/entry.o")
                .rename_everywhere("counters", "..\0\0\0\0\0\0")
                .clone(),
            "`..`",
        ),
        (
            "program name x/../../y",
            Obj::new("seed/entry.o")
                .rename_everywhere("xdp_entry", "x/../../y")
                .clone(),
            "x/../../y",
        ),
        (
            "map name with / in BTF only",
            {
                let mut o = Obj::new("seed/entry.o");
                let at = o.btf_str("xdp_actions");
                o.data[at..at + 11].copy_from_slice(b"../escaped\0");
                o
            },
            "libbpf cannot open",
        ),
    ];
    for (what, o, words) in &cases {
        let p = write("bad.o", o);
        assert_load_refused(what, &[&p], &[words]);
        // Linked with an intact object first: the merged object is refused the same way.
        let merged = tmp.join("merged.o");
        let out = Command::new(env!("CARGO_BIN_EXE_bpfmerge"))
            .arg(&p)
            .arg(fixture("seed/handler.o"))
            .arg("-o")
            .arg(&merged)
            .output()
            .expect("run");
        if out.status.success() {
            assert_load_refused(&format!("{what} (linked)"), &[&merged], &[words]);
        }
        // The bad object after a good one: the good one is not pinned either (all or nothing).
        assert_load_refused(
            &format!("{what} (second object)"),
            &[&fixture("seed/handler.o"), &p],
            &[words],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Output safety
// ---------------------------------------------------------------------------------------------

struct Tmp(PathBuf);
impl Tmp {
    fn new(tag: &str) -> Tmp {
        let p = std::env::temp_dir().join(format!("bpfmerge-adv-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir");
        Tmp(p)
    }
    fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .expect("ls")
            .map(|e| e.expect("e").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}
impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn bpfmerge_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bpfmerge"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run bpfmerge")
}

#[test]
fn output_naming_an_input_is_refused() {
    let t = Tmp::new("same");
    let entry = std::fs::read(fixture("seed/entry.o")).expect("read");
    std::fs::write(t.0.join("a.o"), &entry).expect("write");
    std::fs::copy(fixture("seed/handler.o"), t.0.join("b.o")).expect("copy");
    std::os::unix::fs::symlink("a.o", t.0.join("link.o")).expect("symlink");
    std::fs::create_dir(t.0.join("sub")).expect("mkdir");
    for (args, what) in [
        (vec!["a.o", "b.o", "-o", "a.o"], "same path"),
        (vec!["a.o", "b.o", "-o", "./a.o"], "./ spelling"),
        (vec!["a.o", "b.o", "-o", "sub/../a.o"], "sub/.. spelling"),
        (
            vec!["link.o", "b.o", "-o", "a.o"],
            "input is a symlink to the output",
        ),
        (
            vec!["a.o", "b.o", "-o", "link.o"],
            "output is a symlink to an input",
        ),
    ] {
        let before = t.entries();
        let out = bpfmerge_in(&t.0, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{what}: -o naming an input was accepted"
        );
        assert!(err.contains("also an input"), "{what}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert_eq!(
            std::fs::read(t.0.join("a.o")).expect("a.o"),
            entry,
            "{what}"
        );
        assert_eq!(t.entries(), before, "{what}: files changed");
    }
}

#[test]
fn output_hard_linked_to_an_input_is_another_name() {
    // Not the same path: the output replaces the name, the input keeps its bytes (and the
    // refusal check, which compares files first, does not take the shared inode for a match).
    let t = Tmp::new("hardlink");
    let entry = std::fs::read(fixture("seed/entry.o")).expect("read");
    std::fs::write(t.0.join("a.o"), &entry).expect("write");
    std::fs::copy(fixture("seed/handler.o"), t.0.join("b.o")).expect("copy");
    std::fs::hard_link(t.0.join("a.o"), t.0.join("h.o")).expect("link");
    let out = bpfmerge_in(&t.0, &["a.o", "b.o", "-o", "h.o"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(t.0.join("a.o")).expect("a.o"), entry);
    let bytes = std::fs::read(t.0.join("h.o")).expect("h.o");
    assert_ne!(bytes, entry, "h.o is the linked output");
    bpfmerge::input::parse("h.o", &bytes).expect("output parses");
}

#[test]
fn output_is_renamed_into_place() {
    let t = Tmp::new("rename");
    // A hard link to the previous output keeps the old bytes: the new output is a new file
    // renamed over the name, never the old file rewritten in place.
    std::fs::write(t.0.join("out.o"), b"previous").expect("write");
    std::fs::hard_link(t.0.join("out.o"), t.0.join("old.o")).expect("link");
    let e = fixture("seed/entry.o");
    let h = fixture("seed/handler.o");
    let out = bpfmerge_in(
        &t.0,
        &[e.to_str().unwrap(), h.to_str().unwrap(), "-o", "out.o"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(t.0.join("old.o")).expect("old"), b"previous");
    let bytes = std::fs::read(t.0.join("out.o")).expect("out");
    bpfmerge::input::parse("out.o", &bytes).expect("output parses");
    assert_eq!(t.entries(), ["old.o", "out.o"], "no temporary file left");
}

#[test]
fn failed_link_leaves_previous_output_untouched() {
    let t = Tmp::new("fail");
    let e = fixture("seed/entry.o");
    let h = fixture("seed/handler.o");
    let big = fixture("conflict_max_entries/big.o");
    let bad = fixture("conflict_max_entries/small.o");
    let (e, h, big, bad) = (
        e.to_str().unwrap(),
        h.to_str().unwrap(),
        big.to_str().unwrap(),
        bad.to_str().unwrap(),
    );
    std::fs::write(t.0.join("out.o"), b"previous").expect("write");
    // An error in the inputs, a missing input, a truncated input.
    std::fs::write(t.0.join("trunc.o"), &std::fs::read(e).expect("read")[..300]).expect("w");
    for (args, what) in [
        (vec![big, bad, "-o", "out.o"], "conflicting definitions"),
        (vec![e, "missing.o", "-o", "out.o"], "missing input"),
        (vec!["trunc.o", h, "-o", "out.o"], "truncated input"),
    ] {
        let out = bpfmerge_in(&t.0, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert_eq!(std::fs::read(t.0.join("out.o")).expect("out"), b"previous");
        assert_eq!(t.entries(), ["out.o", "trunc.o"], "{what}: leftovers");
    }
    // A failure after the temporary file is written: the output name is a directory, so the
    // rename fails. The directory and its contents stay, and no temporary file is left.
    std::fs::create_dir(t.0.join("dir.o")).expect("mkdir");
    std::fs::write(t.0.join("dir.o/keep"), b"keep").expect("write");
    let out = bpfmerge_in(&t.0, &[e, h, "-o", "dir.o"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(t.0.join("dir.o/keep")).expect("keep"),
        b"keep"
    );
    assert_eq!(t.entries(), ["dir.o", "out.o", "trunc.o"], "leftovers");
    // An output directory that does not exist: nothing is created.
    let out = bpfmerge_in(&t.0, &[e, h, "-o", "nodir/out.o"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(t.entries(), ["dir.o", "out.o", "trunc.o"]);
}
