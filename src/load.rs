//! Run-time loader (libbpf-rs): takes objects and a pin dir, gives loaded programs with maps
//! shared by name through pins in `DIR/maps` and `bpf_map__reuse_fd`, programs pinned in
//! `DIR/progs`; and `unload`, which removes those pins again.
//!
//! Choices (see docs/load.md): every map of a `.maps` section is pinned by name, whatever its
//! `pinning` attribute says (libbpf's own pinning is switched off so that nothing is pinned
//! before every object loaded); global-data maps are per object and never pinned; a pinned map
//! is reused only when type, key/value size, max_entries, flags and map_extra match, allowing
//! for the adjustments in [`compat`], and its key/value types (when it has BTF) match the
//! object's structurally ([`decide`]). With `--migrate`, a pinned map whose definition changed
//! in a way its entries can follow is replaced by a new map holding them (`carry`), whose pin
//! replaces the old one only once everything loaded; `--dry-run` says what would happen. Objects with `static` map definitions are opened from a copy
//! in which they are global, and map-in-map `.values` initialisers are written into reused outer
//! maps by bpfmerge (libbpf does it only for maps it creates); see `prepare`.
//!
//! With `--attach`, every program is also attached through a link pinned in `DIR/links`, a
//! link pinned by an earlier `load` being updated in place where the kernel allows it; see
//! [`attach`].

pub mod attach;
mod carry;
pub mod compat;
pub mod decide;
mod dryrun;
mod ffi;
mod fold;
mod libbpf_log;
mod objects;
mod pindir;
mod pins;
mod prepare;
mod reuse;
pub mod status;

use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Options of `load`.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Pin directory; default `/sys/fs/bpf/bpfmerge/<stem of first object>`.
    pub pin_dir: Option<PathBuf>,
    /// `--attach`: attach every program and pin its links in `DIR/links`.
    pub attach: Option<attach::AttachOptions>,
    /// `--migrate`: a pinned map whose definition changed in a way its entries can follow is
    /// replaced by a new map holding them, converted (see [`decide`] and the `carry` step).
    pub migrate: bool,
}

pub use decide::Compared;
pub use dryrun::{dry_run, DryRunReport};

/// One map after `load`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadedMap {
    pub name: String,
    /// Kernel map id.
    pub id: u32,
    pub pin_path: PathBuf,
    /// True when the map was pinned before this `load` and reused; false when created now.
    pub reused: bool,
    /// Map type, e.g. `array (2)`.
    pub map_type: String,
    /// The objects of this `load` that use the map, in load order.
    pub objects: Vec<String>,
    /// How a reused map was compared: `btf` (key and value types too), `sizes` (the pinned
    /// map has no BTF, or the object declares the map by sizes), `none` (created now).
    pub compared: Compared,
    /// `--migrate`: the pinned map this new map replaced, and what was carried over.
    pub migrated: Option<MigratedMap>,
}

/// A map created by `load --migrate` in place of a pinned one.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MigratedMap {
    /// Kernel id of the map that was pinned before (its pin now names the new map).
    pub from_id: u32,
    /// Entries copied.
    pub entries: u64,
    /// Whether the kernel's batch operations were used.
    pub batched: bool,
    /// What changed: `max_entries: 16384 -> 32768`, `value.gone: removed (dropped)`, ...
    pub changes: Vec<String>,
}

/// One program after `load`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadedProg {
    pub name: String,
    /// ELF section, e.g. `xdp`.
    pub section: String,
    /// Kernel program id.
    pub id: u32,
    pub pin_path: PathBuf,
    /// The object the program comes from.
    pub object: String,
}

/// A program folded into the same-named identical program of an earlier object.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FoldedProg {
    pub name: String,
    /// The object whose copy was loaded but not pinned.
    pub object: String,
    /// The object whose copy is pinned (the first that defines the program).
    pub kept: String,
}

/// What `load` did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadReport {
    pub pin_dir: PathBuf,
    pub maps: Vec<LoadedMap>,
    pub progs: Vec<LoadedProg>,
    /// Programs identical to a same-named program of an earlier object of this `load`:
    /// loaded (libbpf loads whole objects) but not pinned; the earlier one's pin stands for
    /// both. In load order.
    pub folded: Vec<FoldedProg>,
    /// Links made or updated by `--attach` (empty without it), in program order.
    pub links: Vec<attach::AttachedLink>,
    /// Programs `--attach` left unattached (`--attach=available`, `--no-attach`, struct_ops
    /// programs), with the reason.
    pub unattached: Vec<attach::UnattachedProg>,
}

