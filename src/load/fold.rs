//! Takes two objects of one `load` that both define a program of one name, gives whether the
//! definitions are identical in the linker's sense (docs/link.md, "Identical definitions
//! fold") or the first difference: same section and size, same instruction bytes, relocations
//! at the same offsets naming the same targets. Read from the ELF (`input::parse`), not from
//! libbpf's pre-load instructions, which do not show relocation targets.

use std::collections::BTreeSet;
use std::path::Path;

use object::elf;

use crate::error::{Error, Result};
use crate::input::{self, implicit_addend, reloc_width, Input, Reloc, SecIdx, SecKind};

/// A program defined by several objects of one `load` identically: the later copy was loaded
/// (libbpf loads whole objects) but not pinned; the first one's pin stands for both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoldedProgram {
    pub name: String,
    /// The object whose copy was loaded but not pinned.
    pub object: String,
    /// The object whose copy is pinned.
    pub kept: String,
}

/// `None` when program `name` of `first` and of `later` are identical, else the first
/// difference, worded as the linker words it.
pub fn first_difference(first: &Path, later: &Path, name: &str) -> Result<Option<String>> {
    let (a_bytes, b_bytes) = (read(first)?, read(later)?);
    let a = input::parse(&first.display().to_string(), &a_bytes)?;
    let b = input::parse(&later.display().to_string(), &b_bytes)?;
    let (pa, pb) = (program(&a, name)?, program(&b, name)?);
    let mut seen = BTreeSet::new();
    Ok(compare(&a, &pa, &b, &pb, &mut seen))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|err| Error::Io {
        path: path.to_path_buf(),
        err,
    })
}

/// A range of code: the program's bytes, or a whole code section it calls into.
struct Range {
    sec: SecIdx,
    start: u64,
    size: u64,
}

/// The program `name` (an STT_FUNC symbol in a code section) of `input`.
fn program(input: &Input<'_>, name: &str) -> Result<Range> {
    input
        .symbols
        .iter()
        .filter(|s| s.typ == elf::STT_FUNC.0 && &*s.name == name)
        .find_map(|s| {
            let sec = s.section()?;
            (input.sections.get(sec.0)?.kind == SecKind::Code).then_some(Range {
                sec,
                start: s.value,
                size: s.size,
            })
        })
        .ok_or_else(|| {
            Error::Load(format!(
                "{}: libbpf sees a program `{name}`, but no such function is in the ELF",
                input.name
            ))
        })
}

/// Rules F1 to F3 of docs/link.md on two code ranges; `seen` holds the pairs of code sections
/// already being compared (calls between sections may loop).
fn compare(
    a: &Input<'_>,
    ra: &Range,
    b: &Input<'_>,
    rb: &Range,
    seen: &mut BTreeSet<(usize, usize)>,
) -> Option<String> {
    let (sa, sb) = (a.section(ra.sec), b.section(rb.sec));
    if sa.name != sb.name {
        return Some(format!("section {} vs {}", sa.name, sb.name));
    }
    if ra.size != rb.size {
        return Some(format!("size {} vs {} bytes", ra.size, rb.size));
    }
    let (ca, cb) = (code(a.data(ra.sec), ra), code(b.data(rb.sec), rb));
    if let Some(d) = crate::fold::instruction_difference(ca, cb) {
        return Some(d);
    }
    let (la, lb) = (
        relocs_in(a.relocs(ra.sec), ra),
        relocs_in(b.relocs(rb.sec), rb),
    );
    for i in 0..la.len().max(lb.len()) {
        let d = match (la.get(i), lb.get(i)) {
            (Some(x), Some(y)) => reloc_difference(a, ra, x, b, rb, y, seen),
            (Some(x), None) => Some(format!(
                "relocation at instruction {}: present vs none",
                (x.offset - ra.start) / 8
            )),
            (None, Some(y)) => Some(format!(
                "relocation at instruction {}: none vs present",
                (y.offset - rb.start) / 8
            )),
            (None, None) => None,
        };
        if d.is_some() {
            return d;
        }
    }
    None
}

fn code<'d>(data: &'d [u8], r: &Range) -> &'d [u8] {
    let start = usize::try_from(r.start).unwrap_or(usize::MAX);
    let end = usize::try_from(r.start.saturating_add(r.size)).unwrap_or(usize::MAX);
    data.get(start..end).unwrap_or(&[])
}

fn relocs_in<'r>(relocs: &'r [Reloc], r: &Range) -> Vec<&'r Reloc> {
    relocs
        .iter()
        .filter(|x| x.offset >= r.start && x.offset - r.start < r.size)
        .collect()
}

