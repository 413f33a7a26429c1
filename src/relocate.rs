//! Takes the layout (with concatenated section bytes), the resolved symbols and the map plan,
//! gives every output section its relocations: offsets shifted with their piece, targets moved
//! to output symbols (dropped map definitions to their survivor), and instruction immediates or
//! data addends patched where a reference was section-relative.

use object::Endianness;

use crate::error::{Error, Result};
use crate::input::{reloc, Input, SecKind};
use crate::layout::{Layout, OutReloc};
use crate::maps::MapPlan;
use crate::resolve::{SymRef, Symbols};

const BPF_CALL_OPCODE: u8 = 0x85;

fn read_u32(e: Endianness, b: &[u8]) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    match e {
        Endianness::Little => u32::from_le_bytes(a),
        Endianness::Big => u32::from_be_bytes(a),
    }
}

fn write_u32(e: Endianness, b: &mut [u8], v: u32) {
    let a = match e {
        Endianness::Little => v.to_le_bytes(),
        Endianness::Big => v.to_be_bytes(),
    };
    b[..4].copy_from_slice(&a);
}

fn read_u64(e: Endianness, b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    match e {
        Endianness::Little => u64::from_le_bytes(a),
        Endianness::Big => u64::from_be_bytes(a),
    }
}

fn write_u64(e: Endianness, b: &mut [u8], v: u64) {
    let a = match e {
        Endianness::Little => v.to_le_bytes(),
        Endianness::Big => v.to_be_bytes(),
    };
    b[..8].copy_from_slice(&a);
}

/// The implicit addend stored at a relocated place.
fn addend(e: Endianness, r_type: u32, at: &[u8]) -> i64 {
    match r_type {
        // ld_imm64: low half in insn[0].imm, high half in insn[1].imm.
        reloc::R64_64 => {
            (u64::from(read_u32(e, &at[4..8])) | (u64::from(read_u32(e, &at[12..16])) << 32)) as i64
        }
        reloc::R64_32 => i64::from(read_u32(e, &at[4..8]) as i32),
        reloc::ABS64 => read_u64(e, at) as i64,
        _ => i64::from(read_u32(e, at)),
    }
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
                            let v = addend(e, r.r_type, at).wrapping_add(d);
                            set_addend(e, r.r_type, at, v);
                        }
                        symbols.section_sym[sec_id.0]
                    }
                    SymRef::MapsSection => {
                        // A section-relative reference into `.maps` (a static map): find the
                        // definition at that offset and point at the merged map itself.
                        let a = addend(e, r.r_type, at);
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
