//! Link rules found wrong on real projects' objects (kernel selftests, libbpf-tools, sched-ext),
//! checked on the linked ELF and on link-time errors; the scenarios that also run programs in
//! the kernel are in tests/link_kernel.rs (`hidden_vis`, ...). docs/link.md names each rule.

mod common;

use std::path::{Path, PathBuf};

use common::{bpfmerge, fixture, for_each_compiler, TempDir};

/// Link `stems` (fixture stems) into `dir/name.o`; panics with bpfmerge's stderr on failure.
fn link_ok(dir: &TempDir, name: &str, stems: &[&str]) -> PathBuf {
    let out = dir.join(&format!("{name}.o"));
    let mut args: Vec<PathBuf> = stems.iter().map(|s| fixture(s)).collect();
    args.push("-o".into());
    args.push(out.clone());
    let r = bpfmerge(&args);
    assert_eq!(r.code, Some(0), "linking {stems:?}: {}", r.stderr);
    out
}

/// (binding, visibility) of every symbol called `name` in the object at `path`.
fn bind_and_visibility(path: &Path, name: &str) -> Vec<(u8, u8)> {
    let bytes = std::fs::read(path).unwrap();
    let elf = goblin::elf::Elf::parse(&bytes).unwrap();
    elf.syms
        .iter()
        .filter(|s| elf.strtab.get_at(s.st_name) == Some(name))
        .map(|s| (s.st_bind(), s.st_visibility()))
        .collect()
}

const STB_GLOBAL: u8 = 1;
const STV_DEFAULT: u8 = 0;
const STV_HIDDEN: u8 = 2;

/// Visibility is contaminating (libbpf's linker.c, linker_append_elf_sym): the strictest
/// visibility of any symbol of the name — the definition, an extern declaration, a losing weak
/// definition — is the output symbol's, whatever the input order. def.c's definitions are
/// DEFAULT; use.c's extern of take_second and weak.c's weak take_third are HIDDEN.
#[test]
fn visibility_is_the_strictest_of_every_symbol_of_the_name() {
    for_each_compiler(|| {
        let dir = TempDir::new("visibility_is_the_strictest_of_every_symbol_of_the_name");
        let orders: [&[&str]; 3] = [
            &["hidden_vis/use", "hidden_vis/def", "hidden_vis/weak"],
            &["hidden_vis/def", "hidden_vis/use", "hidden_vis/weak"],
            &["hidden_vis/weak", "hidden_vis/def", "hidden_vis/use"],
        ];
        for (n, order) in orders.iter().enumerate() {
            let out = link_ok(&dir, &format!("order{n}"), order);
            for name in ["take_second", "take_third"] {
                assert_eq!(
                    bind_and_visibility(&out, name),
                    [(STB_GLOBAL, STV_HIDDEN)],
                    "{name} in the link of {order:?}"
                );
            }
            // A name nobody marks hidden keeps its default visibility.
            assert_eq!(
                bind_and_visibility(&out, "xdp_vis_def"),
                [(STB_GLOBAL, STV_DEFAULT)]
            );
        }
        // def.c alone: nothing says hidden.
        let alone = link_ok(&dir, "alone", &["hidden_vis/def"]);
        assert_eq!(
            bind_and_visibility(&alone, "take_second"),
            [(STB_GLOBAL, STV_DEFAULT)]
        );
    });
}
