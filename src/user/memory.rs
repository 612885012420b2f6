//! Guest physical memory, the page tables that map user space onto it, and checked access to
//! user memory for the system calls.
//!
//! The page tables in guest RAM are what the CPU enforces; `pages` mirrors them for the harness
//! (which page holds which frame with which protection), so the harness never walks tables.

use super::layout::{KERNEL_BASE, MMAP_MIN, PAGE, USER_TOP, ring0};
use crate::cpu::{Bus, Cpu};
use std::collections::BTreeMap;

/// mmap/mprotect protection bits.
pub mod prot {
    pub const READ: u32 = 1;
    pub const WRITE: u32 = 2;
    pub const EXEC: u32 = 4;
}

/// Page-table entry bits.
mod pte {
    pub const PRESENT: u32 = 1;
    pub const WRITABLE: u32 = 2;
    pub const USER: u32 = 4;
}

/// A guest access the harness made on the guest's behalf touched memory the guest may not
/// (the kernel's EFAULT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadAddress;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfMemory;

#[derive(Clone, Copy)]
struct Page {
    frame: u32,
    prot: u32,
}

pub struct Memory {
    ram: Vec<u8>,
    /// User pages by page number.
    pages: BTreeMap<u32, Page>,
    next_frame: u32,
    free_frames: Vec<u32>,
    /// A mapping lost permissions or went away since the last return to user mode: the TLB
    /// may hold it and must be flushed.
    pub stale_tlb: bool,
    /// A frame was freed: it may hold decoded code, which must be dropped before reuse.
    pub freed_frames: bool,
}

impl Memory {
    /// `size` bytes of guest RAM, with the ring-0 area mapped at `KERNEL_BASE`.
    pub fn new(size: u32) -> Result<Memory, OutOfMemory> {
        let size = size & !(PAGE - 1);
        if size < ring0::SIZE + 16 * PAGE {
            return Err(OutOfMemory);
        }
        let mut memory = Memory {
            ram: vec![0; size as usize],
            pages: BTreeMap::new(),
            next_frame: ring0::SIZE,
            free_frames: Vec::new(),
            stale_tlb: false,
            freed_frames: false,
        };
        memory.write_u32(
            ring0::PAGE_DIRECTORY + (KERNEL_BASE >> 22) * 4,
            ring0::PAGE_TABLE | pte::PRESENT | pte::WRITABLE,
        );
        for offset in (0..ring0::SIZE).step_by(PAGE as usize) {
            memory.write_u32(
                ring0::PAGE_TABLE + (offset >> 12) * 4,
                offset | pte::PRESENT | pte::WRITABLE,
            );
        }
        Ok(memory)
    }

