//! Takes the inputs, the layout and the map plan, gives the output symbol table: locals kept per
//! file, globals resolved by libbpf's rules (extern -> definition, strong beats weak, first weak
//! wins; two strong definitions are listed as duplicates for the fold stage to fold or refuse),
//! one global per merged map, and for every input symbol what a relocation against it now
//! refers to.

use crate::btf::FastMap;

use object::elf;

use crate::error::{Error, Result};
use crate::input::{Input, Name, SecKind, SymIdx, SymPlace};
use crate::layout::{Layout, OutSecId};
use crate::maps::{MapId, MapPlan};

/// One symbol of the output table.
#[derive(Clone, Debug)]
pub struct OutSymbol {
    /// Shared with the input symbols of the name (no copy per output symbol).
    pub name: Name,
    /// The output section, packed into 32 bits (see [`OutSymbol::section`]): with the 8-byte
    /// name an output symbol takes 32 bytes.
    at: SectionSlot,
    pub abs: bool,
    pub value: u64,
    pub size: u64,
    pub bind: u8,
    pub typ: u8,
    pub other: u8,
}

/// An output section index + 1, or none (`Option<NonZeroU32>`: 4 bytes).
type SectionSlot = Option<std::num::NonZeroU32>;

/// The slot of `section`. The layout numbers output sections in 32 bits (each holds a kept
/// input section), so an index never reaches `u32::MAX`.
fn slot_of(section: Option<OutSecId>) -> SectionSlot {
    let id = section?.0;
    std::num::NonZeroU32::new(u32::try_from(id.checked_add(1)?).ok()?)
}

impl OutSymbol {
    /// The output section; None: undefined (or absolute when `abs`).
    pub fn section(&self) -> Option<OutSecId> {
        self.at.map(|n| OutSecId(n.get() as usize - 1))
    }
}

/// What a relocation against an input symbol now refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymRef {
    /// An output symbol, by final index.
    Out(u32),
    /// The output section symbol (`out`: the output section's index in the layout, which
    /// numbers its sections in 32 bits); the addend grows by the input piece's offset (the
    /// layout's `placed` for the symbol's section). 32-bit payloads keep a reference at 8
    /// bytes (one per input symbol: 176 per object with many branch labels).
    Section { out: u32 },
    /// The input's `.maps` section symbol: the addend tells which map.
    MapsSection,
    /// A merged map: its `MapId` in 32 bits.
    Map(u32),
    /// Not in the output (symbol of a dropped section).
    Dropped,
}

const _: () = assert!(std::mem::size_of::<SymRef>() == 8);

/// A resolved global name.
#[derive(Clone, Debug)]
struct Global {
    name: Name,
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
    /// The strictest visibility (st_other & 3) of every symbol of the name so far: definitions,
    /// externs and losing weak definitions alike (libbpf's "contaminating" visibility).
    vis: u8,
    /// Some symbol of the name so far is STB_GLOBAL (a definition or an extern): the output
    /// symbol is then GLOBAL even when the kept definition is weak, as in libbpf's linker.
    strong: bool,
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
    pub global_def: FastMap<Name, (usize, SymIdx)>,
    /// Second strong definitions of a global name, in input order (see `fold`).
    pub duplicates: Vec<Duplicate>,
}

/// A second strong definition of a global: folded when identical to the first, else an error.
#[derive(Clone, Debug)]
pub struct Duplicate {
    pub name: String,
    /// The kept (first) definition.
    pub first: (usize, SymIdx),
    /// The other one.
    pub other: (usize, SymIdx),
}

