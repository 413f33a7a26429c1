//! bpfmerge: link BPF objects so same-named maps become one map, and load objects reusing pinned maps.
//!
//! The link path is pure Rust: [`link_files`] / [`link_bytes`]. The loader ([`load`]) sits behind
//! the default-on `load` feature.

pub mod btf;
mod datasec;
pub mod error;
pub mod input;
pub mod inspect;
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

pub use inspect::{inspect_bytes, inspect_files, InspectReport, ObjectInfo};
