//! Linear-to-physical translation (two-level paging with 4 KiB and 4 MiB pages), the TLB, and
//! memory accesses by linear and physical address.
//!
//! The TLB caches translations exactly as the architecture allows software to observe: an
//! entry stays valid, even after its page tables change, until INVLPG, a CR3 load (non-global
//! entries) or a paging-mode change flushes it. It is direct-mapped and large enough that
//! capacity evictions are rare; software must not depend on them, as on hardware.

use super::Cpu;
use super::bus::Bus;
use super::fault::{Fault, Result, pf};
use super::state::{cr0, cr4};
use crate::machine::state::{Snapshot, State};

/// Why memory is accessed, which decides the permission checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Execute,
}

const TLB_SIZE: usize = 4096;
const PAGE: u32 = 4096;

/// Page-table entry bits.
mod pte {
    pub const PRESENT: u32 = 1 << 0;
    pub const WRITABLE: u32 = 1 << 1;
    pub const USER: u32 = 1 << 2;
    pub const ACCESSED: u32 = 1 << 5;
    pub const DIRTY: u32 = 1 << 6;
    /// In a directory entry: a 4 MiB page.
    pub const LARGE: u32 = 1 << 7;
    pub const GLOBAL: u32 = 1 << 8;
}

#[derive(Clone, Copy, Default)]
struct TlbEntry {
    /// Linear page number + 1 (0 = empty).
    tag: u32,
    /// Physical page base.
    frame: u32,
    user: bool,
    writable: bool,
    /// The dirty bit is already set in memory, so writes need no walk.
    dirty: bool,
    global: bool,
    /// Part of a 4 MiB or 2 MiB page, cached like its 4 KiB pieces.
    large: bool,
}

/// The translation lookaside buffer.
pub struct Tlb {
    entries: Box<[TlbEntry; TLB_SIZE]>,
    /// Whether any entry may belong to a large page (so INVLPG must look for its pieces).
    large: bool,
}

impl Default for Tlb {
    fn default() -> Tlb {
        Tlb {
            entries: Box::new([TlbEntry::default(); TLB_SIZE]),
            large: false,
        }
    }
}

impl Tlb {
    fn slot(page: u32) -> usize {
        page as usize % TLB_SIZE
    }

    /// Drops every entry, or every non-global one.
    pub fn flush(&mut self, keep_global: bool) {
        for entry in self.entries.iter_mut() {
            if !(keep_global && entry.global) {
                entry.tag = 0;
            }
        }
        self.large &= keep_global;
    }

    /// Drops the translation of the page holding `linear` (INVLPG). For a large page that is
    /// every 4 KiB piece of it cached: all large-page entries of the surrounding 4 MiB go
    /// (which covers a PAE 2 MiB page too; dropping more than needed is allowed).
    pub fn invalidate(&mut self, linear: u32) {
        let page = linear >> 12;
        let entry = &mut self.entries[Tlb::slot(page)];
        if entry.tag == page + 1 {
            entry.tag = 0;
        }
        if !self.large {
            return;
        }
        let region = page & !0x3FF;
        for piece in region..region + 0x400 {
            let entry = &mut self.entries[Tlb::slot(piece)];
            if entry.tag == piece + 1 && entry.large {
                entry.tag = 0;
            }
        }
    }
}

impl Cpu {
    /// Translates `linear` for an access by code at privilege `user` (CPL 3), walking the page
    /// tables and setting accessed/dirty bits on a TLB miss.
    pub fn translate(
        &mut self,
        bus: &mut dyn Bus,
        linear: u32,
        access: Access,
        user: bool,
    ) -> Result<u32> {
        if self.cr0 & cr0::PG == 0 {
            return Ok(linear);
        }
        let page = linear >> 12;
        let write = access == Access::Write;
        let entry = self.tlb.entries[Tlb::slot(page)];
        if entry.tag == page + 1
            && self.permitted(entry.user, entry.writable, access, user)
            && (!write || entry.dirty)
        {
            return Ok(entry.frame | (linear & 0xFFF));
        }
        self.walk(bus, linear, access, user)
    }

