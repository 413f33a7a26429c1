//! A pinned map's types as the kernel holds them: takes a map file descriptor, gives the shapes
//! of its key and value from the BTF it was created with (`None` when it has none), and the
//! number of possible CPUs for per-CPU values.

use std::os::fd::BorrowedFd;

use super::ffi;
use super::shape::{shape_of, Shape};
use crate::btf::{Btf, TypeId};

/// Key and value shapes of a map as created in the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapTypes {
    pub key: Option<Shape>,
    pub value: Option<Shape>,
}

/// The key and value shapes the kernel recorded for the map at `fd`: `Ok(None)` when the map
/// was created without BTF (then only sizes can be compared); a side the kernel has no type
/// for (id 0: some map types refuse key/value types) is `None`.
pub fn map_types(fd: BorrowedFd<'_>) -> Result<Option<MapTypes>, String> {
    let info = libbpf_rs::MapInfo::new(fd).map_err(|e| format!("map info: {e}"))?;
    let i = &info.info;
    if i.btf_id == 0 {
        return Ok(None);
    }
    let raw = ffi::kernel_btf(i.btf_id).map_err(|e| format!("BTF object {}: {e}", i.btf_id))?;
    types_in(&raw, i.btf_key_type_id, i.btf_value_type_id).map(Some)
}

/// The shapes of types `key` and `value` (0: none) of a raw `.BTF` blob.
pub fn types_in(raw: &[u8], key: u32, value: u32) -> Result<MapTypes, String> {
    let mut btf = Btf::new();
    let app = btf.append(raw).map_err(|e| e.to_string())?;
    let side = |id: u32| -> Result<Option<Shape>, String> {
        if id == 0 {
            return Ok(None);
        }
        if id > app.count {
            return Err(format!("type id {id} beyond the {} types", app.count));
        }
        shape_of(&btf, TypeId(app.base + id)).map(Some)
    };
    Ok(MapTypes {
        key: side(key)?,
        value: side(value)?,
    })
}

/// Number of possible CPUs (values per element of a per-CPU map).
pub fn possible_cpus() -> std::io::Result<usize> {
    ffi::possible_cpus()
}

/// The ids of the maps the loaded program at `fd` uses.
pub fn program_map_ids(fd: BorrowedFd<'_>) -> std::io::Result<Vec<u32>> {
    ffi::prog_map_ids(fd)
}
