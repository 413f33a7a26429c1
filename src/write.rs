//! Takes the output sections, symbols, encoded BTF and the `.BTF.ext` records, gives the bytes
//! of one relocatable ELF64 BPF object (object's ELF writer; the records are encoded as they are
//! written), and writes files atomically (temp file + rename).

use std::path::Path;

use object::elf;
use object::write::elf::{FileHeader, Rel, SectionHeader, SectionIndex, Sym, Writer};
use object::write::StringId;
use object::Endianness;

use crate::btf::ext::BtfExt;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::resolve::Symbols;

/// Serialise the linked object into memory.
pub fn elf_bytes(
    endian: Endianness,
    layout: &Layout,
    symbols: &Symbols,
    btf: Option<&[u8]>,
    btf_ext: Option<&BtfExt>,
) -> Result<Vec<u8>> {
    let total: usize = layout.sections.iter().map(|s| s.data.len()).sum();
    let blobs = btf.map_or(0, <[u8]>::len) + btf_ext.map_or(0, BtfExt::encoded_len);
    let mut buf = Vec::with_capacity(total + blobs + 4096);
    emit(&mut buf, endian, layout, symbols, btf, btf_ext)?;
    Ok(buf)
}

/// Serialise the linked object into `out` (streamed: no second copy in memory).
pub fn elf_to(
    out: &mut dyn std::io::Write,
    endian: Endianness,
    layout: &Layout,
    symbols: &Symbols,
    btf: Option<&[u8]>,
    btf_ext: Option<&BtfExt>,
) -> Result<()> {
    let mut stream = object::write::StreamingBuffer::new(out);
    emit(&mut stream, endian, layout, symbols, btf, btf_ext)?;
    stream
        .result()
        .map_err(|e| Error::Output(format!("cannot write the output object: {e}")))
}

/// What the reserve phase decided: section and symbol indices, names and file ranges, for the
/// write phase to use in the same order.
struct Reserved {
    sec_index: Vec<SectionIndex>,
    sec_name: Vec<StringId>,
    /// Per output section: its `.rel` section's index and name, when it has relocations.
    rel_index: Vec<Option<(SectionIndex, StringId)>>,
    btf_name: Option<StringId>,
    ext_name: Option<StringId>,
    symtab_index: SectionIndex,
    sym_names: Vec<Option<StringId>>,
    sec_offset: Vec<u64>,
    rel_offset: Vec<u64>,
    btf_offset: Option<u64>,
    ext_offset: Option<u64>,
}

/// The output object's pieces, borrowed for the two phases of `object`'s ELF writer.
struct Parts<'a> {
    layout: &'a Layout,
    symbols: &'a Symbols,
    btf: Option<&'a [u8]>,
    btf_ext: Option<&'a BtfExt>,
    /// `.rel<name>` of each output section (the writer keeps references to the names).
    rel_names: Vec<Vec<u8>>,
}

/// The ELF file, in the order `object`'s writer wants: reserve everything, then write file
/// header, section contents, relocations, BTF, symbols, string tables and section headers.
fn emit(
    buf: &mut dyn object::write::WritableBuffer,
    endian: Endianness,
    layout: &Layout,
    symbols: &Symbols,
    btf: Option<&[u8]>,
    btf_ext: Option<&BtfExt>,
) -> Result<()> {
    let parts = Parts {
        layout,
        symbols,
        btf,
        btf_ext,
        rel_names: layout
            .sections
            .iter()
            .map(|s| format!(".rel{}", s.name).into_bytes())
            .collect(),
    };
    let mut w = Writer::new(endian, true, buf);
    let r = reserve(&mut w, &parts)?;
    write_file_header(&mut w)?;
    write_section_data(&mut w, layout);
    write_relocations(&mut w, layout);
    write_btf(&mut w, btf, btf_ext, endian);
    write_symbols(&mut w, symbols, &r);
    w.write_strtab();
    w.write_shstrtab();
    write_section_headers(&mut w, &parts, &r);
    Ok(())
}

