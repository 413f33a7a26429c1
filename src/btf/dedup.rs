//! Structural type equivalence and compaction: takes a `Btf` holding the types of many objects,
//! gives the coarsest bisimulation of its type graph (`equivalence`, by partition refinement,
//! with libbpf-style forward-declaration resolution) and rewrites the container to one type per
//! class (`compact`), dropping redirected types and renumbering ids densely in original order.

use super::hash::{hash_words, FastMap};
use super::kind::*;
use super::{Btf, BtfType, Equivalence, Redirect, TypeId, TypeRemap};
use std::borrow::Cow;
use std::collections::VecDeque;

/// At most this many rounds of "resolve forward declarations, refine again".
const MAX_FWD_PASSES: usize = 4;

/// Flat list of u32 words per item: `words[offs[i]..offs[i+1]]` belongs to item `i`.
struct Flat {
    words: Vec<u32>,
    offs: Vec<usize>,
}

impl Flat {
    fn with_capacity(items: usize) -> Flat {
        let mut offs = Vec::with_capacity(items + 1);
        offs.push(0);
        Flat {
            words: Vec::new(),
            offs,
        }
    }
    fn clear(&mut self) {
        self.words.clear();
        self.offs.clear();
        self.offs.push(0);
    }
    fn finish_item(&mut self) {
        self.offs.push(self.words.len());
    }
    fn len(&self) -> usize {
        self.offs.len() - 1
    }
    fn get(&self, i: usize) -> &[u32] {
        let (a, b) = (self.offs[i], self.offs[i + 1]);
        &self.words[a..b]
    }
}

/// Groups items by equal word slices (exactly: hash then compare). Groups are numbered in order
/// of first appearance, so the result never depends on hash-table iteration order.
#[derive(Default)]
struct Grouper {
    heads: FastMap<u64, u32>,
    /// Per group: next group with the same hash (u32::MAX = none), and its first item.
    next: Vec<u32>,
    first: Vec<u32>,
}

impl Grouper {
    /// `out[i]` = group of item `i`; returns the number of groups.
    fn group(&mut self, items: &Flat, out: &mut Vec<u32>) -> usize {
        if !self.heads.is_empty() {
            self.heads.clear();
        }
        self.next.clear();
        self.first.clear();
        out.clear();
        let mut prev = u32::MAX;
        for i in 0..items.len() {
            let key = items.get(i);
            // Fast path: runs of equal signatures (copies of one type) need no hashing.
            if prev != u32::MAX && items.get(self.first[prev as usize] as usize) == key {
                out.push(prev);
                continue;
            }
            let h = hash_words(key);
            let mut g = self.heads.get(&h).copied().unwrap_or(u32::MAX);
            while g != u32::MAX && items.get(self.first[g as usize] as usize) != key {
                g = self.next[g as usize];
            }
            if g == u32::MAX {
                g = self.first.len() as u32;
                let prev = self.heads.insert(h, g).unwrap_or(u32::MAX);
                self.next.push(prev);
                self.first.push(i as u32);
            }
            out.push(g);
            prev = g;
        }
        self.first.len()
    }
}

/// Shallow signature of a type: everything compared except referenced types' identities.
/// VAR and DATASEC carry their own id so that they are never merged with another type.
pub(super) fn shallow(id: u32, t: &BtfType, out: &mut Vec<u32>) {
    out.push(t.kind());
    match t {
        BtfType::Void | BtfType::Ptr { .. } | BtfType::Volatile { .. } => {}
        BtfType::Const { .. } | BtfType::Restrict { .. } => {}
        BtfType::Int { name, size, data } => out.extend([name.0, *size, *data]),
        BtfType::Float { name, size } => out.extend([name.0, *size]),
        BtfType::Typedef { name, .. } | BtfType::TypeTag { name, .. } => out.push(name.0),
        BtfType::Array { nelems, .. } => out.push(*nelems),
        BtfType::Struct {
            name,
            size,
            kind_flag,
            members,
        }
        | BtfType::Union {
            name,
            size,
            kind_flag,
            members,
        } => {
            out.extend([name.0, *size, u32::from(*kind_flag)]);
            for m in members {
                out.extend([m.name.0, m.offset]);
            }
        }
        BtfType::Enum {
            name,
            size,
            signed,
            values,
        }
        | BtfType::Enum64 {
            name,
            size,
            signed,
            values,
        } => {
            out.extend([name.0, *size, u32::from(*signed)]);
            for v in values {
                out.extend([v.name.0, v.value as u32, (v.value >> 32) as u32]);
            }
        }
        BtfType::Fwd { name, is_union } => out.extend([name.0, u32::from(*is_union)]),
        BtfType::Func { name, linkage, .. } => out.extend([name.0, u32::from(*linkage)]),
        BtfType::FuncProto { params, .. } => {
            out.push(params.len() as u32);
            out.extend(params.iter().map(|p| p.name.0));
        }
        BtfType::DeclTag {
            name,
            component_idx,
            ..
        } => out.extend([name.0, *component_idx as u32]),
        BtfType::Var { .. } | BtfType::Datasec { .. } => out.push(id),
    }
}

/// At least the number of words `shallow` pushes for `t`.
fn shallow_bound(t: &BtfType) -> usize {
    let list = match t {
        BtfType::Struct { members, .. } | BtfType::Union { members, .. } => members.len(),
        BtfType::Enum { values, .. } | BtfType::Enum64 { values, .. } => values.len(),
        BtfType::FuncProto { params, .. } => params.len(),
        _ => 0,
    };
    4 + 3 * list
}

