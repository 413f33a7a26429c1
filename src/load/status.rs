//! `bpfmerge status`: takes a pin dir, gives what is pinned in `DIR/maps` and `DIR/progs` with
//! the kernel's view of each object (id, type, sizes, and for maps the number of entries), like
//! `bpftool map show` / `bpftool prog show` scoped to the pin dir, and the links in `DIR/links`
//! (type, target, program id). Read-only: takes no lock.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use libbpf_rs::query::{ProgInfoIter, ProgInfoQueryOptions, ProgramInfo};
use libbpf_rs::{MapCore, MapFlags, MapHandle, Program};

use super::{compat, pindir};
use crate::error::{Error, Result};

/// One pinned map.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PinnedMap {
    /// Pin file name (= map name for pins made by `load`).
    pub name: String,
    pub pin_path: PathBuf,
    /// Kernel map id.
    pub id: u32,
    /// Kernel map type, e.g. `array (2)`.
    pub map_type: String,
    /// The kernel's (possibly truncated, 15 bytes) name of the map.
    pub kernel_name: String,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    /// Entries present: keys of a hash-like map; occupied slots of a prog / map-of-maps /
    /// cgroup / dev / cpu array; every slot of a plain or per-CPU array. Null when the kernel
    /// cannot enumerate the map from user space (ring buffers, queues, perf event arrays ...).
    pub entries: Option<u64>,
}

/// One pinned program.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PinnedProg {
    /// Pin file name (= program name for pins made by `load`).
    pub name: String,
    pub pin_path: PathBuf,
    /// Kernel program id.
    pub id: u32,
    /// Program type, e.g. `xdp (6)`.
    pub prog_type: String,
    /// The kernel's (possibly truncated) name of the program.
    pub kernel_name: String,
    /// The program's tag (hash of its instructions), hex.
    pub tag: String,
    /// Ids of the maps the program uses.
    pub map_ids: Vec<u32>,
}

/// One pinned link (`load --attach`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct PinnedLink {
    /// Pin file name (= program name, or `<program>@<target>`).
    pub name: String,
    pub pin_path: PathBuf,
    /// Kernel link id.
    pub id: u32,
    /// Link type: `xdp`, `tcx`, `cgroup`, `perf_event`, `raw_tracepoint`, `tracing`, ...
    pub link_type: String,
    /// What it is attached to (interface, tracepoint, cgroup, ...).
    pub target: String,
    /// Kernel id of the program it runs.
    pub prog_id: u32,
}

/// What `status` found.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StatusReport {
    pub pin_dir: PathBuf,
    pub maps: Vec<PinnedMap>,
    pub progs: Vec<PinnedProg>,
    pub links: Vec<PinnedLink>,
    /// Files under `DIR/maps`, `DIR/progs` or `DIR/links` that are not a pinned map (resp.
    /// program, link), e.g. a temporary pin of an interrupted `load`.
    pub other: Vec<PathBuf>,
}

impl StatusReport {
    pub fn to_text(&self) -> String {
        let mut s = format!("pin dir {}\n", self.pin_dir.display());
        for m in &self.maps {
            let entries = m.entries.map_or_else(|| "?".to_string(), |n| n.to_string());
            let _ = writeln!(
                s,
                "map  {:<20} id {:<6} {:<16} key {}B value {}B max_entries {} entries {} flags {:#x}",
                m.name, m.id, m.map_type, m.key_size, m.value_size, m.max_entries, entries, m.map_flags
            );
        }
        for p in &self.progs {
            let ids: Vec<String> = p.map_ids.iter().map(u32::to_string).collect();
            let _ = writeln!(
                s,
                "prog {:<20} id {:<6} {:<16} tag {} map_ids [{}]",
                p.name,
                p.id,
                p.prog_type,
                p.tag,
                ids.join(",")
            );
        }
        for l in &self.links {
            let _ = writeln!(
                s,
                "link {:<20} id {:<6} {:<16} prog_id {:<6} {}",
                l.name, l.id, l.link_type, l.prog_id, l.target
            );
        }
        for o in &self.other {
            let _ = writeln!(s, "other {}", o.display());
        }
        if self.maps.is_empty() && self.progs.is_empty() && self.links.is_empty() {
            s.push_str("(nothing pinned)\n");
        }
        s
    }
}

