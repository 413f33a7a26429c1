//! Bounds-checked reading of raw `.BTF` / `.BTF.ext` bytes: takes a byte slice and a byte order,
//! gives words (or `None` past the end); and the split of a raw `.BTF` into its two sections.

use crate::error::{Error, Result};

pub(crate) const BTF_MAGIC: u16 = 0xeb9f;
pub(crate) const BTF_HDR_LEN: usize = 24;

/// Byte order told by the 0xeB9F magic at the start of `data`.
pub(crate) fn byte_order(data: &[u8]) -> Option<bool> {
    match data.get(..2) {
        Some([0x9f, 0xeb]) => Some(false),
        Some([0xeb, 0x9f]) => Some(true),
        _ => None,
    }
}

/// u32 at `off` (big-endian when `big`), `None` when out of range.
#[inline]
pub(crate) fn u32_at(data: &[u8], off: usize, big: bool) -> Option<u32> {
    let b = data.get(off..off.checked_add(4)?)?;
    let a: [u8; 4] = b.try_into().ok()?;
    Some(if big {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    })
}

/// A validated raw `.BTF`: its byte order, type section and string section.
pub(crate) struct RawBtf<'a> {
    pub big: bool,
    pub types: &'a [u8],
    pub strs: &'a [u8],
}

impl<'a> RawBtf<'a> {
    /// Check the header and split the sections.
    pub(crate) fn new(data: &'a [u8]) -> Result<RawBtf<'a>> {
        if data.len() < BTF_HDR_LEN {
            return Err(Error::btf(format!(
                "header truncated: {} bytes, a BTF header needs {BTF_HDR_LEN}",
                data.len()
            )));
        }
        let big = byte_order(data).ok_or_else(|| {
            Error::btf(format!(
                "bad magic {:02x} {:02x} (expected 0xeB9F in either byte order)",
                data.first().copied().unwrap_or(0),
                data.get(1).copied().unwrap_or(0)
            ))
        })?;
        let version = data.get(2).copied().unwrap_or(0);
        let flags = data.get(3).copied().unwrap_or(0);
        if version != 1 {
            return Err(Error::btf(format!(
                "unsupported BTF version {version} (expected 1)"
            )));
        }
        if flags != 0 {
            return Err(Error::btf(format!("unsupported header flags {flags:#x}")));
        }
        let w = |i: usize| u32_at(data, 4 + 4 * i, big).unwrap_or(0) as usize;
        let (hdr_len, type_off, type_len, str_off, str_len) = (w(0), w(1), w(2), w(3), w(4));
        if hdr_len < BTF_HDR_LEN || hdr_len > data.len() {
            return Err(Error::btf(format!(
                "header length {hdr_len} outside {BTF_HDR_LEN}..={} (section size)",
                data.len()
            )));
        }
        if data
            .get(BTF_HDR_LEN..hdr_len)
            .is_some_and(|x| x.iter().any(|&b| b != 0))
        {
            return Err(Error::btf(format!(
                "header of {hdr_len} bytes has non-zero bytes beyond the known {BTF_HDR_LEN}"
            )));
        }
        let body = data.get(hdr_len..).unwrap_or(&[]);
        if type_off % 4 != 0 {
            return Err(Error::btf(format!(
                "type section offset {type_off} is not 4-byte aligned"
            )));
        }
        let section = |off: usize, len: usize, what: &str| {
            off.checked_add(len)
                .and_then(|end| body.get(off..end))
                .ok_or_else(|| {
                    Error::btf(format!(
                        "{what} section at {off}+{len} runs past the end of the data ({} bytes after the header)",
                        body.len()
                    ))
                })
        };
        let types = section(type_off, type_len, "type")?;
        let strs = section(str_off, str_len, "string")?;
        if type_off as u64 + type_len as u64 > str_off as u64 {
            return Err(Error::btf(format!(
                "type section {type_off}+{type_len} overlaps or follows the string section at {str_off}"
            )));
        }
        if strs.first() != Some(&0) {
            return Err(Error::btf(
                "string section is empty or does not start with NUL",
            ));
        }
        if strs.last() != Some(&0) {
            return Err(Error::btf("string section does not end with NUL"));
        }
        Ok(RawBtf { big, types, strs })
    }

    /// The string at `off` (without its NUL), checked to be in range and NUL-terminated.
    pub(crate) fn str_at(&self, off: u32) -> Result<&'a [u8]> {
        let rest = self
            .strs
            .get(off as usize..)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                Error::btf(format!(
                    "string offset {off} beyond the {}-byte string section",
                    self.strs.len()
                ))
            })?;
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| Error::btf(format!("string at offset {off} is not NUL-terminated")))?;
        Ok(rest.get(..end).unwrap_or(&[]))
    }
}
