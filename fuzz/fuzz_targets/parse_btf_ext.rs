//! The `.BTF.ext` parser against the real `.BTF` of a fixture (chosen by the first byte), then
//! remapping, merging and encoding of what it gives.
#![no_main]

use bpfmerge::btf::ext::BtfExt;
use bpfmerge::btf::Btf;
use libfuzzer_sys::fuzz_target;
use object::Endianness;

const OBJECTS: &[&[u8]] = &[
    include_bytes!("../../fixtures/core/enter.o"),
    include_bytes!("../../fixtures/seed/entry.o"),
    include_bytes!("../../fixtures/statics/a.o"),
    include_bytes!("../../fixtures/globals/main.o"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&which, ext)) = data.split_first() else {
        return;
    };
    let obj = OBJECTS[which as usize % OBJECTS.len()];
    let input = bpfmerge::input::parse("fixture.o", obj).expect("fixture parses");
    let btf_data = input.btf.expect("fixture has BTF");
    let mut btf = Btf::new();
    let app = btf.append(btf_data).expect("fixture BTF parses");
    let Ok(mut parsed) = BtfExt::parse(ext, btf_data, app.base, &mut btf) else {
        return;
    };
    let mut merged = BtfExt::default();
    merged.merge(&parsed, |_| 8);
    merged.merge(&parsed, |_| 0);
    let eq = btf.equivalence();
    let remap = btf.compact(&eq, &[]);
    parsed.remap_types(&remap);
    merged.remap_types(&remap);
    let _ = parsed.encode(Endianness::Little);
    let _ = merged.encode(Endianness::Big);
});
