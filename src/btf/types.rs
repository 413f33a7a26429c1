//! In-memory BTF types (`BtfType`), ids, and the `Btf` container with its basic accessors.
//! Parsing, queries, dedup and encoding live in sibling modules (see mod.rs for the flow).

use super::intern::Interner;
use super::pool::ListPool;
use super::strings::{cut_at_nul, utf8_prefix, StringTable};
use crate::error::{Error, Result};

/// Index of a type in a `Btf` (0 = void).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TypeId(pub u32);

/// Offset of a NUL-terminated string in the `Btf`'s string table (0 = "").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StrOff(pub u32);

/// BTF_VAR_STATIC / GLOBAL_ALLOCATED / GLOBAL_EXTERN.
pub const VAR_STATIC: u32 = 0;
pub const VAR_GLOBAL: u32 = 1;
pub const VAR_EXTERN: u32 = 2;
/// BTF_FUNC_STATIC / GLOBAL / EXTERN.
pub const FUNC_STATIC: u16 = 0;
pub const FUNC_GLOBAL: u16 = 1;
pub const FUNC_EXTERN: u16 = 2;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Member {
    pub name: StrOff,
    pub ty: TypeId,
    /// Raw `offset` word: bit offset, or (kind_flag set) bitfield_size << 24 | bit offset.
    pub offset: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    pub name: StrOff,
    pub ty: TypeId,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VarSecinfo {
    pub ty: TypeId,
    pub offset: u32,
    pub size: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EnumValue {
    pub name: StrOff,
    /// 32-bit values for ENUM (sign-extended per `signed`), full for ENUM64.
    pub value: u64,
}

/// One BTF type. `kind_flag` is kept where the kind gives it a meaning.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BtfType {
    /// Placeholder at id 0.
    Void,
    Int {
        name: StrOff,
        size: u32,
        /// the u32 after the header (encoding<<24 | offset<<16 | bits)
        data: u32,
    },
    Ptr {
        ty: TypeId,
    },
    Array {
        elem: TypeId,
        index: TypeId,
        nelems: u32,
    },
    Struct {
        name: StrOff,
        size: u32,
        kind_flag: bool,
        members: Vec<Member>,
    },
    Union {
        name: StrOff,
        size: u32,
        kind_flag: bool,
        members: Vec<Member>,
    },
    Enum {
        name: StrOff,
        size: u32,
        signed: bool,
        values: Vec<EnumValue>,
    },
    Enum64 {
        name: StrOff,
        size: u32,
        signed: bool,
        values: Vec<EnumValue>,
    },
    Fwd {
        name: StrOff,
        is_union: bool,
    },
    Typedef {
        name: StrOff,
        ty: TypeId,
    },
    Volatile {
        ty: TypeId,
    },
    Const {
        ty: TypeId,
    },
    Restrict {
        ty: TypeId,
    },
    TypeTag {
        name: StrOff,
        ty: TypeId,
    },
    Func {
        name: StrOff,
        proto: TypeId,
        linkage: u16,
    },
    FuncProto {
        ret: TypeId,
        params: Vec<Param>,
    },
    Var {
        name: StrOff,
        ty: TypeId,
        linkage: u32,
    },
    Datasec {
        name: StrOff,
        size: u32,
        vars: Vec<VarSecinfo>,
    },
    Float {
        name: StrOff,
        size: u32,
    },
    DeclTag {
        name: StrOff,
        ty: TypeId,
        component_idx: i32,
    },
}

/// Where a redirected type goes in `Btf::compact`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redirect {
    /// Drop the type; references to it become references to this one.
    To(TypeId),
    /// Drop the type; it must be unreferenced (old DATASECs).
    Remove,
}

/// Result of `Btf::append`: how the appended section's ids map into the container.
#[derive(Clone, Copy, Debug)]
pub struct Appended {
    /// Input type id `i > 0` became `TypeId(base + i)`; input id 0 stays void.
    pub base: u32,
    /// Number of types appended (ids base+1 ..= base+count).
    pub count: u32,
}

/// Structural equivalence classes of a `Btf`'s types.
#[derive(Clone, Debug)]
pub struct Equivalence {
    pub(super) canon: Vec<TypeId>,
}

impl Equivalence {
    /// The canonical member of `id`'s class: its lowest id, except that a forward declaration
    /// (FWD, or an enum without values) resolved to a full type has that type's canonical member.
    /// Ids beyond the types the equivalence was computed on are their own class.
    pub fn canon(&self, id: TypeId) -> TypeId {
        self.canon.get(id.0 as usize).copied().unwrap_or(id)
    }
    pub fn same(&self, a: TypeId, b: TypeId) -> bool {
        self.canon(a) == self.canon(b)
    }
}

