//! Data movement: MOV and its extensions, exchanges, the stack, flag transfers, conversions.

use super::condition;
use super::operand::{segment_of, size_of};
use crate::cpu::Cpu;
use crate::cpu::bus::Bus;
use crate::cpu::fault::{Fault, Result};
use crate::cpu::mmu::Access;
use crate::cpu::state::{Seg, flag, reg};
use iced_x86::{Instruction, Mnemonic as M, OpKind, Register};

pub fn handles(m: M) -> bool {
    is_cmov(m)
        || matches!(
            m,
            M::Mov
                | M::Movzx
                | M::Movsx
                | M::Lea
                | M::Xchg
                | M::Push
                | M::Pop
                | M::Pusha
                | M::Pushad
                | M::Popa
                | M::Popad
                | M::Pushf
                | M::Pushfd
                | M::Popf
                | M::Popfd
                | M::Lahf
                | M::Sahf
                | M::Cbw
                | M::Cwde
                | M::Cwd
                | M::Cdq
                | M::Xlatb
                | M::Lds
                | M::Les
                | M::Lfs
                | M::Lgs
                | M::Lss
                | M::Bswap
                | M::Seto
                | M::Setno
                | M::Setb
                | M::Setae
                | M::Sete
                | M::Setne
                | M::Setbe
                | M::Seta
                | M::Sets
                | M::Setns
                | M::Setp
                | M::Setnp
                | M::Setl
                | M::Setge
                | M::Setle
                | M::Setg
                | M::Enter
                | M::Leave
                | M::Clc
                | M::Stc
                | M::Cmc
                | M::Cld
                | M::Std
                | M::Salc
        )
}

/// Sign-extends the low `size` bytes of `value`.
fn sign_extend(value: u32, size: usize) -> u32 {
    match size {
        1 => value as u8 as i8 as u32,
        2 => value as u16 as i16 as u32,
        _ => value,
    }
}

