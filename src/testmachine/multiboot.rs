//! Multiboot (version 1) kernels: finding the header, loading the kernel (its ELF segments, or
//! the header's own load addresses), writing the boot information, and entering the kernel in
//! the state the specification promises: flat 32-bit protected mode, paging and interrupts
//! off, EAX = 0x2BADB002, EBX = the boot information.

use super::elf;
use super::error::Error;
use crate::cpu::Cpu;
use crate::cpu::state::{Seg, Segment, TableReg, attr, cr0, flag, reg};

const HEADER_MAGIC: u32 = 0x1BAD_B002;
/// What EAX holds at the kernel's entry.
pub const BOOTLOADER_MAGIC: u32 = 0x2BAD_B002;
/// The header lies, 4-byte aligned, in the file's first 8 KiB.
const SEARCH_LIMIT: usize = 8192;

/// Header flags. Bits 0-15 are requirements: a loader must refuse a kernel that asks for one it
/// does not know. Bit 0 (align modules) holds trivially without modules; bit 1 (memory
/// information) is always given; bit 2 (video mode) is a preference this display-less machine
/// leaves unmet, as QEMU does, so the kernel finds no video information.
const KNOWN_REQUIREMENTS: u32 = 0b111;
const REQUIREMENTS: u32 = 0xFFFF;
/// Flags bit 16: the header's address fields say where to load the file.
const LOAD_ADDRESSES: u32 = 1 << 16;

/// Boot information flags.
mod info {
    pub const MEMORY: u32 = 1 << 0;
    pub const CMDLINE: u32 = 1 << 2;
    pub const MEMORY_MAP: u32 = 1 << 6;
    pub const LOADER_NAME: u32 = 1 << 9;
    /// The structure of specification 0.6.96, framebuffer fields included.
    pub const SIZE: usize = 116;
}

/// The lowest address for the loader's own data: avoiding page 0 keeps the boot information's
/// address non-zero.
const LOWEST_BOOT_DATA: u64 = 0x1000;
const LOADER_NAME: &[u8] = b"Oxbox testmachine\0";
/// The flat descriptors (accessed bits set, so the CPU need not write them): null, ring-0
/// code and data with base 0 and limit 4 GiB.
const GDT: [u64; 3] = [0, 0x00CF_9B00_0000_FFFF, 0x00CF_9300_0000_FFFF];
const CODE_SELECTOR: u16 = 0x08;
const DATA_SELECTOR: u16 = 0x10;

/// One piece of the kernel: `data` at physical address `addr`, then zeros up to `size` bytes.
struct Piece<'a> {
    addr: u32,
    data: &'a [u8],
    size: u32,
}

impl Piece<'_> {
    fn end(&self) -> u64 {
        u64::from(self.addr) + u64::from(self.size)
    }

    fn holds(&self, addr: u32) -> bool {
        (u64::from(self.addr)..self.end()).contains(&u64::from(addr))
    }
}

#[derive(Clone, Copy)]
struct Header {
    offset: usize,
    flags: u32,
}

