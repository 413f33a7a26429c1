//! The migration's only `unsafe` code: takes map file descriptors and byte buffers, gives the
//! kernel calls libbpf-rs 0.27 does not wrap for per-CPU maps or raw BTF (batch lookup and
//! update of any map type, next-key iteration, element lookup/update, a kernel BTF object's
//! raw bytes). Buffer sizes are checked here against the sizes the caller passes.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::raw::c_void;

use libbpf_rs::libbpf_sys;

fn check(ret: i32) -> io::Result<()> {
    if ret < 0 {
        // libbpf returns -errno (and sets errno).
        Err(io::Error::from_raw_os_error(-ret))
    } else {
        Ok(())
    }
}

/// Sizes of one element as the kernel moves it: key bytes and value bytes (all CPUs' values
/// for a per-CPU map).
#[derive(Clone, Copy, Debug)]
pub struct ElemSize {
    pub key: usize,
    pub value: usize,
}

/// Outcome of one batch lookup.
pub struct Batch {
    pub count: usize,
    /// No elements follow.
    pub done: bool,
}

/// `BPF_MAP_LOOKUP_BATCH`: up to `keys.len() / size.key` elements after the position in
/// `token` (`first` for the start). `token` must be at least 8 bytes and at least a key long.
pub fn lookup_batch(
    fd: BorrowedFd<'_>,
    first: bool,
    token: &mut [u8],
    keys: &mut [u8],
    values: &mut [u8],
    size: ElemSize,
) -> io::Result<Batch> {
    let max = (keys.len() / size.key.max(1)).min(values.len() / size.value.max(1));
    let mut count = u32::try_from(max).unwrap_or(u32::MAX);
    let opts = libbpf_sys::bpf_map_batch_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_map_batch_opts>() as _,
        ..Default::default()
    };
    let mut out = token.to_vec();
    let in_batch = if first {
        std::ptr::null_mut()
    } else {
        token.as_mut_ptr().cast::<c_void>()
    };
    // SAFETY: `keys` and `values` hold `count` elements of the given sizes (count is bounded by
    // both lengths above); the batch tokens are buffers of at least a key and 8 bytes, which is
    // what the kernel writes for hash and array maps.
    let ret = unsafe {
        libbpf_sys::bpf_map_lookup_batch(
            fd.as_raw_fd(),
            in_batch,
            out.as_mut_ptr().cast::<c_void>(),
            keys.as_mut_ptr().cast::<c_void>(),
            values.as_mut_ptr().cast::<c_void>(),
            &mut count,
            &opts,
        )
    };
    token.copy_from_slice(&out);
    let count = usize::try_from(count).unwrap_or(0).min(max);
    match check(ret) {
        Ok(()) => Ok(Batch { count, done: false }),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(Batch { count, done: true }),
        Err(e) => Err(e),
    }
}

/// `BPF_MAP_UPDATE_BATCH` of `count` elements.
pub fn update_batch(
    fd: BorrowedFd<'_>,
    keys: &[u8],
    values: &[u8],
    count: usize,
    size: ElemSize,
) -> io::Result<()> {
    if keys.len() < count * size.key || values.len() < count * size.value {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "batch buffers too short",
        ));
    }
    let mut n = u32::try_from(count).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let opts = libbpf_sys::bpf_map_batch_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_map_batch_opts>() as _,
        ..Default::default()
    };
    // SAFETY: both buffers hold `count` elements of the map's sizes (checked above).
    check(unsafe {
        libbpf_sys::bpf_map_update_batch(
            fd.as_raw_fd(),
            keys.as_ptr().cast::<c_void>(),
            values.as_ptr().cast::<c_void>(),
            &mut n,
            &opts,
        )
    })
}

