//! Reuse of list buffers while streaming: takes the member, enumerator and parameter lists of
//! appended types that turned out to be copies (alias slots store nothing), gives them back to
//! the parser for the next input's types, so a link of many similar inputs does not allocate
//! and free a list for every copy.

use super::{BtfType, EnumValue, Member, Param};

/// Emptied lists, by element type. Holds at most about one input's worth (what the last input
/// gave back), and only while a link streams (`Btf::compact` drops it).
#[derive(Clone, Debug, Default)]
pub(super) struct ListPool {
    members: Vec<Vec<Member>>,
    values: Vec<Vec<EnumValue>>,
    params: Vec<Vec<Param>>,
}

impl ListPool {
    pub(super) fn members(&mut self, n: usize) -> Vec<Member> {
        take(&mut self.members, n)
    }

    pub(super) fn values(&mut self, n: usize) -> Vec<EnumValue> {
        take(&mut self.values, n)
    }

    pub(super) fn params(&mut self, n: usize) -> Vec<Param> {
        take(&mut self.params, n)
    }

    /// Keep the lists of a type that is not stored.
    pub(super) fn recycle(&mut self, t: BtfType) {
        match t {
            BtfType::Struct { members, .. } | BtfType::Union { members, .. } => {
                give(&mut self.members, members)
            }
            BtfType::Enum { values, .. } | BtfType::Enum64 { values, .. } => {
                give(&mut self.values, values)
            }
            BtfType::FuncProto { params, .. } => give(&mut self.params, params),
            _ => {}
        }
    }
}

/// An empty list with room for `n` (a pooled one when there is one).
fn take<T>(pool: &mut Vec<Vec<T>>, n: usize) -> Vec<T> {
    match pool.pop() {
        Some(mut v) => {
            v.reserve(n);
            v
        }
        None => Vec::with_capacity(n),
    }
}

fn give<T>(pool: &mut Vec<Vec<T>>, mut v: Vec<T>) {
    if v.capacity() > 0 {
        v.clear();
        pool.push(v);
    }
}
