//! Takes the bytes of one object file, gives a validated `Input`: its sections, symbols and
//! relocations with every index and range checked. The only place raw ELF bytes are read.

use std::sync::Arc;

use crate::btf::FastSet;

use object::elf;
use object::read::elf::{FileHeader, Rel as _, SectionHeader as _, Sym as _};
use object::{Endian as _, Endianness};

use crate::error::{Error, Result};

/// Index of a section in its input object (the ELF section index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecIdx(pub usize);

/// Index of a symbol in its input object (the ELF symbol index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SymIdx(pub usize);

/// BPF relocation types (see the kernel's `Documentation/bpf/llvm_reloc.rst`).
pub mod reloc {
    pub const NONE: u32 = 0;
    /// `ld_imm64`: 64-bit immediate split over two instructions.
    pub const R64_64: u32 = 1;
    /// 64-bit absolute value in data.
    pub const ABS64: u32 = 2;
    /// 32-bit absolute value in data.
    pub const ABS32: u32 = 3;
    /// 32-bit value in debug sections, no dynamic relocation.
    pub const NODYLD32: u32 = 4;
    /// `call` instruction immediate.
    pub const R64_32: u32 = 10;
}

/// What a section is to the linker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecKind {
    /// Executable BPF instructions (`.text`, program sections).
    Code,
    /// Initialised data (`.data*`, `.rodata*`, and other allocated PROGBITS).
    Data,
    /// Zero-initialised data (`.bss*`, SHT_NOBITS).
    Bss,
    /// BTF-defined map definitions.
    Maps,
    /// `license` string.
    License,
    /// `version` u32.
    Version,
    /// `.BTF`.
    Btf,
    /// `.BTF.ext`.
    BtfExt,
    /// Not carried into the output (`.debug_*`, `.llvm_addrsig`, `.rel*`, symbol and string
    /// tables, empty non-alloc sections, ...).
    Dropped,
}

/// One relocation of a section.
#[derive(Clone, Copy, Debug)]
pub struct Reloc {
    /// Byte offset in the section it applies to.
    pub offset: u64,
    /// The symbol's index (ELF64's `r_info` holds it in 32 bits): 24 bytes a relocation, not
    /// 32 (a small object has ~70, kept until relocation is done).
    sym: u32,
    pub r_type: u32,
    /// The implicit addend of a data relocation (`R_BPF_64_ABS64`/`ABS32`: the value stored at
    /// the place); 0 for instruction relocations, whose immediates are read where they land.
    pub addend: i64,
}

impl Reloc {
    /// The symbol the relocation refers to.
    pub fn sym(&self) -> SymIdx {
        SymIdx(self.sym as usize)
    }
}

/// One section of an input object (its bytes are [`Input::data`]). Reads as its
/// [`SectionShape`] too (`sec.kind`, `sec.flags`, ...): 24 bytes a section, where the five
/// fields of the shape inline took 48 (an object has ~30 sections, two thirds of them debug
/// sections and their relocations, kept until the last stage).
#[derive(Clone, Debug)]
pub struct Section {
    /// The name, shared between the inputs of a link that hold it (`.text`, `.BTF`,
    /// `.debug_info`, a program section's name, ...): not allocated per input.
    pub name: SectionName,
    shape: Arc<SectionShape>,
    /// Size in bytes (for SHT_NOBITS the size it occupies, with no data).
    pub size: u64,
}

/// What a section is besides its name and size, shared (through [`SymbolNames`]) by the
/// sections of a link that agree in all of it: a link of clang objects has a few dozen.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SectionShape {
    pub kind: SecKind,
    pub sh_type: u32,
    pub flags: u64,
    pub align: u64,
    /// sh_entsize: the element size of a mergeable (`SHF_MERGE`) section such as
    /// `.rodata.str1.1`, else 0.
    pub entsize: u64,
}

impl std::ops::Deref for Section {
    type Target = SectionShape;
    fn deref(&self) -> &SectionShape {
        &self.shape
    }
}

/// A symbol's or section's name, shared through [`SymbolNames`] by every input and output
/// symbol and section that holds it; reads as a `str`. One pointer (8 bytes, where `Arc<str>`
/// takes 16): a name is held by every input symbol (40 in a small object, 176 in one with
/// many branch labels) and again by every output symbol until the link is written.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Arc<Box<str>>);

impl Name {
    pub fn new(name: &str) -> Name {
        Name(Arc::new(Box::from(name)))
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Hashes and compares as the `str` it holds, so maps keyed by names are looked up by `&str`.
impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&**self.0, f)
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self.0, f)
    }
}

/// A section's name (shared through [`SymbolNames`]); reads as a `str`.
pub type SectionName = Name;

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        **self == **other
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        **self == *other
    }
}

/// Where a symbol is defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymPlace {
    Undefined,
    Absolute,
    Common,
    Section(SecIdx),
}

