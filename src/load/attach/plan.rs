//! The attach plan: takes each loaded program's name and ELF section plus the `--xdp`, `--tc`,
//! `--cgroup` targets, gives where every program is to be attached and under which pin name —
//! or, before anything is attached, an error naming a program nobody gave a target for. Pure:
//! reads no kernel state.
//!
//! Section names are read as libbpf's auto-attach reads them (`section_defs` in libbpf.c): a
//! `+` definition matches the bare name or the name followed by `/`, and only the form with
//! a target after the `/` auto-attaches (`SEC("kprobe")` alone loads, but libbpf attaches it
//! nowhere).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// How XDP is attached: the kernel's choice (native when the driver has it), or forced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum XdpMode {
    #[default]
    Auto,
    /// `XDP_FLAGS_DRV_MODE`.
    Native,
    /// `XDP_FLAGS_SKB_MODE`.
    Generic,
}

/// `--xdp IFACE[:native|generic]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XdpTarget {
    pub iface: String,
    pub mode: XdpMode,
}

/// Direction of a tcx attachment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TcDir {
    Ingress,
    Egress,
}

impl fmt::Display for TcDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TcDir::Ingress => "ingress",
            TcDir::Egress => "egress",
        })
    }
}

/// `--tc IFACE:ingress|egress`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcTarget {
    pub iface: String,
    pub dir: TcDir,
}

/// An interface name as the kernel accepts it (`dev_valid_name`): 1 to 15 bytes, no `/`,
/// `:` or white space, not `.` or `..`.
fn check_iface(iface: &str, flag: &str) -> std::result::Result<(), String> {
    if iface.is_empty()
        || iface.len() > 15
        || iface == "."
        || iface == ".."
        || iface
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace())
    {
        return Err(format!(
            "{flag}: `{iface}` is not an interface name (1 to 15 bytes, no `/`, `:` or spaces)"
        ));
    }
    Ok(())
}

impl FromStr for XdpTarget {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (iface, mode) = match s.split_once(':') {
            None => (s, XdpMode::Auto),
            Some((i, "native")) => (i, XdpMode::Native),
            Some((i, "generic")) => (i, XdpMode::Generic),
            Some((_, m)) => {
                return Err(format!(
                    "--xdp {s}: unknown mode `{m}` (IFACE, IFACE:native or IFACE:generic)"
                ))
            }
        };
        check_iface(iface, "--xdp")?;
        Ok(XdpTarget {
            iface: iface.to_string(),
            mode,
        })
    }
}

impl FromStr for TcTarget {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (iface, dir) = match s.split_once(':') {
            Some((i, "ingress")) => (i, TcDir::Ingress),
            Some((i, "egress")) => (i, TcDir::Egress),
            _ => return Err(format!("--tc {s}: expected IFACE:ingress or IFACE:egress")),
        };
        check_iface(iface, "--tc")?;
        Ok(TcTarget {
            iface: iface.to_string(),
            dir,
        })
    }
}

/// What `load --attach` is to attach to.
#[derive(Clone, Debug, Default)]
pub struct AttachOptions {
    /// `--attach=available`: a program without a target is loaded and left unattached
    /// (reported) instead of failing the load.
    pub available_only: bool,
    pub xdp: Vec<XdpTarget>,
    pub tc: Vec<TcTarget>,
    pub cgroup: Option<std::path::PathBuf>,
    /// `--no-attach PROG`: load and pin these programs but attach them nowhere (tail-call
    /// targets, programs run by other programs).
    pub skip: Vec<String>,
}

