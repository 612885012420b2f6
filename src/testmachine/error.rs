//! Why a test machine could not be built or booted. Every problem with the configuration or
//! with a ROM or kernel file is one of these values, never a panic.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// RAM size in MiB outside what the machine supports.
    RamSize(u32),
    /// Two debug ports given the same number.
    PortClash(u16),
    RomEmpty,
    /// A ROM image of this many bytes does not fit below 1 MiB.
    RomTooLarge(usize),
    /// No multiboot header in the first 8 KiB of the kernel file.
    NoMultibootHeader,
    /// The multiboot header asks for something the test machine cannot do (flags bits 3-15).
    MultibootFlags(u32),
    /// The multiboot header's load addresses (flags bit 16) do not describe the file.
    LoadAddresses(&'static str),
    NotElf,
    ElfTooShort(usize),
    ElfClass(u8),
    ElfByteOrder(u8),
    ElfVersion,
    ElfType(u16),
    ElfMachine(u16),
    ElfProgramHeaderSize(u16),
    ElfProgramHeadersOutsideFile,
    ElfSegment {
        index: usize,
        problem: &'static str,
    },
    NoLoadableSegments,
    EntryOutsideImage(u32),
    /// A part of the kernel would lie outside RAM.
    OutsideRam {
        start: u64,
        end: u64,
        ram: u64,
    },
    NoRoomForBootInformation,
    CommandLineNul,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Error::RamSize(mib) => write!(
                f,
                "RAM size {mib} MiB is not supported (1 to {} MiB)",
                super::MAX_RAM_MIB
            ),
            Error::PortClash(port) => write!(
                f,
                "port {port:#X} is given to two debug devices; the console, exit and POST ports must differ"
            ),
            Error::RomEmpty => write!(f, "the ROM image is empty"),
            Error::RomTooLarge(size) => write!(
                f,
                "the ROM image is {size} bytes; at most {} bytes (1 MiB) fit below 1 MiB",
                super::memory::MAX_ROM
            ),
            Error::NoMultibootHeader => write!(
                f,
                "no multiboot header (magic 0x1BADB002 with a valid checksum) in the first 8 KiB"
            ),
            Error::MultibootFlags(flags) => write!(
                f,
                "the multiboot header requires features this loader does not know (flags {flags:#010X})"
            ),
            Error::LoadAddresses(problem) => {
                write!(
                    f,
                    "the multiboot header's load addresses are wrong: {problem}"
                )
            }
            Error::NotElf => write!(
                f,
                "not an ELF file, and the multiboot header gives no load addresses (flags bit 16)"
            ),
            Error::ElfTooShort(size) => {
                write!(
                    f,
                    "ELF file of {size} bytes is shorter than its 52-byte header"
                )
            }
            Error::ElfClass(class) => write!(f, "ELF class {class} is not ELFCLASS32 (1)"),
            Error::ElfByteOrder(order) => {
                write!(f, "ELF data encoding {order} is not little-endian (1)")
            }
            Error::ElfVersion => write!(f, "ELF version is not 1"),
            Error::ElfType(kind) => write!(f, "ELF type {kind} is not an executable (ET_EXEC, 2)"),
            Error::ElfMachine(machine) => {
                write!(f, "ELF machine {machine} is not Intel 80386 (EM_386, 3)")
            }
            Error::ElfProgramHeaderSize(size) => {
                write!(f, "ELF program headers are {size} bytes, not 32")
            }
            Error::ElfProgramHeadersOutsideFile => {
                write!(f, "ELF program header table lies outside the file")
            }
            Error::ElfSegment { index, problem } => {
                write!(f, "ELF program header {index}: {problem}")
            }
            Error::NoLoadableSegments => write!(f, "ELF file has no loadable segment"),
            Error::EntryOutsideImage(entry) => {
                write!(f, "entry point {entry:#010X} lies outside the loaded image")
            }
            Error::OutsideRam { start, end, ram } => write!(
                f,
                "the kernel occupies {start:#X}..{end:#X}, outside RAM (0..{ram:#X}); try a larger --ram"
            ),
            Error::NoRoomForBootInformation => {
                write!(
                    f,
                    "no room in RAM beside the kernel for the boot information"
                )
            }
            Error::CommandLineNul => write!(f, "the command line contains a NUL character"),
        }
    }
}

impl std::error::Error for Error {}
