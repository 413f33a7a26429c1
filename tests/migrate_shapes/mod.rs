//! The value layouts of the migration copy tests and benchmark (shared by tests/migrate_copy.rs
//! and benches/migrate.rs): takes sizes and members, gives `migrate::Shape`s, the v1 -> v2
//! conversion, and fresh kernel maps to copy between.

#![allow(dead_code)]

use bpfmerge::migrate::{self, Field, Record, Shape, Verdict};
use libbpf_rs::{MapHandle, MapType};

/// An unsigned integer of `size` bytes, named as clang names `__u32` / `__u64`.
pub fn uint(size: u32) -> Shape {
    Shape::Int {
        name: if size == 4 {
            "unsigned int"
        } else {
            "unsigned long long"
        }
        .into(),
        size,
        signed: false,
    }
}

/// `struct stats` of `size` bytes with unsigned members (name, byte offset, size).
pub fn record(size: u32, fields: &[(&str, u32, u32)]) -> Shape {
    Shape::Struct(Record {
        name: "stats".into(),
        size,
        fields: fields
            .iter()
            .map(|&(name, byte, sz)| Field {
                name: name.into(),
                bit_offset: byte * 8,
                bitfield: None,
                shape: uint(sz),
            })
            .collect(),
    })
}

/// v1: struct stats { __u32 hits; __u32 gone; __u64 bytes; } (16 bytes)
pub fn v1() -> Shape {
    record(16, &[("hits", 0, 4), ("gone", 4, 4), ("bytes", 8, 8)])
}

/// v2: struct stats { __u64 bytes; __u64 hits; __u32 added; } (24 bytes): `gone` removed,
/// `added` added, `hits` widened, `bytes` moved to the front.
pub fn v2() -> Shape {
    record(24, &[("bytes", 0, 8), ("hits", 8, 8), ("added", 16, 4)])
}

/// The conversion from `old` to `new`, which must exist.
pub fn conversion(old: &Shape, new: &Shape) -> migrate::Conversion {
    match migrate::compare(old, new) {
        Verdict::Convert(c) => c,
        other => panic!("expected a conversion: {other:?}"),
    }
}

/// A new map (4-byte keys) without BTF; creating one needs root.
pub fn create(ty: MapType, name: &str, value_size: u32, max: u32) -> MapHandle {
    let opts = libbpf_rs::libbpf_sys::bpf_map_create_opts {
        sz: std::mem::size_of::<libbpf_rs::libbpf_sys::bpf_map_create_opts>() as _,
        ..Default::default()
    };
    MapHandle::create(ty, Some(name), 4, value_size, max, &opts)
        .unwrap_or_else(|e| panic!("cannot create map {name} (root needed): {e}"))
}

/// A copy between maps with 4-byte keys whose values (`old` bytes, `new` bytes) go through
/// `conv`; `percpu` as `CopySpec::percpu`.
pub fn value_spec(
    conv: &migrate::Conversion,
    old: u32,
    new: u32,
    percpu: Option<usize>,
    batched: bool,
) -> migrate::CopySpec<'_> {
    let side = |value_size| migrate::Side {
        key_size: 4,
        value_size,
    };
    migrate::CopySpec {
        old: side(old),
        new: side(new),
        percpu,
        key: None,
        value: Some(conv),
        batched,
    }
}
