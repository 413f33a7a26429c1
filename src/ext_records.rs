//! `.BTF.ext` records of all inputs, gathered while the inputs stream: takes each input's
//! parsed records (moved in, their buffers freed at once), gives them per input and section for
//! the fold checks, and at the end the output's records, placed at their output offsets in the
//! same lists (one copy of the records, not the inputs' and the output's).

use std::collections::BTreeMap;
use std::ops::Range;

use crate::btf::ext::{BtfExt, CoreRelo, ExtSection, FuncInfo, LineInfo};
use crate::btf::{Btf, FastMap, StrOff};
use crate::error::{Error, Result};
use crate::input::{Input, SecIdx};
use crate::layout::{Layout, OutSecId};

/// At most this many records are reserved ahead for one list (more grow as they come).
const MAX_RESERVED: usize = 1 << 22;

/// The records of every input, one list per section name (first-seen order), each input's in a
/// run of its own, runs in input order. Lists are keyed by the name as the link reads it
/// (`Btf::str`: its valid UTF-8 prefix), which is what picks the ELF section and so the output
/// section: two names that read the same share one list, as their records share one output
/// section.
#[derive(Default)]
pub struct ExtRecords {
    lists: Vec<ExtSection>,
    by_name: FastMap<String, usize>,
    runs: Vec<Run>,
    /// Per input: its first run (runs of input `i` are `first_run[i]..first_run[i + 1]`).
    first_run: Vec<usize>,
    /// Inputs the link has (room is made for records of the ones still to come).
    inputs: usize,
}

/// One input's records of one section: where they are in its name's list.
#[derive(Clone)]
struct Run {
    input: usize,
    /// The section's name in this input (the output section is named after the first placed).
    name: StrOff,
    list: usize,
    func: Range<usize>,
    line: Range<usize>,
    core: Range<usize>,
}

/// The records of one input's section (for the fold checks).
pub struct SectionRecords<'a> {
    pub name: StrOff,
    pub func_info: &'a [FuncInfo],
    pub line_info: &'a [LineInfo],
    pub core_relos: &'a [CoreRelo],
}

impl ExtRecords {
    /// Records for a link of `inputs` inputs.
    pub fn new(inputs: usize) -> ExtRecords {
        ExtRecords {
            inputs,
            ..ExtRecords::default()
        }
    }

    /// The next input's records, if it has a `.BTF.ext`.
    pub fn add(&mut self, ext: Option<BtfExt>, btf: &Btf) {
        let input = self.first_run.len();
        self.first_run.push(self.runs.len());
        for sec in ext.map(|e| e.sections).unwrap_or_default() {
            let list = self.list_for(&sec, input, btf);
            let l = &mut self.lists[list];
            let run = Run {
                input,
                name: sec.name,
                list,
                func: append(&mut l.func_info, sec.func_info),
                line: append(&mut l.line_info, sec.line_info),
                core: append(&mut l.core_relos, sec.core_relos),
            };
            self.runs.push(run);
        }
    }

    /// The list of `sec`'s name, made with room for the records of the inputs still to come,
    /// as many as `sec` has each (a guess from the first: slack is never touched; bounded, so
    /// that a first input with a huge section asks for no more than `MAX_RESERVED` records).
    fn list_for(&mut self, sec: &ExtSection, input: usize, btf: &Btf) -> usize {
        let key = btf.str(sec.name);
        if let Some(&l) = self.by_name.get(key) {
            return l;
        }
        let rest = self.inputs.saturating_sub(input).max(1);
        let room = |n: usize| n.saturating_mul(rest).min(MAX_RESERVED);
        self.lists.push(ExtSection {
            name: sec.name,
            func_info: Vec::with_capacity(room(sec.func_info.len())),
            line_info: Vec::with_capacity(room(sec.line_info.len())),
            core_relos: Vec::with_capacity(room(sec.core_relos.len())),
        });
        self.by_name.insert(key.to_string(), self.lists.len() - 1);
        self.lists.len() - 1
    }

    fn runs_of(&self, input: usize) -> &[Run] {
        let start = self
            .first_run
            .get(input)
            .copied()
            .unwrap_or(self.runs.len());
        let end = self
            .first_run
            .get(input + 1)
            .copied()
            .unwrap_or(self.runs.len());
        &self.runs[start..end]
    }

    /// Input `input`'s records, per section (in the order its `.BTF.ext` named them).
    pub fn of(&self, input: usize) -> impl Iterator<Item = SectionRecords<'_>> + '_ {
        self.runs_of(input).iter().map(|r| {
            let l = &self.lists[r.list];
            SectionRecords {
                name: r.name,
                func_info: &l.func_info[r.func.clone()],
                line_info: &l.line_info[r.line.clone()],
                core_relos: &l.core_relos[r.core.clone()],
            }
        })
    }

