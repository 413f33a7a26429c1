//! Loading objects one after another: takes object paths and `DIR/maps`, gives every object
//! loaded into the kernel with same-named `.maps` maps shared (pinned ones reused after a
//! compatibility check, see [`reuse`](super::reuse); new ones created by the first object that
//! has them; with `--migrate`, new ones created in place of pinned ones whose definition
//! changed, still empty: [`carry`](super::carry) fills them). Pins nothing.
//!
//! Each object is first read by [`prepare`]: an object with `static` map definitions is opened
//! from a copy in which they are global (libbpf refuses static maps), and its map-in-map
//! `.values` initialisers are written here into the outer maps it reuses (libbpf writes them
//! only into maps it creates). Slots changed in maps pinned before this load are remembered
//! and put back when the load fails, for prog arrays (which libbpf fills) and map-in-maps alike.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use libbpf_rs::{
    MapCore, MapFlags, MapHandle, MapMut, MapType, Object, ObjectBuilder, OpenObject, Program,
    ProgramHandle, ProgramMut,
};

use super::carry::Migration;
use super::compat::{Host, MapParams};
use super::decide::Compared;
use super::fold::{self, FoldedProgram};
use super::libbpf_log::{self, Capture};
use super::prepare::{self, InnerInit, Prepared};
use super::reuse::{live_params, prepare_maps, MapsCtx};
use super::{ffi, pindir};
use crate::error::{Error, Result};

/// One shared (`.maps`) map: pinned before this load, or created by one of its objects.
pub struct SharedMap {
    pub name: String,
    pub handle: MapHandle,
    pub id: u32,
    pub params: MapParams,
    /// Taken from an existing pin in `DIR/maps`.
    pub reused: bool,
    pub pin_path: PathBuf,
    /// For error messages: "the map pinned at ..." / "the map created by ...".
    pub origin: String,
    /// The objects of this load that use the map, in load order.
    pub objects: Vec<String>,
    /// For a reused pinned prog array: its slots before this load, each holding a reference
    /// to the program that was there (so it can be put back if the load fails).
    pub slots_before: Option<Vec<Option<OwnedFd>>>,
    /// For a reused pinned map-in-map: each slot this load wrote from a `.values` initialiser,
    /// with the inner map it held before (its id and a reference keeping it alive), so it can
    /// be put back if the load fails.
    pub inner_before: Vec<(u32, Option<(u32, MapHandle)>)>,
    /// How a reused pinned map was compared with the definitions (`None` for a new map).
    pub compared: Compared,
    /// `--migrate`: the pinned map whose entries this new map takes over.
    pub migration: Option<Migration>,
}

/// One loaded program, not yet pinned.
pub struct LoadedProgram {
    pub name: String,
    pub section: String,
    pub object: String,
    /// Index of its object in [`Loaded`] (for libbpf's attach functions).
    obj_index: usize,
    pub handle: ProgramHandle,
}

/// A struct_ops map of a loaded object (not shared, not pinned: registered by `--attach`).
pub struct StructOpsMap {
    pub name: String,
    /// `.struct_ops.link` (libbpf created it with `BPF_F_LINK`) or `.struct_ops`.
    pub section: &'static str,
    obj_index: usize,
}

/// Everything one `load` put into the kernel. Dropping it (without pinning) releases it all.
pub struct Loaded {
    pub maps: Vec<SharedMap>,
    pub progs: Vec<LoadedProgram>,
    pub struct_ops: Vec<StructOpsMap>,
    /// Programs identical to a same-named one of an earlier object: loaded, not pinned.
    pub folded: Vec<FoldedProgram>,
    /// Kept alive until the pins exist (they also hold the per-object global-data maps).
    objects: Vec<Object>,
}

