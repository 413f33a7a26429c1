//! Run-time loader (libbpf-rs): takes objects and a pin dir, gives loaded programs with maps
//! shared by name through pins and `bpf_map__reuse_fd`. API CONTRACT (stub).

use std::path::{Path, PathBuf};

use crate::error::Result;

/// Options of `load`.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Pin directory; default `/sys/fs/bpf/bpfmerge/<stem of first object>`.
    pub pin_dir: Option<PathBuf>,
}

/// One map after `load`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadedMap {
    pub name: String,
    pub id: u32,
    pub pin_path: PathBuf,
    pub reused: bool,
}

/// One program after `load`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadedProg {
    pub name: String,
    pub section: String,
    pub id: u32,
    pub pin_path: PathBuf,
}

/// What `load` did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadReport {
    pub pin_dir: PathBuf,
    pub maps: Vec<LoadedMap>,
    pub progs: Vec<LoadedProg>,
}

impl LoadReport {
    pub fn to_text(&self) -> String {
        todo!()
    }
}

/// What `unload` removed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct UnloadReport {
    pub removed: Vec<PathBuf>,
}

impl UnloadReport {
    pub fn to_text(&self) -> String {
        todo!()
    }
}

/// Load `objects` one after another, reusing maps pinned under `DIR/maps`, then pin.
pub fn load(_objects: &[PathBuf], _opts: &LoadOptions) -> Result<LoadReport> {
    todo!()
}

/// Remove program pins (and map pins with `maps`) under `pin_dir`, then empty directories.
pub fn unload(_pin_dir: &Path, _maps: bool) -> Result<UnloadReport> {
    todo!()
}
