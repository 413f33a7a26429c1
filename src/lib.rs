//! bpfmerge: link BPF objects so same-named maps become one map, and load objects reusing pinned maps.
//!
//! The link path is pure Rust: [`Linker`] (for build scripts), [`link_files`] / [`link_bytes`],
//! and the dry run [`check_files`] / [`check_bytes`]. The loader ([`load`]) sits behind
//! the default-on `load` feature.

pub mod btf;
mod datasec;
pub mod error;
mod ext_records;
mod fold;
pub mod input;
pub mod inspect;
mod layout;
mod link;
mod linker;
#[cfg(feature = "load")]
pub mod load;
pub mod mapdef;
pub mod maps;
pub mod migrate;
mod relocate;
mod resolve;
mod stream;
mod symtypes;
mod write;

pub use error::{Error, Result};
pub use link::{
    check_bytes, check_files, link_bytes, link_files, CheckReport, Conflict, InputReport,
    LinkReport, MapReport,
};
pub use linker::Linker;

pub use inspect::{inspect_bytes, inspect_files, InspectReport, ObjectInfo};
