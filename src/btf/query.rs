//! Queries on a `Btf`: takes type ids, gives the underlying type (`skip_mods`), byte sizes
//! (`size_of`) and human-readable type names for error messages (`display`). All bounded: a
//! reference loop gives an error (or "..." in text), never a hang or a stack overflow.

use super::{Appended, Btf, BtfType, TypeId};
use crate::error::{Error, Result};

/// Depth bound for `display` (text beyond it is shown as "...").
const DISPLAY_DEPTH: usize = 12;
/// Length bound for `display` (function prototypes branch: keep the text short).
const DISPLAY_LEN: usize = 400;

impl Btf {
    /// Follow typedef/const/volatile/restrict/type_tag to the underlying type (bounded: error on loops).
    pub fn skip_mods(&self, id: TypeId) -> Result<TypeId> {
        let mut cur = id;
        for _ in 0..=self.len() {
            match self.get(cur)? {
                BtfType::Typedef { ty, .. }
                | BtfType::Const { ty }
                | BtfType::Volatile { ty }
                | BtfType::Restrict { ty }
                | BtfType::TypeTag { ty, .. } => cur = *ty,
                _ => return Ok(cur),
            }
        }
        Err(Error::btf(format!(
            "type [{}]: typedef/modifier chain loops",
            id.0
        )))
    }

    /// Size in bytes of a type (follows modifiers/typedefs/vars; ptr = 8; array = elem*n).
    pub fn size_of(&self, id: TypeId) -> Result<u32> {
        let mut cur = id;
        let mut mult: u32 = 1;
        let overflow = || Error::btf(format!("type [{}]: size overflows 32 bits", id.0));
        for _ in 0..=self.len() {
            let t = self.get(cur)?;
            let size = match t {
                BtfType::Typedef { ty, .. }
                | BtfType::Const { ty }
                | BtfType::Volatile { ty }
                | BtfType::Restrict { ty }
                | BtfType::TypeTag { ty, .. }
                | BtfType::Var { ty, .. } => {
                    cur = *ty;
                    continue;
                }
                BtfType::Array { elem, nelems, .. } => {
                    mult = mult.checked_mul(*nelems).ok_or_else(overflow)?;
                    cur = *elem;
                    continue;
                }
                BtfType::Ptr { .. } => 8,
                BtfType::Int { size, .. }
                | BtfType::Struct { size, .. }
                | BtfType::Union { size, .. }
                | BtfType::Enum { size, .. }
                | BtfType::Enum64 { size, .. }
                | BtfType::Datasec { size, .. }
                | BtfType::Float { size, .. } => *size,
                BtfType::Void
                | BtfType::Fwd { .. }
                | BtfType::Func { .. }
                | BtfType::FuncProto { .. }
                | BtfType::DeclTag { .. } => {
                    // Named, not numbered: the ids of a merged container are no input's own
                    // (and one reached through a copy is the first input's).
                    return Err(Error::btf(format!(
                        "type `{}` has no size: it reaches {} `{}`",
                        self.display(id),
                        t.kind_name(),
                        self.display(cur)
                    )));
                }
            };
            return size.checked_mul(mult).ok_or_else(overflow);
        }
        Err(Error::btf(format!(
            "type [{}]: reference loop while computing its size",
            id.0
        )))
    }

    /// Human text for errors: `struct foo`, `__u32`, `int[4]`, `void *`, ...
    pub fn display(&self, id: TypeId) -> String {
        let mut out = String::new();
        self.display_into(id, DISPLAY_DEPTH, &mut out);
        out
    }

    fn named(&self, prefix: &str, name: super::StrOff, out: &mut String) {
        out.push_str(prefix);
        let n = self.str(name);
        out.push_str(if n.is_empty() { "(anon)" } else { n });
    }