fn u32_at(file: &[u8], offset: usize) -> u32 {
    let bytes = &file[offset..offset + 4];
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

fn find_header(file: &[u8]) -> Result<Header, Error> {
    let searched = &file[..file.len().min(SEARCH_LIMIT)];
    (0..searched.len().saturating_sub(11))
        .step_by(4)
        .find(|&offset| {
            let flags = u32_at(file, offset + 4);
            u32_at(file, offset) == HEADER_MAGIC
                && HEADER_MAGIC
                    .wrapping_add(flags)
                    .wrapping_add(u32_at(file, offset + 8))
                    == 0
        })
        .map(|offset| Header {
            offset,
            flags: u32_at(file, offset + 4),
        })
        .ok_or(Error::NoMultibootHeader)
}

/// The kernel's pieces and its entry point, from the header's address fields.
fn load_addresses(file: &[u8], header: Header) -> Result<(Vec<Piece<'_>>, u32), Error> {
    let bad = Error::LoadAddresses;
    let fields = file
        .get(header.offset + 12..header.offset + 32)
        .ok_or(bad("the header ends before its address fields"))?;
    let field = |n: usize| u32_at(fields, 4 * n);
    let (header_addr, load_addr, load_end, bss_end, entry) =
        (field(0), field(1), field(2), field(3), field(4));
    let before_header = header_addr
        .checked_sub(load_addr)
        .ok_or(bad("load_addr lies above header_addr"))? as usize;
    let start = header
        .offset
        .checked_sub(before_header)
        .ok_or(bad("load_addr lies before the start of the file"))?;
    let length = if load_end == 0 {
        file.len() - start
    } else {
        load_end
            .checked_sub(load_addr)
            .ok_or(bad("load_end_addr lies below load_addr"))? as usize
    };
    let data = start
        .checked_add(length)
        .and_then(|end| file.get(start..end))
        .ok_or(bad("load_end_addr lies beyond the end of the file"))?;
    let size = if bss_end == 0 {
        length as u64
    } else {
        bss_end
            .checked_sub(load_addr)
            .map(u64::from)
            .filter(|&size| size >= length as u64)
            .ok_or(bad("bss_end_addr lies below the loaded data"))?
    };
    if size == 0 {
        return Err(bad("they load nothing"));
    }
    let size = u32::try_from(size)
        .ok()
        .filter(|size| load_addr.checked_add(size - 1).is_some())
        .ok_or(bad("the kernel wraps around the end of the address space"))?;
    let piece = Piece {
        addr: load_addr,
        data,
        size,
    };
    if !piece.holds(entry) {
        return Err(Error::EntryOutsideImage(entry));
    }
    Ok((vec![piece], entry))
}

/// The kernel's pieces and its physical entry point, from its ELF program headers. Segments
/// load at their physical addresses; the entry point, a virtual address, is translated through
/// the segment that holds it, as GRUB does.
fn elf_segments(file: &[u8]) -> Result<(Vec<Piece<'_>>, u32), Error> {
    let executable = elf::parse(file)?;
    let entry = executable
        .segments
        .iter()
        .find(|s| (executable.entry.wrapping_sub(s.vaddr)) < s.memsz)
        .map(|s| s.paddr + (executable.entry - s.vaddr))
        .ok_or(Error::EntryOutsideImage(executable.entry))?;
    let pieces = executable
        .segments
        .into_iter()
        .map(|s| Piece {
            addr: s.paddr,
            data: s.data,
            size: s.memsz,
        })
        .collect();
    Ok((pieces, entry))
}

/// Loads a multiboot kernel into `ram` and returns the processor at its entry point.
pub fn boot(ram: &mut [u8], file: &[u8], cmdline: &str) -> Result<Cpu, Error> {
    if cmdline.contains('\0') {
        return Err(Error::CommandLineNul);
    }
    let header = find_header(file)?;
    let unknown = header.flags & REQUIREMENTS & !KNOWN_REQUIREMENTS;
    if unknown != 0 {
        return Err(Error::MultibootFlags(header.flags));
    }
    // As GRUB and QEMU do, the header's addresses win over an ELF file's own.
    let (pieces, entry) = if header.flags & LOAD_ADDRESSES != 0 {
        load_addresses(file, header)?
    } else {
        elf_segments(file)?
    };
    let ram_size = ram.len() as u64;
    for piece in &pieces {
        if piece.end() > ram_size {
            return Err(Error::OutsideRam {
                start: piece.addr.into(),
                end: piece.end(),
                ram: ram_size,
            });
        }
        let start = piece.addr as usize;
        let (loaded, bss) = ram[start..piece.end() as usize].split_at_mut(piece.data.len());
        loaded.copy_from_slice(piece.data);
        bss.fill(0);
    }
    let boot_data = BootData::new(cmdline);
    let base = free_space(&pieces, boot_data.size(), ram_size)?;
    let info = boot_data.write(ram, base);
    let mut cpu = Cpu::new();
    enter(&mut cpu, base, entry, info);
    Ok(cpu)
}

/// The lowest 16-byte aligned address, from 4 KiB up, where `size` bytes of RAM are free of
/// the kernel: either 4 KiB itself or just above one of the kernel's pieces.
fn free_space(pieces: &[Piece], size: u64, ram_size: u64) -> Result<u32, Error> {
    let candidates = pieces.iter().map(|p| p.end().next_multiple_of(16));
    std::iter::once(LOWEST_BOOT_DATA)
        .chain(candidates)
        .filter(|&start| {
            start + size <= ram_size
                && pieces
                    .iter()
                    .all(|p| start + size <= u64::from(p.addr) || start >= p.end())
        })
        .min()
        .map(|start| start as u32)
        .ok_or(Error::NoRoomForBootInformation)
}

/// The loader's data in RAM: the GDT, the boot information structure, a memory map, the
/// loader's name and the command line, in that order, at fixed offsets from one base.
struct BootData<'a> {
    cmdline: &'a str,
}

