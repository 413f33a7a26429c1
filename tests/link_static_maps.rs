//! Static map definitions reached through the `.maps` section symbol plus an addend — clang's
//! form for a static map at a non-zero offset, in code and in `.values` — link into global maps
//! whose references and initialisers point at the right map.

mod common;

use common::{
    bpfmerge, find_map, find_prog, for_each_compiler, load, run_packet, support_object, TempDir,
};
use libbpf_rs::{MapCore, MapFlags};

fn read_u64(map: &dyn MapCore, key: u32) -> Option<u64> {
    let v = map.lookup(&key.to_ne_bytes(), MapFlags::ANY).ok()??;
    Some(u64::from_ne_bytes(v.get(..8)?.try_into().ok()?))
}

#[test]
fn static_maps_at_offsets_and_static_initialisers() {
    for_each_compiler(static_maps_at_offsets_and_static_initialisers_body);
}

fn static_maps_at_offsets_and_static_initialisers_body() {
    let dir = TempDir::new("static_maps_at_offsets_and_static_initialisers");
    let out = dir.join("merged.o");
    let input = support_object("static_offsets.o");
    let r = bpfmerge(&[input.as_os_str(), "-o".as_ref(), out.as_os_str()]);
    assert_eq!(r.code, Some(0), "link failed: {}", r.stderr);
    if !common::kernel_ready("static_maps_at_offsets_and_static_initialisers") {
        return;
    }
    let objs = [load(&out)];
    // xdp_offsets returns XDP_PASS (2) only when nest[1] holds an inner map, which only the
    // `.values` initialiser (section symbol + offset of `second`) puts there.
    assert_eq!(run_packet(&find_prog(&objs, "xdp_offsets")), 2);
    // glob[0] += 1, first[0] += 2, and `second` gets 3 directly plus 4 through nest[1]: each
    // section-relative reference reached its own map.
    assert_eq!(read_u64(&find_map(&objs, "glob"), 0), Some(1));
    assert_eq!(read_u64(&find_map(&objs, "first"), 0), Some(2));
    assert_eq!(read_u64(&find_map(&objs, "second"), 0), Some(7));
}
