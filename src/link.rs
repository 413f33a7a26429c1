//! Takes input objects (names and bytes), gives the linked object's bytes and a report: runs the
//! stages input -> BTF append (both streamed, `stream`) -> maps -> layout -> resolve -> relocate
//! -> datasec -> write.

use std::path::{Path, PathBuf};

use crate::btf::ext::BtfExt;
use crate::btf::{Appended, Btf, Equivalence};
use crate::error::{Error, Result};
use crate::input::{self, Input, SecKind};
use crate::stream::{self, Streamed};
use crate::{datasec, fold, layout, maps, relocate, resolve, write};

/// One merged map in the report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MapReport {
    pub name: String,
    /// Map type of the kept definition, e.g. `ARRAY (2)` (`UNSPEC (0)` for an extern).
    pub map_type: String,
    /// Files holding a definition (or extern declaration), in input order.
    pub definitions: Vec<String>,
    /// The file whose definition was kept.
    pub kept_from: String,
    /// Number of `.values` slots initialised.
    pub initialised_slots: usize,
    /// For a file-local (static) map kept apart from a same-named map because the definitions
    /// differ: its name in the source (`name` is then the derived output name); else None.
    pub renamed_from: Option<String>,
    /// Why it was kept apart (`static, definitions differ: type HASH vs ARRAY`); else None.
    pub kept_apart: Option<String>,
}

/// One input in the report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InputReport {
    pub file: String,
    /// Programs (functions in program sections) this input contributed.
    pub programs: Vec<String>,
}

/// One global whose identical strong definitions were folded into one.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FoldReport {
    pub name: String,
    /// `function` or `variable`.
    pub kind: String,
    /// The file whose definition was kept (the first).
    pub kept_from: String,
    /// The files whose identical copies were dropped, in input order.
    pub folded_from: Vec<String>,
}

/// What a link merged (printed by `-v`, `--json`).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct LinkReport {
    pub output: Option<PathBuf>,
    pub inputs: Vec<InputReport>,
    pub maps: Vec<MapReport>,
    /// Identical definitions folded into one, in order of first definition.
    pub folded: Vec<FoldReport>,
}

impl LinkReport {
    /// Human summary for `-v`.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for m in &self.maps {
            if let (Some(from), Some(why)) = (&m.renamed_from, &m.kept_apart) {
                s.push_str(&format!(
                    "map {} ({}): from {}: {why}; renamed {from} -> {}\n",
                    m.name, m.map_type, m.kept_from, m.name
                ));
            } else if m.definitions.len() > 1 {
                s.push_str(&format!(
                    "map {} ({}): merged {} definitions from {} (kept {})\n",
                    m.name,
                    m.map_type,
                    m.definitions.len(),
                    m.definitions.join(", "),
                    m.kept_from
                ));
            } else {
                s.push_str(&format!(
                    "map {} ({}): from {}\n",
                    m.name, m.map_type, m.kept_from
                ));
            }
        }
        for f in &self.folded {
            s.push_str(&format!(
                "folded {} {}: identical definitions in {} and {} (kept {})\n",
                f.kind,
                f.name,
                f.kept_from,
                f.folded_from.join(", "),
                f.kept_from
            ));
        }
        for i in &self.inputs {
            if !i.programs.is_empty() {
                s.push_str(&format!("{}: programs {}\n", i.file, i.programs.join(", ")));
            }
        }
        s
    }
}

/// A finished link that owns everything the writer needs (it borrows no input bytes, so the
/// inputs can be freed before the output is written).
struct Linked {
    endian: object::Endianness,
    layout: layout::Layout,
    symbols: resolve::Symbols,
    btf: Option<Vec<u8>>,
    btf_ext: Option<BtfExt>,
    report: LinkReport,
}

