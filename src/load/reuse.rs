//! Pinned-map reuse: takes an opened object, `DIR/maps` and the maps this load shares so far,
//! gives each of the object's `.maps` maps reused (`bpf_map__reuse_fd`, after the check of
//! [`decide`]: parameters, and key/value types where both sides have BTF), left to libbpf to
//! create, or — with `--migrate` — left to be created in place of the pinned map it migrates.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use libbpf_rs::{
    MapCore, MapFlags, MapHandle, MapInfo, MapType, OpenMap, OpenMapMut, OpenObject, Program,
};

use super::carry::Migration;
use super::compat::{Host, MapParams};
use super::decide::{self, Decision, Def, Subject};
use super::objects::SharedMap;
use super::{ffi, pindir};
use crate::error::{Error, Result};
use crate::migrate::{self, MapTypes};

/// What [`prepare_maps`] works with: the object, the pin dir, and the maps of this load.
pub struct MapsCtx<'a> {
    pub file: &'a str,
    pub maps_dir: &'a Path,
    pub host: &'a Host,
    pub migrate: bool,
    pub shared: &'a mut Vec<SharedMap>,
    pub by_name: &'a mut BTreeMap<String, usize>,
    /// Maps to be created in place of the pinned map of the same name, which they migrate.
    pub migrations: &'a mut BTreeMap<String, Migration>,
}

/// For each `.maps` map of `open`: reuse the same-named map of an earlier object or the one
/// pinned in `maps_dir` (after the compatibility check), else leave it to be created — also
/// when `--migrate` replaces the pinned map. Returns the names of the maps this object creates.
pub fn prepare_maps(open: &mut OpenObject, ctx: &mut MapsCtx<'_>) -> Result<Vec<String>> {
    let file = ctx.file;
    let btf = ffi::object_btf(open);
    let mut pending = Vec::new();
    for mut map in open.maps_mut() {
        let Some((name, def)) = shared_map_def(&mut map, file)? else {
            continue;
        };
        let types = object_types(btf.as_deref(), &map, &name, file)?;
        let def = Def {
            params: &def,
            types: types.as_ref(),
        };
        let index = match ctx.by_name.get(&name) {
            Some(&i) => i,
            None => match reuse_pinned(&name, def, ctx)? {
                Some(i) => i,
                None => {
                    pending.push(name);
                    continue;
                }
            },
        };
        let Some(existing) = ctx.shared.get_mut(index) else {
            return Err(Error::Load(format!(
                "map `{name}`: internal index out of range"
            )));
        };
        if !existing.objects.is_empty() {
            // A map created earlier in this load, or a pinned one already checked against an
            // earlier object's definition: check this one's.
            let live_types = kernel_types(&existing.handle, &name)?;
            let subject = Subject {
                map: &name,
                file,
                existing: &existing.origin,
                may_migrate: false,
            };
            let live = Def {
                params: &existing.params,
                types: live_types.as_ref(),
            };
            decide::decide(&subject, def, live, ctx.host)?;
        }
        map.reuse_fd(existing.handle.as_fd()).map_err(|e| {
            Error::Load(format!(
                "{file}: map `{name}`: reusing {}: {e}",
                existing.origin
            ))
        })?;
        existing.objects.push(file.to_string());
    }
    Ok(pending)
}

/// A `.maps` map that this load shares: its (checked) name and definition, libbpf's own
/// pinning switched off. `None` for maps that are not shared (global data, struct_ops, maps
/// switched off).
pub fn shared_map_def(map: &mut OpenMapMut<'_>, file: &str) -> Result<Option<(String, MapParams)>> {
    if ffi::is_internal(map) || map.map_type() == MapType::StructOps || !map.autocreate() {
        return Ok(None);
    }
    let name = map.name().to_str().ok_or_else(|| Error::BadPinName {
        kind: "map",
        name: map.name().to_string_lossy().into_owned(),
        file: file.to_string(),
        reason: "the name is not UTF-8",
    })?;
    let name = name.to_string();
    pindir::check_name("map", &name, file)?;
    ffi::clear_pin_path(map).map_err(|e| {
        Error::Load(format!(
            "{file}: map `{name}`: clearing libbpf's pin path: {e}"
        ))
    })?;
    let def = MapParams {
        map_type: u32::from(map.map_type()),
        key_size: map.key_size(),
        value_size: map.value_size(),
        max_entries: map.max_entries(),
        map_flags: map.map_flags(),
        map_extra: ffi::map_extra(map),
    };
    Ok(Some((name, def)))
}

/// The key and value types the object declares for `map` (`None` without BTF).
pub fn object_types(
    btf: Option<&[u8]>,
    map: &OpenMap<'_>,
    name: &str,
    file: &str,
) -> Result<Option<MapTypes>> {
    let (key, value) = ffi::map_btf_ids(map);
    match btf {
        Some(raw) if key != 0 || value != 0 => {
            migrate::types_in(raw, key, value).map(Some).map_err(|e| {
                Error::Load(format!(
                    "{file}: map `{name}`: reading its key and value types: {e}"
                ))
            })
        }
        _ => Ok(None),
    }
}

