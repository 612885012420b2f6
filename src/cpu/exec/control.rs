//! Control transfers: jumps, calls and returns (near and far), loops, software interrupts,
//! IRET and BOUND.

use super::condition;
use super::data::size_mask;
use crate::cpu::Cpu;
use crate::cpu::bus::Bus;
use crate::cpu::fault::{Fault, Result};
use crate::cpu::interrupt::Source;
use crate::cpu::segment::{decode_descriptor, selector_code};
use crate::cpu::state::{Seg, Segment, attr, flag, reg};
use crate::cpu::task::Switch;
use iced_x86::{Code, Instruction, MemorySize, Mnemonic as M, OpKind};

pub fn handles(m: M) -> bool {
    matches!(
        m,
        M::Jmp
            | M::Jo
            | M::Jno
            | M::Jb
            | M::Jae
            | M::Je
            | M::Jne
            | M::Jbe
            | M::Ja
            | M::Js
            | M::Jns
            | M::Jp
            | M::Jnp
            | M::Jl
            | M::Jge
            | M::Jle
            | M::Jg
            | M::Jcxz
            | M::Jecxz
            | M::Loop
            | M::Loope
            | M::Loopne
            | M::Call
            | M::Ret
            | M::Retf
            | M::Int
            | M::Int3
            | M::Int1
            | M::Into
            | M::Iret
            | M::Iretd
            | M::Bound
    )
}

/// How a far transfer reached its target.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Far {
    Jump,
    Call,
}

impl Cpu {
    pub(super) fn execute_control(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        match ins.mnemonic() {
            M::Jmp | M::Call => {
                let call = ins.mnemonic() == M::Call;
                if let Some((selector, offset, size)) = self.far_target(bus, ins)? {
                    let how = if call { Far::Call } else { Far::Jump };
                    return self.far_transfer(bus, selector, offset, how, size);
                }
                let target = self.branch_target(bus, ins)?;
                if !call {
                    return self.jump_near(target);
                }
                let size = (-ins.stack_pointer_increment()) as usize;
                self.check_branch(target)?;
                self.push(bus, size, self.eip & size_mask(size))?;
                self.eip = target;
                Ok(())
            }
            M::Ret => {
                let size = if matches!(ins.code(), Code::Retnd | Code::Retnd_imm16) {
                    4
                } else {
                    2
                };
                let target = self.peek(bus, 0, size)?;
                self.check_branch(target)?;
                self.regs[reg::ESP] =
                    self.stack_pointer(size as i32 + i32::from(ins.immediate16()));
                self.eip = target;
                Ok(())
            }
            M::Retf => {
                let size = if matches!(ins.code(), Code::Retfd | Code::Retfd_imm16) {
                    4
                } else {
                    2
                };
                self.return_far(bus, size, u32::from(ins.immediate16()))
            }
            M::Jcxz | M::Jecxz => {
                let count = if ins.mnemonic() == M::Jecxz {
                    self.regs[reg::ECX]
                } else {
                    self.regs[reg::ECX] & 0xFFFF
                };
                if count == 0 {
                    return self.jump_near(self.near_target(ins));
                }
                Ok(())
            }
            M::Loop | M::Loope | M::Loopne => {
                let ecx32 = matches!(
                    ins.code(),
                    Code::Loop_rel8_16_ECX
                        | Code::Loop_rel8_32_ECX
                        | Code::Loope_rel8_16_ECX
                        | Code::Loope_rel8_32_ECX
                        | Code::Loopne_rel8_16_ECX
                        | Code::Loopne_rel8_32_ECX
                );
                let mask = if ecx32 { u32::MAX } else { 0xFFFF };
                let count = self.regs[reg::ECX].wrapping_sub(1) & mask;
                let zf = self.eflags & flag::ZF != 0;
                let taken = count != 0
                    && match ins.mnemonic() {
                        M::Loope => zf,
                        M::Loopne => !zf,
                        _ => true,
                    };
                let target = self.near_target(ins);
                if taken {
                    self.check_branch(target)?;
                }
                self.regs[reg::ECX] = (self.regs[reg::ECX] & !mask) | count;
                if taken {
                    self.eip = target;
                }
                Ok(())
            }
            M::Int => {
                if self.v86_mode() && self.iopl() < 3 {
                    return Err(Fault::gp(0));
                }
                self.deliver(bus, ins.immediate8(), Source::Software)
            }
            M::Int3 => self.deliver(bus, 3, Source::Software),
            M::Int1 => self.deliver(bus, 1, Source::External),
            M::Into => {
                if self.eflags & flag::OF != 0 {
                    return self.deliver(bus, 4, Source::Software);
                }
                Ok(())
            }
            M::Iret | M::Iretd => self.iret(bus, if ins.mnemonic() == M::Iretd { 4 } else { 2 }),
            M::Bound => {
                let size = ins.op0_register().size();
                let index = self.reg(ins.op0_register());
                let lower = self.read_memory_at(bus, ins, 0, size)?;
                let upper = self.read_memory_at(bus, ins, size as u32, size)?;
                let signed = |v: u32| {
                    if size == 2 {
                        i32::from(v as u16 as i16)
                    } else {
                        v as i32
                    }
                };
                if signed(index) < signed(lower) || signed(index) > signed(upper) {
                    return Err(Fault::br());
                }
                Ok(())
            }
            _ => {
                if condition(ins.condition_code(), self.eflags) {
                    return self.jump_near(self.near_target(ins));
                }
                Ok(())
            }
        }
    }

