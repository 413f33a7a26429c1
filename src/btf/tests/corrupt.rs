//! Malformed inputs: every truncation, flipped bytes, huge vlen, bad offsets -> `Err`, never a
//! panic (a panic fails the test).

use super::*;
use object::Endianness;

fn set32(d: &mut [u8], off: usize, v: u32) {
    d[off..off + 4].copy_from_slice(&v.to_le_bytes());
}
fn get32(d: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(d[off..off + 4].try_into().unwrap())
}

fn err_text(data: &[u8]) -> String {
    match Btf::new().append(data) {
        Ok(_) => panic!("accepted malformed BTF"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_truncation_is_an_error() {
    for path in all_objects() {
        let raw = section(&path, ".BTF").unwrap();
        for len in 0..raw.len() {
            assert!(
                Btf::new().append(&raw[..len]).is_err(),
                "{} cut at {len}",
                path.display()
            );
        }
        // Shrinking type_len instead (header consistent, last type cut short).
        let mut d = raw.clone();
        let tl = get32(&d, 12);
        for cut in [1, 2, 4, 8] {
            set32(&mut d, 12, tl - cut);
            assert!(
                Btf::new().append(&d).is_err(),
                "{} type_len - {cut}",
                path.display()
            );
        }
    }
}

#[test]
fn flipped_bytes_never_panic() {
    for path in all_objects() {
        let raw = section(&path, ".BTF").unwrap();
        for i in 0..raw.len() {
            for mask in [0xff, 0x01, 0x80] {
                let mut d = raw.clone();
                d[i] ^= mask;
                if let Ok(mut btf) = Btf::new().append(&d).map(|_| ()).and_then(|_| {
                    let mut b = Btf::new();
                    b.append(&d)?;
                    Ok(b)
                }) {
                    // Whatever parses must be usable: queries, dedup, encode.
                    for id in 0..btf.len() as u32 {
                        let _ = btf.size_of(super::super::TypeId(id));
                        let _ = btf.display(super::super::TypeId(id));
                    }
                    let eq = btf.equivalence();
                    btf.compact(&eq, &[]);
                    let _ = btf.encode(Endianness::Big);
                }
            }
        }
        // A pseudo-random sample of multi-byte corruptions.
        let mut seed: u64 = 0x1234_5678;
        for _ in 0..2000 {
            let mut d = raw.clone();
            for _ in 0..4 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let at = (seed >> 33) as usize % d.len();
                d[at] = (seed >> 17) as u8;
            }
            let _ = Btf::new().append(&d);
        }
    }
}

#[test]
fn header_errors_say_what_is_wrong() {
    let raw = btf_of("fixtures/seed/entry.o");
    let mut d = raw.clone();
    d[0] = 0;
    assert!(err_text(&d).contains("magic"));
    let mut d = raw.clone();
    d[2] = 2;
    assert!(err_text(&d).contains("version 2"));
    let mut d = raw.clone();
    set32(&mut d, 4, 1_000_000);
    assert!(err_text(&d).contains("header length"));
    let mut d = raw.clone();
    set32(&mut d, 4, 32);
    assert!(err_text(&d).contains("non-zero bytes"));
    let mut d = raw.clone();
    set32(&mut d, 8, 2);
    assert!(err_text(&d).contains("aligned"));
    let mut d = raw.clone();
    set32(&mut d, 20, get32(&raw, 20) + 1);
    assert!(err_text(&d).contains("string section"));
    let mut d = raw.clone();
    set32(&mut d, 16, 0);
    assert!(err_text(&d).contains("overlaps"));
    let e = err_text(&[0x9f, 0xeb, 1]);
    assert!(e.contains("truncated"), "{e}");
    assert!(e.starts_with("section .BTF:"), "{e}");
}

/// Raw BTF with `words` as the type section and "\0a\0" as the strings.
fn one(words: &[u32]) -> Vec<u8> {
    let mut d = vec![0x9f, 0xeb, 1, 0];
    let tl = (words.len() * 4) as u32;
    for w in [24, 0, tl, tl, 3] {
        d.extend_from_slice(&u32::to_le_bytes(w));
    }
    for w in words {
        d.extend_from_slice(&w.to_le_bytes());
    }
    d.extend_from_slice(b"\0a\0");
    d
}

#[test]
fn type_errors_say_what_is_wrong() {
    let int = [1, 1 << 24, 4, 32];
    assert!(Btf::new().append(&one(&int)).is_ok());
    // Huge vlen: a struct claiming 65535 members in a 12-byte type section.
    let e = err_text(&one(&[1, (4 << 24) | 0xffff, 8]));
    assert!(e.contains("vlen 65535") && e.contains("STRUCT"), "{e}");
    // Unknown kinds.
    let e = err_text(&one(&[0, 20 << 24, 0]));
    assert!(e.contains("unknown kind 20"), "{e}");
    let e = err_text(&one(&[0, 0, 0]));
    assert!(e.contains("unknown kind 0"), "{e}");
    // Name offset outside the string section.
    let e = err_text(&one(&[99, 1 << 24, 4, 32]));
    assert!(e.contains("string offset 99"), "{e}");
    // Reference beyond the section's types, with the member named.
    let e = err_text(&one(&[
        1,
        1 << 24,
        4,
        32, // [1] int
        1,
        (4 << 24) | 2,
        8,
        1,
        1,
        0,
        1,
        9999,
        32, // [2] struct, member 1 -> 9999
    ]));
    assert!(
        e.contains("type [2] STRUCT member 1 references type 9999 beyond the 2 types"),
        "{e}"
    );
    let e = err_text(&one(&[0, 2 << 24, 3]));
    assert!(
        e.contains("type [1] PTR type references type 3 beyond the 1 types"),
        "{e}"
    );
    // Reserved bits, stray vlen, kind_flag where it means nothing.
    assert!(err_text(&one(&[0, (2 << 24) | (1 << 16), 0])).contains("reserved"));
    assert!(err_text(&one(&[0, (2 << 24) | 1, 0])).contains("vlen 1"));
    assert!(err_text(&one(&[1, (1 << 24) | (1 << 31), 4, 32])).contains("kind_flag"));
    // A string section whose last string lacks its NUL.
    let mut d = one(&int);
    *d.last_mut().unwrap() = b'b';
    assert!(err_text(&d).contains("end with NUL"));
    // A failed append leaves the container's types as they were.
    let mut b = Btf::new();
    b.append(&one(&int)).unwrap();
    assert!(b.append(&one(&[0, 2 << 24, 3])).is_err());
    assert_eq!(b.len(), 2);
    let app = b.append(&one(&int)).unwrap();
    assert_eq!((app.base, app.count), (1, 1));
}