/// What a relocation refers to, as far as a loaded object is concerned.
enum Target {
    /// A map of `.maps`: shared by name.
    Map(String),
    /// An extern (kfunc, ksym, kconfig) or another named symbol outside the object's data.
    Named(String),
    /// File-local read-only data (section name, place within the data, bytes), compared by
    /// its bytes.
    ReadOnly(String, u64, Vec<u8>),
    /// Code the program calls into (the whole section, compared recursively).
    Code(SecIdx),
    /// The object's own writable data (`.data`, `.bss`): each loaded object has its own.
    Writable(String),
}

#[allow(clippy::too_many_arguments)]
fn reloc_difference(
    a: &Input<'_>,
    ra: &Range,
    x: &Reloc,
    b: &Input<'_>,
    rb: &Range,
    y: &Reloc,
    seen: &mut BTreeSet<(usize, usize)>,
) -> Option<String> {
    let n = (x.offset - ra.start) / 8;
    if x.offset - ra.start != y.offset - rb.start || x.r_type != y.r_type {
        return Some(format!(
            "relocation at instruction {n}: type {} at instruction {n} vs type {} at \
             instruction {}",
            x.r_type,
            y.r_type,
            (y.offset - rb.start) / 8
        ));
    }
    let (ta, tb) = (target(a, ra, x), target(b, rb, y));
    let same = match (&ta, &tb) {
        (Target::Map(p), Target::Map(q)) | (Target::Named(p), Target::Named(q)) => p == q,
        (Target::ReadOnly(s, i, p), Target::ReadOnly(t, j, q)) => s == t && i == j && p == q,
        (Target::Code(p), Target::Code(q)) => same_code(a, *p, b, *q, seen),
        _ => false,
    };
    (!same).then(|| {
        format!(
            "relocation at instruction {n}: refers to {} vs {}",
            describe(a, &ta),
            describe(b, &tb)
        )
    })
}

/// Two code sections called into are the same when they compare equal as a whole.
fn same_code(
    a: &Input<'_>,
    p: SecIdx,
    b: &Input<'_>,
    q: SecIdx,
    seen: &mut BTreeSet<(usize, usize)>,
) -> bool {
    if !seen.insert((p.0, q.0)) {
        return true;
    }
    let whole = |i: &Input<'_>, s: SecIdx| Range {
        sec: s,
        start: 0,
        size: i.section(s).size,
    };
    compare(a, &whole(a, p), b, &whole(b, q), seen).is_none()
}

fn describe(input: &Input<'_>, t: &Target) -> String {
    match t {
        Target::Map(m) => format!("map `{m}`"),
        Target::Named(s) => format!("`{s}`"),
        Target::ReadOnly(s, _, bytes) => format!(
            "read-only {s} data \"{}\" of {}",
            String::from_utf8_lossy(bytes).escape_debug(),
            input.name
        ),
        Target::Code(s) => format!("code in {} of {}", input.section(*s).name, input.name),
        Target::Writable(s) => format!("section {s} of {} (its own data)", input.name),
    }
}

/// The target of relocation `x` of the code range `r` of `input`.
fn target(input: &Input<'_>, r: &Range, x: &Reloc) -> Target {
    let Some(sym) = input.symbols.get(x.sym().0) else {
        return Target::Named(String::new());
    };
    let Some(sec) = sym.section().filter(|s| s.0 < input.sections.len()) else {
        return Target::Named(sym.name.to_string());
    };
    let s = input.section(sec);
    let place = sym.value.wrapping_add(addend(input, r, x) as u64);
    match s.kind {
        SecKind::Maps if sym.is_section() => Target::Map(covering(input, sec, place)),
        SecKind::Maps => Target::Map(sym.name.to_string()),
        SecKind::Code => Target::Code(sec),
        SecKind::Data if s.flags & elf::SHF_WRITE.0 == 0 => {
            let (within, bytes) = read_only_bytes(input, sec, place);
            Target::ReadOnly(s.name.to_string(), within, bytes)
        }
        SecKind::Data | SecKind::Bss => Target::Writable(s.name.to_string()),
        _ => Target::Named(sym.name.to_string()),
    }
}

/// The immediate of the relocated instruction (clang's offset into a section symbol's
/// section); the instruction bytes were already found equal on both sides.
fn addend(input: &Input<'_>, r: &Range, x: &Reloc) -> i64 {
    let data = input.data(r.sec);
    let width = reloc_width(x.r_type).unwrap_or(0);
    let start = usize::try_from(x.offset).unwrap_or(usize::MAX);
    let end = usize::try_from(x.offset.saturating_add(width)).unwrap_or(usize::MAX);
    match data.get(start..end) {
        Some(at) if x.r_type == input::reloc::R64_64 || x.r_type == input::reloc::R64_32 => {
            implicit_addend(input.endian, x.r_type, at)
        }
        _ => 0,
    }
}

