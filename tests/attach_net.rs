//! Kernel tests of `bpfmerge load --attach` on a veth pair in a private network namespace:
//! XDP and tcx guards (bpf/attach_net) that drop and count UDP packets to port 7777 are
//! swapped 20 times under a UDP flood. A gap without a program would let a packet reach the
//! receiving socket; the two versions count into two slots of the shared `hits`, so together
//! they must account for every packet sent. Failed reloads (verifier rejection, missing
//! interface) must leave the running program in its link and every pin as it was.
#![cfg(feature = "load")]

mod attach_support;
mod load_support;

use std::path::Path;
use std::time::Duration;

use attach_support::*;
use load_support::{all_u64, kernel_ready, map_id, PinDir};

const SWAPS: usize = 20;
/// Bounds of the flood: at most this many datagrams, and this long.
const FLOOD_MAX: u64 = 400_000;
const FLOOD_TIME: Duration = Duration::from_secs(60);

/// `load OBJ --pin-dir DIR --attach FLAGS --json` inside `ns`; must succeed.
fn attach_ok(ns: &Netns, dir: &Path, obj: &str, flags: &[&str]) -> serde_json::Value {
    let out = attach_cmd(ns, dir, obj, flags);
    assert!(
        out.status.success(),
        "load --attach {obj}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("load --json prints JSON")
}

fn attach_cmd(ns: &Netns, dir: &Path, obj: &str, flags: &[&str]) -> std::process::Output {
    let mut args: Vec<std::ffi::OsString> = vec!["load".into()];
    args.push(load_support::fixture(obj).into());
    args.extend(["--pin-dir".into(), dir.as_os_str().to_owned()]);
    args.extend(["--attach".into(), "--json".into()]);
    args.extend(flags.iter().map(Into::into));
    ns.bpfmerge(args)
}

/// Before anything is attached the receiving socket gets what is sent (so a zero later
/// means the programs dropped the packets, not that the setup lost them).
fn check_setup_delivers(ns: &Netns) -> std::net::UdpSocket {
    let rx = receiver(ns);
    let tx = sender(ns);
    // A fresh veth pair takes a moment to come up (carrier, neighbour resolution).
    wait_delivering(&tx, &rx);
    assert_eq!(send(&tx, 5), 5);
    assert_eq!(drain(&rx), 5, "without a program every datagram arrives");
    rx
}

/// The swap test for one kind of link: attach v1, flood, swap v2/v1/v2... 20 times, check.
fn swaps_under_flood(test: &str, prog: &str, v1: &str, v2: &str, flags: &[&str]) {
    let ns = Netns::new(test);
    let dir = PinDir::new(test);
    let rx = check_setup_delivers(&ns);
    let link_pin = dir.path.join("links").join(prog);
    let hits = dir.maps("hits");

    let first = attach_ok(&ns, &dir.path, v1, flags);
    assert_eq!(first["links"][0]["action"], "created", "{first}");
    let (link_id, _) = link_ids(&link_pin);
    let hits_id = map_id(&hits);

    let flood = Flood::start(&ns, FLOOD_MAX, FLOOD_TIME);
    let mut before = all_u64(&hits);
    for i in 0..SWAPS {
        // Let traffic run through the current version for a moment.
        std::thread::sleep(Duration::from_millis(20));
        let obj = if i % 2 == 0 { v2 } else { v1 };
        let report = attach_ok(&ns, &dir.path, obj, flags);
        let link = &report["links"][0];
        assert_eq!(link["action"], "updated", "swap {i}: {report}");
        assert_eq!(link["id"], link_id, "swap {i}: same link");
        let (now_link, now_prog) = link_ids(&link_pin);
        assert_eq!(now_link, link_id);
        assert_eq!(
            u64::from(now_prog),
            report["progs"][0]["id"].as_u64().unwrap()
        );
        // The maps stay (same id), and their contents only grow.
        assert_eq!(map_id(&hits), hits_id, "swap {i}: hits is the same map");
        let now = all_u64(&hits);
        assert!(
            now.iter().zip(&before).all(|(n, b)| n >= b),
            "swap {i}: counters went back: {before:?} -> {now:?}"
        );
        before = now;
    }
    let sent = flood.stop();
    let counted = settled(|| sum(&all_u64(&hits)));
    let got = drain(&rx);
    let counters = all_u64(&hits);
    eprintln!("{test}: sent {sent}, counters {counters:?}, socket got {got}");
    assert_eq!(got, 0, "a packet passed while the programs were swapped");
    // Slot 0 counts v1 (hits[VERSION - 1]), slot 1 v2; both ran, nothing else counted.
    assert!(counters[0] > 0 && counters[1] > 0, "{counters:?}");
    assert_eq!(counters[2..], [0, 0]);
    let (tx_drop, _) = ns.drops(TX_IFACE);
    let (_, rx_drop) = ns.drops(RX_IFACE);
    assert_eq!(
        counted, sent,
        "every datagram sent was counted by one of the versions (veth drops: tx {tx_drop}, \
         rx {rx_drop})"
    );

    // unload detaches: datagrams arrive again.
    let out = ns.bpfmerge(["unload", "--maps", "--pin-dir", dir.path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tx = sender(&ns);
    assert_eq!(send(&tx, 5), 5);
    assert_eq!(drain(&rx), 5, "after unload nothing drops them");
}

#[test]
fn xdp_swapped_20_times_under_flood_drops_every_packet() {
    if !kernel_ready("xdp_swapped_20_times_under_flood_drops_every_packet") {
        return;
    }
    swaps_under_flood(
        "xdpswap",
        "xdp_guard",
        "attach_net/xdp_v1.o",
        "attach_net/xdp_v2.o",
        &["--xdp", RX_IFACE],
    );
}

#[test]
fn tcx_swapped_20_times_under_flood_drops_every_packet() {
    if !kernel_ready("tcx_swapped_20_times_under_flood_drops_every_packet") {
        return;
    }
    swaps_under_flood(
        "tcxswap",
        "tc_guard",
        "attach_net/tc_v1.o",
        "attach_net/tc_v2.o",
        &["--tc", "bmrx:ingress"],
    );
}

/// A reload that fails — one program of the new object rejected by the verifier, or an XDP
/// interface that does not exist — changes nothing: same pins (same kernel ids), the link
/// still runs the old program, and traffic is still dropped and counted by it.
#[test]
fn failed_reloads_leave_the_running_program_attached() {
    if !kernel_ready("failed_reloads_leave_the_running_program_attached") {
        return;
    }
    let ns = Netns::new("xdpfail");
    let dir = PinDir::new("xdpfail");
    let rx = check_setup_delivers(&ns);
    let flags = ["--xdp", RX_IFACE];
    attach_ok(&ns, &dir.path, "attach_net/xdp_v1.o", &flags);
    let link_pin = dir.path.join("links/xdp_guard");
    let ids = link_ids(&link_pin);
    let before_pins = pins(&dir.path);
    // status, run outside the namespace, lists the link with the interface's index there.
    let status =
        load_support::bpfmerge(["status", "--json", "--pin-dir", dir.path.to_str().unwrap()]);
    let st: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(st["links"][0]["link_type"], "xdp", "{st}");
    let target = st["links"][0]["target"].as_str().unwrap();
    let index = format!("ifindex {}", ns.ifindex(RX_IFACE));
    assert!(
        target == index || target.starts_with(&format!("{index} (")),
        "{target}"
    );
    assert_eq!(st["links"][0]["id"], ids.0);
    assert_eq!(st["links"][0]["prog_id"], ids.1);
    let tx = sender(&ns);

    let cases: [(&str, &[&str], &str); 2] = [
        (
            "attach_net/xdp_reject.o",
            &flags,
            "rejected by the verifier",
        ),
        (
            "attach_net/xdp_v2.o",
            &["--xdp", "bmnope"],
            "interface bmnope",
        ),
    ];
    for (obj, flags, why) in cases {
        let out = attach_cmd(&ns, &dir.path, obj, flags);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{obj}: {err}");
        assert!(err.contains(why), "{obj}: {err}");
        assert_eq!(pins(&dir.path), before_pins, "{obj}: pins unchanged");
        assert_eq!(
            link_ids(&link_pin),
            ids,
            "{obj}: the link runs the old program"
        );
        // Still v1 (slot 0) dropping everything.
        let before = all_u64(&dir.maps("hits"));
        assert_eq!(send(&tx, 50), 50);
        assert_eq!(drain(&rx), 0, "{obj}");
        let after = all_u64(&dir.maps("hits"));
        assert_eq!(after[0], before[0] + 50, "{obj}: v1 counted them");
        assert_eq!(after[1..], before[1..], "{obj}");
    }
}

/// `load --attach` SIGKILLed at points spread over one swap (seeded delays): after each kill
/// the interface still drops the guarded traffic (an old or a new guard is in the link, never
/// none), and the next `load` recovers — no temporary pin left, the link updated in place and
/// running the program pinned in `DIR/progs`.
#[test]
fn sigkill_during_swap_keeps_traffic_handled_and_the_next_load_recovers() {
    if !kernel_ready("sigkill_during_swap_keeps_traffic_handled_and_the_next_load_recovers") {
        return;
    }
    const KILLS: u64 = 12;
    let ns = Netns::new("xdpkill");
    let dir = PinDir::new("xdpkill");
    let rx = check_setup_delivers(&ns);
    let tx = sender(&ns);
    let flags = ["--xdp", RX_IFACE];
    let start = std::time::Instant::now();
    attach_ok(&ns, &dir.path, "attach_net/xdp_v1.o", &flags);
    let one = start.elapsed();
    let link_pin = dir.path.join("links/xdp_guard");
    let (link_id, _) = link_ids(&link_pin);
    let mut seed: u64 = 0x6174_7461_6368;
    for i in 0..KILLS {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let delay = one.mul_f64((seed >> 11) as f64 / (1u64 << 53) as f64);
        let obj = if i % 2 == 0 {
            "attach_net/xdp_v2.o"
        } else {
            "attach_net/xdp_v1.o"
        };
        let mut child = std::process::Command::new("nsenter")
            .arg(format!("--net={}", ns.path().display()))
            .arg(env!("CARGO_BIN_EXE_bpfmerge"))
            .arg("load")
            .arg(load_support::fixture(obj))
            .arg("--pin-dir")
            .arg(&dir.path)
            .arg("--attach")
            .args(flags)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        // nsenter execs bpfmerge in place, so the child's pid is bpfmerge's.
        let _ = child.kill();
        let _ = child.wait();

        let before = sum(&all_u64(&dir.maps("hits")));
        assert_eq!(send(&tx, 20), 20);
        assert_eq!(drain(&rx), 0, "kill {i} after {delay:?}: a packet passed");
        assert_eq!(sum(&all_u64(&dir.maps("hits"))), before + 20, "kill {i}");

        let report = attach_ok(&ns, &dir.path, obj, &flags);
        assert_eq!(
            report["links"][0]["action"], "updated",
            "kill {i}: {report}"
        );
        let (now_link, now_prog) = link_ids(&link_pin);
        assert_eq!(now_link, link_id, "kill {i}: same link");
        let pinned = pins(&dir.path);
        assert_eq!(pinned[Path::new("progs/xdp_guard")], now_prog, "kill {i}");
        assert!(
            pinned.keys().all(|p| !p.to_string_lossy().contains('~')),
            "kill {i}: temporary pins left: {pinned:?}"
        );
    }
}

/// `--xdp IFACE:generic` and `:native` choose the XDP mode (the kernel's `XDP_ATTACHED_SKB`
/// = 2 and `XDP_ATTACHED_DRV` = 1, as `ip -d link` shows them; veth has both); a reload with
/// the same mode updates the link in place, and the mode stays.
#[test]
fn xdp_mode_flags_choose_generic_or_native() {
    if !kernel_ready("xdp_mode_flags_choose_generic_or_native") {
        return;
    }
    let ns = Netns::new("xdpmode");
    for (flag, mode) in [("bmrx:generic", 2), ("bmrx:native", 1)] {
        let dir = PinDir::new("xdpmode");
        assert_eq!(ns.xdp_mode(RX_IFACE), None);
        attach_ok(&ns, &dir.path, "attach_net/xdp_v1.o", &["--xdp", flag]);
        assert_eq!(ns.xdp_mode(RX_IFACE), Some(mode), "{flag}");
        let again = attach_ok(&ns, &dir.path, "attach_net/xdp_v2.o", &["--xdp", flag]);
        assert_eq!(again["links"][0]["action"], "updated", "{again}");
        assert_eq!(ns.xdp_mode(RX_IFACE), Some(mode), "{flag} after the update");
        let out = ns.bpfmerge(["unload", "--maps", "--pin-dir", dir.path.to_str().unwrap()]);
        assert!(out.status.success());
    }
}

/// A `tc` program (no direction in its section) goes to every `--tc` target, one tcx link per
/// target pinned as `<program>@<iface>:<direction>`; `--no-attach` keeps tail-call targets
/// (tc_pair's action programs) unattached.
#[test]
fn a_tc_program_goes_to_every_tc_target_and_tail_call_targets_stay_unattached() {
    if !kernel_ready("a_tc_program_goes_to_every_tc_target_and_tail_call_targets_stay_unattached") {
        return;
    }
    let ns = Netns::new("tcboth");
    let dir = PinDir::new("tcboth");
    let mut args: Vec<std::ffi::OsString> = vec!["load".into()];
    args.push(load_support::fixture("tc_pair/classify.o").into());
    args.push(load_support::fixture("tc_pair/actions.o").into());
    for a in [
        "--pin-dir",
        dir.path.to_str().unwrap(),
        "--attach",
        "--json",
        "--tc",
        "bmrx:ingress",
        "--tc",
        "bmrx:egress",
        "--no-attach",
        "tc_udp",
        "--no-attach",
        "tc_tcp",
    ] {
        args.push(a.into());
    }
    let out = ns.bpfmerge(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let links: Vec<(String, String)> = report["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["pin_path"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                l["target"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let index = ns.ifindex(RX_IFACE);
    let expected = ["ingress", "egress"].map(|dir| {
        (
            format!("tc_classify@bmrx:{dir}"),
            format!("bmrx (ifindex {index}) {dir}"),
        )
    });
    assert_eq!(links, expected, "{report}");
    let unattached: Vec<&str> = report["unattached"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["program"].as_str().unwrap())
        .collect();
    assert_eq!(unattached, ["tc_udp", "tc_tcp"]);
}