/// Where one program goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// An XDP link on an interface.
    Xdp { iface: String, mode: XdpMode },
    /// A tcx link on an interface.
    Tcx { iface: String, dir: TcDir },
    /// A cgroup link (attach type: the program's expected attach type).
    Cgroup(std::path::PathBuf),
    /// libbpf's auto-attach, which reads the target from the section name.
    Section(String),
    /// A struct_ops map of `.struct_ops.link`, registered through a struct_ops link.
    StructOps,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Xdp { iface, mode } => match mode {
                XdpMode::Auto => write!(f, "{iface}"),
                XdpMode::Native => write!(f, "{iface} (native)"),
                XdpMode::Generic => write!(f, "{iface} (generic)"),
            },
            Target::Tcx { iface, dir } => write!(f, "{iface} {dir}"),
            Target::Cgroup(p) => write!(f, "{}", p.display()),
            Target::Section(s) => write!(f, "{s}"),
            Target::StructOps => write!(f, "struct_ops"),
        }
    }
}

/// One link to make (or update).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedLink {
    /// Index of the program or struct_ops map in the plan's input (see [`plan`]).
    pub item: usize,
    pub target: Target,
    /// File name under `DIR/links`: the program's name, or `<program>@<target>` when the
    /// program has several targets.
    pub pin_name: String,
}

/// A program left unattached (`--attach=available`, `--no-attach`, or attached through its
/// struct_ops map).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unattached {
    /// Index into the plan's input.
    pub item: usize,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub links: Vec<PlannedLink>,
    pub unattached: Vec<Unattached>,
}

/// What a section says about attaching.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Hook {
    Xdp,
    /// `tc`, `classifier` (no direction), `tc/ingress`, `tcx/egress`, ...
    Tc(Option<TcDir>),
    Cgroup,
    /// libbpf auto-attaches it from the section name.
    Auto,
    /// Registered through its struct_ops map, not on its own.
    StructOps,
    /// A struct_ops map defined in `.struct_ops.link`.
    StructOpsMap,
    /// Needs a target that only the section name could give, and it does not.
    NoTarget(&'static str),
    /// No kind of attachment bpfmerge makes.
    Unsupported,
}

/// libbpf's `+` sections that auto-attach when a target follows the `/`.
const AUTO_PREFIXES: &[&str] = &[
    "kprobe",
    "kretprobe",
    "uprobe",
    "uprobe.s",
    "uretprobe",
    "uretprobe.s",
    "kprobe.multi",
    "kretprobe.multi",
    "kprobe.session",
    "uprobe.multi",
    "uretprobe.multi",
    "uprobe.multi.s",
    "uretprobe.multi.s",
    "uprobe.session",
    "uprobe.session.s",
    "usdt",
    "usdt.s",
    "ksyscall",
    "kretsyscall",
    "tracepoint",
    "tp",
    "raw_tracepoint",
    "raw_tp",
    "raw_tracepoint.w",
    "raw_tp.w",
    "tp_btf",
    "fentry",
    "fmod_ret",
    "fexit",
    "fentry.s",
    "fmod_ret.s",
    "fexit.s",
    "lsm",
    "lsm.s",
    "iter",
    "iter.s",
];

/// libbpf's exact cgroup sections (`cgroup_skb/...`, `cgroup/...`, `sockops`).
fn is_cgroup(section: &str) -> bool {
    section == "sockops"
        || section.starts_with("cgroup_skb/")
        || (section.starts_with("cgroup/") && section != "cgroup/skb")
}

fn hook_of(section: &str) -> Hook {
    match section {
        ".struct_ops.link" => return Hook::StructOpsMap,
        ".struct_ops" => {
            return Hook::NoTarget(
                "a struct_ops map of `.struct_ops` is registered without a link, which cannot \
                 be pinned; define it in SEC(\".struct_ops.link\")",
            )
        }
        "xdp" | "xdp.frags" => return Hook::Xdp,
        "tc" | "classifier" => return Hook::Tc(None),
        "tc/ingress" | "tcx/ingress" => return Hook::Tc(Some(TcDir::Ingress)),
        "tc/egress" | "tcx/egress" => return Hook::Tc(Some(TcDir::Egress)),
        _ => {}
    }
    if is_cgroup(section) {
        return Hook::Cgroup;
    }
    if section == "struct_ops"
        || section.starts_with("struct_ops/")
        || section == "struct_ops.s"
        || section.starts_with("struct_ops.s/")
    {
        return Hook::StructOps;
    }
    let (prefix, rest) = match section.split_once('/') {
        Some((p, r)) => (p, Some(r)),
        None => (section, None),
    };
    if !AUTO_PREFIXES.contains(&prefix) {
        return Hook::Unsupported;
    }
    match rest {
        Some(r) if !r.is_empty() && !is_bare_uprobe(prefix, r) => Hook::Auto,
        _ => Hook::NoTarget(
            "its section names no target after `/` (libbpf attaches such a program nowhere)",
        ),
    }
}

