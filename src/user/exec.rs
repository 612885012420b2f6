//! execve's work: the program's segments in memory, and the initial stack Linux builds
//! (argc, argv, an empty environment, the auxiliary vector and the strings they point to).

use super::Error;
use super::elf::Image;
use super::layout::{PAGE, STACK_SIZE, STACK_TOP, page_down, page_up};
use super::memory::{Memory, OutOfMemory, prot};
use super::ring0::Context;

/// Auxiliary vector keys.
mod at {
    pub const NULL: u32 = 0;
    pub const PHDR: u32 = 3;
    pub const PHENT: u32 = 4;
    pub const PHNUM: u32 = 5;
    pub const PAGESZ: u32 = 6;
    pub const BASE: u32 = 7;
    pub const FLAGS: u32 = 8;
    pub const ENTRY: u32 = 9;
    pub const UID: u32 = 11;
    pub const EUID: u32 = 12;
    pub const GID: u32 = 13;
    pub const EGID: u32 = 14;
    pub const PLATFORM: u32 = 15;
    pub const HWCAP: u32 = 16;
    pub const CLKTCK: u32 = 17;
    pub const SECURE: u32 = 23;
    pub const RANDOM: u32 = 25;
    pub const HWCAP2: u32 = 26;
    pub const EXECFN: u32 = 31;
}

/// The CPUID leaf 1 EDX features the CPU reports (as `cpu::exec::system` answers CPUID), for
/// AT_HWCAP.
const HWCAP: u32 = 0x0383_FBFF;

/// Maps and fills the program's segments; returns the initial program break.
pub fn load_segments(memory: &mut Memory, image: &Image) -> Result<u32, OutOfMemory> {
    for segment in &image.segments {
        let mut protection = prot::READ | prot::EXEC;
        if segment.writable {
            protection |= prot::WRITE;
        }
        let first = page_down(segment.vaddr) / PAGE;
        // The ELF parser keeps segments below USER_TOP, so this cannot overflow.
        let end = page_up(segment.vaddr + segment.mem_size).unwrap_or(0) / PAGE;
        for page in first..end {
            memory.map_page(page, protection)?;
        }
        memory.fill(segment.vaddr, segment.data);
    }
    Ok(page_up(image.end).unwrap_or(image.end))
}

/// Maps the stack and writes the initial process state on it; returns the context the
/// program starts in.
pub fn build_stack(
    memory: &mut Memory,
    image: &Image,
    args: &[&[u8]],
    random: [u8; 16],
    uid: u32,
) -> Result<Context, Error> {
    // Linux allows the arguments a quarter of the stack: their strings, the program's name
    // again (AT_EXECFN), and a pointer to each.
    let name = args.first().map_or(0, |arg| arg.len() + 1);
    let strings: usize = args.iter().map(|arg| arg.len() + 1 + 4).sum();
    if name + strings > (STACK_SIZE / 4) as usize {
        return Err(Error::Arguments);
    }
    let protection = prot::READ | prot::WRITE | prot::EXEC;
    memory
        .map(STACK_TOP - STACK_SIZE, STACK_SIZE, protection)
        .map_err(|_| Error::OutOfMemory)?;
    let mut sp = STACK_TOP - 4;
    let mut place = |memory: &mut Memory, bytes: &[u8]| {
        sp -= bytes.len() as u32;
        memory.fill(sp, bytes);
        sp
    };
    let with_nul = |text: &[u8]| [text, &[0]].concat();
    let execfn = place(memory, &with_nul(args.first().copied().unwrap_or_default()));
    let mut argv: Vec<u32> = args
        .iter()
        .rev()
        .map(|arg| place(memory, &with_nul(arg)))
        .collect();
    argv.reverse();
    let platform = place(memory, b"i686\0");
    let random = place(memory, &random);

    let auxv = [
        (at::PHDR, image.phdr),
        (at::PHENT, 32),
        (at::PHNUM, u32::from(image.phnum)),
        (at::PAGESZ, PAGE),
        (at::BASE, 0),
        (at::FLAGS, 0),
        (at::ENTRY, image.entry),
        (at::UID, uid),
        (at::EUID, uid),
        (at::GID, uid),
        (at::EGID, uid),
        (at::PLATFORM, platform),
        (at::HWCAP, HWCAP),
        (at::CLKTCK, 100),
        (at::SECURE, 0),
        (at::RANDOM, random),
        (at::HWCAP2, 0),
        (at::EXECFN, execfn),
        (at::NULL, 0),
    ];
    let mut words = vec![argv.len() as u32];
    words.extend(&argv);
    words.push(0); // end of argv
    words.push(0); // the environment is empty
    words.extend(auxv.iter().flat_map(|&(key, value)| [key, value]));
    // Linux aligns the final stack pointer to 16 bytes.
    let start = (sp - 4 * words.len() as u32) & !15;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    memory.fill(start, &bytes);
    Ok(Context::initial(image.entry, start))
}
