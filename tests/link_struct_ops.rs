//! A struct_ops scenario: a `tcp_congestion_ops` whose callbacks and `.struct_ops.link` map
//! live in cc.c and share `cc_stats` with trace.c's tracing program. The linked object opens
//! and loads with libbpf-rs (bpftool 7.1's libbpf predates `.struct_ops.link` and refuses even
//! the unlinked cc.o): the struct_ops map and its three programs are there, the tracing
//! program runs, and both files' programs use the one `cc_stats` map. Nothing is registered
//! (loading a `.struct_ops.link` map does not register the congestion control; attaching
//! would).

mod common;

use std::os::fd::AsFd;

use common::scenarios::RunInput;
use common::{bpfmerge, find_map, find_prog, fixture, for_each_compiler, test_run, TempDir};
use libbpf_rs::query::{ProgInfoIter, ProgInfoQueryOptions};
use libbpf_rs::{MapCore, MapFlags, MapType, ObjectBuilder, ProgramHandle};

#[test]
fn struct_ops_and_tracing_program_share_a_map() {
    for_each_compiler(struct_ops_and_tracing_program_share_a_map_body);
}

fn struct_ops_and_tracing_program_share_a_map_body() {
    let test = "struct_ops_and_tracing_program_share_a_map";
    let dir = TempDir::new(test);
    let out = dir.join("merged.o");
    let (cc, trace) = (fixture("struct_ops/cc"), fixture("struct_ops/trace"));
    let r = bpfmerge(&[
        "-v".as_ref(),
        cc.as_os_str(),
        trace.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("map cc_stats (ARRAY (2)): merged 2 definitions"),
        "{}",
        r.stderr
    );
    if !common::kernel_ready(test) {
        return;
    }
    let open = ObjectBuilder::default().open_file(&out).expect("open");
    let objs = [open.load().expect("libbpf-rs loads the linked object")];
    let ops = find_map(&objs, "bpfmerge_cc");
    assert_eq!(ops.map_type(), MapType::StructOps);
    let mut progs: Vec<String> = objs[0]
        .progs()
        .map(|p| p.name().to_string_lossy().into_owned())
        .collect();
    progs.sort();
    assert_eq!(
        progs,
        ["bm_cong_avoid", "bm_ssthresh", "bm_undo_cwnd", "trace_cc"]
    );
    // trace.c adds its args[0] (5) to cc_stats[0].
    let handle = ProgramHandle::try_from(&find_prog(&objs, "trace_cc")).expect("handle");
    assert_eq!(test_run(&handle, &RunInput::RawTp(&[5])), 0);
    let stats = find_map(&objs, "cc_stats");
    let v = stats
        .lookup(&0u32.to_ne_bytes(), MapFlags::ANY)
        .expect("lookup")
        .expect("cc_stats[0]");
    assert_eq!(u64::from_ne_bytes(v[..8].try_into().unwrap()), 5);
    // One cc_stats map in the object, and the kernel's view of cc.c's callbacks and trace.c's
    // program: both use that map (by id).
    let n = objs[0].maps().filter(|m| m.name() == "cc_stats").count();
    assert_eq!(n, 1);
    let stats_id = stats.info().expect("map info").info.id;
    let own_ids: Vec<u32> = ["bm_cong_avoid", "trace_cc"]
        .iter()
        .map(|p| {
            let prog = find_prog(&objs, p);
            libbpf_rs::Program::id_from_fd(prog.as_fd()).expect("program id")
        })
        .collect();
    let opts = ProgInfoQueryOptions::default().include_map_ids(true);
    let mut seen = 0;
    for info in ProgInfoIter::with_query_opts(opts).filter(|i| own_ids.contains(&i.id)) {
        assert!(
            info.map_ids.contains(&stats_id),
            "{:?} uses maps {:?}, not cc_stats ({stats_id})",
            info.name,
            info.map_ids
        );
        seen += 1;
    }
    assert_eq!(seen, 2, "both programs found by id");
}

/// `bpfmerge load` of the linked object pins the shared map and all four programs.
#[test]
fn struct_ops_object_loads_with_bpfmerge_load() {
    for_each_compiler(struct_ops_object_loads_with_bpfmerge_load_body);
}

fn struct_ops_object_loads_with_bpfmerge_load_body() {
    let test = "struct_ops_object_loads_with_bpfmerge_load";
    let dir = TempDir::new(test);
    let out = dir.join("merged.o");
    let (cc, trace) = (fixture("struct_ops/cc"), fixture("struct_ops/trace"));
    let r = bpfmerge(&[
        cc.as_os_str(),
        trace.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    if !common::kernel_ready(test) {
        return;
    }
    let pins = TempDir::under(std::path::Path::new(common::BPFFS), test);
    let pin_dir = pins.join("pins");
    let r = bpfmerge(&[
        "load".as_ref(),
        out.as_os_str(),
        "--pin-dir".as_ref(),
        pin_dir.as_os_str(),
    ]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    assert_eq!(common::list_dir(&pin_dir.join("maps")), ["cc_stats"]);
    assert_eq!(
        common::list_dir(&pin_dir.join("progs")),
        ["bm_cong_avoid", "bm_ssthresh", "bm_undo_cwnd", "trace_cc"]
    );
    let r = bpfmerge(&[
        "unload".as_ref(),
        "--pin-dir".as_ref(),
        pin_dir.as_os_str(),
        "--maps".as_ref(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}
