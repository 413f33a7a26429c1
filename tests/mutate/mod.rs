//! Deterministic, structure-aware mutation of BPF objects for the robustness tests: a seeded
//! PRNG (SplitMix64, no dependency), a map of where an object's fields are (ELF header, section
//! table, symbols, relocations, BTF header, types and strings, `.BTF.ext`), mutators that damage
//! exactly one of them, and a runner that executes a closure on another thread with a time
//! bound and turns a panic into an error message.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// SplitMix64: small, fast and good enough to pick mutations; the seed makes a run reproducible.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
    pub fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

/// Seed of mutation `n` of fixture `file`: stable across runs and machines.
pub fn seed_for(file: &str, n: u64) -> u64 {
    // FNV-1a of the name, mixed with the mutation number.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in file.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// A field of the object: absolute byte offset and width (1, 2, 4 or 8).
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub at: usize,
    pub width: usize,
}

/// Where things are in one (intact) object.
#[derive(Clone, Debug, Default)]
pub struct Anatomy {
    pub little: bool,
    /// (name, offset, size, sh_type) of every section with file data.
    pub sections: Vec<(String, usize, usize, u32)>,
    /// Section header table: offset of each header (64 bytes each).
    pub shdrs: Vec<usize>,
    /// Offset of each symbol entry (24 bytes each).
    pub syms: Vec<usize>,
    /// Offset of each relocation entry (16 bytes each).
    pub rels: Vec<usize>,
    /// `.BTF` section (offset, size).
    pub btf: Option<(usize, usize)>,
    /// Absolute offsets of each BTF type record header and its whole length.
    pub btf_types: Vec<(usize, usize)>,
    /// Absolute range of the BTF string section.
    pub btf_strs: Option<(usize, usize)>,
    /// `.BTF.ext` section (offset, size).
    pub btf_ext: Option<(usize, usize)>,
    /// Code sections (offset, size).
    pub code: Vec<(usize, usize)>,
    /// `.maps` section (offset, size).
    pub maps: Option<(usize, usize)>,
}

fn rd(data: &[u8], at: usize, width: usize, little: bool) -> u64 {
    let mut v = 0u64;
    for i in 0..width {
        let b = u64::from(data.get(at + i).copied().unwrap_or(0));
        if little {
            v |= b << (8 * i);
        } else {
            v = (v << 8) | b;
        }
    }
    v
}

fn wr(data: &mut [u8], at: usize, width: usize, little: bool, v: u64) {
    for i in 0..width {
        let shift = if little { 8 * i } else { 8 * (width - 1 - i) };
        if let Some(b) = data.get_mut(at + i) {
            *b = (v >> shift) as u8;
        }
    }
}

impl Anatomy {
    /// Map an intact object with goblin.
    pub fn of(data: &[u8]) -> Anatomy {
        let elf = goblin::elf::Elf::parse(data).expect("fixture parses with goblin");
        let little = elf.little_endian;
        let mut a = Anatomy {
            little,
            ..Anatomy::default()
        };
        let shoff = elf.header.e_shoff as usize;
        for (i, sh) in elf.section_headers.iter().enumerate() {
            a.shdrs.push(shoff + 64 * i);
            let name = elf.shdr_strtab.get_at(sh.sh_name).unwrap_or("").to_string();
            let (off, size) = (sh.sh_offset as usize, sh.sh_size as usize);
            if sh.sh_type != goblin::elf::section_header::SHT_NOBITS && i != 0 {
                a.sections.push((name.clone(), off, size, sh.sh_type));
            }
            match sh.sh_type {
                goblin::elf::section_header::SHT_SYMTAB => {
                    a.syms.extend((0..size / 24).map(|k| off + 24 * k));
                }
                goblin::elf::section_header::SHT_REL => {
                    a.rels.extend((0..size / 16).map(|k| off + 16 * k));
                }
                _ => {}
            }
            if sh.sh_flags & u64::from(goblin::elf::section_header::SHF_EXECINSTR) != 0 {
                a.code.push((off, size));
            }
            match name.as_str() {
                ".BTF" => a.btf = Some((off, size)),
                ".BTF.ext" => a.btf_ext = Some((off, size)),
                ".maps" => a.maps = Some((off, size)),
                _ => {}
            }
        }
        if let Some((off, size)) = a.btf {
            a.walk_btf(data, off, size);
        }
        a
    }

