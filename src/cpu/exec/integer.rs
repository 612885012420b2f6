//! Integer arithmetic, logic, shifts, multiplication and division, bit operations, atomics and
//! BCD adjustments: operand access here, the computation in `cpu::alu`.

use super::operand::size_of;
use crate::cpu::Cpu;
use crate::cpu::alu::{self, Out, Size};
use crate::cpu::bus::Bus;
use crate::cpu::fault::{Fault, Result};
use crate::cpu::state::{flag, reg};
use iced_x86::{Instruction, Mnemonic as M, OpKind, Register};

pub fn handles(m: M) -> bool {
    matches!(
        m,
        M::Add
            | M::Adc
            | M::Sub
            | M::Sbb
            | M::Cmp
            | M::And
            | M::Or
            | M::Xor
            | M::Test
            | M::Inc
            | M::Dec
            | M::Neg
            | M::Not
            | M::Shl
            | M::Sal
            | M::Shr
            | M::Sar
            | M::Rol
            | M::Ror
            | M::Rcl
            | M::Rcr
            | M::Shld
            | M::Shrd
            | M::Mul
            | M::Imul
            | M::Div
            | M::Idiv
            | M::Bsf
            | M::Bsr
            | M::Bt
            | M::Bts
            | M::Btr
            | M::Btc
            | M::Xadd
            | M::Cmpxchg
            | M::Cmpxchg8b
            | M::Daa
            | M::Das
            | M::Aaa
            | M::Aas
            | M::Aam
            | M::Aad
    )
}

pub fn size(bytes: usize) -> Size {
    match bytes {
        1 => Size::Byte,
        2 => Size::Word,
        _ => Size::Dword,
    }
}

