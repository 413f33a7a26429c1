//! `.BTF.ext` records whose section names read the same (a name that is not valid UTF-8 reads as
//! its valid prefix, which is what picks the ELF section) land in one output section, none
//! lost: found by review in the streaming gathering of records, where two such names once had
//! two lists and the second replaced the first.

mod common;

use bpfmerge::btf::ext::BtfExt;
use bpfmerge::btf::Btf;
use bpfmerge::link_bytes;
use object::{Object, ObjectSection};

/// A section's bytes and its offset in the file.
fn section(elf: &[u8], name: &str) -> (usize, Vec<u8>) {
    let file = object::File::parse(elf).expect("fixture parses");
    let sec = file.section_by_name(name).expect("section present");
    let (off, _) = sec.file_range().expect("section has file bytes");
    (off as usize, sec.data().expect("section data").to_vec())
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// `obj` with its first `xdp` line_info block renamed `xdp\xff`: the string of the block's first
/// source line is overwritten with that name (same length, NUL padded) and the block's name
/// offset pointed at it. (Little-endian clang output, as every fixture.)
fn rename_line_block(obj: &[u8]) -> Vec<u8> {
    let mut out = obj.to_vec();
    let (btf_off, btf) = section(obj, ".BTF");
    let strs = btf_off + u32_at(&btf, 4) as usize + u32_at(&btf, 16) as usize;
    let name_at = |o: u32| {
        let s = strs + o as usize;
        let end = s + obj[s..].iter().position(|&c| c == 0).expect("NUL");
        obj[s..end].to_vec()
    };
    let (ext_off, ext) = section(obj, ".BTF.ext");
    let hdr = u32_at(&ext, 4) as usize;
    let (line_off, line_len) = (u32_at(&ext, 16) as usize, u32_at(&ext, 20) as usize);
    let start = hdr + line_off;
    let rec = u32_at(&ext, start) as usize;
    let mut p = start + 4;
    while p < start + line_len {
        let (name, count) = (u32_at(&ext, p), u32_at(&ext, p + 4) as usize);
        if name_at(name) == b"xdp" && count > 0 {
            let line = u32_at(&ext, p + 8 + 8);
            let len = name_at(line).len();
            assert!(len >= 4, "a source line to overwrite");
            let mut new = b"xdp\xff".to_vec();
            new.resize(len, 0);
            let s = strs + line as usize;
            out[s..s + len].copy_from_slice(&new);
            out[ext_off + p..ext_off + p + 4].copy_from_slice(&line.to_le_bytes());
            return out;
        }
        p += 8 + count * rec;
    }
    panic!("no xdp line_info block");
}

/// Number of func_info and line_info records in a linked object's `.BTF.ext`.
fn record_counts(elf: &[u8]) -> (usize, usize) {
    let (_, btf_raw) = section(elf, ".BTF");
    let (_, ext_raw) = section(elf, ".BTF.ext");
    let mut btf = Btf::new();
    let app = btf.append(&btf_raw).expect("output BTF parses");
    let ext = BtfExt::parse(&ext_raw, &btf_raw, app.base, &mut btf).expect("output ext parses");
    ext.sections.iter().fold((0, 0), |(f, l), s| {
        (f + s.func_info.len(), l + s.line_info.len())
    })
}

fn link(objs: &[(&str, &[u8])]) -> Vec<u8> {
    let inputs: Vec<(String, &[u8])> = objs.iter().map(|&(n, b)| (n.to_string(), b)).collect();
    link_bytes(&inputs).expect("links").0
}

#[test]
fn records_of_names_that_read_the_same_are_all_kept() {
    let parser = std::fs::read(common::fixture("firewall/parser")).expect("fixture");
    let policy = std::fs::read(common::fixture("firewall/policy")).expect("fixture");
    let renamed = rename_line_block(&parser);
    // Expected: the records of the unrenamed objects (the renaming changes no record).
    let alone = record_counts(&link(&[("parser.o", &parser)]));
    assert!(alone.0 > 0 && alone.1 > 0, "{alone:?}");
    assert_eq!(record_counts(&link(&[("parser.o", &renamed)])), alone);
    let both = record_counts(&link(&[("policy.o", &policy), ("parser.o", &parser)]));
    let renamed_both = link(&[("policy.o", &policy), ("parser.o", &renamed)]);
    assert_eq!(record_counts(&renamed_both), both);
    let first = link(&[("parser.o", &renamed), ("policy.o", &policy)]);
    let plain_first = link(&[("parser.o", &parser), ("policy.o", &policy)]);
    assert_eq!(record_counts(&first), record_counts(&plain_first));
}
