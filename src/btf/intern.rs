//! Streaming type interning: takes one input's freshly parsed types (section-local ids), gives
//! which of them are copies of a type an earlier input already added, so that a link keeps and
//! refines one copy of each shared type (the others become alias slots of the container).
//!
//! Three passes per input, each only joining types that are bisimilar (so the final
//! `equivalence`, which still decides everything else, finds the same classes and the output
//! does not change):
//! 1. types that reach no reference cycle, bottom-up: a type's key is its shallow signature
//!    (the one `equivalence` starts from) followed by the kept ids its references stand for;
//!    equal keys mean equal types all the way down;
//! 2. structs and unions on or above a cycle: a walk of the input's type and a kept candidate
//!    with the same shallow signature side by side, assuming each pair it meets equal until a
//!    difference shows (so cycles close), like libbpf's BTF dedup;
//! 3. what is left, keyed bottom-up again now that the walks decided the cycles.

use super::dedup::shallow;
use super::hash::{hash_words, FastMap};
use super::{Btf, BtfType, TypeId, FUNC_EXTERN};

/// `canon` markers (every real id is below them).
const UNSEEN: u32 = u32::MAX;
/// On the current walk's path: a reference to it closes a cycle.
const ON_PATH: u32 = u32::MAX - 1;
/// Never matched: not a matchable kind, or it uses one that is not.
const BARRED: u32 = u32::MAX - 2;
/// On or above a cycle: left to the walks and the last pass.
const CYCLIC: u32 = u32::MAX - 3;
/// Candidates kept per shallow signature for the walks (bounds failed walks per type).
const MAX_CANDIDATES: usize = 8;
/// Work the walks of one input may do, per type and reference of the input (a pair checked
/// costs one, plus one per reference it compares: a struct's members). A walk that fails can
/// visit a whole cyclic component before the difference shows, and every struct of the
/// component may start one (objects built against another kernel's headers): past this budget
/// the input's remaining cyclic types are left to the last pass, which keeps them (the link
/// stays linear; `equivalence` still merges them, so the output is the same).
const WALK_BUDGET_PER_ITEM: usize = 16;

/// The types kept by earlier inputs that later copies are matched against.
#[derive(Clone, Debug, Default)]
pub(super) struct Interner {
    /// Exact keys: hash -> first entry; per entry the next with that hash, the kept type, its key.
    heads: FastMap<u64, u32>,
    next: Vec<u32>,
    ids: Vec<TypeId>,
    key_at: Vec<(u32, u32)>,
    words: Vec<u32>,
    /// Kept structs and unions on or above a cycle, by the hash of their shallow signature.
    cyclic: FastMap<u64, Vec<TypeId>>,
}

/// One input's matching state.
struct Walk<'a> {
    types: &'a [BtfType],
    base: u32,
    /// Local id -> the kept id it stands for (0 = void), or a marker above.
    canon: Vec<u32>,
    /// Prototypes of extern functions: their users stay in the input (extern functions'
    /// prototypes are redirected by how many types of the input use them).
    protected: Vec<bool>,
    /// Keys of the input's own kept types (local id, range in `own_words`).
    own: Vec<(u32, (u32, u32))>,
    own_words: Vec<u32>,
    key: Vec<u32>,
    /// Structs and unions on or above a cycle that the input keeps (candidates for later walks).
    cycle_kept: Vec<u32>,
    /// References of the types entered so far (after pass 1: all of the input's).
    refs_seen: usize,
}

/// A type on the depth-first path: its references are `refs[start..end]`, `next` is the next.
#[derive(Clone, Copy)]
struct Frame {
    t: u32,
    start: usize,
    next: usize,
    end: usize,
}

/// Which bottom-up pass runs: the first (from unseen types) or the last (from cyclic ones).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Acyclic,
    Rest,
}

impl Btf {
    /// With an interner (`for_linking`): per type of `parsed` (local ids, to be appended after
    /// `base`), the kept type it copies (empty without an interner).
    pub(super) fn match_copies(&mut self, parsed: &[BtfType], base: u32) -> Vec<Option<TypeId>> {
        let Some(mut interner) = self.interner.take() else {
            return Vec::new();
        };
        let matched = interner.match_input(self, parsed, base);
        self.interner = Some(interner);
        matched
    }
}

