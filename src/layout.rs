//! Takes the inputs and the map plan, gives the output sections: same-named sections
//! concatenated in input order with each piece aligned, `license`/`version` once (checked to
//! agree), `.maps` rebuilt from the surviving definitions; and where each input section landed.

use std::collections::BTreeMap;

use crate::btf::FastMap;

use crate::error::{Error, Result};
use crate::input::{Input, SecIdx, SecKind, Section};
use crate::maps::MapPlan;

/// Index of an output section in `Layout::sections`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutSecId(pub usize);

/// A relocation of the output, against an output symbol index.
#[derive(Clone, Copy, Debug)]
pub struct OutReloc {
    pub offset: u64,
    pub sym: u32,
    pub r_type: u32,
}

/// One output section.
#[derive(Clone, Debug)]
pub struct OutSection {
    pub name: String,
    pub kind: SecKind,
    pub sh_type: u32,
    pub flags: u64,
    pub align: u64,
    /// sh_entsize of the inputs' sections (0 when they disagree; see [`merge_entsize`]).
    pub entsize: u64,
    pub size: u64,
    /// Contents (empty for SHT_NOBITS).
    pub data: Vec<u8>,
    /// Filled by the relocate stage.
    pub relocs: Vec<OutReloc>,
}

/// The output sections and the placement of every input section.
#[derive(Clone, Debug)]
pub struct Layout {
    pub sections: Vec<OutSection>,
    /// Output section and offset of every kept input section.
    place: Placement,
    /// The output `.maps` section.
    pub maps: Option<OutSecId>,
    /// Byte ranges cut out of input sections (folded duplicate definitions), sorted and
    /// disjoint, by (input, section).
    pub cuts: Cuts,
    /// The first input that placed a section in each output section.
    pub first_of: Vec<usize>,
}

/// Ranges `[start, end)` of input sections left out of the output.
pub type Cuts = BTreeMap<(usize, SecIdx), Vec<(u64, u64)>>;

impl Layout {
    /// Output section and offset of the start of an input section (its piece).
    pub fn placed(&self, input: usize, sec: SecIdx) -> Option<(OutSecId, u64)> {
        self.place.get(input, sec)
    }