/// Phase 1: section indices and names, symbol indices and names, then the file ranges.
fn reserve<'a>(w: &mut Writer<'a>, parts: &'a Parts<'a>) -> Result<Reserved> {
    w.reserve_file_header();
    w.reserve_null_section_index();
    let sections = &parts.layout.sections;
    let sec_index: Vec<SectionIndex> = sections.iter().map(|_| w.reserve_section_index()).collect();
    let sec_name = sections
        .iter()
        .map(|s| w.add_section_name(s.name.as_bytes()))
        .collect();
    let rel_index = sections
        .iter()
        .zip(&parts.rel_names)
        .map(|(s, n)| {
            (!s.relocs.is_empty()).then(|| (w.reserve_section_index(), w.add_section_name(n)))
        })
        .collect();
    let mut named = |present: bool, name: &'static [u8]| {
        present.then(|| {
            w.reserve_section_index();
            w.add_section_name(name)
        })
    };
    let btf_name = named(parts.btf.is_some(), b".BTF");
    let ext_name = named(parts.btf_ext.is_some(), b".BTF.ext");
    let symtab_index = w.reserve_symtab_section_index();
    w.reserve_strtab_section_index();
    w.reserve_shstrtab_section_index();
    let sym_names = reserve_symbols(w, parts.symbols, &sec_index);
    let mut r = Reserved {
        sec_index,
        sec_name,
        rel_index,
        btf_name,
        ext_name,
        symtab_index,
        sym_names,
        sec_offset: Vec::new(),
        rel_offset: Vec::new(),
        btf_offset: None,
        ext_offset: None,
    };
    reserve_ranges(w, parts, &mut r)?;
    Ok(r)
}

/// Symbol indices (the null symbol first) and names.
fn reserve_symbols<'a>(
    w: &mut Writer<'a>,
    symbols: &'a Symbols,
    sec_index: &[SectionIndex],
) -> Vec<Option<StringId>> {
    w.reserve_null_symbol_index();
    let mut sym_names = Vec::with_capacity(symbols.list.len());
    for s in symbols.list.iter().skip(1) {
        sym_names.push((!s.name.is_empty()).then(|| w.add_string(s.name.as_bytes())));
        w.reserve_symbol_index(s.section().map(|o| sec_index[o.0]));
    }
    sym_names
}

/// File ranges, in the order the write phase fills them.
fn reserve_ranges(w: &mut Writer<'_>, parts: &Parts<'_>, r: &mut Reserved) -> Result<()> {
    let sections = &parts.layout.sections;
    r.sec_offset = sections
        .iter()
        .map(|s| w.reserve(s.data.len() as u64, s.align))
        .collect();
    r.rel_offset = sections
        .iter()
        .map(|s| {
            if s.relocs.is_empty() {
                0
            } else {
                w.reserve_relocations(s.relocs.len(), false)
            }
        })
        .collect();
    r.btf_offset = parts.btf.map(|b| w.reserve(b.len() as u64, 8));
    r.ext_offset = parts.btf_ext.map(|e| w.reserve(e.encoded_len() as u64, 8));
    w.reserve_symtab();
    w.reserve_strtab().map_err(write_err)?;
    w.reserve_shstrtab().map_err(write_err)?;
    w.reserve_section_headers();
    Ok(())
}

fn write_file_header(w: &mut Writer<'_>) -> Result<()> {
    w.write_file_header(&FileHeader {
        os_abi: elf::ELFOSABI_NONE,
        abi_version: 0,
        e_type: elf::ET_REL,
        e_machine: elf::EM_BPF,
        e_entry: 0,
        e_flags: elf::FileFlags(0),
    })
    .map_err(write_err)
}

fn write_section_data(w: &mut Writer<'_>, layout: &Layout) {
    for s in &layout.sections {
        w.write_align(s.align);
        w.write(&s.data);
    }
}

/// The `.rel` sections' entries (REL, addend 0: BPF keeps addends in the instructions).
fn write_relocations(w: &mut Writer<'_>, layout: &Layout) {
    for s in layout.sections.iter().filter(|s| !s.relocs.is_empty()) {
        w.write_align_relocation();
        for r in &s.relocs {
            w.write_relocation(
                false,
                &Rel {
                    r_offset: r.offset,
                    r_sym: r.sym,
                    r_type: elf::RelocationType(r.r_type),
                    r_addend: 0,
                },
            );
        }
    }
}

