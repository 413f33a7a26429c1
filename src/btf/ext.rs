//! `.BTF.ext`: takes a raw section (and its object's raw `.BTF`), gives func_info / line_info /
//! CO-RE relocation records per ELF section with type ids shifted and strings interned into the
//! merged `Btf`; merges, remaps and encodes them.

use super::encode::Writer;
use super::hash::FastMap;
use super::raw::{byte_order, u32_at, RawBtf, BTF_MAGIC};
use super::{Btf, BtfType, StrOff, TypeId, TypeRemap};
use crate::error::{Error, Result};
use object::Endianness;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    pub insn_off: u32,
    pub ty: TypeId,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineInfo {
    pub insn_off: u32,
    pub file_name: StrOff,
    pub line: StrOff,
    pub line_col: u32,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoreRelo {
    pub insn_off: u32,
    pub ty: TypeId,
    pub access: StrOff,
    pub kind: u32,
}

/// Records of one ELF section (`insn_off` in bytes from the section start).
#[derive(Clone, Debug, Default)]
pub struct ExtSection {
    pub name: StrOff,
    pub func_info: Vec<FuncInfo>,
    pub line_info: Vec<LineInfo>,
    pub core_relos: Vec<CoreRelo>,
}

#[derive(Clone, Debug, Default)]
pub struct BtfExt {
    /// One entry per section name, in first-seen order.
    pub sections: Vec<ExtSection>,
}

/// Entries of `Ctx::recent` (a power of two).
const RECENT: usize = 256;

/// Known record sizes.
const FUNC_REC: u32 = 8;
const LINE_REC: u32 = 16;
const CORE_REC: u32 = 16;
/// Header length with the CO-RE part.
const EXT_HDR_LEN: u32 = 32;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Func,
    Line,
    Core,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Func => "func_info",
            Part::Line => "line_info",
            Part::Core => "core_relo",
        }
    }
    fn min_rec(self) -> u32 {
        match self {
            Part::Func => FUNC_REC,
            Part::Line => LINE_REC,
            Part::Core => CORE_REC,
        }
    }
}

/// State while parsing one `.BTF.ext`.
struct Ctx<'a, 'b> {
    raw: RawBtf<'a>,
    btf: &'b mut Btf,
    type_base: u32,
    /// Highest valid input type id.
    max_type: u32,
    /// Recently met input string offsets and their interned offsets, by the offset's low bits
    /// (line_info names the same few file names and source lines over and over; a hit costs no
    /// byte comparison). Only for this input: offsets are the input's own.
    recent: Box<[(u32, StrOff); RECENT]>,
    /// Section name -> index in `out.sections`.
    by_name: FastMap<StrOff, usize>,
    out: BtfExt,
}

impl Ctx<'_, '_> {
    fn string(&mut self, off: u32, what: &dyn Fn() -> String) -> Result<StrOff> {
        let slot = off as usize % RECENT;
        if self.recent[slot].0 == off {
            return Ok(self.recent[slot].1);
        }
        let s = match self.btf.strings.hinted(self.raw.strs, off) {
            Some(s) => s,
            None => {
                let bytes = self
                    .raw
                    .str_at(off)
                    .map_err(|e| Error::btf_ext(format!("{}: {}", what(), e.btf_reason())))?;
                self.btf.strings.intern_hinting(bytes, off)?
            }
        };
        self.recent[slot] = (off, s);
        Ok(s)
    }

    fn type_id(&self, id: u32, what: &dyn Fn() -> String) -> Result<TypeId> {
        if id == 0 {
            return Ok(TypeId(0));
        }
        if id > self.max_type {
            return Err(Error::btf_ext(format!(
                "{} references type {id} beyond the {} types of .BTF",
                what(),
                self.max_type
            )));
        }
        Ok(TypeId(self.type_base + id))
    }

    fn section(&mut self, name: StrOff) -> &mut ExtSection {
        let idx = *self.by_name.entry(name).or_insert_with(|| {
            self.out.sections.push(ExtSection {
                name,
                ..ExtSection::default()
            });
            self.out.sections.len() - 1
        });
        &mut self.out.sections[idx]
    }
}

