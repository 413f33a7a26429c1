//! Parse -> encode round trips of the committed objects' `.BTF`, both byte orders.

use super::*;
use object::Endianness;

#[test]
fn every_fixture_round_trips_semantically() {
    for path in all_objects() {
        let raw = section(&path, ".BTF").expect(".BTF");
        let mut a = Btf::new();
        let app = a
            .append(&raw)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(app.base, 0);
        assert_eq!(app.count as usize, a.len() - 1);
        for endian in [Endianness::Little, Endianness::Big] {
            let enc = a.encode(endian);
            let mut b = Btf::new();
            b.append(&enc)
                .unwrap_or_else(|e| panic!("{}: re-parse: {e}", path.display()));
            assert_eq!(describe_all(&a), describe_all(&b), "{}", path.display());
            // Encoding what we parsed from our own output is byte-identical (stable order).
            assert_eq!(b.encode(endian), enc, "{}: not idempotent", path.display());
        }
    }
}

#[test]
fn type_section_bytes_equal_input() {
    // Same types and same string table order as clang's for the names the types use: the
    // type section is the input's byte for byte when offsets are translated back.
    for path in all_objects() {
        let raw = section(&path, ".BTF").expect(".BTF");
        let mut a = Btf::new();
        a.append(&raw).expect("parse");
        let enc = a.encode(Endianness::Little);
        let rd = |d: &[u8], o: usize| u32::from_le_bytes(d[o..o + 4].try_into().unwrap());
        let (in_types, out_types) = (
            &raw[24 + rd(&raw, 8) as usize..][..rd(&raw, 12) as usize],
            &enc[24..][..rd(&enc, 12) as usize],
        );
        assert_eq!(in_types.len(), out_types.len(), "{}", path.display());
        // Compare word by word; words that differ must be string offsets naming the same string.
        let in_strs = &raw[24 + rd(&raw, 16) as usize..][..rd(&raw, 20) as usize];
        let out_strs = &enc[24 + rd(&enc, 16) as usize..][..rd(&enc, 20) as usize];
        let cstr = |s: &[u8], o: u32| {
            let s = &s[o as usize..];
            s[..s.iter().position(|&b| b == 0).unwrap()].to_vec()
        };
        for o in (0..in_types.len()).step_by(4) {
            let (x, y) = (rd(in_types, o), rd(out_types, o));
            if x != y {
                assert_eq!(
                    cstr(in_strs, x),
                    cstr(out_strs, y),
                    "{}: word at {o} differs and is not the same string",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn bpftool_reads_the_encoding_identically() {
    for path in all_objects() {
        let Some(want) = bpftool(&path) else { return };
        let raw = section(&path, ".BTF").expect(".BTF");
        let mut a = Btf::new();
        a.append(&raw).expect("parse");
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let got = bpftool_dump(&a.encode(Endianness::Little), &name).expect("bpftool");
        assert_eq!(want, got, "{}", path.display());
        // libbpf reads non-native byte order too.
        let got = bpftool_dump(&a.encode(Endianness::Big), &name).expect("bpftool");
        assert_eq!(want, got, "{} (big-endian)", path.display());
    }
}

#[test]
fn big_endian_input_parses_like_little_endian() {
    for path in all_objects() {
        let raw = section(&path, ".BTF").expect(".BTF");
        let mut a = Btf::new();
        a.append(&raw).expect("parse");
        let be = a.encode(Endianness::Big);
        assert_eq!(&be[..2], &[0xeb, 0x9f]);
        let mut b = Btf::new();
        b.append(&be).expect("parse big-endian");
        assert_eq!(describe_all(&a), describe_all(&b));
    }
}

#[test]
fn header_and_string_table_layout() {
    let mut a = Btf::new();
    a.append(&btf_of("fixtures/seed/entry.o")).expect("parse");
    let enc = a.encode(Endianness::Little);
    assert_eq!(&enc[..4], &[0x9f, 0xeb, 1, 0]);
    let w = |o: usize| u32::from_le_bytes(enc[o..o + 4].try_into().unwrap()) as usize;
    assert_eq!(w(4), 24);
    assert_eq!(w(8), 0);
    assert_eq!(w(16), w(12), "strings right after types");
    assert_eq!(24 + w(16) + w(20), enc.len(), "no trailing bytes");
    assert_eq!(enc[24 + w(16)], 0, "string table starts with NUL");
    assert_eq!(*enc.last().unwrap(), 0, "string table ends with NUL");
}

#[test]
fn queries_on_seed() {
    let mut a = Btf::new();
    a.append(&btf_of("fixtures/seed/entry.o")).expect("parse");
    let find = |name: &str, kind: &str| {
        (1..a.len() as u32)
            .map(super::super::TypeId)
            .find(|&i| {
                let t = a.get(i).unwrap();
                a.str(t.name()) == name && t.kind_name() == kind
            })
            .unwrap_or_else(|| panic!("{kind} {name}"))
    };
    let xdp_md = find("xdp_md", "STRUCT");
    assert_eq!(a.size_of(xdp_md).unwrap(), 24);
    assert_eq!(a.display(xdp_md), "struct xdp_md");
    let u32t = find("__u32", "TYPEDEF");
    assert_eq!(a.display(u32t), "__u32");
    assert_eq!(a.size_of(u32t).unwrap(), 4);
    assert_eq!(
        a.str(a.get(a.skip_mods(u32t).unwrap()).unwrap().name()),
        "unsigned int"
    );
    let counters = find("counters", "VAR");
    assert_eq!(a.size_of(counters).unwrap(), 32);
    let lic = find("LICENSE", "VAR");
    assert_eq!(a.size_of(lic).unwrap(), 4);
    assert_eq!(a.display(lic), "char[4] LICENSE");
    let func = find("xdp_entry", "FUNC");
    assert_eq!(a.display(func), "int xdp_entry(struct xdp_md *)");
    assert!(a.size_of(func).is_err());
    // The map definition's members: `int (*type)[2]`, `__u32 *key`.
    let BtfType::Var { ty, .. } = a.get(counters).unwrap() else {
        panic!()
    };
    let BtfType::Struct { members, .. } = a.get(*ty).unwrap() else {
        panic!()
    };
    assert_eq!(a.display(members[0].ty), "int[2] *");
    assert_eq!(a.display(members[2].ty), "__u32 *");
    assert!(a.get(super::super::TypeId(9999)).is_err());
    assert_eq!(a.str(StrOff(u32::MAX)), "");
}

/// A clang `-target bpfeb` object parses like the LE one; bpftool reads our BE encoding the same.
#[test]
fn clang_big_endian_object() {
    let path = obj("src/btf/testdata/be/core.o");
    let raw = section(&path, ".BTF").unwrap();
    assert_eq!(&raw[..2], &[0xeb, 0x9f]);
    let mut a = Btf::new();
    let app = a.append(&raw).unwrap();
    let ext = section(&path, ".BTF.ext").unwrap();
    let e = super::super::ext::BtfExt::parse(&ext, &raw, app.base, &mut a).unwrap();
    assert!(!e.is_empty());
    let mut le = Btf::new();
    le.append(&btf_of("src/btf/testdata/core.o")).unwrap();
    assert_eq!(describe_all(&a), describe_all(&le));
    if let Some(want) = bpftool(&path) {
        let got = bpftool_dump(&a.encode(Endianness::Big), "be").unwrap();
        assert_eq!(want, got);
    }
}

/// Every kind (including ones clang 14 does not emit: ENUM64, signed enums, bitfield
/// kind_flag, union FWD, extern FUNC, varargs) survives encode -> parse, in both byte orders,
/// and bpftool reads it.
#[test]
fn every_kind_round_trips() {
    use super::super::{EnumValue, Member, Param, TypeId, VarSecinfo, FUNC_EXTERN, VAR_STATIC};
    let mut b = Btf::new();
    let n = |b: &mut Btf, s: &str| b.intern(s);
    let int_name = n(&mut b, "int");
    let int = b.push(BtfType::Int {
        name: int_name,
        size: 4,
        data: (1 << 24) | 32,
    });
    let e64 = n(&mut b, "e64");
    let (va, vb) = (n(&mut b, "A"), n(&mut b, "B"));
    b.push(BtfType::Enum64 {
        name: e64,
        size: 8,
        signed: true,
        values: vec![
            EnumValue {
                name: va,
                value: (-5i64) as u64,
            },
            EnumValue {
                name: vb,
                value: 0x1_0000_0000,
            },
        ],
    });
    let en = n(&mut b, "e32");
    b.push(BtfType::Enum {
        name: en,
        size: 4,
        signed: true,
        values: vec![EnumValue {
            name: va,
            value: (-1i64) as u64,
        }],
    });
    let fl = n(&mut b, "double");
    let dbl = b.push(BtfType::Float { name: fl, size: 8 });
    let un = n(&mut b, "u");
    let fwd = b.push(BtfType::Fwd {
        name: un,
        is_union: true,
    });
    let bits = n(&mut b, "bits");
    b.push(BtfType::Union {
        name: un,
        size: 8,
        kind_flag: true,
        members: vec![
            Member {
                name: bits,
                ty: int,
                offset: (3 << 24) | 5,
            },
            Member {
                name: fl,
                ty: dbl,
                offset: 0,
            },
        ],
    });
    let vol = b.push(BtfType::Volatile { ty: int });
    let res = b.push(BtfType::Restrict { ty: vol });
    let tt = n(&mut b, "user");
    let tag = b.push(BtfType::TypeTag { name: tt, ty: res });
    let p = b.push(BtfType::Ptr { ty: tag });
    let pf = b.push(BtfType::Ptr { ty: fwd });
    let proto = b.push(BtfType::FuncProto {
        ret: int,
        params: vec![
            Param { name: bits, ty: p },
            Param {
                name: StrOff(0),
                ty: TypeId(0),
            },
        ],
    });
    let fname = n(&mut b, "ext_fn");
    let func = b.push(BtfType::Func {
        name: fname,
        proto,
        linkage: FUNC_EXTERN,
    });
    let dt = n(&mut b, "dtag");
    b.push(BtfType::DeclTag {
        name: dt,
        ty: func,
        component_idx: 0,
    });
    let vname = n(&mut b, "v");
    let var = b.push(BtfType::Var {
        name: vname,
        ty: pf,
        linkage: VAR_STATIC,
    });
    let sec = n(&mut b, ".data");
    b.push(BtfType::Datasec {
        name: sec,
        size: 8,
        vars: vec![VarSecinfo {
            ty: var,
            offset: 0,
            size: 8,
        }],
    });
    assert_eq!(
        b.display(func),
        "int ext_fn(__attribute__((btf_type_tag(\"user\"))) restrict volatile int *, ...)"
    );
    for endian in [Endianness::Little, Endianness::Big] {
        let enc = b.encode(endian);
        let mut c = Btf::new();
        c.append(&enc).unwrap();
        assert_eq!(describe_all(&b), describe_all(&c));
        if let Some(d) = bpftool_dump(&enc, "kinds") {
            assert!(
                d.contains("ENUM64 'e64' encoding=SIGNED size=8 vlen=2"),
                "{d}"
            );
            assert!(d.contains("'A' val=-5LL"), "{d}");
            assert!(d.contains("'B' val=4294967296LL"), "{d}");
            assert!(
                d.contains("'bits' type_id=1 bits_offset=5 bitfield_size=3"),
                "{d}"
            );
            assert!(d.contains("FWD 'u' fwd_kind=union"), "{d}");
            assert!(d.contains("FUNC 'ext_fn' type_id=12 linkage=extern"), "{d}");
            assert!(
                d.contains("DECL_TAG 'dtag' type_id=13 component_idx=0"),
                "{d}"
            );
        }
    }
}
