//! `load --migrate`, the copy step: takes the loaded objects (each migrated map created by
//! libbpf, empty, with the pinned map it replaces) and `DIR/progs`, gives every migrated map
//! filled with the pinned map's entries, converted — or an error with nothing pinned and the
//! pinned maps untouched (they are only read). Refuses when a program pinned in `DIR/progs`
//! that uses a pinned map being migrated is not replaced by this load.

use std::collections::BTreeSet;
use std::os::fd::AsFd;
use std::path::Path;

use libbpf_rs::MapHandle;

use super::compat::MapParams;
use super::decide::Plan;
use super::objects::{Loaded, SharedMap};
use super::pindir::{self, TMP_MARK};
use super::{ffi, pins};
use crate::error::{Error, Result};
use crate::migrate::{self, Copied, CopyError, CopySpec, Side};

/// A pinned map whose entries a new map of this load takes over.
pub struct Migration {
    /// The pinned map (only read; its pin is replaced once everything loaded).
    pub old: MapHandle,
    pub old_id: u32,
    pub old_params: MapParams,
    pub plan: Plan,
    /// "the map pinned at ...".
    pub origin: String,
    /// The copy, once done.
    pub copied: Option<Copied>,
}

impl Migration {
    pub fn new(
        old: MapHandle,
        old_id: u32,
        old_params: MapParams,
        plan: Plan,
        origin: String,
    ) -> Migration {
        Migration {
            old,
            old_id,
            old_params,
            plan,
            origin,
            copied: None,
        }
    }

    /// The copy specification into a map of `new` parameters.
    pub fn spec(&self, new: &MapParams, cpus: usize, batched: bool) -> CopySpec<'_> {
        CopySpec {
            old: side(&self.old_params),
            new: side(new),
            percpu: self.plan.percpu.then_some(cpus),
            key: self.plan.key.as_ref(),
            value: self.plan.value.as_ref(),
            batched,
        }
    }
}

fn side(p: &MapParams) -> Side {
    Side {
        key_size: p.key_size,
        value_size: p.value_size,
    }
}

/// Copy the entries of every migrated map of `loaded` into its new map.
pub fn carry(loaded: &mut Loaded, progs_dir: &Path) -> Result<()> {
    if loaded.maps.iter().all(|m| m.migration.is_none()) {
        return Ok(());
    }
    let replaced: BTreeSet<String> = loaded.progs.iter().map(|p| p.name.clone()).collect();
    let cpus = cpus()?;
    for map in &mut loaded.maps {
        let Some(m) = &map.migration else {
            continue;
        };
        check_users(&map.name, m, progs_dir, &replaced)?;
        check_fits(map, m)?;
        let copied = copy(map, m, cpus)?;
        if let Some(m) = &mut map.migration {
            m.copied = Some(copied);
        }
    }
    Ok(())
}

pub fn cpus() -> Result<usize> {
    migrate::possible_cpus()
        .map_err(|e| Error::Load(format!("counting the possible CPUs (per-CPU values): {e}")))
}

fn copy(map: &SharedMap, m: &Migration, cpus: usize) -> Result<Copied> {
    let spec = m.spec(&map.params, cpus, true);
    let copied = migrate::copy_entries(m.old.as_fd(), map.handle.as_fd(), &spec)
        .map_err(|e| copy_error(&map.name, m, &map.params, e))?;
    if m.plan.lru {
        // An LRU map makes room by evicting instead of refusing: count what arrived.
        let now = migrate::count_entries(map.handle.as_fd(), map.params.key_size)
            .map_err(|e| copy_error(&map.name, m, &map.params, e))?;
        if now != copied.entries {
            return Err(refused(
                &map.name,
                m,
                &format!(
                    "{} entries were copied but the new LRU map kept {now} (it evicted the rest)",
                    copied.entries
                ),
            ));
        }
    }
    Ok(copied)
}

/// A migration that max_entries shrinks: refused when the entries do not fit.
fn check_fits(map: &SharedMap, m: &Migration) -> Result<()> {
    if !m.plan.shrinks {
        return Ok(());
    }
    let n = migrate::count_entries(m.old.as_fd(), m.old_params.key_size)
        .map_err(|e| copy_error(&map.name, m, &map.params, e))?;
    fits(n, map.params.max_entries).map_err(|why| refused(&map.name, m, &why))
}

/// Whether `entries` fit into a map of `max_entries`.
pub fn fits(entries: u64, max_entries: u32) -> std::result::Result<(), String> {
    if entries > u64::from(max_entries) {
        return Err(format!(
            "it holds {entries} entries, more than the {max_entries} the new definition allows"
        ));
    }
    Ok(())
}

fn copy_error(name: &str, m: &Migration, new: &MapParams, e: CopyError) -> Error {
    let why = match &e {
        CopyError::Kernel { err, .. } if err.raw_os_error() == Some(libc::E2BIG) => format!(
            "its entries do not fit into the {} the new definition allows ({e})",
            new.max_entries
        ),
        _ => e.to_string(),
    };
    refused(name, m, &why)
}

fn refused(name: &str, m: &Migration, why: &str) -> Error {
    Error::Load(format!(
        "map `{name}`: migrating its entries failed: {why}; {} was left unchanged and no pin was \
         created or changed",
        m.origin
    ))
}

/// Refuse when a program pinned in `progs_dir` uses the old map and is not replaced.
fn check_users(
    name: &str,
    m: &Migration,
    progs_dir: &Path,
    replaced: &BTreeSet<String>,
) -> Result<()> {
    let left = users_left(m.old_id, progs_dir, replaced)?;
    if left.is_empty() {
        return Ok(());
    }
    Err(Error::Load(format!(
        "map `{name}`: cannot be migrated: {} {} in {} {} it and {} not replaced by this load \
         (it would keep the old map and stop sharing its state); load {} in the same `load`, \
         or unload {}; {} was left unchanged",
        if left.len() == 1 {
            "program"
        } else {
            "programs"
        },
        left.iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", "),
        progs_dir.display(),
        if left.len() == 1 { "uses" } else { "use" },
        if left.len() == 1 { "is" } else { "are" },
        if left.len() == 1 {
            "its object"
        } else {
            "their objects"
        },
        if left.len() == 1 { "it" } else { "them" },
        m.origin
    )))
}

/// The programs pinned in `progs_dir`, not in `replaced`, that use map `map_id` (sorted).
pub fn users_left(
    map_id: u32,
    progs_dir: &Path,
    replaced: &BTreeSet<String>,
) -> Result<Vec<String>> {
    let mut left = Vec::new();
    for name in pins::pin_names(progs_dir)? {
        if name.contains(TMP_MARK) || replaced.contains(&name) {
            continue;
        }
        let path = progs_dir.join(&name);
        let fd = ffi::obj_get(&path).map_err(|e| pindir::io_error(&path, e))?;
        let ids = migrate::program_map_ids(fd.as_fd()).map_err(|e| {
            Error::Load(format!(
                "{}: reading the pinned program's maps: {e}",
                path.display()
            ))
        })?;
        if ids.contains(&map_id) {
            left.push(name);
        }
    }
    Ok(left)
}