impl LoadReport {
    pub fn to_text(&self) -> String {
        let mut s = format!("pin dir {}\n", self.pin_dir.display());
        for m in &self.maps {
            let how = match (&m.migrated, m.reused) {
                (Some(_), _) => "migrated",
                (None, true) => "reused",
                (None, false) => "created",
            };
            let _ = writeln!(
                s,
                "map  {:<20} id {:<6} {how:<8} {}",
                m.name,
                m.id,
                m.pin_path.display()
            );
            if m.reused && m.compared == Compared::Sizes {
                let _ = writeln!(
                    s,
                    "     {:<20} compared by sizes only (the pinned map has no BTF, or the \
                     object declares it by sizes)",
                    ""
                );
            }
            if let Some(g) = &m.migrated {
                let _ = writeln!(
                    s,
                    "     {:<20} {} entries from map id {}{}",
                    "",
                    g.entries,
                    g.from_id,
                    if g.batched { " (batched)" } else { "" }
                );
                for c in &g.changes {
                    let _ = writeln!(s, "     {:<20} {c}", "");
                }
            }
        }
        for p in &self.progs {
            let _ = writeln!(
                s,
                "prog {:<20} id {:<6} {:<8} {}",
                p.name,
                p.id,
                p.section,
                p.pin_path.display()
            );
        }
        for f in &self.folded {
            let _ = writeln!(
                s,
                "fold {:<20} {} is identical to {}'s: not pinned",
                f.name, f.object, f.kept
            );
        }
        for l in &self.links {
            let _ = writeln!(
                s,
                "link {:<20} id {:<6} {:<8} {:<14} {} -> {}",
                l.program,
                l.id,
                format!("{:?}", l.action).to_lowercase(),
                l.link_type,
                l.target,
                l.pin_path.display()
            );
        }
        for u in &self.unattached {
            let _ = writeln!(s, "unattached {:<14} {}", u.program, u.reason);
        }
        s
    }
}

/// What `unload` removed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct UnloadReport {
    /// Pins, then the directories that became empty, in removal order.
    pub removed: Vec<PathBuf>,
}

impl UnloadReport {
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for p in &self.removed {
            let _ = writeln!(s, "removed {}", p.display());
        }
        s
    }
}

fn check_dir_path(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() || dir.as_os_str().as_bytes().contains(&0) {
        return Err(Error::Usage(format!("invalid pin dir {:?}", dir)));
    }
    Ok(())
}

/// The pin dir of a `load` of `objects` (which must exist).
fn pin_dir_of(objects: &[PathBuf], opts: &LoadOptions) -> Result<PathBuf> {
    let first = objects
        .first()
        .ok_or_else(|| Error::Usage("no object to load".to_string()))?;
    for obj in objects {
        std::fs::metadata(obj).map_err(|source| Error::Io {
            path: obj.clone(),
            err: source,
        })?;
    }
    let dir = match &opts.pin_dir {
        Some(d) => d.clone(),
        None => pindir::default_dir(first)?,
    };
    check_dir_path(&dir)?;
    Ok(dir)
}

/// Load `objects` one after another, reusing maps pinned under `DIR/maps`, then pin.
pub fn load(objects: &[PathBuf], opts: &LoadOptions) -> Result<LoadReport> {
    let dir = pin_dir_of(objects, opts)?;
    pindir::ensure_bpffs(&dir)?;
    let dirs = Dirs {
        maps: dir.join(pindir::MAPS),
        progs: dir.join(pindir::PROGS),
        links: dir.join(pindir::LINKS),
        dir: dir.clone(),
    };
    let all = [&dirs.maps, &dirs.progs, &dirs.links, &dirs.dir];
    let existed = all.map(|d| d.exists());
    let lock = pindir::DirLock::acquire(&dir, true)?;
    let result = pindir::create_dir_all(&dirs.maps)
        .and_then(|()| pindir::create_dir_all(&dirs.progs))
        .and_then(|()| match opts.attach {
            Some(_) => pindir::create_dir_all(&dirs.links),
            None => Ok(()),
        })
        .and_then(|()| load_locked(objects, &dirs, opts));
    if result.is_err() {
        // Leave no empty directories behind that a load which pinned nothing created.
        for (d, existed) in all.into_iter().zip(existed) {
            if !existed {
                let _ = pins::remove_empty_dir(d);
            }
        }
    }
    drop(lock);
    result
}

/// The pin dir and its subdirectories.
struct Dirs {
    dir: PathBuf,
    maps: PathBuf,
    progs: PathBuf,
    links: PathBuf,
}