impl Interner {
    /// Match the types of one input (`types[i]` has local id `i + 1`, references local) that
    /// will be appended to `btf` after id `base`. Returns, per local type, the kept type it
    /// is a copy of.
    fn match_input(&mut self, btf: &Btf, types: &[BtfType], base: u32) -> Vec<Option<TypeId>> {
        let mut walk = Walk::new(types, base);
        self.bottom_up(&mut walk, Pass::Acyclic);
        self.walk_cycles(btf, &mut walk);
        self.bottom_up(&mut walk, Pass::Rest);
        self.register(&mut walk);
        (1..=types.len())
            .map(|t| {
                let c = walk.canon[t];
                (c != 0 && c <= base).then_some(TypeId(c))
            })
            .collect()
    }

    /// Decide every type still marked `from` after its references (iterative post-order).
    fn bottom_up(&self, walk: &mut Walk<'_>, pass: Pass) {
        let from = match pass {
            Pass::Acyclic => UNSEEN,
            Pass::Rest => CYCLIC,
        };
        let mut stack = Vec::new();
        let mut refs = Vec::new();
        for root in 1..walk.canon.len() as u32 {
            if walk.canon[root as usize] != from {
                continue;
            }
            walk.enter(root, &mut stack, &mut refs);
            while let Some(top) = stack.last_mut() {
                if top.next < top.end {
                    let r = refs[top.next];
                    top.next += 1;
                    if walk.canon[r as usize] == from {
                        walk.enter(r, &mut stack, &mut refs);
                    }
                    continue;
                }
                let Frame { t, start, end, .. } = *top;
                stack.pop();
                walk.canon[t as usize] = self.decide(walk, t, &refs[start..end], pass);
                refs.truncate(start);
            }
        }
    }

    /// The kept id type `t` stands for (an earlier input's copy, or itself), or a marker.
    fn decide(&self, walk: &mut Walk<'_>, t: u32, refs: &[u32], pass: Pass) -> u32 {
        let ty = &walk.types[t as usize - 1];
        if !matchable(ty) {
            return BARRED;
        }
        let mut open = false;
        for &r in refs {
            if walk.bars(r) {
                return BARRED;
            }
            open |= matches!(walk.canon[r as usize], ON_PATH | CYCLIC);
        }
        if pass == Pass::Acyclic && open {
            return CYCLIC;
        }
        walk.key.clear();
        shallow(t, ty, &mut walk.key);
        for &r in refs {
            // In the last pass a reference back up the path is a type kept as it is.
            let c = match walk.canon[r as usize] {
                ON_PATH => walk.base + r,
                c => c,
            };
            walk.key.push(c);
        }
        if let Some(id) = self.find(&walk.key) {
            return id.0;
        }
        if pass == Pass::Rest && is_aggregate(ty) {
            walk.cycle_kept.push(t);
        }
        let at = walk.own_words.len() as u32;
        walk.own_words.extend_from_slice(&walk.key);
        walk.own.push((t, (at, walk.key.len() as u32)));
        walk.base + t
    }

    fn find(&self, key: &[u32]) -> Option<TypeId> {
        let mut e = *self.heads.get(&hash_words(key))?;
        while e != u32::MAX {
            let (at, len) = self.key_at[e as usize];
            let stored = &self.words[at as usize..(at + len) as usize];
            // Keys are short: a word loop is cheaper than a call to memcmp.
            if stored.len() == key.len() && stored.iter().zip(key).all(|(a, b)| a == b) {
                return Some(self.ids[e as usize]);
            }
            e = self.next[e as usize];
        }
        None
    }

    /// Pass 2: each struct or union on or above a cycle, tried against the kept candidates of
    /// its shallow signature in the order they were kept; the first walk that holds wins.
    fn walk_cycles(&self, btf: &Btf, walk: &mut Walk<'_>) {
        if self.cyclic.is_empty() {
            return;
        }
        let mut pair = PairWalk::new(walk.canon.len());
        pair.budget = WALK_BUDGET_PER_ITEM * (walk.types.len() + walk.refs_seen);
        for t in 1..walk.canon.len() as u32 {
            if pair.budget == 0 {
                return;
            }
            let ty = &walk.types[t as usize - 1];
            if walk.canon[t as usize] != CYCLIC || !is_aggregate(ty) {
                continue;
            }
            walk.key.clear();
            shallow(t, ty, &mut walk.key);
            let Some(candidates) = self.cyclic.get(&hash_words(&walk.key)) else {
                continue;
            };
            for &g in candidates {
                if pair.run(btf, walk, t, g) {
                    break;
                }
            }
        }
    }

