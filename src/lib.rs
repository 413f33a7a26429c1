//! bpfmerge: link BPF objects so same-named maps become one map, and load objects reusing pinned maps.

pub mod btf;
pub mod error;
#[cfg(feature = "load")]
pub mod load;

use std::path::{Path, PathBuf};

pub use error::{Error, Result};

/// What a link merged (printed by `-v`, `--json`).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct LinkReport {
    pub output: PathBuf,
    pub inputs: Vec<String>,
}

impl LinkReport {
    pub fn to_text(&self) -> String {
        String::new()
    }
}

/// What `inspect` found.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct InspectReport {}

impl InspectReport {
    pub fn to_text(&self) -> String {
        String::new()
    }
}

/// Link the objects at `inputs` into `output` (written atomically; nothing written on error).
pub fn link_files(_inputs: &[PathBuf], _output: &Path) -> Result<LinkReport> {
    todo!()
}

/// Describe the objects at `inputs`.
pub fn inspect_files(_inputs: &[PathBuf]) -> Result<InspectReport> {
    todo!()
}