    /// Record where each BTF type and the string section are (stops at anything odd).
    fn walk_btf(&mut self, data: &[u8], off: usize, size: usize) {
        let Some(btf) = data.get(off..off + size) else {
            return;
        };
        let little = btf.first() == Some(&0x9f);
        let w = |at: usize| rd(btf, at, 4, little) as usize;
        let (hdr, type_off, type_len, str_off, str_len) = (w(4), w(8), w(12), w(16), w(20));
        let types = off + hdr + type_off;
        self.btf_strs = Some((off + hdr + str_off, str_len));
        let mut pos = 0;
        while pos + 12 <= type_len {
            let info = rd(btf, hdr + type_off + pos + 4, 4, little);
            let vlen = (info & 0xffff) as usize;
            let rec = match (info >> 24) & 0x1f {
                1 | 14 | 17 => 4,
                3 => 12,
                4 | 5 | 15 | 19 => 12 * vlen,
                6 | 13 => 8 * vlen,
                2 | 7 | 8 | 9 | 10 | 11 | 12 | 16 | 18 => 0,
                _ => break,
            };
            self.btf_types.push((types + pos, 12 + rec));
            pos += 12 + rec;
        }
    }
}

/// Values that tend to break parsers, given the field's current value and the file length.
fn interesting(rng: &mut Rng, width: usize, cur: u64, file_len: usize) -> u64 {
    let max = if width == 8 {
        u64::MAX
    } else {
        (1u64 << (8 * width)) - 1
    };
    let v = match rng.below(16) {
        0 => 0,
        1 => 1,
        2 => max,
        3 => max >> 1,
        4 => (max >> 1) + 1,
        5 => cur.wrapping_add(1),
        6 => cur.wrapping_sub(1),
        7 => cur.wrapping_mul(2),
        8 => cur.wrapping_add(8),
        9 => file_len as u64,
        10 => file_len as u64 + 1,
        11 => 0x7fff_ffff,
        12 => 0xffff_fff0,
        13 => cur ^ (1 << rng.below(8 * width as u64)),
        14 => rng.below(64),
        _ => rng.next_u64(),
    };
    v & max
}

/// What one mutation did, for the failure message.
pub type Desc = String;