    /// Make the input's kept types findable by later inputs, in id order (the first of two
    /// equal keys wins, so a copy always stands for the lowest id).
    fn register(&mut self, walk: &mut Walk<'_>) {
        walk.own.sort_unstable_by_key(|&(t, _)| t);
        for &(t, (at, len)) in &walk.own {
            let key = &walk.own_words[at as usize..(at + len) as usize];
            let id = TypeId(walk.base + t);
            if self.find(key).is_none() {
                self.add_key(key, id);
            }
        }
        for &t in &walk.cycle_kept {
            self.add_candidate(&walk.types[t as usize - 1], t, TypeId(walk.base + t));
        }
    }

    fn add_key(&mut self, key: &[u32], id: TypeId) {
        let e = self.ids.len() as u32;
        let prev = self.heads.insert(hash_words(key), e).unwrap_or(u32::MAX);
        self.next.push(prev);
        self.ids.push(id);
        self.key_at
            .push((self.words.len() as u32, key.len() as u32));
        self.words.extend_from_slice(key);
    }

    fn add_candidate(&mut self, ty: &BtfType, t: u32, id: TypeId) {
        let mut sig = Vec::new();
        shallow(t, ty, &mut sig);
        let list = self.cyclic.entry(hash_words(&sig)).or_default();
        if list.len() < MAX_CANDIDATES {
            list.push(id);
        }
    }
}

impl<'a> Walk<'a> {
    fn new(types: &'a [BtfType], base: u32) -> Walk<'a> {
        let mut canon = vec![UNSEEN; types.len() + 1];
        canon[0] = 0;
        let mut protected = vec![false; types.len() + 1];
        for t in types {
            if let BtfType::Func { proto, linkage, .. } = t {
                if *linkage == FUNC_EXTERN {
                    if let Some(p) = protected.get_mut(proto.0 as usize) {
                        *p = true;
                    }
                }
            }
        }
        Walk {
            types,
            base,
            canon,
            protected,
            own: Vec::new(),
            own_words: Vec::new(),
            key: Vec::new(),
            cycle_kept: Vec::new(),
            refs_seen: 0,
        }
    }

    fn enter(&mut self, t: u32, stack: &mut Vec<Frame>, refs: &mut Vec<u32>) {
        self.canon[t as usize] = ON_PATH;
        let start = refs.len();
        self.types[t as usize - 1].for_each_ref(|r| refs.push(r.0));
        self.refs_seen += refs.len() - start;
        stack.push(Frame {
            t,
            start,
            next: start,
            end: refs.len(),
        });
    }

    /// Whether a reference to `r` keeps its user from being matched.
    fn bars(&self, r: u32) -> bool {
        r != 0 && (self.canon[r as usize] == BARRED || self.protected[r as usize])
    }
}

/// The side-by-side walk of pass 2: local types paired with kept types under the assumption
/// that each pair is equal, checked pair by pair (shallow signatures, then references: decided
/// ones must stand for the same kept type, undecided ones are paired in turn).
struct PairWalk {
    /// Local id -> the kept type it is assumed equal to (0: none).
    assumed: Vec<u32>,
    /// Local ids assumed so far (to commit or forget), and those still to check.
    touched: Vec<u32>,
    todo: Vec<u32>,
    refs: (Vec<u32>, Vec<u32>),
    /// Work still allowed (see `WALK_BUDGET_PER_ITEM`).
    budget: usize,
}

impl PairWalk {
    fn new(n: usize) -> PairWalk {
        PairWalk {
            assumed: vec![0; n],
            touched: Vec::new(),
            todo: Vec::new(),
            refs: (Vec::new(), Vec::new()),
            budget: 0,
        }
    }

    /// Walk local `t` against kept `g`; when every pair holds, the local types become copies.
    fn run(&mut self, btf: &Btf, walk: &mut Walk<'_>, t: u32, g: TypeId) -> bool {
        self.assume(t, g.0);
        let holds = self.check_all(btf, walk);
        for &x in &self.touched {
            if holds {
                walk.canon[x as usize] = self.assumed[x as usize];
            }
            self.assumed[x as usize] = 0;
        }
        self.touched.clear();
        self.todo.clear();
        holds
    }

    fn assume(&mut self, t: u32, g: u32) {
        self.assumed[t as usize] = g;
        self.touched.push(t);
        self.todo.push(t);
    }

    fn check_all(&mut self, btf: &Btf, walk: &Walk<'_>) -> bool {
        while let Some(x) = self.todo.pop() {
            let Some(left) = self.budget.checked_sub(1) else {
                return false;
            };
            self.budget = left;
            if !self.check_pair(btf, walk, x) {
                return false;
            }
        }
        true
    }

