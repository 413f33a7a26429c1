//! `cargo bench --bench link [-- ARGS]`: the link benchmark of issues 5 and 13.
//!
//! Runs `scripts/bench.py` (corpus generation with clang for the five profiles small, medium,
//! heavy, core and large; alternating timed runs of bpfmerge and `bpftool gen object`; load
//! checks; the tables in `docs/bench.md` and README.md) on the bpfmerge binary that cargo has just
//! built in the bench (release) profile. ARGS go to the script, e.g.
//! `cargo bench --bench link -- --quick` (every profile in a few minutes) or
//! `cargo bench --bench link -- --profiles small --size small=10,100 --no-doc`.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/bench.py");
    // cargo passes `--bench` to harness = false targets; the script accepts and ignores it.
    let status = Command::new("python3")
        .arg(script)
        .arg("--bpfmerge")
        .arg(env!("CARGO_BIN_EXE_bpfmerge"))
        .args(std::env::args_os().skip(1))
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => {
            eprintln!("scripts/bench.py failed: {s}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("cannot run python3 {script}: {e}");
            ExitCode::FAILURE
        }
    }
}