/// One mutation of `data` (an intact object with anatomy `a`), chosen by `rng`.
pub fn mutate(rng: &mut Rng, data: &[u8], a: &Anatomy) -> (Vec<u8>, Desc) {
    let mut out = data.to_vec();
    let len = data.len();
    let little = a.little;
    // Damage one field with an interesting value.
    let field = |out: &mut Vec<u8>, rng: &mut Rng, what: &str, f: Field| -> Desc {
        let cur = rd(out, f.at, f.width, little);
        let v = interesting(rng, f.width, cur, len);
        wr(out, f.at, f.width, little, v);
        format!(
            "{what} at byte {} ({} bytes): {cur:#x} -> {v:#x}",
            f.at, f.width
        )
    };
    let pick = |rng: &mut Rng, v: &[usize]| v.get(rng.index(v.len())).copied();
    let desc = match rng.below(14) {
        0 => {
            // Truncation: anywhere, or just around a section boundary.
            let cut = if rng.chance(2) || a.sections.is_empty() {
                rng.index(len)
            } else {
                let (_, off, size, _) = &a.sections[rng.index(a.sections.len())];
                (off + if rng.chance(2) { 0 } else { *size })
                    .saturating_sub(rng.index(9))
                    .min(len.saturating_sub(1))
            };
            out.truncate(cut);
            format!("truncated to {cut} of {len} bytes")
        }
        1 => {
            const FIELDS: &[(&str, usize, usize)] = &[
                ("e_ident[EI_CLASS]", 4, 1),
                ("e_ident[EI_DATA]", 5, 1),
                ("e_ident[EI_VERSION]", 6, 1),
                ("e_type", 16, 2),
                ("e_machine", 18, 2),
                ("e_version", 20, 4),
                ("e_shoff", 40, 8),
                ("e_flags", 48, 4),
                ("e_ehsize", 52, 2),
                ("e_shentsize", 58, 2),
                ("e_shnum", 60, 2),
                ("e_shstrndx", 62, 2),
            ];
            let (name, at, width) = FIELDS[rng.index(FIELDS.len())];
            field(&mut out, rng, name, Field { at, width })
        }
        2 | 3 => {
            const FIELDS: &[(&str, usize, usize)] = &[
                ("sh_name", 0, 4),
                ("sh_type", 4, 4),
                ("sh_flags", 8, 8),
                ("sh_offset", 24, 8),
                ("sh_size", 32, 8),
                ("sh_link", 40, 4),
                ("sh_info", 44, 4),
                ("sh_addralign", 48, 8),
                ("sh_entsize", 56, 8),
            ];
            let Some(h) = pick(rng, &a.shdrs) else {
                return (out, "no section headers".into());
            };
            let (name, at, width) = FIELDS[rng.index(FIELDS.len())];
            let k = a.shdrs.iter().position(|&x| x == h).unwrap_or(0);
            field(
                &mut out,
                rng,
                &format!("section header {k} {name}"),
                Field { at: h + at, width },
            )
        }
        4 | 5 => {
            const FIELDS: &[(&str, usize, usize)] = &[
                ("st_name", 0, 4),
                ("st_info", 4, 1),
                ("st_other", 5, 1),
                ("st_shndx", 6, 2),
                ("st_value", 8, 8),
                ("st_size", 16, 8),
            ];
            let Some(s) = pick(rng, &a.syms) else {
                return (out, "no symbols".into());
            };
            let (name, at, width) = FIELDS[rng.index(FIELDS.len())];
            let k = a.syms.iter().position(|&x| x == s).unwrap_or(0);
            field(
                &mut out,
                rng,
                &format!("symbol {k} {name}"),
                Field { at: s + at, width },
            )
        }
        6 | 7 => {
            let Some(r) = pick(rng, &a.rels) else {
                return (out, "no relocations".into());
            };
            // r_info is sym << 32 | type: damage either half or the offset.
            let (name, at, width) = match (rng.below(3), little) {
                (0, _) => ("r_offset", 0, 8),
                (1, true) => ("r_type", 8, 4),
                (1, false) => ("r_type", 12, 4),
                (_, true) => ("r_sym", 12, 4),
                (_, false) => ("r_sym", 8, 4),
            };
            field(
                &mut out,
                rng,
                &format!("relocation {name}"),
                Field { at: r + at, width },
            )
        }
        8 => {
            let Some((off, _)) = a.btf else {
                return (out, "no .BTF".into());
            };
            const FIELDS: &[(&str, usize, usize)] = &[
                ("BTF magic", 0, 2),
                ("BTF version", 2, 1),
                ("BTF flags", 3, 1),
                ("BTF hdr_len", 4, 4),
                ("BTF type_off", 8, 4),
                ("BTF type_len", 12, 4),
                ("BTF str_off", 16, 4),
                ("BTF str_len", 20, 4),
            ];
            let (name, at, width) = FIELDS[rng.index(FIELDS.len())];
            field(
                &mut out,
                rng,
                name,
                Field {
                    at: off + at,
                    width,
                },
            )
        }
        9 | 10 => {
            if a.btf_types.is_empty() {
                return (out, "no BTF types".into());
            }
            let k = rng.index(a.btf_types.len());
            let (at, rec) = a.btf_types[k];
            // name_off, info, size/type, or one word of the body (member/param/var type
            // ids and offsets, array element counts, enum values).
            let word = rng.index(rec / 4);
            let what = match word {
                0 => "name_off",
                1 => "info",
                2 => "size/type",
                _ => "body word",
            };
            field(
                &mut out,
                rng,
                &format!("BTF type [{}] {what} (word {word})", k + 1),
                Field {
                    at: at + 4 * word,
                    width: 4,
                },
            )
        }
        11 => {
            let Some((off, size)) = a.btf_strs.filter(|s| s.1 > 0) else {
                return (out, "no BTF strings".into());
            };
            let at = off + rng.index(size);
            let v = if rng.chance(2) {
                0
            } else {
                rng.below(256) as u8
            };
            let old = out.get(at).copied().unwrap_or(0);
            if let Some(b) = out.get_mut(at) {
                *b = v;
            }
            format!("BTF string byte at {at}: {old:#x} -> {v:#x}")
        }
        12 => {
            let Some((off, size)) = a.btf_ext.filter(|e| e.1 >= 32) else {
                return (out, "no .BTF.ext".into());
            };
            // Header words, or any word of the records.
            let word = if rng.chance(2) {
                1 + rng.index(7)
            } else {
                rng.index(size / 4)
            };
            field(
                &mut out,
                rng,
                &format!("BTF.ext word {word}"),
                Field {
                    at: off + 4 * word,
                    width: 4,
                },
            )
        }
        _ => {
            // A few flipped bits anywhere in one section's data (code, .maps, anything).
            let (name, off, size, _) = if rng.chance(3) && !a.code.is_empty() {
                let (o, s) = a.code[rng.index(a.code.len())];
                ("code".to_string(), o, s, 0)
            } else if a.sections.is_empty() {
                ("file".to_string(), 0, len, 0)
            } else {
                a.sections[rng.index(a.sections.len())].clone()
            };
            let mut what = format!("bits flipped in {name}:");
            for _ in 0..1 + rng.index(4) {
                if size == 0 {
                    break;
                }
                let at = off + rng.index(size);
                let bit = rng.below(8);
                if let Some(b) = out.get_mut(at) {
                    *b ^= 1 << bit;
                }
                what.push_str(&format!(" byte {at} bit {bit};"));
            }
            what
        }
    };
    (out, desc)
}