impl Loaded {
    /// libbpf's view of program `i` of [`Loaded::progs`], for its attach functions.
    pub fn program(&self, i: usize) -> Option<Program<'_>> {
        let p = self.progs.get(i)?;
        self.objects
            .get(p.obj_index)?
            .progs()
            .find(|q| q.name().to_str() == Some(p.name.as_str()))
    }

    /// The program's or struct_ops map's (name, section), for the attach plan: the programs,
    /// then the struct_ops maps.
    pub fn attachables(&self) -> Vec<(&str, &str)> {
        let progs = self
            .progs
            .iter()
            .map(|p| (p.name.as_str(), p.section.as_str()));
        let ops = self.struct_ops.iter().map(|m| (m.name.as_str(), m.section));
        progs.chain(ops).collect()
    }

    /// Struct_ops map `i` of [`Loaded::struct_ops`], for libbpf's attach and update functions.
    pub fn struct_ops_mut(&mut self, i: usize) -> Option<MapMut<'_>> {
        let m = self.struct_ops.get(i)?;
        self.objects
            .get_mut(m.obj_index)?
            .maps_mut()
            .find(|q| q.name().to_str() == Some(m.name.as_str()))
    }

    /// The same, mutable (libbpf's attach functions want it so).
    pub fn program_mut(&mut self, i: usize) -> Option<ProgramMut<'_>> {
        let p = self.progs.get(i)?;
        self.objects
            .get_mut(p.obj_index)?
            .progs_mut()
            .find(|q| q.name().to_str() == Some(p.name.as_str()))
    }
}

/// Load `objects` in order, sharing maps by name through `maps_dir` pins and each other. On
/// failure, slots of reused pinned prog arrays that libbpf filled from `.values` are restored.
pub fn load_all(
    objects: &[PathBuf],
    dirs: &Dirs<'_>,
    log: &Capture,
    migrate: bool,
) -> Result<Loaded> {
    let mut shared = Vec::new();
    match load_each(objects, dirs, log, migrate, &mut shared) {
        Ok(Each {
            progs,
            folded,
            objects: loaded,
        }) => Ok(Loaded {
            maps: shared,
            progs,
            folded,
            struct_ops: struct_ops_maps(&loaded),
            objects: loaded,
        }),
        Err(e) => {
            restore_slots(&shared);
            Err(e)
        }
    }
}

/// The map and program pin directories of a load.
#[derive(Clone, Copy)]
pub struct Dirs<'a> {
    pub maps: &'a Path,
    pub progs: &'a Path,
}

/// What the running system does to map definitions.
pub fn host() -> Host {
    Host {
        possible_cpus: libbpf_rs::num_possible_cpus()
            .ok()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(1),
        page_size: ffi::page_size(),
    }
}

fn load_each(
    objects: &[PathBuf],
    dirs: &Dirs<'_>,
    log: &Capture,
    migrate: bool,
    shared: &mut Vec<SharedMap>,
) -> Result<Each> {
    let (maps_dir, progs_dir) = (dirs.maps, dirs.progs);
    let host = host();
    let mut migrations: BTreeMap<String, Migration> = BTreeMap::new();
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    let mut prog_owner = Owners::new();
    let mut progs = Vec::new();
    let mut folded = Vec::new();
    let mut loaded = Vec::new();
    for path in objects {
        let file = path.display().to_string();
        let (mut open, prepared) = open_object(path, log)?;
        let object_folds = check_programs(&open, path, progs_dir, &mut prog_owner)?;
        let mut ctx = MapsCtx {
            file: &file,
            maps_dir,
            host: &host,
            migrate,
            shared,
            by_name: &mut by_name,
            migrations: &mut migrations,
        };
        let pending = prepare_maps(&mut open, &mut ctx)?;
        let inner_inits = inner_inits(prepared, &open, &pending, &file)?;
        let obj = open.load().map_err(|e| load_error(&file, &e, log))?;
        let ctx = Created {
            file: &file,
            maps_dir,
            shared,
            by_name: &mut by_name,
            migrations: &mut migrations,
        };
        record_created_maps(&obj, &pending, ctx)?;
        init_reused_map_in_maps(&obj, &file, &inner_inits, &pending, shared, &by_name)?;
        collect_programs(&obj, &file, loaded.len(), &object_folds, &mut progs)?;
        folded.extend(object_folds);
        loaded.push(obj);
    }
    Ok(Each {
        progs,
        folded,
        objects: loaded,
    })
}

/// What [`load_each`] loaded.
struct Each {
    progs: Vec<LoadedProgram>,
    folded: Vec<FoldedProgram>,
    objects: Vec<Object>,
}