impl BootData<'_> {
    const INFO: usize = 32;
    const MEMORY_MAP: usize = Self::INFO + info::SIZE.next_multiple_of(8);
    const MEMORY_MAP_ENTRY: usize = 24;
    const LOADER_NAME: usize = Self::MEMORY_MAP + Self::MEMORY_MAP_ENTRY;
    const CMDLINE: usize = Self::LOADER_NAME + LOADER_NAME.len();

    fn new(cmdline: &str) -> BootData<'_> {
        BootData { cmdline }
    }

    fn size(&self) -> u64 {
        (Self::CMDLINE + self.cmdline.len() + 1) as u64
    }

    /// Writes everything at `base` (which `free_space` found room for) and returns the boot
    /// information's address.
    fn write(&self, ram: &mut [u8], base: u32) -> u32 {
        let ram_size = ram.len() as u64;
        let blob = &mut ram[base as usize..][..self.size() as usize];
        blob.fill(0);
        let mut put = |offset: usize, bytes: &[u8]| {
            blob[offset..offset + bytes.len()].copy_from_slice(bytes);
        };
        for (i, descriptor) in GDT.iter().enumerate() {
            put(8 * i, &descriptor.to_le_bytes());
        }
        let at = |offset: usize| base + offset as u32;
        let kib = ram_size / 1024;
        let fields = [
            (
                0,
                info::MEMORY | info::CMDLINE | info::MEMORY_MAP | info::LOADER_NAME,
            ),
            // Lower memory is at most 640 KiB by definition; upper memory starts at 1 MiB.
            (4, kib.min(640) as u32),
            (8, kib.saturating_sub(1024) as u32),
            (16, at(Self::CMDLINE)),
            (44, Self::MEMORY_MAP_ENTRY as u32),
            (48, at(Self::MEMORY_MAP)),
            (64, at(Self::LOADER_NAME)),
        ];
        for (offset, value) in fields {
            put(Self::INFO + offset, &value.to_le_bytes());
        }
        // One entry: all of RAM is usable (type 1); there are no holes on this machine. The
        // size field counts the bytes after itself.
        let entry = Self::MEMORY_MAP;
        put(entry, &20u32.to_le_bytes());
        put(entry + 4, &0u64.to_le_bytes());
        put(entry + 12, &ram_size.to_le_bytes());
        put(entry + 20, &1u32.to_le_bytes());
        put(Self::LOADER_NAME, LOADER_NAME);
        put(Self::CMDLINE, self.cmdline.as_bytes());
        at(Self::INFO)
    }
}

