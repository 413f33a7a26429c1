//! `Linker`: the library entry point for build scripts. Takes objects by path or as bytes with a
//! name, gives the linked object (in memory or written atomically to a file), or with
//! [`Linker::check`] every conflict without linking. Pure Rust: needs no `load` feature.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::link::{self, Bytes, CheckReport, LinkReport};

enum Source {
    Path(PathBuf),
    Bytes(String, Vec<u8>),
}

/// Links BPF objects so that same-named `.maps` definitions become one map: the library form of
/// `bpfmerge a.o b.o -o out.o`, with the same checks and the same errors.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed");
/// # let out_dir = std::env::temp_dir().join(format!("bpfmerge-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&out_dir)?;
/// use bpfmerge::Linker;
///
/// // In a build.rs: link clang's objects, then hand the result to a skeleton generator.
/// let handler = std::fs::read(dir.join("handler.o"))?;
/// let report = Linker::new()
///     .file(dir.join("entry.o"))              // read from disk
///     .bytes("handler.o", handler)            // or already in memory, named for messages
///     .write(out_dir.join("app.bpf.o"))?;     // atomic; nothing written on error
/// let counters = report.maps.iter().find(|m| m.name == "counters").unwrap();
/// assert_eq!(counters.definitions.len(), 2);  // two definitions, one map
///
/// // A dry run: every conflict, nothing written (what `bpfmerge check` prints).
/// let check = Linker::new().files([dir.join("entry.o"), dir.join("handler.o")]).check()?;
/// assert!(check.ok, "{:?}", check.conflicts);
///
/// // Or keep the object in memory.
/// let bytes: Vec<u8> = Linker::new().file(dir.join("entry.o")).link()?;
/// assert_eq!(&bytes[..4], b"\x7fELF");
/// # std::fs::remove_dir_all(&out_dir)?;
/// # Ok(())
/// # }
/// ```
#[derive(Default)]
pub struct Linker {
    sources: Vec<Source>,
}

impl Linker {
    /// A linker with no inputs.
    pub fn new() -> Self {
        Linker::default()
    }

    /// Add an object file; it is read when the link runs. Messages name it by its path.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.push(Source::Path(path.into()));
        self
    }

    /// Add object files, in order.
    pub fn files<P: Into<PathBuf>>(mut self, paths: impl IntoIterator<Item = P>) -> Self {
        self.sources
            .extend(paths.into_iter().map(|p| Source::Path(p.into())));
        self
    }

    /// Add an object held in memory; `name` stands for it in messages and reports.
    pub fn bytes(mut self, name: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        self.sources.push(Source::Bytes(name.into(), data.into()));
        self
    }

    /// Number of inputs added.
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    /// True when no input was added.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    fn objects(&self) -> impl Iterator<Item = Result<(String, Bytes<'_>)>> {
        self.sources.iter().map(|s| match s {
            Source::Path(p) => Ok((p.display().to_string(), Bytes::Owned(link::read_file(p)?))),
            Source::Bytes(name, data) => Ok((name.clone(), Bytes::Borrowed(data))),
        })
    }

    /// Link; the object's bytes.
    pub fn link(&self) -> Result<Vec<u8>> {
        Ok(self.link_with_report()?.0)
    }

    /// Link; the object's bytes and what was merged.
    pub fn link_with_report(&self) -> Result<(Vec<u8>, LinkReport)> {
        link::link_into_vec(self.sources.len(), self.objects())
    }

    /// Link and write `output` atomically (a temporary file renamed over it; on error nothing
    /// is written and a previous `output` stays). An `output` that is one of the input files
    /// is refused.
    pub fn write(&self, output: impl AsRef<Path>) -> Result<LinkReport> {
        let output = output.as_ref();
        let paths: Vec<PathBuf> = self
            .sources
            .iter()
            .filter_map(|s| match s {
                Source::Path(p) => Some(p.clone()),
                Source::Bytes(..) => None,
            })
            .collect();
        link::refuse_output_among_inputs(&paths, output)?;
        link::link_to(self.sources.len(), self.objects(), output)
    }

    /// Dry run: what would merge and every conflict, writing nothing. `Err` only for inputs
    /// that cannot be read or are not BPF objects; conflicts are in the report (`ok` false).
    pub fn check(&self) -> Result<CheckReport> {
        link::check(self.sources.len(), self.objects())
    }
}