impl Cpu {
    pub(super) fn execute_integer(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        let width = size(size_of(ins, 0));
        let carry = self.eflags & flag::CF != 0;
        match ins.mnemonic() {
            M::Add | M::Adc | M::Sub | M::Sbb | M::And | M::Or | M::Xor => {
                let a = self.read_operand(bus, ins, 0)?;
                let b = self.read_operand(bus, ins, 1)?;
                let out = match ins.mnemonic() {
                    M::Add => alu::add(width, a, b),
                    M::Adc => alu::adc(width, a, b, carry),
                    M::Sub => alu::sub(width, a, b),
                    M::Sbb => alu::sbb(width, a, b, carry),
                    M::And => alu::and(width, a, b),
                    M::Or => alu::or(width, a, b),
                    _ => alu::xor(width, a, b),
                };
                self.store(bus, ins, out)
            }
            M::Cmp | M::Test => {
                let a = self.read_operand(bus, ins, 0)?;
                let b = self.read_operand(bus, ins, 1)?;
                let out = if ins.mnemonic() == M::Cmp {
                    alu::sub(width, a, b)
                } else {
                    alu::and(width, a, b)
                };
                self.eflags = out.apply(self.eflags);
                Ok(())
            }
            M::Inc | M::Dec | M::Neg => {
                let a = self.read_operand(bus, ins, 0)?;
                let out = match ins.mnemonic() {
                    M::Inc => alu::inc(width, a),
                    M::Dec => alu::dec(width, a),
                    _ => alu::neg(width, a),
                };
                self.store(bus, ins, out)
            }
            M::Not => {
                let a = self.read_operand(bus, ins, 0)?;
                self.write_operand(bus, ins, 0, alu::not(width, a))
            }
            M::Shl | M::Sal | M::Shr | M::Sar | M::Rol | M::Ror | M::Rcl | M::Rcr => {
                let a = self.read_operand(bus, ins, 0)?;
                let count = if ins.op_count() > 1 {
                    self.read_operand(bus, ins, 1)?
                } else {
                    1
                };
                let out = match ins.mnemonic() {
                    M::Shl | M::Sal => alu::shl(width, a, count),
                    M::Shr => alu::shr(width, a, count),
                    M::Sar => alu::sar(width, a, count),
                    M::Rol => alu::rol(width, a, count),
                    M::Ror => alu::ror(width, a, count),
                    M::Rcl => alu::rcl(width, a, count, carry),
                    _ => alu::rcr(width, a, count, carry),
                };
                self.store(bus, ins, out)
            }
            M::Shld | M::Shrd => {
                let a = self.read_operand(bus, ins, 0)?;
                let b = self.read_operand(bus, ins, 1)?;
                let count = self.read_operand(bus, ins, 2)?;
                let out = if ins.mnemonic() == M::Shld {
                    alu::shld(width, a, b, count)
                } else {
                    alu::shrd(width, a, b, count)
                };
                self.store(bus, ins, out)
            }
            M::Mul | M::Imul if ins.op_count() == 1 => {
                let (low_reg, high_reg) = accumulator(width);
                let a = self.reg(low_reg);
                let b = self.read_operand(bus, ins, 0)?;
                let (out, high) = if ins.mnemonic() == M::Mul {
                    alu::mul(width, a, b)
                } else {
                    alu::imul(width, a, b)
                };
                if width == Size::Byte {
                    self.set_reg(Register::AX, out.value | high << 8);
                } else {
                    self.set_reg(low_reg, out.value);
                    self.set_reg(high_reg, high);
                }
                self.eflags = out.apply(self.eflags);
                Ok(())
            }
            M::Imul => {
                let (a, b) = if ins.op_count() == 2 {
                    (
                        self.read_operand(bus, ins, 0)?,
                        self.read_operand(bus, ins, 1)?,
                    )
                } else {
                    (
                        self.read_operand(bus, ins, 1)?,
                        self.read_operand(bus, ins, 2)?,
                    )
                };
                let out = alu::imul_trunc(width, a, b);
                self.store(bus, ins, out)
            }
            M::Div | M::Idiv => {
                let (low_reg, high_reg) = accumulator(width);
                let divisor = self.read_operand(bus, ins, 0)?;
                let (low, high) = if width == Size::Byte {
                    let ax = self.reg(Register::AX);
                    (ax & 0xFF, ax >> 8)
                } else {
                    (self.reg(low_reg), self.reg(high_reg))
                };
                let result = if ins.mnemonic() == M::Div {
                    alu::div(width, low, high, divisor)
                } else {
                    alu::idiv(width, low, high, divisor)
                };
                let (quotient, remainder) = result.map_err(|_| Fault::de())?;
                if width == Size::Byte {
                    self.set_reg(Register::AX, quotient.value | remainder << 8);
                } else {
                    self.set_reg(low_reg, quotient.value);
                    self.set_reg(high_reg, remainder);
                }
                self.eflags = quotient.apply(self.eflags);
                Ok(())
            }
            M::Bsf | M::Bsr => {
                let source = self.read_operand(bus, ins, 1)?;
                let destination = self.read_operand(bus, ins, 0)?;
                let out = if ins.mnemonic() == M::Bsf {
                    alu::bsf(width, destination, source)
                } else {
                    alu::bsr(width, destination, source)
                };
                self.store(bus, ins, out)
            }
            M::Bt | M::Bts | M::Btr | M::Btc => self.bit_test(bus, ins, width),
            M::Xadd => {
                let destination = self.read_operand(bus, ins, 0)?;
                let source = self.read_operand(bus, ins, 1)?;
                let (sum, old) = alu::xadd(width, destination, source);
                // The source takes the old destination, then the destination the sum; with a
                // memory destination the (faultable) store goes first.
                if ins.op0_kind() == OpKind::Memory {
                    self.write_operand(bus, ins, 0, sum.value)?;
                    self.write_operand(bus, ins, 1, old)?;
                } else {
                    self.write_operand(bus, ins, 1, old)?;
                    self.write_operand(bus, ins, 0, sum.value)?;
                }
                self.eflags = sum.apply(self.eflags);
                Ok(())
            }
            M::Cmpxchg => {
                let (accumulator, _) = accumulator(width);
                let destination = self.read_operand(bus, ins, 0)?;
                let source = self.read_operand(bus, ins, 1)?;
                let (out, new_accumulator) =
                    alu::cmpxchg(width, self.reg(accumulator), destination, source);
                // The destination is always written (the old value when unequal); the
                // accumulator only on a mismatch, so `cmpxchg eax, r` ends with EAX = r.
                self.write_operand(bus, ins, 0, out.value)?;
                if out.flags & flag::ZF == 0 {
                    self.set_reg(accumulator, new_accumulator);
                }
                self.eflags = out.apply(self.eflags);
                Ok(())
            }
            M::Cmpxchg8b => {
                if ins.op0_kind() != OpKind::Memory {
                    return Err(Fault::ud());
                }
                let low = self.read_memory_at(bus, ins, 0, 4)?;
                let high = self.read_memory_at(bus, ins, 4, 4)?;
                let memory = u64::from(low) | u64::from(high) << 32;
                let pair = |hi: usize, lo: usize| {
                    u64::from(self.regs[hi]) << 32 | u64::from(self.regs[lo])
                };
                let result =
                    alu::cmpxchg8b(pair(reg::EDX, reg::EAX), pair(reg::ECX, reg::EBX), memory);
                self.write_memory_at(bus, ins, 0, 4, result.mem as u32)?;
                self.write_memory_at(bus, ins, 4, 4, (result.mem >> 32) as u32)?;
                self.regs[reg::EAX] = result.edx_eax as u32;
                self.regs[reg::EDX] = (result.edx_eax >> 32) as u32;
                self.eflags = if result.zf {
                    self.eflags | flag::ZF
                } else {
                    self.eflags & !flag::ZF
                };
                Ok(())
            }
            M::Daa | M::Das => {
                let al = self.reg(Register::AL);
                let out = if ins.mnemonic() == M::Daa {
                    alu::daa(al, self.eflags)
                } else {
                    alu::das(al, self.eflags)
                };
                self.set_reg(Register::AL, out.value);
                self.eflags = out.apply(self.eflags);
                Ok(())
            }
            M::Aaa | M::Aas => {
                let ax = self.reg(Register::AX);
                let out = if ins.mnemonic() == M::Aaa {
                    alu::aaa(ax, self.eflags)
                } else {
                    alu::aas(ax, self.eflags)
                };
                self.set_reg(Register::AX, out.value);
                self.eflags = out.apply(self.eflags);
                Ok(())
            }
            M::Aam => {
                let out =
                    alu::aam(self.reg(Register::AL), ins.immediate8()).map_err(|_| Fault::de())?;
                self.set_reg(Register::AX, out.value);
                self.eflags = out.apply(self.eflags);
                Ok(())
            }
            _ => {
                let out = alu::aad(self.reg(Register::AX), ins.immediate8());
                self.set_reg(Register::AX, out.value);
                self.eflags = out.apply(self.eflags);
                Ok(())
            }
        }
    }

