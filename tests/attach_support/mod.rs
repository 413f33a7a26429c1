//! Helpers of the `load --attach` kernel tests: takes a test name, gives a private network
//! namespace with a veth pair (removed when dropped), UDP sockets opened inside it, a bounded
//! UDP flood, `bpfmerge` run inside the namespace (`nsenter --net=/run/netns/NAME`, which keeps
//! the host's bpffs), and the kernel's view of a pinned link.

#![allow(dead_code)]

use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libbpf_rs::MapCore;

/// The receiving end (XDP / tcx programs go here) and its address.
pub const RX_IFACE: &str = "bmrx";
pub const RX_ADDR: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
/// The sending end.
pub const TX_IFACE: &str = "bmtx";
pub const TX_ADDR: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
/// The port the guard programs drop (bpf/attach_net/guard.h).
pub const GUARD_PORT: u16 = 7777;

/// Two network namespaces, `/run/netns/<name>` with `bmrx` (10.77.0.1, where the programs
/// are attached and the receiving socket listens) and `/run/netns/<name>-tx` with `bmtx`
/// (10.77.0.2, the sender): the two ends of a veth pair, so that packets really cross it (in
/// one namespace the kernel would deliver them locally). Deleted when dropped.
pub struct Netns {
    pub name: String,
    tx_name: String,
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run command");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Netns {
    pub fn new(test: &str) -> Netns {
        let name = format!("bm-{test}-{}", std::process::id());
        let tx_name = format!("{name}-tx");
        for n in [&name, &tx_name] {
            let _ = Command::new("ip").args(["netns", "del", n]).output();
            run(Command::new("ip").args(["netns", "add", n]));
        }
        let ns = Netns { name, tx_name };
        ns.ip(&[
            "link",
            "add",
            RX_IFACE,
            "type",
            "veth",
            "peer",
            "name",
            TX_IFACE,
            "netns",
            &ns.tx_name,
        ]);
        ns.ip(&["addr", "add", "10.77.0.1/24", "dev", RX_IFACE]);
        ns.ip(&["link", "set", "lo", "up"]);
        ns.ip(&["link", "set", RX_IFACE, "up"]);
        ns.ip_tx(&["addr", "add", "10.77.0.2/24", "dev", TX_IFACE]);
        ns.ip_tx(&["link", "set", "lo", "up"]);
        ns.ip_tx(&["link", "set", TX_IFACE, "up"]);
        ns
    }

    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("/run/netns/{}", self.name))
    }

    fn tx_path(&self) -> PathBuf {
        PathBuf::from(format!("/run/netns/{}", self.tx_name))
    }

    /// `ip ARGS` inside the receiving namespace.
    pub fn ip(&self, args: &[&str]) {
        run(Command::new("nsenter")
            .arg(format!("--net={}", self.path().display()))
            .arg("ip")
            .args(args));
    }

    /// `ip ARGS` inside the sending namespace.
    pub fn ip_tx(&self, args: &[&str]) {
        run(Command::new("nsenter")
            .arg(format!("--net={}", self.tx_path().display()))
            .arg("ip")
            .args(args));
    }

    /// `bpfmerge ARGS` inside the namespace (bpffs stays the host's).
    pub fn bpfmerge<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Command::new("nsenter")
            .arg(format!("--net={}", self.path().display()))
            .arg(env!("CARGO_BIN_EXE_bpfmerge"))
            .args(args.into_iter().map(Into::into))
            .output()
            .expect("run bpfmerge through nsenter")
    }

    /// Run `f` in a thread that entered the receiving namespace (sockets it opens belong
    /// there).
    pub fn within<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        in_netns(self.path(), f)
    }

    /// Run `f` in a thread that entered the sending namespace.
    pub fn within_tx<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        in_netns(self.tx_path(), f)
    }

    /// The index of interface `iface` of the receiving namespace.
    pub fn ifindex(&self, iface: &str) -> u64 {
        let out = Command::new("nsenter")
            .arg(format!("--net={}", self.path().display()))
            .args(["ip", "-j", "link", "show", iface])
            .output()
            .expect("ip link");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ip -j output");
        v[0]["ifindex"].as_u64().expect("ifindex")
    }

    /// The XDP attach mode of `iface` as `ip -d link` reports it (1 native, 2 generic), or
    /// None without an XDP program.
    pub fn xdp_mode(&self, iface: &str) -> Option<u64> {
        let out = Command::new("nsenter")
            .arg(format!("--net={}", self.path().display()))
            .args(["ip", "-j", "-d", "link", "show", iface])
            .output()
            .expect("ip link");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ip -j output");
        v[0]["xdp"]["mode"].as_u64()
    }

    /// The (tx, rx) dropped-packet counters of interface `iface`, as `ip -s` reports them.
    pub fn drops(&self, iface: &str) -> (u64, u64) {
        let path = if iface == TX_IFACE {
            self.tx_path()
        } else {
            self.path()
        };
        let out = Command::new("nsenter")
            .arg(format!("--net={}", path.display()))
            .args(["ip", "-j", "-s", "link", "show", iface])
            .output()
            .expect("ip -s link");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ip -j output");
        let stats = &v[0]["stats64"];
        (
            stats["tx"]["dropped"].as_u64().unwrap_or(0),
            stats["rx"]["dropped"].as_u64().unwrap_or(0),
        )
    }
}

fn in_netns<T: Send + 'static>(path: PathBuf, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        let ns = std::fs::File::open(&path).expect("open netns");
        // SAFETY: a valid namespace fd; setns changes only this thread's namespace.
        let ret = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(ret, 0, "setns: {}", std::io::Error::last_os_error());
        f()
    })
    .join()
    .expect("thread in a namespace")
}

