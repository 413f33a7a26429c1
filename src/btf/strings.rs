//! The interned string table of a `Btf`: takes byte strings, gives stable `StrOff` offsets into
//! one NUL-separated table that starts with "" at offset 0 (the `.BTF` string section layout).

use super::hash::FastMap;
use super::StrOff;
use crate::error::{Error, Result};

#[derive(Clone)]
pub(crate) struct StringTable {
    /// Encoded table: "\0" then each string followed by NUL, in first-interned order.
    data: Vec<u8>,
    /// String bytes (without NUL) -> offset. Only used for lookups, never iterated.
    index: FastMap<Box<[u8]>, u32>,
}

impl std::fmt::Debug for StringTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "StringTable({} bytes, {} strings)",
            self.data.len(),
            self.index.len()
        )
    }
}

impl Default for StringTable {
    fn default() -> Self {
        StringTable::new()
    }
}

impl StringTable {
    pub(crate) fn new() -> StringTable {
        StringTable {
            data: vec![0],
            index: FastMap::default(),
        }
    }

    /// Intern `s` (which must not contain NUL: the caller cut it at the first NUL).
    pub(crate) fn intern_bytes(&mut self, s: &[u8]) -> Result<StrOff> {
        if s.is_empty() {
            return Ok(StrOff(0));
        }
        if let Some(&off) = self.index.get(s) {
            return Ok(StrOff(off));
        }
        let off = u32::try_from(self.data.len())
            .ok()
            .filter(|o| o.checked_add(s.len() as u32 + 1).is_some() && s.len() < u32::MAX as usize)
            .ok_or_else(|| Error::btf("merged string table exceeds 4 GiB"))?;
        self.data.extend_from_slice(s);
        self.data.push(0);
        self.index.insert(s.into(), off);
        Ok(StrOff(off))
    }

    /// The bytes of the string at `off` (without NUL; empty if out of range).
    pub(crate) fn get(&self, off: StrOff) -> &[u8] {
        let rest = self.data.get(off.0 as usize..).unwrap_or(&[]);
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        rest.get(..end).unwrap_or(&[])
    }

    /// The encoded table (starts with NUL, every string NUL-terminated).
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.data
    }
}

/// `bytes` up to (not including) the first NUL.
pub(crate) fn cut_at_nul(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    bytes.get(..end).unwrap_or(&[])
}

/// The valid UTF-8 prefix of `bytes` (BTF names are ASCII; anything else is shown truncated).
pub(crate) fn utf8_prefix(bytes: &[u8]) -> &str {
    match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(bytes.get(..e.valid_up_to()).unwrap_or(&[])).unwrap_or(""),
    }
}
