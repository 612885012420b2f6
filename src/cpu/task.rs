//! Hardware task switching through task gates and TSS descriptors (32-bit TSS format).
//!
//! The Xbox kernel handles double faults with a task gate, so a fault on a corrupt stack still
//! reaches its handler on a known-good stack.

use super::Cpu;
use super::bus::Bus;
use super::fault::{Fault, Result};
use super::mmu::Access;
use super::segment::{decode_descriptor, selector_code};
use super::state::{Seg, Segment, attr, cr0, flag};

/// How a task switch was started, which decides busy bits, NT and the back link.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Switch {
    Jump,
    Call,
    Interrupt,
    Return,
}

/// Offsets in a 32-bit TSS.
mod tss {
    pub const LINK: u32 = 0;
    pub const CR3: u32 = 28;
    pub const EIP: u32 = 32;
    pub const EFLAGS: u32 = 36;
    pub const REGS: u32 = 40;
    pub const SEGS: u32 = 72;
    pub const LDT: u32 = 96;
    /// The smallest legal limit of a 32-bit TSS.
    pub const MIN_LIMIT: u32 = 0x67;
}

const TSS32_AVAILABLE: u16 = 0x09;
const TSS32_BUSY: u16 = 0x0B;

impl Cpu {
    /// A task switch through an IDT task gate naming TSS `selector`; the error code, if any,
    /// is pushed on the new task's stack.
    pub(crate) fn task_switch_gate(
        &mut self,
        bus: &mut dyn Bus,
        selector: u16,
        error_code: Option<u32>,
        external: u32,
    ) -> Result<()> {
        self.task_switch(bus, selector, Switch::Interrupt, external)?;
        if let Some(code) = error_code {
            let size = if self.seg[Seg::Cs as usize].big() {
                4
            } else {
                2
            };
            self.push(bus, size, code)?;
        }
        Ok(())
    }

    /// IRET with NT set: return to the task named by the current TSS's back link.
    pub(crate) fn task_return(&mut self, bus: &mut dyn Bus) -> Result<()> {
        let link = self.linear_read(
            bus,
            self.tr.base.wrapping_add(tss::LINK),
            2,
            Access::Read,
            false,
        )? as u16;
        self.task_switch(bus, link, Switch::Return, 0)
    }

    /// Switches to the task whose TSS descriptor `selector` names.
    pub(crate) fn task_switch(
        &mut self,
        bus: &mut dyn Bus,
        selector: u16,
        how: Switch,
        external: u32,
    ) -> Result<()> {
        let code = selector_code(selector) + external;
        if selector & 4 != 0 || selector & 0xFFFC == 0 {
            return Err(Fault::ts(code));
        }
        let raw = self.read_descriptor(bus, selector, Fault::ts)?;
        let new = decode_descriptor(selector, raw);
        let kind = new.attrs & 0x1F;
        let wanted = if how == Switch::Return {
            TSS32_BUSY
        } else {
            TSS32_AVAILABLE
        };
        if kind != wanted {
            return Err(if how == Switch::Return {
                Fault::ts(code)
            } else {
                Fault::gp(code)
            });
        }
        if new.attrs & attr::PRESENT == 0 {
            return Err(Fault::np(code));
        }
        if new.limit < tss::MIN_LIMIT {
            return Err(Fault::ts(code));
        }

        // Save the outgoing task; only IRET clears NT in the image it saves (SDM Vol. 3,
        // table 7-2).
        let old = self.tr;
        let mut flags = self.eflags;
        if how == Switch::Return {
            flags &= !flag::NT;
        }
        let write = |cpu: &mut Cpu, bus: &mut dyn Bus, offset: u32, size: usize, value: u32| {
            cpu.linear_write(bus, old.base.wrapping_add(offset), size, value, false)
        };
        write(self, bus, tss::EIP, 4, self.eip)?;
        write(self, bus, tss::EFLAGS, 4, flags)?;
        for i in 0..8 {
            write(self, bus, tss::REGS + 4 * i as u32, 4, self.regs[i])?;
        }
        for (i, seg) in Seg::ALL.iter().enumerate() {
            write(
                self,
                bus,
                tss::SEGS + 4 * i as u32,
                2,
                u32::from(self.seg[*seg as usize].selector),
            )?;
        }
        if matches!(how, Switch::Jump | Switch::Return) {
            self.set_tss_busy(bus, old.selector, false)?;
        }

        // Read the incoming task.
        let read = |cpu: &mut Cpu, bus: &mut dyn Bus, offset: u32, size: usize| {
            cpu.linear_read(
                bus,
                new.base.wrapping_add(offset),
                size,
                Access::Read,
                false,
            )
        };
        let cr3 = read(self, bus, tss::CR3, 4)?;
        let eip = read(self, bus, tss::EIP, 4)?;
        let mut new_flags = read(self, bus, tss::EFLAGS, 4)?;
        let mut regs = [0u32; 8];
        for (i, value) in regs.iter_mut().enumerate() {
            *value = read(self, bus, tss::REGS + 4 * i as u32, 4)?;
        }
        let mut selectors = [0u16; 6];
        for (i, value) in selectors.iter_mut().enumerate() {
            *value = read(self, bus, tss::SEGS + 4 * i as u32, 2)? as u16;
        }
        let ldt = read(self, bus, tss::LDT, 2)? as u16;

        if matches!(how, Switch::Call | Switch::Interrupt) {
            self.linear_write(
                bus,
                new.base.wrapping_add(tss::LINK),
                2,
                u32::from(old.selector),
                false,
            )?;
            new_flags |= flag::NT;
        }
        if how != Switch::Return {
            self.set_tss_busy(bus, selector, true)?;
        }

        // From here on the switch is committed: faults belong to the new task.
        self.tr = Segment {
            attrs: (new.attrs & !0x1F) | TSS32_BUSY,
            ..new
        };
        self.cr0 |= cr0::TS;
        if self.cr0 & cr0::PG != 0 && cr3 != self.cr3 {
            self.cr3 = cr3 & 0xFFFF_FFF8;
            self.tlb.flush(true);
            self.load_pdptes(bus);
        }
        self.eflags = (new_flags & (flag::WRITABLE | flag::VM)) | flag::FIXED;
        self.eip = eip;
        self.regs = regs;
        self.load_task_segments(bus, ldt, selectors)
    }