/// The key after `key` (the first key for `None`); `Ok(false)` at the end.
pub fn next_key(fd: BorrowedFd<'_>, key: Option<&[u8]>, next: &mut [u8]) -> io::Result<bool> {
    let kp = key.map_or(std::ptr::null(), |k| k.as_ptr().cast::<c_void>());
    // SAFETY: `key` (when given) and `next` are key-sized buffers of this map (the caller's
    // sizes come from the map's info).
    let ret = unsafe {
        libbpf_sys::bpf_map_get_next_key(fd.as_raw_fd(), kp, next.as_mut_ptr().cast::<c_void>())
    };
    match check(ret) {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Look one element up into `value` (all CPUs' values for a per-CPU map); `Ok(false)` when
/// the key is absent.
pub fn lookup(fd: BorrowedFd<'_>, key: &[u8], value: &mut [u8]) -> io::Result<bool> {
    // SAFETY: `key` is key-sized and `value` value-sized (times the CPU stride for per-CPU maps),
    // as the caller derives them from the map's info.
    let ret = unsafe {
        libbpf_sys::bpf_map_lookup_elem(
            fd.as_raw_fd(),
            key.as_ptr().cast::<c_void>(),
            value.as_mut_ptr().cast::<c_void>(),
        )
    };
    match check(ret) {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Store one element (`BPF_ANY`).
pub fn update(fd: BorrowedFd<'_>, key: &[u8], value: &[u8]) -> io::Result<()> {
    // SAFETY: as in `lookup`.
    check(unsafe {
        libbpf_sys::bpf_map_update_elem(
            fd.as_raw_fd(),
            key.as_ptr().cast::<c_void>(),
            value.as_ptr().cast::<c_void>(),
            0,
        )
    })
}

/// The raw `.BTF` bytes of the kernel BTF object `id` (a map's `btf_id`).
pub fn kernel_btf(id: u32) -> io::Result<Vec<u8>> {
    // SAFETY: libbpf returns a new btf object or NULL (errno set); it is freed below after its
    // raw data was copied out.
    let btf = unsafe { libbpf_sys::btf__load_from_kernel_by_id(id) };
    if btf.is_null() {
        return Err(io::Error::last_os_error());
    }
    let mut size = 0u32;
    // SAFETY: `btf` is live; libbpf returns a pointer to `size` bytes owned by `btf`.
    let data = unsafe { libbpf_sys::btf__raw_data(btf, &mut size) };
    let bytes = if data.is_null() {
        Err(io::Error::other("kernel BTF object has no raw data"))
    } else {
        // SAFETY: `data` points to `size` readable bytes that live as long as `btf`.
        Ok(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), size as usize) }.to_vec())
    };
    // SAFETY: `btf` came from `btf__load_from_kernel_by_id` and is not used after this.
    unsafe { libbpf_sys::btf__free(btf) };
    bytes
}

/// Number of possible CPUs (the per-CPU value count).
pub fn possible_cpus() -> io::Result<usize> {
    // SAFETY: no arguments; libbpf reads /sys/devices/system/cpu/possible.
    let n = unsafe { libbpf_sys::libbpf_num_possible_cpus() };
    check(n)?;
    Ok(usize::try_from(n).unwrap_or(1))
}

/// The ids of the maps a loaded program uses (program info `map_ids`).
pub fn prog_map_ids(fd: BorrowedFd<'_>) -> io::Result<Vec<u32>> {
    let mut ids: Vec<u32> = Vec::new();
    // Twice: the first call says how many there are, the second fills them (a count that grew
    // in between cannot happen: a loaded program's maps are fixed).
    for _ in 0..2 {
        let mut info = libbpf_sys::bpf_prog_info {
            nr_map_ids: u32::try_from(ids.len()).unwrap_or(0),
            map_ids: ids.as_mut_ptr() as u64,
            ..Default::default()
        };
        let mut len = std::mem::size_of::<libbpf_sys::bpf_prog_info>() as u32;
        // SAFETY: `info` is a writable bpf_prog_info of `len` bytes; its map_ids pointer has
        // room for nr_map_ids ids (0 on the first call, where the kernel writes none).
        check(unsafe {
            libbpf_sys::bpf_prog_get_info_by_fd(
                fd.as_raw_fd(),
                (&mut info as *mut libbpf_sys::bpf_prog_info).cast(),
                &mut len,
            )
        })?;
        let n = info.nr_map_ids as usize;
        if n <= ids.len() {
            ids.truncate(n);
            return Ok(ids);
        }
        ids = vec![0; n];
    }
    Ok(ids)
}