/// The types `equivalence` partitions: the stored ones (every type but the alias slots, see
/// intern.rs, which join the class of the type they stand for). Kept index `k` is the type at
/// position `k` of the store, with id `ids[k]` (ascending); `index[id]` is the kept index of
/// `id`, or of the type an alias slot stands for.
struct Kept<'a> {
    ids: Cow<'a, [u32]>,
    index: Cow<'a, [u32]>,
}

impl<'a> Kept<'a> {
    /// The container's own position tables when it has alias slots, else the identity.
    fn new(btf: &'a Btf) -> Kept<'a> {
        if btf.pos.is_empty() {
            let identity: Vec<u32> = (0..btf.store.len() as u32).collect();
            Kept {
                ids: Cow::Owned(identity.clone()),
                index: Cow::Owned(identity),
            }
        } else {
            Kept {
                ids: Cow::Borrowed(&btf.ids),
                index: Cow::Borrowed(&btf.pos),
            }
        }
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    /// The kept index a reference stands for (out-of-range ids, which only types pushed by
    /// hand can hold, count as void).
    fn of_ref(&self, r: TypeId) -> u32 {
        self.index.get(r.0 as usize).copied().unwrap_or(0)
    }
}

/// Reference lists of the kept types, as kept indices.
fn build_refs(btf: &Btf, kept: &Kept<'_>) -> Flat {
    let mut refs = Flat::with_capacity(kept.len());
    for t in &btf.store {
        t.for_each_ref(|r| refs.words.push(kept.of_ref(r)));
        refs.finish_item();
    }
    refs
}

/// Predecessor lists (who references whom) in CSR form: `preds[start[t]..start[t+1]]`.
fn predecessors(n: usize, refs: &Flat) -> (Vec<u32>, Vec<u32>) {
    let mut start = vec![0u32; n + 1];
    for &r in &refs.words {
        start[r as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut preds = vec![0u32; refs.words.len()];
    for t in 0..n {
        for &r in refs.get(t) {
            preds[fill[r as usize] as usize] = t as u32;
            fill[r as usize] += 1;
        }
    }
    (start, preds)
}

/// Partition of types into classes, each a contiguous range of `elems` whose tail
/// `elems[dirty[c]..end[c]]` holds the members whose references changed class since the class
/// was last checked (the others still share one signature).
struct Partition<'a> {
    /// Class of each type: the caller's array, refined in place.
    cls: &'a mut [u32],
    elems: Vec<u32>,
    pos: Vec<u32>,
    start: Vec<u32>,
    end: Vec<u32>,
    dirty: Vec<u32>,
    in_work: Vec<bool>,
    work: VecDeque<u32>,
}

impl Partition<'_> {
    fn size(&self, c: usize) -> u32 {
        self.end[c] - self.start[c]
    }

    /// Mark `t` as changed and queue its class (singletons cannot split: ignored).
    fn touch(&mut self, t: u32) {
        let q = self.cls[t as usize] as usize;
        if self.size(q) <= 1 {
            return;
        }
        let i = self.pos[t as usize];
        if i < self.dirty[q] {
            let j = self.dirty[q] - 1;
            let other = self.elems[j as usize];
            self.elems.swap(i as usize, j as usize);
            self.pos[other as usize] = i;
            self.pos[t as usize] = j;
            self.dirty[q] = j;
        }
        if !self.in_work[q] {
            self.in_work[q] = true;
            self.work.push_back(q as u32);
        }
    }

    fn new_class(&mut self, start: u32, end: u32) -> u32 {
        self.start.push(start);
        self.end.push(end);
        self.dirty.push(end);
        self.in_work.push(false);
        (self.start.len() - 1) as u32
    }
}

impl<'a> Partition<'a> {
    /// The partition `cls` gives (takes the class of each type and the number of classes;
    /// gives the members of each class as a range of `elems`, counting sort, stable by id),
    /// with everything dirty and every class that can split queued.
    fn new(cls: &'a mut [u32], nclasses: usize) -> Partition<'a> {
        let n = cls.len();
        let mut start = vec![0u32; nclasses + 1];
        for &c in cls.iter() {
            start[c as usize + 1] += 1;
        }
        for c in 0..nclasses {
            start[c + 1] += start[c];
        }
        start.truncate(nclasses);
        let mut end: Vec<u32> = start.clone();
        let mut elems = vec![0u32; n];
        let mut pos = vec![0u32; n];
        for (t, &c) in cls.iter().enumerate() {
            let at = end[c as usize];
            elems[at as usize] = t as u32;
            pos[t] = at;
            end[c as usize] += 1;
        }
        // Everything starts dirty.
        let mut p = Partition {
            cls,
            elems,
            pos,
            dirty: start.clone(),
            start,
            end,
            in_work: vec![false; nclasses],
            work: VecDeque::new(),
        };
        for c in 0..nclasses {
            if p.size(c) > 1 {
                p.in_work[c] = true;
                p.work.push_back(c as u32);
            }
        }
        p
    }
}

/// Buffers of `refine`, reused from one class to the next.
struct Scratch {
    /// Signatures of the members being compared.
    sigs: Flat,
    grouper: Grouper,
    /// Group of each signature in `sigs`.
    group_of: Vec<u32>,
    /// The members being compared (without the clean one standing for the others).
    members: Vec<u32>,
    /// Per group: its number of members, its class, and the next place of `elems` to fill.
    sizes: Vec<u32>,
    group_class: Vec<u32>,
    group_pos: Vec<u32>,
    /// Groups in layout order.
    order: Vec<usize>,
    /// Types whose class changed.
    moved: Vec<u32>,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            sigs: Flat::with_capacity(0),
            grouper: Grouper::default(),
            group_of: Vec::new(),
            members: Vec::new(),
            sizes: Vec::new(),
            group_class: Vec::new(),
            group_pos: Vec::new(),
            order: Vec::new(),
            moved: Vec::new(),
        }
    }
}

/// Append the signature of type `t` to `sigs` as one item (takes the references and the
/// current classes; gives the classes of `t`'s references, position by position).
#[inline]
fn push_sig(t: u32, sigs: &mut Flat, refs: &Flat, cls: &[u32]) {
    sigs.words
        .extend(refs.get(t as usize).iter().map(|&r| cls[r as usize]));
    sigs.finish_item();
}

/// How the members of class `c` grouped by signature: `elems[s..d]` are its clean members,
/// `elems[d..]` its dirty ones; `clean_group` is the group of the clean members, if any.
#[derive(Clone, Copy)]
struct Split {
    c: usize,
    s: usize,
    d: usize,
    ngroups: usize,
    clean_group: Option<usize>,
}

/// Coarsest stable refinement of `cls` (classes numbered `0..nclasses`, some possibly empty)
/// such that two types in one class have, position by position, references in the same
/// classes. Returns the new number of classes.
///
/// Worklist partition refinement: only the changed ("dirty") members of a class are re-hashed
/// and compared with one unchanged member; the largest resulting group keeps the class id and
/// only the types referencing moved members are marked, so each type moves O(log n) times.
fn refine(cls: &mut [u32], nclasses: usize, refs: &Flat) -> usize {
    let n = cls.len();
    let (pred_start, preds) = predecessors(n, refs);
    let mut p = Partition::new(cls, nclasses);
    let mut sc = Scratch::new();
    while let Some(c) = p.work.pop_front() {
        let c = c as usize;
        p.in_work[c] = false;
        let Some(split) = p.group_dirty(c, refs, &mut sc) else {
            continue;
        };
        let keep = sc.size_groups(&split);
        p.lay_out(&split, keep, &mut sc);
        p.move_members(&split, keep, &mut sc);
        p.touch_referrers(&sc.moved, &pred_start, &preds);
    }
    p.start.len()
}

impl Partition<'_> {
    /// Group the dirty members of class `c` by signature, with one clean member standing for
    /// the others (takes the references; leaves the members and groups in `sc`, marks the
    /// class clean), giving the split, or `None` when the class stays whole.
    fn group_dirty(&mut self, c: usize, refs: &Flat, sc: &mut Scratch) -> Option<Split> {
        let (s, d, e) = (
            self.start[c] as usize,
            self.dirty[c] as usize,
            self.end[c] as usize,
        );
        if d >= e || e - s <= 1 {
            self.dirty[c] = self.end[c];
            return None;
        }
        // Signatures of the dirty members, then of one clean member (standing for all).
        sc.members.clear();
        sc.members.extend_from_slice(&self.elems[d..e]);
        sc.sigs.clear();
        for &t in &sc.members {
            push_sig(t, &mut sc.sigs, refs, self.cls);
        }
        let clean = (s < d).then(|| self.elems[s]);
        if let Some(u) = clean {
            push_sig(u, &mut sc.sigs, refs, self.cls);
        }
        let ngroups = sc.grouper.group(&sc.sigs, &mut sc.group_of);
        self.dirty[c] = self.end[c];
        if ngroups == 1 {
            return None;
        }
        let clean_group = clean.map(|_| sc.group_of[sc.members.len()] as usize);
        Some(Split {
            c,
            s,
            d,
            ngroups,
            clean_group,
        })
    }