impl Symbols {
    /// Final output index for a reference (sections and maps included).
    pub fn index_of(&self, r: SymRef) -> Option<u32> {
        match r {
            SymRef::Out(i) => Some(i),
            SymRef::Section { out } => self.section_sym.get(out as usize).copied(),
            SymRef::Map(m) => self.map_sym.get(m as usize).copied(),
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

/// Per input symbol while resolving: a final reference, or which global (its index over the
/// whole link in 32 bits, as output symbol indices are: 2^32 globals would take some 100 GB of
/// symbol tables). Eight bytes and aligned as a `SymRef`, so the per-input lists become the
/// references in place.
enum Pending {
    Ref(SymRef),
    Global(u32),
}

const _: () = assert!(std::mem::size_of::<Pending>() == 8);

/// The pending entry of global `g`.
fn pending_global(g: usize) -> Pending {
    debug_assert!(u32::try_from(g).is_ok());
    Pending::Global(g as u32)
}

/// The state of a resolution.
struct Resolver<'a, 'c> {
    inputs: &'a [Input<'a>],
    layout: &'a Layout,
    maps: &'a MapPlan,
    collect: Option<&'c mut Vec<Error>>,
    list: Vec<OutSymbol>,
    globals: Vec<Global>,
    by_name: FastMap<&'a str, usize>,
    map_global: Vec<Option<usize>>,
    duplicates: Vec<Duplicate>,
    /// The name of the null and section symbols.
    empty: Name,
}

/// The null symbol's fields under `name` (shared: an empty name is not allocated per symbol).
fn null_symbol(name: Name) -> OutSymbol {
    OutSymbol {
        name,
        at: None,
        abs: false,
        value: 0,
        size: 0,
        bind: 0,
        typ: 0,
        other: 0,
    }
}

/// Resolve the symbols of all inputs. With `collect`, every symbol conflict is gathered there
/// instead of stopping at the first one (for `check`).
pub fn resolve_collecting<'a>(
    inputs: &'a [Input<'a>],
    layout: &'a Layout,
    maps: &'a MapPlan,
    collect: Option<&mut Vec<Error>>,
) -> Result<Symbols> {
    // Every input symbol yields at most one output symbol: reserve once, no regrowth.
    let total: usize = inputs.iter().map(|i| i.symbols.len()).sum::<usize>()
        + layout.sections.len()
        + maps.maps.len()
        + 1;
    let mut r = Resolver {
        inputs,
        layout,
        maps,
        collect,
        list: Vec::with_capacity(total),
        globals: Vec::new(),
        by_name: FastMap::default(),
        map_global: vec![None; maps.maps.len()],
        duplicates: Vec::new(),
        empty: Name::new(""),
    };
    r.list.push(null_symbol(Name::clone(&r.empty)));
    let section_sym = r.section_symbols();
    let mut pending = Vec::with_capacity(inputs.len());
    for i in 0..inputs.len() {
        pending.push(r.input_symbols(i)?);
    }
    r.finish(pending, section_sym)
}

