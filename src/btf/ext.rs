//! `.BTF.ext`: parse func_info / line_info / CO-RE relocation records per section, shift and remap
//! them, encode the merged section. API CONTRACT (stub).

use super::{Btf, StrOff, TypeId, TypeRemap};
use crate::error::Result;
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

impl BtfExt {
    /// Parse a raw `.BTF.ext` of the object whose raw `.BTF` is `btf_data`, appended to `btf` with
    /// base `type_base`: type ids shifted, strings interned into `btf`. Returns per-section records.
    pub fn parse(
        _data: &[u8],
        _btf_data: &[u8],
        _type_base: u32,
        _btf: &mut Btf,
    ) -> Result<BtfExt> {
        todo!()
    }
    pub fn remap_types(&mut self, _remap: &TypeRemap) {
        todo!()
    }
    /// Encode (record sizes 8/16/16, header of 32 bytes; core part omitted when empty).
    pub fn encode(&self, _endian: Endianness) -> Vec<u8> {
        todo!()
    }
}
