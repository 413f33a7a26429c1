//! The interned string table of a `Btf`: takes byte strings, gives stable `StrOff` offsets into
//! one NUL-separated table that starts with "" at offset 0 (the `.BTF` string section layout).

use super::hash::hash_bytes;
use super::StrOff;
use crate::error::{Error, Result};

/// Offsets of an input's string section past this are not hinted: the hint table takes 8 bytes
/// per offset up to the largest hinted one (8 MiB at most; objects' string sections are
/// kilobytes to a few hundred).
const MAX_HINTED_OFFSET: usize = 1 << 20;

/// One arena holding every string, and an index from string to offset that stores only
/// offsets: no allocation per string.
#[derive(Clone)]
pub(crate) struct StringTable {
    /// Encoded table: "\0" then each string followed by NUL, in first-interned order.
    data: Vec<u8>,
    /// Open-addressed hash index (linear probing, power-of-two size, at most half full): each
    /// slot is (low 32 bits of the string's hash, offset in `data`), offset 0 = empty slot.
    /// Only used for lookups, never iterated, so its order never reaches the output.
    slots: Vec<(u32, u32)>,
    /// Number of strings in `slots`.
    count: usize,
    /// Input string offset -> (offset interned for the string found there, its length), from
    /// an earlier name at that offset, in this input or an earlier one. Objects built from one
    /// source layout (generated objects, the link benchmark's) put the same names at the same
    /// offsets: comparing the bytes then replaces finding the NUL, hashing and probing the
    /// index. Always checked, so never wrong; a miss costs that one comparison.
    hints: Vec<(u32, u32)>,
}