    /// A relative branch's target, wrapped to the operand size.
    fn near_target(&self, ins: &Instruction) -> u32 {
        let target = ins.near_branch_target() as u32;
        if ins.op0_kind() == OpKind::NearBranch16 {
            target & 0xFFFF
        } else {
            target
        }
    }

    /// The target of a near JMP or CALL, direct or through a register or memory.
    fn branch_target(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<u32> {
        match ins.op0_kind() {
            OpKind::NearBranch16 | OpKind::NearBranch32 => Ok(self.near_target(ins)),
            _ => self.read_operand(bus, ins, 0),
        }
    }

    fn check_branch(&self, target: u32) -> Result<()> {
        if self.seg[Seg::Cs as usize].contains(target, 1) {
            Ok(())
        } else {
            Err(Fault::gp(0))
        }
    }

    fn jump_near(&mut self, target: u32) -> Result<()> {
        self.check_branch(target)?;
        self.eip = target;
        Ok(())
    }

    /// The selector, offset and operand size of a far JMP or CALL (direct, or through an
    /// m16:16/m16:32 pointer); None for a near one.
    fn far_target(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
    ) -> Result<Option<(u16, u32, usize)>> {
        Ok(match ins.op0_kind() {
            OpKind::FarBranch16 | OpKind::FarBranch32 => Some((
                ins.far_branch_selector(),
                far_offset(ins),
                operand_size(ins),
            )),
            OpKind::Memory if far_memory(ins) => {
                let (selector, offset) = self.far_pointer(bus, ins)?;
                Some((selector, offset, ins.memory_size().size() - 2))
            }
            _ => None,
        })
    }

    /// The selector and offset of an m16:16 or m16:32 operand.
    fn far_pointer(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<(u16, u32)> {
        let size = ins.memory_size().size() - 2;
        let offset = self.read_memory_at(bus, ins, 0, size)?;
        let selector = self.read_memory_at(bus, ins, size as u32, 2)? as u16;
        Ok((selector, offset))
    }

    /// JMP FAR and CALL FAR to `selector:offset` with operand size `size`.
    fn far_transfer(
        &mut self,
        bus: &mut dyn Bus,
        selector: u16,
        offset: u32,
        how: Far,
        size: usize,
    ) -> Result<()> {
        let return_cs = u32::from(self.seg[Seg::Cs as usize].selector);
        let return_eip = self.eip;
        if !self.protected_mode() || self.v86_mode() {
            if how == Far::Call {
                let esp = self.regs[reg::ESP];
                self.push(bus, size, return_cs)?;
                self.push(bus, size, return_eip)
                    .inspect_err(|_| self.regs[reg::ESP] = esp)?;
            }
            let code = &mut self.seg[Seg::Cs as usize];
            code.selector = selector;
            code.base = u32::from(selector) << 4;
            self.eip = offset & size_mask(size);
            return Ok(());
        }
        if selector & 0xFFFC == 0 {
            return Err(Fault::gp(0));
        }
        let raw = self.read_descriptor(bus, selector, Fault::gp)?;
        let target = decode_descriptor(selector, raw);
        let code = selector_code(selector);
        if target.attrs & attr::S == 0 {
            return self.far_to_system(bus, selector, raw, how, size);
        }
        if target.attrs & attr::CODE == 0 {
            return Err(Fault::gp(code));
        }
        let rpl = (selector & 3) as u8;
        let conforming = target.attrs & attr::DC != 0;
        let allowed = if conforming {
            target.dpl() <= self.cpl
        } else {
            rpl <= self.cpl && target.dpl() == self.cpl
        };
        if !allowed {
            return Err(Fault::gp(code));
        }
        if target.attrs & attr::PRESENT == 0 {
            return Err(Fault::np(code));
        }
        let offset = offset & size_mask(size);
        if !target.contains(offset, 1) {
            return Err(Fault::gp(0));
        }
        if how == Far::Call {
            let esp = self.regs[reg::ESP];
            self.push(bus, size, return_cs)?;
            self.push(bus, size, return_eip)
                .inspect_err(|_| self.regs[reg::ESP] = esp)?;
        }
        self.mark_accessed(bus, selector, raw)?;
        self.seg[Seg::Cs as usize] = Segment {
            selector: (selector & 0xFFFC) | u16::from(self.cpl),
            attrs: target.attrs | attr::ACCESSED,
            ..target
        };
        self.eip = offset;
        Ok(())
    }

    /// Far JMP/CALL to a system descriptor: call gates, task gates and TSSs.
    fn far_to_system(
        &mut self,
        bus: &mut dyn Bus,
        selector: u16,
        raw: u64,
        how: Far,
        _size: usize,
    ) -> Result<()> {
        let code = selector_code(selector);
        let kind = ((raw >> 40) & 0x1F) as u8;
        let dpl = ((raw >> 45) & 3) as u8;
        let rpl = (selector & 3) as u8;
        let switch = if how == Far::Jump {
            Switch::Jump
        } else {
            Switch::Call
        };
        if !matches!(kind, 0x04 | 0x05 | 0x09 | 0x0C) || dpl < self.cpl.max(rpl) {
            return Err(Fault::gp(code));
        }
        if raw & (1 << 47) == 0 {
            return Err(Fault::np(code));
        }
        match kind {
            0x09 => self.task_switch(bus, selector, switch, 0),
            0x05 => self.task_switch(bus, (raw >> 16) as u16, switch, 0),
            _ => self.through_call_gate(bus, raw, how),
        }
    }

    /// A far JMP or CALL through a call gate: to the gate's target at the same privilege, or
    /// (CALL to a more privileged non-conforming segment) onto the inner stack from the TSS,
    /// copying the gate's count of parameters.
    fn through_call_gate(&mut self, bus: &mut dyn Bus, gate: u64, how: Far) -> Result<()> {
        let target_selector = (gate >> 16) as u16;
        let offset = (gate & 0xFFFF) as u32 | ((gate >> 32) as u32 & 0xFFFF_0000);
        let gate32 = (gate >> 40) & 0x1F == 0x0C;
        let size = if gate32 { 4 } else { 2 };
        let parameters = ((gate >> 32) & 0x1F) as u32;
        let code = selector_code(target_selector);
        if target_selector & 0xFFFC == 0 {
            return Err(Fault::gp(0));
        }
        let raw = self.read_descriptor(bus, target_selector, Fault::gp)?;
        let target = decode_descriptor(target_selector, raw);
        if target.attrs & (attr::S | attr::CODE) != attr::S | attr::CODE || target.dpl() > self.cpl
        {
            return Err(Fault::gp(code));
        }
        let conforming = target.attrs & attr::DC != 0;
        if how == Far::Jump && !conforming && target.dpl() != self.cpl {
            return Err(Fault::gp(code));
        }
        if target.attrs & attr::PRESENT == 0 {
            return Err(Fault::np(code));
        }
        let offset = if gate32 { offset } else { offset & 0xFFFF };
        if !target.contains(offset, 1) {
            return Err(Fault::gp(0));
        }
        let return_cs = u32::from(self.seg[Seg::Cs as usize].selector);
        let return_eip = self.eip;
        let new_cpl = if conforming { self.cpl } else { target.dpl() };
        if how == Far::Call && new_cpl < self.cpl {
            let (ss_selector, esp) = self.tss_stack(bus, new_cpl)?;
            let stack = self.check_stack(bus, ss_selector, new_cpl, Fault::ts)?;
            // Fetch the parameters from the old stack before switching.
            let mut copied = Vec::with_capacity(parameters as usize);
            for i in (0..parameters).rev() {
                copied.push(self.peek(bus, i * size as u32, size)?);
            }
            let old_ss = u32::from(self.seg[Seg::Ss as usize].selector);
            let old_esp = self.regs[reg::ESP];
            let saved = (self.seg, self.regs[reg::ESP], self.cpl);
            self.seg[Seg::Ss as usize] = stack;
            self.regs[reg::ESP] = esp;
            self.cpl = new_cpl;
            let pushed = (|| -> Result<()> {
                self.push(bus, size, old_ss)?;
                self.push(bus, size, old_esp)?;
                for value in &copied {
                    self.push(bus, size, *value)?;
                }
                self.push(bus, size, return_cs)?;
                self.push(bus, size, return_eip)
            })();
            if let Err(fault) = pushed {
                (self.seg, self.regs[reg::ESP], self.cpl) = saved;
                return Err(fault);
            }
        } else if how == Far::Call {
            let esp = self.regs[reg::ESP];
            self.push(bus, size, return_cs)?;
            self.push(bus, size, return_eip)
                .inspect_err(|_| self.regs[reg::ESP] = esp)?;
        }
        self.mark_accessed(bus, target_selector, raw)?;
        self.seg[Seg::Cs as usize] = Segment {
            selector: (target_selector & 0xFFFC) | u16::from(new_cpl),
            attrs: target.attrs | attr::ACCESSED,
            ..target
        };
        self.cpl = new_cpl;
        self.eip = offset;
        Ok(())
    }

    /// RETF: pops CS:EIP (and, returning to an outer level, SS:ESP) and releases `release`
    /// bytes of parameters.
    fn return_far(&mut self, bus: &mut dyn Bus, size: usize, release: u32) -> Result<()> {
        let offset = self.peek(bus, 0, size)?;
        let selector = self.peek(bus, size as u32, size)? as u16;
        if !self.protected_mode() || self.v86_mode() {
            let code = &mut self.seg[Seg::Cs as usize];
            code.selector = selector;
            code.base = u32::from(selector) << 4;
            self.eip = offset;
            self.regs[reg::ESP] = self.stack_pointer((2 * size) as i32 + release as i32);
            return Ok(());
        }
        let (target, raw) = self.return_code_segment(bus, selector)?;
        let rpl = (selector & 3) as u8;
        if !target.contains(offset, 1) {
            return Err(Fault::gp(0));
        }
        if rpl == self.cpl {
            self.mark_accessed(bus, selector, raw)?;
            self.seg[Seg::Cs as usize] = Segment {
                attrs: target.attrs | attr::ACCESSED,
                ..target
            };
            self.eip = offset;
            self.regs[reg::ESP] = self.stack_pointer((2 * size) as i32 + release as i32);
            return Ok(());
        }
        // Return to an outer privilege level: the caller's SS:ESP sit above the parameters.
        let above = (2 * size) as u32 + release;
        let esp = self.peek(bus, above, size)?;
        let ss_selector = self.peek(bus, above + size as u32, size)? as u16;
        let stack = self.check_stack(bus, ss_selector, rpl, Fault::gp)?;
        self.mark_accessed(bus, selector, raw)?;
        self.seg[Seg::Cs as usize] = Segment {
            attrs: target.attrs | attr::ACCESSED,
            ..target
        };
        self.seg[Seg::Ss as usize] = stack;
        self.cpl = rpl;
        self.eip = offset;
        let esp = esp.wrapping_add(release);
        self.regs[reg::ESP] = if stack.big() {
            esp
        } else {
            (self.regs[reg::ESP] & !0xFFFF) | (esp & 0xFFFF)
        };
        self.drop_inaccessible_segments();
        Ok(())
    }

    /// The checks of RETF and IRET on the code segment returned to.
    fn return_code_segment(&mut self, bus: &mut dyn Bus, selector: u16) -> Result<(Segment, u64)> {
        let code = selector_code(selector);
        if selector & 0xFFFC == 0 {
            return Err(Fault::gp(0));
        }
        let raw = self.read_descriptor(bus, selector, Fault::gp)?;
        let target = decode_descriptor(selector, raw);
        let rpl = (selector & 3) as u8;
        if target.attrs & (attr::S | attr::CODE) != attr::S | attr::CODE || rpl < self.cpl {
            return Err(Fault::gp(code));
        }
        let conforming = target.attrs & attr::DC != 0;
        if (conforming && target.dpl() > rpl) || (!conforming && target.dpl() != rpl) {
            return Err(Fault::gp(code));
        }
        if target.attrs & attr::PRESENT == 0 {
            return Err(Fault::np(code));
        }
        Ok((target, raw))
    }

    /// After a return to an outer level, data segments the new CPL may not use become null.
    fn drop_inaccessible_segments(&mut self) {
        for seg in [Seg::Es, Seg::Ds, Seg::Fs, Seg::Gs] {
            let segment = self.seg[seg as usize];
            let conforming_code = segment.attrs & (attr::CODE | attr::DC) == attr::CODE | attr::DC;
            if segment.selector & 0xFFFC != 0 && !conforming_code && segment.dpl() < self.cpl {
                self.seg[seg as usize] = Segment::default();
            }
        }
    }

    /// IRET: real mode, same-level and outer-level protected-mode returns, and returns to
    /// virtual-8086 mode.
    fn iret(&mut self, bus: &mut dyn Bus, size: usize) -> Result<()> {
        if !self.protected_mode() {
            let offset = self.peek(bus, 0, size)?;
            let selector = self.peek(bus, size as u32, size)? as u16;
            let flags = self.peek(bus, 2 * size as u32, size)?;
            self.check_real_target(offset)?;
            let code = &mut self.seg[Seg::Cs as usize];
            code.selector = selector;
            code.base = u32::from(selector) << 4;
            self.eip = offset;
            self.regs[reg::ESP] = self.stack_pointer(3 * size as i32);
            self.load_flags(flags, size);
            return Ok(());
        }
        if self.v86_mode() {
            if self.iopl() < 3 {
                return Err(Fault::gp(0));
            }
            let offset = self.peek(bus, 0, size)?;
            let selector = self.peek(bus, size as u32, size)? as u16;
            let flags = self.peek(bus, 2 * size as u32, size)?;
            let code = &mut self.seg[Seg::Cs as usize];
            code.selector = selector;
            code.base = u32::from(selector) << 4;
            self.eip = offset & 0xFFFF;
            self.regs[reg::ESP] = self.stack_pointer(3 * size as i32);
            self.load_flags(flags, size);
            return Ok(());
        }
        if self.eflags & flag::NT != 0 {
            return self.task_return(bus);
        }
        let offset = self.peek(bus, 0, size)?;
        let selector = self.peek(bus, size as u32, size)? as u16;
        let flags = self.peek(bus, 2 * size as u32, size)?;
        if size == 4 && flags & flag::VM != 0 && self.cpl == 0 {
            return self.iret_to_v86(bus, offset, selector, flags);
        }
        let (target, raw) = self.return_code_segment(bus, selector)?;
        let rpl = (selector & 3) as u8;
        if !target.contains(offset, 1) {
            return Err(Fault::gp(0));
        }
        let old_cpl = self.cpl;
        if rpl == self.cpl {
            self.mark_accessed(bus, selector, raw)?;
            self.regs[reg::ESP] = self.stack_pointer(3 * size as i32);
        } else {
            let esp = self.peek(bus, 3 * size as u32, size)?;
            let ss_selector = self.peek(bus, 4 * size as u32, size)? as u16;
            let stack = self.check_stack(bus, ss_selector, rpl, Fault::gp)?;
            self.mark_accessed(bus, selector, raw)?;
            self.seg[Seg::Ss as usize] = stack;
            self.regs[reg::ESP] = if stack.big() {
                esp
            } else {
                (self.regs[reg::ESP] & !0xFFFF) | (esp & 0xFFFF)
            };
        }
        self.seg[Seg::Cs as usize] = Segment {
            attrs: target.attrs | attr::ACCESSED,
            ..target
        };
        self.eip = offset;
        // The flag rules use the privilege level IRET ran at.
        self.load_flags(flags, size);
        if size == 4 {
            self.eflags = (self.eflags & !flag::RF) | (flags & flag::RF);
        }
        self.cpl = rpl;
        if rpl > old_cpl {
            self.drop_inaccessible_segments();
        }
        Ok(())
    }

    fn check_real_target(&self, offset: u32) -> Result<()> {
        if offset > self.seg[Seg::Cs as usize].limit {
            Err(Fault::gp(0))
        } else {
            Ok(())
        }
    }

    /// IRET from CPL 0 to virtual-8086 mode: the frame also holds SS:ESP and ES, DS, FS, GS.
    fn iret_to_v86(
        &mut self,
        bus: &mut dyn Bus,
        offset: u32,
        selector: u16,
        flags: u32,
    ) -> Result<()> {
        let mut frame = [0u32; 6];
        for (i, value) in frame.iter_mut().enumerate() {
            *value = self.peek(bus, 12 + 4 * i as u32, 4)?;
        }
        let [esp, ss, es, ds, fs, gs] = frame;
        self.eflags = (flags & (flag::WRITABLE | flag::VM)) | flag::FIXED;
        self.cpl = 3;
        for (seg, value) in [
            (Seg::Cs, selector),
            (Seg::Ss, ss as u16),
            (Seg::Es, es as u16),
            (Seg::Ds, ds as u16),
            (Seg::Fs, fs as u16),
            (Seg::Gs, gs as u16),
        ] {
            self.seg[seg as usize] = Segment {
                attrs: Segment::real(value).attrs | 3 << attr::DPL_SHIFT,
                ..Segment::real(value)
            };
        }
        self.regs[reg::ESP] = esp;
        self.eip = offset & 0xFFFF;
        Ok(())
    }
}

/// Whether an indirect JMP or CALL takes a far pointer (m16:16 or m16:32) from memory.
fn far_memory(ins: &Instruction) -> bool {
    matches!(
        ins.memory_size(),
        MemorySize::SegPtr16 | MemorySize::SegPtr32
    )
}

/// The operand size of a direct far branch.
fn operand_size(ins: &Instruction) -> usize {
    if ins.op0_kind() == OpKind::FarBranch32 {
        4
    } else {
        2
    }
}

fn far_offset(ins: &Instruction) -> u32 {
    if ins.op0_kind() == OpKind::FarBranch32 {
        ins.far_branch32()
    } else {
        u32::from(ins.far_branch16())
    }
}
