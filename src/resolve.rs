//! Takes the inputs, the layout and the map plan, gives the output symbol table: locals kept per
//! file, globals resolved by libbpf's rules (extern -> definition, strong beats weak, first weak
//! wins, two strong definitions are an error), one global per merged map, and for every input
//! symbol what a relocation against it now refers to.

use std::collections::HashMap;

use object::elf;

use crate::error::{Error, Result};
use crate::input::{Input, SecKind, SymIdx, SymPlace};
use crate::layout::{Layout, OutSecId};
use crate::maps::{MapId, MapPlan};

/// One symbol of the output table.
#[derive(Clone, Debug)]
pub struct OutSymbol {
    pub name: String,
    /// None: undefined (or absolute when `abs`).
    pub section: Option<OutSecId>,
    pub abs: bool,
    pub value: u64,
    pub size: u64,
    pub bind: u8,
    pub typ: u8,
    pub other: u8,
}

/// What a relocation against an input symbol now refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymRef {
    /// An output symbol, by final index.
    Out(u32),
    /// The output section symbol; the addend grows by the input piece's offset.
    Section(OutSecId, u64),
    /// The input's `.maps` section symbol: the addend tells which map.
    MapsSection,
    /// A merged map.
    Map(MapId),
    /// Not in the output (symbol of a dropped section).
    Dropped,
}

/// A resolved global name.
#[derive(Clone, Debug)]
struct Global {
    name: String,
    /// Defining (input, symbol), if any.
    def: Option<(usize, SymIdx)>,
    weak: bool,
    /// A map instead of a plain symbol.
    map: Option<MapId>,
    /// Symbol type and st_other of the first mention (used while it stays an extern).
    typ: u8,
    other: u8,
    /// Every undefined reference so far was weak (an optional extern stays weak).
    weak_refs: bool,
}

/// The output symbol table and the input-symbol mapping.
#[derive(Clone, Debug)]
pub struct Symbols {
    /// Index 0 is the null symbol; locals come first.
    pub list: Vec<OutSymbol>,
    pub num_local: u32,
    /// Per input, per input symbol.
    pub refs: Vec<Vec<SymRef>>,
    /// Output index of each output section's section symbol.
    pub section_sym: Vec<u32>,
    /// Output index of each merged map's symbol.
    pub map_sym: Vec<u32>,
    /// Per global name: the defining (input, symbol) — used to pick surviving BTF types.
    pub global_def: HashMap<String, (usize, SymIdx)>,
}

impl Symbols {
    /// Final output index for a reference (sections and maps included).
    pub fn index_of(&self, r: SymRef) -> Option<u32> {
        match r {
            SymRef::Out(i) => Some(i),
            SymRef::Section(s, _) => self.section_sym.get(s.0).copied(),
            SymRef::Map(m) => self.map_sym.get(m.0).copied(),
            SymRef::MapsSection | SymRef::Dropped => None,
        }
    }

    /// Whether `(input, sym)` is the definition a global name resolved to.
    pub fn is_survivor(&self, name: &str, input: usize, sym: SymIdx) -> bool {
        self.global_def.get(name) == Some(&(input, sym))
    }
}

/// Report a symbol conflict: into `collect` when collecting (the first definition is kept and
/// resolution goes on, for `check`), else as the error.
fn conflict(collect: &mut Option<&mut Vec<Error>>, e: Error) -> Result<()> {
    match collect {
        Some(list) => {
            list.push(e);
            Ok(())
        }
        None => Err(e),
    }
}