/// One symbol of an input object.
#[derive(Clone, Debug)]
pub struct Symbol {
    /// Shared between the inputs of one link that hold the same name (map names, labels).
    pub name: Name,
    /// Where it is, packed into 32 bits (see [`Symbol::place`]): with the 8-byte name a symbol
    /// takes 32 bytes (40 symbols a small object, kept until the last stage).
    at: PackedPlace,
    pub value: u64,
    pub size: u64,
    /// STB_LOCAL / STB_GLOBAL / STB_WEAK.
    pub bind: u8,
    /// STT_NOTYPE / OBJECT / FUNC / SECTION / FILE.
    pub typ: u8,
    /// st_other (visibility).
    pub other: u8,
}

/// A [`SymPlace`] in 32 bits: 0 undefined, `u32::MAX` absolute, `u32::MAX - 1` common, any
/// other value the section index (never 0: section 0 is the null section).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PackedPlace(u32);

const PACKED_ABS: u32 = u32::MAX;
const PACKED_COMMON: u32 = u32::MAX - 1;

impl PackedPlace {
    /// None for a section index that does not fit (more than 2^32 - 3 sections).
    fn pack(place: SymPlace) -> Option<PackedPlace> {
        Some(PackedPlace(match place {
            SymPlace::Undefined => 0,
            SymPlace::Absolute => PACKED_ABS,
            SymPlace::Common => PACKED_COMMON,
            SymPlace::Section(s) => u32::try_from(s.0)
                .ok()
                .filter(|&n| n != 0 && n < PACKED_COMMON)?,
        }))
    }

    fn unpack(self) -> SymPlace {
        match self.0 {
            0 => SymPlace::Undefined,
            PACKED_ABS => SymPlace::Absolute,
            PACKED_COMMON => SymPlace::Common,
            n => SymPlace::Section(SecIdx(n as usize)),
        }
    }
}

impl Symbol {
    /// Where the symbol is defined.
    pub fn place(&self) -> SymPlace {
        self.at.unpack()
    }
    pub fn is_local(&self) -> bool {
        self.bind == elf::STB_LOCAL.0
    }
    pub fn is_weak(&self) -> bool {
        self.bind == elf::STB_WEAK.0
    }
    pub fn is_section(&self) -> bool {
        self.typ == elf::STT_SECTION.0
    }
    pub fn section(&self) -> Option<SecIdx> {
        match self.place() {
            SymPlace::Section(s) => Some(s),
            _ => None,
        }
    }
}

/// A parsed, validated input object.
#[derive(Clone, Debug)]
pub struct Input<'d> {
    /// File name as given (for messages).
    pub name: String,
    pub endian: Endianness,
    /// Indexed by `SecIdx` (index 0 is the null section).
    pub sections: Vec<Section>,
    /// Each section's contents, indexed by `SecIdx` (empty for SHT_NOBITS, and for every
    /// section once the input is detached): see [`Input::data`].
    contents: Vec<&'d [u8]>,
    /// The relocations of the sections that have any, by section index (see
    /// [`Input::relocs`]; a slot in every section took 16 bytes, and most have none).
    relocs: Vec<(SecIdx, Box<[Reloc]>)>,
    /// Indexed by `SymIdx` (index 0 is the null symbol).
    pub symbols: Vec<Symbol>,
    pub btf: Option<&'d [u8]>,
    pub btf_ext: Option<&'d [u8]>,
}

impl<'d> Input<'d> {
    pub fn section(&self, idx: SecIdx) -> &Section {
        &self.sections[idx.0]
    }

    /// The relocations applying to section `idx`, sorted by offset.
    pub fn relocs(&self, idx: SecIdx) -> &[Reloc] {
        match self.relocs.binary_search_by_key(&idx, |r| r.0) {
            Ok(k) => &self.relocs[k].1,
            Err(_) => &[],
        }
    }

    /// The bytes of section `idx` (empty for SHT_NOBITS, and once the input is detached).
    pub fn data(&self, idx: SecIdx) -> &'d [u8] {
        self.contents.get(idx.0).copied().unwrap_or(&[])
    }

    /// The same object without its bytes (section contents, `.BTF`, `.BTF.ext`): what the
    /// stages after the streaming one need. Lets the file's buffer be freed.
    pub fn detach(self) -> Input<'static> {
        Input {
            name: self.name,
            endian: self.endian,
            sections: self.sections,
            contents: Vec::new(),
            relocs: self.relocs,
            symbols: self.symbols,
            btf: None,
            btf_ext: None,
        }
    }

    /// Free the relocations once the relocate stage has applied them: the stages after it
    /// read symbols and section headers only.
    pub fn drop_relocations(&mut self) {
        self.relocs = Vec::new();
    }

    /// Index of the first section with this name.
    pub fn section_by_name(&self, name: &str) -> Option<SecIdx> {
        self.sections
            .iter()
            .position(|s| s.name == name)
            .map(SecIdx)
    }
}