impl<'a> Resolver<'a, '_> {
    /// One section symbol per output section, first after the null symbol.
    fn section_symbols(&mut self) -> Vec<u32> {
        let mut section_sym = Vec::with_capacity(self.layout.sections.len());
        for s in 0..self.layout.sections.len() {
            section_sym.push(self.list.len() as u32);
            self.list.push(OutSymbol {
                at: slot_of(Some(OutSecId(s))),
                bind: elf::STB_LOCAL.0,
                typ: elf::STT_SECTION.0,
                ..null_symbol(Name::clone(&self.empty))
            });
        }
        section_sym
    }

    /// What each symbol of input `i` becomes.
    fn input_symbols(&mut self, i: usize) -> Result<Vec<Pending>> {
        let input = &self.inputs[i];
        let mut here = Vec::with_capacity(input.symbols.len());
        for k in 0..input.symbols.len() {
            let p = if k == 0 {
                Pending::Ref(SymRef::Dropped)
            } else {
                self.symbol(i, SymIdx(k))?
            };
            here.push(p);
        }
        Ok(here)
    }

    /// What one input symbol becomes.
    fn symbol(&mut self, i: usize, idx: SymIdx) -> Result<Pending> {
        let input = &self.inputs[i];
        let sym = &input.symbols[idx.0];
        if let Some(mid) = self.maps.of_symbol(i, idx) {
            let g = self.map_symbol(mid, &sym.name);
            self.mention(g, sym);
            return Ok(pending_global(g));
        }
        let placed = sym.section().and_then(|s| self.layout.placed(i, s));
        let in_maps = sym.section().is_some() && sym.section() == self.maps.maps_section[i];
        if sym.is_section() {
            return Ok(Pending::Ref(match (in_maps, placed) {
                (true, _) => SymRef::MapsSection,
                (false, Some((out, _))) => section_ref(out),
                (false, None) => SymRef::Dropped,
            }));
        }
        if sym.typ == elf::STT_FILE.0 {
            return Ok(Pending::Ref(self.push_local(sym, None, 0, true)));
        }
        if in_maps {
            // A symbol in .maps that is no map definition (a label): relocations against
            // it resolve through the map that covers its offset.
            return Ok(Pending::Ref(match self.maps.at_offset(i, sym.value) {
                Some(m) => map_ref(m),
                None => SymRef::Dropped,
            }));
        }
        if sym.place() == SymPlace::Common {
            return Err(Error::BadObject {
                file: input.name.clone(),
                reason: format!("symbol `{}` is a COMMON symbol; BPF has none", sym.name),
            });
        }
        // A later input's copy of `license`/`version` leaves no symbol (no alias of the kept
        // string).
        if sym
            .section()
            .is_some_and(|sec| self.layout.is_dropped_copy(self.inputs, i, sec))
        {
            return Ok(Pending::Ref(SymRef::Dropped));
        }
        // Where the symbol is in the output; None when its section is dropped or its bytes
        // were cut out (a folded duplicate).
        let at = sym.section().and_then(|s| self.layout.map(i, s, sym.value));
        if sym.is_local() {
            return Ok(Pending::Ref(match (sym.place(), at) {
                (SymPlace::Section(_), Some((out, v))) => self.push_local(sym, Some(out), v, false),
                (SymPlace::Absolute, _) => self.push_local(sym, None, sym.value, true),
                _ => SymRef::Dropped,
            }));
        }
        self.global(i, idx, placed.is_some(), at.is_some())
    }

    /// A local symbol of the output.
    fn push_local(
        &mut self,
        sym: &crate::input::Symbol,
        section: Option<OutSecId>,
        value: u64,
        abs: bool,
    ) -> SymRef {
        let file = sym.typ == elf::STT_FILE.0;
        self.list.push(OutSymbol {
            name: Name::clone(&sym.name),
            at: slot_of(section),
            abs,
            value,
            size: if file { 0 } else { sym.size },
            bind: if file { elf::STB_LOCAL.0 } else { sym.bind },
            typ: sym.typ,
            other: sym.other,
        });
        SymRef::Out(self.list.len() as u32 - 1)
    }

    /// The global of a merged map.
    fn map_symbol(&mut self, mid: MapId, sym_name: &'a str) -> usize {
        let globals = &mut self.globals;
        let g = *self.map_global[mid.0].get_or_insert_with(|| {
            globals.push(Global {
                name: Name::new(self.maps.maps[mid.0].name.as_str()),
                def: None,
                weak: false,
                map: Some(mid),
                typ: elf::STT_OBJECT.0,
                other: 0,
                weak_refs: true,
                vis: elf::STV_DEFAULT.0,
                strong: false,
            });
            globals.len() - 1
        });
        self.by_name.entry(sym_name).or_insert(g);
        g
    }

    /// The global entry of a name, made on first mention.
    fn global_entry(&mut self, sym: &'a crate::input::Symbol) -> usize {
        if let Some(&g) = self.by_name.get(&*sym.name) {
            return g;
        }
        self.globals.push(Global {
            name: Name::clone(&sym.name),
            def: None,
            weak: false,
            map: None,
            typ: sym.typ,
            other: sym.other,
            weak_refs: true,
            vis: elf::STV_DEFAULT.0,
            strong: false,
        });
        self.by_name.insert(&*sym.name, self.globals.len() - 1);
        self.globals.len() - 1
    }

    /// What every symbol of a name contributes, whether it is kept or not: its visibility (the
    /// strictest wins) and its binding (one STB_GLOBAL symbol makes the name GLOBAL).
    fn mention(&mut self, g: usize, sym: &crate::input::Symbol) {
        let global = &mut self.globals[g];
        global.vis = stricter(global.vis, sym.other & VIS_MASK);
        global.strong |= sym.bind == elf::STB_GLOBAL.0;
    }

    /// A global or weak symbol: a reference, or a definition (`placed`: its section is kept;
    /// `present`: its bytes are in the output, not cut out as a folded duplicate, which then
    /// refers to the kept definition like an extern).
    fn global(&mut self, i: usize, idx: SymIdx, placed: bool, present: bool) -> Result<Pending> {
        let inputs = self.inputs;
        let input = &inputs[i];
        let sym = &input.symbols[idx.0];
        let defined = match sym.place() {
            SymPlace::Section(_) => present,
            SymPlace::Absolute => true,
            _ => false,
        };
        if matches!(sym.place(), SymPlace::Section(_)) && !placed {
            // Defined in a dropped section (debug info): nothing refers to it.
            return Ok(Pending::Ref(SymRef::Dropped));
        }
        let g = self.global_entry(sym);
        self.mention(g, sym);
        if let Some(m) = self.globals[g].map {
            if defined {
                let file_b = inputs[self.maps.maps[m.0].defs[0].input].name.clone();
                conflict(
                    &mut self.collect,
                    Error::SymbolMismatch {
                        name: sym.name.to_string(),
                        reason: "defined both as a map and as another symbol".into(),
                        file_a: input.name.clone(),
                        file_b,
                    },
                )?;
            }
            return Ok(pending_global(g));
        }
        if !defined {
            self.globals[g].weak_refs &= sym.is_weak();
            return Ok(pending_global(g));
        }
        self.definition(g, i, idx)?;
        Ok(pending_global(g))
    }

    /// Another definition of global `g`: strong beats weak, first weak wins, a second strong
    /// one is a duplicate (folded or refused later).
    fn definition(&mut self, g: usize, i: usize, idx: SymIdx) -> Result<()> {
        let inputs = self.inputs;
        let sym = &inputs[i].symbols[idx.0];
        let weak = sym.is_weak();
        let Some((pi, ps)) = self.globals[g].def else {
            self.globals[g].def = Some((i, idx));
            self.globals[g].weak = weak;
            return Ok(());
        };
        let prev = &inputs[pi].symbols[ps.0];
        let kind = |inp: &Input<'_>, s: &crate::input::Symbol| {
            s.section().map(|sec| inp.section(sec).kind)
        };
        let sec_kind = kind(&inputs[i], sym);
        // The license string is kept once whatever its symbol is called.
        if matches!(sec_kind, Some(SecKind::License | SecKind::Version))
            && kind(&inputs[pi], prev) == sec_kind
        {
            return Ok(());
        }
        let is_func = |t: u8| t == elf::STT_FUNC.0;
        if is_func(prev.typ) != is_func(sym.typ) {
            return conflict(
                &mut self.collect,
                Error::SymbolMismatch {
                    name: sym.name.to_string(),
                    reason: "a function in one file and a variable in the other".into(),
                    file_a: inputs[pi].name.clone(),
                    file_b: inputs[i].name.clone(),
                },
            );
        }
        match (self.globals[g].weak, weak) {
            (false, false) => self.duplicates.push(Duplicate {
                name: sym.name.to_string(),
                first: (pi, ps),
                other: (i, idx),
            }),
            (true, false) => {
                self.globals[g].def = Some((i, idx));
                self.globals[g].weak = false;
            }
            // First weak wins; a weak after a strong loses.
            _ => {}
        }
        Ok(())
    }

    /// The output table: globals after the locals, in order of first appearance; every
    /// pending reference made final.
    fn finish(mut self, pending: Vec<Vec<Pending>>, section_sym: Vec<u32>) -> Result<Symbols> {
        let num_local = self.list.len() as u32;
        let mut global_index = Vec::with_capacity(self.globals.len());
        let mut map_sym = vec![0u32; self.maps.maps.len()];
        let mut global_def = FastMap::default();
        let globals = std::mem::take(&mut self.globals);
        for g in &globals {
            global_index.push(self.list.len() as u32);
            let sym = match (g.map, g.def) {
                (Some(mid), _) => {
                    map_sym[mid.0] = self.list.len() as u32;
                    self.map_out_symbol(g, mid)
                }
                (None, Some((i, s))) => {
                    global_def.insert(g.name.clone(), (i, s));
                    self.defined_out_symbol(g, i, s)
                }
                (None, None) => extern_out_symbol(g),
            };
            self.list.push(sym);
        }
        let refs = pending
            .into_iter()
            .map(|syms| {
                syms.into_iter()
                    .map(|p| match p {
                        Pending::Ref(r) => r,
                        Pending::Global(g) => match globals[g as usize].map {
                            Some(m) => map_ref(m),
                            None => SymRef::Out(global_index[g as usize]),
                        },
                    })
                    .collect()
            })
            .collect();
        self.list.shrink_to_fit();
        Ok(Symbols {
            list: self.list,
            num_local,
            refs,
            section_sym,
            map_sym,
            global_def,
            duplicates: self.duplicates,
        })
    }

    /// A merged map's symbol: in `.maps` (weak only when every definition and declaration is weak), or an
    /// extern when no input defines it.
    fn map_out_symbol(&self, g: &Global, mid: MapId) -> OutSymbol {
        let m = &self.maps.maps[mid.0];
        if m.is_extern {
            return OutSymbol {
                bind: elf::STB_GLOBAL.0,
                typ: elf::STT_NOTYPE.0,
                ..null_symbol(Name::clone(&g.name))
            };
        }
        let all_weak = !g.strong
            && m.defs.iter().all(|d| {
                d.sym()
                    .is_some_and(|s| self.inputs[d.input].symbols[s.0].is_weak())
            });
        OutSymbol {
            name: g.name.clone(),
            at: slot_of(self.layout.maps),
            abs: false,
            value: m.out_offset,
            size: m.out_size,
            bind: if all_weak {
                elf::STB_WEAK.0
            } else {
                elf::STB_GLOBAL.0
            },
            typ: elf::STT_OBJECT.0,
            other: g.vis,
        }
    }

    /// A defined global's symbol, where its definition landed.
    fn defined_out_symbol(&self, g: &Global, i: usize, s: SymIdx) -> OutSymbol {
        let sym = &self.inputs[i].symbols[s.0];
        let at = sym
            .section()
            .and_then(|sec| self.layout.map(i, sec, sym.value));
        OutSymbol {
            name: g.name.clone(),
            at: slot_of(at.map(|p| p.0)),
            abs: at.is_none(),
            value: at.map_or(sym.value, |p| p.1),
            size: sym.size,
            bind: if g.strong {
                elf::STB_GLOBAL.0
            } else {
                sym.bind
            },
            typ: sym.typ,
            other: with_visibility(sym.other, g.vis),
        }
    }
}

