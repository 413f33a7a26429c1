//! Map migration planning: takes a pinned map's key and value types and the ones an object
//! declares (as BTF), gives whether stored entries can be used as they are, converted (members
//! matched by name, integers widened or narrowed where no value is lost) or not at all, and
//! converts entries. The planning is pure; with the `load` feature, `kernel` reads a
//! map's types from the kernel and `copy` moves the entries between two maps.
//!
//! The rules (what `bpfmerge load --migrate` carries over):
//! - layouts are compared with typedefs and qualifiers looked through; member names, offsets,
//!   sizes, integer signedness and kinds must agree for the entries to be used as they are;
//! - struct members are matched by name: a member the new type adds is zeroed, one it removes
//!   is dropped (and reported), one that moved is moved;
//! - an integer (or enum) member may change size or signedness: each stored value is checked,
//!   and one that would not fit refuses the whole migration, naming the member and the value;
//! - an array may grow (new elements zeroed), never shrink; a bitfield moves bit for bit but
//!   keeps its width and type; floats keep their size; unions and pointers must not change;
//! - anonymous or repeated member names cannot be matched: such a type must stay the same.

mod convert;
#[cfg(feature = "load")]
mod copy;
#[cfg(feature = "load")]
mod ffi;
#[cfg(feature = "load")]
mod kernel;
mod plan;
mod shape;

#[cfg(test)]
mod tests;

pub use convert::{round8, Lost};
#[cfg(feature = "load")]
pub use copy::{copy_entries, count_entries, scan_entries, Copied, CopyError, CopySpec, Side};
#[cfg(feature = "load")]
pub use kernel::{map_types, possible_cpus, program_map_ids, types_in, MapTypes};
pub use plan::{compare, first_difference, Conversion, Verdict};
pub use shape::{shape_of, Field, Record, Shape};
