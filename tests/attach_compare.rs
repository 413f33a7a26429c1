//! The comparison suite's attach path: the two objects of bpf/attach_pair (an XDP counter and
//! a tcx ingress filter sharing `pair_stats`) attached by two `load --attach` invocations that
//! share the map through its pin, and the same two objects linked by bpfmerge into one and
//! attached by one `load --attach`, under the same traffic give the same counters — the
//! values derived by hand from the C sources.
#![cfg(feature = "load")]

mod attach_support;
mod load_support;

use std::path::{Path, PathBuf};

use attach_support::*;
use load_support::{all_u64, bpfmerge, fixture, kernel_ready, PinDir};

/// Datagrams sent; datagram `i` carries `i` as its first payload byte.
const PACKETS: u64 = 30;

fn load_ok(ns: &Netns, dir: &Path, objs: &[PathBuf], flags: &[&str]) {
    let mut args: Vec<std::ffi::OsString> = vec!["load".into()];
    args.extend(objs.iter().map(|o| o.clone().into_os_string()));
    args.extend([
        "--pin-dir".into(),
        dir.as_os_str().to_owned(),
        "--attach".into(),
    ]);
    args.extend(flags.iter().map(Into::into));
    let out = ns.bpfmerge(args);
    assert!(
        out.status.success(),
        "load --attach {objs:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Attach with `attach`, send PACKETS datagrams, give (pair_stats, datagrams received).
fn run_path(test: &str, attach: impl FnOnce(&Netns, &Path)) -> (Vec<u64>, u64) {
    let ns = Netns::new(test);
    let dir = PinDir::new(test);
    let rx = receiver(&ns);
    let tx = sender(&ns);
    wait_delivering(&tx, &rx);
    attach(&ns, &dir.path);
    for i in 0..PACKETS {
        tx.send(&i.to_le_bytes()).unwrap();
    }
    let got = drain(&rx);
    (all_u64(&dir.maps("pair_stats")), got)
}

#[test]
fn separate_objects_and_the_linked_object_attached_count_the_same() {
    if !kernel_ready("separate_objects_and_the_linked_object_attached_count_the_same") {
        return;
    }
    let xdp = fixture("attach_pair/xdp_count.o");
    let tc = fixture("attach_pair/tc_filter.o");
    let tmp = std::env::temp_dir().join(format!("bpfmerge-attach-compare-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let linked = tmp.join("pair.o");
    let out = bpfmerge([
        xdp.as_os_str(),
        tc.as_os_str(),
        "-o".as_ref(),
        linked.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let separate = run_path("cmpsep", |ns, dir| {
        load_ok(ns, dir, std::slice::from_ref(&xdp), &["--xdp", RX_IFACE]);
        load_ok(
            ns,
            dir,
            std::slice::from_ref(&tc),
            &["--tc", "bmrx:ingress"],
        );
    });
    let merged = run_path("cmplink", |ns, dir| {
        load_ok(
            ns,
            dir,
            std::slice::from_ref(&linked),
            &["--xdp", RX_IFACE, "--tc", "bmrx:ingress"],
        );
    });
    let _ = std::fs::remove_dir_all(&tmp);

    // By hand: both programs see all 30 datagrams (XDP passes them on to tcx); tcx drops the
    // 10 whose first byte (0..30) is a multiple of 3 and sums the bytes 0 + 1 + ... + 29 =
    // 435; 20 reach the socket.
    let expected = (vec![PACKETS, PACKETS, 10, 435], PACKETS - 10);
    assert_eq!(
        separate, expected,
        "separate objects, maps shared through pins"
    );
    assert_eq!(merged, expected, "the linked object");
}
