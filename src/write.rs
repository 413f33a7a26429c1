//! Takes the output sections, symbols and encoded BTF, gives the bytes of one relocatable ELF64
//! BPF object (object's ELF writer), and writes files atomically (temp file + rename).

use std::path::Path;

use object::elf;
use object::write::elf::{FileHeader, Rel, SectionHeader, SectionIndex, Sym, Writer};
use object::Endianness;

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::resolve::Symbols;

/// Serialise the linked object into memory.
pub fn elf_bytes(
    endian: Endianness,
    layout: &Layout,
    symbols: &Symbols,
    btf: Option<&[u8]>,
    btf_ext: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let total: usize = layout.sections.iter().map(|s| s.data.len()).sum();
    let mut buf = Vec::with_capacity(total + btf.map_or(0, <[u8]>::len) + 4096);
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
    btf_ext: Option<&[u8]>,
) -> Result<()> {
    let mut stream = object::write::StreamingBuffer::new(out);
    emit(&mut stream, endian, layout, symbols, btf, btf_ext)?;
    stream
        .result()
        .map_err(|e| Error::Output(format!("cannot write the output object: {e}")))
}

fn emit(
    buf: &mut dyn object::write::WritableBuffer,
    endian: Endianness,
    layout: &Layout,
    symbols: &Symbols,
    btf: Option<&[u8]>,
    btf_ext: Option<&[u8]>,
) -> Result<()> {
    let rel_names: Vec<Vec<u8>> = layout
        .sections
        .iter()
        .map(|s| format!(".rel{}", s.name).into_bytes())
        .collect();
    let mut w = Writer::new(endian, true, buf);

    // Phase 1: reserve indices, names and ranges.
    w.reserve_file_header();
    w.reserve_null_section_index();
    let sec_index: Vec<SectionIndex> = layout
        .sections
        .iter()
        .map(|_| w.reserve_section_index())
        .collect();
    let sec_name: Vec<_> = layout
        .sections
        .iter()
        .map(|s| w.add_section_name(s.name.as_bytes()))
        .collect();
    let rel_index: Vec<Option<(SectionIndex, _)>> = layout
        .sections
        .iter()
        .zip(&rel_names)
        .map(|(s, n)| {
            (!s.relocs.is_empty()).then(|| (w.reserve_section_index(), w.add_section_name(n)))
        })
        .collect();
    let btf_index = btf.map(|_| (w.reserve_section_index(), w.add_section_name(b".BTF")));
    let ext_index = btf_ext.map(|_| (w.reserve_section_index(), w.add_section_name(b".BTF.ext")));
    let symtab_index = w.reserve_symtab_section_index();
    w.reserve_strtab_section_index();
    w.reserve_shstrtab_section_index();

    w.reserve_null_symbol_index();
    let mut sym_names = Vec::with_capacity(symbols.list.len());
    for s in symbols.list.iter().skip(1) {
        sym_names.push((!s.name.is_empty()).then(|| w.add_string(s.name.as_bytes())));
        w.reserve_symbol_index(s.section.map(|o| sec_index[o.0]));
    }

    let sec_offset: Vec<u64> = layout
        .sections
        .iter()
        .map(|s| w.reserve(s.data.len() as u64, s.align))
        .collect();
    let rel_offset: Vec<u64> = layout
        .sections
        .iter()
        .map(|s| {
            if s.relocs.is_empty() {
                0
            } else {
                w.reserve_relocations(s.relocs.len(), false)
            }
        })
        .collect();
    let btf_offset = btf.map(|b| w.reserve(b.len() as u64, 8));
    let ext_offset = btf_ext.map(|e| w.reserve(e.len() as u64, 8));
    w.reserve_symtab();
    w.reserve_strtab().map_err(write_err)?;
    w.reserve_shstrtab().map_err(write_err)?;
    w.reserve_section_headers();

    // Phase 2: write in the same order.
    w.write_file_header(&FileHeader {
        os_abi: elf::ELFOSABI_NONE,
        abi_version: 0,
        e_type: elf::ET_REL,
        e_machine: elf::EM_BPF,
        e_entry: 0,
        e_flags: elf::FileFlags(0),
    })
    .map_err(write_err)?;
    for s in &layout.sections {
        w.write_align(s.align);
        w.write(&s.data);
    }
    for s in &layout.sections {
        if s.relocs.is_empty() {
            continue;
        }
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
    if let Some(b) = btf {
        w.write_align(8);
        w.write(b);
    }
    if let Some(e) = btf_ext {
        w.write_align(8);
        w.write(e);
    }
    w.write_null_symbol();
    for (s, name) in symbols.list.iter().skip(1).zip(&sym_names) {
        let st_shndx = if s.abs { elf::SHN_ABS } else { elf::SHN_UNDEF };
        w.write_symbol(&Sym {
            section: s.section.map(|o| sec_index[o.0].0),
            st_name: w.string_offset(*name),
            st_info: elf::SymbolInfo::new(elf::SymbolBind(s.bind), elf::SymbolType(s.typ)),
            st_other: elf::SymbolOther(s.other),
            st_shndx,
            st_value: s.value,
            st_size: s.size,
        });
    }
    w.write_strtab();
    w.write_shstrtab();

    w.write_null_section_header();
    for (k, s) in layout.sections.iter().enumerate() {
        w.write_section_header(&SectionHeader {
            sh_name: w.section_name_offset(Some(sec_name[k])),
            sh_type: elf::SectionType(s.sh_type),
            sh_flags: elf::SectionFlags(s.flags),
            sh_addr: 0,
            sh_offset: sec_offset[k],
            sh_size: s.size,
            sh_link: 0,
            sh_info: 0,
            sh_addralign: s.align,
            sh_entsize: s.entsize,
        });
    }
    for (k, s) in layout.sections.iter().enumerate() {
        if let Some((_, name)) = rel_index[k] {
            w.write_relocation_section_header(
                name,
                sec_index[k],
                symtab_index,
                rel_offset[k],
                s.relocs.len(),
                false,
            );
        }
    }
    let plain = |w: &Writer<'_>, name, offset, size| SectionHeader {
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
    };
    if let (Some((_, name)), Some(off), Some(b)) = (btf_index, btf_offset, btf) {
        let h = plain(&w, name, off, b.len() as u64);
        w.write_section_header(&h);
    }
    if let (Some((_, name)), Some(off), Some(e)) = (ext_index, ext_offset, btf_ext) {
        let h = plain(&w, name, off, e.len() as u64);
        w.write_section_header(&h);
    }
    w.write_symtab_section_header(symbols.num_local);
    w.write_strtab_section_header();
    w.write_shstrtab_section_header();
    Ok(())
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
    let result = fill(&mut w).and_then(|()| {
        let f = w.into_inner().map_err(|e| io(e.into_error()))?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    });
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}