    /// Loads LDTR and the segment registers of the task just switched to (#TS on bad ones).
    fn load_task_segments(
        &mut self,
        bus: &mut dyn Bus,
        ldt: u16,
        selectors: [u16; 6],
    ) -> Result<()> {
        if self.v86_mode() {
            self.cpl = 3;
            for (seg, selector) in Seg::ALL.iter().zip(selectors) {
                self.seg[*seg as usize] = Segment {
                    attrs: Segment::real(selector).attrs | 3 << attr::DPL_SHIFT,
                    ..Segment::real(selector)
                };
            }
            return Ok(());
        }
        // The selectors are visible even if their descriptors turn out bad.
        for (seg, selector) in Seg::ALL.iter().zip(selectors) {
            self.seg[*seg as usize].selector = selector;
        }
        self.ldtr = Segment {
            selector: ldt,
            ..Segment::default()
        };
        if ldt & 0xFFFC != 0 {
            let raw = self.read_descriptor(bus, ldt & !4, Fault::ts)?;
            let table = decode_descriptor(ldt, raw);
            if ldt & 4 != 0 || table.attrs & 0x1F != 0x02 {
                return Err(Fault::ts(selector_code(ldt)));
            }
            if table.attrs & attr::PRESENT == 0 {
                return Err(Fault::ts(selector_code(ldt)));
            }
            self.ldtr = table;
        }
        let cs = selectors[Seg::Cs as usize];
        let cs_raw = self.read_descriptor(bus, cs, Fault::ts)?;
        let code = decode_descriptor(cs, cs_raw);
        if code.attrs & (attr::S | attr::CODE) != attr::S | attr::CODE {
            return Err(Fault::ts(selector_code(cs)));
        }
        if code.attrs & attr::PRESENT == 0 {
            return Err(Fault::np(selector_code(cs)));
        }
        self.cpl = (cs & 3) as u8;
        self.seg[Seg::Cs as usize] = Segment {
            attrs: code.attrs | attr::ACCESSED,
            ..code
        };
        for seg in [Seg::Ss, Seg::Ds, Seg::Es, Seg::Fs, Seg::Gs] {
            let selector = selectors[seg as usize];
            self.load_segment(bus, seg, selector)
                .map_err(|fault| match fault.vector {
                    super::fault::vector::GP => Fault::ts(selector_code(selector)),
                    _ => fault,
                })?;
        }
        Ok(())
    }

    /// Sets or clears the busy bit of a TSS descriptor in the GDT.
    fn set_tss_busy(&mut self, bus: &mut dyn Bus, selector: u16, busy: bool) -> Result<()> {
        let address = self
            .gdtr
            .base
            .wrapping_add(u32::from(selector & 0xFFF8) + 5);
        let access = self.linear_read(bus, address, 1, Access::Read, false)?;
        let access = if busy { access | 0x02 } else { access & !0x02 };
        self.linear_write(bus, address, 1, access, false)
    }
}
