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
use crate::input::{self, reloc, SecIdx, SecKind, SymIdx, SymPlace};
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
    /// Every map-in-map `.values` slot of the object.
    pub inner_inits: Vec<InnerInit>,
}

/// Read `data` (the object `file`) and prepare it for libbpf.
pub fn prepare(file: &str, data: &[u8]) -> Result<Prepared> {
    // First the relocations (so that every `.values` slot names its map's symbol, as the
    // library's map reader wants), then the definitions, read from that copy.
    let mut copy = data.to_vec();
    let retargeted = retarget_relocations(file, data, &mut copy)?;
    let (inner_inits, statics, patches) = {
        let inp = input::parse(file, &copy)?;
        let mut btf = Btf::new();
        let appended = match inp.btf {
            Some(raw) => Some(btf.append(raw).map_err(|e| e.in_file(file))?),
            None => None,
        };
        let eq = btf.equivalence();
        let plan = maps::plan(std::slice::from_ref(&inp), &btf, &[appended], &eq)?;
        let mut inner_inits = Vec::new();
        for map in &plan.maps {
            for (&slot, s) in &map.slots {
                if let SlotKey::Map(inner) = &s.key {
                    inner_inits.push(InnerInit {
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
            .filter_map(|(m, d)| d.sym().map(|s| (m.name.clone(), d.var, s)))
            .collect();
        let patches = match (appended, inp.btf) {
            (Some(app), Some(raw_btf)) if !statics.is_empty() => {
                static_patches(file, &copy, inp.endian, &btf, app.base, raw_btf, &statics)?
            }
            _ => Vec::new(),
        };
        (inner_inits, statics, patches)
    };
    for (at, bytes) in patches {
        copy.get_mut(at..at + bytes.len())
            .ok_or_else(|| bad(file, "patch outside the file"))?
            .copy_from_slice(&bytes);
    }
    Ok(Prepared {
        patched: (retargeted || !statics.is_empty()).then_some(copy),
        inner_inits,
    })
}

/// The bytes to write (file offset, bytes) that make each of `statics` (map name, BTF VAR,
/// ELF symbol) global: its VAR's linkage word and its symbol's `st_info`.
fn static_patches(
    file: &str,
    data: &[u8],
    endian: Endianness,
    btf: &Btf,
    base: u32,
    raw_btf: &[u8],
    statics: &[(String, TypeId, SymIdx)],
) -> Result<Vec<(usize, Vec<u8>)>> {
    let file_bytes = FileBytes { file, data, endian };
    let big = endian == Endianness::Big;
    let word = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
        .to_vec()
    };
    let mut out = Vec::new();

    // BTF: the linkage word (the u32 after the VAR's header) of each static VAR.
    let btf_at = file_bytes.section_offset(".BTF")?;
    let offsets = type_offsets(raw_btf, big).ok_or_else(|| bad(file, "cannot walk .BTF types"))?;
    for (name, var, _) in statics {
        let raw_id = var.0.saturating_sub(base) as usize;
        let (Some(&at), Ok(BtfType::Var { linkage, .. })) = (offsets.get(raw_id), btf.get(*var))
        else {
            return Err(bad(
                file,
                format!("map `{name}`: its BTF VAR is not where expected"),
            ));
        };
        let at = btf_at + at + 12;
        if *linkage != VAR_STATIC || get_u32(data, at, big) != Some(VAR_STATIC) {
            return Err(bad(
                file,
                format!("map `{name}`: its BTF VAR linkage is not static"),
            ));
        }
        out.push((at, word(VAR_GLOBAL)));
    }

    // ELF: the binding (high nibble of st_info) of each static map definition's symbol.
    let symtab_at = file_bytes.symtab_offset()?;
    for (name, _, sym) in statics {
        let at = sym
            .0
            .checked_mul(SYM_SIZE)
            .and_then(|o| o.checked_add(symtab_at + 4))
            .ok_or_else(|| bad(file, format!("map `{name}`: symbol outside the file")))?;
        let info = *data
            .get(at)
            .ok_or_else(|| bad(file, format!("map `{name}`: symbol outside the file")))?;
        if info >> 4 != elf::STB_LOCAL.0 {
            return Err(bad(file, format!("map `{name}`: its symbol is not local")));
        }
        out.push((at, vec![(elf::STB_GLOBAL.0 << 4) | (info & 0xf)]));
    }
    Ok(out)
}

/// In `copy` (of `data`): make each relocation against the `.maps` section symbol plus an
/// addend (an `ld_imm64` in code, a `.values` slot in `.maps`) name the symbol of the map
/// definition at that offset instead, addend 0. True when one was changed.
fn retarget_relocations(file: &str, data: &[u8], copy: &mut [u8]) -> Result<bool> {
    let inp = input::parse(file, data)?;
    let Some(maps_sec) = inp.section_by_name(".maps") else {
        return Ok(false);
    };
    let big = inp.endian == Endianness::Big;
    let file_bytes = FileBytes {
        file,
        data,
        endian: inp.endian,
    };
    let object = MapsRelocs {
        file,
        data,
        inp: &inp,
        maps_sec,
        big,
    };
    let mut changed = false;
    for rel in file_bytes.rel_sections()? {
        let target_kind = inp.sections.get(rel.target).map(|s| s.kind);
        for n in 0..rel.count {
            let entry = rel.offset + n * 16;
            if let Some(edit) = object.retarget(&rel, target_kind, entry)? {
                edit.apply(file, copy, big)?;
                changed = true;
            }
        }
    }
    Ok(changed)
}

/// An object's relocations against its `.maps` section, as read by [`retarget_relocations`].
struct MapsRelocs<'a> {
    file: &'a str,
    data: &'a [u8],
    inp: &'a input::Input<'a>,
    maps_sec: SecIdx,
    big: bool,
}

impl MapsRelocs<'_> {
    /// The map definition at `offset` in `.maps`: the index of its named OBJECT symbol.
    fn map_at(&self, offset: u64) -> Option<usize> {
        self.inp.symbols.iter().position(|s| {
            s.place() == SymPlace::Section(self.maps_sec)
                && s.typ == elf::STT_OBJECT.0
                && !s.name.is_empty()
                && s.value == offset
        })
    }

    /// How to rewrite the relocation at `entry` of `rel` (applying to a section of
    /// `target_kind`), when it reaches a map definition through the `.maps` section symbol.
    fn retarget(
        &self,
        rel: &RelSection,
        target_kind: Option<SecKind>,
        entry: usize,
    ) -> Result<Option<Retarget>> {
        let (data, big) = (self.data, self.big);
        let (Some(r_offset), Some(r_info)) =
            (get_u64(data, entry, big), get_u64(data, entry + 8, big))
        else {
            return Err(bad(self.file, "relocation outside the file"));
        };
        let sym = (r_info >> 32) as usize;
        let r_type = (r_info & 0xffff_ffff) as u32;
        let Some(s) = self.inp.symbols.get(sym) else {
            return Ok(None);
        };
        if !s.is_section() || s.place() != SymPlace::Section(self.maps_sec) {
            return Ok(None);
        }
        let Some(at) = usize::try_from(r_offset)
            .ok()
            .and_then(|o| rel.target_offset.checked_add(o))
        else {
            return Ok(None);
        };
        // The addend: the ld_imm64 immediate, or the 8 bytes of a `.values` slot.
        let (addend, code) = match (target_kind, r_type) {
            (Some(SecKind::Code), reloc::R64_64) => (
                get_u32(data, at + 4, big)
                    .and_then(|imm| u64::try_from(i64::from(imm as i32)).ok()),
                true,
            ),
            (Some(SecKind::Maps), reloc::ABS64) => (get_u64(data, at, big), false),
            _ => return Ok(None),
        };
        let Some(target) = addend
            .and_then(|a| s.value.checked_add(a))
            .and_then(|o| self.map_at(o))
        else {
            return Ok(None);
        };
        let info = ((target as u64) << 32) | u64::from(r_type);
        Ok(Some(Retarget {
            entry,
            info,
            at,
            code,
        }))
    }
}

/// The rewrite of one relocation: its entry (at `entry`) gets the new `r_info` `info`, and
/// its addend (at `at`: an `ld_imm64` immediate when `code`, else a `.values` slot) becomes 0.
struct Retarget {
    entry: usize,
    info: u64,
    at: usize,
    code: bool,
}

impl Retarget {
    /// Write the rewrite into `copy`.
    fn apply(&self, file: &str, copy: &mut [u8], big: bool) -> Result<()> {
        let done = put_u64(copy, self.entry + 8, self.info, big).and_then(|()| {
            if self.code {
                put_u32(copy, self.at + 4, 0, big)
            } else {
                put_u64(copy, self.at, 0, big)
            }
        });
        if done.is_none() {
            return Err(bad(file, "relocation outside the file"));
        }
        Ok(())
    }
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
        reason: format!("reading its map definitions for libbpf: {}", reason.into()),
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