/// The steps of a `load`, DIR locked: load every object (sharing maps), attach (links made or
/// updated, new ones under temporary pins), pin (programs under temporary names, new maps),
/// then make the new pins visible. A failure at any step before the last undoes the earlier
/// ones. `--migrate` fills the maps that replace pinned ones between loading and attaching
/// (before any program can run against them); their pins replace the old ones first when the
/// pins are made visible.
fn load_locked(objects: &[PathBuf], dirs: &Dirs, opts: &LoadOptions) -> Result<LoadReport> {
    pins::remove_stale_temporaries(&dirs.maps)?;
    pins::remove_stale_temporaries(&dirs.progs)?;
    pins::remove_stale_temporaries(&dirs.links)?;
    let capture = libbpf_log::Capture::start();
    let object_dirs = objects::Dirs {
        maps: &dirs.maps,
        progs: &dirs.progs,
    };
    let mut loaded = objects::load_all(objects, &object_dirs, &capture, opts.migrate)?;
    carry::carry(&mut loaded, &dirs.progs).inspect_err(|_| objects::restore_slots(&loaded.maps))?;
    let attached = opts
        .attach
        .as_ref()
        .map(|a| attach::stage(&mut loaded, a, &dirs.links, &capture))
        .transpose()
        .inspect_err(|_| objects::restore_slots(&loaded.maps))?;
    let pinned = pins::stage_pins(&mut loaded, &dirs.progs).and_then(pins::StagedPins::publish);
    if let Err(e) = pinned {
        if let Some(a) = attached {
            a.undo();
        }
        objects::restore_slots(&loaded.maps);
        return Err(e);
    }
    let (links, unattached) = match attached {
        Some(a) => a.publish(&loaded)?,
        None => (Vec::new(), Vec::new()),
    };
    Ok(report(&loaded, dirs, links, unattached))
}

/// The report of a `load` that succeeded.
fn report(
    loaded: &objects::Loaded,
    dirs: &Dirs,
    links: Vec<attach::AttachedLink>,
    unattached: Vec<attach::UnattachedProg>,
) -> LoadReport {
    LoadReport {
        pin_dir: dirs.dir.clone(),
        maps: loaded
            .maps
            .iter()
            .map(|m| LoadedMap {
                name: m.name.clone(),
                id: m.id,
                pin_path: m.pin_path.clone(),
                reused: m.reused,
                map_type: compat::type_name(m.params.map_type),
                objects: m.objects.clone(),
                compared: m.compared,
                migrated: m.migration.as_ref().map(|g| MigratedMap {
                    from_id: g.old_id,
                    entries: g.copied.map_or(0, |c| c.entries),
                    batched: g.copied.is_some_and(|c| c.batched),
                    changes: g.plan.changes.clone(),
                }),
            })
            .collect(),
        progs: loaded
            .progs
            .iter()
            .map(|p| LoadedProg {
                name: p.name.clone(),
                section: p.section.clone(),
                id: p.handle.id(),
                pin_path: dirs.progs.join(&p.name),
                object: p.object.clone(),
            })
            .collect(),
        folded: loaded
            .folded
            .iter()
            .map(|f| FoldedProg {
                name: f.name.clone(),
                object: f.object.clone(),
                kept: f.kept.clone(),
            })
            .collect(),
        links,
        unattached,
    }
}

/// Remove link pins (detaching them), program pins (and map pins with `maps`) under
/// `pin_dir`, then empty directories.
pub fn unload(pin_dir: &Path, maps: bool) -> Result<UnloadReport> {
    check_dir_path(pin_dir)?;
    match pin_dir.symlink_metadata() {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Error::Load(format!(
                "pin dir {}: not a directory",
                pin_dir.display()
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Load(format!(
                "pin dir {}: does not exist (nothing to unload)",
                pin_dir.display()
            )))
        }
        Err(e) => return Err(pindir::io_error(pin_dir, e)),
    }
    // Never delete files outside bpffs, whatever DIR is given.
    if !pindir::is_bpffs(pin_dir)? {
        return Err(Error::NotBpffs {
            path: pin_dir.to_path_buf(),
            detail: "not on a bpf filesystem; refusing to remove anything there".to_string(),
        });
    }
    let lock = pindir::DirLock::acquire(pin_dir, false)?;
    let links_dir = pin_dir.join(pindir::LINKS);
    let progs_dir = pin_dir.join(pindir::PROGS);
    let maps_dir = pin_dir.join(pindir::MAPS);
    // Links first: removing a link's last pin detaches its program, and nothing runs a
    // program whose pin is gone.
    let mut removed = attach::links::remove_link_pins(&links_dir)?;
    removed.extend(pins::remove_pins(&progs_dir)?);
    if maps {
        removed.extend(pins::remove_pins(&maps_dir)?);
    }
    for d in [&links_dir, &progs_dir, &maps_dir, &pin_dir.to_path_buf()] {
        if pins::remove_empty_dir(d)? {
            removed.push(d.clone());
        }
    }
    drop(lock);
    Ok(UnloadReport { removed })
}
