//! Takes the input objects one at a time (name and bytes), gives what the later stages work on:
//! each input's records (its bytes freed once read), the merged BTF with each input's place in
//! it, the `.BTF.ext` records gathered per section, and the layout builder holding the copied
//! sections.

use crate::btf::ext::BtfExt;
use crate::btf::{Appended, Btf};
use crate::error::{Error, Result};
use crate::ext_records::ExtRecords;
use crate::input::{self, Input, SymbolNames};
use crate::layout::LayoutBuilder;
use crate::link::Bytes;

/// Everything streamed from the inputs.
pub(crate) struct Streamed {
    /// Each input's records, in input order.
    pub inputs: Vec<Input<'static>>,
    pub btf: Btf,
    /// Per input, where its types went in `btf` (None: the input has no `.BTF`).
    pub appended: Vec<Option<Appended>>,
    pub exts: ExtRecords,
    pub builder: LayoutBuilder,
}

/// Stream the `count` objects: each one is parsed, its BTF appended, its `.BTF.ext` parsed and
/// its sections copied into the layout, and then its bytes are freed. With `collect_sections`
/// (a check), section conflicts are gathered in the builder instead of stopping the link.
pub(crate) fn stream<'a>(
    count: usize,
    objects: impl Iterator<Item = Result<(String, Bytes<'a>)>>,
    collect_sections: bool,
) -> Result<Streamed> {
    let mut streamed = Streamed::new(count, collect_sections);
    let mut names = SymbolNames::default();
    for object in objects {
        let (name, bytes) = object?;
        streamed.add(&name, &bytes, &mut names, count)?;
    }
    Ok(streamed)
}

impl Streamed {
    fn new(count: usize, collect_sections: bool) -> Streamed {
        let mut builder = LayoutBuilder::new();
        if collect_sections {
            builder.section_conflicts = Some(Vec::new());
        }
        Streamed {
            inputs: Vec::with_capacity(count),
            btf: Btf::for_linking(),
            appended: Vec::with_capacity(count),
            exts: ExtRecords::new(count),
            builder,
        }
    }

    /// One input (of `count`): parsed, checked against the first one's byte order, its BTF
    /// and `.BTF.ext` merged, its sections copied; its records kept.
    fn add(
        &mut self,
        name: &str,
        bytes: &[u8],
        names: &mut SymbolNames,
        count: usize,
    ) -> Result<()> {
        let inp = input::parse_sharing(name, bytes, names)?;
        self.check_byte_order(&inp)?;
        let app = self.append_btf(&inp, count)?;
        let ext = self.parse_ext(&inp, app)?;
        self.builder.add(&inp)?;
        if self.inputs.is_empty() {
            self.builder.reserve_like_first(count - 1);
        }
        self.exts.add(ext, &self.btf);
        self.appended.push(app);
        self.inputs.push(inp.detach());
        Ok(())
    }

    /// Every input has the first one's byte order.
    fn check_byte_order(&self, inp: &Input<'_>) -> Result<()> {
        match self.inputs.first() {
            Some(first) if inp.endian != first.endian => Err(Error::MixedEndian {
                file: inp.name.clone(),
                found: endian_name(inp.endian),
                first_file: first.name.clone(),
                expected: endian_name(first.endian),
            }),
            _ => Ok(()),
        }
    }

    /// The input's `.BTF` appended to the merged BTF (the first one's size reserves room for
    /// all `count`).
    fn append_btf(&mut self, inp: &Input<'_>, count: usize) -> Result<Option<Appended>> {
        let Some(raw) = inp.btf else {
            return Ok(None);
        };
        let app = self.btf.append(raw).map_err(|e| e.in_file(&inp.name))?;
        if self.inputs.is_empty() {
            reserve_types_like_first(&mut self.btf, app, count);
        }
        Ok(Some(app))
    }

    /// The input's `.BTF.ext`, read against its types' place `app` in the merged BTF.
    fn parse_ext(&mut self, inp: &Input<'_>, app: Option<Appended>) -> Result<Option<BtfExt>> {
        match (app, inp.btf_ext, inp.btf) {
            (Some(app), Some(raw_ext), Some(raw_btf)) => {
                BtfExt::parse(raw_ext, raw_btf, app.base, &mut self.btf)
                    .map(Some)
                    .map_err(|e| e.in_file(&inp.name))
            }
            _ => Ok(None),
        }
    }

    /// No more input comes: the growth slack of the streamed collections is released.
    pub fn end(&mut self) {
        self.btf.end_streaming();
        self.builder.shrink_to_fit();
    }
}

fn endian_name(e: object::Endianness) -> &'static str {
    match e {
        object::Endianness::Little => "little-endian",
        object::Endianness::Big => "big-endian",
    }
}

/// Room for `count` inputs of the first one's size, so the type table is not grown by
/// doubling and copied while streaming (slack that later inputs leave untouched costs no
/// page, and it is released after streaming).
fn reserve_types_like_first(btf: &mut Btf, first: Appended, count: usize) {
    let rest = (first.count as usize).saturating_mul(count.saturating_sub(1));
    btf.reserve_types(rest);
}
