//! Identical strong definitions fold (docs/link.md, "Identical definitions fold"), in the
//! kernel: programs from both files call the one folded subprogram and see the one folded
//! `const volatile` knob, set from user space before loading (as a skeleton sets rodata).

mod common;

use common::{
    bpfmerge, elf_summary, find_map, find_prog, fixture, for_each_compiler, run_packet, TempDir,
};
use libbpf_rs::{MapCore, MapFlags, ObjectBuilder};

fn read_u64(map: &dyn MapCore, key: u32) -> Option<u64> {
    let v = map.lookup(&key.to_ne_bytes(), MapFlags::ANY).ok()??;
    Some(u64::from_ne_bytes(v.get(..8)?.try_into().ok()?))
}

#[test]
fn folded_knob_set_before_load_is_seen_by_both_files() {
    for_each_compiler(folded_knob_set_before_load_is_seen_by_both_files_body);
}

fn folded_knob_set_before_load_is_seen_by_both_files_body() {
    let test = "folded_knob_set_before_load_is_seen_by_both_files";
    let dir = TempDir::new(test);
    let out = dir.join("merged.o");
    let (main, tool) = (fixture("fold/main"), fixture("fold/tool"));
    let r = bpfmerge(&[
        main.as_os_str(),
        tool.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // One `knob` and one `scale` in the output (tool.c's copies left no symbol).
    let elf = elf_summary(&out);
    let knobs: Vec<_> = elf.symbols_named("knob").collect();
    assert_eq!(knobs.len(), 1, "{knobs:?}");
    assert_eq!(elf.symbols_named("scale").count(), 1);
    assert_eq!(
        elf.section_size(".rodata"),
        Some(16),
        ".rodata: main.c's knob and tool.c's static bias (tool.c's knob was cut)"
    );
    let knob_at = knobs[0].value as usize;
    if !common::kernel_ready(test) {
        return;
    }
    let mut open = ObjectBuilder::default().open_file(&out).expect("open");
    let mut set = false;
    for mut m in open.maps_mut() {
        if m.name().to_string_lossy().ends_with(".rodata") {
            let v = m.initial_value_mut().expect("rodata bytes");
            v[knob_at..knob_at + 8].copy_from_slice(&10u64.to_ne_bytes());
            set = true;
        }
    }
    assert!(set, "no .rodata map");
    let objs = [open.load().expect("load")];
    assert_eq!(run_packet(&find_prog(&objs, "xdp_main")), 2, "XDP_PASS");
    assert_eq!(run_packet(&find_prog(&objs, "xdp_tool")), 3, "XDP_TX");
    let stats = find_map(&objs, "fold_stats");
    // scale(x) = 2 * x + knob, with knob = 10 as set before loading (the C default is 1):
    // main.c stores scale(64), tool.c scale(65); fold_stats[3] counts scale's two calls.
    assert_eq!(read_u64(&stats, 0), Some(2 * 64 + 10));
    assert_eq!(read_u64(&stats, 1), Some(2 * 65 + 10));
    assert_eq!(read_u64(&stats, 3), Some(2));
}
