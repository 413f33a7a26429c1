//! Takes the layout (with concatenated section bytes), the resolved symbols and the map plan,
//! gives every output section its relocations: offsets moved with their piece (and past folded
//! definitions cut out of it), targets moved to output symbols (dropped map definitions to
//! their survivor), and instruction immediates or data addends patched where a reference was
//! section-relative.

use object::{Endian as _, Endianness};

use crate::error::{Error, Result};
use crate::input::{implicit_addend, reloc, Input, Reloc, SecIdx, SecKind};
use crate::layout::{Layout, OutReloc};
use crate::maps::MapPlan;
use crate::resolve::{SymRef, Symbols};

const BPF_CALL_OPCODE: u8 = 0x85;

fn write_u32(e: Endianness, b: &mut [u8], v: u32) {
    b[..4].copy_from_slice(&e.write_u32(v));
}

fn write_u64(e: Endianness, b: &mut [u8], v: u64) {
    b[..8].copy_from_slice(&e.write_u64(v));
}

fn set_addend(e: Endianness, r_type: u32, at: &mut [u8], v: i64) {
    match r_type {
        reloc::R64_64 => {
            write_u32(e, &mut at[4..8], v as u64 as u32);
            write_u32(e, &mut at[12..16], ((v as u64) >> 32) as u32);
        }
        reloc::R64_32 => write_u32(e, &mut at[4..8], v as i32 as u32),
        reloc::ABS64 => write_u64(e, at, v as u64),
        _ => write_u32(e, at, v as u32),
    }
}

/// Whether a section-relative reference's addend counts instructions (a call: the target is
/// instruction `imm + 1` of the section) rather than bytes.
fn is_call(r_type: u32, at: &[u8]) -> Result<bool, String> {
    if r_type != reloc::R64_32 {
        return Ok(false);
    }
    if at[0] != BPF_CALL_OPCODE {
        return Err(format!(
            "R_BPF_64_32 on an instruction with opcode {:#04x}, not a call",
            at[0]
        ));
    }
    Ok(true)
}

/// The new addend of a section-relative reference to input section `sec` of input `i`: its
/// target moved to where that byte landed (the piece's place, less any folded definitions cut
/// out before it).
fn moved_addend(
    layout: &Layout,
    i: usize,
    sec: SecIdx,
    r_type: u32,
    at: &[u8],
    e: Endianness,
) -> Result<i64, String> {
    let old = implicit_addend(e, r_type, at);
    let call = is_call(r_type, at)?;
    let target = if call {
        old.wrapping_add(1).wrapping_mul(8)
    } else {
        old
    };
    let moved = u64::try_from(target)
        .ok()
        .and_then(|t| layout.map(i, sec, t))
        .map(|(_, o)| o as i64);
    match (moved, layout.placed(i, sec)) {
        (Some(o), _) => Ok(if call { o / 8 - 1 } else { o }),
        // Past the end or before the start of the section: moved with the piece.
        (None, Some((_, base))) if !layout.cuts.contains_key(&(i, sec)) => {
            Ok(old.wrapping_add(if call { (base / 8) as i64 } else { base as i64 }))
        }
        _ => Err(format!(
            "refers to offset {target} of its section, inside a folded definition"
        )),
    }
}

/// Relocate every kept input section into the layout, then add the `.values` initialisers.
pub fn relocate(
    inputs: &[Input<'_>],
    layout: &mut Layout,
    symbols: &Symbols,
    maps: &MapPlan,
) -> Result<()> {
    for (i, input) in inputs.iter().enumerate() {
        for (s, sec) in input.sections.iter().enumerate() {
            let relocs = input.relocs(SecIdx(s));
            if relocs.is_empty()
                || matches!(
                    sec.kind,
                    SecKind::Maps | SecKind::Dropped | SecKind::Btf | SecKind::BtfExt
                )
            {
                continue;
            }
            let cx = Cx {
                i,
                input,
                sec: SecIdx(s),
                symbols,
                maps,
            };
            for (n, r) in relocs.iter().enumerate() {
                cx.relocation(layout, n, r)?;
            }
        }
    }
    values_initialisers(inputs, layout, symbols, maps)
}

/// One input section being relocated.
struct Cx<'a> {
    i: usize,
    input: &'a Input<'a>,
    sec: SecIdx,
    symbols: &'a Symbols,
    maps: &'a MapPlan,
}

