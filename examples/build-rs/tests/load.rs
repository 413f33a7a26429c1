//! Load the skeleton into the kernel, run both programs with BPF_PROG_TEST_RUN and check that
//! they count into one `packets` map. Needs root; skipped otherwise, unless
//! BPFMERGE_REQUIRE_KERNEL=1 (bpfmerge's CI), which turns the skip into a failure.

use std::mem::MaybeUninit;

use bpfmerge_example_build_rs::AppSkelBuilder;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags, ProgramInput};

fn kernel_available() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1));
    if euid == Some("0") {
        return true;
    }
    let msg = "not root: the skeleton is not loaded";
    assert!(
        std::env::var("BPFMERGE_REQUIRE_KERNEL").as_deref() != Ok("1"),
        "BPFMERGE_REQUIRE_KERNEL=1 but {msg}"
    );
    eprintln!("SKIP: {msg}");
    false
}

#[test]
fn both_programs_share_one_map() {
    if !kernel_available() {
        return;
    }
    let mut storage = MaybeUninit::uninit();
    let open = AppSkelBuilder::default().open(&mut storage).expect("open");
    let skel = open.load().expect("load");

    let short = [0u8; 20];
    let long = [0u8; 64];
    let run = |prog: &libbpf_rs::ProgramMut, data: &[u8]| {
        let input = ProgramInput {
            data_in: Some(data),
            ..Default::default()
        };
        prog.test_run(input).expect("test_run").return_value
    };
    const XDP_DROP: u32 = 1;
    const XDP_PASS: u32 = 2;
    assert_eq!(run(&skel.progs.xdp_count, &long), XDP_PASS);
    assert_eq!(run(&skel.progs.xdp_count, &short), XDP_PASS);
    assert_eq!(run(&skel.progs.xdp_filter, &short), XDP_DROP);
    assert_eq!(run(&skel.progs.xdp_filter, &long), XDP_PASS);

    let slot = |i: u32| {
        let v = skel
            .maps
            .packets
            .lookup(&i.to_ne_bytes(), MapFlags::ANY)
            .expect("lookup")
            .expect("slot exists");
        u64::from_ne_bytes(v.try_into().expect("u64 value"))
    };
    // One map: xdp_count's two packets in slot 0, xdp_filter's one drop in slot 1.
    assert_eq!((slot(0), slot(1)), (2, 1));
}