/// The implicit addend stored at a relocated place `at` (the `reloc_width` bytes at the
/// relocation's offset): ld_imm64's 64-bit immediate, a call's immediate, or the data value.
pub(crate) fn implicit_addend(e: Endianness, r_type: u32, at: &[u8]) -> i64 {
    let u32_at = |o: usize| e.read_u32([at[o], at[o + 1], at[o + 2], at[o + 3]]);
    match r_type {
        // ld_imm64: low half in insn[0].imm, high half in insn[1].imm.
        reloc::R64_64 => (u64::from(u32_at(4)) | (u64::from(u32_at(12)) << 32)) as i64,
        reloc::R64_32 => i64::from(u32_at(4) as i32),
        reloc::ABS64 => {
            let mut a = [0u8; 8];
            a.copy_from_slice(&at[..8]);
            e.read_u64(a) as i64
        }
        _ => i64::from(u32_at(0)),
    }
}

/// Byte width a relocation of `r_type` covers at its offset.
pub fn reloc_width(r_type: u32) -> Option<u64> {
    match r_type {
        reloc::NONE => Some(0),
        reloc::R64_64 => Some(16),
        reloc::ABS64 | reloc::R64_32 => Some(8),
        reloc::ABS32 | reloc::NODYLD32 => Some(4),
        _ => None,
    }
}

fn bad(file: &str, reason: impl Into<String>) -> Error {
    Error::BadObject {
        file: file.to_string(),
        reason: reason.into(),
    }
}

fn classify(name: &str, sh_type: u32, flags: u64) -> SecKind {
    let alloc = flags & elf::SHF_ALLOC.0 != 0;
    let exec = flags & elf::SHF_EXECINSTR.0 != 0;
    match name {
        ".BTF" => return SecKind::Btf,
        ".BTF.ext" => return SecKind::BtfExt,
        ".maps" => return SecKind::Maps,
        "license" => return SecKind::License,
        "version" => return SecKind::Version,
        _ => {}
    }
    if name.starts_with(".debug") || name == ".llvm_addrsig" {
        return SecKind::Dropped;
    }
    match sh_type {
        t if t == elf::SHT_PROGBITS.0 && exec => SecKind::Code,
        t if t == elf::SHT_PROGBITS.0 && alloc => SecKind::Data,
        t if t == elf::SHT_NOBITS.0 && alloc => SecKind::Bss,
        _ => SecKind::Dropped,
    }
}

/// The section table of an object being parsed, with what every step needs to name errors.
struct Elf<'d, 'n> {
    name: &'n str,
    data: &'d [u8],
    endian: Endianness,
    table: SectionTable<'d>,
}

type SectionTable<'d> = object::read::elf::SectionTable<'d, elf::FileHeader64<Endianness>>;
type SymbolTable<'d> = object::read::elf::SymbolTable<'d, elf::FileHeader64<Endianness>>;

/// Symbol and section names, and section shapes, shared between the inputs of one link: a
/// map's name, a label, a helper's name, a section's name or shape held by every input is one
/// allocation, not one per input.
#[derive(Default)]
pub struct SymbolNames {
    names: FastSet<Name>,
    shapes: FastSet<Arc<SectionShape>>,
}

impl SymbolNames {
    fn share(&mut self, name: &str) -> Name {
        shared(&mut self.names, name, Name::new)
    }

    fn share_shape(&mut self, shape: SectionShape) -> Arc<SectionShape> {
        shared(&mut self.shapes, &shape, |s| Arc::new(s.clone()))
    }
}

/// The set's copy of `key` (a pointer to share), made by `make` and added the first time.
fn shared<T, Q>(set: &mut FastSet<T>, key: &Q, make: impl FnOnce(&Q) -> T) -> T
where
    T: Clone + Eq + std::hash::Hash + std::borrow::Borrow<Q>,
    Q: Eq + std::hash::Hash + ?Sized,
{
    if let Some(v) = set.get(key) {
        return v.clone();
    }
    let v = make(key);
    set.insert(v.clone());
    v
}

/// Parse and validate one object. `name` is used in messages.
pub fn parse<'d>(name: &str, data: &'d [u8]) -> Result<Input<'d>> {
    parse_sharing(name, data, &mut SymbolNames::default())
}