impl BtfExt {
    /// Parse a raw `.BTF.ext` of the object whose raw `.BTF` is `btf_data`, appended to `btf` with
    /// base `type_base`: type ids shifted, strings interned into `btf`. Returns per-section records.
    ///
    /// Type ids are checked against the number of types that `append` returned for `type_base`
    /// (or, if `type_base` is not one `append` returned, against the container's types), and
    /// func_info must name FUNC types.
    pub fn parse(data: &[u8], btf_data: &[u8], type_base: u32, btf: &mut Btf) -> Result<BtfExt> {
        let raw = RawBtf::new(btf_data)?;
        let max_type = match btf.appended.iter().rev().find(|a| a.base == type_base) {
            Some(a) => a.count,
            None => (btf.len().saturating_sub(1) as u32).saturating_sub(type_base),
        };
        if data.len() < 8 {
            return Err(Error::btf_ext(format!(
                "header truncated: {} bytes",
                data.len()
            )));
        }
        let big = byte_order(data).ok_or_else(|| Error::btf_ext("bad magic (expected 0xeB9F)"))?;
        let (version, flags) = (data.get(2).copied(), data.get(3).copied());
        if version != Some(1) {
            return Err(Error::btf_ext(format!(
                "unsupported version {}",
                version.unwrap_or(0)
            )));
        }
        if flags != Some(0) {
            return Err(Error::btf_ext(format!(
                "unsupported flags {:#x}",
                flags.unwrap_or(0)
            )));
        }
        let w = |off: usize| u32_at(data, off, big);
        let hdr_len = w(4).unwrap_or(0) as usize;
        if hdr_len < 24 || hdr_len > data.len() {
            return Err(Error::btf_ext(format!(
                "header length {hdr_len} outside 24..={} (section size)",
                data.len()
            )));
        }
        let mut parts = vec![
            (Part::Func, w(8).unwrap_or(0), w(12).unwrap_or(0)),
            (Part::Line, w(16).unwrap_or(0), w(20).unwrap_or(0)),
        ];
        if hdr_len >= EXT_HDR_LEN as usize {
            parts.push((Part::Core, w(24).unwrap_or(0), w(28).unwrap_or(0)));
        }
        let body = data.get(hdr_len..).unwrap_or(&[]);
        let mut cx = Ctx {
            raw,
            btf,
            type_base,
            max_type,
            recent: Box::new([(u32::MAX, StrOff(0)); RECENT]),
            by_name: FastMap::default(),
            out: BtfExt::default(),
        };
        for (part, off, len) in parts {
            if len == 0 {
                continue;
            }
            let bytes = (off as usize)
                .checked_add(len as usize)
                .and_then(|end| body.get(off as usize..end))
                .ok_or_else(|| {
                    Error::btf_ext(format!(
                        "{} part at {off}+{len} runs past the end of the data ({} bytes after the header)",
                        part.name(),
                        body.len()
                    ))
                })?;
            parse_part(&mut cx, part, bytes, big)?;
        }
        Ok(cx.out)
    }

    /// Rewrite type ids through `remap` (after `Btf::compact`).
    pub fn remap_types(&mut self, remap: &TypeRemap) {
        for s in &mut self.sections {
            for f in &mut s.func_info {
                f.ty = remap.get(f.ty);
            }
            for c in &mut s.core_relos {
                c.ty = remap.get(c.ty);
            }
        }
    }

    /// Add `other`'s records to this one's, section by section (sections matched by name, new
    /// ones appended in order), each record's `insn_off` increased by `insn_shift(section name)`.
    pub fn merge(&mut self, other: &BtfExt, mut insn_shift: impl FnMut(StrOff) -> u32) {
        for s in &other.sections {
            let shift = insn_shift(s.name);
            let idx = match self.sections.iter().position(|x| x.name == s.name) {
                Some(i) => i,
                None => {
                    self.sections.push(ExtSection {
                        name: s.name,
                        ..ExtSection::default()
                    });
                    self.sections.len() - 1
                }
            };
            let dst = &mut self.sections[idx];
            dst.func_info.extend(s.func_info.iter().map(|r| FuncInfo {
                insn_off: r.insn_off.wrapping_add(shift),
                ..*r
            }));
            dst.line_info.extend(s.line_info.iter().map(|r| LineInfo {
                insn_off: r.insn_off.wrapping_add(shift),
                ..*r
            }));
            dst.core_relos.extend(s.core_relos.iter().map(|r| CoreRelo {
                insn_off: r.insn_off.wrapping_add(shift),
                ..*r
            }));
        }
    }

    /// True when there is no record at all (then no `.BTF.ext` should be emitted: libbpf
    /// rejects a section holding only a header).
    pub fn is_empty(&self) -> bool {
        self.sections
            .iter()
            .all(|s| s.func_info.is_empty() && s.line_info.is_empty() && s.core_relos.is_empty())
    }

