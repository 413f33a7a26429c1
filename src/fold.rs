//! Takes the second strong definitions that symbol resolution found (with the layout's bytes,
//! the resolved references, BTF and `.BTF.ext`), gives the folds: a definition identical to the
//! first one (COMDAT-like) has its bytes cut out of the output and every reference to it goes
//! to the first; a definition that differs is an error naming the first difference. The rules
//! are in docs/link.md, "Identical definitions fold".

use object::elf;

use crate::btf::{Appended, Btf, BtfType, Equivalence, TypeId, FUNC_EXTERN, VAR_EXTERN};
use crate::error::{Error, Result};
use crate::ext_records::ExtRecords;
use crate::input::{implicit_addend, Input, SecIdx, SecKind, SymIdx, Symbol};
use crate::layout::{Cuts, Layout};
use crate::mapdef::types_match;
use crate::maps::MapPlan;
use crate::resolve::{self, Duplicate, SymRef, Symbols};
use crate::symtypes;

/// One folded global: the kept definition's file and the files whose copies were dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fold {
    pub name: String,
    /// `function` or `variable`.
    pub kind: &'static str,
    pub kept: usize,
    pub dropped: Vec<usize>,
}

/// What the fold stage reads.
pub struct Ctx<'a> {
    pub inputs: &'a [Input<'a>],
    pub layout: &'a Layout,
    pub symbols: &'a Symbols,
    pub maps: &'a MapPlan,
    pub btf: &'a Btf,
    pub appended: &'a [Option<Appended>],
    pub exts: &'a ExtRecords,
    pub eq: &'a Equivalence,
}

/// Resolve the symbols and fold identical duplicate definitions: when some fold, their bytes
/// are cut out of the layout and the symbols resolved again on the cut layout.
#[allow(clippy::too_many_arguments)]
pub fn resolve_and_fold<'a>(
    inputs: &'a [Input<'a>],
    layout: &mut Layout,
    maps: &MapPlan,
    btf: &Btf,
    appended: &[Option<Appended>],
    exts: &ExtRecords,
    eq: &Equivalence,
    mut collect: Option<&mut Vec<Error>>,
) -> Result<(Symbols, Vec<Fold>)> {
    symtypes::check(inputs, btf, appended, maps, collect.as_deref_mut())?;
    let symbols = resolve::resolve_collecting(inputs, layout, maps, collect.as_deref_mut())?;
    if symbols.duplicates.is_empty() {
        return Ok((symbols, Vec::new()));
    }
    let cx = Ctx {
        inputs,
        layout,
        symbols: &symbols,
        maps,
        btf,
        appended,
        exts,
        eq,
    };
    let (folds, cuts) = decide(&cx, collect)?;
    if cuts.is_empty() {
        return Ok((symbols, folds));
    }
    layout.cut(inputs, cuts);
    // Conflicts of the second pass were all reported by the first.
    let symbols = resolve::resolve_collecting(inputs, layout, maps, Some(&mut Vec::new()))?;
    Ok((symbols, folds))
}

/// Decide every duplicate: the folds and the byte ranges to cut, or (without `collect`) the
/// first differing pair as an error; with `collect` every differing pair is pushed there.
pub fn decide(cx: &Ctx<'_>, mut collect: Option<&mut Vec<Error>>) -> Result<(Vec<Fold>, Cuts)> {
    let mut folds: Vec<Fold> = Vec::new();
    let mut cuts = Cuts::new();
    for dup in &cx.symbols.duplicates {
        if let Some(difference) = first_difference(cx, dup) {
            let e = Error::DifferentDefinitions {
                name: dup.name.clone(),
                file_a: cx.inputs[dup.first.0].name.clone(),
                file_b: cx.inputs[dup.other.0].name.clone(),
                difference,
            };
            match collect.as_deref_mut() {
                Some(list) => list.push(e),
                None => return Err(e),
            }
            continue;
        }
        let (i, s) = dup.other;
        let sym = &cx.inputs[i].symbols[s.0];
        if let Some(sec) = sym.section() {
            cuts.entry((i, sec))
                .or_default()
                .push((sym.value, sym.value + sym.size));
        }
        match folds.iter_mut().find(|f| f.name == dup.name) {
            Some(f) => f.dropped.push(i),
            None => folds.push(Fold {
                name: dup.name.clone(),
                kind: if sym.typ == elf::STT_FUNC.0 {
                    "function"
                } else {
                    "variable"
                },
                kept: dup.first.0,
                dropped: vec![i],
            }),
        }
    }
    for ranges in cuts.values_mut() {
        ranges.sort_unstable();
        ranges.dedup();
    }
    Ok((folds, cuts))
}

/// One side of a duplicate.
struct Def<'a> {
    input: usize,
    sym: &'a Symbol,
}