/// With `BPFMERGE_STAGE_MEMORY`: how many types were appended and how many of them are
/// alias slots (copies matched while streaming).
fn stage_types(btf: &Btf) {
    if std::env::var_os("BPFMERGE_STAGE_MEMORY").is_some() {
        let total = btf.len().saturating_sub(1);
        eprintln!("types appended {total}, alias slots {}", btf.alias_count());
    }
}

/// With `BPFMERGE_STAGE_MEMORY` set, print the peak and current resident memory after a stage
/// on stderr (`/proc/self/status` on Linux): how docs/bench.md attributes memory to stages.
/// Otherwise one environment lookup per stage.
fn stage_memory(stage: &str) {
    if std::env::var_os("BPFMERGE_STAGE_MEMORY").is_none() {
        return;
    }
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return;
    };
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map_or("?", str::trim)
            .to_string()
    };
    eprintln!(
        "stage {stage}: VmHWM {} VmRSS {}",
        field("VmHWM:"),
        field("VmRSS:")
    );
}

/// Link objects given as (name for messages, bytes). Returns the ELF bytes and a report.
pub fn link_bytes(objects: &[(String, &[u8])]) -> Result<(Vec<u8>, LinkReport)> {
    link_into_vec(
        objects.len(),
        objects
            .iter()
            .map(|(name, data)| Ok((name.clone(), Bytes::Borrowed(data)))),
    )
}

/// An input's bytes: borrowed from the caller, or read from a file (and freed once used).
pub(crate) type Bytes<'a> = std::borrow::Cow<'a, [u8]>;

/// Run every stage but the writer: the inputs are streamed (see `stream`), then maps, symbols,
/// folds, relocations and the BTF are decided over all of them.
fn plan<'a>(
    count: usize,
    objects: impl Iterator<Item = Result<(String, Bytes<'a>)>>,
    mut check: Option<&mut CheckState>,
) -> Result<Linked> {
    if count == 0 {
        return Err(Error::Usage("no input objects".into()));
    }
    let mut streamed = stream::stream(count, objects, check.is_some())?;
    stage_memory("stream");
    stage_types(&streamed.btf);
    streamed.end();
    let Streamed {
        mut inputs,
        btf,
        appended,
        exts,
        mut builder,
    } = streamed;
    let endian = inputs[0].endian;
    let eq = btf.equivalence();
    stage_memory("equivalence");
    let map_plan = plan_maps(
        &inputs,
        &btf,
        &appended,
        &eq,
        &mut builder,
        check.as_deref_mut(),
    )?;
    let mut lay = builder.finish(&map_plan);
    stage_memory("maps, layout");
    let (symbols, folds) = fold::resolve_and_fold(
        &inputs,
        &mut lay,
        &map_plan,
        &btf,
        &appended,
        &exts,
        &eq,
        check
            .as_deref_mut()
            .map(|state| &mut state.symbol_conflicts),
    )?;
    if let Some(r) = check.and_then(|state| state.report.as_mut()) {
        add_folds(r, &inputs, &folds);
    }
    relocate::relocate(&inputs, &mut lay, &symbols, &map_plan)?;
    stage_memory("resolve, relocate");
    inputs.iter_mut().for_each(Input::drop_relocations);
    let has_btf = appended.iter().any(Option::is_some);
    let fin = datasec::finish(
        &inputs, btf, &appended, exts, &eq, &lay, &symbols, &map_plan, endian,
    )?;
    stage_memory("datasec");
    let mut report = report(&inputs, &map_plan);
    add_folds(&mut report, &inputs, &folds);
    Ok(Linked {
        endian,
        report,
        layout: lay,
        symbols,
        // Without BTF in any input there is none to write.
        btf: has_btf.then_some(fin.btf),
        btf_ext: fin.btf_ext,
    })
}