/// Old id -> new id after `compact`.
#[derive(Clone, Debug)]
pub struct TypeRemap {
    pub(super) map: Vec<TypeId>,
}

impl TypeRemap {
    pub fn get(&self, old: TypeId) -> TypeId {
        self.map.get(old.0 as usize).copied().unwrap_or(TypeId(0))
    }
}

/// `own` answers this for an alias slot.
static VOID: BtfType = BtfType::Void;

/// A set of BTF types with one interned string table.
///
/// Id 0 is always `BtfType::Void`. Every id holds a type, except that the alias slots of a
/// `for_linking` container stand for an earlier type and store nothing.
#[derive(Clone, Debug)]
pub struct Btf {
    /// The stored types: every id's but the alias slots', in id order (void first).
    pub(super) store: Vec<BtfType>,
    /// Id -> position in `store` (an alias slot: its kept type's). Empty while the container
    /// has no alias slot: ids are positions then.
    pub(super) pos: Vec<u32>,
    pub(super) strings: StringTable,
    /// Every successful `append`, in order (lets `.BTF.ext` parsing bound type ids).
    pub(super) appended: Vec<Appended>,
    /// Position in `store` -> id of the type stored there (kept along with `pos`, empty with
    /// it). An id whose position holds another id is an alias slot: a copy that stands for that
    /// type; `get` answers with the kept type, `own` with `BtfType::Void`. Only `for_linking`
    /// containers have alias slots.
    pub(super) ids: Vec<u32>,
    /// Matches appended types against kept ones (`for_linking` only).
    pub(super) interner: Option<Box<Interner>>,
    /// Ids of the appended VAR, FUNC and DATASEC types, input after input (`decls`), and per
    /// `append` (base, count) where its ids start in that list.
    pub(super) decl_ids: Vec<u32>,
    pub(super) decl_start: Vec<(u32, u32, u32)>,
    /// Lists of copies, for the parser to reuse (`for_linking` containers).
    pub(super) pool: ListPool,
}

impl Default for Btf {
    fn default() -> Self {
        Btf::new()
    }
}

impl Btf {
    pub fn new() -> Btf {
        Btf {
            store: vec![BtfType::Void],
            pos: Vec::new(),
            strings: StringTable::new(),
            appended: Vec::new(),
            ids: Vec::new(),
            interner: None,
            decl_ids: Vec::new(),
            decl_start: Vec::new(),
            pool: ListPool::default(),
        }
    }

