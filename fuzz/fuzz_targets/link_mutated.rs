//! The whole link of a mutated object with an intact one (in both orders). Errors are fine; an
//! object that links must come out as an object the linker itself reads again (never a broken
//! file), and linking that output again must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

const GOOD: &[&[u8]] = &[
    include_bytes!("../../fixtures/seed/handler.o"),
    include_bytes!("../../fixtures/statics/b.o"),
    include_bytes!("../../fixtures/globals/lib.o"),
    include_bytes!("../../fixtures/init/decl.o"),
];

fn check(objects: &[(String, &[u8])]) {
    let Ok((out, _)) = bpfmerge::link_bytes(objects) else {
        return;
    };
    if let Err(e) = bpfmerge::input::parse("out.o", &out) {
        panic!("linked output does not parse again: {e}");
    }
    if let Err(e) = bpfmerge::inspect_bytes("out.o", &out) {
        panic!("linked output cannot be inspected: {e}");
    }
    let _ = bpfmerge::link_bytes(&[("out.o".to_string(), &out)]);
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, obj)) = data.split_first() else {
        return;
    };
    let good = GOOD[which as usize % GOOD.len()];
    check(&[("mutated.o".to_string(), obj), ("good.o".to_string(), good)]);
    if which & 0x80 != 0 {
        check(&[("good.o".to_string(), good), ("mutated.o".to_string(), obj)]);
    }
});