fn write_btf(w: &mut Writer<'_>, btf: Option<&[u8]>, btf_ext: Option<&BtfExt>, endian: Endianness) {
    if let Some(data) = btf {
        w.write_align(8);
        w.write(data);
    }
    if let Some(ext) = btf_ext {
        w.write_align(8);
        ext.encode_chunks(endian, &mut |piece| w.write(piece));
    }
}

fn write_symbols(w: &mut Writer<'_>, symbols: &Symbols, r: &Reserved) {
    w.write_null_symbol();
    for (s, name) in symbols.list.iter().skip(1).zip(&r.sym_names) {
        let st_shndx = if s.abs { elf::SHN_ABS } else { elf::SHN_UNDEF };
        w.write_symbol(&Sym {
            section: s.section().map(|o| r.sec_index[o.0].0),
            st_name: w.string_offset(*name),
            st_info: elf::SymbolInfo::new(elf::SymbolBind(s.bind), elf::SymbolType(s.typ)),
            st_other: elf::SymbolOther(s.other),
            st_shndx,
            st_value: s.value,
            st_size: s.size,
        });
    }
}

/// Section headers in index order: output sections, their `.rel` sections, `.BTF`,
/// `.BTF.ext`, then the symbol and string tables.
fn write_section_headers(w: &mut Writer<'_>, parts: &Parts<'_>, r: &Reserved) {
    w.write_null_section_header();
    let sections = &parts.layout.sections;
    for (k, s) in sections.iter().enumerate() {
        w.write_section_header(&SectionHeader {
            sh_name: w.section_name_offset(Some(r.sec_name[k])),
            sh_type: elf::SectionType(s.sh_type),
            sh_flags: elf::SectionFlags(s.flags),
            sh_addr: 0,
            sh_offset: r.sec_offset[k],
            sh_size: s.size,
            sh_link: 0,
            sh_info: 0,
            sh_addralign: s.align,
            sh_entsize: s.entsize,
        });
    }
    for (k, s) in sections.iter().enumerate() {
        if let Some((_, name)) = r.rel_index[k] {
            w.write_relocation_section_header(
                name,
                r.sec_index[k],
                r.symtab_index,
                r.rel_offset[k],
                s.relocs.len(),
                false,
            );
        }
    }
    let blobs = [
        (r.btf_name, r.btf_offset, parts.btf.map(<[u8]>::len)),
        (
            r.ext_name,
            r.ext_offset,
            parts.btf_ext.map(BtfExt::encoded_len),
        ),
    ];
    for (name, offset, len) in blobs {
        if let (Some(name), Some(offset), Some(len)) = (name, offset, len) {
            let h = progbits_header(w, name, offset, len as u64);
            w.write_section_header(&h);
        }
    }
    w.write_symtab_section_header(parts.symbols.num_local);
    w.write_strtab_section_header();
    w.write_shstrtab_section_header();
}

/// Header of a plain, 8-aligned PROGBITS section (`.BTF`, `.BTF.ext`).
fn progbits_header(w: &Writer<'_>, name: StringId, offset: u64, size: u64) -> SectionHeader {
    SectionHeader {
        sh_name: w.section_name_offset(Some(name)),
        sh_type: elf::SHT_PROGBITS,
        sh_flags: elf::SectionFlags(0),
        sh_addr: 0,
        sh_offset: offset,
        sh_size: size,
        sh_link: 0,
        sh_info: 0,
        sh_addralign: 8,
        sh_entsize: 0,
    }
}

fn write_err(e: object::write::Error) -> Error {
    Error::Output(format!("cannot encode the output object: {e}"))
}

/// Write `path` atomically: `fill` writes a temporary file in the same directory, which is then
/// renamed over `path`. On error the previous file at `path` (if any) is untouched and no
/// temporary is left.
pub fn atomic_write_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<()>,
) -> Result<()> {
    let io = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        err: e,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::Usage(format!("{}: not a file name", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.bpfmerge-{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(io)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    // No fsync before the rename: like ld, lld and bpftool, durability across a power loss is
    // left to the file system (ext4 flushes a file renamed over another one, auto_da_alloc).
    // The rename alone makes the output appear whole or not at all to every reader. An fsync
    // cost 5-30 ms per link on a busy machine: the whole wall time of a small link.
    let result = fill(&mut w).and_then(|()| {
        w.into_inner().map_err(|e| io(e.into_error()))?;
        std::fs::rename(&tmp, path).map_err(io)
    });
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}