/// [`parse`], the symbol names shared with the other inputs parsed with `names`.
pub fn parse_sharing<'d>(name: &str, data: &'d [u8], names: &mut SymbolNames) -> Result<Input<'d>> {
    let elf = open(name, data)?;
    let (sections, contents) = read_sections(&elf, names)?;
    let symtab = elf
        .table
        .symbols(elf.endian, data, elf::SHT_SYMTAB)
        .map_err(|e| bad(name, format!("bad symbol table: {e}")))?;
    let symbols = read_symbols(&elf, &symtab, &sections, names)?;
    let mut relocs = Vec::new();
    for (i, sh) in elf.table.iter().enumerate() {
        let targets = (&sections[..], &contents[..]);
        if let Some((target, list)) =
            read_relocations(&elf, &symtab, i, sh, targets, symbols.len())?
        {
            attach_relocations(&mut relocs, target, list);
        }
    }
    check_code_sizes(name, &sections)?;
    let of_kind = |k| {
        let i = sections.iter().position(|s: &Section| s.kind == k)?;
        contents.get(i).copied()
    };
    let (btf, btf_ext) = (of_kind(SecKind::Btf), of_kind(SecKind::BtfExt));
    Ok(Input {
        name: name.to_string(),
        endian: elf.endian,
        sections,
        contents,
        relocs,
        symbols,
        btf,
        btf_ext,
    })
}

/// Check the ELF header (ELF64, BPF machine, relocatable) and read the section table.
fn open<'d, 'n>(name: &'n str, data: &'d [u8]) -> Result<Elf<'d, 'n>> {
    if data.len() < 4 || &data[..4] != b"\x7fELF" {
        return Err(bad(name, "not an ELF file"));
    }
    if data.len() < 64 {
        return Err(bad(name, "truncated ELF header"));
    }
    match data[4] {
        2 => {}
        1 => return Err(bad(name, "32-bit ELF; BPF objects are ELF64")),
        c => return Err(bad(name, format!("unknown ELF class {c}"))),
    }
    let header = elf::FileHeader64::<Endianness>::parse(data)
        .map_err(|e| bad(name, format!("bad ELF header: {e}")))?;
    let endian = header
        .endian()
        .map_err(|e| bad(name, format!("bad ELF header: {e}")))?;
    let machine = header.e_machine(endian).0;
    if machine != elf::EM_BPF.0 {
        return Err(bad(
            name,
            format!(
                "ELF machine is {} ({machine}), not BPF (247); compile with clang -target bpf",
                machine_name(machine)
            ),
        ));
    }
    let e_type = header.e_type(endian).0;
    if e_type != elf::ET_REL.0 {
        return Err(bad(
            name,
            format!("ELF type {e_type} is not a relocatable object (ET_REL)"),
        ));
    }
    let table = header
        .sections(endian, data)
        .map_err(|e| bad(name, format!("bad section table: {e}")))?;
    Ok(Elf {
        name,
        data,
        endian,
        table,
    })
}

/// Every section (relocations come later) and its bytes, by section index.
fn read_sections<'d>(
    elf: &Elf<'d, '_>,
    names: &mut SymbolNames,
) -> Result<(Vec<Section>, Vec<&'d [u8]>)> {
    let n = elf.table.len();
    let (mut sections, mut contents) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for (i, sh) in elf.table.iter().enumerate() {
        let (sec, bytes) = read_section(elf, i, sh, names)?;
        sections.push(sec);
        contents.push(bytes);
    }
    Ok((sections, contents))
}

/// Section `i`: its name, kind, checked alignment, and its bytes.
fn read_section<'d>(
    elf: &Elf<'d, '_>,
    i: usize,
    sh: &elf::SectionHeader64<Endianness>,
    names: &mut SymbolNames,
) -> Result<(Section, &'d [u8])> {
    let (name, endian) = (elf.name, elf.endian);
    let sec_name = section_name(elf, i, sh)?;
    let sh_type = sh.sh_type(endian).0;
    let flags = sh.sh_flags(endian).0;
    let size = sh.sh_size(endian);
    let align = sh.sh_addralign(endian).max(1);
    if !align.is_power_of_two() {
        return Err(bad(
            name,
            format!("section {sec_name}: alignment {align} is not a power of two"),
        ));
    }
    // BPF sections are aligned to at most 8; a huge alignment only makes padding.
    if align > 1 << 16 {
        return Err(bad(
            name,
            format!("section {sec_name}: alignment {align} is absurd (more than 64 KiB)"),
        ));
    }
    let data_bytes = if i == 0 {
        &[][..]
    } else {
        sh.data(endian, elf.data).map_err(|_| {
            bad(
                name,
                format!(
                    "section {sec_name}: offset {} + size {size} lies outside the file ({} bytes); truncated?",
                    sh.sh_offset(endian),
                    elf.data.len()
                ),
            )
        })?
    };
    let kind = if i == 0 {
        SecKind::Dropped
    } else {
        classify(sec_name, sh_type, flags)
    };
    check_kind(name, sec_name, kind, sh_type, size)?;
    let shape = SectionShape {
        kind,
        sh_type,
        flags,
        align,
        entsize: sh.sh_entsize(endian),
    };
    let sec = Section {
        name: names.share(sec_name),
        shape: names.share_shape(shape),
        size,
    };
    Ok((sec, data_bytes))
}