/// List what is pinned under `pin_dir`.
pub fn status(pin_dir: &Path) -> Result<StatusReport> {
    check_pin_dir(pin_dir)?;
    let mut other = Vec::new();
    let maps = pins(&pin_dir.join(pindir::MAPS), pinned_map, &mut other)?;
    let progs = pinned_progs(&pin_dir.join(pindir::PROGS), &mut other)?;
    let links = pins(&pin_dir.join(pindir::LINKS), pinned_link, &mut other)?;
    Ok(StatusReport {
        pin_dir: pin_dir.to_path_buf(),
        maps,
        progs,
        links,
        other,
    })
}

/// Refuse a pin dir that is not an existing directory on bpffs.
fn check_pin_dir(pin_dir: &Path) -> Result<()> {
    super::check_dir_path(pin_dir)?;
    match pin_dir.symlink_metadata() {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Error::Load(format!(
                "pin dir {}: not a directory",
                pin_dir.display()
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Load(format!(
                "pin dir {}: does not exist; nothing was loaded there (load objects with \
                 `bpfmerge load OBJ... --pin-dir {}`)",
                pin_dir.display(),
                pin_dir.display()
            )))
        }
        Err(e) => return Err(pindir::io_error(pin_dir, e)),
    }
    if !pindir::is_bpffs(pin_dir)? {
        return Err(Error::NotBpffs {
            path: pin_dir.to_path_buf(),
            detail: format!(
                "not on a bpf filesystem, so nothing can be pinned there; pins live on bpffs \
                 (mounted with `mount -t bpf bpf {}`)",
                pindir::BPFFS_ROOT
            ),
        });
    }
    Ok(())
}

/// The pins under `dir` that `read` recognises (maps or links); the other files go to `other`.
fn pins<T>(dir: &Path, read: fn(&Path) -> Option<T>, other: &mut Vec<PathBuf>) -> Result<Vec<T>> {
    let mut found = Vec::new();
    for path in entries(dir)? {
        match read(&path) {
            Some(p) => found.push(p),
            None => other.push(path),
        }
    }
    Ok(found)
}

/// The programs pinned under `dir`, as the kernel describes them; files that are not a pinned
/// program, or whose program is gone by the time it is described, go to `other`.
fn pinned_progs(dir: &Path, other: &mut Vec<PathBuf>) -> Result<Vec<PinnedProg>> {
    let prog_paths = entries(dir)?;
    let mut progs = Vec::new();
    if !prog_paths.is_empty() {
        let ids = prog_ids(prog_paths, other);
        let infos = prog_infos(&ids);
        for (path, id) in ids {
            let Some(info) = infos.get(&id) else {
                // Unloaded between the two looks: gone.
                other.push(path);
                continue;
            };
            progs.push(PinnedProg {
                name: file_name(&path),
                id,
                prog_type: prog_type_name(info.ty),
                kernel_name: info.name.to_string_lossy().into_owned(),
                tag: info.tag.0.iter().map(|b| format!("{b:02x}")).collect(),
                map_ids: info.map_ids.clone(),
                pin_path: path,
            });
        }
    }
    Ok(progs)
}

/// The kernel program id of each of `paths` that is a pinned program; the others go to `other`.
fn prog_ids(paths: Vec<PathBuf>, other: &mut Vec<PathBuf>) -> Vec<(PathBuf, u32)> {
    let mut ids = Vec::new();
    for path in paths {
        match Program::fd_from_pinned_path(&path).and_then(|fd| Program::id_from_fd(fd.as_fd())) {
            Ok(id) => ids.push((path, id)),
            Err(_) => other.push(path),
        }
    }
    ids
}

/// The kernel's information (with map ids) on each of the programs `ids` still loaded, by id.
fn prog_infos(ids: &[(PathBuf, u32)]) -> HashMap<u32, ProgramInfo> {
    let opts = ProgInfoQueryOptions::default().include_map_ids(true);
    let wanted: HashMap<u32, ()> = ids.iter().map(|(_, id)| (*id, ())).collect();
    let mut infos = HashMap::new();
    for info in ProgInfoIter::with_query_opts(opts) {
        if wanted.contains_key(&info.id) {
            infos.insert(info.id, info);
        }
    }
    infos
}

