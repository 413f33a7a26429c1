//! Takes objects (names and bytes), gives an `InspectReport`: each object's programs, maps,
//! globals and a BTF summary, with the source file of each program taken from `.BTF.ext`.

use object::elf;

use crate::btf::ext::BtfExt;
use crate::btf::{Appended, Btf};
use crate::error::Result;
use crate::input::{self, Input, SecKind};
use crate::maps::{self, map_type_name};

/// One program (a function in a program section) or a `.text` subprogram.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ProgramInfo {
    pub name: String,
    pub section: String,
    pub instructions: u64,
    /// "global", "weak" or "static".
    pub binding: String,
    /// Source file of its first instruction (from `.BTF.ext` line info), when known.
    pub source: Option<String>,
}

/// One map definition.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MapInfo {
    pub name: String,
    /// Map type number and name, e.g. 2 and "ARRAY".
    #[serde(rename = "type")]
    pub map_type: u64,
    pub type_name: String,
    pub key_size: u64,
    pub value_size: u64,
    pub max_entries: u64,
    pub flags: u64,
    pub pinning: u64,
    /// `map_extra` (`__uint` or `__ulong`: a bloom filter's hash count, an arena's address).
    pub map_extra: u64,
    /// "global", "weak", "static" or "extern".
    pub binding: String,
    /// Whether it is a map-in-map with an inner map definition.
    pub has_inner: bool,
}

/// One global data variable.
#[derive(Clone, Debug, serde::Serialize)]
pub struct GlobalInfo {
    pub name: String,
    pub section: String,
    pub size: u64,
    pub binding: String,
}

/// BTF summary.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct BtfSummary {
    pub types: usize,
    pub func_info: usize,
    pub line_info: usize,
    pub core_relos: usize,
}

/// Everything `inspect` says about one object.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ObjectInfo {
    pub file: String,
    pub programs: Vec<ProgramInfo>,
    /// Subprograms in `.text`.
    pub functions: Vec<ProgramInfo>,
    pub maps: Vec<MapInfo>,
    pub globals: Vec<GlobalInfo>,
    pub license: Option<String>,
    pub btf: Option<BtfSummary>,
}

/// What `inspect` found.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct InspectReport {
    pub objects: Vec<ObjectInfo>,
}

impl InspectReport {
    /// Human text.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for o in &self.objects {
            s.push_str(&format!("{}:\n", o.file));
            if let Some(l) = &o.license {
                s.push_str(&format!("  license: {l}\n"));
            }
            for p in &o.programs {
                s.push_str(&format!(
                    "  program {} ({}, {} insns, {}){}\n",
                    p.name,
                    p.section,
                    p.instructions,
                    p.binding,
                    p.source
                        .as_ref()
                        .map(|f| format!(" from {f}"))
                        .unwrap_or_default()
                ));
            }
            for p in &o.functions {
                s.push_str(&format!(
                    "  function {} ({} insns, {})\n",
                    p.name, p.instructions, p.binding
                ));
            }
            for m in &o.maps {
                // map_extra is shown only when set (most maps have none).
                let extra = match m.map_extra {
                    0 => String::new(),
                    x => format!(", map_extra {x:#x}"),
                };
                s.push_str(&format!(
                    "  map {} ({}, key {} B, value {} B, max_entries {}, flags {:#x}, pinning {}{extra}, {})\n",
                    m.name,
                    m.type_name,
                    m.key_size,
                    m.value_size,
                    m.max_entries,
                    m.flags,
                    m.pinning,
                    m.binding
                ));
            }
            for g in &o.globals {
                s.push_str(&format!(
                    "  global {} ({}, {} B, {})\n",
                    g.name, g.section, g.size, g.binding
                ));
            }
            if let Some(b) = &o.btf {
                s.push_str(&format!(
                    "  BTF: {} types, {} func_info, {} line_info, {} CO-RE relocations\n",
                    b.types, b.func_info, b.line_info, b.core_relos
                ));
            }
        }
        s
    }
}

fn binding(bind: u8) -> String {
    match bind {
        b if b == elf::STB_LOCAL.0 => "static",
        b if b == elf::STB_WEAK.0 => "weak",
        _ => "global",
    }
    .to_string()
}

/// Describe one object.
pub fn inspect_bytes(name: &str, data: &[u8]) -> Result<ObjectInfo> {
    let inp = input::parse(name, data)?;
    let (btf, appended, ext) = read_btf(&inp)?;
    let eq = btf.equivalence();
    let plan = maps::plan(std::slice::from_ref(&inp), &btf, &[appended], &eq)?;
    let (programs, functions, globals) = code_and_globals(&inp, |section, offset| {
        source_file(&btf, ext.as_ref(), section, offset)
    });
    Ok(ObjectInfo {
        file: name.to_string(),
        programs,
        functions,
        maps: map_infos(&inp, &plan),
        globals,
        license: license_text(&inp),
        btf: appended.map(|app| btf_summary(app, ext.as_ref())),
    })
}

