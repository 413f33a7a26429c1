//! A pinned link as the kernel sees it: takes a pin path, gives the link's fd and kernel info
//! (checking that a link is pinned there), and its kind and target in words for reports.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use libbpf_rs::query::{LinkInfo, LinkTypeInfo, PerfEventType};

use crate::error::{Error, Result};
use crate::load::{ffi, pindir};

const BPF_TCX_EGRESS: u32 = libbpf_rs::libbpf_sys::BPF_TCX_EGRESS;

/// The link pinned at `pin`, if any, with its kernel info; an error when something else is
/// pinned there.
pub fn open_pinned_link(pin: &Path) -> Result<Option<(OwnedFd, LinkInfo)>> {
    match pin.symlink_metadata() {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(pindir::io_error(pin, e)),
    }
    let fd = ffi::obj_get(pin).map_err(|e| pindir::io_error(pin, e))?;
    let kind = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .map_err(|e| pindir::io_error(pin, e))?;
    if kind.as_os_str() != "anon_inode:bpf-link" {
        return Err(Error::Load(format!(
            "{}: the object pinned there is not a link ({})",
            pin.display(),
            kind.display()
        )));
    }
    let info = LinkInfo::from_fd(fd.as_fd())
        .map_err(|e| Error::Load(format!("{}: reading the link's info: {e}", pin.display())))?;
    Ok(Some((fd, info)))
}

/// Whether the interface of a link is known to be in this network namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Where {
    Attached,
    Unknown,
}

/// A link's kind and target for people: (`xdp`, `veth0 (ifindex 4)`), (`perf_event`,
/// `tracepoint sched_process_exec`), ...
///
/// A link does not say which network namespace its interface is in. `Where::Attached` (the
/// link was just made in this namespace) names the interface; `Where::Unknown` (`status`,
/// perhaps from another namespace) gives the index and, hedged, the name it has here.
pub fn describe(info: &LinkInfo, place: Where) -> (String, String) {
    let iface = |index: u32| match (ffi::if_indextoname(index), place) {
        (Some(name), Where::Attached) => format!("{name} (ifindex {index})"),
        (Some(name), Where::Unknown) => format!("ifindex {index} (in this netns: {name})"),
        (None, _) => format!("ifindex {index}"),
    };
    match &info.info {
        LinkTypeInfo::Xdp(x) => ("xdp".into(), iface(x.ifindex)),
        LinkTypeInfo::Tcx(t) => {
            let dir = if t.attach_type.clone() as u32 == BPF_TCX_EGRESS {
                "egress"
            } else {
                "ingress"
            };
            ("tcx".into(), format!("{} {dir}", iface(t.ifindex)))
        }
        LinkTypeInfo::Cgroup(c) => (
            "cgroup".into(),
            format!("cgroup id {} ({:?})", c.cgroup_id, c.attach_type),
        ),
        LinkTypeInfo::RawTracepoint(r) => ("raw_tracepoint".into(), r.name.clone()),
        LinkTypeInfo::Tracing(t) => (
            "tracing".into(),
            format!("{:?} btf id {}", t.attach_type, t.target_btf_id),
        ),
        LinkTypeInfo::PerfEvent(p) => ("perf_event".into(), perf_target(&p.event_type)),
        LinkTypeInfo::Iter(i) => ("iter".into(), i.target_name.to_string_lossy().into_owned()),
        LinkTypeInfo::StructOps(s) => ("struct_ops".into(), format!("map id {}", s.map_id)),
        LinkTypeInfo::KprobeMulti(_) => ("kprobe_multi".into(), String::new()),
        LinkTypeInfo::UprobeMulti(_) => ("uprobe_multi".into(), String::new()),
        LinkTypeInfo::NetNs(_) => ("netns".into(), String::new()),
        LinkTypeInfo::Netfilter(_) => ("netfilter".into(), String::new()),
        LinkTypeInfo::Netkit(n) => ("netkit".into(), iface(n.ifindex)),
        LinkTypeInfo::SockMap(_) => ("sockmap".into(), String::new()),
        LinkTypeInfo::Unknown => ("unknown".into(), String::new()),
    }
}

fn perf_target(t: &PerfEventType) -> String {
    let s = |o: &Option<std::ffi::OsString>| {
        o.as_ref()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    match t {
        PerfEventType::Tracepoint { name, .. } => format!("tracepoint {}", s(name)),
        PerfEventType::Kprobe {
            func_name,
            is_retprobe,
            ..
        } => format!(
            "{} {}",
            if *is_retprobe { "kretprobe" } else { "kprobe" },
            s(func_name)
        ),
        PerfEventType::Uprobe {
            file_name,
            is_retprobe,
            offset,
            ..
        } => format!(
            "{} {}+{offset:#x}",
            if *is_retprobe { "uretprobe" } else { "uprobe" },
            s(file_name)
        ),
        PerfEventType::Event { .. } => "perf event".into(),
        PerfEventType::Unknown(n) => format!("perf event type {n}"),
    }
}