    /// Give each group its range of `elems` and its class (takes the split and the group that
    /// keeps the class id; fills `sc.group_class`, and `sc.group_pos` with the first place of
    /// each group still to fill): the clean members' group first (they stay where they are),
    /// then the others; all but the kept group get new classes.
    fn lay_out(&mut self, sp: &Split, keep: usize, sc: &mut Scratch) {
        let (c, s, d) = (sp.c, sp.s, sp.d);
        sc.order.clear();
        sc.order.extend(sp.clean_group);
        sc.order
            .extend((0..sp.ngroups).filter(|&g| Some(g) != sp.clean_group));
        sc.group_class.clear();
        sc.group_class.resize(sp.ngroups, 0);
        sc.group_pos.clear();
        sc.group_pos.resize(sp.ngroups, 0);
        let mut at = s as u32;
        for &g in &sc.order {
            let size = sc.sizes[g];
            sc.group_class[g] = if g == keep {
                self.start[c] = at;
                self.end[c] = at + size;
                self.dirty[c] = at + size;
                c as u32
            } else {
                self.new_class(at, at + size)
            };
            sc.group_pos[g] = if Some(g) == sp.clean_group {
                at + (d - s) as u32
            } else {
                at
            };
            at += size;
        }
    }

    /// Put the dirty members at their groups' places with their groups' classes, and give the
    /// clean members their group's class (takes the split and the kept group; lists in
    /// `sc.moved` every type that left the kept group).
    fn move_members(&mut self, sp: &Split, keep: usize, sc: &mut Scratch) {
        sc.moved.clear();
        for (i, &t) in sc.members.iter().enumerate() {
            let g = sc.group_of[i] as usize;
            let at = sc.group_pos[g];
            self.elems[at as usize] = t;
            self.pos[t as usize] = at;
            sc.group_pos[g] += 1;
            self.cls[t as usize] = sc.group_class[g];
            if g != keep {
                sc.moved.push(t);
            }
        }
        if let Some(ug) = sp.clean_group {
            if ug != keep {
                for i in sp.s..sp.d {
                    let t = self.elems[i];
                    self.cls[t as usize] = sc.group_class[ug];
                    sc.moved.push(t);
                }
            }
        }
    }

