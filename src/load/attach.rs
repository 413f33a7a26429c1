//! `load --attach`: takes the loaded programs and the targets given on the command line, gives
//! every program attached through a link pinned at `DIR/links/<program>` — a link pinned by an
//! earlier `load` updated in place when the kernel allows it — or an error with nothing
//! attached and every old link as it was. Steps: [`plan`] (sections and flags), [`targets`]
//! (interfaces, cgroup, tracefs), [`links`] (kernel links and their pins).

pub mod info;
pub mod links;
pub mod plan;
pub mod targets;

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::load::libbpf_log::Capture;
use crate::load::objects::Loaded;
pub use links::Action;
pub use plan::{AttachOptions, TcDir, TcTarget, XdpMode, XdpTarget};

/// One link after `load --attach`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AttachedLink {
    /// The program the link runs (for a struct_ops link: the struct_ops map it registers).
    pub program: String,
    pub pin_path: PathBuf,
    /// Kernel link type: `xdp`, `tcx`, `cgroup`, `perf_event`, `raw_tracepoint`, `tracing`, ...
    pub link_type: String,
    /// What it is attached to, e.g. `veth0 (ifindex 4)`, `tracepoint sched_process_exec`.
    pub target: String,
    /// Kernel link id.
    pub id: u32,
    /// Kernel id of the program the link runs (the new one).
    pub prog_id: u32,
    /// `created`, `updated` (the pinned link runs the new program, no gap) or `replaced` (a
    /// new link took the old one's pin).
    pub action: Action,
}

/// A program `load --attach` left unattached, and why.
#[derive(Clone, Debug, serde::Serialize)]
pub struct UnattachedProg {
    pub program: String,
    pub reason: String,
}

/// Links made or updated by a `load`, not yet published.
pub struct Attachments {
    plan: plan::Plan,
    staged: links::Staged,
}

/// Plan, find the targets, then make or update every link (new ones under temporary pins).
/// Nothing of this is visible in `links_dir` until [`Attachments::publish`]; on error nothing
/// changed.
pub fn stage(
    loaded: &mut Loaded,
    opts: &AttachOptions,
    links_dir: &Path,
    log: &Capture,
) -> Result<Attachments> {
    let infos: Vec<plan::ProgInfo<'_>> = loaded
        .attachables()
        .into_iter()
        .map(|(name, section)| plan::ProgInfo { name, section })
        .collect();
    let plan = plan::plan(&infos, opts)?;
    let name = |i: usize| {
        infos
            .get(i)
            .map_or_else(String::new, |p| p.name.to_string())
    };
    let resolved = targets::resolve(&plan, &name)?;
    drop(infos);
    let staged = links::stage(&plan, &resolved, loaded, links_dir, log)?;
    Ok(Attachments { plan, staged })
}

impl Attachments {
    /// Undo everything (old links run their old programs again, new links are detached).
    pub fn undo(self) {
        links::undo(self.staged);
    }

    /// Rename the new links' temporary pins over `DIR/links/<name>`; the report.
    pub fn publish(mut self, loaded: &Loaded) -> Result<(Vec<AttachedLink>, Vec<UnattachedProg>)> {
        links::publish(&mut self.staged)?;
        let items = loaded.attachables();
        let name = |i: usize| {
            items
                .get(i)
                .map_or_else(String::new, |(n, _)| n.to_string())
        };
        let mut out = Vec::new();
        for c in &self.staged.changes {
            let prog = self
                .plan
                .links
                .get(c.planned)
                .map_or(usize::MAX, |l| l.item);
            let info = libbpf_rs::query::LinkInfo::from_fd(std::os::fd::AsFd::as_fd(&c.fd)).ok();
            let (link_type, target) = info
                .as_ref()
                .map(|i| info::describe(i, info::Where::Attached))
                .unwrap_or_default();
            let link = AttachedLink {
                program: name(prog),
                pin_path: c.pin.clone(),
                link_type,
                target,
                id: info.as_ref().map_or(0, |i| i.id),
                prog_id: info.as_ref().map_or(0, |i| i.prog_id),
                action: c.action,
            };
            out.push((c.planned, link));
        }
        // The plan's order (program order, then target order), not the staging order.
        out.sort_by_key(|(planned, _)| *planned);
        let out = out.into_iter().map(|(_, l)| l).collect();
        let unattached = self
            .plan
            .unattached
            .iter()
            .map(|u| UnattachedProg {
                program: name(u.item),
                reason: u.reason.clone(),
            })
            .collect();
        Ok((out, unattached))
    }
}