    fn permitted(&self, page_user: bool, page_writable: bool, access: Access, user: bool) -> bool {
        if user && !page_user {
            return false;
        }
        if access != Access::Write || page_writable {
            return true;
        }
        // Supervisor writes ignore read-only pages unless CR0.WP is set.
        !user && self.cr0 & cr0::WP == 0
    }

    fn walk(&mut self, bus: &mut dyn Bus, linear: u32, access: Access, user: bool) -> Result<u32> {
        let write = access == Access::Write;
        let code = |present: bool| {
            (if present { pf::PRESENT } else { 0 })
                | (if write { pf::WRITE } else { 0 })
                | (if user { pf::USER } else { 0 })
        };
        // PAE: 8-byte entries and 9-bit indexes below a four-entry pointer table; the low
        // halves hold every bit a 4 GiB machine uses. Otherwise 4-byte entries, 10-bit indexes.
        let pae = self.cr4 & cr4::PAE != 0;
        let pde_addr = if pae {
            let pointer = self.pdpte[(linear >> 30) as usize];
            if pointer & u64::from(pte::PRESENT) == 0 {
                self.cr2 = linear;
                return Err(Fault::pf(code(false)));
            }
            (pointer as u32 & 0xFFFF_F000) | ((linear >> 18) & 0xFF8)
        } else {
            (self.cr3 & 0xFFFF_F000) | ((linear >> 22) << 2)
        };
        let pde = self.phys_read(bus, pde_addr, 4);
        if pde & pte::PRESENT == 0 {
            self.cr2 = linear;
            return Err(Fault::pf(code(false)));
        }
        let large = pde & pte::LARGE != 0 && (pae || self.cr4 & cr4::PSE != 0);
        let (entry_addr, entry, frame) = if large {
            let offset_mask = if pae { 0x001F_F000 } else { 0x003F_F000 };
            (
                pde_addr,
                pde,
                (pde & !(offset_mask | 0xFFF)) | (linear & offset_mask),
            )
        } else {
            let pte_addr = if pae {
                (pde & 0xFFFF_F000) | ((linear >> 9) & 0xFF8)
            } else {
                (pde & 0xFFFF_F000) | ((linear >> 10) & 0xFFC)
            };
            let entry = self.phys_read(bus, pte_addr, 4);
            if entry & pte::PRESENT == 0 {
                self.cr2 = linear;
                return Err(Fault::pf(code(false)));
            }
            (pte_addr, entry, entry & 0xFFFF_F000)
        };
        // Both levels must allow the access.
        let page_user = pde & entry & pte::USER != 0;
        let page_writable = pde & entry & pte::WRITABLE != 0;
        if !self.permitted(page_user, page_writable, access, user) {
            self.cr2 = linear;
            return Err(Fault::pf(code(true)));
        }
        if !large && pde & pte::ACCESSED == 0 {
            self.phys_write(bus, pde_addr, 4, pde | pte::ACCESSED);
        }
        let mut updated = entry | pte::ACCESSED;
        if write {
            updated |= pte::DIRTY;
        }
        if updated != entry {
            self.phys_write(bus, entry_addr, 4, updated);
        }
        let page = linear >> 12;
        self.tlb.entries[Tlb::slot(page)] = TlbEntry {
            tag: page + 1,
            frame,
            user: page_user,
            writable: page_writable,
            dirty: updated & pte::DIRTY != 0,
            global: entry & pte::GLOBAL != 0 && self.cr4 & cr4::PGE != 0,
            large,
        };
        self.tlb.large |= large;
        Ok(frame | (linear & 0xFFF))
    }

    /// Loads the four PAE page-directory pointers from CR3, as the processor does when CR3 is
    /// written or PAE paging is turned on; later changes in memory are not seen until then.
    pub(crate) fn load_pdptes(&mut self, bus: &mut dyn Bus) {
        if self.cr4 & cr4::PAE == 0 || self.cr0 & cr0::PG == 0 {
            return;
        }
        let base = self.cr3 & 0xFFFF_FFE0;
        for i in 0..4 {
            let low = self.phys_read(bus, base + 8 * i, 4);
            let high = self.phys_read(bus, base + 8 * i + 4, 4);
            self.pdpte[i as usize] = u64::from(low) | u64::from(high) << 32;
        }
    }

