//! One object as libbpf is to see it: takes the object's bytes, gives
//! - the bytes to open when they must differ from the file: a copy in which every `static`
//!   `.maps` definition is global (libbpf refuses static maps: "unsupported map linkage
//!   static"; the linker emits them as globals too), and
//! - its map-in-map initialisers (`.values` slots naming a map), which libbpf writes only into
//!   outer maps it creates itself, not into reused ones.
//!
//! The copy differs from the file in exactly these bytes, per static map definition:
//! - the BTF VAR's linkage word: `BTF_VAR_STATIC` (0) becomes `BTF_VAR_GLOBAL_ALLOCATED` (1),
//!   which is what `bpf_object__init_user_btf_map` checks;
//! - the ELF symbol's binding: `STB_LOCAL` becomes `STB_GLOBAL`, because libbpf matches a global
//!   VAR with a global or weak ELF symbol of its name (`find_elf_var_sym`) to place it in
//!   `.maps`. The symbol stays where it is in `.symtab` (before `sh_info`, the first global):
//!   libbpf does not read that order;
//! - each relocation that reaches the definition through the `.maps` section symbol plus an
//!   addend (clang does this for static maps): it names the map's own symbol instead, addend 0,
//!   because libbpf finds a map by its symbol's value alone.

use object::elf;
use object::read::elf::{FileHeader as _, SectionHeader as _};
use object::Endianness;

use crate::btf::{Btf, BtfType, TypeId, VAR_GLOBAL, VAR_STATIC};
use crate::error::{Error, Result};
use crate::input::{self, reloc, SecKind, SymIdx, SymPlace};
use crate::maps::{self, SlotKey};

/// `outer[slot] = inner`, from a `.values` initialiser of a map-in-map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InnerInit {
    pub outer: String,
    pub slot: u32,
    pub inner: String,
}

/// What libbpf is to open, and what it will not do by itself.
#[derive(Debug, Default)]
pub struct Prepared {
    /// The copy to open instead of the file (it has static map definitions), if any.
    pub patched: Option<Vec<u8>>,
    /// The names of the maps made global in `patched`.
    pub made_global: Vec<String>,
    /// Every map-in-map `.values` slot of the object.
    pub inner_inits: Vec<InnerInit>,
}

