//! The library's one error type: every failure names the file, section, symbol or field involved.

use std::path::PathBuf;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while reading, linking, inspecting or loading objects.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    /// (The cause is part of the message, not a separate `source()`, so that printing the
    /// error chain does not repeat it.)
    #[error("{}: {err}", path.display())]
    Io { path: PathBuf, err: std::io::Error },
    /// An input is not a usable BPF object (bad ELF, wrong machine, broken table ...).
    #[error("{file}: {reason}")]
    BadObject { file: String, reason: String },
    /// A `.BTF` or `.BTF.ext` section is malformed. Wrapped in [`Error::InFile`] by callers.
    #[error("section {section}: {reason}")]
    BadBtf {
        section: &'static str,
        reason: String,
    },
    /// Two definitions of one map disagree on a field.
    #[error("{0}")]
    MapConflict(Box<MapConflict>),
    /// Two strong definitions of one global symbol. (The linker now reports
    /// [`Error::DifferentDefinitions`], naming the difference; identical ones fold.)
    #[error(
        "symbol `{name}` is defined in both {file_a} and {file_b}; \
         make one of them `static`, `__weak`, or an `extern` declaration"
    )]
    DuplicateSymbol {
        name: String,
        file_a: String,
        file_b: String,
    },
    /// Two strong definitions of one global that are not identical (so they do not fold).
    #[error(
        "symbol `{name}` is defined in both {file_a} and {file_b}, and the definitions differ: \
         {difference}; make them identical (then they fold into one), or make one of them \
         `static`, `__weak`, or an `extern` declaration"
    )]
    DifferentDefinitions {
        name: String,
        file_a: String,
        file_b: String,
        difference: String,
    },
    /// Two symbols of one name that cannot be the same thing (a function and a variable, ...).
    #[error("symbol `{name}`: {reason} ({file_a} and {file_b})")]
    SymbolMismatch {
        name: String,
        reason: String,
        file_a: String,
        file_b: String,
    },
    /// Two symbols of one global name (a definition and an extern, two externs, a weak and a
    /// strong definition) whose BTF types libbpf's linker would refuse to link.
    #[error("{0}")]
    IncompatibleTypes(Box<TypeConflict>),
    /// `license` or `version` sections that disagree.
    #[error(
        "section `{section}` differs: {file_a} has {value_a}, {file_b} has {value_b}; \
         give `{section}` the same value in every file (change it in {file_b})"
    )]
    SectionConflict {
        section: String,
        file_a: String,
        value_a: String,
        file_b: String,
        value_b: String,
    },
    /// Inputs of different byte orders.
    #[error(
        "{file}: byte order {found} differs from {first_file} ({expected}); compile every \
         file with the same clang target (-target bpf for the host's order, or bpfel/bpfeb)"
    )]
    MixedEndian {
        file: String,
        found: &'static str,
        first_file: String,
        expected: &'static str,
    },
    /// The command was asked to do something it must not (e.g. overwrite an input). The CLI
    /// exits with status 2 for these.
    #[error("{0}")]
    Usage(String),
    /// The output could not be encoded or written.
    #[error("{0}")]
    Output(String),
    /// An error with the file it came from.
    #[error("{file}: {inner}")]
    InFile { file: String, inner: Box<Error> },
    /// Loader failures (libbpf, pins, kernel).
    #[error("{0}")]
    Load(String),
    /// A map that exists already (pinned, or created by an earlier object of the same `load`)
    /// cannot stand for an object's definition of the same name.
    #[error("{0}")]
    MapIncompatible(Box<MapIncompatible>),
    /// The kernel's verifier refused a program.
    #[error(
        "{file}: program `{program}` was rejected by the verifier; no pin was created or \
         changed\n-- verifier log of `{program}` --\n{log}\n-- end of verifier log --"
    )]
    Verifier {
        file: String,
        program: String,
        log: String,
    },
    /// The pin dir is not on a bpf filesystem.
    #[error("pin dir {}: {detail}", path.display())]
    NotBpffs { path: PathBuf, detail: String },
    /// The caller may not load BPF objects or write to bpffs.
    #[error(
        "{action}: permission denied; loading BPF programs and pinning them needs root \
         (CAP_BPF with CAP_NET_ADMIN/CAP_PERFMON, or CAP_SYS_ADMIN)\n{detail}"
    )]
    NoPrivileges { action: String, detail: String },
    /// A map or program name that cannot be a file name inside the pin dir.
    #[error("{file}: {kind} name `{name}` cannot be pinned: {reason}")]
    BadPinName {
        kind: &'static str,
        name: String,
        file: String,
        reason: &'static str,
    },
}

/// Two definitions of one map that disagree: the map, the field and both sides.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "map `{map}`: {field} differs: {file_a} has {value_a}, {file_b} has {value_b}; \
     change {field} of `{map}` in {file_b} to {value_a} as in {file_a} (or rename one of the \
     two maps if they are meant to be different maps)"
)]
pub struct MapConflict {
    pub map: String,
    pub field: String,
    pub file_a: String,
    pub value_a: String,
    pub file_b: String,
    pub value_b: String,
}

/// Two symbols of one global name with incompatible BTF types.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "symbol `{name}`: incompatible types: `{type_a}` in {file_a} and `{type_b}` in {file_b} \
     ({reason})"
)]
pub struct TypeConflict {
    pub name: String,
    pub file_a: String,
    pub type_a: String,
    pub file_b: String,
    pub type_b: String,
    pub reason: String,
}

impl Error {
    /// Attach the input file name to an error raised without it.
    pub fn in_file(self, file: &str) -> Error {
        Error::InFile {
            file: file.to_string(),
            inner: Box::new(self),
        }
    }

    /// Shorthand for a malformed `.BTF` section.
    pub fn btf(reason: impl Into<String>) -> Error {
        Error::BadBtf {
            section: ".BTF",
            reason: reason.into(),
        }
    }

    /// Shorthand for a malformed `.BTF.ext` section.
    pub fn btf_ext(reason: impl Into<String>) -> Error {
        Error::BadBtf {
            section: ".BTF.ext",
            reason: reason.into(),
        }
    }

    /// The reason of a `BadBtf` error without its section prefix (to re-wrap it with context),
    /// or the whole message of any other error.
    pub fn btf_reason(&self) -> String {
        match self {
            Error::BadBtf { reason, .. } => reason.clone(),
            other => other.to_string(),
        }
    }
}

/// A live map (pinned, or created earlier in the same `load`) that an object's definition of
/// the same name cannot reuse: the map, the field and both values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "map `{map}`: {field} differs: {file} defines {wanted}, {existing} has {found}; \
     the existing map was left unchanged (rename the map, or remove the old pin with \
     `bpfmerge unload --maps`)"
)]
pub struct MapIncompatible {
    pub map: String,
    pub field: String,
    /// The object whose definition was refused.
    pub file: String,
    pub wanted: String,
    /// "the map pinned at PATH" or "the map created by FILE".
    pub existing: String,
    pub found: String,
}
