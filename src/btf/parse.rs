//! Parsing a raw `.BTF` section: takes bytes of either byte order, gives its types appended to a
//! `Btf` (ids shifted, strings re-interned), or an error saying exactly what is malformed.

use super::raw::RawBtf;
use super::record::{Record, TYPE_HDR};
use super::{Appended, Btf, BtfType, StrOff, TypeId};
use crate::error::{Error, Result};

impl Btf {
    /// Parse one raw `.BTF` section (either byte order, told by the magic) and append its types.
    ///
    /// On error the container's types are unchanged (its string table may have grown, harmlessly).
    pub fn append(&mut self, data: &[u8]) -> Result<Appended> {
        let raw = RawBtf::new(data)?;
        let parsed = parse_types(&raw, self)?;
        let count = u32::try_from(parsed.len()).map_err(|_| Error::btf("too many types"))?;
        let base = self.next_base(count)?;
        check_refs(&parsed, count)?;
        if self.store.is_empty() {
            self.store.push(BtfType::Void);
        }
        let copies = self.match_copies(&parsed, base);
        self.note_decls(&parsed, base, count);
        self.store_appended(parsed, &copies, base);
        let app = Appended { base, count };
        self.appended.push(app);
        Ok(app)
    }

    /// The id after which `count` more types go (ids stay below 2^32).
    fn next_base(&self, count: u32) -> Result<u32> {
        u32::try_from(self.len().saturating_sub(1))
            .ok()
            .filter(|b| b.checked_add(count).is_some())
            .ok_or_else(|| Error::btf("merged BTF exceeds 2^32 types"))
    }

    /// Remember where the VARs, FUNCs and DATASECs of the input appended after `base` are.
    fn note_decls(&mut self, parsed: &[BtfType], base: u32, count: u32) {
        self.decl_start
            .push((base, count, self.decl_ids.len() as u32));
        for (i, t) in parsed.iter().enumerate() {
            if matches!(
                t,
                BtfType::Var { .. } | BtfType::Func { .. } | BtfType::Datasec { .. }
            ) {
                self.decl_ids.push(base + 1 + i as u32);
            }
        }
    }

    /// Store the types of one input (local references) at the ids after `base`, references
    /// shifted; those with a kept copy in `copies` become alias slots.
    fn store_appended(&mut self, mut parsed: Vec<BtfType>, copies: &[Option<TypeId>], base: u32) {
        let shift = |t: &mut BtfType| {
            t.for_each_ref_mut(|r| {
                if r.0 != 0 {
                    r.0 += base;
                }
            })
        };
        if copies.iter().all(Option::is_none) && self.pos.is_empty() {
            parsed.iter_mut().for_each(shift);
            self.store.append(&mut parsed);
            return;
        }
        for (i, mut t) in parsed.into_iter().enumerate() {
            match copies.get(i).copied().flatten() {
                Some(target) => {
                    self.alias_next(target);
                    self.pool.recycle(t);
                }
                None => {
                    shift(&mut t);
                    self.store_next(t);
                }
            }
        }
    }

    /// Intern a string of a raw `.BTF` section `data` (as given to `append`) at offset `off`.
    pub fn intern_from(&mut self, data: &[u8], off: u32) -> Result<StrOff> {
        let raw = RawBtf::new(data)?;
        let s = raw.str_at(off)?;
        self.strings.intern_bytes(s)
    }
}

/// Parse every type of `raw` with section-local ids (index 0 of the result is id 1).
fn parse_types(raw: &RawBtf<'_>, btf: &mut Btf) -> Result<Vec<BtfType>> {
    // A type takes at least 12 bytes: this bounds the allocation.
    let mut out = Vec::with_capacity(raw.types.len() / TYPE_HDR);
    let mut pos = 0usize;
    while pos < raw.types.len() {
        let record = Record::at(raw, pos, out.len() + 1)?;
        out.push(record.read(btf)?);
        pos = record.end;
    }
    Ok(out)
}

/// Every reference must name a type of the same section (0 = void ..= count).
fn check_refs(parsed: &[BtfType], count: u32) -> Result<()> {
    for (i, t) in parsed.iter().enumerate() {
        let mut bad = None;
        t.for_each_ref_slot(|slot, r| {
            if r.0 > count && bad.is_none() {
                bad = Some((slot, r));
            }
        });
        if let Some((slot, r)) = bad {
            return Err(Error::btf(format!(
                "type [{}] {} {slot} references type {} beyond the {count} types",
                i + 1,
                t.kind_name(),
                r.0
            )));
        }
    }
    Ok(())
}