    /// Mark the types referencing a moved type (takes the moved types and the predecessor
    /// lists): they may now differ from their class mates.
    fn touch_referrers(&mut self, moved: &[u32], pred_start: &[u32], preds: &[u32]) {
        for &t in moved {
            let t = t as usize;
            for &q in &preds[pred_start[t] as usize..pred_start[t + 1] as usize] {
                self.touch(q);
            }
        }
    }
}

impl Scratch {
    /// Count the members of each group, the clean ones included (takes the split; fills
    /// `sizes`), giving the group that keeps the class id: the largest (first on ties).
    fn size_groups(&mut self, sp: &Split) -> usize {
        self.sizes.clear();
        self.sizes.resize(sp.ngroups, 0);
        for &g in &self.group_of[..self.members.len()] {
            self.sizes[g as usize] += 1;
        }
        if let Some(ug) = sp.clean_group {
            self.sizes[ug] += (sp.d - sp.s) as u32;
        }
        // The largest group keeps the class id (first on ties); the others move to new classes.
        let mut keep = 0;
        for g in 1..sp.ngroups {
            if self.sizes[g] > self.sizes[keep] {
                keep = g;
            }
        }
        keep
    }
}

/// Key under which forward declarations find their full type: (name, kind tag, size).
fn fwd_key(t: &BtfType) -> Option<(u32, u32, u32)> {
    match t {
        BtfType::Fwd { name, is_union } if name.0 != 0 => {
            Some((name.0, if *is_union { KIND_UNION } else { KIND_STRUCT }, 0))
        }
        BtfType::Enum {
            name, size, values, ..
        } if name.0 != 0 && values.is_empty() => Some((name.0, KIND_ENUM, *size)),
        _ => None,
    }
}

/// Key of a full type a forward declaration may resolve to.
fn full_key(t: &BtfType) -> Option<(u32, u32, u32)> {
    match t {
        BtfType::Struct { name, .. } if name.0 != 0 => Some((name.0, KIND_STRUCT, 0)),
        BtfType::Union { name, .. } if name.0 != 0 => Some((name.0, KIND_UNION, 0)),
        BtfType::Enum {
            name, size, values, ..
        }
        | BtfType::Enum64 {
            name, size, values, ..
        } if name.0 != 0 && !values.is_empty() => Some((name.0, KIND_ENUM, *size)),
        _ => None,
    }
}

impl Btf {
    /// Structural equivalence classes over the whole container.
    ///
    /// Two types are equivalent iff they have the same kind and shallow fields (names, sizes,
    /// encodings, member names and offsets, enumerators, linkage, ...) and equivalent referenced
    /// types position by position (the coarsest bisimulation, so cycles are handled). VAR and
    /// DATASEC are only equivalent to themselves. A FWD (or an enum without enumerators) is
    /// equivalent to the struct/union (enum of the same size) of its name when exactly one class
    /// of those exists; references through it then compare equal to references to the full type.
    pub fn equivalence(&self) -> Equivalence {
        if self.store.is_empty() {
            return Equivalence { canon: Vec::new() };
        }
        let kept = Kept::new(self);
        let (shallow_cls, nshallow) = self.shallow_classes(&kept);
        let refs = build_refs(self, &kept);
        let mut cls = shallow_cls.clone();
        let mut nclasses = refine(&mut cls, nshallow, &refs);
        drop(refs);
        // Forward declarations: point each at the one full type of its name, then refine again.
        // The partition found so far is still a bisimulation once references through resolved
        // declarations go to their full type (declarations of one class share a name, so one
        // target), so the coarser result is computed on the quotient graph (one node per class),
        // which is small: copies of one header collapsed already.
        let mut fwd: Vec<u32> = (0..kept.len() as u32).collect();
        for _ in 0..MAX_FWD_PASSES {
            if !self.resolve_fwds(&kept, &cls, &mut fwd) {
                break;
            }
            let (mut qcls, qrefs) = self.quotient(&kept, &cls, &fwd, &shallow_cls, nclasses);
            nclasses = refine(&mut qcls, nshallow, &qrefs);
            for c in cls.iter_mut() {
                *c = qcls[*c as usize];
            }
        }
        // Canonical member = lowest id of the class; resolved declarations take their target's.
        let mut best = vec![u32::MAX; nclasses];
        for (k, &c) in cls.iter().enumerate() {
            if best[c as usize] == u32::MAX {
                best[c as usize] = k as u32;
            }
        }
        let canon = kept
            .index
            .iter()
            .map(|&k| TypeId(kept.ids[best[cls[fwd[k as usize] as usize] as usize] as usize]))
            .collect();
        Equivalence { canon }
    }

