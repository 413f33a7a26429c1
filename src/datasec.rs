//! Takes the merged (not yet compacted) BTF with the layout, symbols and map plan, gives the
//! final BTF bytes and `.BTF.ext` records (encoded by the writer): DATASECs rebuilt with output
//! offsets and sizes, dropped VARs and resolved extern VAR/FUNCs redirected to their survivors,
//! types deduplicated, `.BTF.ext` records moved to their output sections.

use std::collections::BTreeMap;

use crate::btf::FastMap;

use object::Endianness;

use crate::btf::ext::{BtfExt, ExtSection};
use crate::btf::{
    Appended, Btf, BtfType, Equivalence, Redirect, StrOff, TypeId, TypeRemap, VarSecinfo,
    FUNC_EXTERN, FUNC_GLOBAL, VAR_EXTERN, VAR_GLOBAL,
};
use crate::error::Result;
use crate::ext_records::ExtRecords;
use crate::input::{Input, SecIdx, SymPlace};
use crate::layout::{Layout, OutSecId};
use crate::maps::MapPlan;
use crate::resolve::{SymRef, Symbols};

/// Where a rebuilt DATASEC goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SecKey {
    /// An output section.
    Out(OutSecId),
    /// A DATASEC with no ELF section (`.kconfig`, `.ksyms`), by order of appearance.
    Extern(usize),
}

/// Encoded `.BTF`, and the `.BTF.ext` records at their output offsets and type ids (None when
/// there is nothing to put in it), encoded as the writer writes them.
pub struct FinalBtf {
    pub btf: Vec<u8>,
    pub btf_ext: Option<BtfExt>,
}

