//! Kernel test of `bpfmerge load --attach --cgroup`: a `cgroup/sock_create` program
//! (bpf/attach_cgroup) counts the sockets created by processes of a private cgroup v2
//! directory; a reload updates the cgroup link in place (same link id, new program).
#![cfg(feature = "load")]

mod attach_support;
mod load_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use load_support::{all_u64, bpfmerge, kernel_ready, PinDir};

const SOCKETS: u64 = 4;

/// Where cgroup v2 is mounted: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid).
fn cgroup2_root() -> Option<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    mounts.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.get(2) == Some(&"cgroup2")).then(|| PathBuf::from(f[1]))
    })
}

/// A cgroup directory of its own, removed when dropped.
struct Cgroup(PathBuf);

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Run a bash in `cg` that creates `n` UDP sockets (`exec 3<>/dev/udp/...` opens one each
/// time) and exits.
fn make_sockets(cg: &Path, n: u64) {
    let script = format!(
        "echo $$ > {}/cgroup.procs && for i in $(seq {n}); do exec 3<>/dev/udp/127.0.0.1/9; \
         exec 3>&-; done",
        cg.display()
    );
    let st = Command::new("bash").args(["-c", &script]).status().unwrap();
    assert!(st.success());
}

#[test]
fn cgroup_program_counts_sockets_and_is_updated_in_place_on_reload() {
    if !kernel_ready("cgroup_program_counts_sockets_and_is_updated_in_place_on_reload") {
        return;
    }
    let Some(root) = cgroup2_root() else {
        panic!("no cgroup2 mount in /proc/mounts");
    };
    let cg = Cgroup(root.join(format!("bpfmerge-attach-{}", std::process::id())));
    std::fs::create_dir_all(&cg.0).unwrap();
    let dir = PinDir::new("cgroup");
    let hits = dir.maps("hits");

    // v1 counts into hits[0] one sock_create per socket made in the cgroup.
    let first = attach_support::attach_ok(
        &dir.path,
        "attach_cgroup/sock_v1.o",
        &["--cgroup".as_ref(), cg.0.as_os_str()],
    );
    let link = &first["links"][0];
    assert_eq!(link["action"], "created", "{first}");
    assert_eq!(link["link_type"], "cgroup");
    make_sockets(&cg.0, SOCKETS);
    assert_eq!(all_u64(&hits), [SOCKETS, 0, 0, 0]);

    // v2 replaces v1 inside the same cgroup link; only v2 counts from now on.
    let second = attach_support::attach_ok(
        &dir.path,
        "attach_cgroup/sock_v2.o",
        &["--cgroup".as_ref(), cg.0.as_os_str()],
    );
    assert_eq!(second["links"][0]["action"], "updated", "{second}");
    assert_eq!(second["links"][0]["id"], link["id"]);
    let (_, prog) = attach_support::link_ids(&dir.path.join("links/on_sock"));
    assert_eq!(u64::from(prog), second["progs"][0]["id"].as_u64().unwrap());
    make_sockets(&cg.0, SOCKETS);
    assert_eq!(all_u64(&hits), [SOCKETS, SOCKETS, 0, 0]);

    // Detached by unload: nothing counts.
    let out = bpfmerge(["unload", "--pin-dir", dir.path.to_str().unwrap()]);
    assert!(out.status.success());
    make_sockets(&cg.0, SOCKETS);
    assert_eq!(all_u64(&hits), [SOCKETS, SOCKETS, 0, 0]);
}