    /// Initial partition of the kept types by shallow signature, and its number of classes.
    fn shallow_classes(&self, kept: &Kept<'_>) -> (Vec<u32>, usize) {
        let mut keys = Flat::with_capacity(kept.len());
        // Room for every signature at once (a bound: untouched slack costs no page), so the
        // key buffer is not grown by doubling and copied.
        keys.words
            .reserve_exact(self.store.iter().map(shallow_bound).sum());
        for (&id, t) in kept.ids.iter().zip(&self.store) {
            shallow(id, t, &mut keys.words);
            keys.finish_item();
        }
        let mut shallow_cls = Vec::with_capacity(kept.len());
        let nshallow = Grouper::default().group(&keys, &mut shallow_cls);
        (shallow_cls, nshallow)
    }

    /// The graph of classes (one node per class, its first member's references through resolved
    /// declarations) with the nodes' shallow classes, for refining after resolution.
    fn quotient(
        &self,
        kept: &Kept<'_>,
        cls: &[u32],
        fwd: &[u32],
        shallow_cls: &[u32],
        nclasses: usize,
    ) -> (Vec<u32>, Flat) {
        let mut rep = vec![u32::MAX; nclasses];
        for (k, &c) in cls.iter().enumerate() {
            if rep[c as usize] == u32::MAX {
                rep[c as usize] = k as u32;
            }
        }
        let mut qrefs = Flat::with_capacity(nclasses);
        let mut qcls = Vec::with_capacity(nclasses);
        for &r in &rep {
            let r = r as usize;
            let Some(t) = self.store.get(r) else {
                // Unreachable: every class has a member. Keep the quotient well-formed.
                qrefs.finish_item();
                qcls.push(0);
                continue;
            };
            t.for_each_ref(|x| {
                qrefs.words.push(cls[fwd[kept.of_ref(x) as usize] as usize]);
            });
            qrefs.finish_item();
            qcls.push(shallow_cls.get(r).copied().unwrap_or(0));
        }
        (qcls, qrefs)
    }

    /// Point each unresolved forward declaration (kept index) at the full type of its name
    /// when exactly one class of those exists. Returns whether anything new was resolved.
    fn resolve_fwds(&self, kept: &Kept<'_>, cls: &[u32], fwd: &mut [u32]) -> bool {
        let ty = |k: usize| &self.store[k];
        let any_fwd = (0..kept.len()).any(|k| fwd[k] == k as u32 && fwd_key(ty(k)).is_some());
        if !any_fwd {
            return false;
        }
        // key -> (first full type, its class, unique?)
        let mut full: FastMap<(u32, u32, u32), (u32, u32, bool)> = FastMap::default();
        for (k, &c) in cls.iter().enumerate() {
            if let Some(key) = full_key(ty(k)) {
                full.entry(key)
                    .and_modify(|e| {
                        if e.1 != c {
                            e.2 = false;
                        }
                    })
                    .or_insert((k as u32, c, true));
            }
        }
        let mut changed = false;
        for (k, f) in fwd.iter_mut().enumerate() {
            if *f != k as u32 {
                continue;
            }
            if let Some(key) = fwd_key(ty(k)) {
                if let Some(&(target, _, true)) = full.get(&key) {
                    *f = target;
                    changed = true;
                }
            }
        }
        changed
    }

    /// Keep one type per equivalence class (its canonical member, or failing that the lowest
    /// member that is not redirected), drop redirected types, renumber densely from 1 in
    /// original order, and rewrite every reference. Returns old id -> new id (0 when dropped
    /// without a target). References to a removed type become void; a DECL_TAG whose target
    /// was removed is dropped, and DECL_TAGs that become identical are kept once.
    pub fn compact(&mut self, eq: &Equivalence, redirects: &[(TypeId, Redirect)]) -> TypeRemap {
        let n = self.len();
        let redirect = RedirectTable::new(n, redirects);
        let survivor = self.survivors(eq, &redirect);
        let mut rep = self.representatives(eq, &redirect, &survivor, redirects.len());
        drop(survivor);
        drop(redirect);
        self.drop_dead_decl_tags(&mut rep);
        let (map, _) = new_ids(&rep);
        self.keep_survivors(&rep, &map);
        for ty in self.store.iter_mut().skip(1) {
            ty.for_each_ref_mut(|r| *r = map.get(r.0 as usize).copied().unwrap_or(TypeId(0)));
        }
        self.pos = Vec::new();
        // Ids changed: `append` bases no longer describe the container.
        self.appended.clear();
        self.ids = Vec::new();
        self.interner = None;
        self.decl_ids = Vec::new();
        self.decl_start = Vec::new();
        self.pool = Default::default();
        TypeRemap { map }
    }
}

impl Btf {
    /// Class survivors by the position of the class's canonical member (which is always a
    /// stored type: the lowest id of a class is never an alias slot): the canonical member if
    /// not redirected, else the lowest member not redirected (`u32::MAX` if every member is).
    fn survivors(&self, eq: &Equivalence, redirect: &RedirectTable) -> Vec<u32> {
        let mut survivor = vec![u32::MAX; self.store.len()];
        for t in 0..self.len() {
            let c = canon_of(eq, t, self.len());
            let Some(slot) = self.position(c).and_then(|p| survivor.get_mut(p)) else {
                continue;
            };
            if redirect.get(c).is_none() {
                *slot = c as u32;
            } else if *slot == u32::MAX && redirect.get(t).is_none() {
                *slot = t as u32;
            }
        }
        survivor
    }