/// Resolve the symbols of all inputs. With `collect`, every symbol conflict is gathered there
/// instead of stopping at the first one (for `check`).
pub fn resolve_collecting(
    inputs: &[Input<'_>],
    layout: &Layout,
    maps: &MapPlan,
    mut collect: Option<&mut Vec<Error>>,
) -> Result<Symbols> {
    // Every input symbol yields at most one output symbol: reserve once, no regrowth.
    let total: usize = inputs.iter().map(|i| i.symbols.len()).sum::<usize>()
        + layout.sections.len()
        + maps.maps.len()
        + 1;
    let mut list = Vec::with_capacity(total);
    list.push(OutSymbol {
        name: String::new(),
        section: None,
        abs: false,
        value: 0,
        size: 0,
        bind: 0,
        typ: 0,
        other: 0,
    });
    // Section symbols first, one per output section.
    let mut section_sym = Vec::with_capacity(layout.sections.len());
    for (s, _) in layout.sections.iter().enumerate() {
        section_sym.push(list.len() as u32);
        list.push(OutSymbol {
            name: String::new(),
            section: Some(OutSecId(s)),
            abs: false,
            value: 0,
            size: 0,
            bind: elf::STB_LOCAL.0,
            typ: elf::STT_SECTION.0,
            other: 0,
        });
    }

    let mut globals: Vec<Global> = Vec::new();
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    let mut map_global: Vec<Option<usize>> = vec![None; maps.maps.len()];
    // Per input, per symbol: a local's output index, or which global.
    enum Pending {
        Ref(SymRef),
        Global(usize),
    }
    let mut pending: Vec<Vec<Pending>> = Vec::with_capacity(inputs.len());

    for (i, input) in inputs.iter().enumerate() {
        let mut here = Vec::with_capacity(input.symbols.len());
        for (k, sym) in input.symbols.iter().enumerate() {
            let idx = SymIdx(k);
            if k == 0 {
                here.push(Pending::Ref(SymRef::Dropped));
                continue;
            }
            if let Some(&mid) = maps.by_symbol.get(&(i, idx)) {
                let g = *map_global[mid.0].get_or_insert_with(|| {
                    globals.push(Global {
                        name: maps.maps[mid.0].name.clone(),
                        def: None,
                        weak: false,
                        map: Some(mid),
                        typ: elf::STT_OBJECT.0,
                        other: 0,
                        weak_refs: true,
                    });
                    globals.len() - 1
                });
                by_name.entry(input.symbols[k].name.as_str()).or_insert(g);
                here.push(Pending::Global(g));
                continue;
            }
            let placed = sym.section().and_then(|s| layout.placed(i, s));
            let in_maps = sym.section().is_some() && sym.section() == maps.maps_section[i];
            if sym.is_section() {
                here.push(Pending::Ref(match (in_maps, placed) {
                    (true, _) => SymRef::MapsSection,
                    (false, Some((out, off))) => SymRef::Section(out, off),
                    (false, None) => SymRef::Dropped,
                }));
                continue;
            }
            if sym.typ == elf::STT_FILE.0 {
                here.push(Pending::Ref(SymRef::Out(list.len() as u32)));
                list.push(OutSymbol {
                    name: sym.name.to_string(),
                    section: None,
                    abs: true,
                    value: 0,
                    size: 0,
                    bind: elf::STB_LOCAL.0,
                    typ: elf::STT_FILE.0,
                    other: sym.other,
                });
                continue;
            }
            if in_maps {
                // A symbol in .maps that is no map definition (a label): relocations against
                // it resolve through the map that covers its offset.
                here.push(Pending::Ref(match maps.at_offset(i, sym.value) {
                    Some(m) => SymRef::Map(m),
                    None => SymRef::Dropped,
                }));
                continue;
            }
            if sym.place == SymPlace::Common {
                return Err(Error::BadObject {
                    file: input.name.clone(),
                    reason: format!("symbol `{}` is a COMMON symbol; BPF has none", sym.name),
                });
            }
            if sym.is_local() {
                let r = match (sym.place, placed) {
                    (SymPlace::Section(_), Some((out, off))) => {
                        list.push(OutSymbol {
                            name: sym.name.to_string(),
                            section: Some(out),
                            abs: false,
                            value: sym.value + off,
                            size: sym.size,
                            bind: sym.bind,
                            typ: sym.typ,
                            other: sym.other,
                        });
                        SymRef::Out(list.len() as u32 - 1)
                    }
                    (SymPlace::Absolute, _) => {
                        list.push(OutSymbol {
                            name: sym.name.to_string(),
                            section: None,
                            abs: true,
                            value: sym.value,
                            size: sym.size,
                            bind: sym.bind,
                            typ: sym.typ,
                            other: sym.other,
                        });
                        SymRef::Out(list.len() as u32 - 1)
                    }
                    _ => SymRef::Dropped,
                };
                here.push(Pending::Ref(r));
                continue;
            }
            // A global or weak symbol.
            let defined = match sym.place {
                SymPlace::Section(_) => placed.is_some(),
                SymPlace::Absolute => true,
                _ => false,
            };
            if sym.place != SymPlace::Undefined && !defined {
                // Defined in a dropped section (debug info): nothing refers to it.
                here.push(Pending::Ref(SymRef::Dropped));
                continue;
            }
            let g = match by_name.get(sym.name.as_str()) {
                Some(&g) => g,
                None => {
                    globals.push(Global {
                        name: sym.name.to_string(),
                        def: None,
                        weak: false,
                        map: None,
                        typ: sym.typ,
                        other: sym.other,
                        weak_refs: true,
                    });
                    by_name.insert(sym.name.as_str(), globals.len() - 1);
                    globals.len() - 1
                }
            };
            here.push(Pending::Global(g));
            if globals[g].map.is_some() {
                if defined {
                    conflict(
                        &mut collect,
                        Error::SymbolMismatch {
                            name: sym.name.to_string(),
                            reason: "defined both as a map and as another symbol".into(),
                            file_a: input.name.clone(),
                            file_b: inputs
                                [maps.maps[globals[g].map.map_or(0, |m| m.0)].defs[0].input]
                                .name
                                .clone(),
                        },
                    )?;
                }
                continue;
            }
            if !defined {
                globals[g].weak_refs &= sym.is_weak();
                continue;
            }
            let weak = sym.is_weak();
            let sec_kind = sym.section().map(|s| input.section(s).kind);
            let entry = &mut globals[g];
            match entry.def {
                None => {
                    entry.def = Some((i, idx));
                    entry.weak = weak;
                }
                Some((pi, ps)) => {
                    let prev = &inputs[pi].symbols[ps.0];
                    let prev_kind = prev.section().map(|s| inputs[pi].section(s).kind);
                    // The license string is kept once whatever its symbol is called.
                    if matches!(sec_kind, Some(SecKind::License | SecKind::Version))
                        && prev_kind == sec_kind
                    {
                        continue;
                    }
                    let is_func = |t: u8| t == elf::STT_FUNC.0;
                    if is_func(prev.typ) != is_func(sym.typ) {
                        conflict(
                            &mut collect,
                            Error::SymbolMismatch {
                                name: sym.name.to_string(),
                                reason: "a function in one file and a variable in the other".into(),
                                file_a: inputs[pi].name.clone(),
                                file_b: input.name.clone(),
                            },
                        )?;
                        continue;
                    }
                    match (entry.weak, weak) {
                        (false, false) => {
                            // The first definition is kept when collecting.
                            conflict(
                                &mut collect,
                                Error::DuplicateSymbol {
                                    name: sym.name.to_string(),
                                    file_a: inputs[pi].name.clone(),
                                    file_b: input.name.clone(),
                                },
                            )?;
                        }
                        (true, false) => {
                            entry.def = Some((i, idx));
                            entry.weak = false;
                        }
                        // First weak wins; a weak after a strong loses.
                        _ => {}
                    }
                }
            }
        }
        pending.push(here);
    }

    // Globals after the locals, in order of first appearance.
    let num_local = list.len() as u32;
    let mut global_index = Vec::with_capacity(globals.len());
    let mut map_sym = vec![0u32; maps.maps.len()];
    let mut global_def = HashMap::new();
    for g in &globals {
        global_index.push(list.len() as u32);
        if let Some(mid) = g.map {
            let m = &maps.maps[mid.0];
            map_sym[mid.0] = list.len() as u32;
            let all_weak = m.defs.iter().all(|d| {
                d.sym
                    .is_some_and(|s| inputs[d.input].symbols[s.0].is_weak())
            });
            list.push(if m.is_extern {
                OutSymbol {
                    name: g.name.clone(),
                    section: None,
                    abs: false,
                    value: 0,
                    size: 0,
                    bind: elf::STB_GLOBAL.0,
                    typ: elf::STT_NOTYPE.0,
                    other: 0,
                }
            } else {
                OutSymbol {
                    name: g.name.clone(),
                    section: layout.maps,
                    abs: false,
                    value: m.out_offset,
                    size: m.out_size,
                    bind: if all_weak {
                        elf::STB_WEAK.0
                    } else {
                        elf::STB_GLOBAL.0
                    },
                    typ: elf::STT_OBJECT.0,
                    other: 0,
                }
            });
            continue;
        }
        match g.def {
            Some((i, s)) => {
                global_def.insert(g.name.clone(), (i, s));
                let sym = &inputs[i].symbols[s.0];
                let placed = sym.section().and_then(|sec| layout.placed(i, sec));
                list.push(OutSymbol {
                    name: g.name.clone(),
                    section: placed.map(|p| p.0),
                    abs: placed.is_none(),
                    value: sym.value + placed.map_or(0, |p| p.1),
                    size: sym.size,
                    bind: sym.bind,
                    typ: sym.typ,
                    other: sym.other,
                });
            }
            None => {
                // Still an extern (a kfunc, a .kconfig or .ksyms variable): kept for the loader.
                let (typ, other) = (g.typ, g.other);
                list.push(OutSymbol {
                    name: g.name.clone(),
                    section: None,
                    abs: false,
                    value: 0,
                    size: 0,
                    bind: if g.weak_refs {
                        elf::STB_WEAK.0
                    } else {
                        elf::STB_GLOBAL.0
                    },
                    typ,
                    other,
                });
            }
        }
    }

    let refs = pending
        .into_iter()
        .map(|syms| {
            syms.into_iter()
                .map(|p| match p {
                    Pending::Ref(r) => r,
                    Pending::Global(g) => match globals[g].map {
                        Some(m) => SymRef::Map(m),
                        None => SymRef::Out(global_index[g]),
                    },
                })
                .collect()
        })
        .collect();

    list.shrink_to_fit();
    Ok(Symbols {
        list,
        num_local,
        refs,
        section_sym,
        map_sym,
        global_def,
    })
}