    /// Writes a result to operand 0, then its flags (after the write, which may fault).
    fn store(&mut self, bus: &mut dyn Bus, ins: &Instruction, out: Out) -> Result<()> {
        self.write_operand(bus, ins, 0, out.value)?;
        self.eflags = out.apply(self.eflags);
        Ok(())
    }

    /// BT, BTS, BTR, BTC. A register bit offset with a memory operand may address any bit
    /// relative to the effective address, not only those of the operand at it.
    fn bit_test(&mut self, bus: &mut dyn Bus, ins: &Instruction, width: Size) -> Result<()> {
        let offset = self.read_operand(bus, ins, 1)?;
        let bytes = size_of(ins, 0);
        let (displacement, bit) =
            if ins.op0_kind() == OpKind::Memory && ins.op1_kind() == OpKind::Register {
                alu::bit_address(width, offset)
            } else {
                (0, offset & (width.bits() - 1))
            };
        let base = if ins.op0_kind() == OpKind::Memory {
            self.read_memory_at(bus, ins, displacement as u32, bytes)?
        } else {
            self.read_operand(bus, ins, 0)?
        };
        let out = match ins.mnemonic() {
            M::Bt => alu::bt(width, base, bit),
            M::Bts => alu::bts(width, base, bit),
            M::Btr => alu::btr(width, base, bit),
            _ => alu::btc(width, base, bit),
        };
        if ins.mnemonic() != M::Bt {
            if ins.op0_kind() == OpKind::Memory {
                self.write_memory_at(bus, ins, displacement as u32, bytes, out.value)?;
            } else {
                self.write_operand(bus, ins, 0, out.value)?;
            }
        }
        self.eflags = out.apply(self.eflags);
        Ok(())
    }
}

/// The accumulator and its high half for the one-operand MUL/DIV forms and CMPXCHG.
fn accumulator(width: Size) -> (Register, Register) {
    match width {
        Size::Byte => (Register::AL, Register::AH),
        Size::Word => (Register::AX, Register::DX),
        Size::Dword => (Register::EAX, Register::EDX),
    }
}

#[cfg(test)]
mod tests {
    use crate::cpu::{Bus, Cpu};

    /// 64 KiB of RAM and nothing else.
    struct Ram(Vec<u8>);

    impl Bus for Ram {
        fn ram(&mut self) -> &mut [u8] {
            &mut self.0
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

    /// Runs one real-mode instruction at 0000:0000 with `eax` and `ecx`; returns EAX.
    fn run(code: &[u8], eax: u32, ecx: u32) -> u32 {
        let mut ram = Ram(vec![0; 0x1_0000]);
        ram.0[..code.len()].copy_from_slice(code);
        let mut cpu = Cpu::new();
        cpu.seg[1] = crate::cpu::state::Segment::real(0);
        cpu.eip = 0;
        cpu.regs[0] = eax;
        cpu.regs[1] = ecx;
        cpu.run(&mut ram, cpu.cycles + 1);
        assert_eq!(cpu.eip, code.len() as u32);
        cpu.regs[0]
    }

    #[test]
    fn cmpxchg_into_the_accumulator_takes_the_source() {
        // CMPXCHG AL, CH: AL always equals itself, so AL takes CH (found by host-diff).
        assert_eq!(
            run(&[0x0F, 0xB0, 0xE8], 0x1234_5601, 0x0000_9900),
            0x1234_5699
        );
        // CMPXCHG EAX, ECX (0x66 in 16-bit code).
        assert_eq!(run(&[0x66, 0x0F, 0xB1, 0xC8], 7, 0xABCD_0123), 0xABCD_0123);
        // A mismatch still loads the accumulator: CMPXCHG CL, AL with AL != CL.
        assert_eq!(
            run(&[0x0F, 0xB0, 0xC1], 0x0000_0011, 0x0000_0022),
            0x0000_0022
        );
    }
}