/// The map-in-map initialisers bpfmerge writes itself; an object it could not prepare (read)
/// is fine unless a reused map-in-map needs them.
fn inner_inits(
    prepared: Result<Prepared>,
    open: &OpenObject,
    pending: &[String],
    file: &str,
) -> Result<Vec<InnerInit>> {
    match prepared {
        Ok(p) => Ok(p.inner_inits),
        Err(e) => match reused_map_in_map(open, pending) {
            Some(outer) => Err(Error::Load(format!(
                "{file}: map `{outer}` is reused, so its `.values` initialisers (if any) \
                 must be written by bpfmerge, which cannot read the object: {e}"
            ))),
            None => Ok(Vec::new()),
        },
    }
}

/// Where the maps an object created are recorded.
struct Created<'a> {
    file: &'a str,
    maps_dir: &'a Path,
    shared: &'a mut Vec<SharedMap>,
    by_name: &'a mut BTreeMap<String, usize>,
    migrations: &'a mut BTreeMap<String, Migration>,
}

/// Record each map the object created (`pending`: not reused) as shared under its name, with
/// the migration planned for it, if any.
fn record_created_maps(obj: &Object, pending: &[String], ctx: Created<'_>) -> Result<()> {
    let file = ctx.file;
    for name in pending.iter().cloned() {
        let map = obj
            .maps()
            .find(|m| m.name().to_str() == Some(name.as_str()))
            .ok_or_else(|| Error::Load(format!("{file}: map `{name}` vanished while loading")))?;
        let handle = MapHandle::try_from(&map)
            .map_err(|e| Error::Load(format!("{file}: map `{name}`: {e}")))?;
        let (id, params) = live_params(&handle, &name)?;
        ctx.by_name.insert(name.clone(), ctx.shared.len());
        let migration = ctx.migrations.remove(&name);
        ctx.shared.push(SharedMap {
            pin_path: ctx.maps_dir.join(&name),
            name,
            handle,
            id,
            params,
            reused: false,
            origin: format!("the map created by {file}"),
            objects: vec![file.to_string()],
            slots_before: None,
            inner_before: Vec::new(),
            compared: Compared::None,
            migration,
        });
    }
    Ok(())
}

/// The object's loaded programs (those libbpf loaded), in order, but for the copies `folded`
/// into an earlier object's program.
fn collect_programs(
    obj: &Object,
    file: &str,
    obj_index: usize,
    folded: &[FoldedProgram],
    progs: &mut Vec<LoadedProgram>,
) -> Result<()> {
    for prog in obj.progs_mut() {
        if !prog.autoload() {
            continue;
        }
        let name = prog.name().to_string_lossy().into_owned();
        if folded.iter().any(|f| f.name == name) {
            continue;
        }
        let handle = ProgramHandle::try_from(&prog)
            .map_err(|e| Error::Load(format!("{file}: program `{name}`: {e}")))?;
        progs.push(LoadedProgram {
            section: prog.section().to_string_lossy().into_owned(),
            name,
            object: file.to_string(),
            obj_index,
            handle,
        });
    }
    Ok(())
}

/// Open the object at `path` with libbpf: from a patched copy when it has `static` map
/// definitions (see [`prepare`]); also gives what `prepare` found (or why it could not read
/// the object).
pub fn open_object(path: &Path, log: &Capture) -> Result<(OpenObject, Result<Prepared>)> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|err| Error::Io {
        path: path.to_path_buf(),
        err,
    })?;
    // When bpfmerge cannot read the object, libbpf has its say (it opens the file as is);
    // the reason matters only if the object turns out to need what `prepare` finds.
    let prepared = prepare::prepare(&file, &bytes);
    let _ = log.take();
    let mut builder = ObjectBuilder::default();
    let opened = match &prepared {
        Ok(Prepared {
            patched: Some(copy),
            ..
        }) => builder
            .name(prepare::libbpf_object_name(path))
            .and_then(|b| b.open_memory(copy)),
        _ => builder.open_file(path),
    };
    let open = opened.map_err(|e| Error::BadObject {
        file: file.clone(),
        reason: format!("libbpf cannot open it: {e}{}", libbpf_tail(log)),
    })?;
    Ok((open, prepared))
}

/// The struct_ops maps of the loaded objects, in load order.
fn struct_ops_maps(objects: &[Object]) -> Vec<StructOpsMap> {
    let mut out = Vec::new();
    for (obj_index, obj) in objects.iter().enumerate() {
        for m in obj.maps().filter(|m| m.map_type() == MapType::StructOps) {
            let linked = (ffi::loaded_map_flags(&m) & libbpf_rs::libbpf_sys::BPF_F_LINK) != 0;
            out.push(StructOpsMap {
                name: m.name().to_string_lossy().into_owned(),
                section: if linked {
                    ".struct_ops.link"
                } else {
                    ".struct_ops"
                },
                obj_index,
            });
        }
    }
    out
}

