//! Static ELF32 executables for Linux i386: every header field the loader relies on is checked,
//! and anything else is a clear error, never a panic.

use super::layout::USER_TOP;
use std::fmt;

/// A loadable segment: `data` goes at `vaddr`, the rest of `mem_size` is zero.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    pub vaddr: u32,
    pub mem_size: u32,
    pub data: &'a [u8],
    pub writable: bool,
}

/// What the loader needs from an executable.
#[derive(Debug)]
pub struct Image<'a> {
    pub entry: u32,
    pub segments: Vec<Segment<'a>>,
    /// Where the program headers are in memory (AT_PHDR), computed as Linux does.
    pub phdr: u32,
    pub phnum: u16,
    /// The end of the highest segment: the program break starts at the next page.
    pub end: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElfError {
    TooShort,
    NotElf,
    Not32Bit,
    NotLittleEndian,
    BadVersion,
    NotExecutable(u16),
    NotI386(u16),
    BadProgramHeaders,
    Dynamic,
    SegmentOutsideFile(usize),
    SegmentSizes(usize),
    SegmentOutsideUserSpace(usize),
    NoLoadableSegment,
    EntryOutsideSegments(u32),
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ElfError::TooShort => write!(f, "too short for an ELF header"),
            ElfError::NotElf => write!(f, "not an ELF file (bad magic)"),
            ElfError::Not32Bit => write!(f, "not a 32-bit ELF file"),
            ElfError::NotLittleEndian => write!(f, "not a little-endian ELF file"),
            ElfError::BadVersion => write!(f, "unknown ELF version"),
            ElfError::NotExecutable(3) => write!(
                f,
                "a position-independent executable or shared object: build with -static -no-pie"
            ),
            ElfError::NotExecutable(kind) => {
                write!(f, "ELF type {kind} is not an executable (ET_EXEC)")
            }
            ElfError::NotI386(machine) => write!(f, "ELF machine {machine} is not i386"),
            ElfError::BadProgramHeaders => {
                write!(
                    f,
                    "program header table missing, malformed or outside the file"
                )
            }
            ElfError::Dynamic => write!(
                f,
                "dynamically linked (has an interpreter): only static executables run"
            ),
            ElfError::SegmentOutsideFile(i) => {
                write!(f, "program header {i}: segment data lies outside the file")
            }
            ElfError::SegmentSizes(i) => {
                write!(f, "program header {i}: file size exceeds memory size")
            }
            ElfError::SegmentOutsideUserSpace(i) => write!(
                f,
                "program header {i}: segment lies outside user space (below {USER_TOP:#x})"
            ),
            ElfError::NoLoadableSegment => write!(f, "no loadable segment"),
            ElfError::EntryOutsideSegments(entry) => {
                write!(
                    f,
                    "entry point {entry:#x} is outside every loadable segment"
                )
            }
        }
    }
}