fn section_name<'d>(
    elf: &Elf<'d, '_>,
    i: usize,
    sh: &elf::SectionHeader64<Endianness>,
) -> Result<&'d str> {
    if i == 0 {
        return Ok("");
    }
    let raw = elf
        .table
        .section_name(elf.endian, sh)
        .map_err(|e| bad(elf.name, format!("section {i}: bad name: {e}")))?;
    std::str::from_utf8(raw).map_err(|_| bad(elf.name, format!("section {i}: name is not UTF-8")))
}

/// Sections named for a special kind must be PROGBITS; a `.bss` of absurd size is refused.
fn check_kind(name: &str, sec_name: &str, kind: SecKind, sh_type: u32, size: u64) -> Result<()> {
    if matches!(
        kind,
        SecKind::Btf | SecKind::BtfExt | SecKind::Maps | SecKind::License | SecKind::Version
    ) && sh_type != elf::SHT_PROGBITS.0
    {
        return Err(bad(
            name,
            format!("section {sec_name} has type {sh_type:#x}, not PROGBITS"),
        ));
    }
    if kind == SecKind::Bss && size > (1 << 31) {
        return Err(bad(
            name,
            format!("section {sec_name}: size {size} is absurd"),
        ));
    }
    Ok(())
}

/// Every symbol, its place checked against the sections.
fn read_symbols(
    elf: &Elf<'_, '_>,
    symtab: &SymbolTable<'_>,
    sections: &[Section],
    names: &mut SymbolNames,
) -> Result<Vec<Symbol>> {
    let (name, endian) = (elf.name, elf.endian);
    let mut symbols = Vec::with_capacity(symtab.len());
    for (i, sym) in symtab.enumerate() {
        let raw_name = symtab
            .symbol_name(endian, sym)
            .map_err(|e| bad(name, format!("symbol {}: bad name: {e}", i.0)))?;
        let sym_name = std::str::from_utf8(raw_name)
            .map_err(|_| bad(name, format!("symbol {}: name is not UTF-8", i.0)))?;
        let place = symbol_place(elf, symtab, i, sym, sym_name, sections.len())?;
        let value = sym.st_value(endian);
        let size = sym.st_size(endian);
        if let SymPlace::Section(s) = place {
            let sec = &sections[s.0];
            let end = value.checked_add(size);
            if i.0 != 0 && sec.kind != SecKind::Dropped && end.is_none_or(|e| e > sec.size) {
                return Err(bad(
                    name,
                    format!(
                        "symbol `{sym_name}` (offset {value}, size {size}) lies outside section {} ({} bytes)",
                        sec.name, sec.size
                    ),
                ));
            }
        }
        let at = PackedPlace::pack(place).ok_or_else(|| {
            bad(
                name,
                format!("symbol `{sym_name}`: section index does not fit 32 bits"),
            )
        })?;
        symbols.push(Symbol {
            name: names.share(sym_name),
            at,
            value,
            size,
            bind: sym.st_bind().0,
            typ: sym.st_type().0,
            other: sym.st_other().0,
        });
    }
    Ok(symbols)
}

/// Where symbol `i` is: undefined, absolute, common, or in a section that exists.
fn symbol_place(
    elf: &Elf<'_, '_>,
    symtab: &SymbolTable<'_>,
    i: object::SymbolIndex,
    sym: &elf::Sym64<Endianness>,
    sym_name: &str,
    section_count: usize,
) -> Result<SymPlace> {
    let shndx = sym.st_shndx(elf.endian);
    if shndx == elf::SHN_UNDEF {
        return Ok(SymPlace::Undefined);
    }
    if shndx == elf::SHN_ABS {
        return Ok(SymPlace::Absolute);
    }
    if shndx == elf::SHN_COMMON {
        return Ok(SymPlace::Common);
    }
    let idx = symtab
        .symbol_section(elf.endian, sym, i)
        .map_err(|e| bad(elf.name, format!("symbol {sym_name}: {e}")))?;
    match idx {
        Some(s) if s.0 > 0 && s.0 < section_count => Ok(SymPlace::Section(SecIdx(s.0))),
        Some(s) => Err(bad(
            elf.name,
            format!(
                "symbol `{sym_name}` is in section {}, but there are only {section_count} sections",
                s.0
            ),
        )),
        None => Ok(SymPlace::Undefined),
    }
}

/// `list` (sorted) as relocations of section `target`, after any it already has (the list
/// stays sorted by section).
fn attach_relocations(relocs: &mut Vec<(SecIdx, Box<[Reloc]>)>, target: SecIdx, list: Vec<Reloc>) {
    match relocs.binary_search_by_key(&target, |r| r.0) {
        Ok(k) => relocs[k].1 = relocs[k].1.iter().copied().chain(list).collect(),
        Err(k) => relocs.insert(k, (target, list.into_boxed_slice())),
    }
}