impl std::fmt::Debug for StringTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "StringTable({} bytes, {} strings)",
            self.data.len(),
            self.count
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
            slots: vec![(0, 0); 64],
            count: 0,
            hints: Vec::new(),
        }
    }

    /// Intern `s` (which must not contain NUL: the caller cut it at the first NUL).
    pub(crate) fn intern_bytes(&mut self, s: &[u8]) -> Result<StrOff> {
        if s.is_empty() {
            return Ok(StrOff(0));
        }
        let hash = hash_bytes(s);
        let slot = match self.find(s, hash) {
            Ok(off) => return Ok(StrOff(off)),
            Err(slot) => slot,
        };
        let off = u32::try_from(self.data.len())
            .ok()
            .filter(|o| o.checked_add(s.len() as u32 + 1).is_some() && s.len() < u32::MAX as usize)
            .ok_or_else(|| Error::btf("merged string table exceeds 4 GiB"))?;
        self.data.extend_from_slice(s);
        self.data.push(0);
        self.slots[slot] = (hash as u32, off);
        self.count += 1;
        if self.count * 2 > self.slots.len() {
            self.grow();
        }
        Ok(StrOff(off))
    }

    /// The interned offset of the string at `off` of an input's string section `strs`, when
    /// the hint for `off` still holds (see `hints`): the same bytes, then a NUL.
    pub(crate) fn hinted(&self, strs: &[u8], off: u32) -> Option<StrOff> {
        let &(h, len) = self.hints.get(off as usize)?;
        let (at, len) = (off as usize, len as usize);
        let input = strs.get(at..at + len + 1)?;
        let ours = self.data.get(h as usize..h as usize + len + 1)?;
        (input == ours).then_some(StrOff(h))
    }

    /// Intern `s` (no NUL), found at offset `off` of an input's string section, and remember
    /// it as the hint for `off`.
    pub(crate) fn intern_hinting(&mut self, s: &[u8], off: u32) -> Result<StrOff> {
        let interned = self.intern_bytes(s)?;
        let at = off as usize;
        if at >= MAX_HINTED_OFFSET {
            return Ok(interned);
        }
        if self.hints.len() <= at {
            self.hints.resize(at + 1, (0, 0));
        }
        self.hints[at] = (interned.0, s.len() as u32);
        Ok(interned)
    }

    /// `Ok(offset)` of `s` if interned, else `Err(free slot)` where it belongs.
    fn find(&self, s: &[u8], hash: u64) -> std::result::Result<u32, usize> {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let (h, off) = self.slots[i];
            if off == 0 {
                return Err(i);
            }
            if h == hash as u32 && self.holds_at(off as usize, s) {
                return Ok(off);
            }
            i = (i + 1) & mask;
        }
    }

    /// Whether the string at `off` is `s` (its bytes, then the NUL).
    fn holds_at(&self, off: usize, s: &[u8]) -> bool {
        let end = off + s.len();
        self.data.get(off..end) == Some(s) && self.data.get(end) == Some(&0)
    }

    /// Double the index (rehashing each string from the arena).
    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![(0, 0); size]);
        let mask = self.slots.len() - 1;
        for (_, off) in old.into_iter().filter(|&(_, off)| off != 0) {
            let hash = hash_bytes(self.get(StrOff(off)));
            let mut i = hash as usize & mask;
            while self.slots[i].1 != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = (hash as u32, off);
        }
    }

    /// The bytes of the string at `off` (without NUL; empty if out of range).
    pub(crate) fn get(&self, off: StrOff) -> &[u8] {
        cut_at_nul(self.data.get(off.0 as usize..).unwrap_or(&[]))
    }

    /// Forget the hints (when no more input will be read).
    pub(crate) fn drop_hints(&mut self) {
        self.hints = Vec::new();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_gives_one_offset_per_string_in_first_seen_order() {
        let mut t = StringTable::new();
        // Offsets follow the encoded layout: "\0" at 0, then each new string and its NUL.
        assert_eq!(t.intern_bytes(b"abc").unwrap(), StrOff(1));
        assert_eq!(t.intern_bytes(b"ab").unwrap(), StrOff(5));
        assert_eq!(t.intern_bytes(b"abc").unwrap(), StrOff(1));
        assert_eq!(t.intern_bytes(b"").unwrap(), StrOff(0));
        // A prefix of an interned string is a string of its own.
        assert_eq!(t.intern_bytes(b"a").unwrap(), StrOff(8));
        assert_eq!(t.bytes(), b"\0abc\0ab\0a\0");
        assert_eq!(t.get(StrOff(5)), b"ab");
        assert_eq!(t.get(StrOff(99)), b"");
    }

    #[test]
    fn the_index_grows_and_still_finds_every_string() {
        let mut t = StringTable::new();
        let offs: Vec<StrOff> = (0..5000)
            .map(|i| t.intern_bytes(format!("s{i}").as_bytes()).unwrap())
            .collect();
        for (i, off) in offs.iter().enumerate() {
            let s = format!("s{i}");
            assert_eq!(t.get(*off), s.as_bytes());
            assert_eq!(t.intern_bytes(s.as_bytes()).unwrap(), *off);
        }
        assert_eq!(t.count, 5000);
        assert!(t.slots.len() >= 2 * t.count);
    }

    #[test]
    fn a_hint_holds_only_for_the_same_bytes_at_the_same_offset() {
        let mut t = StringTable::new();
        let first = b"\0task_struct\0pid\0";
        assert_eq!(t.hinted(first, 1), None, "no hint yet");
        let task = t.intern_hinting(b"task_struct", 1).unwrap();
        let pid = t.intern_hinting(b"pid", 13).unwrap();
        // Another input with the same layout: both hints hold.
        let same = b"\0task_struct\0pid\0more\0";
        assert_eq!(t.hinted(same, 1), Some(task));
        assert_eq!(t.hinted(same, 13), Some(pid));
        // Other bytes at the offset, a longer string with the same prefix, or a section that
        // ends early: the hint does not hold.
        assert_eq!(t.hinted(b"\0task_strucx\0pid\0", 1), None);
        assert_eq!(t.hinted(b"\0task_structs\0", 1), None);
        assert_eq!(t.hinted(b"\0task_struct", 1), None);
        assert_eq!(t.hinted(b"\0task_struct\0pi", 13), None);
        // Re-hinting an offset with another string replaces the hint.
        let other = t.intern_hinting(b"mm", 1).unwrap();
        assert_eq!(t.hinted(b"\0mm\0", 1), Some(other));
        assert_eq!(t.hinted(same, 1), None);
        assert_eq!(t.bytes(), b"\0task_struct\0pid\0mm\0");
    }
}