/// Finish the BTF of the link: a driver over one step per kind of output.
#[allow(clippy::too_many_arguments)]
pub fn finish(
    inputs: &[Input<'_>],
    mut btf: Btf,
    appended: &[Option<Appended>],
    exts: ExtRecords,
    eq: &Equivalence,
    layout: &Layout,
    symbols: &Symbols,
    maps: &MapPlan,
    endian: Endianness,
) -> Result<FinalBtf> {
    check_inputs(inputs, &btf, appended)?;
    let gathered = {
        let pass = Pass {
            inputs,
            btf: &btf,
            layout,
            symbols,
            maps,
            map_of_var: map_of_var(maps),
            defs: definitions(&btf, appended, symbols, maps)?,
        };
        let mut g = Gathered::default();
        for (i, app) in appended.iter().enumerate() {
            if let Some(app) = app {
                pass.rebuild_input(i, *app, &mut g)?;
            }
        }
        g
    };
    rename_kept_maps(&mut btf, maps);
    push_datasecs(&mut btf, gathered.secs, layout);
    let ext_out = exts.place(inputs, &btf, layout)?;
    let remap = btf.compact(eq, &gathered.redirects.into_sorted());
    Ok(encode(btf, ext_out, &remap, endian))
}

/// Each input's value loops and VAR references, checked before anything is rebuilt.
fn check_inputs(inputs: &[Input<'_>], btf: &Btf, appended: &[Option<Appended>]) -> Result<()> {
    for (input, app) in inputs.iter().zip(appended) {
        if let Some(app) = app {
            btf.check_value_loops(*app)
                .and_then(|()| btf.check_var_refs(*app))
                .map_err(|e| e.in_file(&input.name))?;
        }
    }
    Ok(())
}

/// The VAR of every map definition -> its merged map, sorted by VAR. A VAR's container id
/// names its input too (each input's types have their own id range), so the id alone is the
/// key.
fn map_of_var(maps: &MapPlan) -> MapOfVar {
    let mut list = Vec::with_capacity(maps.maps.iter().map(|m| m.defs.len()).sum());
    for (m, map) in maps.maps.iter().enumerate() {
        list.extend(map.defs.iter().map(|d| (d.var, m)));
    }
    // Stable, and `get` takes the last of equal ids: a VAR listed twice (never, normally)
    // gives the map listed last, as the inserts into a hash map this replaces did.
    list.sort_by_key(|&(v, _)| v);
    MapOfVar(list)
}

/// See [`map_of_var`].
struct MapOfVar(Vec<(TypeId, usize)>);

impl MapOfVar {
    fn get(&self, var: TypeId) -> Option<usize> {
        let end = self.0.partition_point(|&(v, _)| v <= var);
        (end > 0 && self.0[end - 1].0 == var).then(|| self.0[end - 1].1)
    }
}

/// The VAR / FUNC type of every surviving global definition, by name.
#[derive(Default)]
struct Definitions<'a> {
    var: FastMap<&'a str, TypeId>,
    func: FastMap<&'a str, TypeId>,
}

/// Find the survivors' VARs and FUNCs: the merged maps', then each global definition's in the
/// input that defines it (the first of its kind there).
fn definitions<'a>(
    btf: &'a Btf,
    appended: &[Option<Appended>],
    symbols: &Symbols,
    maps: &'a MapPlan,
) -> Result<Definitions<'a>> {
    let mut defs = Definitions::default();
    for m in &maps.maps {
        defs.var.insert(m.name.as_str(), m.survivor().var);
    }
    let defined_in = |name: StrOff, i: usize| {
        let n = btf.str(name);
        symbols
            .global_def
            .get(n)
            .is_some_and(|&(di, _)| di == i)
            .then_some(n)
    };
    for (i, app) in appended.iter().enumerate() {
        let Some(app) = app else { continue };
        for (t, ty) in btf.decls(*app) {
            match ty {
                BtfType::Func { name, linkage, .. } if *linkage == FUNC_GLOBAL => {
                    if let Some(n) = defined_in(*name, i) {
                        defs.func.entry(n).or_insert(t);
                    }
                }
                BtfType::Datasec { vars, .. } => {
                    for v in vars {
                        let BtfType::Var { name, linkage, .. } = btf.get(v.ty)? else {
                            continue;
                        };
                        if *linkage == VAR_EXTERN {
                            continue;
                        }
                        if let Some(n) = defined_in(*name, i) {
                            defs.var.entry(n).or_insert(v.ty);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Ok(defs)
}

/// What the DATASEC pass gathers: where each type that does not survive goes, and the entries
/// of each rebuilt DATASEC.
#[derive(Default)]
struct Gathered {
    redirects: Redirects,
    secs: BTreeMap<SecKey, (StrOff, Vec<VarSecinfo>)>,
    /// Names of the section-less DATASECs, in order of appearance.
    extern_secs: Vec<StrOff>,
    /// (DATASEC name, VAR name) -> kept VAR, for sections without ELF data.
    extern_vars: FastMap<(StrOff, StrOff), TypeId>,
}

/// The read-only context of the DATASEC pass over the inputs' appended types.
struct Pass<'a, 'i> {
    inputs: &'a [Input<'i>],
    btf: &'a Btf,
    layout: &'a Layout,
    symbols: &'a Symbols,
    maps: &'a MapPlan,
    map_of_var: MapOfVar,
    defs: Definitions<'a>,
}

/// An input's symbols by (section, name), to find each VAR's offset: (section, name, symbol
/// index), sorted. A linked object can hold several same-named statics in one section (one per
/// original file). A sorted list, not a map of lists: no allocation per symbol.
struct SymAt<'a>(Vec<(usize, &'a str, usize)>);

impl SymAt<'_> {
    /// The symbols named `name` in section `sec`, by index.
    fn get(&self, sec: usize, name: &str) -> &[(usize, &str, usize)] {
        let from = self.0.partition_point(|&(s, n, _)| (s, n) < (sec, name));
        let len = self.0[from..].partition_point(|&(s, n, _)| (s, n) == (sec, name));
        &self.0[from..from + len]
    }
}

impl<'a, 'i> Pass<'a, 'i> {
    /// Rebuild one input's DATASECs and redirect its VARs and FUNCs that do not survive.
    fn rebuild_input(&self, i: usize, app: Appended, g: &mut Gathered) -> Result<()> {
        // Uses of each FUNC_PROTO of this input, counted on the first resolved extern FUNC.
        let mut proto_uses: Option<FastMap<TypeId, usize>> = None;
        let sym_at = symbols_at(&self.inputs[i]);
        for (t, ty) in self.btf.decls(app) {
            match ty {
                BtfType::Datasec { name, vars, .. } => {
                    g.redirects.add(t, Redirect::Remove);
                    self.rebuild_datasec(i, app, *name, vars, &sym_at, g)?;
                }
                // An extern VAR resolved to a definition elsewhere.
                BtfType::Var { name, linkage, .. } if *linkage == VAR_EXTERN => {
                    if let Some(&d) = self.defs.var.get(self.btf.str(*name)) {
                        g.redirects.add(t, Redirect::To(d));
                    }
                }
                // A global FUNC whose definition was folded into another input's.
                BtfType::Func { name, linkage, .. }
                    if *linkage == FUNC_GLOBAL && self.defined_elsewhere(*name, i) =>
                {
                    if let Some(&d) = self.defs.func.get(self.btf.str(*name)) {
                        g.redirects.add(t, Redirect::To(d));
                    }
                }
                BtfType::Func {
                    name,
                    linkage,
                    proto,
                } if *linkage == FUNC_EXTERN => {
                    let Some(&d) = self.defs.func.get(self.btf.str(*name)) else {
                        continue;
                    };
                    g.redirects.add(t, Redirect::To(d));
                    let uses = match &mut proto_uses {
                        Some(u) => u,
                        None => proto_uses.insert(count_proto_uses(self.btf, app)?),
                    };
                    if uses.get(proto) == Some(&1) {
                        redirect_extern_proto(self.btf, *proto, d, &mut g.redirects);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether the global `name` is defined by an input other than `i`.
    fn defined_elsewhere(&self, name: StrOff, i: usize) -> bool {
        (self.symbols.global_def.get(self.btf.str(name))).is_some_and(|&(di, _)| di != i)
    }

    /// One DATASEC of input `i`: `.maps`, a section-less one, a dropped copy, or a placed one.
    fn rebuild_datasec(
        &self,
        i: usize,
        app: Appended,
        sec_name: StrOff,
        vars: &[VarSecinfo],
        sym_at: &SymAt<'_>,
        g: &mut Gathered,
    ) -> Result<()> {
        let sname = self.btf.str(sec_name);
        let elf_sec = self.inputs[i].section_by_name(sname).filter(|s| s.0 != 0);
        if sname == ".maps" {
            self.rebuild_maps(sec_name, vars, g);
            return Ok(());
        }
        let Some((out_id, _)) = elf_sec.and_then(|s| self.layout.placed(i, s)) else {
            return self.merge_sectionless(i, app, sec_name, elf_sec.is_none(), vars, g);
        };
        let Some(elf_sec) = elf_sec else {
            return Ok(());
        };
        if self.layout.is_dropped_copy(self.inputs, i, elf_sec) {
            self.drop_copy(vars, g);
            return Ok(());
        }
        let place = Place {
            i,
            elf_sec,
            out_id,
            sec_name,
        };
        for v in vars {
            self.place_var(&place, v, sym_at, g)?;
        }
        Ok(())
    }

    /// `.maps`: the surviving definition of each merged map keeps an entry at its output
    /// offset; the others go to it.
    fn rebuild_maps(&self, sec_name: StrOff, vars: &[VarSecinfo], g: &mut Gathered) {
        for v in vars {
            let Some(m) = self.map_of_var.get(v.ty) else {
                continue;
            };
            let m = &self.maps.maps[m];
            // Without an output `.maps` section (only extern maps) the DATASEC is kept like
            // the other section-less ones.
            let key =
                self.layout.maps.map(SecKey::Out).unwrap_or_else(|| {
                    SecKey::Extern(extern_sec_index(&mut g.extern_secs, sec_name))
                });
            if m.survivor().var == v.ty {
                // An extern map keeps a size-0 entry so that a later link knows it.
                g.secs
                    .entry(key)
                    .or_insert((sec_name, Vec::new()))
                    .1
                    .push(VarSecinfo {
                        ty: v.ty,
                        offset: m.out_offset as u32,
                        size: m.out_size as u32,
                    });
            } else {
                g.redirects.add(v.ty, Redirect::To(m.survivor().var));
            }
        }
    }

    /// No ELF section: `.kconfig` / `.ksyms` externs, kept once per name.
    fn merge_sectionless(
        &self,
        i: usize,
        app: Appended,
        sec_name: StrOff,
        no_elf_sec: bool,
        vars: &[VarSecinfo],
        g: &mut Gathered,
    ) -> Result<()> {
        let idx = extern_sec_index(&mut g.extern_secs, sec_name);
        let entry = g
            .secs
            .entry(SecKey::Extern(idx))
            .or_insert((sec_name, Vec::new()));
        for v in vars {
            let vname = self.sectionless_entry_name(i, app, sec_name, no_elf_sec, v)?;
            match g.extern_vars.get(&(sec_name, vname)) {
                Some(&kept) => {
                    g.redirects.add(v.ty, Redirect::To(kept));
                }
                None => {
                    g.extern_vars.insert((sec_name, vname), v.ty);
                    entry.1.push(v.clone());
                }
            }
        }
        Ok(())
    }

    /// The name of a section-less DATASEC's entry: an extern VAR's or a FUNC's.
    fn sectionless_entry_name(
        &self,
        i: usize,
        app: Appended,
        sec_name: StrOff,
        no_elf_sec: bool,
        v: &VarSecinfo,
    ) -> Result<StrOff> {
        let bad = |reason: String| crate::error::Error::BadObject {
            file: self.inputs[i].name.clone(),
            reason,
        };
        let sname = self.btf.str(sec_name);
        match self.btf.get(v.ty)? {
            BtfType::Var { name, linkage, .. } => {
                if no_elf_sec && *linkage != VAR_EXTERN {
                    return Err(bad(format!(
                        "DATASEC `{sname}` names no section of the object but holds the \
                         defined variable `{}`",
                        self.btf.str(*name)
                    )));
                }
                Ok(*name)
            }
            BtfType::Func { name, .. } => Ok(*name),
            other => Err(bad(format!(
                "DATASEC `{sname}` entry names type [{}] {}, not a VAR or FUNC",
                v.ty.0 - app.base,
                other.kind_name()
            ))),
        }
    }

    /// A later `license`/`version` copy: its VARs go (to the kept one of the same name, if
    /// any). An entry that names no VAR (malformed BTF) is left alone, as a placed section's
    /// is: the type it names may be used elsewhere.
    fn drop_copy(&self, vars: &[VarSecinfo], g: &mut Gathered) {
        for v in vars {
            let Some(name) = var_name(self.btf, v.ty) else {
                continue;
            };
            let to = self
                .defs
                .var
                .get(name)
                .map_or(Redirect::Remove, |&d| Redirect::To(d));
            g.redirects.add(v.ty, to);
        }
    }

    /// One VAR of a placed section: kept at its output offset when its symbol survives (a
    /// local, or the global's survivor), else sent to the surviving definition.
    fn place_var(
        &self,
        place: &Place,
        v: &VarSecinfo,
        sym_at: &SymAt<'_>,
        g: &mut Gathered,
    ) -> Result<()> {
        let (i, input) = (place.i, &self.inputs[place.i]);
        let BtfType::Var { name, linkage, .. } = self.btf.get(v.ty)? else {
            return Ok(());
        };
        let vname = self.btf.str(*name);
        let Some(k) = symbol_of_var(input, sym_at.get(place.elf_sec.0, vname), v) else {
            // No symbol (optimised away): the VAR is left out.
            return Ok(());
        };
        let sym = &input.symbols[k];
        let keep = sym.is_local()
            || (matches!(self.symbols.refs[i][k], SymRef::Out(_))
                && self.symbols.is_survivor(vname, i, crate::input::SymIdx(k)));
        if !keep {
            if let Some(&d) = self.defs.var.get(vname) {
                g.redirects.add(v.ty, Redirect::To(d));
            }
            return Ok(());
        }
        let size = if *linkage == VAR_EXTERN {
            v.size
        } else {
            self.btf.size_of(v.ty).unwrap_or(sym.size as u32)
        };
        let sec_size = input.section(place.elf_sec).size;
        if sym.value.saturating_add(u64::from(size)) > sec_size {
            return Err(crate::error::Error::BadObject {
                file: input.name.clone(),
                reason: format!(
                    "variable `{vname}` at offset {} is {size} bytes by its BTF type, beyond \
                     the end of section {} ({sec_size} bytes)",
                    sym.value,
                    self.btf.str(place.sec_name)
                ),
            });
        }
        let Some((_, offset)) = self.layout.map(i, place.elf_sec, sym.value) else {
            return Ok(());
        };
        g.secs
            .entry(SecKey::Out(place.out_id))
            .or_insert((place.sec_name, Vec::new()))
            .1
            .push(VarSecinfo {
                ty: v.ty,
                offset: offset as u32,
                size,
            });
        Ok(())
    }
}

/// A placed DATASEC: its input, ELF section, output section and name.
struct Place {
    i: usize,
    elf_sec: SecIdx,
    out_id: OutSecId,
    sec_name: StrOff,
}

/// An input's symbols by (section, name), sections' own symbols left out.
fn symbols_at<'a>(input: &'a Input<'_>) -> SymAt<'a> {
    let mut sym_at = Vec::with_capacity(input.symbols.len());
    for (k, s) in input.symbols.iter().enumerate() {
        if let SymPlace::Section(sec) = s.place() {
            if !s.is_section() {
                sym_at.push((sec.0, &*s.name, k));
            }
        }
    }
    sym_at.sort_unstable();
    SymAt(sym_at)
}

/// A kept map definition is emitted as a global (libbpf refuses static maps), under its
/// output name (a kept-apart static map's derived name).
fn rename_kept_maps(btf: &mut Btf, maps: &MapPlan) {
    for m in maps.maps.iter().filter(|m| !m.is_extern) {
        let new_name = m.kept_apart.as_ref().map(|_| btf.intern(&m.name));
        if let Some(BtfType::Var { linkage, name, .. }) = btf.get_mut(m.survivor().var) {
            *linkage = VAR_GLOBAL;
            if let Some(n) = new_name {
                *name = n;
            }
        }
    }
}

/// New DATASECs, in the order their names were first met in the inputs' BTF (their string
/// offsets), so that relinking the output meets them in the same order and gives the same
/// string table (docs/link.md, "Relinking"). Room is made once: the type table can be large
/// and must not double for a handful of pushes.
fn push_datasecs(
    btf: &mut Btf,
    secs: BTreeMap<SecKey, (StrOff, Vec<VarSecinfo>)>,
    layout: &Layout,
) {
    btf.reserve_types(secs.len());
    let mut secs: Vec<(SecKey, (StrOff, Vec<VarSecinfo>))> = secs.into_iter().collect();
    secs.sort_by_key(|(key, (name, _))| (*name, *key));
    for (key, (name, mut vars)) in secs {
        vars.sort_by_key(|v| v.offset);
        // Overlapping entries (two names for one `license` string) are not valid BTF: the
        // first keeps the place.
        let mut end = 0u32;
        let is_out = matches!(key, SecKey::Out(_));
        vars.retain(|v| {
            let keep = !is_out || v.offset >= end || v.size == 0;
            if keep {
                end = end.max(v.offset.saturating_add(v.size));
            }
            keep
        });
        let size = match key {
            SecKey::Out(id) => layout.sections[id.0].size as u32,
            SecKey::Extern(_) => 0,
        };
        btf.push(BtfType::Datasec { name, size, vars });
    }
}

/// Where the types that do not survive go: the first redirect recorded for a type wins. A list
/// sorted once at the end, not a map: no tree node per entry.
#[derive(Default)]
struct Redirects(Vec<(TypeId, Redirect)>);

impl Redirects {
    /// Record `t -> r` unless `t` already has a redirect.
    fn add(&mut self, t: TypeId, r: Redirect) {
        self.0.push((t, r));
    }

    /// By type id, the first recorded redirect of each type, none to itself (an extern map
    /// that stays an extern is its own survivor).
    fn into_sorted(self) -> Vec<(TypeId, Redirect)> {
        let mut list = self.0;
        // Stable: of equal ids the first recorded stays first, and is the one kept.
        list.sort_by_key(|&(t, _)| t);
        list.dedup_by_key(|&mut (t, _)| t);
        list.retain(|(t, r)| *r != Redirect::To(*t));
        list
    }
}

/// Encode the compacted BTF; the `.BTF.ext` sections (by name string offset too, see
/// [`push_datasecs`]) get their type ids remapped and are left for the writer to encode.
fn encode(
    btf: Btf,
    ext_out: BTreeMap<OutSecId, ExtSection>,
    remap: &TypeRemap,
    endian: Endianness,
) -> FinalBtf {
    let mut sections: Vec<ExtSection> = ext_out.into_values().collect();
    sections.sort_by_key(|sec| sec.name);
    let mut ext = BtfExt { sections };
    ext.remap_types(remap);
    FinalBtf {
        btf: btf.encode(endian),
        btf_ext: (!ext.is_empty()).then_some(ext),
    }
}

/// The symbol a DATASEC entry describes among the same-named symbols of its section: the one
/// at the entry's offset when there are several (a linked object's same-named statics of
/// different files), else the only one.
fn symbol_of_var(
    input: &Input<'_>,
    candidates: &[(usize, &str, usize)],
    v: &VarSecinfo,
) -> Option<usize> {
    match candidates {
        [] => None,
        [(_, _, k)] => Some(*k),
        _ => candidates
            .iter()
            .map(|&(_, _, k)| k)
            .find(|&k| input.symbols[k].value == u64::from(v.offset))
            .or_else(|| candidates.first().map(|&(_, _, k)| k)),
    }
}

/// How many types of one input refer to each of its FUNC_PROTOs (an extern FUNC's prototype
/// is normally referenced by that FUNC alone).
fn count_proto_uses(btf: &Btf, app: Appended) -> Result<FastMap<TypeId, usize>> {
    let mut uses: FastMap<TypeId, usize> = FastMap::default();
    for id in app.base + 1..=app.base + app.count {
        btf.get(TypeId(id))?.for_each_ref(|r| {
            if matches!(btf.get(r), Ok(BtfType::FuncProto { .. })) {
                *uses.entry(r).or_default() += 1;
            }
        });
    }
    Ok(uses)
}

/// A resolved extern FUNC's prototype (clang's, with unnamed parameters) goes to the
/// definition's, so that it does not stay in the output unreferenced; the two are compatible
/// (symtypes.rs checked them). Called only for a prototype nothing else uses.
fn redirect_extern_proto(btf: &Btf, proto: TypeId, def: TypeId, redirects: &mut Redirects) {
    let Ok(BtfType::Func {
        proto: def_proto, ..
    }) = btf.get(def)
    else {
        return;
    };
    if *def_proto != proto && matches!(btf.get(proto), Ok(BtfType::FuncProto { .. })) {
        redirects.add(proto, Redirect::To(*def_proto));
    }
}

/// The name of a VAR type.
fn var_name(btf: &Btf, ty: TypeId) -> Option<&str> {
    match btf.get(ty).ok()? {
        BtfType::Var { name, .. } => Some(btf.str(*name)),
        _ => None,
    }
}

/// Position of a section-less DATASEC name in `list`, added when new.
fn extern_sec_index(list: &mut Vec<StrOff>, name: StrOff) -> usize {
    match list.iter().position(|&n| n == name) {
        Some(p) => p,
        None => {
            list.push(name);
            list.len() - 1
        }
    }
}
