//! One type record of a raw `.BTF` section: takes the bytes at a position of the type section,
//! gives the `BtfType` they encode (names interned into the container, references still the
//! section's own ids) and where the next record starts, or an error saying exactly what is
//! malformed. Checks run in a fixed order (header, record size, kind rules, names), so a
//! record with several faults always reports the same one.

use super::kind::*;
use super::raw::{u32_at, RawBtf};
use super::{Btf, BtfType, EnumValue, Member, Param, StrOff, TypeId, VarSecinfo};
use crate::error::{Error, Result};

/// Size of `struct btf_type`.
pub(super) const TYPE_HDR: usize = 12;

/// The header of the record at `pos` (section-local id `id`) and its body.
pub(super) struct Record<'r> {
    raw: &'r RawBtf<'r>,
    big: bool,
    id: usize,
    name_off: u32,
    info: u32,
    size_or_type: u32,
    kind: u32,
    vlen: usize,
    kflag: bool,
    body: &'r [u8],
    /// Where the next record starts.
    pub(super) end: usize,
}

impl<'r> Record<'r> {
    /// Read and check the header at `pos`, and find the body its kind and vlen call for.
    pub(super) fn at(raw: &'r RawBtf<'r>, pos: usize, id: usize) -> Result<Record<'r>> {
        let data = raw.types;
        let word = |off: usize| u32_at(data, off, raw.big);
        let (Some(name_off), Some(info), Some(size_or_type)) =
            (word(pos), word(pos + 4), word(pos + 8))
        else {
            return Err(Error::btf(format!(
                "type [{id}] at byte {pos} of the type section is truncated ({} bytes left, a type header needs 12)",
                data.len() - pos
            )));
        };
        let mut r = Record {
            raw,
            big: raw.big,
            id,
            name_off,
            info,
            size_or_type,
            kind: (info >> 24) & 0x1f,
            vlen: (info & 0xffff) as usize,
            kflag: info >> 31 != 0,
            body: &[],
            end: 0,
        };
        r.check_reserved_bits()?;
        let len = r.body_len()?;
        r.find_body(pos, len)?;
        Ok(r)
    }

    fn kname(&self) -> &'static str {
        kind_name(self.kind)
    }

    fn check_reserved_bits(&self) -> Result<()> {
        if self.info & 0x60ff_0000 != 0 {
            return Err(Error::btf(format!(
                "type [{}] {} has reserved info bits set (info {:#010x})",
                self.id,
                self.kname(),
                self.info
            )));
        }
        Ok(())
    }

    /// Bytes after the header for this kind and vlen.
    fn body_len(&self) -> Result<usize> {
        let vlen = self.vlen;
        Ok(match self.kind {
            KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
            KIND_ARRAY => 12,
            KIND_STRUCT | KIND_UNION | KIND_ENUM64 | KIND_DATASEC => 12 * vlen,
            KIND_ENUM | KIND_FUNC_PROTO => 8 * vlen,
            KIND_PTR | KIND_FWD | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
            | KIND_FUNC | KIND_FLOAT | KIND_TYPE_TAG => 0,
            kind => {
                return Err(Error::btf(format!(
                    "type [{}] has unknown kind {kind} (info {:#010x})",
                    self.id, self.info
                )))
            }
        })
    }

    fn find_body(&mut self, pos: usize, len: usize) -> Result<()> {
        let data = self.raw.types;
        let body_at = pos + TYPE_HDR;
        self.body = body_at
            .checked_add(len)
            .and_then(|end| data.get(body_at..end))
            .ok_or_else(|| {
                Error::btf(format!(
                    "type [{}] {} with vlen {} needs {len} bytes after its header at byte {pos}, only {} left",
                    self.id,
                    self.kname(),
                    self.vlen,
                    data.len().saturating_sub(body_at)
                ))
            })?;
        self.end = body_at + len;
        Ok(())
    }

    /// The `i`th word of the body.
    fn w(&self, i: usize) -> u32 {
        u32_at(self.body, 4 * i, self.big).unwrap_or(0)
    }

    fn ty(&self) -> TypeId {
        TypeId(self.size_or_type)
    }

    fn no_vlen(&self) -> Result<()> {
        if self.vlen != 0 {
            return Err(Error::btf(format!(
                "type [{}] {} has vlen {}, must be 0",
                self.id,
                self.kname(),
                self.vlen
            )));
        }
        Ok(())
    }

    fn no_kflag(&self) -> Result<()> {
        if self.kflag {
            return Err(Error::btf(format!(
                "type [{}] {} has kind_flag set, which is not supported for this kind",
                self.id,
                self.kname()
            )));
        }
        Ok(())
    }

    /// Neither a vlen nor the kind flag (most kinds).
    fn plain(&self) -> Result<()> {
        self.no_vlen()?;
        self.no_kflag()
    }

    /// The name at input string offset `off`, interned (see `StringTable::hinted`).
    fn name_at(&self, btf: &mut Btf, off: u32) -> Result<StrOff> {
        match btf.strings.hinted(self.raw.strs, off) {
            Some(s) => Ok(s),
            None => self.intern_name(btf, off),
        }
    }

    /// A name the hints do not know: read (and checked) and interned.
    #[cold]
    fn intern_name(&self, btf: &mut Btf, off: u32) -> Result<StrOff> {
        let s = self.raw.str_at(off).map_err(|e| {
            Error::btf(format!(
                "type [{}] {}: {}",
                self.id,
                self.kname(),
                e.btf_reason()
            ))
        })?;
        btf.strings.intern_hinting(s, off)
    }

    fn name(&self, btf: &mut Btf) -> Result<StrOff> {
        self.name_at(btf, self.name_off)
    }

    /// The type the record encodes.
    pub(super) fn read(&self, btf: &mut Btf) -> Result<BtfType> {
        match self.kind {
            KIND_INT => self.int(btf),
            KIND_PTR | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT => self.modifier(),
            KIND_TYPEDEF | KIND_TYPE_TAG => self.named_ref(btf),
            KIND_ARRAY => self.array(),
            KIND_STRUCT | KIND_UNION => self.aggregate(btf),
            KIND_ENUM => self.enum32(btf),
            KIND_ENUM64 => self.enum64(btf),
            KIND_FWD => self.fwd(btf),
            KIND_FUNC => self.func(btf),
            KIND_FUNC_PROTO => self.proto(btf),
            KIND_VAR => self.var(btf),
            KIND_DATASEC => self.datasec(btf),
            KIND_FLOAT => self.float(btf),
            KIND_DECL_TAG => self.decl_tag(btf),
            kind => Err(Error::btf(format!(
                "type [{}] has unknown kind {kind}",
                self.id
            ))),
        }
    }

    fn int(&self, btf: &mut Btf) -> Result<BtfType> {
        self.plain()?;
        let size = self.size_or_type;
        if !matches!(size, 1 | 2 | 4 | 8 | 16) {
            return Err(Error::btf(format!(
                "type [{}] INT has size {size}, not 1, 2, 4, 8 or 16",
                self.id
            )));
        }
        Ok(BtfType::Int {
            name: self.name(btf)?,
            size,
            data: self.w(0),
        })
    }

    fn modifier(&self) -> Result<BtfType> {
        self.plain()?;
        let ty = self.ty();
        Ok(match self.kind {
            KIND_PTR => BtfType::Ptr { ty },
            KIND_VOLATILE => BtfType::Volatile { ty },
            KIND_CONST => BtfType::Const { ty },
            _ => BtfType::Restrict { ty },
        })
    }

    /// TYPEDEF and TYPE_TAG: a name and a type.
    fn named_ref(&self, btf: &mut Btf) -> Result<BtfType> {
        self.plain()?;
        let (name, ty) = (self.name(btf)?, self.ty());
        Ok(match self.kind {
            KIND_TYPEDEF => BtfType::Typedef { name, ty },
            _ => BtfType::TypeTag { name, ty },
        })
    }

    fn array(&self) -> Result<BtfType> {
        self.plain()?;
        Ok(BtfType::Array {
            elem: TypeId(self.w(0)),
            index: TypeId(self.w(1)),
            nelems: self.w(2),
        })
    }

    /// STRUCT and UNION: the members' names are read before the type's own.
    fn aggregate(&self, btf: &mut Btf) -> Result<BtfType> {
        let mut members = btf.pool.members(self.vlen);
        for i in 0..self.vlen {
            members.push(Member {
                name: self.name_at(btf, self.w(3 * i))?,
                ty: TypeId(self.w(3 * i + 1)),
                offset: self.w(3 * i + 2),
            });
        }
        let (name, size, kind_flag) = (self.name(btf)?, self.size_or_type, self.kflag);
        Ok(match self.kind {
            KIND_STRUCT => BtfType::Struct {
                name,
                size,
                kind_flag,
                members,
            },
            _ => BtfType::Union {
                name,
                size,
                kind_flag,
                members,
            },
        })
    }

    fn enum32(&self, btf: &mut Btf) -> Result<BtfType> {
        let mut values = btf.pool.values(self.vlen);
        for i in 0..self.vlen {
            let v = self.w(2 * i + 1);
            let value = if self.kflag {
                v as i32 as i64 as u64
            } else {
                u64::from(v)
            };
            values.push(EnumValue {
                name: self.name_at(btf, self.w(2 * i))?,
                value,
            });
        }
        Ok(BtfType::Enum {
            name: self.name(btf)?,
            size: self.size_or_type,
            signed: self.kflag,
            values,
        })
    }

    fn enum64(&self, btf: &mut Btf) -> Result<BtfType> {
        let mut values = btf.pool.values(self.vlen);
        for i in 0..self.vlen {
            let value = u64::from(self.w(3 * i + 1)) | (u64::from(self.w(3 * i + 2)) << 32);
            values.push(EnumValue {
                name: self.name_at(btf, self.w(3 * i))?,
                value,
            });
        }
        Ok(BtfType::Enum64 {
            name: self.name(btf)?,
            size: self.size_or_type,
            signed: self.kflag,
            values,
        })
    }

    fn fwd(&self, btf: &mut Btf) -> Result<BtfType> {
        self.no_vlen()?;
        Ok(BtfType::Fwd {
            name: self.name(btf)?,
            is_union: self.kflag,
        })
    }

    fn func(&self, btf: &mut Btf) -> Result<BtfType> {
        self.no_kflag()?;
        Ok(BtfType::Func {
            name: self.name(btf)?,
            proto: self.ty(),
            linkage: self.vlen as u16,
        })
    }

    fn proto(&self, btf: &mut Btf) -> Result<BtfType> {
        self.no_kflag()?;
        let mut params = btf.pool.params(self.vlen);
        for i in 0..self.vlen {
            params.push(Param {
                name: self.name_at(btf, self.w(2 * i))?,
                ty: TypeId(self.w(2 * i + 1)),
            });
        }
        Ok(BtfType::FuncProto {
            ret: self.ty(),
            params,
        })
    }

    fn var(&self, btf: &mut Btf) -> Result<BtfType> {
        self.plain()?;
        Ok(BtfType::Var {
            name: self.name(btf)?,
            ty: self.ty(),
            linkage: self.w(0),
        })
    }

    fn datasec(&self, btf: &mut Btf) -> Result<BtfType> {
        self.no_kflag()?;
        let vars = (0..self.vlen)
            .map(|i| VarSecinfo {
                ty: TypeId(self.w(3 * i)),
                offset: self.w(3 * i + 1),
                size: self.w(3 * i + 2),
            })
            .collect();
        Ok(BtfType::Datasec {
            name: self.name(btf)?,
            size: self.size_or_type,
            vars,
        })
    }

    fn float(&self, btf: &mut Btf) -> Result<BtfType> {
        self.plain()?;
        Ok(BtfType::Float {
            name: self.name(btf)?,
            size: self.size_or_type,
        })
    }

    fn decl_tag(&self, btf: &mut Btf) -> Result<BtfType> {
        self.plain()?;
        Ok(BtfType::DeclTag {
            name: self.name(btf)?,
            ty: self.ty(),
            component_idx: self.w(0) as i32,
        })
    }
}