impl Cx<'_> {
    fn bad(&self, n: usize, why: String) -> Error {
        Error::BadObject {
            file: self.input.name.clone(),
            reason: format!(
                "section {}: relocation {n}: {why}",
                self.input.section(self.sec).name
            ),
        }
    }

    /// Relocation `n`: moved to where its place landed (dropped with a folded definition),
    /// its target made an output symbol, a section-relative addend moved with its target.
    fn relocation(&self, layout: &mut Layout, n: usize, r: &Reloc) -> Result<()> {
        let (i, e) = (self.i, self.input.endian);
        let width = crate::input::reloc_width(r.r_type).unwrap_or(0) as usize;
        // Inside a folded (cut) definition: gone with it.
        let Some((out_id, off)) = layout.map(i, self.sec, r.offset) else {
            return Ok(());
        };
        let off = off as usize;
        let target = self.symbols.refs[i][r.sym().0];
        let moved = match (target, self.input.symbols[r.sym().0].section()) {
            (SymRef::Section { .. }, Some(tsec)) => {
                let at = layout.sections[out_id.0]
                    .data
                    .get(off..off + width)
                    .ok_or_else(|| self.bad(n, "lies outside the section".into()))?;
                let v = moved_addend(layout, i, tsec, r.r_type, at, e);
                Some(v.map_err(|w| self.bad(n, w))?)
            }
            _ => None,
        };
        let out = &mut layout.sections[out_id.0];
        let Some(at) = out.data.get_mut(off..off + width) else {
            return Err(self.bad(n, "lies outside the section".into()));
        };
        let sym = match target {
            SymRef::Section { out } => {
                if let Some(v) = moved {
                    set_addend(e, r.r_type, at, v);
                }
                self.symbols.section_sym[out as usize]
            }
            SymRef::MapsSection => self.static_map(n, r.r_type, at)?,
            SymRef::Dropped => {
                return Err(self.bad(
                    n,
                    format!(
                        "refers to symbol `{}`, which is in a section that is not linked",
                        self.input.symbols[r.sym().0].name
                    ),
                ))
            }
            other => self.symbols.index_of(other).unwrap_or(0),
        };
        out.relocs.push(OutReloc {
            offset: off as u64,
            sym,
            r_type: r.r_type,
        });
        Ok(())
    }

    /// A section-relative reference into `.maps` (a static map): the merged map defined at
    /// that offset, with the addend made relative to it.
    fn static_map(&self, n: usize, r_type: u32, at: &mut [u8]) -> Result<u32> {
        let (i, e) = (self.i, self.input.endian);
        let a = implicit_addend(e, r_type, at);
        let Some(mid) = u64::try_from(a)
            .ok()
            .and_then(|a| self.maps.at_offset(i, a))
        else {
            return Err(self.bad(
                n,
                format!("refers to .maps offset {a}, where no map is defined"),
            ));
        };
        let def_off = self.maps.maps[mid.0]
            .defs
            .iter()
            .find(|d| d.input == i && !d.is_extern && d.offset as i64 <= a)
            .map_or(0, |d| d.offset as i64);
        set_addend(e, r_type, at, a - def_off);
        Ok(self.symbols.map_sym[mid.0])
    }
}

/// `.values` initialisers of the merged maps: one ABS64 relocation per slot.
fn values_initialisers(
    inputs: &[Input<'_>],
    layout: &mut Layout,
    symbols: &Symbols,
    maps: &MapPlan,
) -> Result<()> {
    let Some(maps_id) = layout.maps else {
        return Ok(());
    };
    let out = &mut layout.sections[maps_id.0];
    for m in &maps.maps {
        let Some(voff) = m.survivor().fields.values_offset else {
            continue;
        };
        for (&slot, target) in &m.slots {
            let resolved = match target.map {
                Some(mid) => symbols.map_sym.get(mid.0).copied(),
                None => symbols.index_of(symbols.refs[target.input][target.sym.0]),
            };
            let Some(sym) = resolved else {
                let input = &inputs[target.input];
                return Err(Error::BadObject {
                    file: input.name.clone(),
                    reason: format!(
                        "map {}: .values slot {slot} refers to symbol `{}`, which is in a \
                         section that is not linked",
                        m.name, input.symbols[target.sym.0].name
                    ),
                });
            };
            out.relocs.push(OutReloc {
                offset: m.out_offset + voff + 8 * slot,
                sym,
                r_type: reloc::ABS64,
            });
        }
    }
    Ok(())
}
