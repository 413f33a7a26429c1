//! The loader's only `unsafe` code: takes libbpf maps or paths, gives the few facts and actions
//! libbpf-rs 0.27 does not wrap (internal-map test, map_extra, clearing libbpf's own pin path,
//! statfs, mounting bpffs and tracefs, flock, page size; for `--attach`: creating XDP, tcx and
//! cgroup links, `BPF_LINK_UPDATE`, pinning and opening pins by fd, interface indexes). No
//! input bytes are read here.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
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

/// A libbpf call's result (a negative errno on failure) as an `io::Result`.
fn errno_ret(ret: std::os::raw::c_int) -> io::Result<std::os::raw::c_int> {
    if ret < 0 {
        Err(io::Error::from_raw_os_error(-ret))
    } else {
        Ok(ret)
    }
}

/// A new fd returned by a libbpf call.
fn owned_fd(ret: std::os::raw::c_int) -> io::Result<OwnedFd> {
    let fd = errno_ret(ret)?;
    // SAFETY: libbpf returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `BPF_LINK_CREATE`: attach `prog` to `target` (an ifindex or a cgroup fd) as `attach_type`,
/// with `flags` (XDP mode flags). Gives the link's fd.
pub fn link_create(
    prog: BorrowedFd<'_>,
    target: i32,
    attach_type: u32,
    flags: u32,
) -> io::Result<OwnedFd> {
    // SAFETY: zeroed is a valid value of this plain-data options struct (all integers, a null
    // pointer and a union of integers); `sz` tells libbpf its size.
    let mut opts: libbpf_rs::libbpf_sys::bpf_link_create_opts = unsafe { std::mem::zeroed() };
    opts.sz = std::mem::size_of_val(&opts) as _;
    opts.flags = flags;
    // SAFETY: `prog` is a valid fd for the call; `opts` lives until it returns.
    let ret = unsafe {
        libbpf_rs::libbpf_sys::bpf_link_create(prog.as_raw_fd(), target, attach_type, &opts)
    };
    owned_fd(ret)
}

/// `BPF_LINK_UPDATE`: replace the program of `link` by `prog`, atomically; with `old`, only
/// if `old` is still the link's program (`BPF_F_REPLACE`).
pub fn link_update(
    link: BorrowedFd<'_>,
    prog: BorrowedFd<'_>,
    old: Option<BorrowedFd<'_>>,
) -> io::Result<()> {
    // SAFETY: as in `link_create`.
    let mut opts: libbpf_rs::libbpf_sys::bpf_link_update_opts = unsafe { std::mem::zeroed() };
    opts.sz = std::mem::size_of_val(&opts) as _;
    if let Some(old) = old {
        opts.flags = libbpf_rs::libbpf_sys::BPF_F_REPLACE;
        opts.old_prog_fd = u32::try_from(old.as_raw_fd()).unwrap_or(u32::MAX);
    }
    // SAFETY: both fds are valid for the call; `opts` lives until it returns.
    let ret = unsafe {
        libbpf_rs::libbpf_sys::bpf_link_update(link.as_raw_fd(), prog.as_raw_fd(), &opts)
    };
    errno_ret(ret).map(|_| ())
}

/// `BPF_OBJ_PIN`: pin the object behind `fd` at `path`.
pub fn obj_pin(fd: BorrowedFd<'_>, path: &Path) -> io::Result<()> {
    let c = c_path(path)?;
    // SAFETY: `fd` is valid and `c` NUL-terminated for the call.
    let ret = unsafe { libbpf_rs::libbpf_sys::bpf_obj_pin(fd.as_raw_fd(), c.as_ptr()) };
    errno_ret(ret).map(|_| ())
}

/// `BPF_OBJ_GET`: open the object pinned at `path`.
pub fn obj_get(path: &Path) -> io::Result<OwnedFd> {
    let c = c_path(path)?;
    // SAFETY: `c` is NUL-terminated for the call.
    owned_fd(unsafe { libbpf_rs::libbpf_sys::bpf_obj_get(c.as_ptr()) })
}

/// The index of network interface `name` in this process's network namespace.
pub fn if_nametoindex(name: &str) -> io::Result<u32> {
    let c = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "name contains a NUL byte"))?;
    // SAFETY: `c` is NUL-terminated for the call.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if index == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(index)
}

