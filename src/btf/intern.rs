//! Streaming type interning: takes one input's freshly parsed types (section-local ids), gives
//! which of them are exact copies of a type an earlier input already added, so that a link keeps
//! and refines one copy of each shared type (the others become alias slots of the container).
//!
//! Only types that reach no reference cycle are matched here, bottom-up: a type's key is its
//! shallow signature (the one `equivalence` starts from) followed by the kept ids its references
//! stand for, so equal keys mean equal types all the way down. Matching is exact and only joins
//! types that the final `equivalence` joins too; that stage still decides everything else
//! (cycles, forward declarations), so the classes it finds, and the output, do not change.

use super::dedup::shallow;
use super::hash::{hash_words, FastMap};
use super::{BtfType, TypeId};

/// `canon` value of a type not visited yet.
const UNSEEN: u32 = u32::MAX;
/// `canon` value of a type on the walk's path (a reference to it closes a cycle).
const ON_PATH: u32 = u32::MAX - 1;
/// `canon` value of a type that is not matched: kept as it is, and so are the types using it.
const UNMATCHED: u32 = u32::MAX - 2;

/// The types kept by earlier inputs that later copies are matched against, by exact key.
#[derive(Clone, Debug, Default)]
pub(super) struct Interner {
    /// Key hash -> first entry with that hash.
    heads: FastMap<u64, u32>,
    /// Per entry: the next entry with the same hash (`u32::MAX`: none), its kept type, its key.
    next: Vec<u32>,
    ids: Vec<TypeId>,
    key_at: Vec<(u32, u32)>,
    words: Vec<u32>,
}

/// One input's walk: canonical id per local id, and the keys of the types it keeps.
struct Walk<'a> {
    types: &'a [BtfType],
    base: u32,
    /// Local id -> the kept id it stands for (0 = void), or one of the markers above.
    canon: Vec<u32>,
    /// Keys of the input's own matchable types, to register once the input is done.
    own: Vec<(u32, (u32, u32))>,
    own_words: Vec<u32>,
    key: Vec<u32>,
}

impl Interner {
    /// Match the types of one input (`types[i]` has local id `i + 1`, references local) that
    /// will be appended after id `base`. Returns, per local type, the kept type it is a copy of.
    pub(super) fn match_input(&mut self, types: &[BtfType], base: u32) -> Vec<Option<TypeId>> {
        let mut walk = Walk {
            types,
            base,
            canon: vec![UNSEEN; types.len() + 1],
            own: Vec::new(),
            own_words: Vec::new(),
            key: Vec::new(),
        };
        walk.canon[0] = 0;
        let mut stack = Vec::new();
        let mut refs = Vec::new();
        for root in 1..=types.len() {
            if walk.canon[root] == UNSEEN {
                self.visit(&mut walk, root as u32, &mut stack, &mut refs);
            }
        }
        self.register(&walk);
        (1..=types.len())
            .map(|t| {
                let c = walk.canon[t];
                (c < UNMATCHED && c <= base && c != 0).then_some(TypeId(c))
            })
            .collect()
    }

    /// Depth-first walk from `root`, deciding each type after its references (post-order).
    fn visit(&self, walk: &mut Walk<'_>, root: u32, stack: &mut Vec<Frame>, refs: &mut Vec<u32>) {
        stack.clear();
        refs.clear();
        walk.enter(root, stack, refs);
        while let Some(top) = stack.last_mut() {
            if top.next < top.end {
                let r = refs[top.next];
                top.next += 1;
                if walk.canon[r as usize] == UNSEEN {
                    walk.enter(r, stack, refs);
                }
                continue;
            }
            let Frame { t, start, end, .. } = *top;
            stack.pop();
            let decided = self.decide(walk, t, &refs[start..end]);
            walk.canon[t as usize] = decided;
            refs.truncate(start);
        }
    }

    /// The kept id type `t` stands for: an earlier input's copy, itself, or `UNMATCHED`.
    fn decide(&self, walk: &mut Walk<'_>, t: u32, refs: &[u32]) -> u32 {
        let ty = &walk.types[t as usize - 1];
        if !matchable(ty) || refs.iter().any(|&r| !walk.usable_ref(r)) {
            return UNMATCHED;
        }
        walk.key.clear();
        shallow(t, ty, &mut walk.key);
        for &r in refs {
            walk.key.push(walk.canon[r as usize]);
        }
        if let Some(id) = self.find(&walk.key) {
            return id.0;
        }
        let at = walk.own_words.len() as u32;
        walk.own_words.extend_from_slice(&walk.key);
        walk.own.push((t, (at, walk.key.len() as u32)));
        walk.base + t
    }

    fn find(&self, key: &[u32]) -> Option<TypeId> {
        let mut e = *self.heads.get(&hash_words(key))?;
        while e != u32::MAX {
            if self.key(e as usize) == key {
                return Some(self.ids[e as usize]);
            }
            e = self.next[e as usize];
        }
        None
    }

    fn key(&self, e: usize) -> &[u32] {
        let (at, len) = self.key_at[e];
        &self.words[at as usize..(at + len) as usize]
    }

    /// Make the input's kept types findable by later inputs, in id order (the first of two
    /// equal keys wins, so a later copy always stands for the lowest id).
    fn register(&mut self, walk: &Walk<'_>) {
        let mut own = walk.own.clone();
        own.sort_unstable_by_key(|&(t, _)| t);
        for (t, (at, len)) in own {
            let key = &walk.own_words[at as usize..(at + len) as usize];
            if self.find(key).is_some() {
                continue;
            }
            let e = self.ids.len() as u32;
            let h = hash_words(key);
            let prev = self.heads.insert(h, e).unwrap_or(u32::MAX);
            self.next.push(prev);
            self.ids.push(TypeId(walk.base + t));
            self.key_at.push((self.words.len() as u32, len));
            self.words.extend_from_slice(key);
        }
    }
}

/// A type on the walk's path: its references are `refs[start..end]`, `next` is the next to visit.
#[derive(Clone, Copy)]
struct Frame {
    t: u32,
    start: usize,
    next: usize,
    end: usize,
}

impl Walk<'_> {
    fn enter(&mut self, t: u32, stack: &mut Vec<Frame>, refs: &mut Vec<u32>) {
        self.canon[t as usize] = ON_PATH;
        let start = refs.len();
        self.types[t as usize - 1].for_each_ref(|r| refs.push(r.0));
        stack.push(Frame {
            t,
            start,
            next: start,
            end: refs.len(),
        });
    }

    /// A reference a matched type may have: to void or to a decided, matchable type that is
    /// not a function prototype (a prototype's users are counted per input when extern
    /// functions are resolved, so they stay in their input).
    fn usable_ref(&self, r: u32) -> bool {
        if r == 0 {
            return true;
        }
        let c = self.canon[r as usize];
        c < UNMATCHED && !matches!(self.types[r as usize - 1], BtfType::FuncProto { .. })
    }
}

/// Kinds matched while streaming. VAR, DATASEC, FUNC and DECL_TAG stay in their input: the
/// link rebuilds sections, resolves symbols and folds functions per input through them.
fn matchable(t: &BtfType) -> bool {
    !matches!(
        t,
        BtfType::Void
            | BtfType::Var { .. }
            | BtfType::Datasec { .. }
            | BtfType::Func { .. }
            | BtfType::DeclTag { .. }
    )
}
