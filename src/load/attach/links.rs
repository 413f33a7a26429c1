//! Links in the kernel and in `DIR/links`: takes the plan with its targets found and the
//! loaded programs, gives every link made (pinned under a temporary name) or updated in place,
//! and then either publishes them (temporary pins renamed over `DIR/links/<name>`) or undoes
//! them all (new links dropped, updated links given their old programs back).
//!
//! A link pinned for the same target by an earlier `load` is updated with `BPF_LINK_UPDATE`
//! when its kind supports it (XDP, tcx, cgroup, struct_ops): the new program (map) replaces the
//! old one in one step. Other kinds (perf-event links of tracepoints and kprobes, raw tracepoints,
//! tracing) get a new link; the old one is detached when its pin is replaced, so both run for an
//! instant.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use libbpf_rs::query::{LinkInfo, LinkTypeInfo};
use libbpf_rs::{Link, MapHandle, Program};

use super::plan::{Plan, PlannedLink, Target, TcDir, XdpMode};
use super::targets::Resolved;
use crate::error::{Error, Result};
use crate::load::ffi;
use crate::load::libbpf_log::{self, Capture};
use crate::load::objects::Loaded;
use crate::load::pindir::{self, TMP_MARK};

use super::info::open_pinned_link;

/// A link's fd: made by bpfmerge (`BPF_LINK_CREATE`) or by libbpf's auto-attach.
pub enum LinkFd {
    Raw(OwnedFd),
    Libbpf(Link),
}

impl AsFd for LinkFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            LinkFd::Raw(fd) => fd.as_fd(),
            LinkFd::Libbpf(l) => l.as_fd(),
        }
    }
}

/// What happened to one planned link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A new link; nothing was pinned under its name before.
    Created,
    /// The pinned link now runs the new program (`BPF_LINK_UPDATE`, no gap).
    Updated,
    /// A new link replaced the pinned one (a kind that cannot be updated, or another target).
    Replaced,
}

/// One link made or updated, not yet published.
pub struct Change {
    /// Index into the plan's links.
    pub planned: usize,
    pub fd: LinkFd,
    pub pin: PathBuf,
    pub action: Action,
    /// For a new link: its temporary pin.
    tmp: Option<PathBuf>,
    /// For an updated link: the program it ran before (to put it back on failure).
    old_prog: Option<OwnedFd>,
    /// For a replaced link: the old link, held so that its last reference is dropped by
    /// closing this fd after the rename, which detaches it before `load` returns (the kernel
    /// frees a link released through a pin's removal later, from a work queue).
    old_link: Option<OwnedFd>,
}

/// Every change of one `load`; [`undo`] or [`publish`] it.
#[derive(Default)]
pub struct Staged {
    pub changes: Vec<Change>,
}

/// Make or update every planned link. New links first (each pinned under a temporary name),
/// then updates; on any failure everything done so far is undone.
pub fn stage(
    plan: &Plan,
    resolved: &Resolved,
    loaded: &mut Loaded,
    links_dir: &Path,
    log: &Capture,
) -> Result<Staged> {
    let mut staged = Staged::default();
    let _ = log.take();
    match stage_into(&mut staged, plan, resolved, loaded, links_dir, log) {
        Ok(()) => Ok(staged),
        Err(e) => {
            let changed = !staged.changes.is_empty();
            undo(staged);
            Err(match e {
                Error::Load(msg) if changed => Error::Load(format!(
                    "{msg}\n(the links changed so far were put back as they were; no pin was \
                     created or changed)"
                )),
                e => e,
            })
        }
    }
}

