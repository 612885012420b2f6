//! Reading and writing instruction operands: registers, memory through segmentation and
//! paging, immediates.

use crate::cpu::Cpu;
use crate::cpu::bus::Bus;
use crate::cpu::fault::{Fault, Result};
use crate::cpu::state::Seg;
use iced_x86::{Instruction, OpKind, Register};

/// The segment register an iced register names.
pub fn segment_of(register: Register) -> Seg {
    Seg::ALL[register.number()]
}

/// Whether the instruction's memory operand uses 16-bit addressing.
pub fn address16(ins: &Instruction) -> bool {
    let (base, index) = (ins.memory_base(), ins.memory_index());
    if base != Register::None {
        base.is_gpr16()
    } else if index != Register::None {
        index.is_gpr16()
    } else {
        ins.memory_displ_size() == 2
    }
}

/// Operand size in bytes of operand `i`.
pub fn size_of(ins: &Instruction, i: u32) -> usize {
    match ins.op_kind(i) {
        OpKind::Register => ins.op_register(i).size(),
        OpKind::Memory => ins.memory_size().size(),
        OpKind::Immediate8 | OpKind::Immediate8_2nd => 1,
        OpKind::Immediate16 | OpKind::Immediate8to16 => 2,
        _ => 4,
    }
}

impl Cpu {
    /// Reads a general-purpose or segment register.
    pub(crate) fn reg(&self, register: Register) -> u32 {
        let n = register.number();
        if register.is_gpr8() {
            if n < 4 {
                self.regs[n] & 0xFF
            } else {
                (self.regs[n - 4] >> 8) & 0xFF
            }
        } else if register.is_gpr16() {
            self.regs[n] & 0xFFFF
        } else if register.is_gpr32() {
            self.regs[n]
        } else if register.is_segment_register() {
            u32::from(self.seg[n].selector)
        } else {
            0
        }
    }

    /// Writes a general-purpose register, keeping the bytes a narrower write does not cover.
    pub(crate) fn set_reg(&mut self, register: Register, value: u32) {
        let n = register.number();
        if register.is_gpr8() {
            if n < 4 {
                self.regs[n] = (self.regs[n] & !0xFF) | (value & 0xFF);
            } else {
                self.regs[n - 4] = (self.regs[n - 4] & !0xFF00) | ((value & 0xFF) << 8);
            }
        } else if register.is_gpr16() {
            self.regs[n] = (self.regs[n] & !0xFFFF) | (value & 0xFFFF);
        } else if register.is_gpr32() {
            self.regs[n] = value;
        }
    }

    /// The offset (effective address) of the memory operand.
    pub(crate) fn effective_address(&self, ins: &Instruction) -> u32 {
        let mut address = ins.memory_displacement32();
        if ins.memory_base() != Register::None {
            address = address.wrapping_add(self.reg(ins.memory_base()));
        }
        if ins.memory_index() != Register::None {
            address = address.wrapping_add(
                self.reg(ins.memory_index())
                    .wrapping_mul(ins.memory_index_scale()),
            );
        }
        if address16(ins) {
            address & 0xFFFF
        } else {
            address
        }
    }

    /// The segment of the memory operand, after any override prefix.
    pub(crate) fn memory_segment(ins: &Instruction) -> Seg {
        segment_of(ins.memory_segment())
    }

    /// Reads operand `i` (register, memory or immediate), zero-extended.
    pub(crate) fn read_operand(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        i: u32,
    ) -> Result<u32> {
        match ins.op_kind(i) {
            OpKind::Register => Ok(self.reg(ins.op_register(i))),
            OpKind::Memory => {
                let size = ins.memory_size().size();
                self.read(
                    bus,
                    Cpu::memory_segment(ins),
                    self.effective_address(ins),
                    size,
                )
            }
            OpKind::Immediate8 => Ok(u32::from(ins.immediate8())),
            OpKind::Immediate8_2nd => Ok(u32::from(ins.immediate8_2nd())),
            OpKind::Immediate16 => Ok(u32::from(ins.immediate16())),
            OpKind::Immediate32 => Ok(ins.immediate32()),
            OpKind::Immediate8to16 => Ok(ins.immediate8to16() as u16 as u32),
            OpKind::Immediate8to32 => Ok(ins.immediate8to32() as u32),
            _ => Err(Fault::ud()),
        }
    }

    /// Writes operand `i` (register or memory).
    pub(crate) fn write_operand(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        i: u32,
        value: u32,
    ) -> Result<()> {
        match ins.op_kind(i) {
            OpKind::Register => {
                self.set_reg(ins.op_register(i), value);
                Ok(())
            }
            OpKind::Memory => {
                let size = ins.memory_size().size();
                self.write(
                    bus,
                    Cpu::memory_segment(ins),
                    self.effective_address(ins),
                    size,
                    value,
                )
            }
            _ => Err(Fault::ud()),
        }
    }

    /// Reads `size` bytes at `offset` bytes past the memory operand (far pointers, BOUND,
    /// descriptor-table images).
    pub(crate) fn read_memory_at(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        offset: u32,
        size: usize,
    ) -> Result<u32> {
        if ins.op_kind(0) != OpKind::Memory && ins.op_kind(1) != OpKind::Memory {
            return Err(Fault::ud());
        }
        let mut address = self.effective_address(ins).wrapping_add(offset);
        if address16(ins) {
            address &= 0xFFFF;
        }
        self.read(bus, Cpu::memory_segment(ins), address, size)
    }

    pub(crate) fn write_memory_at(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        offset: u32,
        size: usize,
        value: u32,
    ) -> Result<()> {
        let mut address = self.effective_address(ins).wrapping_add(offset);
        if address16(ins) {
            address &= 0xFFFF;
        }
        self.write(bus, Cpu::memory_segment(ins), address, size, value)
    }
}
