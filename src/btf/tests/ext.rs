//! `.BTF.ext`: parse / encode round trips on the fixtures, merge, remap, malformed input.

use super::super::ext::{BtfExt, ExtSection};
use super::super::TypeId;
use super::*;
use object::Endianness;

/// `.BTF` and `.BTF.ext` of the seed scenario's `entry.o`.
fn seed_entry_btf() -> (Vec<u8>, Vec<u8>) {
    let path = obj("fixtures/seed/entry.o");
    let raw = section(&path, ".BTF").unwrap();
    let raw_ext = section(&path, ".BTF.ext").unwrap();
    (raw, raw_ext)
}

/// Append `raw` to `btf` and parse its `.BTF.ext` against the appended types.
fn append_with_ext(btf: &mut Btf, raw: &[u8], raw_ext: &[u8]) -> BtfExt {
    let app = btf.append(raw).unwrap();
    BtfExt::parse(raw_ext, raw, app.base, btf).unwrap()
}

/// Records of `ext` with strings resolved through `btf`, section by section.
fn text(btf: &Btf, ext: &BtfExt) -> Vec<String> {
    ext.sections
        .iter()
        .map(|s: &ExtSection| {
            let f: Vec<_> = s
                .func_info
                .iter()
                .map(|r| (r.insn_off, describe(btf, btf.get(r.ty).unwrap())))
                .collect();
            let l: Vec<_> = s
                .line_info
                .iter()
                .map(|r| {
                    (
                        r.insn_off,
                        btf.str(r.file_name),
                        btf.str(r.line),
                        r.line_col,
                    )
                })
                .collect();
            let c: Vec<_> = s
                .core_relos
                .iter()
                .map(|r| {
                    (
                        r.insn_off,
                        describe(btf, btf.get(r.ty).unwrap()),
                        btf.str(r.access),
                        r.kind,
                    )
                })
                .collect();
            format!("{} {f:?} {l:?} {c:?}", btf.str(s.name))
        })
        .collect()
}

#[test]
fn fixtures_round_trip() {
    for path in all_objects() {
        let raw = section(&path, ".BTF").unwrap();
        let Some(raw_ext) = section(&path, ".BTF.ext") else {
            continue;
        };
        let mut btf = Btf::new();
        let app = btf.append(&raw).unwrap();
        let ext = BtfExt::parse(&raw_ext, &raw, app.base, &mut btf)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!ext.is_empty());
        assert!(ext
            .sections
            .iter()
            .all(|s| !s.func_info.is_empty() && !s.line_info.is_empty()));
        let want = text(&btf, &ext);
        for endian in [Endianness::Little, Endianness::Big] {
            let enc_btf = btf.encode(endian);
            let enc_ext = ext.encode(endian);
            assert_eq!(ext.encoded_len(), enc_ext.len(), "{}", path.display());
            let mut btf2 = Btf::new();
            let app2 = btf2.append(&enc_btf).unwrap();
            let ext2 = BtfExt::parse(&enc_ext, &enc_btf, app2.base, &mut btf2).unwrap();
            assert_eq!(want, text(&btf2, &ext2), "{}", path.display());
            assert_eq!(ext2.encode(endian), enc_ext, "idempotent");
        }
    }
}

#[test]
fn core_relocations_and_layout() {
    let path = obj("src/btf/testdata/core.o");
    let raw = section(&path, ".BTF").unwrap();
    let raw_ext = section(&path, ".BTF.ext").unwrap();
    let mut btf = Btf::new();
    // Appended second: ids shift.
    btf.append(&btf_of("fixtures/seed/entry.o")).unwrap();
    let app = btf.append(&raw).unwrap();
    assert_eq!(app.base, 27);
    let ext = BtfExt::parse(&raw_ext, &raw, app.base, &mut btf).unwrap();
    let names: Vec<&str> = ext.sections.iter().map(|s| btf.str(s.name)).collect();
    assert_eq!(names, ["kprobe/x", ".text", "kprobe/y"], "first-seen order");
    let relos: Vec<_> = ext
        .sections
        .iter()
        .flat_map(|s| s.core_relos.iter())
        .collect();
    assert!(relos.len() >= 3, "{relos:?}");
    for r in &relos {
        assert!(r.ty.0 > app.base, "shifted");
        assert_eq!(btf.display(r.ty), "struct task");
        assert!(btf.str(r.access).starts_with("0:"));
    }
    let f = &ext.sections[1].func_info[0];
    assert_eq!(btf.str(btf.get(f.ty).unwrap().name()), "get_pid");
    assert!(ext.sections[0]
        .line_info
        .iter()
        .any(|l| btf.str(l.file_name).ends_with("core.c")));

    let enc = ext.encode(Endianness::Little);
    let w = |o: usize| u32::from_le_bytes(enc[o..o + 4].try_into().unwrap());
    assert_eq!(&enc[..4], &[0x9f, 0xeb, 1, 0]);
    assert_eq!(w(4), 32);
    assert_eq!(w(8), 0);
    assert_eq!(w(16), w(12), "line_info right after func_info");
    assert_eq!(w(24), w(16) + w(20), "core_relo right after line_info");
    assert_eq!(32 + w(24) + w(28), enc.len() as u32);
    assert_eq!(w(32), 8, "func_info rec_size");
    assert_eq!(w(32 + w(16) as usize), 16, "line_info rec_size");
    assert_eq!(w(32 + w(24) as usize), 16, "core_relo rec_size");
}

