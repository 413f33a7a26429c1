//! Kernel test of `bpfmerge load --attach` with a struct_ops map (bpf/attach_struct_ops): the
//! TCP congestion control `bpfmerge_cc` of `.struct_ops.link` is registered through a pinned
//! struct_ops link, shows up in tcp_available_congestion_control, is used by connections that
//! ask for it (its `init` counts them), is swapped in place on reload and goes with `unload`.
#![cfg(feature = "load")]

mod attach_support;
mod load_support;

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use attach_support::Netns;
use load_support::{all_u64, bpfmerge, fixture, kernel_ready, PinDir};

const CC: &str = "bpfmerge_cc";

/// The congestion control name is global: the tests that register it run one at a time.
static CC_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn cc_lock() -> std::sync::MutexGuard<'static, ()> {
    CC_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
const CONNECTIONS: u64 = 3;

fn available() -> Vec<String> {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_available_congestion_control")
        .unwrap()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// In `ns`, open `n` TCP connections over loopback whose client side asks for `CC` (the
/// listener keeps the namespace's default); Err with the errno when the kernel refuses `CC`.
fn connect_with_cc(ns: &Netns, n: u64) -> Result<(), i32> {
    ns.within(move || {
        let listener = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        for _ in 0..n {
            // SAFETY: plain socket calls on a fresh fd that `OwnedFd` closes; the buffers
            // outlive the calls.
            unsafe {
                let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
                assert!(fd >= 0);
                let fd = OwnedFd::from_raw_fd(fd);
                let ret = libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::IPPROTO_TCP,
                    libc::TCP_CONGESTION,
                    CC.as_ptr().cast(),
                    CC.len() as libc::socklen_t,
                );
                if ret != 0 {
                    return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
                }
                let addr = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: port.to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from(Ipv4Addr::LOCALHOST).to_be(),
                    },
                    sin_zero: [0; 8],
                };
                let ret = libc::connect(
                    fd.as_raw_fd(),
                    std::ptr::addr_of!(addr).cast(),
                    std::mem::size_of_val(&addr) as libc::socklen_t,
                );
                assert_eq!(ret, 0, "connect: {}", std::io::Error::last_os_error());
                let _server_side = listener.accept().unwrap();
            }
        }
        Ok(())
    })
}

#[test]
fn tcp_congestion_ops_is_registered_swapped_on_reload_and_unregistered() {
    if !kernel_ready("tcp_congestion_ops_is_registered_swapped_on_reload_and_unregistered") {
        return;
    }
    assert!(
        !available().contains(&CC.to_string()),
        "{CC} already registered"
    );
    let ns = Netns::new("cc");
    let dir = PinDir::new("cc");
    let hits = dir.maps("hits");

    let first = attach_support::attach_ok(&dir.path, "attach_struct_ops/cc_v1.o", &[]);
    let link = &first["links"][0];
    assert_eq!(link["action"], "created", "{first}");
    assert_eq!(link["link_type"], "struct_ops");
    assert_eq!(link["program"], "bm_cc");
    // The four struct_ops programs go with their map, not on their own.
    assert_eq!(first["unattached"].as_array().unwrap().len(), 4, "{first}");
    assert!(available().contains(&CC.to_string()));
    // Each connection's client socket starts with bpfmerge_cc: v1's init counts it, hits[0].
    connect_with_cc(&ns, CONNECTIONS).unwrap();
    assert_eq!(all_u64(&hits), [CONNECTIONS, 0, 0, 0]);

    // v2 takes v1's place inside the same link (same name, so the kernel swaps them).
    let second = attach_support::attach_ok(&dir.path, "attach_struct_ops/cc_v2.o", &[]);
    assert_eq!(second["links"][0]["action"], "updated", "{second}");
    assert_eq!(second["links"][0]["id"], link["id"]);
    assert!(available().contains(&CC.to_string()));
    connect_with_cc(&ns, CONNECTIONS).unwrap();
    assert_eq!(all_u64(&hits), [CONNECTIONS, CONNECTIONS, 0, 0]);

    let out = bpfmerge(["unload", "--pin-dir", dir.path.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(
        !available().contains(&CC.to_string()),
        "unregistered by unload"
    );
    assert_eq!(connect_with_cc(&ns, 1), Err(libc::ENOENT));
}

/// All or nothing across link kinds: a reload whose XDP guard is updated in place first and
/// whose struct_ops map the kernel then refuses (another congestion control name cannot take
/// bm_cc's link) fails, and the guard's link is given its old program back: traffic is still
/// dropped and counted by version 1, every pin is as before.
#[test]
fn a_failed_struct_ops_swap_puts_the_already_updated_xdp_program_back() {
    if !kernel_ready("a_failed_struct_ops_swap_puts_the_already_updated_xdp_program_back") {
        return;
    }
    let _one_at_a_time = cc_lock();
    let ns = Netns::new("ccundo");
    let dir = PinDir::new("ccundo");
    let rx = attach_support::receiver(&ns);
    let tx = attach_support::sender(&ns);
    attach_support::wait_delivering(&tx, &rx);
    let load = |obj: &str, flags: &[&str]| {
        let mut args: Vec<std::ffi::OsString> = vec!["load".into(), fixture(obj).into()];
        args.extend([
            "--pin-dir".into(),
            dir.path.clone().into(),
            "--attach".into(),
        ]);
        args.extend(flags.iter().map(Into::into));
        ns.bpfmerge(args)
    };
    assert!(
        load("attach_net/xdp_v1.o", &["--xdp", attach_support::RX_IFACE])
            .status
            .success()
    );
    assert!(load("attach_struct_ops/cc_v1.o", &[]).status.success());
    let guard_link = dir.path.join("links/xdp_guard");
    let before = attach_support::pins(&dir.path);
    let guard_ids = attach_support::link_ids(&guard_link);

    let out = load(
        "attach_struct_ops/guard_and_renamed_cc.o",
        &["--xdp", attach_support::RX_IFACE],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    eprintln!("{err}");
    assert!(err.contains("struct_ops map `bm_cc`"), "{err}");
    assert_eq!(
        attach_support::link_ids(&guard_link),
        guard_ids,
        "old guard back"
    );
    assert_eq!(attach_support::pins(&dir.path), before, "pins unchanged");
    assert!(available().contains(&CC.to_string()));
    assert!(!available().contains(&"bpfmerge_cc2".to_string()));
    // Version 1 (hits[0]) still drops and counts the guarded traffic.
    let hits = dir.maps("hits");
    let h0 = all_u64(&hits);
    assert_eq!(attach_support::send(&tx, 10), 10);
    assert_eq!(attach_support::drain(&rx), 0);
    let h1 = all_u64(&hits);
    assert_eq!(h1[0], h0[0] + 10, "{h0:?} -> {h1:?}");
    assert_eq!(h1[1..], h0[1..]);
}