impl Cpu {
    pub(super) fn execute_data(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        match ins.mnemonic() {
            M::Mov => self.mov(bus, ins),
            M::Movzx => {
                let value = self.read_operand(bus, ins, 1)?;
                self.write_operand(bus, ins, 0, value)
            }
            M::Movsx => {
                let value = self.read_operand(bus, ins, 1)?;
                self.write_operand(bus, ins, 0, sign_extend(value, size_of(ins, 1)))
            }
            M::Lea => {
                let address = self.effective_address(ins);
                self.write_operand(bus, ins, 0, address)
            }
            M::Xchg => {
                let a = self.read_operand(bus, ins, 0)?;
                let b = self.read_operand(bus, ins, 1)?;
                // The memory operand (if any) is written first, so a fault changes nothing.
                if ins.op0_kind() == OpKind::Memory {
                    self.write_operand(bus, ins, 0, b)?;
                    self.write_operand(bus, ins, 1, a)
                } else {
                    self.write_operand(bus, ins, 1, a)?;
                    self.write_operand(bus, ins, 0, b)
                }
            }
            M::Push => {
                let size = (-ins.stack_pointer_increment()) as usize;
                let value = self.read_operand(bus, ins, 0)?;
                if ins.op0_kind() == OpKind::Register && ins.op0_register().is_segment_register() {
                    // A segment register pushed with a 32-bit operand size writes 16 bits.
                    let esp = self.stack_pointer(-(size as i32));
                    self.write(bus, Seg::Ss, self.stack_offset(esp), 2, value)?;
                    self.regs[reg::ESP] = esp;
                    return Ok(());
                }
                let value = if ins.op0_kind() == OpKind::Immediate8to16
                    || ins.op0_kind() == OpKind::Immediate8to32
                {
                    value
                } else {
                    value & size_mask(size)
                };
                self.push(bus, size, value)
            }
            M::Pop => self.pop_operand(bus, ins),
            M::Pusha | M::Pushad => {
                let size = if ins.mnemonic() == M::Pushad { 4 } else { 2 };
                let esp = self.regs[reg::ESP];
                // All eight writes are checked by doing them on a copy of ESP first.
                for (i, value) in self.regs.into_iter().enumerate() {
                    let value = if i == reg::ESP { esp } else { value };
                    let slot = self.stack_pointer(-((i as i32 + 1) * size as i32));
                    self.write(
                        bus,
                        Seg::Ss,
                        self.stack_offset(slot),
                        size,
                        value & size_mask(size),
                    )?;
                }
                self.regs[reg::ESP] = self.stack_pointer(-8 * size as i32);
                Ok(())
            }
            M::Popa | M::Popad => {
                let size = if ins.mnemonic() == M::Popad { 4 } else { 2 };
                let mut values = [0u32; 8];
                for (i, value) in values.iter_mut().enumerate() {
                    *value = self.peek(bus, ((7 - i) * size) as u32, size)?;
                }
                for (i, value) in values.into_iter().enumerate() {
                    if i != reg::ESP {
                        let mask = size_mask(size);
                        self.regs[i] = (self.regs[i] & !mask) | (value & mask);
                    }
                }
                self.regs[reg::ESP] = self.stack_pointer(8 * size as i32);
                Ok(())
            }
            M::Pushf | M::Pushfd => {
                let size = if ins.mnemonic() == M::Pushfd { 4 } else { 2 };
                if self.v86_mode() && self.iopl() < 3 {
                    return Err(Fault::gp(0));
                }
                // The image has RF and VM clear.
                self.push(
                    bus,
                    size,
                    self.eflags & !(flag::RF | flag::VM) & size_mask(size),
                )
            }
            M::Popf | M::Popfd => {
                let size = if ins.mnemonic() == M::Popfd { 4 } else { 2 };
                if self.v86_mode() && self.iopl() < 3 {
                    return Err(Fault::gp(0));
                }
                let value = self.pop(bus, size)?;
                self.load_flags(value, size);
                Ok(())
            }
            M::Lahf => {
                let ah = self.eflags & (flag::SF | flag::ZF | flag::AF | flag::PF | flag::CF)
                    | flag::FIXED;
                self.set_reg(Register::AH, ah);
                Ok(())
            }
            M::Sahf => {
                let mask = flag::SF | flag::ZF | flag::AF | flag::PF | flag::CF;
                let ah = self.reg(Register::AH);
                self.eflags = (self.eflags & !mask) | (ah & mask);
                Ok(())
            }
            M::Cbw => {
                self.set_reg(Register::AX, sign_extend(self.regs[reg::EAX], 1));
                Ok(())
            }
            M::Cwde => {
                self.regs[reg::EAX] = sign_extend(self.regs[reg::EAX], 2);
                Ok(())
            }
            M::Cwd => {
                let high = if self.regs[reg::EAX] & 0x8000 != 0 {
                    0xFFFF
                } else {
                    0
                };
                self.set_reg(Register::DX, high);
                Ok(())
            }
            M::Cdq => {
                self.regs[reg::EDX] = ((self.regs[reg::EAX] as i32) >> 31) as u32;
                Ok(())
            }
            M::Xlatb => {
                let base = self.reg(ins.memory_base());
                let mut address = base.wrapping_add(self.regs[reg::EAX] & 0xFF);
                if ins.memory_base() == Register::BX {
                    address &= 0xFFFF;
                }
                let value = self.read(bus, Cpu::memory_segment(ins), address, 1)?;
                self.set_reg(Register::AL, value);
                Ok(())
            }
            M::Lds | M::Les | M::Lfs | M::Lgs | M::Lss => {
                let size = ins.op0_register().size();
                let offset = self.read_memory_at(bus, ins, 0, size)?;
                let selector = self.read_memory_at(bus, ins, size as u32, 2)? as u16;
                let seg = match ins.mnemonic() {
                    M::Lds => Seg::Ds,
                    M::Les => Seg::Es,
                    M::Lfs => Seg::Fs,
                    M::Lgs => Seg::Gs,
                    _ => Seg::Ss,
                };
                // Unlike MOV SS and POP SS, LSS does not hold off interrupts.
                self.load_segment(bus, seg, selector)?;
                self.set_reg(ins.op0_register(), offset);
                Ok(())
            }
            M::Bswap => {
                let value = self.read_operand(bus, ins, 0)?;
                // BSWAP of a 16-bit register is undefined; a P6 clears it.
                let swapped = if size_of(ins, 0) == 2 {
                    0
                } else {
                    value.swap_bytes()
                };
                self.write_operand(bus, ins, 0, swapped)
            }
            M::Enter => self.enter(bus, ins),
            M::Leave => {
                let stack32 = self.seg[Seg::Ss as usize].big();
                let frame = if stack32 {
                    self.regs[reg::EBP]
                } else {
                    self.regs[reg::EBP] & 0xFFFF
                };
                let size = size_of(ins, 0).max(if ins.code() == iced_x86::Code::Leaved {
                    4
                } else {
                    2
                });
                let value = self.read(bus, Seg::Ss, frame, size)?;
                let esp = frame.wrapping_add(size as u32);
                self.regs[reg::ESP] = if stack32 {
                    esp
                } else {
                    (self.regs[reg::ESP] & !0xFFFF) | (esp & 0xFFFF)
                };
                let register = if size == 4 {
                    Register::EBP
                } else {
                    Register::BP
                };
                self.set_reg(register, value);
                Ok(())
            }
            M::Clc => self.set_flag(flag::CF, false),
            M::Stc => self.set_flag(flag::CF, true),
            M::Cmc => self.set_flag(flag::CF, self.eflags & flag::CF == 0),
            M::Cld => self.set_flag(flag::DF, false),
            M::Std => self.set_flag(flag::DF, true),
            M::Salc => {
                let value = if self.eflags & flag::CF != 0 { 0xFF } else { 0 };
                self.set_reg(Register::AL, value);
                Ok(())
            }
            m if is_cmov(m) => {
                // The source is read (and may fault) whether or not the move happens.
                let value = self.read_operand(bus, ins, 1)?;
                if condition(ins.condition_code(), self.eflags) {
                    self.write_operand(bus, ins, 0, value)?;
                }
                Ok(())
            }
            _ => {
                let value = u32::from(condition(ins.condition_code(), self.eflags));
                self.write_operand(bus, ins, 0, value)
            }
        }
    }

