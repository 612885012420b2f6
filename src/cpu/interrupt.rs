//! Interrupt and exception delivery (real mode through the IVT, protected mode through IDT
//! interrupt, trap and task gates), the double-fault rules, and IRET.

use super::Cpu;
use super::bus::Bus;
use super::fault::{Fault, Result, vector};
use super::mmu::Access;
use super::segment::{decode_descriptor, selector_code};
use super::state::{Seg, Segment, attr, flag, reg};

/// Where an interrupt comes from, which decides privilege checks and error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// INTR from the interrupt controller (or NMI).
    External,
    /// INT n, INT3, INTO: subject to the gate's DPL.
    Software,
    /// A processor exception, with its error code if it has one.
    Exception(Option<u32>),
}

/// IDT gate types (descriptor type field).
mod gate {
    pub const TASK: u8 = 0x5;
    pub const INTERRUPT16: u8 = 0x6;
    pub const TRAP16: u8 = 0x7;
    pub const INTERRUPT32: u8 = 0xE;
    pub const TRAP32: u8 = 0xF;
}

impl Cpu {
    /// Delivers a fault; a fault during delivery becomes a double fault where the SDM's table
    /// says so, and a fault while delivering a double fault shuts the processor down (Err).
    pub(crate) fn deliver_fault(
        &mut self,
        bus: &mut dyn Bus,
        fault: Fault,
    ) -> std::result::Result<(), ()> {
        let mut current = fault;
        loop {
            let next =
                match self.deliver(bus, current.vector, Source::Exception(current.error_code)) {
                    Ok(()) => return Ok(()),
                    Err(next) => next,
                };
            if current.vector == vector::DF {
                return Err(());
            }
            let page_fault = |f: &Fault| f.vector == vector::PF;
            let double = (current.contributory() && next.contributory())
                || (page_fault(&current) && (next.contributory() || page_fault(&next)));
            current = if double {
                Fault {
                    vector: vector::DF,
                    error_code: Some(0),
                }
            } else {
                next
            };
        }
    }

    /// Transfers control to the handler for `vector`.
    pub(crate) fn deliver(&mut self, bus: &mut dyn Bus, vector: u8, source: Source) -> Result<()> {
        self.halted = false;
        if !self.protected_mode() {
            return self.deliver_real(bus, vector);
        }
        self.deliver_protected(bus, vector, source)
    }

    fn deliver_real(&mut self, bus: &mut dyn Bus, vector: u8) -> Result<()> {
        let entry = u32::from(vector) * 4;
        if entry + 3 > u32::from(self.idtr.limit) {
            return Err(Fault::gp(0));
        }
        let address = self.idtr.base.wrapping_add(entry);
        let ip = self.linear_read(bus, address, 2, Access::Read, false)?;
        let cs = self.linear_read(bus, address.wrapping_add(2), 2, Access::Read, false)? as u16;
        self.push(bus, 2, self.eflags)?;
        self.push(bus, 2, u32::from(self.seg[Seg::Cs as usize].selector))?;
        self.push(bus, 2, self.eip)?;
        self.eflags &= !(flag::IF | flag::TF | flag::AC | flag::RF);
        let code = &mut self.seg[Seg::Cs as usize];
        code.selector = cs;
        code.base = u32::from(cs) << 4;
        self.eip = ip;
        Ok(())
    }