/// The relocations of section header `i` when it is a REL section of a kept section, checked,
/// with their target section.
fn read_relocations(
    elf: &Elf<'_, '_>,
    symtab: &SymbolTable<'_>,
    i: usize,
    sh: &elf::SectionHeader64<Endianness>,
    (sections, contents): (&[Section], &[&[u8]]),
    symbol_count: usize,
) -> Result<Option<(SecIdx, Vec<Reloc>)>> {
    let (name, endian) = (elf.name, elf.endian);
    let sh_type = sh.sh_type(endian);
    if sh_type == elf::SHT_RELA {
        let target = sh.sh_info(endian) as usize;
        if sections
            .get(target)
            .is_some_and(|s| s.kind != SecKind::Dropped)
        {
            return Err(bad(
                name,
                format!(
                    "section {}: RELA relocations are not used by BPF objects",
                    sections[i].name
                ),
            ));
        }
        return Ok(None);
    }
    if sh_type != elf::SHT_REL {
        return Ok(None);
    }
    let target = sh.sh_info(endian) as usize;
    let rel_name = &sections[i].name;
    let Some(tsec) = sections.get(target) else {
        return Err(bad(
            name,
            format!("relocation section {rel_name} applies to missing section {target}"),
        ));
    };
    if matches!(tsec.kind, SecKind::Dropped | SecKind::Btf | SecKind::BtfExt) {
        return Ok(None);
    }
    if sh.sh_link(endian) as usize != symtab.section().0 {
        return Err(bad(
            name,
            format!("relocation section {rel_name} does not use the symbol table"),
        ));
    }
    let rels: &[elf::Rel64<Endianness>] = sh
        .data_as_array(endian, elf.data)
        .map_err(|_| bad(name, format!("relocation section {rel_name}: truncated")))?;
    let mut relocs = Vec::with_capacity(rels.len());
    for (n, r) in rels.iter().enumerate() {
        let tdata = contents.get(target).copied().unwrap_or(&[]);
        if let Some(reloc) = read_relocation(elf, (tsec, tdata), n, r, symbol_count)? {
            relocs.push(reloc);
        }
    }
    relocs.sort_by_key(|r| r.offset);
    Ok(Some((SecIdx(target), relocs)))
}

/// Relocation `n` of section `tsec`, checked (type, symbol, place); `None` for R_BPF_NONE.
fn read_relocation(
    elf: &Elf<'_, '_>,
    (tsec, tdata): (&Section, &[u8]),
    n: usize,
    r: &elf::Rel64<Endianness>,
    symbol_count: usize,
) -> Result<Option<Reloc>> {
    let (name, endian) = (elf.name, elf.endian);
    let tname = &tsec.name;
    let tsize = tsec.size;
    let offset = r.r_offset(endian);
    let sym = r.r_sym(endian) as usize;
    let r_type = r.r_type(endian).0;
    let Some(width) = reloc_width(r_type) else {
        return Err(bad(
            name,
            format!("section {tname}: relocation {n} has unknown BPF type {r_type}"),
        ));
    };
    if r_type == reloc::NONE {
        return Ok(None);
    }
    if sym == 0 || sym >= symbol_count {
        return Err(bad(
            name,
            format!(
                "section {tname}: relocation {n} names symbol {sym}, but there are {symbol_count} symbols"
            ),
        ));
    }
    let is_nobits = tsec.sh_type == elf::SHT_NOBITS.0;
    if is_nobits || offset.checked_add(width).is_none_or(|e| e > tsize) {
        return Err(bad(
            name,
            format!(
                "section {tname}: relocation {n} at offset {offset} (+{width} bytes) lies outside the section ({tsize} bytes)"
            ),
        ));
    }
    if matches!(tsec.kind, SecKind::Code) && offset % 8 != 0 {
        return Err(bad(
            name,
            format!("section {tname}: relocation {n} at offset {offset} is not on an instruction"),
        ));
    }
    let at = tdata
        .get(offset as usize..(offset + width) as usize)
        .ok_or_else(|| {
            bad(
                name,
                format!("section {tname}: relocation {n} lies outside its bytes"),
            )
        })?;
    let addend = match r_type {
        reloc::ABS64 | reloc::ABS32 => implicit_addend(endian, r_type, at),
        _ => 0,
    };
    Ok(Some(Reloc {
        offset,
        sym: r.r_sym(endian),
        r_type,
        addend,
    }))
}

/// Code sections hold whole 8-byte instructions.
fn check_code_sizes(name: &str, sections: &[Section]) -> Result<()> {
    for s in sections {
        if s.kind == SecKind::Code && s.size % 8 != 0 {
            return Err(bad(
                name,
                format!(
                    "section {}: size {} is not a whole number of instructions",
                    s.name, s.size
                ),
            ));
        }
    }
    Ok(())
}

