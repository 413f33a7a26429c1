//! The loader's only `unsafe` code: takes libbpf maps or paths, gives the few facts and actions
//! libbpf-rs 0.27 does not wrap (internal-map test, map_extra, clearing libbpf's own pin path,
//! statfs, mounting bpffs, flock, page size). No input bytes are read here.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use libbpf_rs::{AsRawLibbpf, OpenMap, OpenMapMut};

/// `BPF_FS_MAGIC` from `linux/magic.h`.
const BPF_FS_MAGIC: u32 = 0xcafe_4a11;

/// True for libbpf's internal maps (`.data`, `.bss`, `.rodata*`, `.kconfig`, ...).
pub fn is_internal(map: &OpenMap<'_>) -> bool {
    // SAFETY: the pointer comes from a live `OpenMap` borrowed for this call; the function only
    // reads a field of the map.
    unsafe { libbpf_rs::libbpf_sys::bpf_map__is_internal(map.as_libbpf_object().as_ptr()) }
}

/// The map's `map_extra` as the object defines it.
pub fn map_extra(map: &OpenMap<'_>) -> u64 {
    // SAFETY: as in `is_internal`.
    unsafe { libbpf_rs::libbpf_sys::bpf_map__map_extra(map.as_libbpf_object().as_ptr()) }
}

/// Forget the pin path libbpf set for `pinning = LIBBPF_PIN_BY_NAME`, so that libbpf neither
/// reuses nor pins the map on its own during `bpf_object__load` (bpfmerge does both, later).
pub fn clear_pin_path(map: &mut OpenMapMut<'_>) -> io::Result<()> {
    // SAFETY: the pointer comes from a live, mutably borrowed `OpenMapMut`; a NULL path is the
    // documented way to clear it (libbpf frees the old string).
    let ret = unsafe {
        libbpf_rs::libbpf_sys::bpf_map__set_pin_path(
            map.as_libbpf_object().as_ptr(),
            std::ptr::null(),
        )
    };
    if ret < 0 {
        return Err(io::Error::from_raw_os_error(-ret));
    }
    Ok(())
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

/// True when `path` (which must exist) is on a bpf filesystem.
pub fn is_bpffs(path: &Path) -> io::Result<bool> {
    let c = c_path(path)?;
    let mut st = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: `c` is NUL-terminated and `st` is a writable buffer of the right type.
    let ret = unsafe { libc::statfs(c.as_ptr(), st.as_mut_ptr()) };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: statfs succeeded, so it filled `st` (it was zeroed before anyway).
    let st = unsafe { st.assume_init() };
    #[allow(clippy::unnecessary_cast)] // f_type's type differs between architectures
    Ok(st.f_type as u32 == BPF_FS_MAGIC)
}

/// `mount -t bpf bpf <target>`.
pub fn mount_bpffs(target: &Path) -> io::Result<()> {
    let t = c_path(target)?;
    let src = c"bpf";
    // SAFETY: all strings are NUL-terminated and outlive the call; no data argument.
    let ret = unsafe { libc::mount(src.as_ptr(), t.as_ptr(), src.as_ptr(), 0, std::ptr::null()) };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Exclusive `flock` on `fd`, waiting for it. (std's `File::lock` needs Rust 1.89, above the
/// crate's rust-version.) Released when the fd is closed.
pub fn flock_exclusive(fd: BorrowedFd<'_>) -> io::Result<()> {
    loop {
        // SAFETY: `fd` is a valid open descriptor for the duration of the call.
        let ret = unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX) };
        if ret == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// The kernel's page size.
pub fn page_size() -> u32 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let ps = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u32::try_from(ps).unwrap_or(4096)
}