impl<'a> Def<'a> {
    fn new(cx: &'a Ctx<'a>, (input, idx): (usize, SymIdx)) -> Def<'a> {
        Def {
            input,
            sym: &cx.inputs[input].symbols[idx.0],
        }
    }

    fn is_func(&self) -> bool {
        self.sym.typ == elf::STT_FUNC.0
    }

    fn section_name(&self, cx: &'a Ctx<'a>) -> &'a str {
        self.sym
            .section()
            .map_or("", |s| cx.inputs[self.input].section(s).name.as_ref())
    }
}

/// The first way two definitions differ, or None when they are identical (rules F1-F5).
fn first_difference(cx: &Ctx<'_>, dup: &Duplicate) -> Option<String> {
    let (a, b) = (Def::new(cx, dup.first), Def::new(cx, dup.other));
    let (sa, sb) = (a.section_name(cx), b.section_name(cx));
    if sa != sb {
        return Some(format!("section {sa} vs {sb}"));
    }
    if a.sym.size != b.sym.size {
        return Some(format!("size {} vs {} bytes", a.sym.size, b.sym.size));
    }
    bytes_difference(cx, &a, &b)
        .or_else(|| reloc_difference(cx, &a, &b))
        .or_else(|| btf_difference(cx, &a, &b, &dup.name))
        .or_else(|| ext_difference(cx, &a, &b))
}

/// The bytes of a definition (zeros for `.bss`).
fn bytes<'a>(cx: &'a Ctx<'a>, d: &Def<'_>) -> Vec<u8> {
    let size = d.sym.size as usize;
    let Some(sec) = d.sym.section() else {
        return vec![0; size];
    };
    if cx.inputs[d.input].section(sec).kind == SecKind::Bss {
        return vec![0; size];
    }
    cx.layout
        .placed(d.input, sec)
        .and_then(|(out, base)| {
            let from = (base + d.sym.value) as usize;
            cx.layout.sections[out.0].data.get(from..from + size)
        })
        .map_or_else(|| vec![0; size], <[u8]>::to_vec)
}

