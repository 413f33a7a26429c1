//! Tests of migration planning: every expected byte below is worked out by hand from the
//! layouts written in each test.

use super::*;
use crate::btf::{Btf, BtfType, Member, TypeId};

fn int(name: &str, size: u32, signed: bool) -> Shape {
    Shape::Int {
        name: name.into(),
        size,
        signed,
    }
}
fn u32s() -> Shape {
    int("unsigned int", 4, false)
}
fn u64s() -> Shape {
    int("unsigned long long", 8, false)
}
fn s64s() -> Shape {
    int("long long", 8, true)
}
fn field(name: &str, byte: u32, shape: Shape) -> Field {
    Field {
        name: name.into(),
        bit_offset: byte * 8,
        bitfield: None,
        shape,
    }
}
fn st(name: &str, size: u32, fields: Vec<Field>) -> Shape {
    Shape::Struct(Record {
        name: name.into(),
        size,
        fields,
    })
}
fn conversion(old: &Shape, new: &Shape) -> Conversion {
    match compare(old, new) {
        Verdict::Convert(c) => c,
        other => panic!("expected a conversion, got {other:?}"),
    }
}
fn refusal(old: &Shape, new: &Shape) -> String {
    match compare(old, new) {
        Verdict::Refused(why) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}
fn le(parts: &[(u64, usize)]) -> Vec<u8> {
    parts
        .iter()
        .flat_map(|&(v, n)| v.to_le_bytes()[..n].to_vec())
        .collect()
}

#[test]
fn identical_layouts_are_the_same() {
    let v = st(
        "vals",
        8,
        vec![field("a", 0, u32s()), field("b", 4, u32s())],
    );
    assert!(matches!(compare(&v, &v.clone()), Verdict::Same));
    assert_eq!(first_difference(&v, &v.clone()), None);
}

#[test]
fn reordered_members_differ_and_convert_by_name() {
    // struct { __u32 a; __u32 b; } -> struct { __u32 b; __u32 a; }: same size, every byte means
    // something else.
    let old = st(
        "vals",
        8,
        vec![field("a", 0, u32s()), field("b", 4, u32s())],
    );
    let new = st(
        "vals",
        8,
        vec![field("b", 0, u32s()), field("a", 4, u32s())],
    );
    let diff = first_difference(&old, &new).expect("a difference");
    assert!(
        diff.contains("member 0 is `a` in the pinned map, `b` in the object"),
        "{diff}"
    );
    let c = conversion(&old, &new);
    let mut out = vec![0xffu8; 8];
    c.convert(&le(&[(1, 4), (2, 4)]), &mut out).unwrap();
    // a=1 moves to bytes 4..8, b=2 to bytes 0..4.
    assert_eq!(out, le(&[(2, 4), (1, 4)]));
}

#[test]
fn a_member_whose_type_changed_at_equal_size_is_named() {
    // __u64 bytes -> __s64 delta (renamed and re-typed, same size)
    let old = st("stat", 8, vec![field("bytes", 0, u64s())]);
    let new = st("stat", 8, vec![field("delta", 0, s64s())]);
    let diff = first_difference(&old, &new).unwrap();
    assert!(
        diff.contains("`bytes`") && diff.contains("`delta`"),
        "{diff}"
    );
    // Same name, other signedness: named with both types.
    let new = st("stat", 8, vec![field("bytes", 0, s64s())]);
    let diff = first_difference(&old, &new).unwrap();
    assert!(
        diff.contains("member `bytes`: unsigned long long (8 bytes) vs long long (8 bytes)"),
        "{diff}"
    );
}

#[test]
fn v1_to_v2_adds_removes_moves_and_widens() {
    // v1: struct { __u32 hits; __u32 gone; __u64 bytes; __u32 drops; } (24 bytes with padding)
    // v2: struct { __u64 bytes; __u64 hits; __u32 drops; __u32 added; } (24 bytes)
    let old = st(
        "v",
        24,
        vec![
            field("hits", 0, u32s()),
            field("gone", 4, u32s()),
            field("bytes", 8, u64s()),
            field("drops", 16, u32s()),
        ],
    );
    let new = st(
        "v",
        24,
        vec![
            field("bytes", 0, u64s()),
            field("hits", 8, u64s()),
            field("drops", 16, u32s()),
            field("added", 20, u32s()),
        ],
    );
    let c = conversion(&old, &new);
    assert!(
        c.mapping.contains(&"added: added (zeroed)".to_string()),
        "{:?}",
        c.mapping
    );
    assert!(
        c.mapping.contains(&"gone: removed (dropped)".to_string()),
        "{:?}",
        c.mapping
    );
    assert!(
        c.mapping
            .contains(&"hits: unsigned int -> unsigned long long".to_string()),
        "{:?}",
        c.mapping
    );
    let stored = le(&[(7, 4), (99, 4), (1 << 40, 8), (3, 4), (0, 4)]);
    let mut out = vec![0xaa; 24];
    c.convert(&stored, &mut out).unwrap();
    assert_eq!(out, le(&[(1 << 40, 8), (7, 8), (3, 4), (0, 4)]));
}

#[test]
fn narrowing_keeps_values_that_fit_and_names_one_that_does_not() {
    let old = st("v", 8, vec![field("n", 0, u64s())]);
    let new = st("v", 4, vec![field("n", 0, u32s())]);
    let c = conversion(&old, &new);
    let mut out = vec![0; 4];
    c.convert(&le(&[(4_000_000_000, 8)]), &mut out).unwrap();
    assert_eq!(out, le(&[(4_000_000_000, 4)]));
    let lost = c.convert(&le(&[(1 << 33, 8)]), &mut out).unwrap_err();
    assert_eq!(lost.member, "n");
    assert_eq!(lost.value, 1 << 33);
    assert!(lost.to_string().contains("holds 8589934592"), "{lost}");
}

#[test]
fn signed_to_unsigned_refuses_negative_values_and_sign_extends_when_widening() {
    let s32 = int("int", 4, true);
    let old = st("v", 4, vec![field("d", 0, s32.clone())]);
    let wide = st("v", 8, vec![field("d", 0, s64s())]);
    let c = conversion(&old, &wide);
    let mut out = vec![0; 8];
    c.convert(&(-5i32).to_le_bytes(), &mut out).unwrap();
    assert_eq!(out, (-5i64).to_le_bytes());
    let unsigned = st("v", 4, vec![field("d", 0, u32s())]);
    let c = conversion(&old, &unsigned);
    let mut out = vec![0; 4];
    assert_eq!(
        c.convert(&(-1i32).to_le_bytes(), &mut out)
            .unwrap_err()
            .value,
        -1
    );
    c.convert(&12i32.to_le_bytes(), &mut out).unwrap();
    assert_eq!(out, 12u32.to_le_bytes());
}

#[test]
fn per_cpu_values_convert_at_each_cpus_stride() {
    // 12-byte old value (stride 16), 16-byte new value (stride 16); 3 CPUs.
    let old = st("v", 12, vec![field("a", 0, u32s()), field("b", 4, u64s())]);
    let new = st("v", 16, vec![field("b", 0, u64s()), field("a", 8, u64s())]);
    let c = conversion(&old, &new);
    assert_eq!((round8(12), round8(16)), (16, 16));
    let mut stored = Vec::new();
    for cpu in 0..3u64 {
        stored.extend(le(&[(cpu + 1, 4), (100 + cpu, 8), (0xdead, 4)]));
    }
    let mut out = vec![0; 48];
    c.convert_percpu(&stored, &mut out, 3).unwrap();
    let mut want = Vec::new();
    for cpu in 0..3u64 {
        want.extend(le(&[(100 + cpu, 8), (cpu + 1, 8)]));
    }
    assert_eq!(out, want);
}

#[test]
fn what_cannot_follow_is_refused_with_the_member() {
    let un = |f: Vec<Field>| {
        Shape::Union(Record {
            name: "u".into(),
            size: 8,
            fields: f,
        })
    };
    let old = st("v", 8, vec![field("u", 0, un(vec![field("x", 0, u64s())]))]);
    let new = st("v", 8, vec![field("u", 0, un(vec![field("y", 0, u64s())]))]);
    assert!(refusal(&old, &new).contains("member `u`: union u cannot be converted"));
    let arr = |n| Shape::Array {
        elem: Box::new(u32s()),
        len: n,
    };
    let old = st("v", 16, vec![field("slots", 0, arr(4))]);
    let grown = st("v", 32, vec![field("slots", 0, arr(8))]);
    let c = conversion(&old, &grown);
    let mut out = vec![0xff; 32];
    c.convert(&le(&[(1, 4), (2, 4), (3, 4), (4, 4)]), &mut out)
        .unwrap();
    assert_eq!(out, le(&[(1, 4), (2, 4), (3, 4), (4, 4), (0, 8), (0, 8)]));
    assert!(refusal(&grown, &old).contains("array shrinks from 8 to 4"));
    let anon = st("v", 8, vec![field("", 0, u64s())]);
    let named = st("v", 8, vec![field("x", 0, u64s())]);
    assert!(refusal(&anon, &named).contains("anonymous member"));
    let f = Shape::Float {
        name: "double".into(),
        size: 8,
    };
    let old = st("v", 8, vec![field("x", 0, f)]);
    assert!(refusal(&old, &named)
        .contains("member `x`: double cannot be converted to unsigned long long"));
}

#[test]
fn bitfields_move_bit_for_bit() {
    let bf = |name: &str, bit: u32, width: u32| Field {
        name: name.into(),
        bit_offset: bit,
        bitfield: Some(width),
        shape: u32s(),
    };
    let old = st("v", 4, vec![bf("lo", 0, 3), bf("hi", 3, 5)]);
    let new = st("v", 4, vec![bf("hi", 0, 5), bf("lo", 5, 3)]);
    let c = conversion(&old, &new);
    let mut out = vec![0; 4];
    // lo = 0b101, hi = 0b10011: old byte = hi << 3 | lo = 0b1001_1101
    c.convert(&[0b1001_1101, 0, 0, 0], &mut out).unwrap();
    // new byte = lo << 5 | hi = 0b1011_0011
    assert_eq!(out, [0b1011_0011, 0, 0, 0]);
    let wider = st("v", 4, vec![bf("hi", 0, 6), bf("lo", 6, 3)]);
    assert!(refusal(&old, &wider).contains("bitfield unsigned int:5 cannot be converted"));
}

#[test]
fn shapes_from_btf_look_through_typedefs_and_read_bitfields() {
    let mut btf = Btf::new();
    let uint = btf.intern("unsigned int");
    let u32_id = btf.push(BtfType::Int {
        name: uint,
        size: 4,
        data: 32,
    });
    let tname = btf.intern("__u32");
    let td = btf.push(BtfType::Typedef {
        name: tname,
        ty: u32_id,
    });
    let cst = btf.push(BtfType::Const { ty: td });
    let (a, b, s) = (btf.intern("a"), btf.intern("b"), btf.intern("vals"));
    let st_id = btf.push(BtfType::Struct {
        name: s,
        size: 8,
        kind_flag: true,
        members: vec![
            Member {
                name: a,
                ty: cst,
                offset: 0,
            },
            Member {
                name: b,
                ty: u32_id,
                offset: (3 << 24) | 32,
            },
        ],
    });
    let shape = shape_of(&btf, st_id).unwrap();
    let want = st(
        "vals",
        8,
        vec![
            field("a", 0, u32s()),
            Field {
                name: "b".into(),
                bit_offset: 32,
                bitfield: Some(3),
                shape: u32s(),
            },
        ],
    );
    assert_eq!(shape, want);
    assert!(shape_of(&btf, TypeId(0))
        .unwrap_err()
        .contains("no data layout"));
    assert!(shape_of(&btf, TypeId(99)).is_err());
}

#[test]
fn an_enum_that_gained_a_value_differs_by_its_values_and_copies_as_is() {
    let e = |n: usize| Shape::Enum {
        name: "proto".into(),
        size: 4,
        signed: false,
        values: [("TCP", 6), ("UDP", 17), ("ICMP", 1)][..n]
            .iter()
            .map(|&(k, v)| (k.to_string(), v))
            .collect(),
    };
    let old = st("vals", 4, vec![field("p", 0, e(2))]);
    let new = st("vals", 4, vec![field("p", 0, e(3))]);
    assert_eq!(
        first_difference(&old, &new).as_deref(),
        Some("member `p`: enum proto: its values differ (2 in the pinned map, 3 in the object)")
    );
    // Same size and signedness: the stored value is copied unchanged, nothing to report.
    let c = conversion(&old, &new);
    assert!(c.mapping.is_empty(), "{:?}", c.mapping);
    let mut out = [0u8; 4];
    c.convert(&17u32.to_le_bytes(), &mut out).unwrap();
    assert_eq!(out, 17u32.to_le_bytes());
}
