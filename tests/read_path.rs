//! The read path (`input::read_object`) leaves `.debug_*` sections out and packs the rest: what
//! `parse`, `link` and `inspect` make of the packed buffer must be exactly what they make of the
//! whole file, for every fixture; and a file it cannot pack (a section outside the file) is read
//! whole, so the error is the same as from the file's bytes. At the other end, the writer into
//! memory and the one streamed into the output file give the same bytes.

use std::path::{Path, PathBuf};

use bpfmerge::input::{self, SecKind};

fn fixtures() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("fixtures dir")
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "o") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &mut out,
    );
    assert!(out.len() > 50, "fixtures missing: {}", out.len());
    out
}

/// The sections the linker uses (name, kind, bytes) and the symbols, as text; or the error.
fn parsed(name: &str, data: &[u8]) -> String {
    match input::parse(name, data) {
        Err(e) => format!("error: {e}"),
        Ok(inp) => {
            let mut s = format!("{:?} btf {:?} ext {:?}\n", inp.endian, inp.btf, inp.btf_ext);
            for sec in &inp.sections {
                // Left-out sections are dropped by name: only name and kind must agree.
                if sec.kind == SecKind::Dropped && sec.name.contains(".debug") {
                    s += &format!("{} {:?}\n", sec.name, sec.kind);
                } else {
                    s += &format!("{sec:?}\n");
                }
            }
            s + &format!("{:?}", inp.symbols)
        }
    }
}

fn linked(name: &str, data: &[u8]) -> Result<Vec<u8>, String> {
    bpfmerge::link_bytes(&[(name.to_string(), data)])
        .map(|(bytes, _)| bytes)
        .map_err(|e| e.to_string())
}

fn inspected(name: &str, data: &[u8]) -> String {
    format!("{:?}", bpfmerge::inspect_bytes(name, data))
}

#[test]
fn every_fixture_reads_packed_as_the_whole_file_parses() {
    let mut packed_smaller = 0;
    for path in fixtures() {
        let name = path.display().to_string();
        let whole = std::fs::read(&path).expect("read fixture");
        let packed = input::read_object(&path).expect("read_object");
        // clang -g objects carry DWARF, which the packed buffer leaves out.
        if packed.len() < whole.len() {
            packed_smaller += 1;
        }
        assert_eq!(
            parsed(&name, &packed),
            parsed(&name, &whole),
            "{name}: parse"
        );
        assert_eq!(
            linked(&name, &packed),
            linked(&name, &whole),
            "{name}: link"
        );
        assert_eq!(
            inspected(&name, &packed),
            inspected(&name, &whole),
            "{name}: inspect"
        );
    }
    // Every BPF fixture is built with -g (the x86 one in bad/ too).
    assert!(
        packed_smaller > 50,
        "only {packed_smaller} fixtures packed smaller"
    );
}

/// Offset of the section header of the section named `want` in a little-endian ELF64 file.
fn section_header(data: &[u8], want: &str) -> usize {
    let word = |o: usize, n: usize| {
        data[o..o + n]
            .iter()
            .rev()
            .fold(0u64, |v, &b| (v << 8) | u64::from(b)) as usize
    };
    let (shoff, shnum, shstrndx) = (word(0x28, 8), word(0x3c, 2), word(0x3e, 2));
    let strtab = word(shoff + shstrndx * 64 + 0x18, 8);
    (0..shnum)
        .map(|i| shoff + i * 64)
        .find(|&h| {
            let name = &data[strtab + word(h, 4)..];
            name.starts_with(want.as_bytes()) && name[want.len()] == 0
        })
        .unwrap_or_else(|| panic!("no section {want}"))
}

