//! Map definitions whose key/value types are spelled through different typedefs (`u32` as in
//! vmlinux.h, `__u32` as in linux/types.h) are one map: the comparison looks through typedefs
//! and modifiers, as libbpf's linker does. A genuinely different key type is still refused.

mod common;

use common::{
    bpfmerge, elf_summary, find_map, find_prog, fixture, for_each_compiler, load, run_packet,
    TempDir,
};
use libbpf_rs::{MapCore, MapFlags};

#[test]
fn typedef_spellings_merge_into_one_map() {
    for_each_compiler(typedef_spellings_merge_into_one_map_body);
}

fn typedef_spellings_merge_into_one_map_body() {
    let dir = TempDir::new("typedef_spellings_merge_into_one_map");
    let out = dir.join("merged.o");
    let vm = fixture("typedef_keys/vmlinux_style");
    let uapi = fixture("typedef_keys/uapi_style");
    let r = bpfmerge(&[
        vm.as_os_str(),
        uapi.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(r.code, Some(0), "link failed: {}", r.stderr);
    let elf = elf_summary(&out);
    let flows: Vec<_> = elf.symbols.iter().filter(|s| s.name == "flows").collect();
    assert_eq!(flows.len(), 1, "one `flows` symbol: {flows:?}");

    if !common::kernel_ready("typedef_spellings_merge_into_one_map") {
        return;
    }
    let obj = load(&out);
    let objs = [obj];
    // xdp_vm inserts {1, 2} -> 1 through the vmlinux-style definition; xdp_uapi finds the entry
    // through the uapi-style one (returns XDP_PASS = 2, not XDP_DROP = 1) and adds 1.
    assert_eq!(run_packet(&find_prog(&objs, "xdp_vm")), 2);
    assert_eq!(run_packet(&find_prog(&objs, "xdp_uapi")), 2);
    let map = find_map(&objs, "flows");
    let mut key = [0u8; 8];
    key[..4].copy_from_slice(&1u32.to_ne_bytes());
    key[4..].copy_from_slice(&2u32.to_ne_bytes());
    let v = map
        .lookup(&key, MapFlags::ANY)
        .expect("lookup")
        .expect("the entry xdp_vm inserted");
    assert_eq!(u64::from_ne_bytes(v[..8].try_into().expect("8 bytes")), 2);
}

#[test]
fn different_key_structs_still_conflict() {
    for_each_compiler(different_key_structs_still_conflict_body);
}

fn different_key_structs_still_conflict_body() {
    // conflict_key_type: `struct key_v4` and `struct key_ports`, both 4 bytes: not one type.
    let dir = TempDir::new("different_key_structs_still_conflict");
    let out = dir.join("merged.o");
    let a = fixture("conflict_key_type/v4");
    let b = fixture("conflict_key_type/ports");
    let r = bpfmerge(&[a.as_os_str(), b.as_os_str(), "-o".as_ref(), out.as_os_str()]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("key type"), "{}", r.stderr);
    assert!(!out.exists());
}