    /// rep[t] = old id of the type standing for t in the output (`u32::MAX`: none; 0: void),
    /// following redirects (at most as many steps as there are redirects).
    fn representatives(
        &self,
        eq: &Equivalence,
        redirect: &RedirectTable,
        survivor: &[u32],
        steps: usize,
    ) -> Vec<u32> {
        let n = self.len();
        let survivor_of = |c: usize| {
            self.position(c)
                .and_then(|p| survivor.get(p))
                .copied()
                .unwrap_or(u32::MAX)
        };
        let mut rep = vec![u32::MAX; n];
        rep[0] = 0;
        for (t, r) in rep.iter_mut().enumerate().skip(1) {
            let mut cur = t;
            for _ in 0..=steps {
                match redirect.get(cur) {
                    Some(Redirect::Remove) => break,
                    Some(Redirect::To(to)) => {
                        if to.0 as usize >= n {
                            break;
                        }
                        if to.0 == 0 {
                            *r = 0;
                            break;
                        }
                        cur = to.0 as usize;
                    }
                    None => {
                        *r = survivor_of(canon_of(eq, cur, n));
                        break;
                    }
                }
            }
        }
        rep
    }

    /// DECL_TAGs: drop those whose target vanished, keep identical ones once.
    fn drop_dead_decl_tags(&self, rep: &mut [u32]) {
        let mut tags: FastMap<(u32, u32, i32), u32> = FastMap::default();
        for t in 1..rep.len() {
            if rep[t] != t as u32 {
                continue;
            }
            if let Some(BtfType::DeclTag {
                name,
                ty,
                component_idx,
            }) = self.ty(t)
            {
                let target = rep.get(ty.0 as usize).copied().unwrap_or(u32::MAX);
                if target == u32::MAX || (target == 0 && ty.0 != 0) {
                    rep[t] = u32::MAX;
                } else {
                    let first = *tags
                        .entry((name.0, target, *component_idx))
                        .or_insert(t as u32);
                    rep[t] = first;
                }
            }
        }
    }
}

/// The canonical member of `t`'s class (`t` itself for ids the equivalence does not cover).
fn canon_of(eq: &Equivalence, t: usize, n: usize) -> usize {
    let c = eq.canon(TypeId(t as u32)).0 as usize;
    if c < n {
        c
    } else {
        t
    }
}

/// Old id -> new id: survivors (`rep[t] == t`) numbered densely from 1 in original order, every
/// other id the new id of its representative (0 when that is no survivor). Returns the map and the
/// number of ids of the output (void included). Computed in place: a survivor's entry is its
/// own new id, which the second pass reads and never changes.
fn new_ids(rep: &[u32]) -> (Vec<TypeId>, u32) {
    let mut map = vec![TypeId(0); rep.len()];
    let mut next = 1u32;
    for (t, &r) in rep.iter().enumerate().skip(1) {
        if r == t as u32 {
            map[t] = TypeId(next);
            next += 1;
        }
    }
    for t in 1..rep.len() {
        let r = rep[t] as usize;
        if r != t {
            // Only a survivor's new id counts (a representative that stopped surviving, a
            // DECL_TAG kept once under another id, gives none).
            let survives = rep.get(r) == Some(&(r as u32));
            map[t] = if survives { map[r] } else { TypeId(0) };
        }
    }
    (map, next)
}

/// The redirects of `compact`, by id: a bit per id says whether one exists, a sorted list says
/// which (the last one given for an id wins). An id-indexed table of options would be the
/// link's largest (eight bytes for each of up to millions of ids, for a few thousand redirects).
struct RedirectTable {
    bits: Vec<u64>,
    sorted: Vec<(u32, Redirect)>,
}

impl RedirectTable {
    fn new(n: usize, redirects: &[(TypeId, Redirect)]) -> RedirectTable {
        let mut sorted: Vec<(u32, Redirect)> = redirects
            .iter()
            .filter(|(id, _)| id.0 != 0 && (id.0 as usize) < n)
            .map(|&(id, r)| (id.0, r))
            .collect();
        // Stable, then keep the last of each id.
        sorted.sort_by_key(|&(id, _)| id);
        let mut dedup: Vec<(u32, Redirect)> = Vec::with_capacity(sorted.len());
        for e in sorted {
            match dedup.last_mut() {
                Some(last) if last.0 == e.0 => *last = e,
                _ => dedup.push(e),
            }
        }
        let mut bits = vec![0u64; n.div_ceil(64)];
        for &(id, _) in &dedup {
            bits[id as usize / 64] |= 1 << (id % 64);
        }
        RedirectTable {
            bits,
            sorted: dedup,
        }
    }

    fn get(&self, t: usize) -> Option<Redirect> {
        let word = self.bits.get(t / 64)?;
        if word & (1 << (t % 64)) == 0 {
            return None;
        }
        let at = self
            .sorted
            .binary_search_by_key(&(t as u32), |e| e.0)
            .ok()?;
        Some(self.sorted[at].1)
    }
}

impl Btf {
    /// Leave in `store` the surviving types in id order (void first), where their new ids
    /// (`map`) put them: the stored survivors stay in the store's own buffer (kept in place, so
    /// the types are never held twice), and each class surviving as an alias slot gets a copy
    /// of its kept type at its place (few: a class whose canonical member was redirected).
    fn keep_survivors(&mut self, rep: &[u32], map: &[TypeId]) {
        let survives = |t: usize| rep.get(t) == Some(&(t as u32));
        let copies: Vec<(usize, BtfType)> = (1..self.len())
            .filter(|&t| survives(t) && self.is_alias(TypeId(t as u32)))
            .filter_map(|t| Some((map.get(t)?.0 as usize, self.ty(t)?.clone())))
            .collect();
        let ids = &self.ids;
        let mut p = 0;
        self.store.retain(|_| {
            let id = ids.get(p).map_or(p, |&id| id as usize);
            p += 1;
            id == 0 || survives(id)
        });
        self.place_copies(copies);
    }