/// Run `f` on another thread; `Err` with the panic message if it panicked, or with "hang" if
/// it did not finish within `limit` (the thread is then abandoned).
pub fn run_bounded<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<(T, Duration), String> {
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(v)) => Ok((v, start.elapsed())),
        Ok(Err(p)) => Err(format!(
            "panicked: {}",
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(non-string payload)".into())
        )),
        Err(_) => Err(format!("did not finish within {limit:?} (hang)")),
    }
}

/// Every `fixtures/<scenario>/<file>.o` (not the `weak/` variants), sorted.
pub fn fixture_objects() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(&root).expect("fixtures/") {
        let dir = dir.expect("fixtures entry").path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).expect("scenario dir") {
            let f = f.expect("scenario entry").path();
            if f.extension().is_some_and(|e| e == "o") {
                out.push(f);
            }
        }
    }
    out.sort();
    out
}

/// `fixtures/scenario/file.o` -> "scenario/file.o".
pub fn short_name(p: &Path) -> String {
    let file = p.file_name().map(|f| f.to_string_lossy().into_owned());
    let dir = p
        .parent()
        .and_then(|d| d.file_name())
        .map(|f| f.to_string_lossy().into_owned());
    format!("{}/{}", dir.unwrap_or_default(), file.unwrap_or_default())
}

/// The promises about a linked object that the robustness tests check: it parses again (with
/// bpfmerge and goblin), its BTF parses, every DATASEC entry names a VAR and lies inside the
/// section of the DATASEC's name, and `inspect` reads it.
pub fn check_output(out: &[u8]) -> Result<(), String> {
    let input =
        bpfmerge::input::parse("out.o", out).map_err(|e| format!("output does not parse: {e}"))?;
    goblin::elf::Elf::parse(out).map_err(|e| format!("output does not parse with goblin: {e}"))?;
    bpfmerge::inspect_bytes("out.o", out)
        .map_err(|e| format!("output cannot be inspected: {e}"))?;
    let Some(raw) = input.btf else {
        return Ok(());
    };
    let mut btf = bpfmerge::btf::Btf::new();
    btf.append(raw)
        .map_err(|e| format!("output BTF does not parse: {e}"))?;
    for id in 1..btf.len() as u32 {
        let Ok(bpfmerge::btf::BtfType::Datasec { name, vars, .. }) =
            btf.get(bpfmerge::btf::TypeId(id))
        else {
            continue;
        };
        let sec_name = btf.str(*name);
        let size = input
            .sections
            .iter()
            .find(|s| !s.name.is_empty() && s.name == sec_name)
            .map(|s| s.size);
        for v in vars {
            if !matches!(
                btf.get(v.ty),
                Ok(bpfmerge::btf::BtfType::Var { .. } | bpfmerge::btf::BtfType::Func { .. })
            ) {
                return Err(format!(
                    "output DATASEC {sec_name} names type [{}], not a VAR",
                    v.ty.0
                ));
            }
            if let Some(size) = size {
                if u64::from(v.offset) + u64::from(v.size) > size {
                    return Err(format!(
                        "output DATASEC {sec_name} entry at {}+{} lies outside the section ({size} bytes)",
                        v.offset, v.size
                    ));
                }
            }
        }
    }
    Ok(())
}