/// The object's `.BTF` (appended into a fresh container) and `.BTF.ext`, when it has them.
fn read_btf(inp: &Input<'_>) -> Result<(Btf, Option<Appended>, Option<BtfExt>)> {
    let mut btf = Btf::new();
    let appended = match inp.btf {
        Some(raw) => Some(btf.append(raw).map_err(|e| e.in_file(&inp.name))?),
        None => None,
    };
    let ext = match (appended, inp.btf_ext, inp.btf) {
        (Some(app), Some(raw_ext), Some(raw_btf)) => Some(
            BtfExt::parse(raw_ext, raw_btf, app.base, &mut btf)
                .map_err(|e| e.in_file(&inp.name))?,
        ),
        _ => None,
    };
    Ok((btf, appended, ext))
}

/// The source file of the first line_info record at or after `offset` in `section`.
fn source_file(btf: &Btf, ext: Option<&BtfExt>, section: &str, offset: u64) -> Option<String> {
    let sec = ext?.sections.iter().find(|s| btf.str(s.name) == section)?;
    let li = sec
        .line_info
        .iter()
        .find(|l| u64::from(l.insn_off) >= offset)?;
    Some(btf.str(li.file_name).to_string()).filter(|f| !f.is_empty())
}

/// Programs (functions in program sections), `.text` functions and global variables.
fn code_and_globals(
    inp: &Input<'_>,
    source_of: impl Fn(&str, u64) -> Option<String>,
) -> (Vec<ProgramInfo>, Vec<ProgramInfo>, Vec<GlobalInfo>) {
    let mut programs = Vec::new();
    let mut functions = Vec::new();
    let mut globals = Vec::new();
    for sym in &inp.symbols {
        let Some(sec_idx) = sym.section() else {
            continue;
        };
        let sec = inp.section(sec_idx);
        match sec.kind {
            SecKind::Code if sym.typ == elf::STT_FUNC.0 => {
                let p = ProgramInfo {
                    name: sym.name.to_string(),
                    section: sec.name.to_string(),
                    instructions: sym.size / 8,
                    binding: binding(sym.bind),
                    source: source_of(&sec.name, sym.value),
                };
                if sec.name == ".text" {
                    functions.push(p);
                } else {
                    programs.push(p);
                }
            }
            SecKind::Data | SecKind::Bss if sym.typ == elf::STT_OBJECT.0 => {
                globals.push(GlobalInfo {
                    name: sym.name.to_string(),
                    section: sec.name.to_string(),
                    size: sym.size,
                    binding: binding(sym.bind),
                });
            }
            _ => {}
        }
    }
    (programs, functions, globals)
}

/// One entry per map definition, as the object declares it.
fn map_infos(inp: &Input<'_>, plan: &maps::MapPlan) -> Vec<MapInfo> {
    plan.maps
        .iter()
        .flat_map(|m| m.defs.iter().map(move |d| (m, d)))
        .map(|(m, d)| {
            let f = &d.fields;
            let bind = if d.is_extern {
                "extern".to_string()
            } else {
                d.sym()
                    .map(|s| binding(inp.symbols[s.0].bind))
                    .unwrap_or_else(|| "global".into())
            };
            MapInfo {
                name: m.name.clone(),
                map_type: f.map_type.unwrap_or(0),
                type_name: map_type_name(f.map_type.unwrap_or(0)),
                key_size: f.key_size.unwrap_or(0),
                value_size: f.value_size.unwrap_or(0),
                max_entries: f.max_entries.unwrap_or(0),
                flags: f.map_flags.unwrap_or(0),
                pinning: f.pinning.unwrap_or(0),
                map_extra: f.map_extra.unwrap_or(0),
                binding: bind,
                has_inner: f.inner.is_some(),
            }
        })
        .collect()
}

/// The `license` string, up to its NUL.
fn license_text(inp: &Input<'_>) -> Option<String> {
    let k = inp
        .sections
        .iter()
        .position(|s| s.kind == SecKind::License)?;
    let data = inp.data(crate::input::SecIdx(k));
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    Some(String::from_utf8_lossy(&data[..end]).into_owned())
}

fn btf_summary(app: Appended, ext: Option<&BtfExt>) -> BtfSummary {
    let count = |f: fn(&crate::btf::ext::ExtSection) -> usize| {
        ext.map_or(0, |e| e.sections.iter().map(f).sum())
    };
    BtfSummary {
        types: app.count as usize,
        func_info: count(|s| s.func_info.len()),
        line_info: count(|s| s.line_info.len()),
        core_relos: count(|s| s.core_relos.len()),
    }
}

/// Describe the objects at `paths`.
pub fn inspect_files(paths: &[std::path::PathBuf]) -> Result<InspectReport> {
    let mut objects = Vec::with_capacity(paths.len());
    for p in paths {
        let data = crate::link::read_file(p)?;
        objects.push(inspect_bytes(&p.display().to_string(), &data)?);
    }
    Ok(InspectReport { objects })
}