    /// Insert `copies` (new id, type; in id order) among the kept types, which move up to make
    /// room: one pass from the back.
    pub(super) fn place_copies(&mut self, copies: Vec<(usize, BtfType)>) {
        debug_assert!(copies.windows(2).all(|w| w[0].0 < w[1].0));
        debug_assert!(copies.first().is_none_or(|c| c.0 >= 1));
        let mut src = self.store.len();
        self.store.resize(src + copies.len(), BtfType::Void);
        let mut dst = self.store.len();
        for (at, ty) in copies.into_iter().rev() {
            while dst - 1 > at && src > 0 {
                dst -= 1;
                src -= 1;
                self.store.swap(src, dst);
            }
            dst -= 1;
            self.store[dst] = ty;
        }
    }
}

/// Reference implementation of `refine` for tests: re-examines whole classes. Shares no step
/// with `refine` (only `Flat` and `Grouper`), so that it checks the worklist's bookkeeping.
#[cfg(test)]
fn refine_simple(cls: &mut [u32], nclasses: usize, refs: &Flat) -> usize {
    let mut r = Simple::new(cls, nclasses, refs);
    while let Some(c) = r.work.pop_front() {
        let c = c as usize;
        r.in_work[c] = false;
        let Some(ngroups) = r.group(c, refs) else {
            continue;
        };
        let keep = r.largest(ngroups);
        r.split(c, ngroups, keep);
        r.queue_referrers(keep);
    }
    r.nclasses
}

/// State of `refine_simple`: the classes as ranges `elems[cstart[c]..cend[c]]`, the worklist,
/// the predecessor lists, and buffers reused from one class to the next.
#[cfg(test)]
struct Simple<'a> {
    cls: &'a mut [u32],
    nclasses: usize,
    pred_start: Vec<u32>,
    preds: Vec<u32>,
    cstart: Vec<u32>,
    cend: Vec<u32>,
    elems: Vec<u32>,
    work: VecDeque<u32>,
    in_work: Vec<bool>,
    sigs: Flat,
    grouper: Grouper,
    group_of: Vec<u32>,
    members: Vec<u32>,
    sizes: Vec<u32>,
    group_class: Vec<u32>,
    group_pos: Vec<u32>,
}

/// Predecessors (who references whom) of `n` types (takes their references; gives them in
/// CSR form: `preds[start[t]..start[t+1]]`).
#[cfg(test)]
fn simple_predecessors(n: usize, refs: &Flat) -> (Vec<u32>, Vec<u32>) {
    let mut pred_start = vec![0u32; n + 1];
    for &r in &refs.words {
        pred_start[r as usize + 1] += 1;
    }
    for i in 0..n {
        pred_start[i + 1] += pred_start[i];
    }
    let mut fill = pred_start.clone();
    let mut preds = vec![0u32; refs.words.len()];
    for t in 0..n {
        for &r in refs.get(t) {
            preds[fill[r as usize] as usize] = t as u32;
            fill[r as usize] += 1;
        }
    }
    drop(fill);
    (pred_start, preds)
}

/// Members of each class as contiguous ranges of `elems` (takes the class of each type and the
/// number of classes; gives each class's start and end, and `elems`; counting sort, stable by id).
#[cfg(test)]
fn simple_class_ranges(cls: &[u32], nclasses: usize) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let mut cstart = vec![0u32; nclasses + 1];
    for &c in cls.iter() {
        cstart[c as usize + 1] += 1;
    }
    for c in 0..nclasses {
        cstart[c + 1] += cstart[c];
    }
    let mut cend: Vec<u32> = cstart[..nclasses].to_vec();
    let mut elems = vec![0u32; cls.len()];
    for (t, &c) in cls.iter().enumerate() {
        elems[cend[c as usize] as usize] = t as u32;
        cend[c as usize] += 1;
    }
    cstart.truncate(nclasses);
    (cstart, cend, elems)
}

