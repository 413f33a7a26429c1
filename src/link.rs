//! Takes input objects (names and bytes), gives the linked object's bytes and a report: runs the
//! stages input -> BTF append -> maps -> layout -> resolve -> relocate -> datasec -> write.

use std::path::{Path, PathBuf};

use crate::btf::{Appended, Btf};
use crate::error::{Error, Result};
use crate::input::{self, Input, SecKind};
use crate::{datasec, layout, maps, relocate, resolve, write};

/// One merged map in the report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MapReport {
    pub name: String,
    /// Files holding a definition (or extern declaration), in input order.
    pub definitions: Vec<String>,
    /// The file whose definition was kept.
    pub kept_from: String,
    /// Number of `.values` slots initialised.
    pub initialised_slots: usize,
}

/// One input in the report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InputReport {
    pub file: String,
    /// Programs (functions in program sections) this input contributed.
    pub programs: Vec<String>,
}

/// What a link merged (printed by `-v`, `--json`).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct LinkReport {
    pub output: Option<PathBuf>,
    pub inputs: Vec<InputReport>,
    pub maps: Vec<MapReport>,
}

impl LinkReport {
    /// Human summary for `-v`.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for m in &self.maps {
            if m.definitions.len() > 1 {
                s.push_str(&format!(
                    "map {}: merged {} definitions from {} (kept {})\n",
                    m.name,
                    m.definitions.len(),
                    m.definitions.join(", "),
                    m.kept_from
                ));
            } else {
                s.push_str(&format!("map {}: from {}\n", m.name, m.kept_from));
            }
        }
        for i in &self.inputs {
            if !i.programs.is_empty() {
                s.push_str(&format!("{}: programs {}\n", i.file, i.programs.join(", ")));
            }
        }
        s
    }
}

/// Link objects given as (name for messages, bytes). Returns the ELF bytes and a report.
pub fn link_bytes(objects: &[(String, &[u8])]) -> Result<(Vec<u8>, LinkReport)> {
    if objects.is_empty() {
        return Err(Error::Usage("no input objects".into()));
    }
    let inputs: Vec<Input<'_>> = objects
        .iter()
        .map(|(name, data)| input::parse(name, data))
        .collect::<Result<_>>()?;
    let endian = inputs[0].endian;
    for inp in &inputs[1..] {
        if inp.endian != endian {
            let n = |e| match e {
                object::Endianness::Little => "little-endian",
                object::Endianness::Big => "big-endian",
            };
            return Err(Error::MixedEndian {
                file: inp.name.clone(),
                found: n(inp.endian),
                first_file: inputs[0].name.clone(),
                expected: n(endian),
            });
        }
    }

    let mut btf = Btf::new();
    let mut appended: Vec<Option<Appended>> = Vec::with_capacity(inputs.len());
    for inp in &inputs {
        appended.push(match inp.btf {
            Some(raw) => Some(btf.append(raw).map_err(|e| e.in_file(&inp.name))?),
            None => None,
        });
    }
    let eq = btf.equivalence();
    let map_plan = maps::plan(&inputs, &btf, &appended, &eq)?;
    let mut lay = layout::plan(&inputs, &map_plan)?;
    let symbols = resolve::resolve(&inputs, &lay, &map_plan)?;
    relocate::relocate(&inputs, &mut lay, &symbols, &map_plan)?;
    let fin = datasec::finish(
        &inputs, btf, &appended, &eq, &lay, &symbols, &map_plan, endian,
    )?;
    // Without BTF in any input there is none to write.
    let btf = appended
        .iter()
        .any(Option::is_some)
        .then_some(fin.btf.as_slice());
    let bytes = write::elf_bytes(endian, &lay, &symbols, btf, fin.btf_ext.as_deref())?;
    Ok((bytes, report(&inputs, &map_plan)))
}

fn report(inputs: &[Input<'_>], plan: &maps::MapPlan) -> LinkReport {
    let maps = plan
        .maps
        .iter()
        .map(|m| MapReport {
            name: m.name.clone(),
            definitions: m
                .defs
                .iter()
                .map(|d| inputs[d.input].name.clone())
                .collect(),
            kept_from: inputs[m.survivor().input].name.clone(),
            initialised_slots: m.slots.len(),
        })
        .collect();
    let inputs = inputs
        .iter()
        .map(|inp| InputReport {
            file: inp.name.clone(),
            programs: inp
                .symbols
                .iter()
                .filter(|s| {
                    s.typ == object::elf::STT_FUNC.0
                        && s.section().is_some_and(|sec| {
                            let sec = inp.section(sec);
                            sec.kind == SecKind::Code && sec.name != ".text"
                        })
                })
                .map(|s| s.name.to_string())
                .collect(),
        })
        .collect();
    LinkReport {
        output: None,
        inputs,
        maps,
    }
}

/// Read a file, naming it in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        err: e,
    })
}

/// Link the objects at `inputs` into `output` (written atomically; nothing written on error).
pub fn link_files(inputs: &[PathBuf], output: &Path) -> Result<LinkReport> {
    if let Ok(out) = output.canonicalize() {
        for i in inputs {
            if i.canonicalize().is_ok_and(|c| c == out) {
                return Err(Error::Usage(format!(
                    "output {} is also an input; choose another output file",
                    output.display()
                )));
            }
        }
    }
    let datas: Vec<Vec<u8>> = inputs.iter().map(|p| read_file(p)).collect::<Result<_>>()?;
    let objects: Vec<(String, &[u8])> = inputs
        .iter()
        .zip(&datas)
        .map(|(p, d)| (p.display().to_string(), d.as_slice()))
        .collect();
    let (bytes, mut report) = link_bytes(&objects)?;
    write::atomic_write(output, &bytes)?;
    report.output = Some(output.to_path_buf());
    Ok(report)
}