    fn deliver_protected(&mut self, bus: &mut dyn Bus, vector: u8, source: Source) -> Result<()> {
        let external = u32::from(source != Source::Software);
        let idt_code = u32::from(vector) * 8 + 2 + external;
        let entry = u32::from(vector) * 8;
        if entry + 7 > u32::from(self.idtr.limit) {
            return Err(Fault::gp(idt_code));
        }
        let address = self.idtr.base.wrapping_add(entry);
        let low = self.linear_read(bus, address, 4, Access::Read, false)?;
        let high = self.linear_read(bus, address.wrapping_add(4), 4, Access::Read, false)?;
        let kind = ((high >> 8) & 0x1F) as u8;
        let dpl = ((high >> 13) & 3) as u8;
        if !matches!(
            kind,
            gate::TASK | gate::INTERRUPT16 | gate::TRAP16 | gate::INTERRUPT32 | gate::TRAP32
        ) {
            return Err(Fault::gp(idt_code));
        }
        if source == Source::Software && dpl < self.cpl {
            return Err(Fault::gp(idt_code));
        }
        if high & (1 << 15) == 0 {
            return Err(Fault::np(idt_code));
        }
        let error_code = match source {
            Source::Exception(code) => code,
            _ => None,
        };
        let selector = (low >> 16) as u16;
        if kind == gate::TASK {
            return self.task_switch_gate(bus, selector, error_code, external);
        }
        let offset = (high & 0xFFFF_0000) | (low & 0xFFFF);
        let gate32 = kind & 8 != 0;
        let clear_if = kind == gate::INTERRUPT16 || kind == gate::INTERRUPT32;

        if selector & 0xFFFC == 0 {
            return Err(Fault::gp(external));
        }
        let code_fault = |_| Fault::gp(selector_code(selector) + external);
        let raw = self
            .read_descriptor(bus, selector, Fault::gp)
            .map_err(code_fault)?;
        let target = decode_descriptor(selector, raw);
        let is_code = target.attrs & (attr::S | attr::CODE) == attr::S | attr::CODE;
        if !is_code || target.dpl() > self.cpl {
            return Err(Fault::gp(selector_code(selector) + external));
        }
        if target.attrs & attr::PRESENT == 0 {
            return Err(Fault::np(selector_code(selector) + external));
        }
        let offset = if gate32 { offset } else { offset & 0xFFFF };
        if !target.contains(offset, 1) {
            return Err(Fault::gp(0));
        }
        let conforming = target.attrs & attr::DC != 0;
        let new_cpl = if conforming { self.cpl } else { target.dpl() };
        let v86 = self.v86_mode();
        if v86 && new_cpl != 0 {
            return Err(Fault::gp(selector_code(selector) + external));
        }

        let flags = self.eflags;
        let old_cs = self.seg[Seg::Cs as usize].selector;
        let old_eip = self.eip;
        let size = if gate32 { 4 } else { 2 };
        if new_cpl < self.cpl {
            // Inner privilege: switch to the stack the TSS names for the new level.
            let (ss_selector, esp) = self.tss_stack(bus, new_cpl)?;
            let stack = self.check_stack(bus, ss_selector, new_cpl, Fault::ts)?;
            let old_ss = self.seg[Seg::Ss as usize];
            let old_esp = self.regs[reg::ESP];
            let saved = self.seg;
            self.seg[Seg::Ss as usize] = stack;
            self.regs[reg::ESP] = esp;
            self.cpl = new_cpl;
            let pushed = (|| -> Result<()> {
                if v86 {
                    for seg in [Seg::Gs, Seg::Fs, Seg::Ds, Seg::Es] {
                        self.push(bus, size, u32::from(saved[seg as usize].selector))?;
                    }
                }
                self.push(bus, size, u32::from(old_ss.selector))?;
                self.push(bus, size, old_esp)?;
                Ok(())
            })();
            if let Err(fault) = pushed {
                self.seg = saved;
                self.regs[reg::ESP] = old_esp;
                self.cpl = old_cs as u8 & 3;
                return Err(fault);
            }
            if v86 {
                for seg in [Seg::Gs, Seg::Fs, Seg::Ds, Seg::Es] {
                    self.seg[seg as usize] = Segment::default();
                }
            }
        }
        self.push(bus, size, flags)?;
        self.push(bus, size, u32::from(old_cs))?;
        self.push(bus, size, old_eip)?;
        if let Some(code) = error_code {
            self.push(bus, size, code)?;
        }
        self.mark_accessed(bus, selector, raw)?;
        self.seg[Seg::Cs as usize] = Segment {
            selector: (selector & 0xFFFC) | u16::from(new_cpl),
            attrs: target.attrs | attr::ACCESSED,
            ..target
        };
        self.cpl = new_cpl;
        self.eip = offset;
        self.eflags &= !(flag::TF | flag::NT | flag::RF | flag::VM);
        if clear_if {
            self.eflags &= !flag::IF;
        }
        Ok(())
    }

    /// SS:ESP for privilege level `level` from the current 32-bit TSS.
    pub(crate) fn tss_stack(&mut self, bus: &mut dyn Bus, level: u8) -> Result<(u16, u32)> {
        let offset = 4 + 8 * u32::from(level);
        if offset + 5 > self.tr.limit {
            return Err(Fault::ts(selector_code(self.tr.selector)));
        }
        let base = self.tr.base.wrapping_add(offset);
        let esp = self.linear_read(bus, base, 4, Access::Read, false)?;
        let ss = self.linear_read(bus, base.wrapping_add(4), 2, Access::Read, false)? as u16;
        Ok((ss, esp))
    }

    /// Checks a stack segment being switched to for privilege level `level`: a writable data
    /// segment with RPL = DPL = `level`, else `fault` (#TS entering a handler, #GP returning),
    /// and #SS if it is absent.
    pub(crate) fn check_stack(
        &mut self,
        bus: &mut dyn Bus,
        selector: u16,
        level: u8,
        fault: fn(u32) -> Fault,
    ) -> Result<Segment> {
        let code = selector_code(selector);
        if selector & 0xFFFC == 0 {
            return Err(fault(code));
        }
        let raw = self.read_descriptor(bus, selector, fault)?;
        let stack = decode_descriptor(selector, raw);
        let writable_data = stack.attrs & (attr::S | attr::CODE | attr::RW) == attr::S | attr::RW;
        if (selector & 3) as u8 != level || stack.dpl() != level || !writable_data {
            return Err(fault(code));
        }
        if stack.attrs & attr::PRESENT == 0 {
            return Err(Fault::ss(code));
        }
        self.mark_accessed(bus, selector, raw)?;
        Ok(Segment {
            attrs: stack.attrs | attr::ACCESSED,
            ..stack
        })
    }
}
