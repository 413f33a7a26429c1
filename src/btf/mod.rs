//! BTF and `.BTF.ext`: takes raw sections of many objects, gives one merged, deduplicated,
//! encoded `.BTF` (and `.BTF.ext`) with type ids remapped.
//!
//! Flow used by the linker:
//! 1. `Btf::new()`, then `append(data)` for each input's `.BTF` (ids shifted by the returned base,
//!    names re-interned into one string table), and `ext::BtfExt::parse(..)` for each `.BTF.ext`
//!    (merged per section with `BtfExt::merge`, instruction offsets shifted).
//! 2. `equivalence()` — structural equivalence classes (used to compare map key/value types).
//! 3. The linker pushes rebuilt DATASECs, and lists redirects (dropped VAR/FUNC -> survivor,
//!    old DATASEC -> removed).
//! 4. `compact(&eq, &redirects)` -> `TypeRemap`; `BtfExt::remap_types(&remap)`.
//! 5. `encode(endian)`; `BtfExt::encode_chunks(endian, sink)` (the writer streams it).

mod dedup;
mod encode;
pub mod ext;
mod hash;
mod intern;
mod kind;
mod parse;
mod pool;
mod query;
mod raw;
mod record;
mod strings;
mod types;

#[cfg(test)]
mod tests;

/// The fast hash tables of the link stages (see hash.rs for why hash flooding is no risk).
pub use hash::{FastBuild, FastHasher, FastMap, FastSet};
pub use types::*;
