//! ELF32 executables for the i386, as a multiboot loader reads them: the file header and the
//! loadable segments of the program header table. Every offset and size is checked against the
//! file and against 32-bit wrap-around before it is used.

use super::error::Error;

const HEADER_SIZE: usize = 52;
const PROGRAM_HEADER_SIZE: usize = 32;
const ELFCLASS32: u8 = 1;
const ELFDATA2LSB: u8 = 1;
const EV_CURRENT: u8 = 1;
const ET_EXEC: u16 = 2;
const EM_386: u16 = 3;
const PT_LOAD: u32 = 1;

/// A loadable segment: `data` from the file at physical address `paddr`, followed by zeros up
/// to `memsz` bytes (the bss).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    pub vaddr: u32,
    pub paddr: u32,
    pub data: &'a [u8],
    pub memsz: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Executable<'a> {
    /// The entry point, a virtual address.
    pub entry: u32,
    /// The PT_LOAD segments that occupy memory, in file order.
    pub segments: Vec<Segment<'a>>,
}

fn u16_at(bytes: &[u8], offset: usize) -> u16 {
    u16::from_le_bytes([bytes[offset], bytes[offset + 1]])
}

fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes([
        bytes[offset],
        bytes[offset + 1],
        bytes[offset + 2],
        bytes[offset + 3],
    ])
}

pub fn is_elf(file: &[u8]) -> bool {
    file.starts_with(b"\x7FELF")
}

pub fn parse(file: &[u8]) -> Result<Executable<'_>, Error> {
    if !is_elf(file) {
        return Err(Error::NotElf);
    }
    if file.len() < HEADER_SIZE {
        return Err(Error::ElfTooShort(file.len()));
    }
    if file[4] != ELFCLASS32 {
        return Err(Error::ElfClass(file[4]));
    }
    if file[5] != ELFDATA2LSB {
        return Err(Error::ElfByteOrder(file[5]));
    }
    if file[6] != EV_CURRENT || u32_at(file, 20) != u32::from(EV_CURRENT) {
        return Err(Error::ElfVersion);
    }
    let kind = u16_at(file, 16);
    if kind != ET_EXEC {
        return Err(Error::ElfType(kind));
    }
    let machine = u16_at(file, 18);
    if machine != EM_386 {
        return Err(Error::ElfMachine(machine));
    }
    let entry = u32_at(file, 24);
    let table = u32_at(file, 28) as usize;
    let entry_size = u16_at(file, 42);
    let count = usize::from(u16_at(file, 44));
    if count == 0 {
        return Err(Error::NoLoadableSegments);
    }
    if usize::from(entry_size) != PROGRAM_HEADER_SIZE {
        return Err(Error::ElfProgramHeaderSize(entry_size));
    }
    let headers = table
        .checked_add(count * PROGRAM_HEADER_SIZE)
        .and_then(|end| file.get(table..end))
        .ok_or(Error::ElfProgramHeadersOutsideFile)?;
    let mut segments = Vec::new();
    for (index, header) in headers.chunks_exact(PROGRAM_HEADER_SIZE).enumerate() {
        let field = |n: usize| u32_at(header, 4 * n);
        let (kind, offset, vaddr, paddr, filesz, memsz) =
            (field(0), field(1), field(2), field(3), field(4), field(5));
        if kind != PT_LOAD || memsz == 0 {
            continue;
        }
        let problem = |problem| Error::ElfSegment { index, problem };
        if filesz > memsz {
            return Err(problem("file size exceeds memory size"));
        }
        if paddr.checked_add(memsz - 1).is_none() || vaddr.checked_add(memsz - 1).is_none() {
            return Err(problem("segment wraps around the end of the address space"));
        }
        let data = (offset as usize)
            .checked_add(filesz as usize)
            .and_then(|end| file.get(offset as usize..end))
            .ok_or(problem("segment data lies outside the file"))?;
        segments.push(Segment {
            vaddr,
            paddr,
            data,
            memsz,
        });
    }
    if segments.is_empty() {
        return Err(Error::NoLoadableSegments);
    }
    Ok(Executable { entry, segments })
}
