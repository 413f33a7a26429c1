//! The pin directory: takes a DIR (or the first object's path), gives checked pin paths, a
//! bpffs guarantee (mounting `/sys/fs/bpf` when needed) and the exclusive lock on DIR.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::ffi;
use crate::error::{Error, Result};

/// Where bpffs is normally mounted; mounted by `load` when it is not.
pub const BPFFS_ROOT: &str = "/sys/fs/bpf";

/// Maps live in `DIR/maps`, programs in `DIR/progs`, links (`load --attach`) in `DIR/links`.
pub const MAPS: &str = "maps";
pub const PROGS: &str = "progs";
pub const LINKS: &str = "links";

/// Marker of temporary program pins, `<name>~tmp-<pid>` (`~` is refused in names).
pub const TMP_MARK: &str = "~tmp-";

/// A map or program name must be usable as one bpffs file name inside its directory: not
/// empty, no `/` (would escape into another directory), no `.` (bpffs refuses dots in names,
/// which also rules out `.` and `..`), no `~` (reserved for temporary pins), no NUL.
pub fn check_name(kind: &'static str, name: &str, file: &str) -> Result<()> {
    let reason = if name.is_empty() {
        Some("the name is empty")
    } else if name.contains('/') {
        Some("the name contains `/`")
    } else if name.contains('.') {
        Some("the name contains `.` (bpffs refuses dots in names)")
    } else if name.contains('~') {
        Some("the name contains `~` (reserved for bpfmerge's temporary pins)")
    } else if name.contains('\0') {
        Some("the name contains a NUL byte")
    } else if name.len() > 255 {
        Some("the name is longer than 255 bytes")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::BadPinName {
            kind,
            name: name.to_string(),
            file: file.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// `/sys/fs/bpf/bpfmerge/<stem of first object>`.
pub fn default_dir(first: &Path) -> Result<PathBuf> {
    let file = first.display().to_string();
    let stem = first.file_stem().and_then(|s| s.to_str()).ok_or_else(|| {
        Error::Load(format!(
            "{file}: cannot derive a pin dir from this file name; pass --pin-dir"
        ))
    })?;
    check_name("object", stem, &file)?;
    Ok(Path::new(BPFFS_ROOT).join("bpfmerge").join(stem))
}

/// Make sure `dir` is (or will be, once created) on a bpf filesystem. When it lies under
/// `/sys/fs/bpf` and nothing is mounted there, mount bpffs there (as bpftool does).
pub fn ensure_bpffs(dir: &Path) -> Result<()> {
    let existing = first_existing(dir)?;
    if is_bpffs(&existing)? {
        return Ok(());
    }
    let root = Path::new(BPFFS_ROOT);
    let under_root = dir.starts_with(root) && (existing == root || root.starts_with(&existing));
    if under_root && root.is_dir() {
        match ffi::mount_bpffs(root) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                return Err(Error::NoPrivileges {
                    action: format!("mounting bpffs at {BPFFS_ROOT} (it is not mounted)"),
                    detail: e.to_string(),
                })
            }
            Err(e) => {
                return Err(Error::NotBpffs {
                    path: dir.to_path_buf(),
                    detail: format!(
                        "nothing is mounted at {BPFFS_ROOT} and mounting bpffs there failed: {e}"
                    ),
                })
            }
        }
        if is_bpffs(&first_existing(dir)?)? {
            return Ok(());
        }
    }
    Err(Error::NotBpffs {
        path: dir.to_path_buf(),
        detail: format!(
            "{} is not on a bpf filesystem; choose a --pin-dir under a bpffs mount \
             (e.g. `mount -t bpf bpf {BPFFS_ROOT}`)",
            existing.display()
        ),
    })
}

/// True when the existing `path` is on bpffs.
pub fn is_bpffs(path: &Path) -> Result<bool> {
    ffi::is_bpffs(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        err: source,
    })
}

fn first_existing(dir: &Path) -> Result<PathBuf> {
    let mut p = dir;
    loop {
        match p.symlink_metadata() {
            Ok(_) => return Ok(p.to_path_buf()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => match p.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => p = parent,
                _ => return Ok(PathBuf::from(".")),
            },
            Err(source) => return Err(io_error(p, source)),
        }
    }
}

/// An I/O error on `path`; permission errors become [`Error::NoPrivileges`].
pub fn io_error(path: &Path, source: io::Error) -> Error {
    if source.kind() == io::ErrorKind::PermissionDenied {
        Error::NoPrivileges {
            action: format!("accessing {}", path.display()),
            detail: source.to_string(),
        }
    } else {
        Error::Io {
            path: path.to_path_buf(),
            err: source,
        }
    }
}

/// `mkdir -p` that reports which directory failed.
pub fn create_dir_all(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))
}

/// Exclusive lock on DIR (an `flock` on the directory itself, which works on bpffs), held until
/// dropped. Serialises `load`s and `unload`s of one DIR.
pub struct DirLock {
    _dir: File,
}

impl DirLock {
    /// Lock `dir`, creating it first when `create`. If `dir` was removed (by an `unload`)
    /// while we waited, start again on the new one.
    pub fn acquire(dir: &Path, create: bool) -> Result<DirLock> {
        for _ in 0..100 {
            if create {
                create_dir_all(dir)?;
            }
            let f = File::open(dir).map_err(|e| io_error(dir, e))?;
            ffi::flock_exclusive(f.as_fd()).map_err(|e| io_error(dir, e))?;
            let held = f.metadata().map_err(|e| io_error(dir, e))?;
            match dir.metadata() {
                Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => {
                    return Ok(DirLock { _dir: f })
                }
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound && create => continue,
                Err(e) => return Err(io_error(dir, e)),
            }
        }
        Err(Error::Load(format!(
            "{}: could not lock the pin dir: it keeps being replaced",
            dir.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_would_escape_or_hide_are_refused() {
        for bad in [
            "", "a/b", "..", ".", "../x", ".hidden", "a.b", "x~tmp-1", "x\0y",
        ] {
            let e = check_name("program", bad, "f.o").unwrap_err();
            assert!(e.to_string().contains("f.o"), "{e}");
        }
        for good in ["counters", "xdp_entry", "Tail_2", "x-y"] {
            check_name("map", good, "f.o").unwrap();
        }
    }

    #[test]
    fn default_dir_uses_the_first_stem() {
        assert_eq!(
            default_dir(Path::new("fixtures/seed/entry.o")).unwrap(),
            PathBuf::from("/sys/fs/bpf/bpfmerge/entry")
        );
        assert!(default_dir(Path::new("/")).is_err());
    }
}