    fn display_into(&self, id: TypeId, depth: usize, out: &mut String) {
        if depth == 0 || out.len() > DISPLAY_LEN {
            if !out.ends_with("...") {
                out.push_str("...");
            }
            return;
        }
        let d = depth - 1;
        let Some(t) = self.ty(id.0 as usize) else {
            out.push_str(&format!("<bad type id {}>", id.0));
            return;
        };
        match t {
            BtfType::Void => out.push_str("void"),
            BtfType::Int { name, .. }
            | BtfType::Float { name, .. }
            | BtfType::Typedef { name, .. } => self.named("", *name, out),
            BtfType::Struct { name, .. } => self.named("struct ", *name, out),
            BtfType::Union { name, .. } => self.named("union ", *name, out),
            BtfType::Enum { name, .. } | BtfType::Enum64 { name, .. } => {
                self.named("enum ", *name, out)
            }
            BtfType::Fwd { name, is_union } => {
                self.named(if *is_union { "union " } else { "struct " }, *name, out)
            }
            BtfType::Ptr { ty } => {
                if matches!(self.ty(ty.0 as usize), Some(BtfType::FuncProto { .. })) {
                    self.display_proto(*ty, "(*)", d, out);
                } else {
                    self.display_into(*ty, d, out);
                    out.push_str(" *");
                }
            }
            BtfType::Const { ty } => self.prefixed("const ", *ty, d, out),
            BtfType::Volatile { ty } => self.prefixed("volatile ", *ty, d, out),
            BtfType::Restrict { ty } => self.prefixed("restrict ", *ty, d, out),
            BtfType::TypeTag { name, ty } => {
                out.push_str(&format!(
                    "__attribute__((btf_type_tag(\"{}\"))) ",
                    self.str(*name)
                ));
                self.display_into(*ty, d, out);
            }
            BtfType::Array { elem, nelems, .. } => {
                self.display_into(*elem, d, out);
                out.push_str(&format!("[{nelems}]"));
            }
            BtfType::FuncProto { .. } => self.display_proto(id, "", d, out),
            BtfType::Func { name, proto, .. } => {
                let n = self.str(*name).to_string();
                self.display_proto(*proto, &n, d, out);
            }
            BtfType::Var { name, ty, .. } => {
                self.display_into(*ty, d, out);
                out.push(' ');
                out.push_str(self.str(*name));
            }
            BtfType::Datasec { name, .. } => self.named("section ", *name, out),
            BtfType::DeclTag { name, ty, .. } => {
                out.push_str(&format!("btf_decl_tag(\"{}\") on ", self.str(*name)));
                self.display_into(*ty, d, out);
            }
        }
    }

    fn prefixed(&self, prefix: &str, ty: TypeId, depth: usize, out: &mut String) {
        // "const char *" reads better than "char * const" for the usual const-pointee case,
        // but a const pointer is shown as "T * const".
        if matches!(self.ty(ty.0 as usize), Some(BtfType::Ptr { .. })) {
            self.display_into(ty, depth, out);
            out.push(' ');
            out.push_str(prefix.trim_end());
        } else {
            out.push_str(prefix);
            self.display_into(ty, depth, out);
        }
    }