/// The key and value types the kernel holds for a live map (`None`: created without BTF).
pub fn kernel_types(handle: &MapHandle, name: &str) -> Result<Option<MapTypes>> {
    migrate::map_types(handle.as_fd()).map_err(|e| {
        Error::Load(format!(
            "map `{name}`: reading its key and value types from the kernel: {e}"
        ))
    })
}

/// The map pinned as `name`, when there is one and `def` may reuse it: its index in
/// `ctx.shared`. `None` when nothing is pinned, or when `--migrate` replaces it (the plan is
/// then in `ctx.migrations`).
fn reuse_pinned(name: &str, def: Def<'_>, ctx: &mut MapsCtx<'_>) -> Result<Option<usize>> {
    let pin_path = ctx.maps_dir.join(name);
    let Some(handle) = open_pinned_map(&pin_path)? else {
        return Ok(None);
    };
    let (id, params) = live_params(&handle, name)?;
    let live_types = kernel_types(&handle, name)?;
    let origin = format!("{}{}", decide::PINNED, pin_path.display());
    let subject = Subject {
        map: name,
        file: ctx.file,
        existing: &origin,
        may_migrate: ctx.migrate,
    };
    let live = Def {
        params: &params,
        types: live_types.as_ref(),
    };
    let compared = match decide::decide(&subject, def, live, ctx.host)? {
        Decision::Reuse(c) => c,
        Decision::Migrate(plan) => {
            let m = Migration::new(handle, id, params, plan, origin);
            ctx.migrations.insert(name.to_string(), m);
            return Ok(None);
        }
    };
    let slots_before = if params.map_type == u32::from(MapType::ProgArray) {
        Some(prog_array_slots(&handle, name)?)
    } else {
        None
    };
    ctx.by_name.insert(name.to_string(), ctx.shared.len());
    ctx.shared.push(SharedMap {
        slots_before,
        origin,
        pin_path,
        name: name.to_string(),
        handle,
        id,
        params,
        reused: true,
        objects: Vec::new(),
        inner_before: Vec::new(),
        compared,
        migration: None,
    });
    Ok(Some(ctx.shared.len() - 1))
}

/// The map pinned at `pin`, if any; an error when something else is pinned there.
pub fn open_pinned_map(pin: &Path) -> Result<Option<MapHandle>> {
    match pin.symlink_metadata() {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(pindir::io_error(pin, e)),
    }
    let handle = MapHandle::from_pinned_path(pin).map_err(|e| match e.kind() {
        libbpf_rs::ErrorKind::PermissionDenied => Error::NoPrivileges {
            action: format!("opening the pinned map {}", pin.display()),
            detail: e.to_string(),
        },
        _ => Error::Load(format!(
            "{}: cannot open the pinned map: {e}",
            pin.display()
        )),
    })?;
    let link = std::fs::read_link(format!("/proc/self/fd/{}", handle.as_fd().as_raw_fd()))
        .map_err(|e| {
            Error::Load(format!(
                "{}: cannot tell what is pinned there: {e}",
                pin.display()
            ))
        })?;
    if link.as_os_str() != "anon_inode:bpf-map" {
        return Err(Error::Load(format!(
            "{}: the object pinned there is not a map ({})",
            pin.display(),
            link.display()
        )));
    }
    Ok(Some(handle))
}

/// Kernel id and parameters of a live map.
pub fn live_params(handle: &MapHandle, name: &str) -> Result<(u32, MapParams)> {
    let info = MapInfo::new(handle.as_fd())
        .map_err(|e| Error::Load(format!("map `{name}`: cannot read its kernel info: {e}")))?
        .info;
    Ok((
        info.id,
        MapParams {
            map_type: info.type_,
            key_size: info.key_size,
            value_size: info.value_size,
            max_entries: info.max_entries,
            map_flags: info.map_flags,
            map_extra: info.map_extra,
        },
    ))
}

/// The programs in each slot of a prog array, each held by an fd so it stays alive.
fn prog_array_slots(map: &MapHandle, name: &str) -> Result<Vec<Option<OwnedFd>>> {
    let mut slots = Vec::new();
    for key in 0..map.max_entries() {
        let id = map
            .lookup(&key.to_ne_bytes(), MapFlags::ANY)
            .map_err(|e| Error::Load(format!("map `{name}`: reading slot {key}: {e}")))?;
        let fd = match id.as_deref().map(<[u8; 4]>::try_from) {
            Some(Ok(id)) => Program::fd_from_id(u32::from_ne_bytes(id)).ok(),
            _ => None,
        };
        slots.push(fd);
    }
    Ok(slots)
}
