//! The `.BTF` parser, then everything the linker does with parsed BTF: equivalence (dedup),
//! compaction and encoding. An encoded result must parse again with the same number of types.
#![no_main]

use bpfmerge::btf::Btf;
use libfuzzer_sys::fuzz_target;
use object::Endianness;

fuzz_target!(|data: &[u8]| {
    let mut btf = Btf::new();
    let Ok(app) = btf.append(data) else { return };
    // Append twice: the second copy must deduplicate against the first.
    let Ok(_) = btf.append(data) else {
        panic!("the same BTF parsed once and failed the second time")
    };
    let _ = (0..=app.count)
        .map(|i| btf.display(bpfmerge::btf::TypeId(i)))
        .count();
    let eq = btf.equivalence();
    let _ = btf.compact(&eq, &[]);
    for endian in [Endianness::Little, Endianness::Big] {
        let bytes = btf.encode(endian);
        let mut again = Btf::new();
        again.append(&bytes).expect("encoded BTF must parse again");
    }
});