#[test]
fn merge_remap_and_empty_parts() {
    let (raw, raw_ext) = seed_entry_btf();
    let mut btf = Btf::new();
    let ea = append_with_ext(&mut btf, &raw, &raw_ext);
    let eb = append_with_ext(&mut btf, &raw, &raw_ext);
    let mut all = BtfExt::default();
    all.merge(&ea, |_| 0);
    all.merge(&eb, |_| 1000);
    assert_eq!(all.sections.len(), 1, "one `xdp` section");
    let s = &all.sections[0];
    assert_eq!(s.func_info.len(), 2);
    assert_eq!(
        s.func_info[1].insn_off,
        ea.sections[0].func_info[0].insn_off + 1000
    );
    assert_eq!(s.line_info.len(), 2 * ea.sections[0].line_info.len());
    let eq = btf.equivalence();
    let remap = btf.compact(&eq, &[]);
    all.remap_types(&remap);
    assert_eq!(
        all.sections[0].func_info[0].ty,
        all.sections[0].func_info[1].ty
    );
    assert!(matches!(
        btf.get(all.sections[0].func_info[0].ty).unwrap(),
        BtfType::Func { .. }
    ));
    // No CO-RE relocations: the core part has length 0 and no record size.
    let enc = all.encode(Endianness::Little);
    let w = |o: usize| u32::from_le_bytes(enc[o..o + 4].try_into().unwrap());
    assert_eq!(w(28), 0);
    assert_eq!(32 + w(16) + w(20), enc.len() as u32);
    // Nothing at all: is_empty.
    assert!(BtfExt::default().is_empty());
    let e = BtfExt {
        sections: vec![ExtSection::default()],
    };
    assert!(e.is_empty());
    assert_eq!(e.encode(Endianness::Little).len(), 32);
}

#[test]
fn malformed_ext_is_an_error() {
    for path in all_objects() {
        let raw = section(&path, ".BTF").unwrap();
        let Some(raw_ext) = section(&path, ".BTF.ext") else {
            continue;
        };
        let mut btf = Btf::new();
        let app = btf.append(&raw).unwrap();
        for len in 0..raw_ext.len() {
            let r = BtfExt::parse(&raw_ext[..len], &raw, app.base, &mut btf);
            assert!(r.is_err(), "{} cut at {len}", path.display());
        }
        for i in 0..raw_ext.len() {
            for mask in [0xff, 0x01, 0x80] {
                let mut d = raw_ext.clone();
                d[i] ^= mask;
                let _ = BtfExt::parse(&d, &raw, app.base, &mut btf);
            }
        }
        // Record size smaller than known: rejected. Larger: honoured.
        let func_off = 32 + u32::from_le_bytes(raw_ext[8..12].try_into().unwrap()) as usize;
        let mut d = raw_ext.clone();
        d[func_off..func_off + 4].copy_from_slice(&4u32.to_le_bytes());
        let e = BtfExt::parse(&d, &raw, app.base, &mut btf)
            .unwrap_err()
            .to_string();
        assert!(e.contains("func_info record size 4"), "{e}");
        assert!(e.starts_with("section .BTF.ext:"), "{e}");
    }
    // Type id beyond the object's types.
    let path = obj("fixtures/seed/entry.o");
    let raw = section(&path, ".BTF").unwrap();
    let mut d = section(&path, ".BTF.ext").unwrap();
    let func_off = 32 + u32::from_le_bytes(d[8..12].try_into().unwrap()) as usize;
    // rec_size, sec_name, num_info, insn_off, type_id
    d[func_off + 16..func_off + 20].copy_from_slice(&500u32.to_le_bytes());
    let mut btf = Btf::new();
    let app = btf.append(&raw).unwrap();
    btf.append(&raw).unwrap();
    let e = BtfExt::parse(&d, &raw, app.base, &mut btf)
        .unwrap_err()
        .to_string();
    assert!(e.contains("type 500 beyond the 27 types"), "{e}");
    // func_info naming a non-FUNC type.
    d[func_off + 16..func_off + 20].copy_from_slice(&2u32.to_le_bytes());
    let e = BtfExt::parse(&d, &raw, app.base, &mut btf)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a FUNC"), "{e}");
}