/// `uprobe/FUNC` without a binary: libbpf wants `uprobe/PATH:FUNC` (`usdt/PATH:PROVIDER:NAME`)
/// to auto-attach.
fn is_bare_uprobe(prefix: &str, rest: &str) -> bool {
    let user = ["uprobe", "uretprobe", "usdt"]
        .iter()
        .any(|p| prefix.starts_with(p));
    user && !rest.contains(':')
}

/// The section targets, labelled for a pin name (`@` and the label; dots become `_`, which
/// bpffs refuses in names).
fn label(t: &Target) -> String {
    let raw = match t {
        Target::Xdp { iface, .. } => iface.clone(),
        Target::Tcx { iface, dir } => format!("{iface}:{dir}"),
        Target::Cgroup(p) => p.display().to_string().replace('/', "_"),
        Target::Section(s) => s.replace('/', "_"),
        Target::StructOps => "struct_ops".to_string(),
    };
    raw.replace(['.', '~'], "_")
}

/// One program — or struct_ops map — as the plan sees it: name and ELF section (a struct_ops
/// map's is `.struct_ops.link` or `.struct_ops`).
pub struct ProgInfo<'a> {
    pub name: &'a str,
    pub section: &'a str,
}

/// Plan the attachment of every item of `progs` (the load's programs, then its struct_ops
/// maps). Errors (before anything attaches) when a program needs a target nobody gave, unless
/// `available_only`; when two XDP programs would share one interface; when two links would
/// get one pin name; when a flag names a program that is not loaded.
pub fn plan(progs: &[ProgInfo<'_>], opts: &AttachOptions) -> Result<Plan> {
    check_skips(progs, opts)?;
    let mut plan = Plan::default();
    let mut missing = Vec::new();
    for (i, p) in progs.iter().enumerate() {
        if opts.skip.iter().any(|s| s == p.name) {
            plan.unattached.push(Unattached {
                item: i,
                reason: "--no-attach".to_string(),
            });
            continue;
        }
        if hook_of(p.section) == Hook::StructOps {
            plan.unattached.push(Unattached {
                item: i,
                reason: "a struct_ops program: registered through its struct_ops map".to_string(),
            });
            continue;
        }
        match targets_of(p, opts) {
            Ok(targets) => push_links(&mut plan, i, p.name, targets),
            Err(reason) if opts.available_only => {
                plan.unattached.push(Unattached { item: i, reason })
            }
            Err(reason) => missing.push(format!("program `{}`: {reason}", p.name)),
        }
    }
    if !missing.is_empty() {
        return Err(Error::Load(format!(
            "--attach: nothing was attached or pinned, because\n  {}\n(give the targets, \
             leave programs out with --no-attach PROG, or use --attach=available to load \
             them unattached)",
            missing.join("\n  ")
        )));
    }
    check_xdp_conflicts(progs, &plan)?;
    check_pin_names(progs, &plan)?;
    check_flags_used(&plan, opts)?;
    Ok(plan)
}

/// A target flag that no program uses is a mistake (a wrong object, a misspelt section).
fn check_flags_used(plan: &Plan, opts: &AttachOptions) -> Result<()> {
    let used = |f: &dyn Fn(&Target) -> bool| plan.links.iter().any(|l| f(&l.target));
    for x in &opts.xdp {
        if !used(&|t| matches!(t, Target::Xdp { iface, .. } if *iface == x.iface)) {
            return Err(Error::Usage(format!(
                "--xdp {}: no XDP program of this load is attached there",
                x.iface
            )));
        }
    }
    for tc in &opts.tc {
        if !used(
            &|t| matches!(t, Target::Tcx { iface, dir } if *iface == tc.iface && *dir == tc.dir),
        ) {
            return Err(Error::Usage(format!(
                "--tc {}:{}: no tc program of this load is attached there",
                tc.iface, tc.dir
            )));
        }
    }
    if let Some(cg) = &opts.cgroup {
        if !used(&|t| matches!(t, Target::Cgroup(_))) {
            return Err(Error::Usage(format!(
                "--cgroup {}: no cgroup program in this load",
                cg.display()
            )));
        }
    }
    Ok(())
}

/// A program and a struct_ops map (or two struct_ops maps of two objects) of one name would
/// need one pin.
fn check_pin_names(progs: &[ProgInfo<'_>], plan: &Plan) -> Result<()> {
    let mut seen: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for l in &plan.links {
        if let Some(first) = seen.insert(&l.pin_name, l.item) {
            let what = |i: usize| {
                progs
                    .get(i)
                    .map_or_else(String::new, |p| format!("`{}` ({})", p.name, p.section))
            };
            return Err(Error::Load(format!(
                "--attach: {} and {} would both pin their link at links/{}; nothing was \
                 attached or pinned",
                what(first),
                what(l.item),
                l.pin_name
            )));
        }
    }
    Ok(())
}

fn check_skips(progs: &[ProgInfo<'_>], opts: &AttachOptions) -> Result<()> {
    for s in &opts.skip {
        if !progs.iter().any(|p| p.name == s) {
            return Err(Error::Usage(format!(
                "--no-attach {s}: no program of that name is loaded"
            )));
        }
    }
    Ok(())
}

fn push_links(plan: &mut Plan, item: usize, name: &str, targets: Vec<Target>) {
    let several = targets.len() > 1;
    for target in targets {
        let pin_name = if several {
            format!("{name}@{}", label(&target))
        } else {
            name.to_string()
        };
        plan.links.push(PlannedLink {
            item,
            target,
            pin_name,
        });
    }
}

/// The targets of one program, or why it has none.
fn targets_of(p: &ProgInfo<'_>, opts: &AttachOptions) -> std::result::Result<Vec<Target>, String> {
    let targets: Vec<Target> = match hook_of(p.section) {
        Hook::Xdp => opts
            .xdp
            .iter()
            .map(|x| Target::Xdp {
                iface: x.iface.clone(),
                mode: x.mode,
            })
            .collect(),
        Hook::Tc(dir) => opts
            .tc
            .iter()
            .filter(|t| dir.is_none_or(|d| d == t.dir))
            .map(|t| Target::Tcx {
                iface: t.iface.clone(),
                dir: t.dir,
            })
            .collect(),
        Hook::Cgroup => opts.cgroup.iter().cloned().map(Target::Cgroup).collect(),
        Hook::Auto => vec![Target::Section(p.section.to_string())],
        Hook::StructOpsMap => vec![Target::StructOps],
        Hook::StructOps => {
            return Err("a struct_ops program is registered through its struct_ops map".into())
        }
        Hook::NoTarget(why) => return Err(format!("section `{}`: {why}", p.section)),
        Hook::Unsupported => {
            return Err(format!(
                "section `{}`: bpfmerge does not attach this kind of program",
                p.section
            ))
        }
    };
    if targets.is_empty() {
        return Err(match hook_of(p.section) {
            Hook::Xdp => format!("section `{}` needs --xdp IFACE", p.section),
            Hook::Tc(Some(d)) => format!("section `{}` needs --tc IFACE:{d}", p.section),
            Hook::Tc(None) => format!(
                "section `{}` needs --tc IFACE:ingress or --tc IFACE:egress",
                p.section
            ),
            _ => format!("section `{}` needs --cgroup PATH", p.section),
        });
    }
    Ok(targets)
}

/// An interface has one XDP program (per mode); two XDP programs of one load on one
/// interface would make the second attach fail after the first succeeded.
fn check_xdp_conflicts(progs: &[ProgInfo<'_>], plan: &Plan) -> Result<()> {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for l in &plan.links {
        if let Target::Xdp { iface, .. } = &l.target {
            if let Some((_, first)) = seen.iter().find(|(i, _)| i == iface) {
                let name = |i: usize| progs.get(i).map_or("?", |p| p.name);
                return Err(Error::Load(format!(
                    "--attach: XDP programs `{}` and `{}` would both be attached to {iface}, \
                     which takes one; leave one out with --no-attach PROG (e.g. a tail-call \
                     target); nothing was attached or pinned",
                    name(*first),
                    name(l.item)
                )));
            }
            seen.push((iface, l.item));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p<'a>(name: &'a str, section: &'a str) -> ProgInfo<'a> {
        ProgInfo { name, section }
    }

    #[test]
    fn sections_are_read_as_libbpf_auto_attach_reads_them() {
        for s in [
            "tracepoint/sched/sched_process_exec",
            "tp/syscalls/sys_enter_execve",
            "raw_tp/sched_switch",
            "raw_tracepoint/sys_enter",
            "tp_btf/sched_switch",
            "fentry/do_unlinkat",
            "fexit/do_unlinkat",
            "fmod_ret/x",
            "lsm/file_open",
            "kprobe/do_nanosleep",
            "kretprobe/do_nanosleep",
            "ksyscall/execve",
            "uprobe//bin/bash:readline",
            "uprobe.multi//bin/bash:read*",
            "usdt//usr/lib/libc.so.6:libc:setjmp",
            "iter/task",
        ] {
            assert_eq!(hook_of(s), Hook::Auto, "{s}");
        }
        for s in [
            "kprobe",
            "tracepoint",
            "tp_btf",
            "uprobe/readline",
            "kprobe/",
        ] {
            assert!(matches!(hook_of(s), Hook::NoTarget(_)), "{s}");
        }
        assert_eq!(hook_of("xdp"), Hook::Xdp);
        assert_eq!(hook_of("xdp.frags"), Hook::Xdp);
        assert_eq!(hook_of("tc"), Hook::Tc(None));
        assert_eq!(hook_of("classifier"), Hook::Tc(None));
        assert_eq!(hook_of("tcx/ingress"), Hook::Tc(Some(TcDir::Ingress)));
        assert_eq!(hook_of("tc/egress"), Hook::Tc(Some(TcDir::Egress)));
        assert_eq!(hook_of("cgroup_skb/ingress"), Hook::Cgroup);
        assert_eq!(hook_of("cgroup/connect4"), Hook::Cgroup);
        assert_eq!(hook_of("sockops"), Hook::Cgroup);
        assert_eq!(hook_of("struct_ops/cc_init"), Hook::StructOps);
        assert_eq!(hook_of(".struct_ops.link"), Hook::StructOpsMap);
        assert!(matches!(hook_of(".struct_ops"), Hook::NoTarget(_)));
        // Not `prefix/`: `kprobex/...` is not libbpf's kprobe.
        assert_eq!(hook_of("kprobex/foo"), Hook::Unsupported);
        assert_eq!(hook_of("socket"), Hook::Unsupported);
        assert_eq!(hook_of("xdp/devmap"), Hook::Unsupported);
    }

    #[test]
    fn flags_parse_and_bad_ones_say_what_is_expected() {
        assert_eq!(
            "veth0:generic".parse::<XdpTarget>().unwrap(),
            XdpTarget {
                iface: "veth0".into(),
                mode: XdpMode::Generic
            }
        );
        assert_eq!("eth0".parse::<XdpTarget>().unwrap().mode, XdpMode::Auto);
        assert!("eth0:fast"
            .parse::<XdpTarget>()
            .unwrap_err()
            .contains("native"));
        assert!("".parse::<XdpTarget>().is_err());
        assert!("a/b".parse::<XdpTarget>().is_err());
        assert!("0123456789abcdef".parse::<XdpTarget>().is_err());
        assert_eq!(
            "v1:egress".parse::<TcTarget>().unwrap(),
            TcTarget {
                iface: "v1".into(),
                dir: TcDir::Egress
            }
        );
        assert!("v1".parse::<TcTarget>().unwrap_err().contains("ingress"));
    }

    #[test]
    fn every_program_gets_its_targets_and_pin_name() {
        let progs = [
            p("xdp_count", "xdp"),
            p("tc_count", "tc"),
            p("tcx_in", "tcx/ingress"),
            p("on_exec", "tracepoint/sched/sched_process_exec"),
        ];
        let opts = AttachOptions {
            xdp: vec!["v0".parse().unwrap()],
            tc: vec!["v0:ingress".parse().unwrap(), "v0:egress".parse().unwrap()],
            ..Default::default()
        };
        let plan = plan(&progs, &opts).unwrap();
        let got: Vec<(usize, &str)> = plan
            .links
            .iter()
            .map(|l| (l.item, l.pin_name.as_str()))
            .collect();
        // tc (no direction) goes to both --tc targets, so its pins carry the target;
        // tcx/ingress only to the ingress one.
        assert_eq!(
            got,
            [
                (0, "xdp_count"),
                (1, "tc_count@v0:ingress"),
                (1, "tc_count@v0:egress"),
                (2, "tcx_in"),
                (3, "on_exec"),
            ]
        );
        assert!(plan.unattached.is_empty());
    }

    #[test]
    fn a_program_without_target_fails_the_plan_or_is_left_unattached() {
        let progs = [p("xdp_count", "xdp"), p("cg", "cgroup_skb/ingress")];
        let e = plan(&progs, &AttachOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`xdp_count`") && e.contains("--xdp IFACE"),
            "{e}"
        );
        assert!(e.contains("`cg`") && e.contains("--cgroup PATH"), "{e}");
        let opts = AttachOptions {
            available_only: true,
            xdp: vec!["v0".parse().unwrap()],
            ..Default::default()
        };
        let plan = plan(&progs, &opts).unwrap();
        // A flag no program uses is refused.
        let unused = AttachOptions {
            tc: vec!["v0:ingress".parse().unwrap()],
            ..opts.clone()
        };
        let e = super::plan(&progs, &unused).unwrap_err().to_string();
        assert!(e.contains("--tc v0:ingress"), "{e}");
        assert_eq!(plan.links.len(), 1);
        assert_eq!(plan.unattached.len(), 1);
        assert_eq!(plan.unattached[0].item, 1);
    }

    #[test]
    fn a_struct_ops_map_is_linked_and_pinned_under_its_name_unless_a_program_has_it() {
        let progs = [
            p("cc_init", "struct_ops/cc_init"),
            p("bm_cc", ".struct_ops.link"),
        ];
        let plan = plan(&progs, &AttachOptions::default()).unwrap();
        assert_eq!(plan.links.len(), 1);
        assert_eq!(plan.links[0].target, Target::StructOps);
        assert_eq!(plan.links[0].pin_name, "bm_cc");
        assert_eq!(plan.unattached[0].item, 0, "the program goes with its map");
        let clash = [
            p("bm_cc", "tp/sched/sched_switch"),
            p("bm_cc", ".struct_ops.link"),
        ];
        let e = super::plan(&clash, &AttachOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("links/bm_cc"), "{e}");
    }

    #[test]
    fn two_xdp_programs_on_one_interface_are_refused_unless_one_is_left_out() {
        let progs = [p("xdp_entry", "xdp"), p("xdp_handler", "xdp")];
        let mut opts = AttachOptions {
            xdp: vec!["v0".parse().unwrap()],
            ..Default::default()
        };
        let e = plan(&progs, &opts).unwrap_err().to_string();
        assert!(e.contains("xdp_entry") && e.contains("xdp_handler"), "{e}");
        opts.skip = vec!["xdp_handler".into()];
        let plan = plan(&progs, &opts).unwrap();
        assert_eq!(plan.links.len(), 1);
        assert_eq!(plan.unattached[0].reason, "--no-attach");
        opts.skip = vec!["nope".into()];
        assert!(super::plan(&progs, &opts).is_err());
    }
}