    /// Reads a little-endian word at a physical address (the ring-0 area).
    pub fn read_u32(&self, phys: u32) -> u32 {
        let at = phys as usize;
        self.ram
            .get(at..at + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn write_u32(&mut self, phys: u32, value: u32) {
        self.write_phys(phys, &value.to_le_bytes());
    }

    /// Reads bytes at a physical address (the ring-0 area).
    pub fn read_phys(&self, phys: u32, buf: &mut [u8]) {
        let at = phys as usize;
        if let Some(bytes) = self.ram.get(at..at + buf.len()) {
            buf.copy_from_slice(bytes);
        }
    }

    /// Writes bytes at a physical address. Only for memory that holds no decoded code: the
    /// ring-0 data structures, and user pages before the guest first runs.
    pub fn write_phys(&mut self, phys: u32, data: &[u8]) {
        let at = phys as usize;
        if let Some(bytes) = self.ram.get_mut(at..at + data.len()) {
            bytes.copy_from_slice(data);
        }
    }

    fn allocate_frame(&mut self) -> Result<u32, OutOfMemory> {
        if let Some(frame) = self.free_frames.pop() {
            self.ram[frame as usize..(frame + PAGE) as usize].fill(0);
            return Ok(frame);
        }
        if self.next_frame as usize + PAGE as usize > self.ram.len() {
            return Err(OutOfMemory);
        }
        let frame = self.next_frame;
        self.next_frame += PAGE;
        Ok(frame)
    }

    /// The physical address of the page-table entry for user page `page`, creating the page
    /// table if needed.
    fn pte_address(&mut self, page: u32) -> Result<u32, OutOfMemory> {
        let pde_address = ring0::PAGE_DIRECTORY + (page >> 10) * 4;
        let mut pde = self.read_u32(pde_address);
        if pde & pte::PRESENT == 0 {
            pde = self.allocate_frame()? | pte::PRESENT | pte::WRITABLE | pte::USER;
            self.write_u32(pde_address, pde);
        }
        Ok((pde & !(PAGE - 1)) + (page & 0x3FF) * 4)
    }

    fn write_pte(&mut self, page: u32, entry: Page) -> Result<(), OutOfMemory> {
        let address = self.pte_address(page)?;
        let mut value = entry.frame | pte::USER;
        if entry.prot & (prot::READ | prot::WRITE | prot::EXEC) != 0 {
            value |= pte::PRESENT;
        }
        if entry.prot & prot::WRITE != 0 {
            value |= pte::WRITABLE;
        }
        self.write_u32(address, value);
        Ok(())
    }

    /// Maps a fresh zeroed page at user page `page`, or, if one is there, adds `prot` to its
    /// protection (segments sharing a page).
    pub fn map_page(&mut self, page: u32, prot: u32) -> Result<(), OutOfMemory> {
        let entry = match self.pages.get(&page) {
            Some(existing) => Page {
                prot: existing.prot | prot,
                ..*existing
            },
            None => Page {
                frame: self.allocate_frame()?,
                prot,
            },
        };
        self.write_pte(page, entry)?;
        self.pages.insert(page, entry);
        Ok(())
    }

    /// Maps fresh zeroed pages over `[start, start + len)` (page aligned), replacing what was
    /// there. On failure nothing new stays mapped.
    pub fn map(&mut self, start: u32, len: u32, prot: u32) -> Result<(), OutOfMemory> {
        self.unmap(start, len);
        let first = start / PAGE;
        for page in first..first + len / PAGE {
            if let Err(error) = self.map_page(page, prot) {
                self.unmap(start, (page - first) * PAGE);
                return Err(error);
            }
        }
        Ok(())
    }

    /// Unmaps `[start, start + len)` (page aligned); holes are fine.
    pub fn unmap(&mut self, start: u32, len: u32) {
        let first = start / PAGE;
        let gone: Vec<u32> = self
            .pages
            .range(first..first + len / PAGE)
            .map(|(&page, _)| page)
            .collect();
        for page in gone {
            if let Some(entry) = self.pages.remove(&page) {
                // The page table exists: the page was mapped.
                if let Ok(address) = self.pte_address(page) {
                    self.write_u32(address, 0);
                }
                self.free_frames.push(entry.frame);
                self.stale_tlb = true;
                self.freed_frames = true;
            }
        }
    }

    /// Changes the protection of `[start, start + len)`; every page must be mapped.
    pub fn protect(&mut self, start: u32, len: u32, prot: u32) -> Result<(), BadAddress> {
        let first = start / PAGE;
        let count = len / PAGE;
        if self.pages.range(first..first + count).count() != count as usize {
            return Err(BadAddress);
        }
        for page in first..first + count {
            if let Some(entry) = self.pages.get_mut(&page) {
                entry.prot = prot;
                let entry = *entry;
                self.write_pte(page, entry).map_err(|_| BadAddress)?;
            }
        }
        self.stale_tlb = true;
        Ok(())
    }

    /// Whether no page of `[start, start + len)` is mapped.
    pub fn is_free(&self, start: u32, len: u32) -> bool {
        let first = start / PAGE;
        self.pages.range(first..first + len / PAGE).next().is_none()
    }

    /// The highest free page-aligned range of `len` bytes ending at or below `top` and
    /// starting at or above `MMAP_MIN`.
    pub fn find_free(&self, len: u32, top: u32) -> Option<u32> {
        let mut end = top / PAGE;
        let pages = len / PAGE;
        for (&page, _) in self.pages.range(..end).rev() {
            if end - (page + 1) >= pages {
                break;
            }
            end = page;
        }
        end.checked_sub(pages)
            .map(|first| first * PAGE)
            .filter(|&start| start >= MMAP_MIN)
    }

    /// Writes into mapped user pages whatever their protection: loading the program before
    /// it runs (no code is decoded yet). Unmapped bytes are skipped.
    pub fn fill(&mut self, linear: u32, data: &[u8]) {
        for (i, &byte) in data.iter().enumerate() {
            let address = linear.wrapping_add(i as u32);
            if let Some(page) = self.pages.get(&(address / PAGE)) {
                self.ram[(page.frame + address % PAGE) as usize] = byte;
            }
        }
    }

    /// The physical address behind a user address, if its page is accessible.
    fn physical(&self, linear: u32, write: bool) -> Option<u32> {
        let page = self.pages.get(&(linear / PAGE))?;
        let wanted = if write {
            prot::WRITE
        } else {
            prot::READ | prot::WRITE | prot::EXEC
        };
        (linear < USER_TOP && page.prot & wanted != 0).then_some(page.frame + linear % PAGE)
    }

    /// Copies user memory at `linear` into `buf`.
    pub fn read_user(&self, linear: u32, buf: &mut [u8]) -> Result<(), BadAddress> {
        let mut done = 0;
        while done < buf.len() {
            let address = linear.checked_add(done as u32).ok_or(BadAddress)?;
            let phys = self.physical(address, false).ok_or(BadAddress)? as usize;
            let chunk = (buf.len() - done).min((PAGE - address % PAGE) as usize);
            buf[done..done + chunk].copy_from_slice(&self.ram[phys..phys + chunk]);
            done += chunk;
        }
        Ok(())
    }

    pub fn read_user_u32(&self, linear: u32) -> Result<u32, BadAddress> {
        let mut bytes = [0; 4];
        self.read_user(linear, &mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    /// A NUL-terminated string of at most `max` bytes (without the NUL).
    pub fn read_user_string(&self, linear: u32, max: usize) -> Result<Vec<u8>, BadAddress> {
        let mut text = Vec::new();
        loop {
            let mut byte = [0];
            self.read_user(
                linear.checked_add(text.len() as u32).ok_or(BadAddress)?,
                &mut byte,
            )?;
            if byte[0] == 0 {
                return Ok(text);
            }
            if text.len() == max {
                return Err(BadAddress);
            }
            text.push(byte[0]);
        }
    }

    /// Writes user memory at `linear` through the CPU, so decoded code it overwrites is
    /// dropped. Nothing is written unless all of it is writable.
    pub fn write_user(
        &mut self,
        cpu: &mut Cpu,
        linear: u32,
        data: &[u8],
    ) -> Result<(), BadAddress> {
        if !self.user_writable(linear, data.len() as u32) {
            return Err(BadAddress);
        }
        for (i, &byte) in data.iter().enumerate() {
            let phys = self.physical(linear + i as u32, true).ok_or(BadAddress)?;
            cpu.phys_write(self, phys, 1, u32::from(byte));
        }
        Ok(())
    }

    pub fn write_user_u32(
        &mut self,
        cpu: &mut Cpu,
        linear: u32,
        value: u32,
    ) -> Result<(), BadAddress> {
        self.write_user(cpu, linear, &value.to_le_bytes())
    }

    /// Whether `[linear, linear + len)` is mapped writable for the guest.
    pub fn user_writable(&self, linear: u32, len: u32) -> bool {
        let Some(end) = linear.checked_add(len) else {
            return false;
        };
        if len == 0 {
            return true;
        }
        let mut page = linear & !(PAGE - 1);
        while page < end {
            if self.physical(page.max(linear), true).is_none() {
                return false;
            }
            match page.checked_add(PAGE) {
                Some(next) => page = next,
                None => break,
            }
        }
        true
    }
}

/// The CPU sees plain RAM; nothing is mapped above it and there are no devices.
impl Bus for Memory {
    fn ram(&mut self) -> &mut [u8] {
        &mut self.ram
    }

    fn read(&mut self, _addr: u32, _size: usize) -> u32 {
        u32::MAX
    }

    fn write(&mut self, _addr: u32, _size: usize, _value: u32) {}

    fn io_read(&mut self, _port: u16, _size: usize) -> u32 {
        u32::MAX
    }

    fn io_write(&mut self, _port: u16, _size: usize, _value: u32) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_unmaps_and_finds_free_ranges() {
        let mut memory = Memory::new(4 << 20).unwrap();
        memory
            .map(0x1000_0000, 3 * PAGE, prot::READ | prot::WRITE)
            .unwrap();
        assert!(!memory.is_free(0x1000_2000, PAGE));
        assert_eq!(memory.find_free(2 * PAGE, 0x1000_3000), Some(0x0FFF_E000));
        assert_eq!(memory.find_free(PAGE, 0x1000_5000), Some(0x1000_4000));
        memory.unmap(0x1000_1000, PAGE);
        assert!(memory.stale_tlb && memory.freed_frames);
        assert_eq!(memory.find_free(PAGE, 0x1000_3000), Some(0x1000_1000));
        assert_eq!(memory.find_free(2 * PAGE, 0x1000_3000), Some(0x0FFF_E000));
        assert_eq!(memory.find_free(PAGE, 0), None);
        assert_eq!(memory.find_free(PAGE, MMAP_MIN), None);
    }

    #[test]
    fn user_access_is_checked() {
        let mut memory = Memory::new(4 << 20).unwrap();
        let mut cpu = Cpu::new();
        memory.map(0x2000, PAGE, prot::READ | prot::WRITE).unwrap();
        memory.write_user(&mut cpu, 0x2FFC, b"abcd").unwrap();
        assert_eq!(
            memory.write_user(&mut cpu, 0x2FFE, b"abcd"),
            Err(BadAddress)
        );
        assert_eq!(
            memory.read_user_u32(0x2FFC),
            Ok(u32::from_le_bytes(*b"abcd"))
        );
        memory.protect(0x2000, PAGE, prot::READ).unwrap();
        assert_eq!(memory.write_user_u32(&mut cpu, 0x2000, 1), Err(BadAddress));
        assert_eq!(memory.read_user_string(0x2FFC, 8), Err(BadAddress));
        assert_eq!(memory.protect(0x3000, PAGE, prot::READ), Err(BadAddress));
        assert!(matches!(memory.read_user_u32(0xC000_0000), Err(BadAddress)));
    }

    #[test]
    fn runs_out_of_frames_cleanly() {
        let mut memory = Memory::new(ring0::SIZE + 20 * PAGE).unwrap();
        assert_eq!(
            memory.map(0x1000_0000, 64 * PAGE, prot::READ),
            Err(OutOfMemory)
        );
        assert!(memory.is_free(0x1000_0000, 64 * PAGE));
        // What the failed mapping allocated is reusable.
        memory.map(0x1000_0000, 8 * PAGE, prot::READ).unwrap();
    }
}