/// Read `data` (the object `file`) and prepare it for libbpf.
pub fn prepare(file: &str, data: &[u8]) -> Result<Prepared> {
    let inp = input::parse(file, data)?;
    let mut btf = Btf::new();
    let appended = match inp.btf {
        Some(raw) => Some(btf.append(raw).map_err(|e| e.in_file(file))?),
        None => None,
    };
    let eq = btf.equivalence();
    let plan = maps::plan(std::slice::from_ref(&inp), &btf, &[appended], &eq)?;

    let mut out = Prepared::default();
    for map in &plan.maps {
        for (&slot, s) in &map.slots {
            if let SlotKey::Map(inner) = &s.key {
                out.inner_inits.push(InnerInit {
                    outer: map.name.clone(),
                    slot: u32::try_from(slot)
                        .map_err(|_| bad(file, "`.values` slot beyond 2^32"))?,
                    inner: inner.clone(),
                });
            }
        }
    }

    let statics: Vec<(String, TypeId, SymIdx)> = plan
        .maps
        .iter()
        .flat_map(|m| m.defs.iter().map(move |d| (m, d)))
        .filter(|(_, d)| d.is_static && !d.is_extern)
        .filter_map(|(m, d)| d.sym.map(|s| (m.name.clone(), d.var, s)))
        .collect();
    if statics.is_empty() {
        return Ok(out);
    }
    let (Some(app), Some(raw_btf)) = (appended, inp.btf) else {
        return Ok(out);
    };
    let file_bytes = FileBytes {
        file,
        data,
        endian: inp.endian,
    };
    let mut copy = data.to_vec();

    // BTF: the linkage word of each static VAR.
    let btf_at = file_bytes.section_offset(".BTF")?;
    let big = inp.endian == Endianness::Big;
    let offsets = type_offsets(raw_btf, big).ok_or_else(|| bad(file, "cannot walk .BTF types"))?;
    for (name, var, _) in &statics {
        let raw_id = var.0.saturating_sub(app.base) as usize;
        let (Some(&at), Ok(BtfType::Var { linkage, .. })) = (offsets.get(raw_id), btf.get(*var))
        else {
            return Err(bad(
                file,
                format!("map `{name}`: its BTF VAR is not where expected"),
            ));
        };
        let word = btf_at + at + 12;
        if *linkage != VAR_STATIC || get_u32(&copy, word, big) != Some(VAR_STATIC) {
            return Err(bad(
                file,
                format!("map `{name}`: its BTF VAR linkage is not static"),
            ));
        }
        put_u32(&mut copy, word, VAR_GLOBAL, big)
            .ok_or_else(|| bad(file, format!("map `{name}`: BTF VAR outside the file")))?;
    }

    // ELF: the symbol binding of each static map definition.
    let symtab_at = file_bytes.symtab_offset()?;
    for (name, _, sym) in &statics {
        let at = sym
            .0
            .checked_mul(SYM_SIZE)
            .and_then(|o| o.checked_add(symtab_at + 4))
            .ok_or_else(|| bad(file, format!("map `{name}`: symbol outside the file")))?;
        let info = copy
            .get_mut(at)
            .ok_or_else(|| bad(file, format!("map `{name}`: symbol outside the file")))?;
        if *info >> 4 != elf::STB_LOCAL.0 {
            return Err(bad(file, format!("map `{name}`: its symbol is not local")));
        }
        *info = (elf::STB_GLOBAL.0 << 4) | (*info & 0xf);
    }

    // Relocations through the `.maps` section symbol: to the map's own symbol.
    let maps_sec = plan.maps_section.first().copied().flatten();
    let map_at = |offset: u64| -> Option<SymIdx> {
        plan.maps
            .iter()
            .flat_map(|m| &m.defs)
            .filter(|d| !d.is_extern && d.offset == offset)
            .find_map(|d| d.sym)
    };
    for rel in file_bytes.rel_sections()? {
        let target_kind = inp.sections.get(rel.target).map(|s| s.kind);
        for n in 0..rel.count {
            let entry = rel.offset + n * 16;
            let (Some(r_offset), Some(r_info)) =
                (get_u64(&copy, entry, big), get_u64(&copy, entry + 8, big))
            else {
                return Err(bad(file, "relocation outside the file"));
            };
            let sym = (r_info >> 32) as usize;
            let r_type = (r_info & 0xffff_ffff) as u32;
            let Some(s) = inp.symbols.get(sym) else {
                continue;
            };
            if !s.is_section() || maps_sec.map(SymPlace::Section) != Some(s.place) {
                continue;
            }
            let r_offset = usize::try_from(r_offset).unwrap_or(usize::MAX);
            // Where the addend is: the ld_imm64 immediate, or the 8 bytes of a `.values` slot.
            let addend_at = match (target_kind, r_type) {
                (Some(SecKind::Code), reloc::R64_64) => rel.target_offset.checked_add(r_offset),
                (Some(SecKind::Maps), reloc::ABS64) => rel.target_offset.checked_add(r_offset),
                _ => continue,
            };
            let addend = match (target_kind, addend_at) {
                (Some(SecKind::Code), Some(at)) => get_u32(&copy, at + 4, big)
                    .map(|imm| i64::from(imm as i32))
                    .and_then(|imm| u64::try_from(imm).ok()),
                (_, Some(at)) => get_u64(&copy, at, big),
                _ => None,
            };
            let Some(addend) = addend else {
                return Err(bad(file, "relocation addend outside the file"));
            };
            let Some(target) = s.value.checked_add(addend).and_then(map_at) else {
                continue;
            };
            let info = ((target.0 as u64) << 32) | u64::from(r_type);
            put_u64(&mut copy, entry + 8, info, big);
            if let Some(at) = addend_at {
                match target_kind {
                    Some(SecKind::Code) => put_u32(&mut copy, at + 4, 0, big),
                    _ => put_u64(&mut copy, at, 0, big),
                };
            }
        }
    }

    out.made_global = statics.into_iter().map(|(n, _, _)| n).collect();
    out.patched = Some(copy);
    Ok(out)
}

/// The name libbpf gives an object opened from `path`: its file name up to the first `.`
/// (`bpf_object_new`). Objects opened from memory get it explicitly, so that they and their
/// global-data maps (`<name>.bss`, ...) are named as if opened from the file.
pub fn libbpf_object_name(path: &std::path::Path) -> String {
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match base.split_once('.') {
        Some((stem, _)) => stem.to_string(),
        None => base,
    }
}

const SYM_SIZE: usize = 24;

fn bad(file: &str, reason: impl Into<String>) -> Error {
    Error::BadObject {
        file: file.to_string(),
        reason: format!(
            "preparing its static map definitions for libbpf: {}",
            reason.into()
        ),
    }
}

