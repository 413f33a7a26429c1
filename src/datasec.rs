//! Takes the merged (not yet compacted) BTF with the layout, symbols and map plan, gives the
//! final BTF and `.BTF.ext` bytes: DATASECs rebuilt with output offsets and sizes, dropped VARs
//! and resolved extern VAR/FUNCs redirected to their survivors, types deduplicated, `.BTF.ext`
//! records moved to their output sections.

use std::collections::{BTreeMap, HashMap};

use object::Endianness;

use crate::btf::ext::{BtfExt, ExtSection};
use crate::btf::{
    Appended, Btf, BtfType, Equivalence, Redirect, StrOff, TypeId, VarSecinfo, FUNC_EXTERN,
    FUNC_GLOBAL, VAR_EXTERN, VAR_GLOBAL,
};
use crate::error::Result;
use crate::input::{Input, SymPlace};
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

/// Encoded `.BTF` and `.BTF.ext` (None when there is nothing to put in it).
pub struct FinalBtf {
    pub btf: Vec<u8>,
    pub btf_ext: Option<Vec<u8>>,
}

/// Finish the BTF of the link.
#[allow(clippy::too_many_arguments)]
pub fn finish(
    inputs: &[Input<'_>],
    mut btf: Btf,
    appended: &[Option<Appended>],
    exts: Vec<Option<BtfExt>>,
    eq: &Equivalence,
    layout: &Layout,
    symbols: &Symbols,
    maps: &MapPlan,
    endian: Endianness,
) -> Result<FinalBtf> {
    for (input, app) in inputs.iter().zip(appended) {
        if let Some(app) = app {
            btf.check_value_loops(*app)
                .and_then(|()| btf.check_var_refs(*app))
                .map_err(|e| e.in_file(&input.name))?;
        }
    }
    let mut redirects: BTreeMap<TypeId, Redirect> = BTreeMap::new();
    // (input, VAR) of every map definition -> its merged map.
    let mut map_of_var: HashMap<(usize, TypeId), usize> = HashMap::new();
    for (m, map) in maps.maps.iter().enumerate() {
        for d in &map.defs {
            map_of_var.insert((d.input, d.var), m);
        }
    }
    let mut secs: BTreeMap<SecKey, (StrOff, Vec<VarSecinfo>)> = BTreeMap::new();
    let mut extern_secs: Vec<StrOff> = Vec::new();
    // (DATASEC name, VAR name) -> kept VAR, for sections without ELF data.
    let mut extern_vars: HashMap<(StrOff, StrOff), TypeId> = HashMap::new();

    // The VAR / FUNC type of every surviving global definition, by name.
    let mut def_var: HashMap<String, TypeId> = HashMap::new();
    let mut def_func: HashMap<String, TypeId> = HashMap::new();
    for m in &maps.maps {
        def_var.insert(m.name.clone(), m.survivor().var);
    }

    // Pass 1: find survivors' VARs and FUNCs.
    for (i, app) in appended.iter().enumerate() {
        let Some(app) = app else { continue };
        for id in app.base + 1..=app.base + app.count {
            let t = TypeId(id);
            match btf.get(t)? {
                BtfType::Func { name, linkage, .. } if *linkage == FUNC_GLOBAL => {
                    let n = btf.str(*name);
                    if let Some(&(di, _)) = symbols.global_def.get(n) {
                        if di == i {
                            def_func.entry(n.to_string()).or_insert(t);
                        }
                    }
                }
                BtfType::Datasec { vars, .. } => {
                    for v in vars {
                        if let BtfType::Var { name, linkage, .. } = btf.get(v.ty)? {
                            if *linkage == VAR_EXTERN {
                                continue;
                            }
                            let n = btf.str(*name);
                            if let Some(&(di, _)) = symbols.global_def.get(n) {
                                if di == i {
                                    def_var.entry(n.to_string()).or_insert(v.ty);
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    // Pass 2: rebuild DATASECs and redirect what does not survive.
    for (i, input) in inputs.iter().enumerate() {
        let Some(app) = appended[i] else { continue };
        // Uses of each FUNC_PROTO of this input, counted on the first resolved extern FUNC.
        let mut proto_uses: Option<HashMap<TypeId, usize>> = None;
        // This input's symbols by (section, name), to find each VAR's offset. A linked
        // object can hold several same-named statics in one section (one per original file).
        let mut sym_at: HashMap<(usize, &str), Vec<usize>> = HashMap::new();
        for (k, s) in input.symbols.iter().enumerate() {
            if let SymPlace::Section(sec) = s.place {
                if !s.is_section() {
                    sym_at.entry((sec.0, s.name.as_str())).or_default().push(k);
                }
            }
        }
        for id in app.base + 1..=app.base + app.count {
            let t = TypeId(id);
            let (sec_name, vars) = match btf.get(t)? {
                BtfType::Datasec { name, vars, .. } => (*name, vars.clone()),
                BtfType::Var { name, linkage, .. } if *linkage == VAR_EXTERN => {
                    // An extern VAR resolved to a definition elsewhere.
                    if let Some(&d) = def_var.get(btf.str(*name)) {
                        redirects.entry(t).or_insert(Redirect::To(d));
                    }
                    continue;
                }
                // A global FUNC whose definition was folded into another input's.
                BtfType::Func { name, linkage, .. }
                    if *linkage == FUNC_GLOBAL
                        && symbols
                            .global_def
                            .get(btf.str(*name))
                            .is_some_and(|&(di, _)| di != i) =>
                {
                    if let Some(&d) = def_func.get(btf.str(*name)) {
                        redirects.entry(t).or_insert(Redirect::To(d));
                    }
                    continue;
                }
                BtfType::Func {
                    name,
                    linkage,
                    proto,
                } if *linkage == FUNC_EXTERN => {
                    if let Some(&d) = def_func.get(btf.str(*name)) {
                        redirects.entry(t).or_insert(Redirect::To(d));
                        let uses = match &mut proto_uses {
                            Some(u) => u,
                            None => proto_uses.insert(count_proto_uses(&btf, app)?),
                        };
                        if uses.get(proto) == Some(&1) {
                            redirect_extern_proto(&btf, *proto, d, &mut redirects);
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            redirects.entry(t).or_insert(Redirect::Remove);
            let sname = btf.str(sec_name).to_string();
            let elf_sec = input.section_by_name(&sname).filter(|s| s.0 != 0);
            let placed = elf_sec.and_then(|s| layout.placed(i, s));

            if sname == ".maps" {
                for v in &vars {
                    let Some(&m) = map_of_var.get(&(i, v.ty)) else {
                        continue;
                    };
                    let m = &maps.maps[m];
                    // Without an output `.maps` section (only extern maps) the DATASEC is
                    // kept like the other section-less ones.
                    let key = layout.maps.map(SecKey::Out).unwrap_or_else(|| {
                        SecKey::Extern(extern_sec_index(&mut extern_secs, sec_name))
                    });
                    if m.survivor().var == v.ty {
                        // An extern map keeps a size-0 entry so that a later link knows it.
                        secs.entry(key)
                            .or_insert((sec_name, Vec::new()))
                            .1
                            .push(VarSecinfo {
                                ty: v.ty,
                                offset: m.out_offset as u32,
                                size: m.out_size as u32,
                            });
                    } else {
                        redirects
                            .entry(v.ty)
                            .or_insert(Redirect::To(m.survivor().var));
                    }
                }
                continue;
            }

            let Some((out_id, _)) = placed else {
                // No ELF section: `.kconfig` / `.ksyms` externs, kept once per name.
                let idx = extern_sec_index(&mut extern_secs, sec_name);
                let entry = secs
                    .entry(SecKey::Extern(idx))
                    .or_insert((sec_name, Vec::new()));
                for v in &vars {
                    let vname = match btf.get(v.ty)? {
                        BtfType::Var { name, linkage, .. } => {
                            if elf_sec.is_none() && *linkage != VAR_EXTERN {
                                return Err(crate::error::Error::BadObject {
                                    file: input.name.clone(),
                                    reason: format!(
                                        "DATASEC `{sname}` names no section of the object but \
                                         holds the defined variable `{}`",
                                        btf.str(*name)
                                    ),
                                });
                            }
                            *name
                        }
                        BtfType::Func { name, .. } => *name,
                        other => {
                            return Err(crate::error::Error::BadObject {
                                file: input.name.clone(),
                                reason: format!(
                                    "DATASEC `{sname}` entry names type [{}] {}, not a VAR or FUNC",
                                    v.ty.0 - app.base,
                                    other.kind_name()
                                ),
                            });
                        }
                    };
                    match extern_vars.get(&(sec_name, vname)) {
                        Some(&kept) => {
                            redirects.entry(v.ty).or_insert(Redirect::To(kept));
                        }
                        None => {
                            extern_vars.insert((sec_name, vname), v.ty);
                            entry.1.push(v.clone());
                        }
                    }
                }
                continue;
            };
            let Some(elf_sec) = elf_sec else { continue };
            if layout.is_dropped_copy(inputs, i, elf_sec) {
                // A later `license`/`version` copy: its VARs go (to the kept one of the same
                // name, if any).
                for v in &vars {
                    redirects.entry(v.ty).or_insert_with(|| {
                        var_name(&btf, v.ty)
                            .and_then(|n| def_var.get(n))
                            .map_or(Redirect::Remove, |&d| Redirect::To(d))
                    });
                }
                continue;
            }
            for v in &vars {
                let BtfType::Var { name, linkage, .. } = btf.get(v.ty)? else {
                    continue;
                };
                let vname = btf.str(*name);
                let Some(k) = symbol_of_var(input, sym_at.get(&(elf_sec.0, vname)), v) else {
                    // No symbol (optimised away): the VAR is left out.
                    continue;
                };
                let sym = &input.symbols[k];
                let keep = if sym.is_local() {
                    true
                } else {
                    match symbols.refs[i][k] {
                        SymRef::Out(_) => symbols.is_survivor(vname, i, crate::input::SymIdx(k)),
                        _ => false,
                    }
                };
                if keep {
                    let size = if *linkage == VAR_EXTERN {
                        v.size
                    } else {
                        btf.size_of(v.ty).unwrap_or(sym.size as u32)
                    };
                    let sec_size = input.section(elf_sec).size;
                    if sym.value.saturating_add(u64::from(size)) > sec_size {
                        return Err(crate::error::Error::BadObject {
                            file: input.name.clone(),
                            reason: format!(
                                "variable `{vname}` at offset {} is {size} bytes by its BTF type, \
                                 beyond the end of section {sname} ({sec_size} bytes)",
                                sym.value
                            ),
                        });
                    }
                    let Some((_, offset)) = layout.map(i, elf_sec, sym.value) else {
                        continue;
                    };
                    secs.entry(SecKey::Out(out_id))
                        .or_insert((sec_name, Vec::new()))
                        .1
                        .push(VarSecinfo {
                            ty: v.ty,
                            offset: offset as u32,
                            size,
                        });
                } else if let Some(&d) = def_var.get(vname) {
                    redirects.entry(v.ty).or_insert(Redirect::To(d));
                }
            }
        }
    }

    // A kept map definition is emitted as a global (libbpf refuses static maps), under its
    // output name (a kept-apart static map's derived name).
    for m in maps.maps.iter().filter(|m| !m.is_extern) {
        let new_name = m.kept_apart.as_ref().map(|_| btf.intern(&m.name));
        if let Some(BtfType::Var { linkage, name, .. }) =
            btf.types.get_mut(m.survivor().var.0 as usize)
        {
            *linkage = VAR_GLOBAL;
            if let Some(n) = new_name {
                *name = n;
            }
        }
    }

    // New DATASECs, in the order their names were first met in the inputs' BTF (their string
    // offsets), so that relinking the output meets them in the same order and gives the same
    // string table (docs/link.md, "Relinking"). Room is made once: the type table can be large
    // and must not double for a handful of pushes.
    btf.types.reserve_exact(secs.len());
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

    let ext_out = move_ext_records(inputs, &btf, exts, layout)?;

    // A type never redirects to itself (an extern map that stays an extern is its own survivor).
    let redirects: Vec<(TypeId, Redirect)> = redirects
        .into_iter()
        .filter(|(t, r)| *r != Redirect::To(*t))
        .collect();
    let remap = btf.compact(eq, &redirects);
    // By name string offset too (see the DATASECs above).
    let mut sections: Vec<ExtSection> = ext_out.into_values().collect();
    sections.sort_by_key(|sec| sec.name);
    let mut ext = BtfExt { sections };
    ext.remap_types(&remap);
    let has_ext = ext
        .sections
        .iter()
        .any(|s| !s.func_info.is_empty() || !s.line_info.is_empty() || !s.core_relos.is_empty());
    Ok(FinalBtf {
        btf: btf.encode(endian),
        btf_ext: has_ext.then(|| ext.encode(endian)),
    })
}

/// The symbol a DATASEC entry describes among the same-named symbols of its section: the one
/// at the entry's offset when there are several (a linked object's same-named statics of
/// different files), else the only one.
fn symbol_of_var(
    input: &Input<'_>,
    candidates: Option<&Vec<usize>>,
    v: &VarSecinfo,
) -> Option<usize> {
    let candidates = candidates?;
    match candidates.as_slice() {
        [k] => Some(*k),
        _ => candidates
            .iter()
            .copied()
            .find(|&k| input.symbols[k].value == u64::from(v.offset))
            .or_else(|| candidates.first().copied()),
    }
}

/// How many types of one input refer to each of its FUNC_PROTOs (an extern FUNC's prototype
/// is normally referenced by that FUNC alone).
fn count_proto_uses(btf: &Btf, app: Appended) -> Result<HashMap<TypeId, usize>> {
    let mut uses: HashMap<TypeId, usize> = HashMap::new();
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
fn redirect_extern_proto(
    btf: &Btf,
    proto: TypeId,
    def: TypeId,
    redirects: &mut BTreeMap<TypeId, Redirect>,
) {
    let Ok(BtfType::Func {
        proto: def_proto, ..
    }) = btf.get(def)
    else {
        return;
    };
    if *def_proto != proto && matches!(btf.get(proto), Ok(BtfType::FuncProto { .. })) {
        redirects.entry(proto).or_insert(Redirect::To(*def_proto));
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

/// `.BTF.ext`: each input's records moved to their output sections, offsets shifted with the
/// piece. A record must be on an instruction of its section (else it would describe another
/// input's code), with one exception that libbpf's linker also links: a record at the very
/// end of its section describes an empty function (`SEC(".s") __naked void f(void) {}`). It is
/// kept when nothing follows it in the output section (as libbpf's linker keeps it; libbpf's
/// loader skips empty code sections), and dropped when another input's code follows, where it
/// would name that code's first instruction.
fn move_ext_records(
    inputs: &[Input<'_>],
    btf: &Btf,
    exts: Vec<Option<BtfExt>>,
    layout: &Layout,
) -> Result<BTreeMap<OutSecId, ExtSection>> {
    let mut ext_out: BTreeMap<OutSecId, ExtSection> = BTreeMap::new();
    for (i, ext) in exts.into_iter().enumerate() {
        let Some(ext) = ext else { continue };
        let input = &inputs[i];
        for sec in ext.sections {
            let name = btf.str(sec.name).to_string();
            let Some((sec_idx, (out_id, _))) = input
                .section_by_name(&name)
                .and_then(|s| Some((s, layout.placed(i, s)?)))
            else {
                continue;
            };
            let size = input.section(sec_idx).size;
            let offs = (sec.func_info.iter().map(|r| ("func_info", r.insn_off)))
                .chain(sec.line_info.iter().map(|r| ("line_info", r.insn_off)))
                .chain(
                    sec.core_relos
                        .iter()
                        .map(|r| ("CO-RE relocation", r.insn_off)),
                );
            for (what, off) in offs {
                let at_end = u64::from(off) == size && what != "CO-RE relocation";
                if (u64::from(off) >= size && !at_end) || off % 8 != 0 {
                    return Err(crate::error::Error::BadObject {
                        file: input.name.clone(),
                        reason: format!(
                            ".BTF.ext: {what} record for section {name} at instruction offset \
                             {off} is not on an instruction of the section ({size} bytes)"
                        ),
                    });
                }
            }
            // A record at the end of the piece survives only at the end of the output section;
            // a record inside a folded (cut) definition goes with it.
            let out_size = layout.sections[out_id.0].size;
            let moved = |off: u32| {
                let (_, o) = layout.map(i, sec_idx, u64::from(off))?;
                (u64::from(off) < size || o >= out_size).then_some(o as u32)
            };
            let o = ext_out.entry(out_id).or_insert_with(|| ExtSection {
                name: sec.name,
                ..ExtSection::default()
            });
            o.func_info
                .extend(sec.func_info.into_iter().filter_map(|mut r| {
                    r.insn_off = moved(r.insn_off)?;
                    Some(r)
                }));
            o.line_info
                .extend(sec.line_info.into_iter().filter_map(|mut r| {
                    r.insn_off = moved(r.insn_off)?;
                    Some(r)
                }));
            o.core_relos
                .extend(sec.core_relos.into_iter().filter_map(|mut r| {
                    r.insn_off = moved(r.insn_off)?;
                    Some(r)
                }));
        }
    }
    Ok(ext_out)
}
