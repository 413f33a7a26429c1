//! Parsing a raw `.BTF` section: takes bytes of either byte order, gives its types appended to a
//! `Btf` (ids shifted, strings re-interned), or an error saying exactly what is malformed.

use super::kind::*;
use super::raw::{u32_at, RawBtf};
use super::{Appended, Btf, BtfType, EnumValue, Member, Param, StrOff, TypeId, VarSecinfo};
use crate::error::{Error, Result};

/// Size of `struct btf_type`.
const TYPE_HDR: usize = 12;

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
    let big = raw.big;
    let data = raw.types;
    // A type takes at least 12 bytes: this bounds the allocation.
    let mut out = Vec::with_capacity(data.len() / TYPE_HDR);
    let mut pos = 0usize;
    while pos < data.len() {
        let id = out.len() + 1;
        let word = |off: usize| u32_at(data, off, big);
        let (Some(name_off), Some(info), Some(size_or_type)) =
            (word(pos), word(pos + 4), word(pos + 8))
        else {
            return Err(Error::btf(format!(
                "type [{id}] at byte {pos} of the type section is truncated ({} bytes left, a type header needs 12)",
                data.len() - pos
            )));
        };
        let vlen = (info & 0xffff) as usize;
        let kind = (info >> 24) & 0x1f;
        let kflag = info >> 31 != 0;
        let kname = kind_name(kind);
        if info & 0x60ff_0000 != 0 {
            return Err(Error::btf(format!(
                "type [{id}] {kname} has reserved info bits set (info {info:#010x})"
            )));
        }
        let rec = match kind {
            KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
            KIND_ARRAY => 12,
            KIND_STRUCT | KIND_UNION | KIND_ENUM64 | KIND_DATASEC => 12 * vlen,
            KIND_ENUM | KIND_FUNC_PROTO => 8 * vlen,
            KIND_PTR | KIND_FWD | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
            | KIND_FUNC | KIND_FLOAT | KIND_TYPE_TAG => 0,
            _ => {
                return Err(Error::btf(format!(
                    "type [{id}] has unknown kind {kind} (info {info:#010x})"
                )))
            }
        };
        let body_at = pos + TYPE_HDR;
        let body = body_at
            .checked_add(rec)
            .and_then(|end| data.get(body_at..end))
            .ok_or_else(|| {
                Error::btf(format!(
                    "type [{id}] {kname} with vlen {vlen} needs {rec} bytes after its header at byte {pos}, only {} left",
                    data.len().saturating_sub(body_at)
                ))
            })?;
        let w = |i: usize| u32_at(body, 4 * i, big).unwrap_or(0);
        let no_vlen = || -> Result<()> {
            if vlen != 0 {
                return Err(Error::btf(format!(
                    "type [{id}] {kname} has vlen {vlen}, must be 0"
                )));
            }
            Ok(())
        };
        let no_kflag = || -> Result<()> {
            if kflag {
                return Err(Error::btf(format!(
                    "type [{id}] {kname} has kind_flag set, which is not supported for this kind"
                )));
            }
            Ok(())
        };
        let name = |btf: &mut Btf, off: u32| -> Result<StrOff> {
            if let Some(s) = btf.strings.hinted(raw.strs, off) {
                return Ok(s);
            }
            let s = raw
                .str_at(off)
                .map_err(|e| Error::btf(format!("type [{id}] {kname}: {}", strip(&e))))?;
            btf.strings.intern_hinting(s, off)
        };
        let ty = TypeId(size_or_type);
        let t = match kind {
            KIND_INT => {
                no_vlen()?;
                no_kflag()?;
                if !matches!(size_or_type, 1 | 2 | 4 | 8 | 16) {
                    return Err(Error::btf(format!(
                        "type [{id}] INT has size {size_or_type}, not 1, 2, 4, 8 or 16"
                    )));
                }
                BtfType::Int {
                    name: name(btf, name_off)?,
                    size: size_or_type,
                    data: w(0),
                }
            }
            KIND_PTR | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT => {
                no_vlen()?;
                no_kflag()?;
                match kind {
                    KIND_PTR => BtfType::Ptr { ty },
                    KIND_VOLATILE => BtfType::Volatile { ty },
                    KIND_CONST => BtfType::Const { ty },
                    _ => BtfType::Restrict { ty },
                }
            }
            KIND_TYPEDEF => {
                no_vlen()?;
                no_kflag()?;
                BtfType::Typedef {
                    name: name(btf, name_off)?,
                    ty,
                }
            }
            KIND_TYPE_TAG => {
                no_vlen()?;
                no_kflag()?;
                BtfType::TypeTag {
                    name: name(btf, name_off)?,
                    ty,
                }
            }
            KIND_ARRAY => {
                no_vlen()?;
                no_kflag()?;
                BtfType::Array {
                    elem: TypeId(w(0)),
                    index: TypeId(w(1)),
                    nelems: w(2),
                }
            }
            KIND_STRUCT | KIND_UNION => {
                let mut members = btf.pool.members(vlen);
                for i in 0..vlen {
                    members.push(Member {
                        name: name(btf, w(3 * i))?,
                        ty: TypeId(w(3 * i + 1)),
                        offset: w(3 * i + 2),
                    });
                }
                let name = name(btf, name_off)?;
                if kind == KIND_STRUCT {
                    BtfType::Struct {
                        name,
                        size: size_or_type,
                        kind_flag: kflag,
                        members,
                    }
                } else {
                    BtfType::Union {
                        name,
                        size: size_or_type,
                        kind_flag: kflag,
                        members,
                    }
                }
            }
            KIND_ENUM => {
                let mut values = btf.pool.values(vlen);
                for i in 0..vlen {
                    let v = w(2 * i + 1);
                    let value = if kflag {
                        v as i32 as i64 as u64
                    } else {
                        u64::from(v)
                    };
                    values.push(EnumValue {
                        name: name(btf, w(2 * i))?,
                        value,
                    });
                }
                BtfType::Enum {
                    name: name(btf, name_off)?,
                    size: size_or_type,
                    signed: kflag,
                    values,
                }
            }
            KIND_ENUM64 => {
                let mut values = btf.pool.values(vlen);
                for i in 0..vlen {
                    let value = u64::from(w(3 * i + 1)) | (u64::from(w(3 * i + 2)) << 32);
                    values.push(EnumValue {
                        name: name(btf, w(3 * i))?,
                        value,
                    });
                }
                BtfType::Enum64 {
                    name: name(btf, name_off)?,
                    size: size_or_type,
                    signed: kflag,
                    values,
                }
            }
            KIND_FWD => {
                no_vlen()?;
                BtfType::Fwd {
                    name: name(btf, name_off)?,
                    is_union: kflag,
                }
            }
            KIND_FUNC => {
                no_kflag()?;
                BtfType::Func {
                    name: name(btf, name_off)?,
                    proto: ty,
                    linkage: vlen as u16,
                }
            }
            KIND_FUNC_PROTO => {
                no_kflag()?;
                let mut params = btf.pool.params(vlen);
                for i in 0..vlen {
                    params.push(Param {
                        name: name(btf, w(2 * i))?,
                        ty: TypeId(w(2 * i + 1)),
                    });
                }
                BtfType::FuncProto { ret: ty, params }
            }
            KIND_VAR => {
                no_vlen()?;
                no_kflag()?;
                BtfType::Var {
                    name: name(btf, name_off)?,
                    ty,
                    linkage: w(0),
                }
            }
            KIND_DATASEC => {
                no_kflag()?;
                let mut vars = Vec::with_capacity(vlen);
                for i in 0..vlen {
                    vars.push(VarSecinfo {
                        ty: TypeId(w(3 * i)),
                        offset: w(3 * i + 1),
                        size: w(3 * i + 2),
                    });
                }
                BtfType::Datasec {
                    name: name(btf, name_off)?,
                    size: size_or_type,
                    vars,
                }
            }
            KIND_FLOAT => {
                no_vlen()?;
                no_kflag()?;
                BtfType::Float {
                    name: name(btf, name_off)?,
                    size: size_or_type,
                }
            }
            KIND_DECL_TAG => {
                no_vlen()?;
                no_kflag()?;
                BtfType::DeclTag {
                    name: name(btf, name_off)?,
                    ty,
                    component_idx: w(0) as i32,
                }
            }
            _ => return Err(Error::btf(format!("type [{id}] has unknown kind {kind}"))),
        };
        out.push(t);
        pos = body_at + rec;
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

/// The reason of a `BadBtf` error, without the section prefix (to re-wrap it with context).
fn strip(e: &Error) -> String {
    match e {
        Error::BadBtf { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}