    /// Whether input section `sec` is a later copy of `license` or `version`: its bytes are
    /// not in the output (the first input's are), so neither are its symbols.
    pub fn is_dropped_copy(&self, inputs: &[Input<'_>], input: usize, sec: SecIdx) -> bool {
        let kind = inputs[input].section(sec).kind;
        matches!(kind, SecKind::License | SecKind::Version)
            && self
                .placed(input, sec)
                .is_some_and(|(out, _)| self.first_of.get(out.0) != Some(&input))
    }

    /// Output section and offset of byte `off` of an input section; None when the section is
    /// not kept or that byte was cut out.
    pub fn map(&self, input: usize, sec: SecIdx, off: u64) -> Option<(OutSecId, u64)> {
        let (out, base) = self.placed(input, sec)?;
        let Some(cuts) = self.cuts.get(&(input, sec)) else {
            return Some((out, base.checked_add(off)?));
        };
        let mut shift = 0;
        for &(a, b) in cuts {
            if off >= b {
                shift += b - a;
            } else if off >= a {
                return None;
            }
        }
        Some((out, base.checked_add(off - shift)?))
    }

    /// Leave the `cuts` ranges out: the output sections holding a cut piece are rebuilt, each
    /// piece again aligned after the one before it.
    pub fn cut(&mut self, inputs: &[Input<'_>], cuts: Cuts) {
        let touched: std::collections::BTreeSet<OutSecId> = cuts
            .keys()
            .filter_map(|&(i, s)| self.placed(i, s).map(|p| p.0))
            .collect();
        self.cuts = cuts;
        for out in touched {
            self.rebuild(inputs, out);
        }
    }

    /// Re-place the pieces of one output section with their cut ranges left out.
    fn rebuild(&mut self, inputs: &[Input<'_>], out: OutSecId) {
        let mut pieces = self.place.pieces_in(out);
        pieces.sort();
        let old = std::mem::take(&mut self.sections[out.0].data);
        let nobits = self.sections[out.0].kind == SecKind::Bss;
        let mut data = Vec::with_capacity(old.len());
        let mut pos = 0u64;
        for (base, i, s) in pieces {
            let sec = inputs[i].section(s);
            let start = pos.next_multiple_of(sec.align);
            let mut from = 0u64;
            let keep = |a: u64, b: u64, data: &mut Vec<u8>| {
                if let Some(bytes) = old.get((base + a) as usize..(base + b) as usize) {
                    data.extend_from_slice(bytes);
                }
                b - a
            };
            if !nobits {
                data.resize(start as usize, 0);
            }
            let mut len = 0u64;
            for &(a, b) in self.cuts.get(&(i, s)).map_or(&[][..], Vec::as_slice) {
                len += keep(from, a, &mut data);
                from = b;
            }
            len += keep(from, sec.size, &mut data);
            self.place.set(i, s, start);
            pos = start + len;
        }
        let sec = &mut self.sections[out.0];
        sec.size = pos;
        sec.data = if nobits { Vec::new() } else { data };
    }
}

/// A mergeable section (`SHF_MERGE`, e.g. clang's `.rodata.str1.1` of string literals) keeps
/// its element size, which the ELF rules require of it. Inputs that disagree (libbpf's linker
/// refuses them) make an ordinary section: entsize 0, without `SHF_MERGE`/`SHF_STRINGS`.
fn merge_entsize(out: &mut OutSection, entsize: u64) {
    if out.entsize != entsize {
        out.entsize = 0;
        out.flags &= !(object::elf::SHF_MERGE.0 | object::elf::SHF_STRINGS.0);
    }
}

fn is_kept(kind: SecKind) -> bool {
    matches!(
        kind,
        SecKind::Code
            | SecKind::Data
            | SecKind::Bss
            | SecKind::Maps
            | SecKind::License
            | SecKind::Version
    )
}

/// Text of a `license` section for messages: the string up to its NUL.
fn license_text(data: &[u8]) -> &[u8] {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    &data[..end]
}

/// Where the kept sections of every input landed: the kept sections (16 bytes each) and, per
/// section of every input, a 4-byte slot naming its piece (a table of (output section, offset)
/// for every section of every input took 24 bytes a section, and most sections, debug info
/// and relocations, are not kept).
#[derive(Clone, Debug)]
struct Placement {
    pieces: Vec<Piece>,
    /// Per section of every input: 1 + its index in `pieces`, or 0 when it is not kept.
    slots: Vec<u32>,
    /// Where each input's slots start, and after the last input where they end.
    from: Vec<usize>,
}

/// One kept input section: its input and index, output section and offset there.
#[derive(Clone, Copy, Debug)]
struct Piece {
    input: u32,
    sec: u32,
    out: u32,
    offset: u64,
}

impl Default for Placement {
    fn default() -> Self {
        Placement {
            pieces: Vec::new(),
            slots: Vec::new(),
            from: vec![0],
        }
    }
}

impl Placement {
    /// Index in `pieces` of `input`'s section `sec`, if kept.
    fn find(&self, input: usize, sec: SecIdx) -> Option<usize> {
        let (from, to) = (*self.from.get(input)?, *self.from.get(input + 1)?);
        let slot = *self.slots.get(from..to)?.get(sec.0)?;
        (slot as usize).checked_sub(1)
    }

    fn get(&self, input: usize, sec: SecIdx) -> Option<(OutSecId, u64)> {
        let p = self.pieces[self.find(input, sec)?];
        Some((OutSecId(p.out as usize), p.offset))
    }

    /// Move a placed piece to `offset`.
    fn set(&mut self, input: usize, sec: SecIdx, offset: u64) {
        if let Some(k) = self.find(input, sec) {
            self.pieces[k].offset = offset;
        }
    }

    /// (offset, input, section) of every piece in output section `out`.
    fn pieces_in(&self, out: OutSecId) -> Vec<(u64, usize, SecIdx)> {
        self.pieces
            .iter()
            .filter(|p| p.out as usize == out.0)
            .map(|p| (p.offset, p.input as usize, SecIdx(p.sec as usize)))
            .collect()
    }

    /// The slots of the next input, which has `sections` sections (none kept yet).
    fn start_input(&mut self, sections: usize) {
        self.slots.resize(self.slots.len() + sections, 0);
        self.from.push(self.slots.len());
    }

    /// Place section `sec` of the last input started.
    fn push(&mut self, input: &Input<'_>, sec: SecIdx, out: OutSecId, offset: u64) -> Result<()> {
        let too_many = || Error::BadObject {
            file: input.name.clone(),
            reason: format!("more than {} sections", u32::MAX),
        };
        let n = |v: usize| u32::try_from(v).map_err(|_| too_many());
        let piece = Piece {
            input: n(self.from.len().saturating_sub(2))?,
            sec: n(sec.0)?,
            out: n(out.0)?,
            offset,
        };
        let slot = self.from[self.from.len().saturating_sub(2)] + sec.0;
        self.pieces.push(piece);
        self.slots[slot] = n(self.pieces.len())?;
        Ok(())
    }

    fn shrink_to_fit(&mut self) {
        self.pieces.shrink_to_fit();
        self.slots.shrink_to_fit();
        self.from.shrink_to_fit();
    }
}

/// Builds the layout one input at a time (inputs are streamed: each one's bytes are copied
/// here, then freed).
#[derive(Default)]
pub struct LayoutBuilder {
    sections: Vec<OutSection>,
    by_name: FastMap<String, OutSecId>,
    /// Input that created each output section (for messages).
    first_of: Vec<usize>,
    place: Placement,
    maps_out: Option<OutSecId>,
    /// Per input: the bytes of its `.maps` section (the kept definitions are copied from it).
    maps_bytes: Vec<Vec<u8>>,
    /// Input names, for messages.
    names: Vec<String>,
    /// For `bpfmerge check`: when set, `license`/`version` disagreements are collected here
    /// (the first input's section is kept) instead of ending the link.
    pub section_conflicts: Option<Vec<Error>>,
}

impl LayoutBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Append the kept sections of the next input.
    pub fn add(&mut self, input: &Input<'_>) -> Result<()> {
        let i = self.names.len();
        // Named first: a message may point at an earlier section of this same input.
        self.names.push(input.name.clone());
        self.place.start_input(input.sections.len());
        let mut maps_bytes = Vec::new();
        for (s, sec) in input.sections.iter().enumerate() {
            if !is_kept(sec.kind) {
                continue;
            }
            let id = self.out_section_for(sec, i);
            let (id, offset) = match sec.kind {
                SecKind::Maps => {
                    // Rebuilt in `finish` from the map plan.
                    maps_bytes = input.data(SecIdx(s)).to_vec();
                    (id, 0)
                }
                SecKind::License | SecKind::Version => {
                    self.add_once(id, i, input, SecIdx(s))?;
                    (id, 0)
                }
                _ => (id, self.append_piece(id, input, SecIdx(s))?),
            };
            self.place.push(input, SecIdx(s), id, offset)?;
        }
        self.maps_bytes.push(maps_bytes);
        Ok(())
    }

    /// The output section of `sec`'s name, created (first seen in input `i`) when new.
    fn out_section_for(&mut self, sec: &Section, i: usize) -> OutSecId {
        if let Some(&id) = self.by_name.get(sec.name.as_ref()) {
            return id;
        }
        let id = OutSecId(self.sections.len());
        self.by_name.insert(sec.name.to_string(), id);
        self.sections.push(OutSection {
            name: sec.name.to_string(),
            kind: sec.kind,
            sh_type: sec.sh_type,
            flags: sec.flags,
            align: sec.align,
            entsize: sec.entsize,
            size: 0,
            data: Vec::new(),
            relocs: Vec::new(),
        });
        self.first_of.push(i);
        if sec.kind == SecKind::Maps {
            self.maps_out = Some(id);
        }
        id
    }

    /// `license` / `version`: kept once; a later input's must agree (licenses compared as
    /// text, so flags or padding may differ). A disagreement is an error, or collected by a
    /// check.
    fn add_once(&mut self, id: OutSecId, i: usize, input: &Input<'_>, idx: SecIdx) -> Result<()> {
        let (sec, data) = (input.section(idx), input.data(idx));
        let first = self.first_of[id.0];
        let out = &mut self.sections[id.0];
        if first == i && out.size == 0 {
            out.data.extend_from_slice(data);
            out.size = sec.size;
            return Ok(());
        }
        let is_license = sec.kind == SecKind::License;
        let (a, b) = if is_license {
            (license_text(&out.data), license_text(data))
        } else {
            (&out.data[..], data)
        };
        if a == b {
            return Ok(());
        }
        let show = |d: &[u8]| {
            if is_license {
                format!("\"{}\"", String::from_utf8_lossy(d))
            } else {
                format!("{d:02x?}")
            }
        };
        let e = Error::SectionConflict {
            section: sec.name.to_string(),
            file_a: self.names[first].clone(),
            value_a: show(a),
            file_b: input.name.clone(),
            value_b: show(b),
        };
        match &mut self.section_conflicts {
            Some(list) => {
                list.push(e);
                Ok(())
            }
            None => Err(e),
        }
    }

    /// Append `sec`'s bytes (or, for `.bss`, its size) to output section `id`, aligned to the
    /// piece's own alignment; gives the piece's offset in the output section.
    fn append_piece(&mut self, id: OutSecId, input: &Input<'_>, idx: SecIdx) -> Result<u64> {
        let sec = input.section(idx);
        let first = self.first_of[id.0];
        let out = &mut self.sections[id.0];
        let bad = |reason: String| Error::BadObject {
            file: input.name.clone(),
            reason,
        };
        if out.kind != sec.kind {
            return Err(bad(format!(
                "section {} is {:?} here but {:?} in {}",
                sec.name, sec.kind, out.kind, self.names[first]
            )));
        }
        let offset = out.size.next_multiple_of(sec.align);
        let end = offset
            .checked_add(sec.size)
            .ok_or_else(|| bad(format!("section {}: size overflows", sec.name)))?;
        if end > u64::from(u32::MAX) {
            return Err(bad(format!(
                "section {}: merged size {end} exceeds 4 GiB",
                sec.name
            )));
        }
        if sec.kind != SecKind::Bss {
            out.data.resize(offset as usize, 0);
            out.data.extend_from_slice(input.data(idx));
        }
        out.size = end;
        out.align = out.align.max(sec.align);
        out.flags |= sec.flags;
        merge_entsize(out, sec.entsize);
        Ok(offset)
    }

    /// After the first input: room in each output section for `more` inputs whose pieces
    /// are as large as the first's, so the data is not grown by doubling and copied while
    /// streaming (a guess: slack is never touched, and `shrink_to_fit` releases it).
    pub fn reserve_like_first(&mut self, more: usize) {
        for s in &mut self.sections {
            s.data.reserve(s.data.len().saturating_mul(more));
        }
    }

    pub fn shrink_to_fit(&mut self) {
        for s in &mut self.sections {
            s.data.shrink_to_fit();
        }
        self.place.shrink_to_fit();
    }

    /// The layout, with `.maps` rebuilt from the map plan.
    pub fn finish(mut self, maps: &MapPlan) -> Layout {
        if let Some(id) = self.maps_out {
            let out = &mut self.sections[id.0];
            out.size = maps.section_size;
            out.data = vec![0; maps.section_size as usize];
            out.align = out.align.max(8);
            for m in maps.maps.iter().filter(|m| !m.is_extern) {
                let def = m.survivor();
                let src = &self.maps_bytes[def.input];
                let len = def.fields.struct_size.min(def.size).min(m.out_size) as usize;
                let from = def.offset as usize;
                let to = m.out_offset as usize;
                if let (Some(bytes), Some(dst)) =
                    (src.get(from..from + len), out.data.get_mut(to..to + len))
                {
                    dst.copy_from_slice(bytes);
                }
            }
        }
        Layout {
            sections: self.sections,
            place: self.place,
            maps: self.maps_out,
            cuts: Cuts::new(),
            first_of: self.first_of,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::elf::{SHF_ALLOC, SHF_MERGE, SHF_STRINGS};

    fn strings_section(entsize: u64) -> OutSection {
        OutSection {
            name: ".rodata.str1.1".into(),
            kind: SecKind::Data,
            sh_type: object::elf::SHT_PROGBITS.0,
            flags: (SHF_ALLOC | SHF_MERGE | SHF_STRINGS).0,
            align: 1,
            entsize,
            size: 0,
            data: Vec::new(),
            relocs: Vec::new(),
        }
    }

    #[test]
    fn mergeable_sections_keep_their_entsize_unless_inputs_disagree() {
        let mut same = strings_section(1);
        merge_entsize(&mut same, 1);
        assert_eq!(same.entsize, 1);
        assert_eq!(same.flags, (SHF_ALLOC | SHF_MERGE | SHF_STRINGS).0);

        let mut differ = strings_section(1);
        merge_entsize(&mut differ, 2);
        assert_eq!(differ.entsize, 0);
        assert_eq!(differ.flags, SHF_ALLOC.0, "no longer mergeable");
    }
}
