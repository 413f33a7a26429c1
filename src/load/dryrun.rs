//! `load --dry-run`: takes the objects and DIR, gives what a `load` would do with each map —
//! create it, reuse the pinned one, migrate it (with the entry count and the member mapping)
//! or refuse, with the reason — and with each program pin, changing nothing: the objects are
//! only opened (no program is loaded, so the verifier does not run), pinned maps only read.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use libbpf_rs::MapHandle;

use super::carry::{self, Migration};
use super::compat::{self, Host, MapParams};
use super::decide::{self, Compared, Decision, Def, Subject};
use super::libbpf_log::Capture;
use super::{ffi, objects, pindir, reuse, LoadOptions};
use crate::error::Result;
use crate::migrate::{self, MapTypes};

/// What `load` would do.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DryRunReport {
    pub pin_dir: PathBuf,
    pub maps: Vec<PlannedMap>,
    pub progs: Vec<PlannedProg>,
}

/// What would become of one map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MapAction {
    Create,
    Reuse,
    Migrate,
    Refuse,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct PlannedMap {
    pub name: String,
    pub action: MapAction,
    /// For `reuse`: how the pinned map was compared.
    pub compared: Compared,
    /// For `migrate`: the pinned map, its entries and what changes.
    pub migration: Option<PlannedMigration>,
    /// For `refuse`: why.
    pub reason: Option<String>,
    /// The objects that use the map, in load order.
    pub objects: Vec<String>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct PlannedMigration {
    pub from_id: u32,
    /// Entries that would be copied (all of them were read and converted).
    pub entries: u64,
    pub changes: Vec<String>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct PlannedProg {
    pub name: String,
    pub object: String,
    /// `create` (a new pin) or `replace` (a program pinned under this name is replaced).
    pub action: String,
}

impl DryRunReport {
    /// Maps that would be refused (a real `load` would fail on the first).
    pub fn refused(&self) -> usize {
        self.maps
            .iter()
            .filter(|m| m.action == MapAction::Refuse)
            .count()
    }

    pub fn to_text(&self) -> String {
        let mut s = format!(
            "dry run: nothing changed; pin dir {}\n",
            self.pin_dir.display()
        );
        for m in &self.maps {
            let action = format!("{:?}", m.action).to_lowercase();
            let mut line = format!("map  {:<20} {action:<8}", m.name);
            if m.action == MapAction::Reuse {
                let how = format!("{:?}", m.compared).to_lowercase();
                let _ = write!(line, " compared by {how}");
            }
            if let Some(g) = &m.migration {
                let _ = write!(line, " {} entries from map id {}", g.entries, g.from_id);
            }
            let _ = writeln!(s, "{}", line.trim_end());
            for c in m.migration.iter().flat_map(|g| &g.changes) {
                let _ = writeln!(s, "     {:<20} {c}", "");
            }
            if let Some(r) = &m.reason {
                let _ = writeln!(s, "     {:<20} {r}", "");
            }
        }
        for p in &self.progs {
            let _ = writeln!(s, "prog {:<20} {:<8} {}", p.name, p.action, p.object);
        }
        s
    }
}

/// One map as planned so far, with what later objects are compared against.
struct Entry {
    planned: PlannedMap,
    /// The map as it would be after the first object: its parameters and types.
    params: MapParams,
    types: Option<MapTypes>,
    origin: String,
    migration: Option<Migration>,
}

/// Say what `load` would do, changing nothing.
pub fn dry_run(objects_in: &[PathBuf], opts: &LoadOptions) -> Result<DryRunReport> {
    let dir = super::pin_dir_of(objects_in, opts)?;
    let maps_dir = dir.join(pindir::MAPS);
    let progs_dir = dir.join(pindir::PROGS);
    // A dir that does not exist has no pins to lock or read.
    let _lock = if dir.is_dir() {
        Some(pindir::DirLock::acquire(&dir, false)?)
    } else {
        None
    };
    let capture = Capture::start();
    let host = objects::host();
    let mut maps: Vec<Entry> = Vec::new();
    let mut progs = Vec::new();
    let mut owners = BTreeMap::new();
    for path in objects_in {
        let file = path.display().to_string();
        let (mut open, _) = objects::open_object(path, &capture)?;
        let folded = objects::check_programs(&open, path, &progs_dir, &mut owners)?;
        for p in open.progs().filter(|p| p.autoload()) {
            let name = p.name().to_string_lossy().into_owned();
            if folded.iter().any(|f| f.name == name) {
                continue;
            }
            let action = if progs_dir.join(&name).exists() {
                "replace"
            } else {
                "create"
            };
            progs.push(PlannedProg {
                name,
                object: file.clone(),
                action: action.to_string(),
            });
        }
        let btf = ffi::object_btf(&open);
        for mut map in open.maps_mut() {
            let Some((name, def)) = reuse::shared_map_def(&mut map, &file)? else {
                continue;
            };
            let types = reuse::object_types(btf.as_deref(), &map, &name, &file)?;
            let at = &maps_dir;
            plan_map(&mut maps, at, &file, &name, def, types, &host, opts.migrate)?;
        }
    }
    let replaced: BTreeSet<String> = progs.iter().map(|p| p.name.clone()).collect();
    for e in &mut maps {
        check_migration(e, &progs_dir, &replaced)?;
    }
    Ok(DryRunReport {
        pin_dir: dir,
        maps: maps.into_iter().map(|e| e.planned).collect(),
        progs,
    })
}

/// Add the definition of `name` in `file` to the plan.
#[allow(clippy::too_many_arguments)]
fn plan_map(
    maps: &mut Vec<Entry>,
    maps_dir: &Path,
    file: &str,
    name: &str,
    def: MapParams,
    types: Option<MapTypes>,
    host: &Host,
    migrate: bool,
) -> Result<()> {
    let d = Def {
        params: &def,
        types: types.as_ref(),
    };
    if let Some(e) = maps.iter_mut().find(|e| e.planned.name == name) {
        // A later object: compared with the map as the first one left it.
        e.planned.objects.push(file.to_string());
        if e.planned.action == MapAction::Refuse {
            return Ok(());
        }
        let subject = Subject {
            map: name,
            file,
            existing: &e.origin,
            may_migrate: false,
        };
        let live = Def {
            params: &e.params,
            types: e.types.as_ref(),
        };
        if let Err(err) = decide::decide(&subject, d, live, host) {
            refuse(&mut e.planned, err.to_string());
        }
        return Ok(());
    }
    let pin = maps_dir.join(name);
    let mut entry = Entry {
        planned: PlannedMap {
            name: name.to_string(),
            action: MapAction::Create,
            compared: Compared::None,
            migration: None,
            reason: None,
            objects: vec![file.to_string()],
        },
        params: compat::as_created(&def, host),
        types: types.clone(),
        origin: format!("the map created by {file}"),
        migration: None,
    };
    if let Some(handle) = reuse::open_pinned_map(&pin)? {
        plan_pinned(&mut entry, handle, &pin, file, d, host, migrate)?;
    }
    maps.push(entry);
    Ok(())
}

/// The first definition of a pinned map: reuse, migrate or refuse.
fn plan_pinned(
    entry: &mut Entry,
    handle: MapHandle,
    pin: &Path,
    file: &str,
    def: Def<'_>,
    host: &Host,
    migrate: bool,
) -> Result<()> {
    let name = entry.planned.name.clone();
    let (id, params) = reuse::live_params(&handle, &name)?;
    let live_types = reuse::kernel_types(&handle, &name)?;
    let origin = format!("{}{}", decide::PINNED, pin.display());
    let subject = Subject {
        map: &name,
        file,
        existing: &origin,
        may_migrate: migrate,
    };
    let live = Def {
        params: &params,
        types: live_types.as_ref(),
    };
    match decide::decide(&subject, def, live, host) {
        Ok(Decision::Reuse(c)) => {
            entry.planned.action = MapAction::Reuse;
            entry.planned.compared = c;
            entry.params = params;
            entry.types = live_types;
            entry.origin = origin;
        }
        Ok(Decision::Migrate(plan)) => {
            entry.planned.action = MapAction::Migrate;
            entry.migration = Some(Migration::new(handle, id, params, plan, origin));
        }
        Err(e) => refuse(&mut entry.planned, e.to_string()),
    }
    Ok(())
}

fn refuse(m: &mut PlannedMap, reason: String) {
    m.action = MapAction::Refuse;
    m.migration = None;
    m.reason = Some(reason);
}

/// For a planned migration: the programs left on the old map, whether the entries fit, and
/// every entry read and converted (nothing written).
fn check_migration(e: &mut Entry, progs_dir: &Path, replaced: &BTreeSet<String>) -> Result<()> {
    let Some(m) = &e.migration else {
        return Ok(());
    };
    if e.planned.action != MapAction::Migrate {
        return Ok(());
    }
    let name = e.planned.name.clone();
    let left = carry::users_left(m.old_id, progs_dir, replaced)?;
    if !left.is_empty() {
        let why = format!(
            "cannot be migrated: pinned programs not replaced by this load use it: {}",
            left.join(", ")
        );
        refuse(&mut e.planned, why);
        return Ok(());
    }
    let spec = m.spec(&e.params, carry::cpus()?, true);
    let scanned = migrate::scan_entries(m.old.as_fd(), &spec)
        .map_err(|err| err.to_string())
        .and_then(|c| carry::fits(c.entries, e.params.max_entries).map(|()| c.entries));
    match scanned {
        Ok(entries) => {
            e.planned.migration = Some(PlannedMigration {
                from_id: m.old_id,
                entries,
                changes: m.plan.changes.clone(),
            });
        }
        Err(why) => refuse(
            &mut e.planned,
            format!("map `{name}`: migrating its entries would fail: {why}"),
        ),
    }
    Ok(())
}