    /// The encoded size in bytes: header, then per part with records its record size and per
    /// section with records of the part a name, a count and the records.
    pub fn encoded_len(&self) -> usize {
        let parts = [Part::Func, Part::Line, Part::Core];
        EXT_HDR_LEN as usize + parts.iter().map(|&p| self.part_len(p)).sum::<usize>()
    }

    fn part_len(&self, part: Part) -> usize {
        let used = self.sections.iter().filter(|s| s.count(part) > 0);
        let blocks: usize = used
            .map(|s| 8 + s.count(part) * part.min_rec() as usize)
            .sum();
        if blocks == 0 {
            0
        } else {
            4 + blocks
        }
    }

    /// Encode (record sizes 8/16/16, header of 32 bytes; an empty part has length 0 and no
    /// bytes, a section without records of a part has no block in that part), handing the
    /// bytes to `sink` in pieces of about 64 KiB: the writer streams them into the output
    /// file, so there the records and their encoding are never both in memory (on a link with
    /// much line info they are the largest thing it holds). Linking into memory holds both.
    pub fn encode_chunks(&self, endian: Endianness, sink: &mut dyn FnMut(&[u8])) {
        const CHUNK: usize = 1 << 16;
        let mut w = Writer::new(endian);
        w.buf.reserve_exact(CHUNK + 64);
        w.u16(BTF_MAGIC);
        w.buf.push(1);
        w.buf.push(0);
        w.u32(EXT_HDR_LEN);
        let parts = [Part::Func, Part::Line, Part::Core].map(|p| (p, self.part_len(p)));
        let mut off = 0;
        for (_, len) in parts {
            w.u32(off as u32);
            w.u32(len as u32);
            off += len;
        }
        for (part, len) in parts {
            if len == 0 {
                continue;
            }
            w.u32(part.min_rec());
            for s in self.sections.iter().filter(|s| s.count(part) > 0) {
                w.u32(s.name.0);
                w.u32(s.count(part) as u32);
                for k in 0..s.count(part) {
                    s.encode_record(&mut w, part, k);
                    if w.buf.len() >= CHUNK {
                        sink(&w.buf);
                        w.buf.clear();
                    }
                }
            }
        }
        sink(&w.buf);
    }

    /// The encoding in one buffer.
    pub fn encode(&self, endian: Endianness) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_chunks(endian, &mut |piece| out.extend_from_slice(piece));
        out
    }
}

impl ExtSection {
    /// How many records of `part` the section has.
    fn count(&self, part: Part) -> usize {
        match part {
            Part::Func => self.func_info.len(),
            Part::Line => self.line_info.len(),
            Part::Core => self.core_relos.len(),
        }
    }

    /// Make room for `n` more records of `part` (takes the part and the count).
    fn reserve(&mut self, part: Part, n: usize) {
        match part {
            Part::Func => self.func_info.reserve(n),
            Part::Line => self.line_info.reserve(n),
            Part::Core => self.core_relos.reserve(n),
        }
    }

    /// Record `k` of `part` (which exists).
    fn encode_record(&self, w: &mut Writer, part: Part, k: usize) {
        let words = match part {
            Part::Func => {
                let r = &self.func_info[k];
                w.u32(r.insn_off);
                w.u32(r.ty.0);
                return;
            }
            Part::Line => {
                let r = &self.line_info[k];
                [r.insn_off, r.file_name.0, r.line.0, r.line_col]
            }
            Part::Core => {
                let r = &self.core_relos[k];
                [r.insn_off, r.ty.0, r.access.0, r.kind]
            }
        };
        words.into_iter().for_each(|v| w.u32(v));
    }
}

/// One block of a part, as `block_at` found it.
#[derive(Clone, Copy)]
struct Block<'d> {
    /// Input string offset of the section name.
    name_off: u32,
    /// Number of records.
    num: u32,
    /// The records' bytes (`num` records of the part's record size).
    recs: &'d [u8],
    /// Byte offset of the block in its part (for messages).
    at: usize,
}

/// Parse one part (takes its bytes; gives its records, appended to `cx.out` per section): the
/// record size, then block after block.
fn parse_part(cx: &mut Ctx<'_, '_>, part: Part, bytes: &[u8], big: bool) -> Result<()> {
    let rec = record_size(part, bytes, big)?;
    let mut pos = 4usize;
    while pos < bytes.len() {
        let block = block_at(part, bytes, pos, rec, big)?;
        pos = pos + 8 + block.recs.len();
        parse_block(cx, part, block, rec, big)?;
    }
    Ok(())
}

