//! Entry copy between two kernel maps: takes the old map's and the new map's file descriptors,
//! their element sizes and the key/value conversions, gives every entry of the old map stored
//! (converted) in the new one, batched where the kernel supports batch operations and one by
//! one otherwise. The old map is only read.

use std::io;
use std::os::fd::BorrowedFd;

use super::convert::{round8, Lost};
use super::ffi::{self, ElemSize};
use super::plan::Conversion;

/// Elements moved per batch call.
const BATCH: usize = 4096;

/// The layout of one side of a copy.
#[derive(Clone, Copy, Debug)]
pub struct Side {
    pub key_size: u32,
    pub value_size: u32,
}

/// What a copy needs besides the two maps.
pub struct CopySpec<'a> {
    pub old: Side,
    pub new: Side,
    /// Number of CPUs whose values a per-CPU map holds; `None` for other maps.
    pub percpu: Option<usize>,
    /// Key conversion (`None`: the key bytes are kept).
    pub key: Option<&'a Conversion>,
    /// Value conversion (`None`: the value bytes are kept).
    pub value: Option<&'a Conversion>,
    /// Use batch operations when the kernel has them (false: one by one, for comparison).
    pub batched: bool,
}

/// How a copy went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Copied {
    pub entries: u64,
    /// Whether batch operations were used.
    pub batched: bool,
}

/// Why a copy stopped. The new map may hold part of the entries: the caller discards it.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("entry with key {key}: {lost}")]
    Lost { key: String, lost: Lost },
    #[error("{what}: {err}")]
    Kernel { what: &'static str, err: io::Error },
}

fn kernel(what: &'static str) -> impl FnOnce(io::Error) -> CopyError {
    move |err| CopyError::Kernel { what, err }
}

impl CopySpec<'_> {
    fn elem(&self, side: Side) -> ElemSize {
        let value = match self.percpu {
            Some(n) => round8(u64::from(side.value_size)) * n,
            None => side.value_size as usize,
        };
        ElemSize {
            key: side.key_size as usize,
            value,
        }
    }

    /// Convert one element from old to new layout into `key`/`value` buffers.
    fn convert(
        &self,
        okey: &[u8],
        oval: &[u8],
        key: &mut [u8],
        value: &mut [u8],
    ) -> Result<(), CopyError> {
        let lost = |lost| CopyError::Lost {
            key: hex(okey),
            lost,
        };
        match self.key {
            Some(c) => c.convert(okey, key).map_err(lost)?,
            None => copy_prefix(okey, key),
        }
        match (self.value, self.percpu) {
            (Some(c), Some(n)) => c.convert_percpu(oval, value, n).map_err(lost)?,
            (Some(c), None) => c.convert(oval, value).map_err(lost)?,
            (None, Some(n)) => percpu_copy(self, oval, value, n),
            (None, None) => copy_prefix(oval, value),
        }
        Ok(())
    }
}

/// Copy every entry of `old` into `new`.
pub fn copy_entries(
    old: BorrowedFd<'_>,
    new: BorrowedFd<'_>,
    spec: &CopySpec<'_>,
) -> Result<Copied, CopyError> {
    copy_into(old, Some(new), spec)
}

/// Read and convert every entry of `old` as [`copy_entries`] would, writing nothing: the
/// number of entries, or the first one that cannot be converted (`load --dry-run`).
pub fn scan_entries(old: BorrowedFd<'_>, spec: &CopySpec<'_>) -> Result<Copied, CopyError> {
    copy_into(old, None, spec)
}

/// The number of entries of the map at `fd` (keys of `key_size` bytes), one key at a time.
pub fn count_entries(fd: BorrowedFd<'_>, key_size: u32) -> Result<u64, CopyError> {
    let (mut key, mut next) = (vec![0u8; key_size as usize], vec![0u8; key_size as usize]);
    let mut n = 0u64;
    let mut have = false;
    while ffi::next_key(fd, have.then_some(&key[..]), &mut next).map_err(kernel("next key"))? {
        std::mem::swap(&mut key, &mut next);
        have = true;
        n += 1;
    }
    Ok(n)
}