/// The merged maps. With a check, every map conflict is collected instead of stopping at the
/// first, and the section conflicts and the report so far are taken into the check's state.
fn plan_maps(
    inputs: &[Input<'_>],
    btf: &Btf,
    appended: &[Option<Appended>],
    eq: &Equivalence,
    builder: &mut layout::LayoutBuilder,
    check: Option<&mut CheckState>,
) -> Result<maps::MapPlan> {
    let Some(state) = check else {
        return maps::plan(inputs, btf, appended, eq);
    };
    state.section_conflicts = builder.section_conflicts.take().unwrap_or_default();
    let plan = maps::plan_collecting(inputs, btf, appended, eq, &mut state.map_conflicts)?;
    state.report = Some(report(inputs, &plan));
    Ok(plan)
}

fn report(inputs: &[Input<'_>], plan: &maps::MapPlan) -> LinkReport {
    let maps = plan
        .maps
        .iter()
        .map(|m| MapReport {
            name: m.name.clone(),
            map_type: maps::map_type_name(m.survivor().fields.map_type.unwrap_or(0)),
            definitions: m
                .defs
                .iter()
                .map(|d| inputs[d.input].name.clone())
                .collect(),
            kept_from: inputs[m.survivor().input].name.clone(),
            initialised_slots: m.slots.len(),
            renamed_from: m.kept_apart.as_ref().map(|k| k.source_name.clone()),
            kept_apart: m
                .kept_apart
                .as_ref()
                .map(|k| format!("kept apart: {}", k.reason)),
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
        folded: Vec::new(),
    }
}

/// The folds in the report; a folded program is listed only under the input it was kept from.
fn add_folds(report: &mut LinkReport, inputs: &[Input<'_>], folds: &[fold::Fold]) {
    for f in folds {
        for &i in &f.dropped {
            if let Some(r) = report.inputs.get_mut(i) {
                r.programs.retain(|p| *p != f.name);
            }
        }
    }
    report.folded = fold_report(inputs, folds);
}

fn fold_report(inputs: &[Input<'_>], folds: &[fold::Fold]) -> Vec<FoldReport> {
    folds
        .iter()
        .map(|f| FoldReport {
            name: f.name.clone(),
            kind: f.kind.to_string(),
            kept_from: inputs[f.kept].name.clone(),
            folded_from: f.dropped.iter().map(|&i| inputs[i].name.clone()).collect(),
        })
        .collect()
}

/// Read an object file (see `input::read_object`), naming the file in an error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    input::read_object(path).map_err(|err| Error::Io {
        path: path.to_path_buf(),
        err,
    })
}

/// Link the objects at `inputs` into `output` (written atomically; nothing written on error).
pub fn link_files(inputs: &[PathBuf], output: &Path) -> Result<LinkReport> {
    refuse_output_among_inputs(inputs, output)?;
    // Each file is read when its turn comes and freed once used.
    link_to(
        inputs.len(),
        inputs.iter().map(|p| {
            let bytes = read_file(p)?;
            Ok((p.display().to_string(), Bytes::Owned(bytes)))
        }),
        output,
    )
}

/// `-o` naming one of the inputs would destroy it: refused. The same path after resolving
/// symlinks and `..` is refused (a hard link of an input is another name: the output replaces
/// it and the input keeps its bytes). Each input costs one `stat`: only one that is the output's
/// file is then resolved, which reads every component of the path.
pub(crate) fn refuse_output_among_inputs(inputs: &[PathBuf], output: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(out_meta) = std::fs::metadata(output) else {
        return Ok(());
    };
    let same_file = |m: std::fs::Metadata| m.dev() == out_meta.dev() && m.ino() == out_meta.ino();
    let out = output.canonicalize().ok();
    for i in inputs {
        if std::fs::metadata(i).is_ok_and(same_file)
            && out.is_some()
            && i.canonicalize().ok() == out
        {
            return Err(Error::Usage(format!(
                "output {} is also an input; choose another output file",
                output.display()
            )));
        }
    }
    Ok(())
}

/// Link and write `output` atomically.
pub(crate) fn link_to<'a>(
    count: usize,
    objects: impl Iterator<Item = Result<(String, Bytes<'a>)>>,
    output: &Path,
) -> Result<LinkReport> {
    let linked = plan(count, objects, None)?;
    write::atomic_write_with(output, |w| {
        write::elf_to(
            w,
            linked.endian,
            &linked.layout,
            &linked.symbols,
            linked.btf.as_deref(),
            linked.btf_ext.as_ref(),
        )
    })?;
    stage_memory("write");
    let mut report = linked.report;
    report.output = Some(output.to_path_buf());
    Ok(report)
}

/// Link into memory.
pub(crate) fn link_into_vec<'a>(
    count: usize,
    objects: impl Iterator<Item = Result<(String, Bytes<'a>)>>,
) -> Result<(Vec<u8>, LinkReport)> {
    let l = plan(count, objects, None)?;
    let bytes = write::elf_bytes(
        l.endian,
        &l.layout,
        &l.symbols,
        l.btf.as_deref(),
        l.btf_ext.as_ref(),
    )?;
    Ok((bytes, l.report))
}

// ---------------------------------------------------------------------------------------------
// Dry run (`bpfmerge check`, `link --dry-run`, `Linker::check`)
// ---------------------------------------------------------------------------------------------

/// What a check collects while the link stages run.
#[derive(Default)]
pub(crate) struct CheckState {
    map_conflicts: Vec<crate::error::MapConflict>,
    section_conflicts: Vec<Error>,
    symbol_conflicts: Vec<Error>,
    report: Option<LinkReport>,
}

/// One reason the inputs cannot be linked as they are.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Conflict {
    /// `map`, `symbol`, `section` or `byte_order`.
    pub kind: String,
    /// The map, symbol or section concerned (the file for `byte_order`).
    pub name: String,
    /// The differing field (`max_entries`, `key type`, `initial value of slot 1`, ...) for maps;
    /// null otherwise.
    pub field: Option<String>,
    /// The two files involved: the reference first, then the one that disagrees.
    pub files: Vec<String>,
    /// Their values, in the order of `files` (empty when there are no values to compare).
    pub values: Vec<String>,
    /// The full message, with the suggested fix, as `link` prints it.
    pub message: String,
}

impl Conflict {
    fn from_map(c: crate::error::MapConflict) -> Conflict {
        Conflict {
            kind: "map".into(),
            message: c.to_string(),
            name: c.map,
            field: Some(c.field),
            files: vec![c.file_a, c.file_b],
            values: vec![c.value_a, c.value_b],
        }
    }

    /// The conflict an error stands for, if it is one (not a broken or unreadable input).
    fn from_error(e: &Error) -> Option<Conflict> {
        let message = e.to_string();
        let c = |kind: &str, name: &str, field: Option<String>, files: [&str; 2], values| {
            Some(Conflict {
                kind: kind.into(),
                name: name.into(),
                field,
                files: files.iter().map(|f| f.to_string()).collect(),
                values,
                message: message.clone(),
            })
        };
        match e {
            Error::MapConflict(m) => Some(Conflict::from_map((**m).clone())),
            Error::DuplicateSymbol {
                name,
                file_a,
                file_b,
            } => c("symbol", name, None, [file_a, file_b], vec![]),
            Error::SymbolMismatch {
                name,
                file_a,
                file_b,
                ..
            } => c("symbol", name, None, [file_a, file_b], vec![]),
            Error::IncompatibleTypes(t) => c(
                "symbol",
                &t.name,
                Some(format!("type: {}", t.reason)),
                [&t.file_a, &t.file_b],
                vec![t.type_a.clone(), t.type_b.clone()],
            ),
            Error::DifferentDefinitions {
                name,
                file_a,
                file_b,
                difference,
            } => c(
                "symbol",
                name,
                Some(format!("definition: {difference}")),
                [file_a, file_b],
                vec![],
            ),
            Error::SectionConflict {
                section,
                file_a,
                value_a,
                file_b,
                value_b,
            } => c(
                "section",
                section,
                None,
                [file_a, file_b],
                vec![value_a.clone(), value_b.clone()],
            ),
            Error::MixedEndian {
                file,
                found,
                first_file,
                expected,
            } => c(
                "byte_order",
                file,
                None,
                [first_file, file],
                vec![expected.to_string(), found.to_string()],
            ),
            _ => None,
        }
    }
}

/// What a link would do, and every reason it cannot.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct CheckReport {
    /// True when the inputs link (`conflicts` is empty).
    pub ok: bool,
    /// Inputs and the programs each contributes (empty when the check stopped before the maps).
    pub inputs: Vec<InputReport>,
    /// Maps as they would be merged.
    pub maps: Vec<MapReport>,
    /// Identical definitions that would fold into one.
    pub folded: Vec<FoldReport>,
    /// Every map conflict (every differing field of every definition, compared with the first
    /// definition of its name, and every conflicting `.values` slot), every `license`/`version`
    /// section that differs from the first one, then the first conflict of another kind (two
    /// strong definitions of a symbol, mixed byte orders).
    pub conflicts: Vec<Conflict>,
}