/// The record size a part starts with (takes the part's bytes; gives the size, checked against
/// the part's minimum and to be a multiple of 4).
fn record_size(part: Part, bytes: &[u8], big: bool) -> Result<u32> {
    let pname = part.name();
    let rec = u32_at(bytes, 0, big)
        .ok_or_else(|| Error::btf_ext(format!("{pname} part too short for its record size")))?;
    if rec < part.min_rec() || rec % 4 != 0 {
        return Err(Error::btf_ext(format!(
            "{pname} record size {rec} is invalid (need a multiple of 4, at least {})",
            part.min_rec()
        )));
    }
    Ok(rec)
}

/// The block at byte `pos` of a part (takes the part's bytes and record size; gives the block,
/// its header and records checked to be in the data).
fn block_at(part: Part, bytes: &[u8], pos: usize, rec: u32, big: bool) -> Result<Block<'_>> {
    let pname = part.name();
    let (Some(name_off), Some(num)) = (u32_at(bytes, pos, big), u32_at(bytes, pos + 4, big)) else {
        return Err(Error::btf_ext(format!(
            "{pname} block header at byte {pos} is truncated"
        )));
    };
    let total = u64::from(num) * u64::from(rec);
    let recs_at = pos + 8;
    let recs = usize::try_from(total)
        .ok()
        .and_then(|t| recs_at.checked_add(t))
        .and_then(|end| bytes.get(recs_at..end))
        .ok_or_else(|| {
            Error::btf_ext(format!(
                "{pname} block at byte {pos} claims {num} records of {rec} bytes, only {} bytes left",
                bytes.len().saturating_sub(recs_at)
            ))
        })?;
    Ok(Block {
        name_off,
        num,
        recs,
        at: pos,
    })
}

/// Parse one block (takes the block and its part's record size; gives its records, appended to
/// those of its section, for which room is made once).
fn parse_block(
    cx: &mut Ctx<'_, '_>,
    part: Part,
    block: Block<'_>,
    rec: u32,
    big: bool,
) -> Result<()> {
    let Block {
        name_off,
        num,
        recs,
        at: pos,
    } = block;
    let pname = part.name();
    let sec = cx.string(name_off, &|| {
        format!("{pname} block at byte {pos} section name")
    })?;
    // The section name for messages, from the input (its bytes outlive `cx`'s borrows).
    let sec_bytes = cx.raw.str_at(name_off).unwrap_or_default();
    // `num` records are in the data (checked by `block_at`): room for them is made once.
    cx.section(sec).reserve(part, num as usize);
    for i in 0..num as usize {
        let r = |k: usize| u32_at(recs, i * rec as usize + 4 * k, big).unwrap_or(0);
        let what = || {
            let sec_name = String::from_utf8_lossy(sec_bytes);
            format!("{pname} record {i} of section {sec_name}")
        };
        parse_record(cx, part, sec, r, &what)?;
    }
    Ok(())
}

/// Parse one record into section `sec` (takes its words by index through `r`, and what to call
/// it in messages through `what`; gives the record, pushed onto the section's list of `part`).
#[inline]
fn parse_record(
    cx: &mut Ctx<'_, '_>,
    part: Part,
    sec: StrOff,
    r: impl Fn(usize) -> u32,
    what: &impl Fn() -> String,
) -> Result<()> {
    match part {
        Part::Func => {
            let ty = cx.type_id(r(1), what)?;
            if !matches!(cx.btf.get(ty).ok(), Some(BtfType::Func { .. })) {
                return Err(Error::btf_ext(format!(
                    "{} names type {} which is not a FUNC",
                    what(),
                    r(1)
                )));
            }
            let f = FuncInfo { insn_off: r(0), ty };
            cx.section(sec).func_info.push(f);
        }
        Part::Line => {
            let file_name = cx.string(r(1), &|| format!("{} file name", what()))?;
            let line = cx.string(r(2), &|| format!("{} line text", what()))?;
            let l = LineInfo {
                insn_off: r(0),
                file_name,
                line,
                line_col: r(3),
            };
            cx.section(sec).line_info.push(l);
        }
        Part::Core => {
            let ty = cx.type_id(r(1), what)?;
            let access = cx.string(r(2), &|| format!("{} access string", what()))?;
            let c = CoreRelo {
                insn_off: r(0),
                ty,
                access,
                kind: r(3),
            };
            cx.section(sec).core_relos.push(c);
        }
    }
    Ok(())
}