fn copy_into(
    old: BorrowedFd<'_>,
    new: Option<BorrowedFd<'_>>,
    spec: &CopySpec<'_>,
) -> Result<Copied, CopyError> {
    if spec.batched {
        match copy_batched(old, new, spec) {
            Ok(n) => {
                return Ok(Copied {
                    entries: n,
                    batched: true,
                })
            }
            // Kernels or map types without batch operations answer EINVAL/ENOTSUPP on the first
            // call, before anything was written: fall back to one by one.
            Err(CopyError::Kernel { err, .. }) if unsupported(&err) => {}
            Err(e) => return Err(e),
        }
    }
    let n = copy_one_by_one(old, new, spec)?;
    Ok(Copied {
        entries: n,
        batched: false,
    })
}

fn unsupported(err: &io::Error) -> bool {
    // ENOTSUPP (524) is the kernel's internal "not supported" that leaks to user space here.
    matches!(
        err.raw_os_error(),
        Some(libc::EINVAL) | Some(libc::EOPNOTSUPP) | Some(524)
    )
}

fn copy_batched(
    old: BorrowedFd<'_>,
    new: Option<BorrowedFd<'_>>,
    spec: &CopySpec<'_>,
) -> Result<u64, CopyError> {
    let (oe, ne) = (spec.elem(spec.old), spec.elem(spec.new));
    let mut token = vec![0u8; oe.key.max(8)];
    let (mut okeys, mut ovals) = (vec![0u8; oe.key * BATCH], vec![0u8; oe.value * BATCH]);
    let (mut nkeys, mut nvals) = (vec![0u8; ne.key * BATCH], vec![0u8; ne.value * BATCH]);
    let mut total = 0u64;
    let mut first = true;
    loop {
        let batch = ffi::lookup_batch(old, first, &mut token, &mut okeys, &mut ovals, oe)
            .map_err(kernel("batch lookup in the old map"))?;
        first = false;
        for i in 0..batch.count {
            spec.convert(
                &okeys[i * oe.key..(i + 1) * oe.key],
                &ovals[i * oe.value..(i + 1) * oe.value],
                &mut nkeys[i * ne.key..(i + 1) * ne.key],
                &mut nvals[i * ne.value..(i + 1) * ne.value],
            )?;
        }
        if let (Some(new), true) = (new, batch.count > 0) {
            ffi::update_batch(new, &nkeys, &nvals, batch.count, ne)
                .map_err(kernel("batch update of the new map"))?;
        }
        total += batch.count as u64;
        // An empty batch that is not the end would repeat forever: the kernel never gives one.
        if batch.done || batch.count == 0 {
            return Ok(total);
        }
    }
}

fn copy_one_by_one(
    old: BorrowedFd<'_>,
    new: Option<BorrowedFd<'_>>,
    spec: &CopySpec<'_>,
) -> Result<u64, CopyError> {
    let (oe, ne) = (spec.elem(spec.old), spec.elem(spec.new));
    let (mut key, mut next) = (vec![0u8; oe.key], vec![0u8; oe.key]);
    let mut oval = vec![0u8; oe.value];
    let (mut nkey, mut nval) = (vec![0u8; ne.key], vec![0u8; ne.value]);
    let mut total = 0u64;
    let mut have = false;
    while ffi::next_key(old, have.then_some(&key[..]), &mut next)
        .map_err(kernel("next key of the old map"))?
    {
        std::mem::swap(&mut key, &mut next);
        have = true;
        // An entry deleted between the two calls is skipped.
        if !ffi::lookup(old, &key, &mut oval).map_err(kernel("lookup in the old map"))? {
            continue;
        }
        spec.convert(&key, &oval, &mut nkey, &mut nval)?;
        if let Some(new) = new {
            ffi::update(new, &nkey, &nval).map_err(kernel("update of the new map"))?;
        }
        total += 1;
    }
    Ok(total)
}

/// Per-CPU values without a conversion whose per-CPU stride changed (the value size grew
/// within the same layout prefix cannot happen without a conversion; this only re-strides).
fn percpu_copy(spec: &CopySpec<'_>, old: &[u8], new: &mut [u8], n: usize) {
    let os = round8(u64::from(spec.old.value_size));
    let ns = round8(u64::from(spec.new.value_size));
    for cpu in 0..n {
        let src = old.get(cpu * os..(cpu + 1) * os).unwrap_or_default();
        if let Some(dst) = new.get_mut(cpu * ns..(cpu + 1) * ns) {
            copy_prefix(src, dst);
        }
    }
}

/// Copy what fits and zero the rest.
fn copy_prefix(src: &[u8], dst: &mut [u8]) {
    let n = src.len().min(dst.len());
    dst[..n].copy_from_slice(&src[..n]);
    dst[n..].fill(0);
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