/// `mount -t tracefs tracefs <target>`.
pub fn mount_tracefs(target: &Path) -> io::Result<()> {
    let t = c_path(target)?;
    let src = c"tracefs";
    // SAFETY: all strings are NUL-terminated and outlive the call; no data argument.
    let ret = unsafe { libc::mount(src.as_ptr(), t.as_ptr(), src.as_ptr(), 0, std::ptr::null()) };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The name of the network interface with index `index` in this process's network namespace.
pub fn if_indextoname(index: u32) -> Option<String> {
    let mut buf = [0 as std::os::raw::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has the IF_NAMESIZE bytes the call may write.
    let ret = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if ret.is_null() {
        return None;
    }
    // SAFETY: on success the call wrote a NUL-terminated name into `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

/// `bpf_link__update_map`: write the struct_ops map's value (which libbpf holds) and put the
/// map into the struct_ops link pinned at `pin`, in one step (`BPF_LINK_UPDATE`).
pub fn link_update_struct_ops(pin: &Path, map: &libbpf_rs::MapMut<'_>) -> io::Result<()> {
    // libbpf wants its own link object; one opened from the pin closes only its fd when
    // dropped (the pin keeps the link).
    let link = libbpf_rs::Link::open(pin).map_err(|e| io::Error::other(e.to_string()))?;
    // SAFETY: both pointers come from live libbpf-rs objects borrowed for the call.
    let ret = unsafe {
        libbpf_rs::libbpf_sys::bpf_link__update_map(
            link.as_libbpf_object().as_ptr(),
            map.as_libbpf_object().as_ptr(),
        )
    };
    errno_ret(ret).map(|_| ())
}

/// The flags a loaded map was created with (libbpf's copy of the definition).
pub fn loaded_map_flags(map: &libbpf_rs::Map<'_>) -> u32 {
    // SAFETY: the pointer comes from a live `Map` borrowed for this call; only a field is read.
    unsafe { libbpf_rs::libbpf_sys::bpf_map__map_flags(map.as_libbpf_object().as_ptr()) }
}

/// True when the effective user is root.
pub fn euid_is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The raw `.BTF` bytes of an opened object (libbpf's parsed copy); `None` without BTF.
pub fn object_btf(open: &libbpf_rs::OpenObject) -> Option<Vec<u8>> {
    // SAFETY: the pointer comes from a live `OpenObject` borrowed for this call; libbpf returns
    // its own btf object (or NULL), which stays owned by the object.
    let btf = unsafe { libbpf_rs::libbpf_sys::bpf_object__btf(open.as_libbpf_object().as_ptr()) };
    if btf.is_null() {
        return None;
    }
    let mut size = 0u32;
    // SAFETY: `btf` is live while `open` is borrowed; libbpf returns `size` bytes it owns.
    let data = unsafe { libbpf_rs::libbpf_sys::btf__raw_data(btf, &mut size) };
    if data.is_null() {
        return None;
    }
    // SAFETY: `data` points to `size` readable bytes owned by `btf`, copied out at once.
    Some(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), size as usize) }.to_vec())
}

/// The BTF key and value type ids libbpf read from the map's definition (0: declared by size).
pub fn map_btf_ids(map: &OpenMap<'_>) -> (u32, u32) {
    let ptr = map.as_libbpf_object().as_ptr();
    // SAFETY: as in `is_internal`: two field reads of a live map.
    unsafe {
        (
            libbpf_rs::libbpf_sys::bpf_map__btf_key_type_id(ptr),
            libbpf_rs::libbpf_sys::bpf_map__btf_value_type_id(ptr),
        )
    }
}
