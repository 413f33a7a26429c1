//! Takes the layout (with concatenated section bytes), the resolved symbols and the map plan,
//! gives every output section its relocations: offsets shifted with their piece, targets moved
//! to output symbols (dropped map definitions to their survivor), and instruction immediates or
//! data addends patched where a reference was section-relative.

use object::{Endian as _, Endianness};

use crate::error::{Error, Result};
use crate::input::{implicit_addend, reloc, Input, SecKind};
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

/// Byte distance `delta` moved a section-relative target: the change to the stored addend.
fn addend_delta(r_type: u32, at: &[u8], delta: u64) -> Result<i64, String> {
    match r_type {
        reloc::R64_32 => {
            if at[0] != BPF_CALL_OPCODE {
                return Err(format!(
                    "R_BPF_64_32 on an instruction with opcode {:#04x}, not a call",
                    at[0]
                ));
            }
            // Call immediates count instructions.
            Ok((delta / 8) as i64)
        }
        _ => Ok(delta as i64),
    }
}

/// Relocate every kept input section into the layout.
pub fn relocate(
    inputs: &[Input<'_>],
    layout: &mut Layout,
    symbols: &Symbols,
    maps: &MapPlan,
) -> Result<()> {
    for (i, input) in inputs.iter().enumerate() {
        let e = input.endian;
        for (s, sec) in input.sections.iter().enumerate() {
            if sec.relocs.is_empty()
                || matches!(
                    sec.kind,
                    SecKind::Maps | SecKind::Dropped | SecKind::Btf | SecKind::BtfExt
                )
            {
                continue;
            }
            let Some((out_id, piece)) = layout.placed(i, crate::input::SecIdx(s)) else {
                continue;
            };
            let out = &mut layout.sections[out_id.0];
            let bad = |n: usize, why: String| Error::BadObject {
                file: input.name.clone(),
                reason: format!("section {}: relocation {n}: {why}", sec.name),
            };
            for (n, r) in sec.relocs.iter().enumerate() {
                let width = crate::input::reloc_width(r.r_type).unwrap_or(0) as usize;
                let off = (piece + r.offset) as usize;
                let target = symbols.refs[i][r.sym.0];
                let Some(at) = out.data.get_mut(off..off + width) else {
                    return Err(bad(n, "lies outside the section".into()));
                };
                let sym = match target {
                    SymRef::Section(sec_id, base) => {
                        if base != 0 {
                            let d = addend_delta(r.r_type, at, base).map_err(|w| bad(n, w))?;
                            let v = implicit_addend(e, r.r_type, at).wrapping_add(d);
                            set_addend(e, r.r_type, at, v);
                        }
                        symbols.section_sym[sec_id.0]
                    }
                    SymRef::MapsSection => {
                        // A section-relative reference into `.maps` (a static map): find the
                        // definition at that offset and point at the merged map itself.
                        let a = implicit_addend(e, r.r_type, at);
                        let Some(mid) = u64::try_from(a).ok().and_then(|a| maps.at_offset(i, a))
                        else {
                            return Err(bad(
                                n,
                                format!("refers to .maps offset {a}, where no map is defined"),
                            ));
                        };
                        let def_off = maps.maps[mid.0]
                            .defs
                            .iter()
                            .find(|d| d.input == i && !d.is_extern && d.offset as i64 <= a)
                            .map_or(0, |d| d.offset as i64);
                        set_addend(e, r.r_type, at, a - def_off);
                        symbols.map_sym[mid.0]
                    }
                    SymRef::Dropped => {
                        return Err(bad(
                            n,
                            format!(
                                "refers to symbol `{}`, which is in a section that is not linked",
                                input.symbols[r.sym.0].name
                            ),
                        ))
                    }
                    other => symbols.index_of(other).unwrap_or(0),
                };
                out.relocs.push(OutReloc {
                    offset: off as u64,
                    sym,
                    r_type: r.r_type,
                });
            }
        }
    }

    // `.values` initialisers of the merged maps.
    if let Some(maps_id) = layout.maps {
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
    }
    Ok(())
}