/// F2: the first differing instruction (functions) or byte (variables).
/// The first differing 8-byte instruction of two code ranges, as `instruction N: <bytes> vs
/// <bytes>` (also the loader's wording when it compares same-named programs of two objects).
pub(crate) fn instruction_difference(x: &[u8], y: &[u8]) -> Option<String> {
    let (n, (p, q)) = x
        .chunks(8)
        .zip(y.chunks(8))
        .enumerate()
        .find(|(_, (p, q))| p != q)?;
    let hex = |c: &[u8]| {
        c.iter()
            .map(|v| format!("{v:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    Some(format!("instruction {n}: {} vs {}", hex(p), hex(q)))
}

fn bytes_difference(cx: &Ctx<'_>, a: &Def<'_>, b: &Def<'_>) -> Option<String> {
    let (x, y) = (bytes(cx, a), bytes(cx, b));
    if a.is_func() {
        return instruction_difference(&x, &y);
    }
    let (k, (p, q)) = x.iter().zip(&y).enumerate().find(|(_, (p, q))| p != q)?;
    Some(format!("byte {k}: {p:#04x} vs {q:#04x}"))
}

/// What a relocation refers to after merging, comparable across inputs.
#[derive(PartialEq, Eq)]
enum Target {
    Out(u32),
    Map(usize),
    /// A section-relative place: output section, piece offset, addend.
    Place(usize, u64, i64),
    /// File-local read-only data, compared by content: section name, the bytes of the object
    /// there, and the addend's offset into it.
    ReadOnly(String, Vec<u8>, u64),
    Other,
}

/// The relocations inside a definition: (offset in it, type, target, name for messages).
fn relocs_of(cx: &Ctx<'_>, d: &Def<'_>) -> Vec<(u64, u32, Target, String)> {
    let input = &cx.inputs[d.input];
    let Some(sec) = d.sym.section() else {
        return Vec::new();
    };
    let end = d.sym.value + d.sym.size;
    input
        .relocs(sec)
        .iter()
        .filter(|r| r.offset >= d.sym.value && r.offset < end)
        .map(|r| {
            let target = reloc_target(cx, d.input, sec, r);
            let name = target_name(cx, d.input, r, &target);
            (r.offset - d.sym.value, r.r_type, target, name)
        })
        .collect()
}

/// What relocation `r` of section `sec` of input `i` reaches after merging.
fn reloc_target(cx: &Ctx<'_>, i: usize, sec: SecIdx, r: &crate::input::Reloc) -> Target {
    let input = &cx.inputs[i];
    // The addend stored in the instruction (or data) at the relocation.
    let addend = || {
        cx.layout
            .placed(i, sec)
            .and_then(|(o, p)| {
                let from = (p + r.offset) as usize;
                let width = crate::input::reloc_width(r.r_type)? as usize;
                cx.layout.sections[o.0].data.get(from..from + width)
            })
            .map_or(0, |at| implicit_addend(input.endian, r.r_type, at))
    };
    match cx.symbols.refs[i][r.sym().0] {
        SymRef::Out(k) => Target::Out(k),
        SymRef::Map(m) => Target::Map(m as usize),
        SymRef::Section { out } => {
            let a = addend();
            let target = input.symbols[r.sym().0].section();
            let base = target
                .and_then(|t| cx.layout.placed(i, t))
                .map_or(0, |p| p.1);
            target
                .and_then(|t| read_only_object(cx, i, t, a))
                .unwrap_or(Target::Place(out as usize, base, a))
        }
        // A static map reached through the `.maps` section symbol: the map there.
        SymRef::MapsSection => u64::try_from(addend())
            .ok()
            .and_then(|a| cx.maps.at_offset(i, a))
            .map_or(Target::Other, |m| Target::Map(m.0)),
        SymRef::Dropped => Target::Other,
    }
}

/// A relocation's target for messages; file-local targets are named with their file (two
/// copies that each reach their own file's statics are different code).
fn target_name(cx: &Ctx<'_>, i: usize, r: &crate::input::Reloc, target: &Target) -> String {
    let input = &cx.inputs[i];
    let sym = &input.symbols[r.sym().0];
    match target {
        Target::Map(m) => format!("map `{}`", cx.maps.maps[*m].name),
        Target::ReadOnly(sec_name, bytes, _) => {
            let text: String = String::from_utf8_lossy(bytes).chars().take(40).collect();
            format!("read-only {sec_name} data {text:?} of {}", input.name)
        }
        _ if sym.is_section() => format!(
            "section {} of {} (file-local)",
            sym.section()
                .map_or("?", |s| input.section(s).name.as_ref()),
            input.name
        ),
        _ if sym.is_local() => format!("static `{}` of {}", sym.name, input.name),
        _ => format!("`{}`", sym.name),
    }
}

/// F3: relocations at the same places, of the same types, to the same targets after merging.
fn reloc_difference(cx: &Ctx<'_>, a: &Def<'_>, b: &Def<'_>) -> Option<String> {
    let (x, y) = (relocs_of(cx, a), relocs_of(cx, b));
    let unit = |off: u64| {
        if a.is_func() {
            format!("instruction {}", off / 8)
        } else {
            format!("byte {off}")
        }
    };
    for k in 0..x.len().max(y.len()) {
        match (x.get(k), y.get(k)) {
            (Some(p), Some(q)) if p.0 == q.0 && p.1 == q.1 && p.2 == q.2 => {}
            (Some(p), Some(q)) if p.0 == q.0 => {
                return Some(format!(
                    "relocation at {}: refers to {} vs {}",
                    unit(p.0),
                    p.3,
                    q.3
                ))
            }
            (p, q) => {
                let off = p.map_or(u64::MAX, |p| p.0).min(q.map_or(u64::MAX, |q| q.0));
                let side = |r: Option<&(u64, u32, Target, String)>| match r {
                    Some(r) if r.0 == off => format!("a relocation to {}", r.3),
                    _ => "no relocation".to_string(),
                };
                return Some(format!("at {}: {} vs {}", unit(off), side(p), side(q)));
            }
        }
    }
    None
}

/// The BTF type of a global definition in its input: the FUNC's prototype, or the VAR's type.
fn btf_type_of(cx: &Ctx<'_>, d: &Def<'_>, name: &str) -> Option<TypeId> {
    let app = cx.appended.get(d.input).copied().flatten()?;
    cx.btf.decls(app).find_map(|(_, t)| match t {
        BtfType::Func {
            name: n,
            proto,
            linkage,
        } if d.is_func() && *linkage != FUNC_EXTERN && cx.btf.str(*n) == name => Some(*proto),
        BtfType::Var {
            name: n,
            ty,
            linkage,
        } if !d.is_func() && *linkage != VAR_EXTERN && cx.btf.str(*n) == name => Some(*ty),
        _ => None,
    })
}

/// F4: structurally equal BTF types (FUNC prototype or VAR type).
fn btf_difference(cx: &Ctx<'_>, a: &Def<'_>, b: &Def<'_>, name: &str) -> Option<String> {
    let what = if a.is_func() {
        "BTF FUNC type"
    } else {
        "BTF type"
    };
    match (btf_type_of(cx, a, name), btf_type_of(cx, b, name)) {
        (Some(x), Some(y)) if types_match(cx.btf, cx.eq, x, y) => None,
        (Some(x), Some(y)) => Some(format!(
            "{what}: {} vs {}",
            cx.btf.display(x),
            cx.btf.display(y)
        )),
        (None, None) => None,
        (x, y) => {
            let show = |t: Option<TypeId>| t.map_or("none".to_string(), |t| cx.btf.display(t));
            Some(format!("{what}: {} vs {}", show(x), show(y)))
        }
    }
}

/// The `.BTF.ext` records inside a definition: offsets (relative to it) of its func_info,
/// line_info and CO-RE records, the CO-RE ones with their kind.
fn ext_shape(cx: &Ctx<'_>, d: &Def<'_>) -> [Vec<(u64, u32)>; 3] {
    let mut out = [Vec::new(), Vec::new(), Vec::new()];
    let sec_name = d
        .sym
        .section()
        .map_or("", |s| cx.inputs[d.input].section(s).name.as_ref());
    let (start, end) = (d.sym.value, d.sym.value + d.sym.size);
    let rel = |off: u32| {
        let off = u64::from(off);
        (off >= start && off < end).then(|| off - start)
    };
    for sec in cx
        .exts
        .of(d.input)
        .filter(|s| cx.btf.str(s.name) == sec_name)
    {
        out[0].extend(
            sec.func_info
                .iter()
                .filter_map(|r| Some((rel(r.insn_off)?, 0))),
        );
        out[1].extend(
            sec.line_info
                .iter()
                .filter_map(|r| Some((rel(r.insn_off)?, 0))),
        );
        out[2].extend(
            sec.core_relos
                .iter()
                .filter_map(|r| Some((rel(r.insn_off)?, r.kind))),
        );
    }
    out
}

/// F5: the same func_info, line_info and CO-RE records (by instruction) in both.
fn ext_difference(cx: &Ctx<'_>, a: &Def<'_>, b: &Def<'_>) -> Option<String> {
    let (x, y) = (ext_shape(cx, a), ext_shape(cx, b));
    ["func_info", "line_info", "CO-RE relocation"]
        .iter()
        .zip(x.iter().zip(&y))
        .find(|(_, (p, q))| p != q)
        .map(|(what, (p, q))| {
            let insns = |v: &Vec<(u64, u32)>| {
                v.iter()
                    .map(|(o, _)| (o / 8).to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            format!(
                "{what} records at instructions [{}] vs [{}]",
                insns(p),
                insns(q)
            )
        })
}

/// F3, file-local read-only data: a reference to a place in a section that is neither
/// writable nor code (`.rodata*`, string literals) reaches the same thing as another file's
/// reference when the data there has the same bytes — bpf_printk's `static const char fmt[]`
/// in two copies of one function. The object is the local symbol covering the place (its
/// bytes), or in a string section the NUL-terminated string there. A `volatile` variable
/// (meant to be set from user space before loading) is never compared by content.
fn read_only_object(cx: &Ctx<'_>, i: usize, sec: SecIdx, addend: i64) -> Option<Target> {
    let input = &cx.inputs[i];
    let section = input.section(sec);
    let (write, exec) = (elf::SHF_WRITE.0, elf::SHF_EXECINSTR.0);
    if section.kind != SecKind::Data || section.flags & (write | exec) != 0 {
        return None;
    }
    let off = u64::try_from(addend).ok()?;
    let (out, base) = cx.layout.placed(i, sec)?;
    let data = &cx.layout.sections[out.0].data;
    let at = |a: u64, b: u64| data.get((base + a) as usize..(base + b) as usize);
    let covering = input.symbols.iter().find(|s| {
        s.is_local()
            && !s.is_section()
            && s.section() == Some(sec)
            && s.value <= off
            && off < s.value + s.size.max(1)
    });
    let (start, bytes) = match covering {
        Some(s) if is_volatile_var(cx, i, &s.name) => return None,
        Some(s) => (s.value, at(s.value, s.value + s.size)?),
        None if section.flags & elf::SHF_STRINGS.0 != 0 => {
            let rest = at(off, section.size)?;
            let len = rest.iter().position(|&b| b == 0)? + 1;
            (off, &rest[..len])
        }
        None => return None,
    };
    Some(Target::ReadOnly(
        section.name.to_string(),
        bytes.to_vec(),
        off - start,
    ))
}

/// Whether input `i`'s BTF has a VAR `name` whose type is `volatile` (through typedefs and
/// `const`).
fn is_volatile_var(cx: &Ctx<'_>, i: usize, name: &str) -> bool {
    let Some(app) = cx.appended.get(i).copied().flatten() else {
        return false;
    };
    cx.btf.decls(app).any(|(_, t)| {
        let BtfType::Var { name: n, ty, .. } = t else {
            return false;
        };
        if cx.btf.str(*n) != name {
            return false;
        }
        let mut t = *ty;
        for _ in 0..16 {
            match cx.btf.get(t) {
                Ok(BtfType::Volatile { .. }) => return true,
                Ok(BtfType::Const { ty } | BtfType::Typedef { ty, .. }) => t = *ty,
                _ => return false,
            }
        }
        false
    })
}