/// The machine state at a multiboot kernel's entry. The GDT at `gdt` backs the flat segments
/// for a kernel that reloads them before building its own; the IDT is empty, so an exception
/// before the kernel sets up its own shuts the machine down at once.
fn enter(cpu: &mut Cpu, gdt: u32, entry: u32, info: u32) {
    let flat = |selector, kind| Segment {
        selector,
        base: 0,
        limit: u32::MAX,
        attrs: attr::PRESENT | attr::S | attr::RW | attr::ACCESSED | attr::DB | attr::G | kind,
    };
    cpu.seg = [flat(DATA_SELECTOR, 0); 6];
    cpu.seg[Seg::Cs as usize] = flat(CODE_SELECTOR, attr::CODE);
    cpu.gdtr = TableReg {
        base: gdt,
        limit: (GDT.len() * 8 - 1) as u16,
    };
    cpu.idtr = TableReg { base: 0, limit: 0 };
    cpu.cr0 = cr0::PE | cr0::ET;
    cpu.eflags = flag::FIXED;
    cpu.cpl = 0;
    cpu.regs[reg::EAX] = BOOTLOADER_MAGIC;
    cpu.regs[reg::EBX] = info;
    cpu.eip = entry;
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    fn header(flags: u32) -> Vec<u8> {
        [
            HEADER_MAGIC,
            flags,
            HEADER_MAGIC.wrapping_add(flags).wrapping_neg(),
        ]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect()
    }

    /// A flat kernel loaded at `load` by its header's address fields: the 32-byte header, then
    /// `code` (the entry point), then `bss` zeroed bytes.
    fn flat_kernel(load: u32, code: &[u8], bss: u32) -> Vec<u8> {
        let end = load + 32 + code.len() as u32;
        let mut file = header(LOAD_ADDRESSES);
        for field in [load, load, 0, end + bss, load + 32] {
            file.extend(field.to_le_bytes());
        }
        file.extend(code);
        file
    }

    fn u32_in(ram: &[u8], addr: u32) -> u32 {
        u32_at(ram, addr as usize)
    }

    fn string_in(ram: &[u8], addr: u32) -> &[u8] {
        let start = &ram[addr as usize..];
        &start[..start.iter().position(|&b| b == 0).unwrap()]
    }

    #[test]
    fn loads_the_kernel_and_zeroes_its_bss_over_dirty_ram() {
        let mut ram = vec![0xAA; 4 * MIB];
        let kernel = flat_kernel(0x10_0000, &[0xF4; 40], 100);
        boot(&mut ram, &kernel, "").unwrap();
        let end = 0x10_0000 + kernel.len();
        assert_eq!(&ram[0x10_0000..end], kernel);
        assert!(ram[end..end + 100].iter().all(|&b| b == 0));
        assert_eq!(ram[end + 100], 0xAA);
    }

    #[test]
    fn enters_the_kernel_in_flat_protected_mode() {
        let mut ram = vec![0; 4 * MIB];
        let cpu = boot(&mut ram, &flat_kernel(0x20_0000, &[0xF4], 0), "").unwrap();
        assert_eq!(cpu.eip, 0x20_0020);
        assert_eq!(cpu.regs[reg::EAX], BOOTLOADER_MAGIC);
        assert_eq!(cpu.cr0 & (cr0::PE | cr0::PG), cr0::PE);
        assert_eq!(cpu.eflags, 2, "interrupts off");
        for (i, segment) in cpu.seg.iter().enumerate() {
            assert_eq!((segment.base, segment.limit), (0, u32::MAX));
            assert!(segment.big(), "32-bit");
            let code = i == Seg::Cs as usize;
            assert_eq!(segment.attrs & attr::CODE != 0, code);
            // The cached descriptors are the ones in the GDT, for a kernel that reloads them.
            let descriptor = u64::from(u32_in(&ram, cpu.gdtr.base + u32::from(segment.selector)))
                | u64::from(u32_in(
                    &ram,
                    cpu.gdtr.base + u32::from(segment.selector) + 4,
                )) << 32;
            assert_eq!(descriptor, GDT[usize::from(segment.selector) / 8]);
        }
        assert_eq!(cpu.gdtr.limit, 23);
        assert_eq!(cpu.idtr.limit, 0);
    }

    #[test]
    fn boot_information_has_memory_command_line_and_loader_name() {
        let mut ram = vec![0; 8 * MIB];
        let cpu = boot(
            &mut ram,
            &flat_kernel(0x10_0000, &[0xF4], 0),
            "root=/dev/xyz",
        )
        .unwrap();
        let info = cpu.regs[reg::EBX];
        let field = |offset| u32_in(&ram, info + offset);
        assert_eq!(
            field(0),
            0x245,
            "memory, command line, memory map, loader name"
        );
        assert_eq!((field(4), field(8)), (640, 7 * 1024));
        assert_eq!(string_in(&ram, field(16)), b"root=/dev/xyz");
        assert_eq!(string_in(&ram, field(64)), b"Oxbox testmachine");
        let map = field(48);
        assert_eq!(field(44), 24);
        assert_eq!(
            u32_in(&ram, map),
            20,
            "size of the entry after the size field"
        );
        assert_eq!(
            [4, 8, 12, 16, 20].map(|offset| u32_in(&ram, map + offset)),
            [0, 0, 8 << 20, 0, 1],
            "all RAM usable"
        );
    }

    #[test]
    fn boot_data_avoids_the_kernel() {
        let mut ram = vec![0; MIB];
        let low = boot(&mut ram, &flat_kernel(0x2000, &[0xF4], 0), "").unwrap();
        assert_eq!(low.gdtr.base, 0x1000, "below the kernel, where it fits");
        let kernel = flat_kernel(0x1000, &[0xF4; 0x40], 0x1000);
        let high = boot(&mut ram, &kernel, "").unwrap();
        let end = 0x1000 + kernel.len() as u32 + 0x1000;
        assert_eq!(high.gdtr.base, end.next_multiple_of(16), "above it");
        let everything = flat_kernel(0x800, &[0xF4], MIB as u32 - 0x800 - 33);
        assert_eq!(
            boot(&mut ram, &everything, "").err(),
            Some(Error::NoRoomForBootInformation)
        );
    }

    #[test]
    fn header_is_found_only_aligned_whole_and_in_the_first_8_kib() {
        let at = |offset: usize, header: &[u8]| {
            let mut file = vec![0; offset];
            file.extend(header);
            file.resize(SEARCH_LIMIT + 64, 0);
            find_header(&file).map(|found| found.offset)
        };
        let good = header(0);
        assert_eq!(at(0, &good), Ok(0));
        assert_eq!(at(SEARCH_LIMIT - 12, &good), Ok(SEARCH_LIMIT - 12));
        assert_eq!(at(SEARCH_LIMIT - 8, &good), Err(Error::NoMultibootHeader));
        assert_eq!(at(2, &good), Err(Error::NoMultibootHeader), "misaligned");
        let mut bad_sum = good.clone();
        bad_sum[8] ^= 1;
        assert_eq!(at(0, &bad_sum), Err(Error::NoMultibootHeader));
        assert_eq!(
            find_header(&good[..11]).err(),
            Some(Error::NoMultibootHeader)
        );
    }

    #[test]
    fn unknown_requirements_are_refused_and_optional_flags_ignored() {
        let mut ram = vec![0; MIB];
        let mut kernel = flat_kernel(0x10000, &[0xF4], 0);
        let mut set_flags = |kernel: &mut Vec<u8>, flags: u32| {
            kernel[..12].copy_from_slice(&header(flags));
            boot(&mut ram, kernel, "").map(|_| ())
        };
        assert_eq!(set_flags(&mut kernel, LOAD_ADDRESSES | 0b111), Ok(()));
        assert_eq!(set_flags(&mut kernel, LOAD_ADDRESSES | 1 << 20), Ok(()));
        assert_eq!(
            set_flags(&mut kernel, LOAD_ADDRESSES | 1 << 15),
            Err(Error::MultibootFlags(LOAD_ADDRESSES | 1 << 15))
        );
    }
}