/// One SHT_REL section: where its entries are and where the section they apply to is.
struct RelSection {
    offset: usize,
    count: usize,
    target: usize,
    target_offset: usize,
}

/// The parts of a section header used here.
struct Header {
    name: String,
    sh_type: u32,
    offset: usize,
    size: usize,
    info: u32,
}

/// File offsets of sections (`input::parse` checked them already; checked again on use).
struct FileBytes<'d> {
    file: &'d str,
    data: &'d [u8],
    endian: Endianness,
}

impl<'d> FileBytes<'d> {
    fn headers(&self) -> Result<Vec<Header>> {
        let header = elf::FileHeader64::<Endianness>::parse(self.data)
            .map_err(|e| bad(self.file, format!("bad ELF header: {e}")))?;
        let table = header
            .sections(self.endian, self.data)
            .map_err(|e| bad(self.file, format!("bad section table: {e}")))?;
        let mut out = Vec::new();
        for sh in table.iter() {
            let name = table
                .section_name(self.endian, sh)
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_default();
            let offset = usize::try_from(sh.sh_offset(self.endian)).unwrap_or(usize::MAX);
            let size = usize::try_from(sh.sh_size(self.endian)).unwrap_or(usize::MAX);
            out.push(Header {
                name,
                sh_type: sh.sh_type(self.endian).0,
                offset,
                size,
                info: sh.sh_info(self.endian),
            });
        }
        Ok(out)
    }

    fn section_offset(&self, name: &str) -> Result<usize> {
        self.headers()?
            .into_iter()
            .find(|h| h.name == name)
            .map(|h| h.offset)
            .ok_or_else(|| bad(self.file, format!("no {name} section")))
    }

    fn symtab_offset(&self) -> Result<usize> {
        self.headers()?
            .into_iter()
            .find(|h| h.sh_type == elf::SHT_SYMTAB.0)
            .map(|h| h.offset)
            .ok_or_else(|| bad(self.file, "no symbol table"))
    }

    fn rel_sections(&self) -> Result<Vec<RelSection>> {
        let headers = self.headers()?;
        Ok(headers
            .iter()
            .filter(|h| h.sh_type == elf::SHT_REL.0)
            .filter_map(|h| {
                let target = h.info as usize;
                let target_offset = headers.get(target)?.offset;
                Some(RelSection {
                    offset: h.offset,
                    count: h.size / 16,
                    target,
                    target_offset,
                })
            })
            .collect())
    }
}

/// Byte offset of each type (index = raw type id; 0 is void and has none) in the type section
/// of the raw `.BTF` `data`, relative to the start of `data`.
fn type_offsets(data: &[u8], big: bool) -> Option<Vec<usize>> {
    let hdr_len = get_u32(data, 4, big)? as usize;
    let type_off = get_u32(data, 8, big)? as usize;
    let type_len = get_u32(data, 12, big)? as usize;
    let start = hdr_len.checked_add(type_off)?;
    let end = start.checked_add(type_len)?;
    if end > data.len() {
        return None;
    }
    let mut out = vec![0];
    let mut pos = start;
    while pos < end {
        out.push(pos);
        let info = get_u32(data, pos + 4, big)?;
        let kind = (info >> 24) & 0x1f;
        let vlen = (info & 0xffff) as usize;
        let extra = match kind {
            1 | 14 | 17 => 4,             // INT, VAR, DECL_TAG
            3 => 12,                      // ARRAY
            4 | 5 | 15 | 19 => 12 * vlen, // STRUCT, UNION, DATASEC, ENUM64
            6 | 13 => 8 * vlen,           // ENUM, FUNC_PROTO
            2 | 7..=12 | 16 | 18 => 0,
            _ => return None,
        };
        pos = pos.checked_add(12 + extra)?;
    }
    (pos == end).then_some(out)
}

fn get_u32(data: &[u8], at: usize, big: bool) -> Option<u32> {
    let b: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

fn get_u64(data: &[u8], at: usize, big: bool) -> Option<u64> {
    let b: [u8; 8] = data.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(if big {
        u64::from_be_bytes(b)
    } else {
        u64::from_le_bytes(b)
    })
}

fn put_u32(data: &mut [u8], at: usize, v: u32, big: bool) -> Option<()> {
    let b = if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    };
    data.get_mut(at..at.checked_add(4)?)?.copy_from_slice(&b);
    Some(())
}

fn put_u64(data: &mut [u8], at: usize, v: u64, big: bool) -> Option<()> {
    let b = if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    };
    data.get_mut(at..at.checked_add(8)?)?.copy_from_slice(&b);
    Some(())
}