fn machine_name(m: u16) -> &'static str {
    match m {
        3 => "i386",
        40 => "ARM",
        62 => "x86-64",
        183 => "AArch64",
        243 => "RISC-V",
        _ => "another machine",
    }
}

/// Read an object file for linking, leaving out the bytes the linker never looks at.
///
/// `.debug_*` sections (and their relocations) — most of a `clang -g` object — are neither read
/// nor given room: the buffer holds the ELF header, the sections the linker reads, packed one
/// after another, and the section header table, with the offsets in the headers rewritten and
/// the left-out sections turned into `SHT_NOBITS` (`parse` drops `.debug_*` sections by name
/// and never looks at their bytes). Kept sections that follow each other in the file (up to
/// alignment padding) are read with one system call. Anything unexpected (not ELF64, program headers, a
/// section outside the file, ...) reads the whole file unchanged, so that `parse` reports the
/// real problem.
pub fn read_object(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if let Some(buf) = read_packed(&file, len)? {
        return Ok(buf);
    }
    let len = usize::try_from(len)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "file too large"))?;
    let mut buf = Vec::with_capacity(len);
    read_range(&file, 0, len as u64, &mut buf)?;
    Ok(buf)
}

/// Append the `size` bytes at `offset` of `file` to `buf`: one `pread` (more only when the
/// kernel returns short reads). The room is zero-filled first; std reads into unfilled room only
/// through `File`'s own position, which costs a seek and reads in growing chunks (several system
/// calls per range), while filling is a `memset` at memory speed.
fn read_range(
    file: &std::fs::File,
    offset: u64,
    size: u64,
    buf: &mut Vec<u8>,
) -> std::io::Result<()> {
    let want = usize::try_from(size)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "file too large"))?;
    let at = buf.len();
    buf.reserve_exact(want);
    buf.resize(at + want, 0);
    std::os::unix::fs::FileExt::read_exact_at(file, &mut buf[at..], offset).map_err(|e| {
        match e.kind() {
            std::io::ErrorKind::UnexpectedEof => std::io::ErrorKind::UnexpectedEof.into(),
            _ => e,
        }
    })
}

/// One section header of the file being read: what `read_packed` needs of it.
struct RawSection {
    name_off: u64,
    sh_type: u32,
    offset: u64,
    size: u64,
    info: u64,
}

/// The packed form of the object (see `read_object`), or `None` when the file is not a plain
/// ELF64 relocatable layout whose every section lies inside it.
fn read_packed(file: &std::fs::File, len: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = Vec::with_capacity(64);
    if len < 64 {
        return Ok(None);
    }
    read_range(file, 0, 64, &mut head)?;
    let Some(big) = elf64_byte_order(&head) else {
        return Ok(None);
    };
    let word = |b: &[u8], o: usize, n: usize| -> u64 {
        let bytes = &b[o..o + n];
        let fold = |v: u64, &byte: &u8| (v << 8) | u64::from(byte);
        if big {
            bytes.iter().fold(0, fold)
        } else {
            bytes.iter().rev().fold(0, fold)
        }
    };
    let (shoff, phnum) = (word(&head, 0x28, 8), word(&head, 0x38, 2));
    let (shentsize, shnum, shstrndx) = (
        word(&head, 0x3a, 2),
        word(&head, 0x3c, 2),
        word(&head, 0x3e, 2),
    );
    let in_file = |off: u64, size: u64| off.checked_add(size).is_some_and(|e| e <= len);
    if phnum != 0
        || shentsize != 64
        || shnum == 0
        || shstrndx >= shnum
        || !in_file(shoff, shnum * 64)
    {
        return Ok(None);
    }
    let mut table = Vec::new();
    read_range(file, shoff, shnum * 64, &mut table)?;
    let header = |i: u64| {
        let h = (i * 64) as usize;
        RawSection {
            name_off: word(&table, h, 4),
            sh_type: word(&table, h + 4, 4) as u32,
            offset: word(&table, h + 0x18, 8),
            size: word(&table, h + 0x20, 8),
            info: word(&table, h + 0x2c, 4),
        }
    };
    let sections: Vec<RawSection> = (0..shnum).map(header).collect();
    let names = &sections[shstrndx as usize];
    if !in_file(names.offset, names.size) {
        return Ok(None);
    }
    let mut shstrtab = Vec::new();
    read_range(file, names.offset, names.size, &mut shstrtab)?;
    let Some(skip) = debug_sections(&sections, &shstrtab, in_file) else {
        return Ok(None);
    };
    // Overlapping sections are copied once each: bound the copy by the file's size (a crafted
    // table of many headers over one range must not make the buffer larger than the file).
    let kept: u64 = (sections.iter().zip(&skip))
        .filter(|(s, &skip)| !skip && s.sh_type != elf::SHT_NOBITS.0)
        .map(|(s, _)| s.size.saturating_add(8))
        .fold(0, u64::saturating_add);
    if kept > len {
        return Ok(None);
    }
    pack(file, head, table, &sections, &skip, kept, big).map(Some)
}