    fn mov(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        let destination = ins.op0_register();
        if ins.op0_kind() == OpKind::Register && destination.is_segment_register() {
            let seg = segment_of(destination);
            if seg == Seg::Cs {
                return Err(Fault::ud());
            }
            let selector = self.read_operand(bus, ins, 1)? as u16;
            self.load_segment(bus, seg, selector)?;
            if seg == Seg::Ss {
                self.hold_interrupts();
            }
            return Ok(());
        }
        if destination.is_cr()
            || destination.is_dr()
            || ins.op1_register().is_cr()
            || ins.op1_register().is_dr()
        {
            return self.mov_control(bus, ins);
        }
        if ins.op0_kind() == OpKind::Memory
            && ins.op1_kind() == OpKind::Register
            && ins.op1_register().is_segment_register()
        {
            // MOV m16, Sreg always stores 16 bits.
            let value = self.reg(ins.op1_register());
            return self.write_memory_at(bus, ins, 0, 2, value);
        }
        let value = self.read_operand(bus, ins, 1)?;
        self.write_operand(bus, ins, 0, value)
    }

    fn pop_operand(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        let size = ins.stack_pointer_increment() as usize;
        let value = self.peek(bus, 0, size)?;
        if ins.op0_kind() == OpKind::Register && ins.op0_register().is_segment_register() {
            let seg = segment_of(ins.op0_register());
            self.load_segment(bus, seg, value as u16)?;
            self.regs[reg::ESP] = self.stack_pointer(size as i32);
            if seg == Seg::Ss {
                self.hold_interrupts();
            }
            return Ok(());
        }
        // POP with an ESP-based memory destination computes the address after the increment.
        let esp = self.regs[reg::ESP];
        self.regs[reg::ESP] = self.stack_pointer(size as i32);
        if let Err(fault) = self.write_operand(bus, ins, 0, value) {
            self.regs[reg::ESP] = esp;
            return Err(fault);
        }
        Ok(())
    }

