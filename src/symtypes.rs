//! Takes the inputs, the merged (not yet deduplicated) BTF and the map plan, gives the type
//! check of global symbols: every symbol of a global name that has a BTF VAR or FUNC (a
//! definition, an `extern` declaration, a `.kconfig`/`.ksyms` extern, a losing weak
//! definition) must be compatible with the first one, by the rules of libbpf's linker
//! (`glob_sym_btf_matches` in `src/linker.c`); otherwise an error names the symbol, both files,
//! both types and the first incompatibility. Maps are compared by `maps.rs` instead, and two
//! strong definitions by the fold stage (which names the first difference).

use crate::btf::FastMap;

use object::elf;

use crate::btf::{Appended, Btf, BtfType, Member, Param, StrOff, TypeId, FUNC_STATIC, VAR_STATIC};
use crate::error::{Error, Result, TypeConflict};
use crate::input::{Input, SymIdx, SymPlace, Symbol};
use crate::maps::MapPlan;

/// Nesting bound of the comparison (arrays of arrays, struct members): deeper is an error.
const MAX_DEPTH: usize = 64;

/// The first mention with BTF of a global name.
struct First {
    input: usize,
    ty: TypeId,
    strong_def: bool,
}

/// Check every global name's symbols against its first one. With `collect`, every
/// incompatibility is pushed there (for `check`) instead of returned.
pub fn check(
    inputs: &[Input<'_>],
    btf: &Btf,
    appended: &[Option<Appended>],
    maps: &MapPlan,
    mut collect: Option<&mut Vec<Error>>,
) -> Result<()> {
    let mut first: FastMap<&str, First> = FastMap::default();
    for (i, input) in inputs.iter().enumerate() {
        let Some(app) = appended.get(i).copied().flatten() else {
            continue;
        };
        let types = global_types(btf, app)?;
        for (k, sym) in input.symbols.iter().enumerate() {
            if !is_plain_global(input, sym) || maps.of_symbol(i, SymIdx(k)).is_some() {
                continue;
            }
            let Some(&ty) = types.get(&*sym.name) else {
                continue;
            };
            let this = First {
                input: i,
                ty,
                strong_def: !sym.is_weak() && sym.place() != SymPlace::Undefined,
            };
            let Some(f) = first.get(&*sym.name) else {
                first.insert(&sym.name, this);
                continue;
            };
            if let Some(e) = conflict(inputs, btf, &sym.name, f, &this)? {
                match collect.as_deref_mut() {
                    Some(list) => list.push(e),
                    None => return Err(e),
                }
            }
        }
    }
    Ok(())
}

/// The error for symbol `name` of `b` against the name's first symbol `a`, if their types are
/// incompatible. Two strong definitions are left to the fold stage (folded when identical,
/// else its error names the first difference).
fn conflict(
    inputs: &[Input<'_>],
    btf: &Btf,
    name: &str,
    a: &First,
    b: &First,
) -> Result<Option<Error>> {
    if a.strong_def && b.strong_def {
        return Ok(None);
    }
    let why =
        incompatibility(btf, a.ty, b.ty, true, 0).map_err(|e| e.in_file(&inputs[b.input].name))?;
    Ok(why.map(|reason| {
        Error::IncompatibleTypes(Box::new(TypeConflict {
            name: name.to_string(),
            file_a: inputs[a.input].name.clone(),
            type_a: btf.display(a.ty),
            file_b: inputs[b.input].name.clone(),
            type_b: btf.display(b.ty),
            reason,
        }))
    }))
}

/// A global or weak symbol that is neither a section, a file nor in a dropped (debug) section.
fn is_plain_global(input: &Input<'_>, sym: &Symbol) -> bool {
    if sym.is_local() || sym.is_section() || sym.typ == elf::STT_FILE.0 || sym.name.is_empty() {
        return false;
    }
    match sym.place() {
        SymPlace::Section(s) => !input.section(s).name.starts_with(".debug"),
        _ => true,
    }
}

/// The non-static VAR or FUNC of each name among one input's types (the first of a name).
fn global_types(btf: &Btf, app: Appended) -> Result<FastMap<&str, TypeId>> {
    let mut out = FastMap::default();
    for (t, ty) in btf.decls(app) {
        let name = match ty {
            BtfType::Var { name, linkage, .. } if *linkage != VAR_STATIC => *name,
            BtfType::Func { name, linkage, .. } if *linkage != FUNC_STATIC => *name,
            _ => continue,
        };
        out.entry(btf.str(name)).or_insert(t);
    }
    Ok(out)
}

/// Why types `a` and `b` are incompatible (None when they are compatible). `exact`: struct
/// and union members are compared (off below a pointer, where only the shape counts and a
/// forward declaration matches the struct or union of its name).
fn incompatibility(
    btf: &Btf,
    a: TypeId,
    b: TypeId,
    exact: bool,
    depth: usize,
) -> Result<Option<String>> {
    if depth > MAX_DEPTH {
        return Ok(Some(format!("types nested deeper than {MAX_DEPTH} levels")));
    }
    let (a, b) = (btf.skip_mods(a)?, btf.skip_mods(b)?);
    let (ta, tb) = (btf.get(a)?, btf.get(b)?);
    let is_fwd = |t: &BtfType| matches!(t, BtfType::Fwd { .. });
    if !exact && is_fwd(ta) != is_fwd(tb) {
        return Ok(fwd_against_full(btf, ta, tb));
    }
    if ta.kind() != tb.kind() {
        return Ok(Some(format!(
            "BTF kinds {} and {}",
            ta.kind_name(),
            tb.kind_name()
        )));
    }
    if let (Some(na), Some(nb)) = (compared_name(ta), compared_name(tb)) {
        if btf.str(na) != btf.str(nb) {
            return Ok(Some(format!(
                "{} names `{}` and `{}`",
                ta.kind_name(),
                btf.str(na),
                btf.str(nb)
            )));
        }
    }
    same_kind_incompatibility(btf, ta, tb, exact, depth + 1)
}

/// Why two types of one kind (and name, where it counts) are incompatible.
fn same_kind_incompatibility(
    btf: &Btf,
    ta: &BtfType,
    tb: &BtfType,
    exact: bool,
    d: usize,
) -> Result<Option<String>> {
    match (ta, tb) {
        (BtfType::Void, _) | (BtfType::Fwd { .. }, _) => Ok(None),
        (BtfType::Int { size: x, .. }, BtfType::Int { size: y, .. })
        | (BtfType::Float { size: x, .. }, BtfType::Float { size: y, .. })
        | (BtfType::Enum { size: x, .. }, BtfType::Enum { size: y, .. })
        | (BtfType::Enum64 { size: x, .. }, BtfType::Enum64 { size: y, .. }) => {
            Ok((x != y).then(|| format!("{} sizes {x} and {y} bytes", ta.kind_name())))
        }
        (BtfType::Ptr { ty: x }, BtfType::Ptr { ty: y }) => incompatibility(btf, *x, *y, false, d),
        (BtfType::Array { elem: x, .. }, BtfType::Array { elem: y, .. }) => {
            incompatibility(btf, *x, *y, exact, d)
        }
        (
            BtfType::Func {
                proto: x,
                linkage: lx,
                ..
            },
            BtfType::Func {
                proto: y,
                linkage: ly,
                ..
            },
        ) => {
            if (*lx == FUNC_STATIC) != (*ly == FUNC_STATIC) {
                return Ok(Some("function linkages static and global".into()));
            }
            incompatibility(btf, *x, *y, exact, d)
        }
        (
            BtfType::Var {
                ty: x, linkage: lx, ..
            },
            BtfType::Var {
                ty: y, linkage: ly, ..
            },
        ) => {
            if (*lx == VAR_STATIC) != (*ly == VAR_STATIC) {
                return Ok(Some("variable linkages static and global".into()));
            }
            incompatibility(btf, *x, *y, exact, d)
        }
        (
            BtfType::Struct { members: x, .. } | BtfType::Union { members: x, .. },
            BtfType::Struct { members: y, .. } | BtfType::Union { members: y, .. },
        ) => members_incompatibility(btf, x, y, exact, d),
        (
            BtfType::FuncProto {
                ret: rx,
                params: px,
            },
            BtfType::FuncProto {
                ret: ry,
                params: py,
            },
        ) => proto_incompatibility(btf, (*rx, px), (*ry, py), exact, d),
        _ => Ok(Some(format!(
            "BTF kind {} cannot be compared",
            ta.kind_name()
        ))),
    }
}

/// Two function prototypes: the same number of parameters, compatible parameter types
/// (names aside) and return types.
fn proto_incompatibility(
    btf: &Btf,
    (rx, px): (TypeId, &[Param]),
    (ry, py): (TypeId, &[Param]),
    exact: bool,
    depth: usize,
) -> Result<Option<String>> {
    if px.len() != py.len() {
        return Ok(Some(format!(
            "numbers of function parameters {} and {}",
            px.len(),
            py.len()
        )));
    }
    for (n, (p, q)) in px.iter().zip(py).enumerate() {
        if let Some(why) = incompatibility(btf, p.ty, q.ty, exact, depth)? {
            return Ok(Some(format!("parameter {}: {why}", n + 1)));
        }
    }
    Ok(incompatibility(btf, rx, ry, exact, depth)?.map(|why| format!("return type: {why}")))
}

/// A forward declaration against a full type (below a pointer): the same name, and a union
/// forward for a union, a struct forward for a struct.
fn fwd_against_full(btf: &Btf, ta: &BtfType, tb: &BtfType) -> Option<String> {
    let (fwd, full) = if matches!(ta, BtfType::Fwd { .. }) {
        (ta, tb)
    } else {
        (tb, ta)
    };
    let BtfType::Fwd { name, is_union } = fwd else {
        return None;
    };
    let full_name = compared_name(full).map_or("", |n| btf.str(n));
    if btf.str(*name) != full_name {
        return Some(format!(
            "forward declaration names `{}` and `{full_name}`",
            btf.str(*name)
        ));
    }
    match (is_union, full) {
        (true, BtfType::Union { .. }) | (false, BtfType::Struct { .. }) => None,
        _ => Some(format!(
            "{} forward declaration and {}",
            if *is_union { "union" } else { "struct" },
            full.kind_name()
        )),
    }
}

/// Members of two structs or unions (when `exact`): the same number, names, offsets and
/// compatible types.
fn members_incompatibility(
    btf: &Btf,
    x: &[Member],
    y: &[Member],
    exact: bool,
    depth: usize,
) -> Result<Option<String>> {
    if !exact {
        return Ok(None);
    }
    if x.len() != y.len() {
        return Ok(Some(format!(
            "numbers of fields {} and {}",
            x.len(),
            y.len()
        )));
    }
    for (n, (m, o)) in x.iter().zip(y).enumerate() {
        let name = btf.str(m.name);
        if name != btf.str(o.name) {
            return Ok(Some(format!(
                "field #{n} names `{name}` and `{}`",
                btf.str(o.name)
            )));
        }
        if m.offset != o.offset {
            return Ok(Some(format!("field #{n} (`{name}`) offsets")));
        }
        if let Some(why) = incompatibility(btf, m.ty, o.ty, exact, depth)? {
            return Ok(Some(format!("field `{name}`: {why}")));
        }
    }
    Ok(None)
}

/// The name libbpf compares for a kind (structs, unions, enums, forwards, functions,
/// variables); None for the others.
fn compared_name(t: &BtfType) -> Option<StrOff> {
    match t {
        BtfType::Struct { name, .. }
        | BtfType::Union { name, .. }
        | BtfType::Enum { name, .. }
        | BtfType::Enum64 { name, .. }
        | BtfType::Fwd { name, .. }
        | BtfType::Func { name, .. }
        | BtfType::Var { name, .. } => Some(*name),
        _ => None,
    }
}
