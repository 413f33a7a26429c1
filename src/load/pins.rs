//! Pins: takes what a `load` put into the kernel and DIR, gives the pins — all or nothing, program
//! pins replaced atomically (temporary name, then rename) — and removes them again (`unload`).

use std::io;
use std::path::{Path, PathBuf};

use super::objects::Loaded;
use super::pindir::{self, TMP_MARK};
use crate::error::{Error, Result};

/// Pin every program at `progs_dir/<name>` and every newly created map at its pin path. On any
/// failure the pins made so far are removed and the old program pins are untouched.
pub fn commit(loaded: &mut Loaded, progs_dir: &Path) -> Result<()> {
    let pid = std::process::id();
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut new_maps: Vec<PathBuf> = Vec::new();
    if let Err(e) = stage(loaded, progs_dir, pid, &mut staged, &mut new_maps) {
        for (tmp, _) in &staged {
            let _ = std::fs::remove_file(tmp);
        }
        for pin in &new_maps {
            let _ = std::fs::remove_file(pin);
        }
        return Err(e);
    }
    // Every pin exists now; renames make the new programs visible, each in one step.
    for (i, (tmp, pin)) in staged.iter().enumerate() {
        if let Err(source) = std::fs::rename(tmp, pin) {
            for (later, _) in staged.iter().skip(i) {
                let _ = std::fs::remove_file(later);
            }
            return Err(Error::Load(format!(
                "renaming {} to {}: {source} (program pins before this one were already replaced)",
                tmp.display(),
                pin.display()
            )));
        }
    }
    Ok(())
}

fn stage(
    loaded: &mut Loaded,
    progs_dir: &Path,
    pid: u32,
    staged: &mut Vec<(PathBuf, PathBuf)>,
    new_maps: &mut Vec<PathBuf>,
) -> Result<()> {
    for prog in &loaded.progs {
        let tmp = progs_dir.join(format!("{}{TMP_MARK}{pid}", prog.name));
        prog.handle.pin(&tmp).map_err(|e| {
            Error::Load(format!(
                "program `{}`: pinning at {}: {e}",
                prog.name,
                tmp.display()
            ))
        })?;
        staged.push((tmp, progs_dir.join(&prog.name)));
    }
    for map in loaded.maps.iter_mut().filter(|m| !m.reused) {
        map.handle.pin(&map.pin_path).map_err(|e| {
            Error::Load(format!(
                "map `{}`: pinning at {}: {e}",
                map.name,
                map.pin_path.display()
            ))
        })?;
        new_maps.push(map.pin_path.clone());
    }
    Ok(())
}

/// Remove temporary program pins left by a `load` that died between pinning and renaming
/// (the caller holds the lock on DIR, so no live `load` owns them).
pub fn remove_stale_temporaries(progs_dir: &Path) -> Result<()> {
    for entry in read_dir(progs_dir)? {
        let name = entry.to_string_lossy();
        if name.contains(TMP_MARK) {
            let path = progs_dir.join(&entry);
            std::fs::remove_file(&path).map_err(|e| pindir::io_error(&path, e))?;
        }
    }
    Ok(())
}

fn read_dir(dir: &Path) -> Result<Vec<std::ffi::OsString>> {
    let mut names = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(names),
        Err(e) => return Err(pindir::io_error(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| pindir::io_error(dir, e))?;
        names.push(entry.file_name());
    }
    names.sort();
    Ok(names)
}

/// Remove the pins (not subdirectories) directly in `dir`; returns their paths.
pub fn remove_pins(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for name in read_dir(dir)? {
        let path = dir.join(&name);
        let meta = path
            .symlink_metadata()
            .map_err(|e| pindir::io_error(&path, e))?;
        if meta.is_dir() {
            continue;
        }
        std::fs::remove_file(&path).map_err(|e| pindir::io_error(&path, e))?;
        removed.push(path);
    }
    Ok(removed)
}

/// Remove `dir` if it exists and is empty; true when it was removed.
pub fn remove_empty_dir(dir: &Path) -> Result<bool> {
    match std::fs::remove_dir(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        // (io::ErrorKind::DirectoryNotEmpty needs Rust 1.83, above the crate's rust-version.)
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTEMPTY | libc::EEXIST)) => Ok(false),
        Err(e) => Err(pindir::io_error(dir, e)),
    }
}