impl CheckReport {
    /// Human text: what would merge, then each conflict.
    pub fn to_text(&self) -> String {
        let mut s = LinkReport {
            output: None,
            inputs: self.inputs.clone(),
            maps: self.maps.clone(),
            folded: self.folded.clone(),
        }
        .to_text();
        for c in &self.conflicts {
            s.push_str(&format!("conflict: {}\n", c.message));
        }
        if self.ok {
            s.push_str("ok: the inputs link without conflict\n");
        } else {
            s.push_str(&format!(
                "{} conflict{}: nothing would be written\n",
                self.conflicts.len(),
                if self.conflicts.len() == 1 { "" } else { "s" }
            ));
        }
        s
    }
}

/// Run every link stage (the writer into nowhere), collecting conflicts. `Err` only for inputs
/// that cannot be read or are not usable BPF objects.
pub(crate) fn check<'a>(
    count: usize,
    objects: impl Iterator<Item = Result<(String, Bytes<'a>)>>,
) -> Result<CheckReport> {
    let mut state = CheckState::default();
    let result = plan(count, objects, Some(&mut state)).and_then(|l| {
        write::elf_to(
            &mut std::io::sink(),
            l.endian,
            &l.layout,
            &l.symbols,
            l.btf.as_deref(),
            l.btf_ext.as_ref(),
        )
    });
    let mut conflicts: Vec<Conflict> = state
        .map_conflicts
        .into_iter()
        .map(Conflict::from_map)
        .chain(
            state
                .section_conflicts
                .iter()
                .chain(&state.symbol_conflicts)
                .filter_map(Conflict::from_error),
        )
        .collect();
    if let Err(e) = result {
        match Conflict::from_error(&e) {
            Some(c) => conflicts.push(c),
            // A later stage tripping over the inconsistent plan that map conflicts leave.
            None if !conflicts.is_empty() => {}
            None => return Err(e),
        }
    }
    let report = state.report.unwrap_or_default();
    Ok(CheckReport {
        ok: conflicts.is_empty(),
        inputs: report.inputs,
        maps: report.maps,
        folded: report.folded,
        conflicts,
    })
}

/// Check that objects given as (name, bytes) link, without writing anything.
pub fn check_bytes(objects: &[(String, &[u8])]) -> Result<CheckReport> {
    check(
        objects.len(),
        objects
            .iter()
            .map(|(name, data)| Ok((name.clone(), Bytes::Borrowed(data)))),
    )
}

/// Check that the objects at `inputs` link, without writing anything.
pub fn check_files(inputs: &[PathBuf]) -> Result<CheckReport> {
    check(
        inputs.len(),
        inputs
            .iter()
            .map(|p| Ok((p.display().to_string(), Bytes::Owned(read_file(p)?)))),
    )
}
