//! bpfmerge: link BPF objects so same-named maps become one map, and load objects reusing pinned maps.

pub mod btf;
pub mod error;

pub use error::{Error, Result};