#[test]
fn a_debug_section_outside_the_file_is_reported_as_from_the_bytes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed/entry.o");
    let mut data = std::fs::read(&path).expect("read fixture");
    // .debug_info's offset moved past the end of the file.
    let h = section_header(&data, ".debug_info");
    let past = (data.len() as u64 + 100).to_le_bytes();
    data[h + 0x18..h + 0x20].copy_from_slice(&past);
    let dir = std::env::temp_dir().join(format!("bpfmerge-read-path-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bad.o");
    std::fs::write(&file, &data).expect("write");
    let name = file.display().to_string();

    let read = input::read_object(&file).expect("read_object");
    assert_eq!(read, data, "not packable: read whole");
    let from_file = bpfmerge::link_files(std::slice::from_ref(&file), &dir.join("out.o"))
        .expect_err("a section outside the file");
    let from_bytes = linked(&name, &data).expect_err("a section outside the file");
    let _ = std::fs::remove_dir_all(&dir);
    let msg = from_file.to_string();
    assert!(
        msg.contains(".debug_info") && msg.contains("outside the file"),
        "{msg}"
    );
    assert_eq!(msg, from_bytes);
}

#[test]
fn overlapping_sections_never_make_the_buffer_larger_than_the_file() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed/entry.o");
    let mut data = std::fs::read(&path).expect("read fixture");
    // Every section kept by the packed read now claims the whole file: packing would copy the
    // file once per section; the read falls back to the whole file instead.
    let len = data.len() as u64;
    for name in [
        ".text", "xdp", ".maps", "license", ".BTF", ".BTF.ext", ".symtab", ".strtab",
    ] {
        let h = section_header(&data, name);
        data[h + 0x18..h + 0x20].copy_from_slice(&0u64.to_le_bytes());
        data[h + 0x20..h + 0x28].copy_from_slice(&len.to_le_bytes());
    }
    let dir = std::env::temp_dir().join(format!("bpfmerge-read-overlap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("overlap.o");
    std::fs::write(&file, &data).expect("write");
    let read = input::read_object(&file);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(read.expect("read_object"), data);
}

/// The two writers (into memory for `link_bytes`, streamed into the temporary file for
/// `link_files`, which encodes `.BTF.ext` records piece by piece as it writes them) give the
/// same bytes for the objects of every fixture directory linked together.
#[test]
fn the_file_writer_and_the_memory_writer_agree() {
    let mut dirs: Vec<PathBuf> = fixtures()
        .iter()
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    dirs.dedup();
    let out_dir = std::env::temp_dir().join(format!("bpfmerge-writers-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).expect("temp dir");
    let (mut linked_dirs, mut with_ext) = (0, 0);
    for dir in &dirs {
        let files: Vec<PathBuf> = fixtures()
            .into_iter()
            .filter(|p| p.parent() == Some(dir.as_path()))
            .collect();
        let bytes: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|p| (p.display().to_string(), std::fs::read(p).expect("read")))
            .collect();
        let borrowed: Vec<(String, &[u8])> =
            bytes.iter().map(|(n, b)| (n.clone(), &b[..])).collect();
        let out = out_dir.join("out.o");
        let (in_memory, on_disk) = (
            bpfmerge::link_bytes(&borrowed),
            bpfmerge::link_files(&files, &out),
        );
        match (in_memory, on_disk) {
            (Ok((mem, _)), Ok(_)) => {
                let disk = std::fs::read(&out).expect("read output");
                assert!(mem == disk, "{}: the two writers differ", dir.display());
                linked_dirs += 1;
                with_ext += usize::from(has_section(&mem, ".BTF.ext"));
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{}", dir.display()),
            (a, b) => panic!("{}: {:?} vs {:?}", dir.display(), a.err(), b.err()),
        }
    }
    let _ = std::fs::remove_dir_all(&out_dir);
    assert!(
        linked_dirs > 100 && with_ext > 100,
        "{linked_dirs} linked, {with_ext} with .BTF.ext"
    );
}

/// Whether an ELF file (either byte order; goblin, not the code under test, reads it) has a
/// section named `want`.
fn has_section(data: &[u8], want: &str) -> bool {
    let elf = goblin::elf::Elf::parse(data).expect("an ELF file");
    elf.section_headers
        .iter()
        .any(|h| elf.shdr_strtab.get_at(h.sh_name) == Some(want))
}
