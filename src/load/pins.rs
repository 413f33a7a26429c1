//! Pins: takes what a `load` put into the kernel and DIR, gives the pins — all or nothing, program
//! pins replaced atomically (temporary name, then rename) — and removes them again (`unload`).
//! Temporary pins (program and link pins alike) of a killed `load` are removed by the next one.

use std::io;
use std::path::{Path, PathBuf};

use super::objects::Loaded;
use super::pindir::{self, TMP_MARK};
use crate::error::{Error, Result};

/// Pins made but not yet visible under their names: temporary program pins, temporary pins of
/// migrated maps (which replace a pinned map) and the pins of new maps.
/// [`StagedPins::publish`] or [`StagedPins::abort`] them.
pub struct StagedPins {
    progs: Vec<(PathBuf, PathBuf)>,
    migrated: Vec<(PathBuf, PathBuf)>,
    new_maps: Vec<PathBuf>,
}

/// Pin every program at `progs_dir/<name>~tmp-<pid>` and every newly created map at its pin
/// path. On failure the pins made so far are removed; the old program pins are untouched.
pub fn stage_pins(loaded: &mut Loaded, progs_dir: &Path) -> Result<StagedPins> {
    let mut staged = StagedPins {
        progs: Vec::new(),
        migrated: Vec::new(),
        new_maps: Vec::new(),
    };
    match stage(loaded, progs_dir, std::process::id(), &mut staged) {
        Ok(()) => Ok(staged),
        Err(e) => {
            staged.abort();
            Err(e)
        }
    }
}

impl StagedPins {
    /// Remove every pin this `load` made.
    pub fn abort(self) {
        for (tmp, _) in self.progs.iter().chain(&self.migrated) {
            let _ = std::fs::remove_file(tmp);
        }
        for pin in &self.new_maps {
            let _ = std::fs::remove_file(pin);
        }
    }

    /// Rename each migrated map's temporary pin over `DIR/maps/<name>`, then each temporary
    /// program pin over `DIR/progs/<name>`: a reader finds the old or the new map or program,
    /// never none. Maps first: a load killed in between leaves the new, filled map pinned,
    /// which the next load reuses.
    pub fn publish(self) -> Result<()> {
        for (i, (tmp, pin)) in self.migrated.iter().enumerate() {
            if let Err(source) = std::fs::rename(tmp, pin) {
                for (later, _) in self.migrated.iter().skip(i).chain(&self.progs) {
                    let _ = std::fs::remove_file(later);
                }
                return Err(Error::Load(format!(
                    "renaming {} to {}: {source} (migrated map pins before this one were \
                     already replaced; no program pin was)",
                    tmp.display(),
                    pin.display()
                )));
            }
        }
        for (i, (tmp, pin)) in self.progs.iter().enumerate() {
            if let Err(source) = std::fs::rename(tmp, pin) {
                for (later, _) in self.progs.iter().skip(i) {
                    let _ = std::fs::remove_file(later);
                }
                return Err(Error::Load(format!(
                    "renaming {} to {}: {source} (program pins before this one were already \
                     replaced)",
                    tmp.display(),
                    pin.display()
                )));
            }
        }
        Ok(())
    }
}

fn stage(loaded: &mut Loaded, progs_dir: &Path, pid: u32, staged: &mut StagedPins) -> Result<()> {
    for prog in &loaded.progs {
        let tmp = progs_dir.join(format!("{}{TMP_MARK}{pid}", prog.name));
        prog.handle.pin(&tmp).map_err(|e| {
            Error::Load(format!(
                "program `{}`: pinning at {}: {e}",
                prog.name,
                tmp.display()
            ))
        })?;
        staged.progs.push((tmp, progs_dir.join(&prog.name)));
    }
    for map in loaded.maps.iter_mut().filter(|m| !m.reused) {
        let migrated = map.migration.is_some();
        let at = if migrated {
            let mut name = map.pin_path.as_os_str().to_owned();
            name.push(format!("{TMP_MARK}{pid}"));
            PathBuf::from(name)
        } else {
            map.pin_path.clone()
        };
        map.handle.pin(&at).map_err(|e| {
            Error::Load(format!(
                "map `{}`: pinning at {}: {e}",
                map.name,
                at.display()
            ))
        })?;
        if migrated {
            staged.migrated.push((at, map.pin_path.clone()));
        } else {
            staged.new_maps.push(at);
        }
    }
    Ok(())
}

/// Remove temporary pins (programs, links) left in `dir` by a `load` that died between
/// pinning and renaming (the caller holds the lock on DIR, so no live `load` owns them).
pub fn remove_stale_temporaries(dir: &Path) -> Result<()> {
    for entry in read_dir(dir)? {
        let name = entry.to_string_lossy();
        if name.contains(TMP_MARK) {
            let path = dir.join(&entry);
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

/// The names of the entries of `dir` (sorted; none when it does not exist).
pub fn pin_names(dir: &Path) -> Result<Vec<String>> {
    Ok(read_dir(dir)?
        .into_iter()
        .map(|n| n.to_string_lossy().into_owned())
        .collect())
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