    /// Reads 1, 2 or 4 bytes at a physical address that does not cross a page.
    pub fn phys_read(&mut self, bus: &mut dyn Bus, addr: u32, size: usize) -> u32 {
        let ram = bus.ram();
        let start = addr as usize;
        if let Some(bytes) = ram.get(start..start + size) {
            let mut value = [0u8; 4];
            value[..size].copy_from_slice(bytes);
            return u32::from_le_bytes(value);
        }
        bus.sync(self.cycles);
        bus.read(addr, size)
    }

    /// Writes 1, 2 or 4 bytes at a physical address that does not cross a page, dropping
    /// decoded code the write touches.
    pub fn phys_write(&mut self, bus: &mut dyn Bus, addr: u32, size: usize, value: u32) {
        self.code.written(addr);
        let ram = bus.ram();
        let start = addr as usize;
        if let Some(bytes) = ram.get_mut(start..start + size) {
            bytes.copy_from_slice(&value.to_le_bytes()[..size]);
            return;
        }
        bus.sync(self.cycles);
        bus.write(addr, size, value);
    }

    /// Reads `size` bytes (1, 2 or 4) at a linear address with the page checks of `access`.
    /// An access across a page boundary translates both pages before reading either.
    pub fn linear_read(
        &mut self,
        bus: &mut dyn Bus,
        linear: u32,
        size: usize,
        access: Access,
        user: bool,
    ) -> Result<u32> {
        let first = self.translate(bus, linear, access, user)?;
        let in_page = (PAGE - (linear & 0xFFF)) as usize;
        if size <= in_page {
            return Ok(self.phys_read(bus, first, size));
        }
        let second = self.translate(bus, linear.wrapping_add(in_page as u32), access, user)?;
        let mut value = 0u32;
        for i in 0..size {
            let addr = if i < in_page {
                first + i as u32
            } else {
                second + (i - in_page) as u32
            };
            value |= self.phys_read(bus, addr, 1) << (8 * i);
        }
        Ok(value)
    }

    /// Writes `size` bytes (1, 2 or 4) at a linear address; both pages of a split write are
    /// checked before either is written, so a fault leaves memory untouched.
    pub fn linear_write(
        &mut self,
        bus: &mut dyn Bus,
        linear: u32,
        size: usize,
        value: u32,
        user: bool,
    ) -> Result<()> {
        let first = self.translate(bus, linear, Access::Write, user)?;
        let in_page = (PAGE - (linear & 0xFFF)) as usize;
        if size <= in_page {
            self.phys_write(bus, first, size, value);
            return Ok(());
        }
        let second = self.translate(
            bus,
            linear.wrapping_add(in_page as u32),
            Access::Write,
            user,
        )?;
        for i in 0..size {
            let addr = if i < in_page {
                first + i as u32
            } else {
                second + (i - in_page) as u32
            };
            self.phys_write(bus, addr, 1, (value >> (8 * i)) & 0xFF);
        }
        Ok(())
    }
}

impl Snapshot for Tlb {
    /// The entries are saved, not flushed: a guest that changed its page tables without
    /// INVLPG sees the same stale translations after a load as in the run that saved.
    fn state(&mut self, s: &mut State) {
        for entry in self.entries.iter_mut() {
            s.u32(&mut entry.tag);
            s.u32(&mut entry.frame);
            let mut flags = u8::from(entry.user)
                | u8::from(entry.writable) << 1
                | u8::from(entry.dirty) << 2
                | u8::from(entry.global) << 3
                | u8::from(entry.large) << 4;
            s.u8(&mut flags);
            entry.user = flags & 1 != 0;
            entry.writable = flags & 2 != 0;
            entry.dirty = flags & 4 != 0;
            entry.global = flags & 8 != 0;
            entry.large = flags & 16 != 0;
        }
        s.bool(&mut self.large);
    }
}