/// Which object of a `load` first defined each program name (its pin is that one's).
pub type Owners = BTreeMap<String, PathBuf>;

/// Program names become pin names: they must be valid and unique across the objects, except
/// that a later object's program identical to the same-named one of an earlier object folds
/// into it (see [`fold`]): it is returned, loaded but never pinned.
pub fn check_programs(
    open: &OpenObject,
    path: &Path,
    progs_dir: &Path,
    owner: &mut Owners,
) -> Result<Vec<FoldedProgram>> {
    let file = path.display().to_string();
    let mut folded = Vec::new();
    for prog in open.progs() {
        if !prog.autoload() {
            continue;
        }
        let name = prog.name().to_str().ok_or_else(|| Error::BadPinName {
            kind: "program",
            name: prog.name().to_string_lossy().into_owned(),
            file: file.clone(),
            reason: "the name is not UTF-8",
        })?;
        pindir::check_name("program", name, &file)?;
        let Some(first) = owner.get(name) else {
            owner.insert(name.to_string(), path.to_path_buf());
            continue;
        };
        if let Some(diff) = fold::first_difference(first, path, name)? {
            return Err(Error::Load(format!(
                "program `{name}` is defined in both {} and {file}, and the definitions \
                 differ: {diff}; only one of them can be pinned at {}",
                first.display(),
                progs_dir.join(name).display()
            )));
        }
        folded.push(FoldedProgram {
            name: name.to_string(),
            object: file.clone(),
            kept: first.display().to_string(),
        });
    }
    Ok(folded)
}

fn libbpf_tail(log: &Capture) -> String {
    let tail = libbpf_log::tail(&log.take(), 8);
    if tail.is_empty() {
        String::new()
    } else {
        format!("\n{tail}")
    }
}

/// Turn a failed `bpf_object__load` into the precise error: the verifier log of the program
/// that was refused, missing privileges, or libbpf's own last words.
fn load_error(file: &str, e: &libbpf_rs::Error, log: &Capture) -> Error {
    let text = log.take();
    if let Some((program, log)) = libbpf_log::failed_program(&text) {
        return Error::Verifier {
            file: file.to_string(),
            program,
            log,
        };
    }
    let tail = libbpf_log::tail(&text, 8);
    // As root, a refusal without a verifier log is the kernel's rule for this kind of program
    // (tracing and LSM programs need BTF trampolines, which some kernels do not allow).
    if let (true, Some((program, reason))) = (is_root(), libbpf_log::refused_program(&text)) {
        return Error::Load(format!(
            "{file}: program `{program}` was refused by the kernel: {reason} (bpfmerge runs as \
             root, so this kernel does not allow this kind of program here); nothing was \
             attached, no pin was created or changed\n{tail}"
        ));
    }
    if e.kind() == libbpf_rs::ErrorKind::PermissionDenied {
        return Error::NoPrivileges {
            action: format!("loading {file}"),
            detail: format!("{e}\n{tail}"),
        };
    }
    Error::Load(format!(
        "{file}: libbpf could not load the object: {e}\n{tail}"
    ))
}

fn is_root() -> bool {
    ffi::euid_is_root()
}

fn is_map_in_map(t: MapType) -> bool {
    matches!(t, MapType::ArrayOfMaps | MapType::HashOfMaps)
}

/// The first map-in-map of `open` that it reuses (not among the maps it creates), if any.
fn reused_map_in_map(open: &OpenObject, pending: &[String]) -> Option<String> {
    open.maps()
        .filter(|m| !ffi::is_internal(m) && m.autocreate() && is_map_in_map(m.map_type()))
        .map(|m| m.name().to_string_lossy().into_owned())
        .find(|name| !pending.contains(name))
}

/// The id of the map (inner map of a map-in-map) or program (prog array) in slot `key` of
/// `map`; None when the slot is empty.
fn slot_id(map: &MapHandle, key: u32) -> libbpf_rs::Result<Option<u32>> {
    Ok(map
        .lookup(&key.to_ne_bytes(), MapFlags::ANY)?
        .as_deref()
        .and_then(|v| <[u8; 4]>::try_from(v).ok())
        .map(u32::from_ne_bytes))
}