/// `Some(big-endian?)` for an ELF64 header, `None` otherwise.
fn elf64_byte_order(head: &[u8]) -> Option<bool> {
    if head.get(..4) != Some(b"\x7fELF") || head.get(4) != Some(&2) {
        return None;
    }
    match head.get(5) {
        Some(1) => Some(false),
        Some(2) => Some(true),
        _ => None,
    }
}

/// Which sections to leave out: `.debug_*` PROGBITS sections, and `SHT_REL` sections named
/// `.rel.debug*` that apply to one of those (`parse` drops both without reading them). `None`
/// when a section with contents lies outside the file or has a name outside the name table.
fn debug_sections(
    sections: &[RawSection],
    shstrtab: &[u8],
    in_file: impl Fn(u64, u64) -> bool,
) -> Option<Vec<bool>> {
    let name = |s: &RawSection| -> Option<&[u8]> { shstrtab.get(s.name_off as usize..) };
    let starts = |s: &RawSection, p: &[u8]| name(s).is_some_and(|n| n.starts_with(p));
    let is_debug = |s: &RawSection| s.sh_type == elf::SHT_PROGBITS.0 && starts(s, b".debug");
    let mut skip = vec![false; sections.len()];
    for (i, s) in sections.iter().enumerate().skip(1) {
        if s.sh_type == elf::SHT_NOBITS.0 || s.size == 0 {
            continue;
        }
        if !in_file(s.offset, s.size) || name(s).is_none() {
            return None;
        }
        skip[i] = is_debug(s)
            || (s.sh_type == elf::SHT_REL.0
                && starts(s, b".rel.debug")
                && sections.get(s.info as usize).is_some_and(is_debug));
    }
    Some(skip)
}

/// The packed buffer: header, the kept sections (each at its original offset modulo 8), the
/// section header table; offsets rewritten, left-out sections made `SHT_NOBITS`. `kept`: the
/// bytes of the kept sections with their padding (at most the file's size).
fn pack(
    file: &std::fs::File,
    mut head: Vec<u8>,
    mut table: Vec<u8>,
    sections: &[RawSection],
    skip: &[bool],
    kept: u64,
    big: bool,
) -> std::io::Result<Vec<u8>> {
    let put = |b: &mut [u8], o: usize, v: u64, n: usize| {
        for k in 0..n {
            let shift = 8 * if big { n - 1 - k } else { k };
            b[o + k] = (v >> shift) as u8;
        }
    };
    let mut buf = Vec::with_capacity(64 + kept as usize + table.len() + 8);
    buf.append(&mut head);
    for (i, _) in skip.iter().enumerate().filter(|(_, &skip)| skip) {
        put(&mut table, i * 64 + 4, u64::from(elf::SHT_NOBITS.0), 4);
    }
    for run in read_runs(sections, skip) {
        while buf.len() % 8 != (run.start % 8) as usize {
            buf.push(0);
        }
        let at = buf.len() as u64;
        for &i in &run.members {
            put(
                &mut table,
                i * 64 + 0x18,
                at + (sections[i].offset - run.start),
                8,
            );
        }
        read_range(file, run.start, run.end - run.start, &mut buf)?;
    }
    while buf.len() % 8 != 0 {
        buf.push(0);
    }
    let shoff = buf.len() as u64;
    put(&mut buf, 0x28, shoff, 8);
    buf.append(&mut table);
    Ok(buf)
}

/// A range of the file read with one system call, and the kept sections (indices) in it.
struct ReadRun {
    start: u64,
    end: u64,
    members: Vec<usize>,
}

/// The kept sections with contents, in file order, grouped into ranges read at once: a section
/// joins the range before it when it starts at most 7 bytes after the range's end (alignment
/// padding), so a range holds no more bytes than its sections with 8 bytes of padding each
/// (the bound `kept` of the buffer). Overlapping sections start a range of their own (each is
/// copied once, as before).
fn read_runs(sections: &[RawSection], skip: &[bool]) -> Vec<ReadRun> {
    let mut order: Vec<usize> = (1..sections.len())
        .filter(|&i| !skip[i] && sections[i].sh_type != elf::SHT_NOBITS.0 && sections[i].size != 0)
        .collect();
    order.sort_by_key(|&i| (sections[i].offset, i));
    let mut runs: Vec<ReadRun> = Vec::new();
    for i in order {
        let (start, end) = (sections[i].offset, sections[i].offset + sections[i].size);
        match runs.last_mut() {
            Some(run) if start >= run.end && start - run.end < 8 => {
                run.end = end;
                run.members.push(i);
            }
            _ => runs.push(ReadRun {
                start,
                end,
                members: vec![i],
            }),
        }
    }
    runs
}