fn stage_into(
    staged: &mut Staged,
    plan: &Plan,
    resolved: &Resolved,
    loaded: &mut Loaded,
    links_dir: &Path,
    log: &Capture,
) -> Result<()> {
    let mut updates = Vec::new();
    for (i, l) in plan.links.iter().enumerate() {
        let pin = links_dir.join(&l.pin_name);
        let mut existing = open_pinned_link(&pin)?;
        if let Some((fd, info)) = existing.as_ref() {
            if updatable_for(info, &l.target, resolved, loaded, l.item)? {
                let dup = fd.try_clone().map_err(|e| io_err(&pin, e))?;
                updates.push((i, pin, dup, info.clone()));
                continue;
            }
        }
        let change = create_new(i, l, pin, existing.take(), resolved, loaded, links_dir)
            .map_err(|e| with_libbpf_log(e, log))?;
        staged.changes.push(change);
    }
    for (i, pin, link, info) in updates {
        let l = &plan.links[i];
        let old = update(l, &pin, &link, &info, loaded)?;
        staged.changes.push(Change {
            planned: i,
            fd: LinkFd::Raw(link),
            pin,
            action: Action::Updated,
            tmp: None,
            old_prog: Some(old),
            old_link: None,
        });
    }
    Ok(())
}

/// Make the link of planned link `i` and pin it under a temporary name.
fn create_new(
    i: usize,
    l: &PlannedLink,
    pin: PathBuf,
    existing: Option<(OwnedFd, LinkInfo)>,
    resolved: &Resolved,
    loaded: &mut Loaded,
    links_dir: &Path,
) -> Result<Change> {
    let what = item_name(loaded, l.item);
    let fd = create(l, resolved, loaded)
        .map_err(|e| e.context(&format!("{what}: attaching to {}", l.target)))?;
    let tmp = links_dir.join(format!("{}{TMP_MARK}{}", l.pin_name, std::process::id()));
    ffi::obj_pin(fd.as_fd(), &tmp).map_err(|e| {
        Error::Load(format!(
            "{what}: pinning its link at {}: {e}",
            tmp.display()
        ))
    })?;
    Ok(Change {
        planned: i,
        fd,
        pin,
        action: if existing.is_some() {
            Action::Replaced
        } else {
            Action::Created
        },
        tmp: Some(tmp),
        old_prog: None,
        old_link: existing.map(|(fd, _)| fd),
    })
}

/// Put the new program (or struct_ops map) of `l` into the pinned `link` in one step; gives
/// (a reference to) the program or map it held before, for [`undo`].
fn update(
    l: &PlannedLink,
    pin: &Path,
    link: &OwnedFd,
    info: &LinkInfo,
    loaded: &mut Loaded,
) -> Result<OwnedFd> {
    let what = item_name(loaded, l.item);
    if let LinkTypeInfo::StructOps(s) = &info.info {
        let old_id = s.map_id;
        let old = MapHandle::from_map_id(old_id)
            .and_then(|m| m.as_fd().try_clone_to_owned().map_err(Into::into))
            .map_err(|e| {
                Error::Load(format!(
                    "{}: holding the struct_ops map it runs now (id {old_id}): {e}",
                    pin.display()
                ))
            })?;
        let ops = loaded
            .struct_ops_mut(l.item.wrapping_sub(loaded.progs.len()))
            .ok_or_else(out_of_range)?;
        ffi::link_update_struct_ops(pin, &ops).map_err(|e| {
            let hint = if e.raw_os_error() == Some(libc::EINVAL) {
                " (the kernel swaps only a struct_ops map of the same kind, and a \
                 tcp_congestion_ops only for one of the same name)"
            } else {
                ""
            };
            Error::Load(format!(
                "{what}: replacing struct_ops map id {old_id} in the link pinned at {}: {e}{hint}",
                pin.display()
            ))
        })?;
        return Ok(old);
    }
    let old_id = info.prog_id;
    let prog = loaded.progs.get(l.item).ok_or_else(out_of_range)?;
    let old = Program::fd_from_id(old_id).map_err(|e| {
        Error::Load(format!(
            "{}: holding the program it runs now (id {old_id}): {e}",
            pin.display()
        ))
    })?;
    ffi::link_update(link.as_fd(), prog.handle.as_fd(), Some(old.as_fd())).map_err(|e| {
        Error::Load(format!(
            "{what}: replacing program id {old_id} in the link pinned at {}: {e}",
            pin.display()
        ))
    })?;
    Ok(old)
}

