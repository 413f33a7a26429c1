//! A small fast non-cryptographic hasher for the BTF module's lookup tables, instead of std's
//! SipHash: hash flooding is no risk here, as the inputs are the user's own build outputs (a
//! crafted input could at worst make its own link slow), and correctness never depends on the
//! hash (every lookup compares the keys).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Multiply-rotate hasher with a final avalanche, in the spirit of FxHash.
#[derive(Default, Clone, Copy)]
pub struct FastHasher {
    h: u64,
}

const K: u64 = 0xf135_7aea_2e62_a9c5;

impl FastHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.h = (self.h.rotate_left(26) ^ w).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            self.add(u64::from_le_bytes(a));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut a = [0u8; 8];
            a[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(a) ^ ((rest.len() as u64) << 59));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        // murmur3 fmix64: spreads the entropy to the high bits the hash table uses.
        let mut x = self.h;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^= x >> 33;
        x
    }
}

pub type FastBuild = BuildHasherDefault<FastHasher>;
pub type FastMap<K, V> = HashMap<K, V, FastBuild>;
pub type FastSet<K> = HashSet<K, FastBuild>;

/// Hash of a slice of words (used for type signatures).
#[inline]
pub(crate) fn hash_words(words: &[u32]) -> u64 {
    let mut h = FastHasher::default();
    h.add(words.len() as u64);
    let mut pairs = words.chunks_exact(2);
    for p in &mut pairs {
        h.add(u64::from(p[0]) | (u64::from(p[1]) << 32));
    }
    if let [last] = pairs.remainder() {
        h.add(u64::from(*last));
    }
    h.finish()
}

/// Hash of a byte string (used by the string table).
#[inline]
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = FastHasher::default();
    h.add(bytes.len() as u64);
    h.write(bytes);
    h.finish()
}