/// Write the map-in-map initialisers of the object just loaded (`obj`, from `file`) into the
/// outer maps it reused: libbpf writes them only into the outer maps it creates (those in
/// `pending`). For an outer map pinned before this load, the slot's old inner map is
/// remembered first (once per slot), so that [`restore_slots`] can put it back.
fn init_reused_map_in_maps(
    obj: &Object,
    file: &str,
    inits: &[InnerInit],
    pending: &[String],
    shared: &mut [SharedMap],
    by_name: &BTreeMap<String, usize>,
) -> Result<()> {
    for init in inits {
        if pending.contains(&init.outer) {
            continue;
        }
        // Not shared: switched off (autocreate false) or not a `.maps` map; libbpf's business.
        let Some(outer) = by_name.get(&init.outer).and_then(|&i| shared.get_mut(i)) else {
            continue;
        };
        let what = || {
            format!(
                "{file}: map `{}`: setting slot {} to map `{}` (its `.values` initialiser)",
                init.outer, init.slot, init.inner
            )
        };
        let inner = obj
            .maps()
            .find(|m| m.name().to_str() == Some(init.inner.as_str()))
            .ok_or_else(|| Error::Load(format!("{}: the object has no such map", what())))?;
        let key = init.slot.to_ne_bytes();
        if outer.reused && !outer.inner_before.iter().any(|(k, _)| *k == init.slot) {
            let old = slot_id(&outer.handle, init.slot)
                .map_err(|e| Error::Load(format!("{}: reading the slot: {e}", what())))?
                .map(|id| {
                    MapHandle::from_map_id(id)
                        .map(|h| (id, h))
                        .map_err(|e| Error::Load(format!("{}: holding map id {id}: {e}", what())))
                })
                .transpose()?;
            outer.inner_before.push((init.slot, old));
        }
        let fd = u32::try_from(inner.as_fd().as_raw_fd()).unwrap_or(u32::MAX);
        outer
            .handle
            .update(&key, &fd.to_ne_bytes(), MapFlags::ANY)
            .map_err(|e| Error::Load(format!("{}: {e}", what())))?;
    }
    Ok(())
}

/// Put back the slots of reused pinned maps that changed during a failed load: prog arrays
/// (libbpf writes `.values` initialisers into them right after an object's programs load) and
/// map-in-maps (bpfmerge writes them, [`init_reused_map_in_maps`]).
pub fn restore_slots(maps: &[SharedMap]) {
    restore_prog_arrays(maps);
    for map in maps {
        for (key, old) in &map.inner_before {
            let now = slot_id(&map.handle, *key).ok().flatten();
            if now == old.as_ref().map(|(id, _)| *id) {
                continue;
            }
            let key_bytes = key.to_ne_bytes();
            let _ = match old {
                Some((_, inner)) => {
                    let raw = u32::try_from(inner.as_fd().as_raw_fd()).unwrap_or(u32::MAX);
                    map.handle
                        .update(&key_bytes, &raw.to_ne_bytes(), MapFlags::ANY)
                }
                None => map.handle.delete(&key_bytes),
            };
        }
    }
}

/// Put back the slots of reused pinned prog arrays that changed during a failed load (libbpf
/// writes `.values` initialisers into them right after an object's programs load).
fn restore_prog_arrays(maps: &[SharedMap]) {
    for map in maps {
        let Some(before) = &map.slots_before else {
            continue;
        };
        for (key, old) in (0u32..).zip(before) {
            let key_bytes = key.to_ne_bytes();
            let now = map.handle.lookup(&key_bytes, MapFlags::ANY).ok().flatten();
            let old_id = old
                .as_ref()
                .and_then(|fd| Program::id_from_fd(fd.as_fd()).ok());
            let now_id = now
                .as_deref()
                .and_then(|v| <[u8; 4]>::try_from(v).ok())
                .map(u32::from_ne_bytes);
            if old_id == now_id {
                continue;
            }
            let _ = match old {
                Some(fd) => {
                    let raw = u32::try_from(fd.as_raw_fd()).unwrap_or(u32::MAX);
                    map.handle
                        .update(&key_bytes, &raw.to_ne_bytes(), MapFlags::ANY)
                }
                None => map.handle.delete(&key_bytes),
            };
        }
    }
}
