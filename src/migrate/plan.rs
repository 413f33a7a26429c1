//! Shape pair -> [`Verdict`]: takes the shape of a pinned map's key or value and the shape the
//! new object declares, gives `Same`, a [`Conversion`] (members matched by name) or the reason
//! the stored bytes cannot follow, naming the member and both types.

use super::convert::Op;
use super::shape::{Field, Record, Shape};

/// What becomes of stored entries when the object's type replaces the pinned map's.
#[derive(Debug)]
pub enum Verdict {
    /// Same layout: the entries are used as they are.
    Same,
    /// Another layout that every entry can be converted to (values checked when converted).
    Convert(Conversion),
    /// Another layout the entries cannot follow, and why.
    Refused(String),
}

/// How one stored key or value becomes a new one.
#[derive(Debug)]
pub struct Conversion {
    pub old_size: u64,
    pub new_size: u64,
    pub(super) ops: Vec<Op>,
    /// One line per member that is not simply kept in place: `b: added (zeroed)`,
    /// `c: removed (dropped)`, `a: moved from byte 0 to 4`, `n: unsigned int -> unsigned long
    /// long`. Empty when only the position of nothing changed (e.g. an array grew).
    pub mapping: Vec<String>,
}

/// Compare `old` (what the pinned map holds) with `new` (what the object declares).
pub fn compare(old: &Shape, new: &Shape) -> Verdict {
    if old == new {
        return Verdict::Same;
    }
    let mut planner = Planner::default();
    match planner.convert(old, new, 0, 0, "") {
        Ok(()) => Verdict::Convert(Conversion {
            old_size: old.size(),
            new_size: new.size(),
            ops: planner.ops,
            mapping: planner.mapping,
        }),
        Err(reason) => Verdict::Refused(reason),
    }
}

/// The first difference between two shapes, for a refusal without `--migrate`; `None` when
/// they are the same.
pub fn first_difference(old: &Shape, new: &Shape) -> Option<String> {
    difference(old, new, "")
}

#[derive(Default)]
struct Planner {
    ops: Vec<Op>,
    mapping: Vec<String>,
}

impl Planner {
    /// Plan the conversion of `old` at byte `from` into `new` at byte `to`.
    fn convert(
        &mut self,
        old: &Shape,
        new: &Shape,
        from: u64,
        to: u64,
        path: &str,
    ) -> Result<(), String> {
        if old == new {
            self.ops.push(Op::Copy {
                from,
                to,
                len: old.size(),
            });
            return Ok(());
        }
        match (old, new) {
            (Shape::Int { .. } | Shape::Enum { .. }, Shape::Int { .. } | Shape::Enum { .. }) => {
                self.integer(old, new, from, to, path)
            }
            (Shape::Float { size: a, .. }, Shape::Float { size: b, .. }) if a == b => {
                self.ops.push(Op::Copy {
                    from,
                    to,
                    len: u64::from(*a),
                });
                Ok(())
            }
            (Shape::Struct(a), Shape::Struct(b)) => self.record(a, b, from, to, path),
            (Shape::Array { elem: ea, len: la }, Shape::Array { elem: eb, len: lb }) => {
                self.array(ea, *la, eb, *lb, from, to, path)
            }
            _ => Err(format!(
                "{}: {} cannot be converted to {}",
                describe_path(path),
                old.describe(),
                new.describe()
            )),
        }
    }

    fn integer(
        &mut self,
        old: &Shape,
        new: &Shape,
        from: u64,
        to: u64,
        path: &str,
    ) -> Result<(), String> {
        let (from_size, from_signed) = int_layout(old);
        let (to_size, to_signed) = int_layout(new);
        if !matches!(from_size, 1 | 2 | 4 | 8) || !matches!(to_size, 1 | 2 | 4 | 8) {
            return Err(format!(
                "{}: {} to {} (only 1-, 2-, 4- and 8-byte integers are converted)",
                describe_path(path),
                old.describe(),
                new.describe()
            ));
        }
        if (from_size, from_signed) == (to_size, to_signed) {
            self.ops.push(Op::Copy {
                from,
                to,
                len: u64::from(from_size),
            });
        } else {
            self.mapping.push(format!(
                "{}: {} -> {}",
                show(path),
                old.describe(),
                new.describe()
            ));
            self.ops.push(Op::Int {
                from,
                from_size,
                from_signed,
                to,
                to_size,
                to_signed,
                path: show(path).to_string(),
            });
        }
        Ok(())
    }

    fn record(
        &mut self,
        old: &Record,
        new: &Record,
        from: u64,
        to: u64,
        path: &str,
    ) -> Result<(), String> {
        check_names(old, path)?;
        check_names(new, path)?;
        for nf in &new.fields {
            let sub = join(path, &nf.name);
            match old.fields.iter().find(|of| of.name == nf.name) {
                Some(of) => self.member(of, nf, from, to, &sub)?,
                None => self.mapping.push(format!("{sub}: added (zeroed)")),
            }
        }
        for of in &old.fields {
            if !new.fields.iter().any(|nf| nf.name == of.name) {
                self.mapping
                    .push(format!("{}: removed (dropped)", join(path, &of.name)));
            }
        }
        Ok(())
    }

