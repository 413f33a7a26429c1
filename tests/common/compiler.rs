//! Which compiler's fixtures the tests use: takes a compiler (clang 14 or clang 19) and a
//! fixture stem, gives that compiler's object under `fixtures/`, and runs a test body once per
//! compiler. Shared by `tests/common` and `tests/load_support` (included by path).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The compiler whose fixtures a test links: every fixture is committed twice, as built by
/// clang 14 (`fixtures/<scenario>/`) and by clang 19 (`fixtures/<scenario>/clang19/`), see
/// `scripts/build-fixtures.sh`. The C sources are the same, so are the expected values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compiler {
    Clang14,
    Clang19,
}

impl Compiler {
    pub const ALL: [Compiler; 2] = [Compiler::Clang14, Compiler::Clang19];

    /// As in messages: "clang 14".
    pub fn name(self) -> &'static str {
        match self {
            Compiler::Clang14 => "clang 14",
            Compiler::Clang19 => "clang 19",
        }
    }

    /// As `scripts/build-fixtures.sh` and `BPFMERGE_TEST_COMPILER` spell it: "clang14".
    pub fn id(self) -> &'static str {
        match self {
            Compiler::Clang14 => "clang14",
            Compiler::Clang19 => "clang19",
        }
    }

    /// The folder of this compiler's objects inside `fixtures/<scenario>/`.
    fn subdir(self) -> Option<&'static str> {
        match self {
            Compiler::Clang14 => None,
            Compiler::Clang19 => Some("clang19"),
        }
    }
}

std::thread_local! {
    static COMPILER: std::cell::Cell<Compiler> = const { std::cell::Cell::new(Compiler::Clang14) };
}

/// The compiler whose fixtures `fixture_path` names on this thread (clang 14 outside
/// [`for_each_compiler`]). It is per thread: a thread spawned inside the body starts at clang
/// 14, so resolve fixture paths before spawning.
pub fn compiler() -> Compiler {
    COMPILER.with(|c| c.get())
}

/// The compilers to run: both, or the one `BPFMERGE_TEST_COMPILER=clang14|clang19` names (to
/// narrow down a failure).
pub fn compilers() -> Vec<Compiler> {
    match std::env::var("BPFMERGE_TEST_COMPILER").as_deref() {
        Err(_) | Ok("") => Compiler::ALL.to_vec(),
        Ok(id) => vec![Compiler::ALL
            .into_iter()
            .find(|c| c.id() == id)
            .unwrap_or_else(|| panic!("BPFMERGE_TEST_COMPILER={id}: expected clang14 or clang19"))],
    }
}

/// Runs `body` once per compiler, with every fixture path resolving to that compiler's set.
/// Each compiler runs even when another failed; then the test fails with every failure, each
/// prefixed by its compiler ("[clang 19] ...").
pub fn for_each_compiler(body: impl Fn()) {
    let mut failures = Vec::new();
    for cc in compilers() {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| with_compiler(cc, &body)));
        if let Err(p) = r {
            failures.push(format!("[{}] {}", cc.name(), panic_message(p.as_ref())));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs `body` with every fixture path resolving to `cc`'s set (restored afterwards, also when
/// `body` panics).
pub fn with_compiler<T>(cc: Compiler, body: impl FnOnce() -> T) -> T {
    struct Restore(Compiler);
    impl Drop for Restore {
        fn drop(&mut self) {
            COMPILER.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(COMPILER.with(|c| c.replace(cc)));
    body()
}

/// `fixtures/<scenario>/[clang19/][weak/]<file>.o` for a stem "scenario/file": compiler
/// `cc`'s object, its `weak/` variant when `weak`.
pub fn fixture_path_cc(stem: &str, weak: bool, cc: Compiler) -> PathBuf {
    let (scenario, file) = stem
        .split_once('/')
        .unwrap_or_else(|| panic!("fixture stem {stem:?} is not scenario/file"));
    let mut p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(scenario);
    p.extend(cc.subdir());
    if weak {
        p.push("weak");
    }
    p.join(format!("{file}.o"))
}

/// `tests/load_support/<file>`, an object built by hand from its C source there, of the current
/// compiler (clang 19's is in `tests/load_support/clang19/`).
pub fn support_object(file: &str) -> PathBuf {
    let mut p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/load_support");
    p.extend(compiler().subdir());
    p.join(file)
}

/// The message of a caught panic.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".to_string())
}