    /// "ret name(params)" for a FUNC_PROTO at `id`.
    fn display_proto(&self, id: TypeId, name: &str, depth: usize, out: &mut String) {
        let Some(BtfType::FuncProto { ret, params }) = self.ty(id.0 as usize) else {
            self.display_into(id, depth, out);
            out.push_str(name);
            return;
        };
        self.display_into(*ret, depth, out);
        out.push(' ');
        out.push_str(name);
        out.push('(');
        for (i, p) in params.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if p.ty.0 == 0 && i + 1 == params.len() {
                out.push_str("...");
            } else {
                self.display_into(p.ty, depth, out);
            }
        }
        if params.is_empty() {
            out.push_str("void");
        }
        out.push(')');
    }

    /// Refuse a reference loop among the types of one appended section that does not go
    /// through a pointer (a type of infinite size, which libbpf and the kernel refuse; `append`
    /// accepts it, so the linker checks before writing). Iterative, no recursion.
    pub fn check_value_loops(&self, app: Appended) -> Result<()> {
        let first = app.base as usize + 1;
        let end = first + app.count as usize;
        // 0: unvisited, 1: on the current path, 2: done (indexed by id - first).
        let mut state = vec![0u8; end.saturating_sub(first)];
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for start in first..end {
            // Alias slots hold no references of their own (they reach no cycle at all).
            if state[start - first] != 0 || self.is_alias(TypeId(start as u32)) {
                continue;
            }
            state[start - first] = 1;
            // (type, number of its value references not yet visited), visited last to first
            stack.clear();
            stack.push((start, self.value_ref_count(start)));
            while let Some((id, todo)) = stack.last_mut() {
                let id = *id;
                let Some(k) = todo.checked_sub(1) else {
                    state[id - first] = 2;
                    stack.pop();
                    continue;
                };
                *todo = k;
                let r = self.value_ref(id, k).0 as usize;
                if r < first || r >= end {
                    continue;
                }
                match state[r - first] {
                    0 => {
                        state[r - first] = 1;
                        stack.push((r, self.value_ref_count(r)));
                    }
                    1 => {
                        let kind = |i: usize| self.own_at(i).map_or("?", |t| t.kind_name());
                        return Err(Error::btf(format!(
                            "type [{}] {} contains itself: a reference loop through [{}] {} \
                             that does not go through a pointer",
                            r - first + 1,
                            kind(r),
                            id - first + 1,
                            kind(id)
                        )));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Number of references of type `id` that hold its value (not through a pointer): what
    /// `check_value_loops` follows.
    fn value_ref_count(&self, id: usize) -> usize {
        match self.own_at(id) {
            Some(
                BtfType::Typedef { .. }
                | BtfType::Const { .. }
                | BtfType::Volatile { .. }
                | BtfType::Restrict { .. }
                | BtfType::TypeTag { .. }
                | BtfType::Var { .. }
                | BtfType::Func { .. }
                | BtfType::Array { .. },
            ) => 1,
            Some(BtfType::Struct { members, .. } | BtfType::Union { members, .. }) => members.len(),
            Some(BtfType::Datasec { vars, .. }) => vars.len(),
            _ => 0,
        }
    }

    /// The `k`th value reference of type `id` (`k < value_ref_count(id)`; void otherwise).
    fn value_ref(&self, id: usize, k: usize) -> TypeId {
        let r = match self.own_at(id) {
            Some(
                BtfType::Typedef { ty, .. }
                | BtfType::Const { ty }
                | BtfType::Volatile { ty }
                | BtfType::Restrict { ty }
                | BtfType::TypeTag { ty, .. }
                | BtfType::Var { ty, .. },
            ) => Some(*ty),
            Some(BtfType::Func { proto, .. }) => Some(*proto),
            Some(BtfType::Array { elem, .. }) => Some(*elem),
            Some(BtfType::Struct { members, .. } | BtfType::Union { members, .. }) => {
                members.get(k).map(|m| m.ty)
            }
            Some(BtfType::Datasec { vars, .. }) => vars.get(k).map(|v| v.ty),
            _ => None,
        };
        r.unwrap_or_default()
    }

    /// Refuse a reference to a VAR or DATASEC from a type other than a DATASEC or DECL_TAG
    /// among the types of one appended section: the linker rebuilds DATASECs and removes the
    /// old ones, so such a reference would turn into `void` in the output.
    pub fn check_var_refs(&self, app: Appended) -> Result<()> {
        let first = app.base as usize + 1;
        let end = first + app.count as usize;
        for id in first..end {
            let Some(t) = self.own_at(id) else { break };
            if matches!(t, BtfType::Datasec { .. } | BtfType::DeclTag { .. }) {
                continue;
            }
            let mut bad = None;
            t.for_each_ref(|r| {
                if bad.is_none()
                    && matches!(
                        self.own_at(r.0 as usize),
                        Some(BtfType::Var { .. } | BtfType::Datasec { .. })
                    )
                {
                    bad = Some(r);
                }
            });
            if let Some(r) = bad {
                let kind = |i: usize| self.own_at(i).map_or("?", |t| t.kind_name());
                return Err(Error::btf(format!(
                    "type [{}] {} references [{}] {}, which only a DATASEC may name",
                    id - first + 1,
                    kind(id),
                    r.0 as usize - first + 1,
                    kind(r.0 as usize)
                )));
            }
        }
        Ok(())
    }
}