#[cfg(test)]
impl<'a> Simple<'a> {
    /// The state for refining `cls` (takes the classes, their number and the references),
    /// with every class that can split queued.
    fn new(cls: &'a mut [u32], nclasses: usize, refs: &Flat) -> Simple<'a> {
        let (pred_start, preds) = simple_predecessors(cls.len(), refs);
        let (cstart, cend, elems) = simple_class_ranges(cls, nclasses);
        let mut work: VecDeque<u32> = VecDeque::new();
        let mut in_work = vec![false; nclasses];
        for c in 0..nclasses {
            if cend[c] - cstart[c] > 1 {
                work.push_back(c as u32);
                in_work[c] = true;
            }
        }
        Simple {
            cls,
            nclasses,
            pred_start,
            preds,
            cstart,
            cend,
            elems,
            work,
            in_work,
            sigs: Flat::with_capacity(0),
            grouper: Grouper::default(),
            group_of: Vec::new(),
            members: Vec::new(),
            sizes: Vec::new(),
            group_class: Vec::new(),
            group_pos: Vec::new(),
        }
    }

    /// Group all members of class `c` by signature (takes the references; leaves the members
    /// and groups in `members` and `group_of`), giving the number of groups, or `None` when
    /// the class stays whole.
    fn group(&mut self, c: usize, refs: &Flat) -> Option<usize> {
        let (s, e) = (self.cstart[c] as usize, self.cend[c] as usize);
        if e - s <= 1 {
            return None;
        }
        self.members.clear();
        self.members.extend_from_slice(&self.elems[s..e]);
        self.sigs.clear();
        for &t in &self.members {
            let t = t as usize;
            self.sigs
                .words
                .extend(refs.get(t).iter().map(|&r| self.cls[r as usize]));
            self.sigs.finish_item();
        }
        let ngroups = self.grouper.group(&self.sigs, &mut self.group_of);
        (ngroups != 1).then_some(ngroups)
    }

    /// Count the members of each group (fills `sizes`), giving the group that keeps the class
    /// id: the largest (first on ties); the others move to new classes.
    fn largest(&mut self, ngroups: usize) -> usize {
        self.sizes.clear();
        self.sizes.resize(ngroups, 0);
        for &g in &self.group_of {
            self.sizes[g as usize] += 1;
        }
        let mut keep = 0;
        for g in 1..ngroups {
            if self.sizes[g] > self.sizes[keep] {
                keep = g;
            }
        }
        keep
    }

    /// Split class `c` into its groups (takes their number and the kept group): the groups
    /// laid out in order over the class's range, each member moved to its group's place and
    /// class.
    fn split(&mut self, c: usize, ngroups: usize, keep: usize) {
        self.group_class.clear();
        self.group_pos.clear();
        let mut at = self.cstart[c];
        for g in 0..ngroups {
            let size = self.sizes[g];
            let class = if g == keep {
                c as u32
            } else {
                self.nclasses += 1;
                self.in_work.push(false);
                (self.nclasses - 1) as u32
            };
            self.group_class.push(class);
            self.group_pos.push(at);
            if g == keep {
                self.cstart[c] = at;
                self.cend[c] = at + size;
            } else {
                self.cstart.push(at);
                self.cend.push(at + size);
            }
            at += size;
        }
        for (i, &t) in self.members.iter().enumerate() {
            let g = self.group_of[i] as usize;
            self.elems[self.group_pos[g] as usize] = t;
            self.group_pos[g] += 1;
            self.cls[t as usize] = self.group_class[g];
        }
    }

    /// Queue the classes of the types referencing a member that left the kept group (takes
    /// that group): they may now differ from their class mates.
    fn queue_referrers(&mut self, keep: usize) {
        for (i, &t) in self.members.iter().enumerate() {
            if self.group_of[i] as usize == keep {
                continue;
            }
            let t = t as usize;
            let (a, b) = (self.pred_start[t] as usize, self.pred_start[t + 1] as usize);
            for &p in &self.preds[a..b] {
                let q = self.cls[p as usize] as usize;
                if !self.in_work[q] && self.cend[q] - self.cstart[q] > 1 {
                    self.in_work[q] = true;
                    self.work.push_back(q as u32);
                }
            }
        }
    }
}

#[cfg(test)]
mod refine_tests {
    use super::*;

    /// Class of each item as its lowest member (a partition-independent labelling).
    fn lowest(cls: &[u32]) -> Vec<u32> {
        let mut low: FastMap<u32, u32> = FastMap::default();
        for (t, &c) in cls.iter().enumerate() {
            low.entry(c).or_insert(t as u32);
        }
        cls.iter().map(|c| low[c]).collect()
    }

    #[test]
    fn worklist_refinement_matches_reference() {
        let mut seed: u64 = 42;
        let mut rnd = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) % m.max(1)) as u32
        };
        for round in 0..3000 {
            let n = 1 + rnd(if round % 10 == 0 { 400 } else { 40 }) as usize;
            let kinds = 1 + rnd(4) as usize;
            // Items of one initial class have the same number of references.
            let arity: Vec<u32> = (0..kinds).map(|_| rnd(3)).collect();
            let init: Vec<u32> = (0..n).map(|_| rnd(kinds as u64)).collect();
            let mut refs = Flat::with_capacity(n);
            for &k in &init {
                for _ in 0..arity[k as usize] {
                    refs.words.push(rnd(n as u64));
                }
                refs.finish_item();
            }
            let mut a = init.clone();
            let mut b = init.clone();
            let na = refine(&mut a, kinds, &refs);
            let nb = refine_simple(&mut b, kinds, &refs);
            assert_eq!(lowest(&a), lowest(&b), "round {round}: n={n} init={init:?}");
            assert_eq!(na, nb);
        }
    }

    #[test]
    fn long_chains_are_not_quadratic() {
        // Two chains of 200k anonymous pointers differing only at their ends: every level
        // splits, one after the other.
        let len = 200_000usize;
        let n = 2 * len + 2;
        let mut init = vec![0u32; n];
        init[n - 2] = 1; // the two chain ends: different shallow classes
        init[n - 1] = 2;
        let mut refs = Flat::with_capacity(n);
        for t in 0..n - 2 {
            let chain = t / len;
            let next = if t % len == len - 1 {
                n - 2 + chain
            } else {
                t + 1
            };
            refs.words.push(next as u32);
            refs.finish_item();
        }
        refs.finish_item();
        refs.finish_item();
        let t0 = std::time::Instant::now();
        let classes = refine(&mut init, 3, &refs);
        assert_eq!(classes, n, "every pointer is distinct");
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            t0.elapsed()
        );
    }
}