impl Drop for Netns {
    fn drop(&mut self) {
        for n in [&self.name, &self.tx_name] {
            let _ = Command::new("ip").args(["netns", "del", n]).output();
        }
    }
}

/// The receiving socket: bound to 10.77.0.1:7777 inside `ns`, non-blocking.
pub fn receiver(ns: &Netns) -> UdpSocket {
    ns.within(|| {
        let s = UdpSocket::bind(SocketAddrV4::new(RX_ADDR, GUARD_PORT)).expect("bind receiver");
        s.set_nonblocking(true).expect("non-blocking");
        s
    })
}

/// Datagrams waiting in `sock` (read and counted), after letting packets in flight arrive.
pub fn drain(sock: &UdpSocket) -> u64 {
    std::thread::sleep(Duration::from_millis(100));
    let mut buf = [0u8; 2048];
    let mut n = 0;
    while sock.recv(&mut buf).is_ok() {
        n += 1;
    }
    n
}

/// Send a datagram every 10 ms until one arrives at `rx` (at most 3 s, then panic); drains
/// `rx`.
pub fn wait_delivering(tx: &UdpSocket, rx: &UdpSocket) {
    let start = Instant::now();
    let mut buf = [0u8; 64];
    loop {
        let _ = tx.send(b"ping");
        std::thread::sleep(Duration::from_millis(10));
        if rx.recv(&mut buf).is_ok() {
            drain(rx);
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "the veth pair delivers nothing"
        );
    }
}

/// A socket in the sending namespace that sends to the guarded port.
pub fn sender(ns: &Netns) -> UdpSocket {
    ns.within_tx(|| {
        let s = UdpSocket::bind(SocketAddrV4::new(TX_ADDR, 0)).expect("bind sender");
        s.connect(SocketAddrV4::new(RX_ADDR, GUARD_PORT))
            .expect("connect sender");
        s
    })
}

/// Send `n` datagrams now; the number sent.
pub fn send(sock: &UdpSocket, n: u64) -> u64 {
    let mut sent = 0;
    for i in 0..n {
        if sock.send(&i.to_le_bytes()).is_ok() {
            sent += 1;
        }
    }
    sent
}

/// A UDP flood from `bmtx` to the guarded port until stopped, bounded: bursts of 32
/// datagrams with a short pause (so the veth ring is never overrun), at most `max` datagrams
/// and `limit` of time. Join it for the number of datagrams the kernel accepted.
pub struct Flood {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl Flood {
    pub fn start(ns: &Netns, max: u64, limit: Duration) -> Flood {
        let sock = sender(ns);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let mut sent = 0u64;
            while !flag.load(Ordering::Relaxed) && sent < max && start.elapsed() < limit {
                sent += send(&sock, 32.min(max - sent));
                std::thread::sleep(Duration::from_micros(200));
            }
            sent
        });
        Flood { stop, thread }
    }

    pub fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("flood thread")
    }
}

/// What a pin dir holds: each pin (relative path) with the kernel id of the map, program or
/// link pinned there.
pub fn pins(dir: &Path) -> std::collections::BTreeMap<PathBuf, u32> {
    load_support_tree(dir)
        .into_iter()
        .map(|rel| {
            let p = dir.join(&rel);
            let id = if rel.starts_with("links") {
                link_ids(&p).0
            } else if rel.starts_with("maps") {
                libbpf_rs::MapHandle::from_pinned_path(&p)
                    .and_then(|m| m.info())
                    .map(|i| i.info.id)
                    .expect("pinned map")
            } else {
                let fd = libbpf_rs::Program::fd_from_pinned_path(&p).expect("pinned program");
                libbpf_rs::Program::id_from_fd(std::os::fd::AsFd::as_fd(&fd)).expect("id")
            };
            (rel, id)
        })
        .collect()
}

fn load_support_tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in ["maps", "progs", "links"] {
        let Ok(rd) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in rd.flatten() {
            out.push(Path::new(sub).join(e.file_name()));
        }
    }
    out.sort();
    out
}

/// `(link id, program id)` of the link pinned at `pin`, from the kernel.
pub fn link_ids(pin: &Path) -> (u32, u32) {
    let link = libbpf_rs::Link::open(pin).expect("open pinned link");
    let info = link.info().expect("link info");
    (info.id, info.prog_id)
}

/// Sum of the u64 values in `vals`.
pub fn sum(vals: &[u64]) -> u64 {
    vals.iter().sum()
}

/// Poll `f` until it returns the same value twice 100 ms apart (packets in flight have
/// arrived), at most 3 s; that value.
pub fn settled(mut f: impl FnMut() -> u64) -> u64 {
    let start = Instant::now();
    let mut last = f();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let now = f();
        if now == last || start.elapsed() > Duration::from_secs(3) {
            return now;
        }
        last = now;
    }
}

/// `bpfmerge load OBJ --pin-dir DIR --attach [EXTRA...] --json`, which must succeed: its JSON
/// report.
pub fn attach_ok(dir: &Path, obj: &str, extra: &[&std::ffi::OsStr]) -> serde_json::Value {
    let obj_path = crate::load_support::fixture(obj);
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "load".as_ref(),
        obj_path.as_os_str(),
        "--pin-dir".as_ref(),
        dir.as_os_str(),
        "--attach".as_ref(),
    ];
    args.extend_from_slice(extra);
    args.push("--json".as_ref());
    let out = crate::load_support::bpfmerge(args);
    assert!(
        out.status.success(),
        "load --attach {obj}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