#[test]
fn larger_record_size_is_honoured() {
    // Re-encode the core.o ext with 24-byte line_info records (8 bytes of padding each).
    let path = obj("src/btf/testdata/core.o");
    let raw = section(&path, ".BTF").unwrap();
    let raw_ext = section(&path, ".BTF.ext").unwrap();
    let mut btf = Btf::new();
    let app = btf.append(&raw).unwrap();
    let ext = BtfExt::parse(&raw_ext, &raw, app.base, &mut btf).unwrap();
    let enc_btf = btf.encode(Endianness::Little);
    let enc = ext.encode(Endianness::Little);
    let w = |d: &[u8], o: usize| u32::from_le_bytes(d[o..o + 4].try_into().unwrap());
    let (lo, ll) = (32 + w(&enc, 16) as usize, w(&enc, 20) as usize);
    let mut part = Vec::new();
    part.extend_from_slice(&24u32.to_le_bytes());
    let mut pos = lo + 4;
    while pos < lo + ll {
        let n = w(&enc, pos + 4) as usize;
        part.extend_from_slice(&enc[pos..pos + 8]);
        for i in 0..n {
            part.extend_from_slice(&enc[pos + 8 + 16 * i..pos + 24 + 16 * i]);
            part.extend_from_slice(&[0xaa; 8]);
        }
        pos += 8 + 16 * n;
    }
    let mut d = enc[..lo].to_vec();
    d.extend_from_slice(&part);
    d.extend_from_slice(&enc[lo + ll..]);
    let grow = (part.len() - ll) as u32;
    d[20..24].copy_from_slice(&(ll as u32 + grow).to_le_bytes());
    let core_off = w(&enc, 24) + grow;
    d[24..28].copy_from_slice(&core_off.to_le_bytes());
    let mut btf2 = Btf::new();
    let app2 = btf2.append(&enc_btf).unwrap();
    let ext2 = BtfExt::parse(&d, &enc_btf, app2.base, &mut btf2).unwrap();
    assert_eq!(text(&btf, &ext), text(&btf2, &ext2));
    let _ = TypeId(0);
}

/// Records past the 64 KiB a piece holds: the writer gets them in pieces of at most a little
/// more than that, `encoded_len` is their total, and the pieces parse back to the records.
#[test]
fn encoding_in_pieces_round_trips() {
    let (raw, raw_ext) = seed_entry_btf();
    let mut btf = Btf::new();
    let one = append_with_ext(&mut btf, &raw, &raw_ext);
    let mut all = BtfExt::default();
    let per_copy = 8 * one.sections[0].func_info.len() + 16 * one.sections[0].line_info.len();
    let copies = (3 << 16) / per_copy + 1;
    for k in 0..copies {
        all.merge(&one, |_| 8 * k as u32);
    }
    for endian in [Endianness::Little, Endianness::Big] {
        let mut pieces = Vec::new();
        all.encode_chunks(endian, &mut |p| pieces.push(p.to_vec()));
        assert!(pieces.len() >= 3, "{} pieces", pieces.len());
        assert!(pieces.iter().all(|p| p.len() <= (1 << 16) + 64));
        let bytes = pieces.concat();
        assert_eq!(bytes.len(), all.encoded_len());
        // Names and types are the container's: read back against its encoding.
        let enc_btf = btf.encode(endian);
        let mut btf2 = Btf::new();
        let app2 = btf2.append(&enc_btf).unwrap();
        let back = BtfExt::parse(&bytes, &enc_btf, app2.base, &mut btf2).unwrap();
        assert!(text(&btf2, &back) == text(&btf, &all), "records differ");
    }
}