/// The name of the map whose definition covers `place` in `.maps`.
fn covering(input: &Input<'_>, sec: SecIdx, place: u64) -> String {
    input
        .symbols
        .iter()
        .filter(|s| !s.is_section() && s.section() == Some(sec))
        .find(|s| s.value == place || (s.value <= place && place - s.value < s.size))
        .map_or_else(|| format!(".maps+{place}"), |s| s.name.to_string())
}

/// The read-only bytes at `place`: the local object covering it (and where in it `place`
/// is), else the NUL-terminated string there (a string literal).
fn read_only_bytes(input: &Input<'_>, sec: SecIdx, place: u64) -> (u64, Vec<u8>) {
    let data = input.data(sec);
    let object = input.symbols.iter().find(|s| {
        !s.is_section()
            && s.section() == Some(sec)
            && s.size > 0
            && s.value <= place
            && place - s.value < s.size
    });
    let slice = |from: u64, to: u64| {
        let from = usize::try_from(from).unwrap_or(usize::MAX);
        let to = usize::try_from(to).unwrap_or(usize::MAX).min(data.len());
        data.get(from..to).unwrap_or(&[]).to_vec()
    };
    match object {
        Some(o) => (
            place - o.value,
            slice(o.value, o.value.saturating_add(o.size)),
        ),
        None => {
            let rest = slice(place, u64::MAX);
            let end = rest
                .iter()
                .position(|&c| c == 0)
                .map_or(rest.len(), |i| i + 1);
            (0, rest.get(..end).unwrap_or(&[]).to_vec())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(stem: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/{stem}.o"))
    }

    /// bpf/fold_sample: basic.c and cpumap.c include the same sample.h programs (clang 14's
    /// and clang 19's objects).
    #[test]
    fn the_sample_programs_of_two_tools_are_identical() {
        for cc in ["", "clang19/"] {
            let a = fixture(&format!("fold_sample/{cc}basic"));
            let b = fixture(&format!("fold_sample/{cc}cpumap"));
            for p in ["tp_xdp_exception", "tp_xdp_redirect"] {
                assert_eq!(first_difference(&a, &b, p).unwrap(), None, "{cc}{p}");
            }
        }
    }

    /// fold/main.c's `scale` computes `x * 2` (a left shift by 1: 0x67 lsh imm 1),
    /// fold_differ/differ.c's `x * 3` (0x27 mul imm 3): the first differing instruction.
    #[test]
    fn different_code_names_the_first_differing_instruction() {
        let d = first_difference(
            &fixture("fold/main"),
            &fixture("fold_differ/differ"),
            "scale",
        )
        .unwrap()
        .expect("the two `scale`s differ");
        assert!(
            d.starts_with("instruction ")
                && d.contains("67 06 00 00 01 00 00 00 vs 27 06 00 00 03 00 00 00"),
            "{d}"
        );
    }

    /// fold_differ/sample_fmt.c compiles sample.h with another (same-length) format string:
    /// same instructions, but the `.rodata` the format load reaches holds other bytes.
    #[test]
    fn other_read_only_data_names_the_relocation() {
        let d = first_difference(
            &fixture("fold_sample/basic"),
            &fixture("fold_differ/sample_fmt"),
            "tp_xdp_exception",
        )
        .unwrap()
        .expect("the formats differ");
        assert!(
            d.starts_with("relocation at instruction ")
                && d.contains(r#"read-only .rodata data "xdp_exception: err %llu\n\0""#)
                && d.contains(r#"vs read-only .rodata data "xdp_exception: ERR %llu\n\0""#),
            "{d}"
        );
    }

    /// fold/shared.h's `scale` in main.c and tool.c: the same code, reaching the map
    /// `fold_stats` (shared by name) and the read-only `knob` (1 in both).
    #[test]
    fn references_to_a_map_by_name_and_equal_read_only_data_are_the_same() {
        let (a, b) = (fixture("fold/main"), fixture("fold/tool"));
        assert_eq!(first_difference(&a, &b, "scale").unwrap(), None);
    }

    /// fold_differ/knob_data.c's program reads `knob` from `.data`: two loaded copies would
    /// each have their own `.data`, so even an object against itself does not fold.
    #[test]
    fn references_to_writable_data_are_never_the_same() {
        let a = fixture("fold_differ/knob_data");
        let d = first_difference(&a, &a, "xdp_knob_data")
            .unwrap()
            .expect("writable data differs");
        assert!(
            d.starts_with("relocation at instruction ")
                && d.contains("refers to section .data of ")
                && d.contains("(its own data) vs section .data of "),
            "{d}"
        );
    }

    /// A program absent from the ELF is an error naming the object, not a panic.
    #[test]
    fn a_missing_program_is_an_error() {
        let a = fixture("fold_sample/basic");
        let e = first_difference(&a, &a, "no_such_prog").unwrap_err();
        assert!(e.to_string().contains("no_such_prog"), "{e}");
    }
}