/// Files directly under `dir`, sorted; none when `dir` does not exist.
fn entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(pindir::io_error(dir, e)),
    };
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(|err| pindir::io_error(dir, err))?;
        out.push(e.path());
    }
    out.sort();
    Ok(out)
}

/// The last component of a pin path (empty if it has none).
fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The link pinned at `path`, described; None if it is not a link the kernel opens.
fn pinned_link(path: &Path) -> Option<PinnedLink> {
    let (_, info) = super::attach::info::open_pinned_link(path).ok()??;
    let (link_type, target) =
        super::attach::info::describe(&info, super::attach::info::Where::Unknown);
    Some(PinnedLink {
        name: file_name(path),
        pin_path: path.to_path_buf(),
        id: info.id,
        link_type,
        target,
        prog_id: info.prog_id,
    })
}

/// The map pinned at `path` with its kernel attributes and entry count; None if it is not a
/// map the kernel opens.
fn pinned_map(path: &Path) -> Option<PinnedMap> {
    let handle = MapHandle::from_pinned_path(path).ok()?;
    let info = handle.info().ok()?;
    let i = &info.info;
    Some(PinnedMap {
        name: file_name(path),
        pin_path: path.to_path_buf(),
        id: i.id,
        map_type: compat::type_name(i.type_),
        kernel_name: info.name().map(str::to_string).unwrap_or_default(),
        key_size: i.key_size,
        value_size: i.value_size,
        max_entries: i.max_entries,
        map_flags: i.map_flags,
        entries: count_entries(&handle, i.type_),
    })
}

/// Entries of a map, where user space can enumerate them.
fn count_entries(map: &MapHandle, map_type: u32) -> Option<u64> {
    match map_type {
        // hash, array, percpu hash/array, stack trace, lru hash/percpu, lpm trie, hash of maps,
        // sockhash, devmap hash: every key the kernel enumerates is an entry.
        1 | 2 | 5 | 6 | 7 | 9 | 10 | 11 | 13 | 18 | 25 => Some(map.keys().count() as u64),
        // fd arrays (prog array, cgroup array, array of maps, devmap, cpumap): every index is
        // enumerated; a slot holds an entry when a lookup finds one.
        3 | 8 | 12 | 14 | 16 => {
            let mut n = 0u64;
            for key in map.keys() {
                match map.lookup(&key, MapFlags::ANY) {
                    Ok(Some(_)) => n += 1,
                    Ok(None) => {}
                    Err(_) => return None,
                }
            }
            Some(n)
        }
        _ => None,
    }
}

/// `xdp (6)`, `sched_cls (3)`: libbpf-rs's variant name in snake case, and the number.
fn prog_type_name(ty: libbpf_rs::ProgramType) -> String {
    let debug = format!("{ty:?}");
    let mut name = String::new();
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                name.push('_');
            }
            name.push(c.to_ascii_lowercase());
        } else {
            name.push(c);
        }
    }
    format!("{name} ({})", ty as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(links: Vec<PinnedLink>) -> StatusReport {
        StatusReport {
            pin_dir: PathBuf::from("/sys/fs/bpf/x"),
            maps: Vec::new(),
            progs: Vec::new(),
            links,
            other: Vec::new(),
        }
    }

    #[test]
    fn nothing_pinned_only_when_no_map_program_or_link_is() {
        assert!(report(Vec::new()).to_text().contains("(nothing pinned)"));
        // Links left without their programs' pins (removed by hand) are still pins.
        let link = PinnedLink {
            name: "xdp_pass@veth0".into(),
            pin_path: PathBuf::from("/sys/fs/bpf/x/links/xdp_pass@veth0"),
            id: 7,
            link_type: "xdp".into(),
            target: "veth0".into(),
            prog_id: 42,
        };
        let text = report(vec![link]).to_text();
        assert!(text.contains("link xdp_pass@veth0"), "{text}");
        assert!(!text.contains("(nothing pinned)"), "{text}");
    }
}