/// libbpf's last words (why an auto-attach failed) after the error.
fn with_libbpf_log(e: Error, log: &Capture) -> Error {
    let tail = libbpf_log::tail(&log.take(), 4);
    match e {
        Error::Load(msg) if !tail.is_empty() => Error::Load(format!("{msg}\n{tail}")),
        e => e,
    }
}

fn out_of_range() -> Error {
    Error::Load("planned program out of range".to_string())
}

trait Context {
    fn context(self, what: &str) -> Error;
}

impl Context for Error {
    fn context(self, what: &str) -> Error {
        Error::Load(format!("{what}: {self}"))
    }
}

fn io_err(path: &Path, e: std::io::Error) -> Error {
    pindir::io_error(path, e)
}

/// "program `x`" or "struct_ops map `x`", for errors.
fn item_name(loaded: &Loaded, i: usize) -> String {
    match loaded.progs.get(i) {
        Some(p) => format!("program `{}`", p.name),
        None => loaded.struct_ops.get(i - loaded.progs.len()).map_or_else(
            || "?".to_string(),
            |m| format!("struct_ops map `{}`", m.name),
        ),
    }
}

/// Undo a failed `load`'s links: updated links get their old programs back, new links and
/// their temporary pins go (which detaches them).
pub fn undo(staged: Staged) {
    for c in staged.changes.into_iter().rev() {
        if let Some(old) = &c.old_prog {
            let _ = ffi::link_update(c.fd.as_fd(), old.as_fd(), None);
        }
        if let Some(tmp) = &c.tmp {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Make the new links' pins visible: each temporary pin is renamed over `DIR/links/<name>`,
/// and a link pinned there before is released (detached, unless something else holds it).
pub fn publish(staged: &mut Staged) -> Result<()> {
    let mut failed = None;
    for c in &mut staged.changes {
        let Some(tmp) = &c.tmp else { continue };
        if failed.is_some() {
            let _ = std::fs::remove_file(tmp);
            continue;
        }
        match std::fs::rename(tmp, &c.pin) {
            // Closing the last reference to the old link detaches it now.
            Ok(()) => drop(c.old_link.take()),
            Err(e) => {
                let _ = std::fs::remove_file(tmp);
                failed = Some(Error::Load(format!(
                    "renaming {} to {}: {e} (link pins before this one were already replaced)",
                    tmp.display(),
                    c.pin.display()
                )));
            }
        }
    }
    failed.map_or(Ok(()), Err)
}

/// Remove the link pins in `links_dir` (`unload`), each link detached before this returns
/// when nothing else holds it: the link is held open while its pin goes, then closed (the
/// kernel frees a link released through a pin's removal later, from a work queue).
pub fn remove_link_pins(links_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut held = Vec::new();
    if let Ok(rd) = std::fs::read_dir(links_dir) {
        for e in rd.flatten() {
            if let Ok(fd) = ffi::obj_get(&e.path()) {
                held.push(fd);
            }
        }
    }
    let removed = crate::load::pins::remove_pins(links_dir);
    drop(held);
    removed
}

const BPF_TCX_INGRESS: u32 = libbpf_rs::libbpf_sys::BPF_TCX_INGRESS;
const BPF_TCX_EGRESS: u32 = libbpf_rs::libbpf_sys::BPF_TCX_EGRESS;

fn tcx_type(dir: TcDir) -> u32 {
    match dir {
        TcDir::Ingress => BPF_TCX_INGRESS,
        TcDir::Egress => BPF_TCX_EGRESS,
    }
}

/// True when the pinned link (`info`) attaches the same kind of program to the same target,
/// and its kind supports `BPF_LINK_UPDATE`.
fn updatable_for(
    info: &LinkInfo,
    target: &Target,
    resolved: &Resolved,
    loaded: &Loaded,
    prog: usize,
) -> Result<bool> {
    Ok(match (&info.info, target) {
        (LinkTypeInfo::Xdp(x), Target::Xdp { iface, .. }) => {
            x.ifindex == resolved.ifindex(iface)?
        }
        (LinkTypeInfo::Tcx(t), Target::Tcx { iface, dir }) => {
            t.ifindex == resolved.ifindex(iface)? && t.attach_type.clone() as u32 == tcx_type(*dir)
        }
        (LinkTypeInfo::StructOps(_), Target::StructOps) => true,
        (LinkTypeInfo::Cgroup(c), Target::Cgroup(_)) => {
            let (_, id) = resolved.cgroup()?;
            let want = loaded
                .program(prog)
                .map(|p| p.attach_type() as u32)
                .ok_or_else(|| Error::Load("planned program out of range".to_string()))?;
            c.cgroup_id == id && c.attach_type.clone() as u32 == want
        }
        _ => false,
    })
}

/// Make the link of one planned attachment.
fn create(l: &PlannedLink, resolved: &Resolved, loaded: &mut Loaded) -> Result<LinkFd> {
    if l.target == Target::StructOps {
        let j = l.item.wrapping_sub(loaded.progs.len());
        let mut ops = loaded.struct_ops_mut(j).ok_or_else(out_of_range)?;
        return ops
            .attach_struct_ops()
            .map(LinkFd::Libbpf)
            .map_err(|e| Error::Load(format!("{e:#}")));
    }
    let prog = loaded.progs.get(l.item).ok_or_else(out_of_range)?;
    match &l.target {
        Target::Xdp { iface, mode } => {
            let flags = match mode {
                XdpMode::Auto => 0,
                XdpMode::Native => libbpf_rs::libbpf_sys::XDP_FLAGS_DRV_MODE,
                XdpMode::Generic => libbpf_rs::libbpf_sys::XDP_FLAGS_SKB_MODE,
            };
            let index = resolved.ifindex(iface)?;
            raw_link(
                prog.handle.as_fd(),
                index,
                libbpf_rs::libbpf_sys::BPF_XDP,
                flags,
            )
        }
        Target::Tcx { iface, dir } => {
            let index = resolved.ifindex(iface)?;
            raw_link(prog.handle.as_fd(), index, tcx_type(*dir), 0)
        }
        Target::Cgroup(_) => {
            let (cg, _) = resolved.cgroup()?;
            let p = loaded.program_mut(l.item).ok_or_else(out_of_range)?;
            p.attach_cgroup(cg.as_raw_fd())
                .map(LinkFd::Libbpf)
                .map_err(|e| Error::Load(format!("{e:#}")))
        }
        Target::Section(_) => {
            let p = loaded.program_mut(l.item).ok_or_else(out_of_range)?;
            p.attach()
                .map(LinkFd::Libbpf)
                .map_err(|e| Error::Load(format!("libbpf's auto-attach: {e:#}")))
        }
        Target::StructOps => Err(out_of_range()),
    }
}

fn raw_link(prog: BorrowedFd<'_>, ifindex: u32, attach_type: u32, flags: u32) -> Result<LinkFd> {
    let target = i32::try_from(ifindex).map_err(|_| Error::Load("ifindex too large".into()))?;
    ffi::link_create(prog, target, attach_type, flags)
        .map(LinkFd::Raw)
        .map_err(|e| {
            let hint = if e.raw_os_error() == Some(libc::EBUSY) {
                " (another XDP program is attached there; remove it, or `bpfmerge unload` the \
                 pin dir that attached it)"
            } else {
                ""
            };
            Error::Load(format!("{e}{hint}"))
        })
}
