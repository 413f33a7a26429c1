//! Attach targets in the running system: takes the plan, gives each interface's index, the
//! cgroup opened (with its id), and tracefs mounted when a tracepoint program needs it — or an
//! error naming the program and the missing target, before anything is attached.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::plan::{Plan, Target};
use crate::error::{Error, Result};
use crate::load::ffi;

/// Where libbpf looks for tracepoint ids (`events/<category>/<name>/id`), first choice.
pub const TRACEFS: &str = "/sys/kernel/tracing";
/// libbpf's other choice, used when it exists (debugfs mounted).
const DEBUGFS_TRACING: &str = "/sys/kernel/debug/tracing";

/// The targets of a plan, found.
#[derive(Debug, Default)]
pub struct Resolved {
    ifindex: BTreeMap<String, u32>,
    cgroup: Option<(PathBuf, File, u64)>,
}

impl Resolved {
    /// The index of an interface of the plan.
    pub fn ifindex(&self, iface: &str) -> Result<u32> {
        self.ifindex
            .get(iface)
            .copied()
            .ok_or_else(|| Error::Load(format!("interface {iface} was not resolved")))
    }

    /// The cgroup of the plan: its directory (open) and its id.
    pub fn cgroup(&self) -> Result<(&File, u64)> {
        self.cgroup
            .as_ref()
            .map(|(_, f, id)| (f, *id))
            .ok_or_else(|| Error::Load("the cgroup was not resolved".to_string()))
    }
}

/// Find every target of `plan`; `prog_name(i)` names program `i` in errors.
pub fn resolve(plan: &Plan, prog_name: &dyn Fn(usize) -> String) -> Result<Resolved> {
    let mut r = Resolved::default();
    let mut needs_tracefs = false;
    for l in &plan.links {
        match &l.target {
            Target::Xdp { iface, .. } | Target::Tcx { iface, .. } => {
                if r.ifindex.contains_key(iface) {
                    continue;
                }
                let index = ffi::if_nametoindex(iface).map_err(|e| {
                    Error::Load(format!(
                        "program `{}`: interface {iface}: {e}; nothing was attached and no \
                         pin was changed",
                        prog_name(l.item)
                    ))
                })?;
                r.ifindex.insert(iface.clone(), index);
            }
            Target::Cgroup(path) => {
                if r.cgroup.is_none() {
                    r.cgroup = Some(open_cgroup(path, &prog_name(l.item))?);
                }
            }
            Target::Section(s) => {
                needs_tracefs |= s.starts_with("tracepoint/") || s.starts_with("tp/");
            }
            Target::StructOps => {}
        }
    }
    if needs_tracefs {
        ensure_tracefs()?;
    }
    Ok(r)
}

fn open_cgroup(path: &Path, prog: &str) -> Result<(PathBuf, File, u64)> {
    let fail = |e: std::io::Error| {
        Error::Load(format!(
            "program `{prog}`: cgroup {}: {e}; nothing was attached and no pin was changed",
            path.display()
        ))
    };
    let f = File::open(path).map_err(fail)?;
    let meta = f.metadata().map_err(fail)?;
    if !meta.is_dir() {
        return Err(fail(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a directory (give a cgroup v2 directory, e.g. /sys/fs/cgroup/unified/NAME)",
        )));
    }
    // A cgroup v2 directory's inode number is the kernel's cgroup id.
    Ok((path.to_path_buf(), f, meta.ino()))
}

fn has_events(dir: &str) -> bool {
    Path::new(dir).join("events").is_dir()
}

/// libbpf reads tracepoint ids from tracefs; mount it at /sys/kernel/tracing when neither
/// that nor debugfs's tracing directory has `events` (as `load` mounts bpffs).
pub fn ensure_tracefs() -> Result<()> {
    if has_events(TRACEFS) || has_events(DEBUGFS_TRACING) {
        return Ok(());
    }
    ffi::mount_tracefs(Path::new(TRACEFS)).map_err(|e| {
        Error::Load(format!(
            "tracepoint programs need tracefs, which is not mounted, and mounting it at \
             {TRACEFS} failed: {e} (mount it with `mount -t tracefs tracefs {TRACEFS}`)"
        ))
    })?;
    if has_events(TRACEFS) {
        Ok(())
    } else {
        Err(Error::Load(format!(
            "tracefs mounted at {TRACEFS} has no `events` directory (kernel without tracepoints?)"
        )))
    }
}