    /// One assumed pair: same shallow signature, and each pair of references consistent.
    fn check_pair(&mut self, btf: &Btf, walk: &Walk<'_>, x: u32) -> bool {
        let g = self.assumed[x as usize];
        let (Some(local), Some(kept)) = (walk.types.get(x as usize - 1), btf.ty(g as usize)) else {
            return false;
        };
        if !same_shallow(local, kept) {
            return false;
        }
        let (refs_l, refs_k) = &mut self.refs;
        refs_l.clear();
        refs_k.clear();
        local.for_each_ref(|r| refs_l.push(r.0));
        kept.for_each_ref(|r| refs_k.push(btf.unalias(r).0));
        if refs_l.len() != refs_k.len() {
            return false;
        }
        let Some(left) = self.budget.checked_sub(refs_l.len()) else {
            self.budget = 0;
            return false;
        };
        self.budget = left;
        for i in 0..refs_l.len() {
            let (rl, rk) = (self.refs.0[i], self.refs.1[i]);
            if !self.check_ref(walk, rl, rk) {
                return false;
            }
        }
        true
    }

    fn check_ref(&mut self, walk: &Walk<'_>, rl: u32, rk: u32) -> bool {
        if rl == 0 || rk == 0 {
            return rl == rk;
        }
        match walk.canon[rl as usize] {
            CYCLIC => match self.assumed[rl as usize] {
                0 => {
                    self.assume(rl, rk);
                    true
                }
                a => a == rk,
            },
            BARRED | UNSEEN | ON_PATH => false,
            c => c == rk,
        }
    }
}

/// Kinds matched while streaming. VAR, DATASEC, FUNC and DECL_TAG stay in their input: the
/// link rebuilds sections, resolves symbols and folds functions per input through them.
pub(super) fn matchable(t: &BtfType) -> bool {
    !matches!(
        t,
        BtfType::Void
            | BtfType::Var { .. }
            | BtfType::Datasec { .. }
            | BtfType::Func { .. }
            | BtfType::DeclTag { .. }
    )
}

/// Whether `a` and `b` have equal shallow signatures (`dedup::shallow`) without building them;
/// FUNC, VAR, DATASEC and DECL_TAG, which walks never pair, are never equal here.
fn same_shallow(a: &BtfType, b: &BtfType) -> bool {
    use BtfType as T;
    match (a, b) {
        (
            T::Int { name, size, data },
            T::Int {
                name: n,
                size: s,
                data: d,
            },
        ) => (name, size, data) == (n, s, d),
        (T::Ptr { .. }, T::Ptr { .. })
        | (T::Volatile { .. }, T::Volatile { .. })
        | (T::Const { .. }, T::Const { .. })
        | (T::Restrict { .. }, T::Restrict { .. }) => true,
        (T::Float { name, size }, T::Float { name: n, size: s }) => (name, size) == (n, s),
        (T::Typedef { name, .. }, T::Typedef { name: n, .. })
        | (T::TypeTag { name, .. }, T::TypeTag { name: n, .. }) => name == n,
        (T::Array { nelems, .. }, T::Array { nelems: k, .. }) => nelems == k,
        (
            T::Fwd { name, is_union },
            T::Fwd {
                name: n,
                is_union: u,
            },
        ) => (name, is_union) == (n, u),
        (T::Struct { .. }, T::Struct { .. }) | (T::Union { .. }, T::Union { .. }) => {
            same_aggregate(a, b)
        }
        (T::Enum { .. }, T::Enum { .. }) | (T::Enum64 { .. }, T::Enum64 { .. }) => a == b,
        (T::FuncProto { params, .. }, T::FuncProto { params: p, .. }) => {
            params.len() == p.len() && params.iter().zip(p).all(|(x, y)| x.name == y.name)
        }
        _ => false,
    }
}

/// Struct or union: name, size, kind flag, and each member's name and offset.
fn same_aggregate(a: &BtfType, b: &BtfType) -> bool {
    use BtfType as T;
    let (
        T::Struct {
            name,
            size,
            kind_flag,
            members,
        }
        | T::Union {
            name,
            size,
            kind_flag,
            members,
        },
        T::Struct {
            name: n,
            size: s,
            kind_flag: k,
            members: m,
        }
        | T::Union {
            name: n,
            size: s,
            kind_flag: k,
            members: m,
        },
    ) = (a, b)
    else {
        return false;
    };
    (name, size, kind_flag) == (n, s, k)
        && members.len() == m.len()
        && members
            .iter()
            .zip(m)
            .all(|(x, y)| x.name == y.name && x.offset == y.offset)
}

/// Structs and unions: where pass 2's walks start.
fn is_aggregate(t: &BtfType) -> bool {
    matches!(t, BtfType::Struct { .. } | BtfType::Union { .. })
}