/// A reference to output section `out` (the layout numbers its sections in 32 bits, so the
/// index fits).
fn section_ref(out: OutSecId) -> SymRef {
    SymRef::Section { out: out.0 as u32 }
}

/// A reference to merged map `m` (its index over the whole link in 32 bits, as output symbol
/// indices are: each map is defined by an input symbol, and 2^32 of them would take some
/// 100 GB of symbol tables).
fn map_ref(m: MapId) -> SymRef {
    debug_assert!(u32::try_from(m.0).is_ok());
    SymRef::Map(m.0 as u32)
}

/// The visibility bits of st_other.
const VIS_MASK: u8 = 3;

/// The stricter of two ELF visibilities: DEFAULT < PROTECTED < HIDDEN < INTERNAL.
fn stricter(a: u8, b: u8) -> u8 {
    let rank = |v: u8| {
        [
            elf::STV_DEFAULT,
            elf::STV_PROTECTED,
            elf::STV_HIDDEN,
            elf::STV_INTERNAL,
        ]
        .iter()
        .position(|s| s.0 == v)
        .unwrap_or(0)
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// `other` with its visibility bits replaced by `vis`.
fn with_visibility(other: u8, vis: u8) -> u8 {
    (other & !VIS_MASK) | vis
}

/// A global no input defines (a kfunc, a .kconfig or .ksyms variable): kept for the loader,
/// weak when every reference was weak.
fn extern_out_symbol(g: &Global) -> OutSymbol {
    OutSymbol {
        bind: if g.weak_refs {
            elf::STB_WEAK.0
        } else {
            elf::STB_GLOBAL.0
        },
        typ: g.typ,
        other: with_visibility(g.other, g.vis),
        ..null_symbol(Name::clone(&g.name))
    }
}