    /// The output's records: each input's moved to its output section, offsets shifted with
    /// the piece, in place (see `Placing` for what is kept and what is refused).
    pub fn place(
        mut self,
        inputs: &[Input<'_>],
        btf: &Btf,
        layout: &Layout,
    ) -> Result<BTreeMap<OutSecId, ExtSection>> {
        let placed = self.placed_runs(inputs, btf, layout)?;
        let mut cursors = vec![(0usize, 0usize, 0usize); self.lists.len()];
        let mut out_of_list = vec![None; self.lists.len()];
        for (run, place) in self.runs.iter().zip(&placed) {
            let Some(place) = place else { continue };
            if out_of_list[run.list].is_none() {
                out_of_list[run.list] = Some(place.out_id);
                self.lists[run.list].name = run.name;
            }
            let l = &mut self.lists[run.list];
            let c = &mut cursors[run.list];
            let moved = |off: u32| place.moved(layout, off);
            c.0 = keep_moved(&mut l.func_info, run.func.clone(), c.0, moved, |r| {
                &mut r.insn_off
            });
            c.1 = keep_moved(&mut l.line_info, run.line.clone(), c.1, moved, |r| {
                &mut r.insn_off
            });
            c.2 = keep_moved(&mut l.core_relos, run.core.clone(), c.2, moved, |r| {
                &mut r.insn_off
            });
        }
        let mut out = BTreeMap::new();
        for ((mut l, (f, li, co)), out_id) in self.lists.into_iter().zip(cursors).zip(out_of_list) {
            let Some(out_id) = out_id else { continue };
            l.func_info.truncate(f);
            l.line_info.truncate(li);
            l.core_relos.truncate(co);
            out.insert(out_id, l);
        }
        Ok(out)
    }

    /// Where each run goes (None: its section is not in the output), every record checked
    /// first, in input order, as the records were read.
    fn placed_runs(
        &self,
        inputs: &[Input<'_>],
        btf: &Btf,
        layout: &Layout,
    ) -> Result<Vec<Option<Placing>>> {
        let mut placed = Vec::with_capacity(self.runs.len());
        for run in &self.runs {
            let input = &inputs[run.input];
            let name = btf.str(run.name);
            let Some((sec, (out_id, _))) = input
                .section_by_name(name)
                .and_then(|s| Some((s, layout.placed(run.input, s)?)))
            else {
                placed.push(None);
                continue;
            };
            let place = Placing {
                input: run.input,
                sec,
                out_id,
                size: input.section(sec).size,
                out_size: layout.sections[out_id.0].size,
            };
            self.check_run(run, &place, input, name)?;
            placed.push(Some(place));
        }
        Ok(placed)
    }

    /// A record must be on an instruction of its section (else it would describe another
    /// input's code), with one exception that libbpf's linker also links: a record at the very
    /// end of its section describes an empty function (`SEC(".s") __naked void f(void) {}`).
    fn check_run(&self, run: &Run, place: &Placing, input: &Input<'_>, name: &str) -> Result<()> {
        let l = &self.lists[run.list];
        let offs = (l.func_info[run.func.clone()].iter())
            .map(|r| ("func_info", r.insn_off))
            .chain(
                l.line_info[run.line.clone()]
                    .iter()
                    .map(|r| ("line_info", r.insn_off)),
            )
            .chain(
                l.core_relos[run.core.clone()]
                    .iter()
                    .map(|r| ("CO-RE relocation", r.insn_off)),
            );
        for (what, off) in offs {
            let at_end = u64::from(off) == place.size && what != "CO-RE relocation";
            if (u64::from(off) >= place.size && !at_end) || off % 8 != 0 {
                return Err(Error::BadObject {
                    file: input.name.clone(),
                    reason: format!(
                        ".BTF.ext: {what} record for section {name} at instruction offset \
                         {off} is not on an instruction of the section ({} bytes)",
                        place.size
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Where one input section's records go.
struct Placing {
    input: usize,
    sec: SecIdx,
    out_id: OutSecId,
    /// The input section's size and the output section's.
    size: u64,
    out_size: u64,
}

impl Placing {
    /// A record's output offset. A record at the end of the piece (an empty function) survives
    /// only at the end of the output section (as libbpf's linker keeps it; libbpf's loader
    /// skips empty code sections) and is dropped when another input's code follows, where it
    /// would name that code's first instruction; a record inside a folded (cut) definition goes
    /// with it.
    fn moved(&self, layout: &Layout, off: u32) -> Option<u32> {
        let (_, o) = layout.map(self.input, self.sec, u64::from(off))?;
        (u64::from(off) < self.size || o >= self.out_size).then_some(o as u32)
    }
}

/// Move `records` into `list` and give their range there.
fn append<T>(list: &mut Vec<T>, mut records: Vec<T>) -> Range<usize> {
    let start = list.len();
    list.append(&mut records);
    start..list.len()
}

/// Keep the records of `range` whose offset `moved` places, written from `write` on with their
/// new offsets (never past what is read: runs are placed in order). Returns the next write
/// position.
fn keep_moved<T: Copy>(
    list: &mut [T],
    range: Range<usize>,
    mut write: usize,
    moved: impl Fn(u32) -> Option<u32>,
    off: impl Fn(&mut T) -> &mut u32,
) -> usize {
    for i in range {
        let mut r = list[i];
        if let Some(o) = moved(*off(&mut r)) {
            *off(&mut r) = o;
            list[write] = r;
            write += 1;
        }
    }
    write
}
