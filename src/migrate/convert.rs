//! Conversion of stored bytes: takes a [`Conversion`] and one old key or value (or a per-CPU
//! value: one element per CPU), gives the new bytes, or [`Lost`] naming the member whose value
//! would not survive (a narrowed integer that does not fit, a negative value made unsigned).

use super::plan::Conversion;

/// One step of a conversion, on byte (or bit) offsets into the old and the new buffer.
#[derive(Debug)]
pub(super) enum Op {
    Copy {
        from: u64,
        to: u64,
        len: u64,
    },
    Bits {
        from_bit: u64,
        to_bit: u64,
        width: u32,
    },
    Int {
        from: u64,
        from_size: u32,
        from_signed: bool,
        to: u64,
        to_size: u32,
        to_signed: bool,
        path: String,
    },
}

/// A stored value that the new type cannot hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost {
    /// The member (`stats.bytes`).
    pub member: String,
    /// The value stored.
    pub value: i128,
    /// What it would have become (`unsigned char`-like, by size and signedness).
    pub target: String,
}

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "member `{}` holds {}, which does not fit in {}",
            self.member, self.value, self.target
        )
    }
}

impl Conversion {
    /// Convert one old element (`old.len() >= old_size`) into `new` (`new.len() >= new_size`),
    /// which is zeroed first: members the old type lacks stay zero.
    pub fn convert(&self, old: &[u8], new: &mut [u8]) -> Result<(), Lost> {
        let new_len = usize::try_from(self.new_size)
            .unwrap_or(usize::MAX)
            .min(new.len());
        new[..new_len].fill(0);
        for op in &self.ops {
            apply(op, old, new)?;
        }
        Ok(())
    }

    /// Convert a per-CPU value: `ncpus` elements, each at a stride of its size rounded up to
    /// 8 bytes (as the kernel lays them out for lookups and updates).
    pub fn convert_percpu(&self, old: &[u8], new: &mut [u8], ncpus: usize) -> Result<(), Lost> {
        let old_stride = round8(self.old_size);
        let new_stride = round8(self.new_size);
        for cpu in 0..ncpus {
            let o = slice_from(old, cpu * old_stride);
            let n = new.get_mut(cpu * new_stride..).unwrap_or_default();
            self.convert(o, n)?;
        }
        Ok(())
    }
}

/// Per-element stride of a per-CPU map's value of `size` bytes.
pub fn round8(size: u64) -> usize {
    usize::try_from(size.div_ceil(8) * 8).unwrap_or(usize::MAX)
}

fn slice_from(b: &[u8], at: usize) -> &[u8] {
    b.get(at..).unwrap_or_default()
}

fn range(at: u64, len: u64) -> std::ops::Range<usize> {
    let at = usize::try_from(at).unwrap_or(usize::MAX);
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    at..at.saturating_add(len)
}

/// Apply one step. Offsets come from the plan of the types the buffers were sized by; a short
/// buffer (never in practice) leaves the step's bytes zero rather than panicking.
fn apply(op: &Op, old: &[u8], new: &mut [u8]) -> Result<(), Lost> {
    match op {
        Op::Copy { from, to, len } => {
            if let (Some(src), Some(dst)) =
                (old.get(range(*from, *len)), new.get_mut(range(*to, *len)))
            {
                dst.copy_from_slice(src);
            }
        }
        Op::Bits {
            from_bit,
            to_bit,
            width,
        } => {
            for i in 0..u64::from(*width) {
                set_bit(new, to_bit + i, get_bit(old, from_bit + i));
            }
        }
        Op::Int {
            from,
            from_size,
            from_signed,
            to,
            to_size,
            to_signed,
            path,
        } => {
            let value = read_int(old, *from, *from_size, *from_signed);
            if !fits(value, *to_size, *to_signed) {
                return Err(Lost {
                    member: path.clone(),
                    value,
                    target: format!(
                        "{} {}-byte integer",
                        if *to_signed {
                            "a signed"
                        } else {
                            "an unsigned"
                        },
                        to_size
                    ),
                });
            }
            write_int(new, *to, *to_size, value);
        }
    }
    Ok(())
}

fn get_bit(b: &[u8], bit: u64) -> bool {
    let byte = usize::try_from(bit / 8).unwrap_or(usize::MAX);
    b.get(byte).is_some_and(|v| (v >> (bit % 8)) & 1 == 1)
}

fn set_bit(b: &mut [u8], bit: u64, on: bool) {
    let byte = usize::try_from(bit / 8).unwrap_or(usize::MAX);
    if let Some(v) = b.get_mut(byte) {
        let mask = 1u8 << (bit % 8);
        if on {
            *v |= mask;
        } else {
            *v &= !mask;
        }
    }
}

/// Read a host-order integer of 1, 2, 4 or 8 bytes.
fn read_int(b: &[u8], at: u64, size: u32, signed: bool) -> i128 {
    let mut raw = [0u8; 8];
    let n = size as usize;
    if let Some(src) = b.get(range(at, u64::from(size))) {
        if cfg!(target_endian = "little") {
            raw[..n].copy_from_slice(src);
        } else {
            raw[8 - n..].copy_from_slice(src);
        }
    }
    let unsigned = u64::from_ne_bytes(raw);
    let bits = size * 8;
    if signed && bits < 64 && (unsigned >> (bits - 1)) & 1 == 1 {
        i128::from(unsigned) - (1i128 << bits)
    } else if signed && bits == 64 {
        i128::from(unsigned as i64)
    } else {
        i128::from(unsigned)
    }
}

fn write_int(b: &mut [u8], at: u64, size: u32, value: i128) {
    let bytes = (value as u64).to_ne_bytes();
    let n = size as usize;
    if let Some(dst) = b.get_mut(range(at, u64::from(size))) {
        if cfg!(target_endian = "little") {
            dst.copy_from_slice(&bytes[..n]);
        } else {
            dst.copy_from_slice(&bytes[8 - n..]);
        }
    }
}

fn fits(value: i128, size: u32, signed: bool) -> bool {
    let bits = size * 8;
    if signed {
        let half = 1i128 << (bits - 1);
        (-half..half).contains(&value)
    } else {
        (0..(1i128 << bits)).contains(&value)
    }
}