impl std::error::Error for ElfError {}

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;
const PF_W: u32 = 2;
const ET_EXEC: u16 = 2;
const EM_386: u16 = 3;
const HEADER_SIZE: usize = 52;
const PHENT_SIZE: usize = 32;
/// Linux refuses program header tables over 64 KiB.
const MAX_PHNUM: usize = 65536 / PHENT_SIZE;

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Parses and validates a static i386 executable.
pub fn parse(file: &[u8]) -> Result<Image<'_>, ElfError> {
    if file.len() >= 4 && !file.starts_with(b"\x7fELF") {
        return Err(ElfError::NotElf);
    }
    if file.len() < HEADER_SIZE {
        return Err(ElfError::TooShort);
    }
    if file[4] != 1 {
        return Err(ElfError::Not32Bit);
    }
    if file[5] != 1 {
        return Err(ElfError::NotLittleEndian);
    }
    if file[6] != 1 || u32_at(file, 20) != 1 {
        return Err(ElfError::BadVersion);
    }
    let kind = u16_at(file, 16);
    if kind != ET_EXEC {
        return Err(ElfError::NotExecutable(kind));
    }
    let machine = u16_at(file, 18);
    if machine != EM_386 {
        return Err(ElfError::NotI386(machine));
    }
    let entry = u32_at(file, 24);
    let phoff = u32_at(file, 28) as usize;
    let phentsize = usize::from(u16_at(file, 42));
    let phnum = u16_at(file, 44);
    let table_len = usize::from(phnum) * PHENT_SIZE;
    if phentsize != PHENT_SIZE
        || phnum == 0
        || usize::from(phnum) > MAX_PHNUM
        || phoff
            .checked_add(table_len)
            .is_none_or(|end| end > file.len())
    {
        return Err(ElfError::BadProgramHeaders);
    }

    let mut segments = Vec::new();
    let mut phdr_segment = None;
    let mut first_load_bias = None;
    for (i, header) in file[phoff..phoff + table_len]
        .chunks_exact(PHENT_SIZE)
        .enumerate()
    {
        let kind = u32_at(header, 0);
        let offset = u32_at(header, 4) as usize;
        let vaddr = u32_at(header, 8);
        let file_size = u32_at(header, 16) as usize;
        let mem_size = u32_at(header, 20);
        let flags = u32_at(header, 24);
        match kind {
            PT_INTERP => return Err(ElfError::Dynamic),
            PT_PHDR => phdr_segment = Some(vaddr),
            PT_LOAD => {
                if file_size > mem_size as usize {
                    return Err(ElfError::SegmentSizes(i));
                }
                let data = offset
                    .checked_add(file_size)
                    .and_then(|end| file.get(offset..end))
                    .ok_or(ElfError::SegmentOutsideFile(i))?;
                if vaddr.checked_add(mem_size).is_none_or(|end| end > USER_TOP) {
                    return Err(ElfError::SegmentOutsideUserSpace(i));
                }
                first_load_bias.get_or_insert(vaddr.wrapping_sub(offset as u32));
                if mem_size > 0 {
                    segments.push(Segment {
                        vaddr,
                        mem_size,
                        data,
                        writable: flags & PF_W != 0,
                    });
                }
            }
            _ => {}
        }
    }
    if segments.is_empty() {
        return Err(ElfError::NoLoadableSegment);
    }
    if !segments
        .iter()
        .any(|s| entry >= s.vaddr && entry - s.vaddr < s.mem_size)
    {
        return Err(ElfError::EntryOutsideSegments(entry));
    }
    let end = segments
        .iter()
        .map(|s| s.vaddr + s.mem_size)
        .max()
        .unwrap_or(0);
    // Linux passes PT_PHDR's address, else the first segment's bias plus the file offset.
    let phdr =
        phdr_segment.unwrap_or_else(|| first_load_bias.unwrap_or(0).wrapping_add(phoff as u32));
    Ok(Image {
        entry,
        segments,
        phdr,
        phnum,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid executable: one PT_LOAD covering the whole file at 0x08048000.
    fn tiny() -> Vec<u8> {
        let mut file = vec![0u8; 84 + 4];
        file[..4].copy_from_slice(b"\x7fELF");
        file[4..7].copy_from_slice(&[1, 1, 1]);
        file[16..18].copy_from_slice(&2u16.to_le_bytes());
        file[18..20].copy_from_slice(&3u16.to_le_bytes());
        file[20..24].copy_from_slice(&1u32.to_le_bytes());
        file[24..28].copy_from_slice(&0x0804_8054u32.to_le_bytes());
        file[28..32].copy_from_slice(&52u32.to_le_bytes());
        file[40..42].copy_from_slice(&52u16.to_le_bytes());
        file[42..44].copy_from_slice(&32u16.to_le_bytes());
        file[44..46].copy_from_slice(&1u16.to_le_bytes());
        let header = [1, 0, 0x0804_8000, 0x0804_8000, 88, 88, 5, 0x1000];
        for (i, word) in header.iter().enumerate() {
            file[52 + 4 * i..56 + 4 * i].copy_from_slice(&u32::to_le_bytes(*word));
        }
        file
    }

    #[test]
    fn accepts_a_minimal_executable() {
        let file = tiny();
        let image = parse(&file).unwrap();
        assert_eq!(image.entry, 0x0804_8054);
        assert_eq!(image.phdr, 0x0804_8034);
        assert_eq!(image.end, 0x0804_8058);
        assert_eq!(image.segments.len(), 1);
        assert!(!image.segments[0].writable);
    }

    #[test]
    fn rejects_each_bad_field() {
        let cases: [(usize, &[u8], ElfError); 7] = [
            (0, b"\x7fELG", ElfError::NotElf),
            (4, &[2], ElfError::Not32Bit),
            (5, &[2], ElfError::NotLittleEndian),
            (6, &[0], ElfError::BadVersion),
            (16, &[3, 0], ElfError::NotExecutable(3)),
            (18, &[62, 0], ElfError::NotI386(62)),
            (42, &[31, 0], ElfError::BadProgramHeaders),
        ];
        for (at, bytes, error) in cases {
            let mut file = tiny();
            file[at..at + bytes.len()].copy_from_slice(bytes);
            assert_eq!(parse(&file).unwrap_err(), error);
        }
        let mut file = tiny();
        file[52..56].copy_from_slice(&PT_INTERP.to_le_bytes());
        assert_eq!(parse(&file).unwrap_err(), ElfError::Dynamic);
        let mut file = tiny();
        file[68..72].copy_from_slice(&89u32.to_le_bytes());
        file[72..76].copy_from_slice(&100u32.to_le_bytes());
        assert_eq!(parse(&file).unwrap_err(), ElfError::SegmentOutsideFile(0));
        let mut file = tiny();
        file[72..76].copy_from_slice(&10u32.to_le_bytes());
        assert_eq!(parse(&file).unwrap_err(), ElfError::SegmentSizes(0));
        let mut file = tiny();
        file[60..64].copy_from_slice(&0xBFFF_FFF0u32.to_le_bytes());
        assert_eq!(
            parse(&file).unwrap_err(),
            ElfError::SegmentOutsideUserSpace(0)
        );
        let mut file = tiny();
        file[24..28].copy_from_slice(&0x0900_0000u32.to_le_bytes());
        assert_eq!(
            parse(&file).unwrap_err(),
            ElfError::EntryOutsideSegments(0x0900_0000)
        );
    }

    #[test]
    fn never_panics_on_truncated_or_corrupted_files() {
        let file = tiny();
        for len in 0..file.len() {
            assert!(parse(&file[..len]).is_err());
        }
        // Every single-byte corruption: an error or a consistent image, never a panic.
        for at in 0..file.len() {
            for value in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut bad = file.clone();
                bad[at] = value;
                if let Ok(image) = parse(&bad) {
                    for s in &image.segments {
                        assert!(s.data.len() as u64 <= u64::from(s.mem_size));
                        assert!(u64::from(s.vaddr) + u64::from(s.mem_size) <= 0xC000_0000);
                    }
                }
            }
        }
    }
}