    /// The VAR, FUNC and DATASEC types one `append` added, in id order (what the link's
    /// per-input passes look for; none of them is ever an alias slot). Empty for an `app` that
    /// does not describe the container any more (after `compact`).
    pub fn decls(&self, app: Appended) -> impl Iterator<Item = (TypeId, &BtfType)> + '_ {
        // Several appends share a base only when all but the last added no type.
        let k = self
            .decl_start
            .partition_point(|&(b, c, _)| (b, c) < (app.base, app.count));
        let range = match self.decl_start.get(k) {
            Some(&(b, c, start)) if (b, c) == (app.base, app.count) => {
                let end = self
                    .decl_start
                    .get(k + 1)
                    .map_or(self.decl_ids.len(), |e| e.2 as usize);
                start as usize..end
            }
            _ => 0..0,
        };
        self.decl_ids[range]
            .iter()
            .filter_map(|&id| Some((TypeId(id), self.ty(id as usize)?)))
    }

    /// A container for a link: `append` matches each input's types against the types earlier
    /// inputs kept (all kinds but VAR, DATASEC, FUNC and DECL_TAG, cycles included; see
    /// intern.rs), and a copy becomes an alias slot that stores nothing. Ids, `get`,
    /// `equivalence` and `compact` behave as if every copy had been kept, except that `get` at
    /// an alias slot answers with the kept type (whose references are the first input's ids)
    /// and `own` with void.
    pub fn for_linking() -> Btf {
        Btf {
            interner: Some(Box::default()),
            ..Btf::new()
        }
    }

    /// The kept type that the type at `id` stands for: `id` itself unless it is an alias slot.
    pub fn unalias(&self, id: TypeId) -> TypeId {
        match self.pos.get(id.0 as usize) {
            Some(&p) => TypeId(self.ids.get(p as usize).copied().unwrap_or(id.0)),
            None => id,
        }
    }

    /// How many of the container's ids are alias slots.
    pub fn alias_count(&self) -> usize {
        self.len() - self.store.len()
    }

    /// Whether `id` is an alias slot.
    pub fn is_alias(&self, id: TypeId) -> bool {
        self.unalias(id) != id
    }

    /// Position in `store` of the type `id` stands for.
    pub(super) fn position(&self, id: usize) -> Option<usize> {
        if self.pos.is_empty() {
            (id < self.store.len()).then_some(id)
        } else {
            self.pos.get(id).map(|&p| p as usize)
        }
    }

    /// The type at `id`, the kept one for an alias slot (None beyond the end).
    pub(super) fn ty(&self, id: usize) -> Option<&BtfType> {
        self.store.get(self.position(id)?)
    }

    /// The type stored at `id` itself: `BtfType::Void` at an alias slot (None beyond the end).
    pub fn own(&self, id: TypeId) -> Option<&BtfType> {
        if self.is_alias(id) {
            return Some(&VOID);
        }
        self.ty(id.0 as usize)
    }

    pub(super) fn own_at(&self, id: usize) -> Option<&BtfType> {
        self.own(TypeId(u32::try_from(id).ok()?))
    }

    /// Every id's own type (see `own`), in id order.
    pub fn types(&self) -> impl Iterator<Item = &BtfType> + '_ {
        (0..self.len() as u32).filter_map(|id| self.own(TypeId(id)))
    }

    /// The type at `id` to change in place (the kept one for an alias slot).
    pub fn get_mut(&mut self, id: TypeId) -> Option<&mut BtfType> {
        let p = self.position(id.0 as usize)?;
        self.store.get_mut(p)
    }

    /// Room for exactly `more` more stored types (not rounded up by doubling).
    pub fn reserve_types(&mut self, more: usize) {
        self.store.reserve_exact(more);
    }

    /// After the last `append` of a link: drop what only streaming needs (the interner, the
    /// string hints, the pooled lists) and release the growth slack of the type tables.
    pub fn end_streaming(&mut self) {
        self.interner = None;
        self.pool = Default::default();
        self.strings.drop_hints();
        self.shrink_types();
    }

    /// Release the growth slack of the type table.
    pub fn shrink_types(&mut self) {
        self.store.shrink_to_fit();
        self.pos.shrink_to_fit();
        self.ids.shrink_to_fit();
    }

    /// Store one appended type at the next id.
    pub(super) fn store_next(&mut self, t: BtfType) {
        if !self.pos.is_empty() {
            self.ids.push(self.pos.len() as u32);
            self.pos.push(self.store.len() as u32);
        }
        self.store.push(t);
    }

    /// Make the next id an alias slot of kept type `target`.
    pub(super) fn alias_next(&mut self, target: TypeId) {
        if self.pos.is_empty() {
            self.start_positions();
        }
        let p = self.position(target.0 as usize).unwrap_or(0) as u32;
        self.pos.push(p);
    }

    /// Ids and positions part at the first alias slot: both tables start as the identity, the
    /// id table with room for as many ids as the store has room for types (a link reserves
    /// that from its first input; untouched room costs no page).
    fn start_positions(&mut self) {
        let n = self.store.len() as u32;
        self.pos = Vec::with_capacity(self.store.capacity());
        self.pos.extend(0..n);
        self.ids = (0..n).collect();
    }

    /// Intern `s` (cut at its first NUL, if any).
    ///
    /// The table is bounded by 4 GiB; past that (never in practice) this returns `StrOff(0)`.
    pub fn intern(&mut self, s: &str) -> StrOff {
        self.strings
            .intern_bytes(cut_at_nul(s.as_bytes()))
            .unwrap_or(StrOff(0))
    }

    /// The string at `off` ("" if out of range; the valid UTF-8 prefix if it is not UTF-8).
    pub fn str(&self, off: StrOff) -> &str {
        utf8_prefix(self.strings.get(off))
    }

    /// The raw bytes of the string at `off` (empty if out of range).
    pub fn str_bytes(&self, off: StrOff) -> &[u8] {
        self.strings.get(off)
    }

    /// The type at `id` (for an alias slot: the kept type it stands for).
    pub fn get(&self, id: TypeId) -> Result<&BtfType> {
        self.ty(id.0 as usize).ok_or_else(|| {
            Error::btf(format!(
                "type id {} beyond the {} types",
                id.0,
                self.len().saturating_sub(1)
            ))
        })
    }

    /// Append a type; returns its id. (Ids are u32: a container never holds 2^32 types.)
    pub fn push(&mut self, t: BtfType) -> TypeId {
        if self.store.is_empty() {
            self.store.push(BtfType::Void);
        }
        let id = TypeId(u32::try_from(self.len()).unwrap_or(u32::MAX));
        self.store_next(t);
        id
    }

    /// Number of types including void at id 0 and alias slots (so ids are `0..len()`).
    pub fn len(&self) -> usize {
        if self.pos.is_empty() {
            self.store.len()
        } else {
            self.pos.len()
        }
    }

    /// True when the container holds no type besides void.
    pub fn is_empty(&self) -> bool {
        self.len() <= 1
    }
}
