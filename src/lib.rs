//! bpfmerge: link BPF objects so same-named maps become one map, and load objects reusing pinned maps.
//!
//! The link path is pure Rust: [`link_files`] / [`link_bytes`]. The loader ([`load`]) sits behind
//! the default-on `load` feature.

pub mod btf;
mod datasec;
pub mod error;
pub mod input;
mod layout;
mod link;
#[cfg(feature = "load")]
pub mod load;
pub mod maps;
mod relocate;
mod resolve;
mod write;

pub use error::{Error, Result};
pub use link::{link_bytes, link_files, InputReport, LinkReport, MapReport};

/// What `inspect` found.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct InspectReport {}

impl InspectReport {
    pub fn to_text(&self) -> String {
        String::new()
    }
}

/// Describe the objects at `inputs`.
pub fn inspect_files(_inputs: &[std::path::PathBuf]) -> Result<InspectReport> {
    Err(Error::Usage("inspect is not implemented yet".into()))
}