    fn enter(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        let size = if ins.code() == iced_x86::Code::Enterd_imm16_imm8 {
            4
        } else {
            2
        };
        let frame_size = u32::from(ins.immediate16());
        let level = ins.immediate8_2nd() & 31;
        let stack32 = self.seg[Seg::Ss as usize].big();
        let ebp = self.regs[reg::EBP];
        let esp = self.regs[reg::ESP];
        let undo = |cpu: &mut Cpu| {
            cpu.regs[reg::ESP] = esp;
            cpu.regs[reg::EBP] = ebp;
        };
        let result = (|| -> Result<()> {
            self.push(bus, size, ebp & size_mask(size))?;
            let frame = self.regs[reg::ESP];
            let mut display = ebp;
            for _ in 1..level {
                display = if stack32 {
                    display.wrapping_sub(size as u32)
                } else {
                    (display.wrapping_sub(size as u32)) & 0xFFFF
                };
                let value = self.read(bus, Seg::Ss, display, size)?;
                self.push(bus, size, value)?;
            }
            if level > 0 {
                self.push(bus, size, frame & size_mask(size))?;
            }
            // A write at the new stack pointer must be possible: ENTER checks the segment
            // limit and the page there (#SS, #PF) without writing.
            let top = self.stack_pointer(-(frame_size as i32));
            let linear =
                self.segment_address(Seg::Ss, self.stack_offset(top), size, Access::Write)?;
            self.translate(bus, linear, Access::Write, self.user())?;
            let register = if size == 4 {
                Register::EBP
            } else {
                Register::BP
            };
            self.set_reg(register, frame);
            self.regs[reg::ESP] = top;
            Ok(())
        })();
        result.inspect_err(|_| undo(self))
    }

    /// Writes EFLAGS from POPF or IRET within the privilege rules: IOPL changes only at CPL 0,
    /// IF only when CPL <= IOPL, VM and RF never through POPF.
    pub(crate) fn load_flags(&mut self, value: u32, size: usize) {
        let mut mask = flag::WRITABLE & !(flag::VM | flag::RF | flag::VIF | flag::VIP);
        if self.protected_mode() && self.cpl > 0 {
            mask &= !flag::IOPL;
        }
        if self.protected_mode() && !self.v86_mode() && self.cpl > self.iopl() {
            mask &= !flag::IF;
        }
        if self.v86_mode() {
            mask &= !flag::IOPL;
        }
        mask &= size_mask(size);
        self.eflags = (self.eflags & !mask) | (value & mask) | flag::FIXED;
    }

    pub(crate) fn iopl(&self) -> u8 {
        ((self.eflags >> 12) & 3) as u8
    }

    fn set_flag(&mut self, bit: u32, on: bool) -> Result<()> {
        if on {
            self.eflags |= bit;
        } else {
            self.eflags &= !bit;
        }
        Ok(())
    }

    /// The offset an ESP value addresses in SS (its low 16 bits on a 16-bit stack).
    pub(crate) fn stack_offset(&self, esp: u32) -> u32 {
        if self.seg[Seg::Ss as usize].big() {
            esp
        } else {
            esp & 0xFFFF
        }
    }

    /// MOV SS and POP SS hold off interrupts (and single-step) for one instruction.
    pub(crate) fn hold_interrupts(&mut self) {
        self.interrupt_shadow = true;
    }
}

fn is_cmov(m: M) -> bool {
    matches!(
        m,
        M::Cmovo
            | M::Cmovno
            | M::Cmovb
            | M::Cmovae
            | M::Cmove
            | M::Cmovne
            | M::Cmovbe
            | M::Cmova
            | M::Cmovs
            | M::Cmovns
            | M::Cmovp
            | M::Cmovnp
            | M::Cmovl
            | M::Cmovge
            | M::Cmovle
            | M::Cmovg
    )
}

pub use crate::cpu::bus::size_mask;
