//! The object parser and `inspect` on arbitrary bytes: errors are fine, panics and hangs are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bpfmerge::input::parse("fuzz.o", data);
    let _ = bpfmerge::inspect_bytes("fuzz.o", data);
});