    fn member(
        &mut self,
        old: &Field,
        new: &Field,
        from: u64,
        to: u64,
        path: &str,
    ) -> Result<(), String> {
        if old.bit_offset != new.bit_offset {
            self.mapping.push(format!(
                "{path}: moved from bit {} to {}",
                old.bit_offset, new.bit_offset
            ));
        }
        if old.bitfield.is_some() || new.bitfield.is_some() {
            return self.bitfield(old, new, from, to, path);
        }
        if old.bit_offset % 8 != 0 || new.bit_offset % 8 != 0 {
            return Err(format!("{}: not byte-aligned", describe_path(path)));
        }
        let from = from + u64::from(old.bit_offset / 8);
        let to = to + u64::from(new.bit_offset / 8);
        self.convert(&old.shape, &new.shape, from, to, path)
    }

    /// A bitfield is carried only bit for bit: same width and same integer type.
    fn bitfield(
        &mut self,
        old: &Field,
        new: &Field,
        from: u64,
        to: u64,
        path: &str,
    ) -> Result<(), String> {
        if old.bitfield != new.bitfield || int_layout(&old.shape) != int_layout(&new.shape) {
            return Err(format!(
                "{}: bitfield {}:{} cannot be converted to {}:{}",
                describe_path(path),
                old.shape.describe(),
                old.bitfield.unwrap_or(0),
                new.shape.describe(),
                new.bitfield.unwrap_or(0)
            ));
        }
        if cfg!(target_endian = "big") {
            return Err(format!(
                "{}: moving bitfields is only supported on little-endian hosts",
                describe_path(path)
            ));
        }
        self.ops.push(Op::Bits {
            from_bit: from * 8 + u64::from(old.bit_offset),
            to_bit: to * 8 + u64::from(new.bit_offset),
            width: old.bitfield.unwrap_or(0),
        });
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn array(
        &mut self,
        old: &Shape,
        old_len: u32,
        new: &Shape,
        new_len: u32,
        from: u64,
        to: u64,
        path: &str,
    ) -> Result<(), String> {
        if new_len < old_len {
            return Err(format!(
                "{}: array shrinks from {old_len} to {new_len} elements",
                describe_path(path)
            ));
        }
        if new_len > old_len {
            self.mapping.push(format!(
                "{}: grows from {old_len} to {new_len} elements (new ones zeroed)",
                show(path)
            ));
        }
        for i in 0..u64::from(old_len) {
            let sub = format!("{}[{i}]", show(path));
            self.convert(old, new, from + i * old.size(), to + i * new.size(), &sub)?;
        }
        Ok(())
    }
}

/// Size and signedness of an integer or enum shape (0, false for anything else).
fn int_layout(s: &Shape) -> (u32, bool) {
    match s {
        Shape::Int { size, signed, .. } | Shape::Enum { size, signed, .. } => (*size, *signed),
        _ => (0, false),
    }
}

/// Members are matched by name: a record with anonymous or repeated member names cannot be
/// matched (unless it is unchanged, which `convert` handles before coming here).
fn check_names(r: &Record, path: &str) -> Result<(), String> {
    for (i, f) in r.fields.iter().enumerate() {
        if f.name.is_empty() {
            return Err(format!(
                "{}: struct {} has an anonymous member, which cannot be matched by name",
                describe_path(path),
                r.name
            ));
        }
        if r.fields[..i].iter().any(|g| g.name == f.name) {
            return Err(format!(
                "{}: member `{}` appears twice",
                describe_path(path),
                f.name
            ));
        }
    }
    Ok(())
}

fn difference(old: &Shape, new: &Shape, path: &str) -> Option<String> {
    if old == new {
        return None;
    }
    let here = || {
        Some(format!(
            "{}: {} ({} bytes) vs {} ({} bytes)",
            describe_path(path),
            old.describe(),
            old.size(),
            new.describe(),
            new.size()
        ))
    };
    match (old, new) {
        (Shape::Struct(a), Shape::Struct(b)) | (Shape::Union(a), Shape::Union(b))
            if a.name == b.name && a.size == b.size =>
        {
            record_difference(a, b, path).or_else(here)
        }
        (Shape::Array { elem: a, len: la }, Shape::Array { elem: b, len: lb }) if la == lb => {
            difference(a, b, &format!("{}[]", show(path)))
        }
        (
            Shape::Enum {
                name: a,
                values: va,
                ..
            },
            Shape::Enum {
                name: b,
                values: vb,
                ..
            },
        ) if a == b && old.size() == new.size() => Some(format!(
            "{}: {}: its values differ ({} in the pinned map, {} in the object)",
            describe_path(path),
            old.describe(),
            va.len(),
            vb.len()
        )),
        _ => here(),
    }
}

fn record_difference(old: &Record, new: &Record, path: &str) -> Option<String> {
    for (i, (a, b)) in old.fields.iter().zip(&new.fields).enumerate() {
        if a == b {
            continue;
        }
        let sub = join(path, &a.name);
        if a.name != b.name {
            return Some(format!(
                "{}: member {i} is `{}` in the pinned map, `{}` in the object",
                describe_path(path),
                a.name,
                b.name
            ));
        }
        if a.bit_offset != b.bit_offset || a.bitfield != b.bitfield {
            return Some(format!(
                "{}: at bit {} in the pinned map, bit {} in the object",
                describe_path(&sub),
                a.bit_offset,
                b.bit_offset
            ));
        }
        return difference(&a.shape, &b.shape, &sub);
    }
    let (n, m) = (old.fields.len(), new.fields.len());
    (n != m).then(|| {
        format!(
            "{}: {n} members in the pinned map, {m} in the object",
            describe_path(path)
        )
    })
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn show(path: &str) -> &str {
    if path.is_empty() {
        "(whole)"
    } else {
        path
    }
}

fn describe_path(path: &str) -> String {
    if path.is_empty() {
        "the type".into()
    } else {
        format!("member `{path}`")
    }
}
