//! The x87 floating-point unit: loads and stores, arithmetic, comparisons, the register stack
//! and its faults, control and environment instructions. The arithmetic itself is
//! `cpu::softfloat` (bit-exact, host-independent).
//!
//! Exceptions follow the x87 rules: a masked exception gives its default result (the real
//! indefinite for invalid operations and stack faults); an unmasked one leaves the destination
//! unchanged, sets ES, and the next waiting FP instruction raises #MF.

use crate::cpu::Cpu;
use crate::cpu::bus::Bus;
use crate::cpu::fault::{Fault, Result};
use crate::cpu::fpu::{cw, sw, tag};
use crate::cpu::softfloat::{F80, Flags, Precision, Relation, Rounding, X87Result};
use crate::cpu::state::{cr0, flag};
use iced_x86::{Instruction, MemorySize, Mnemonic as M, OpKind};

pub fn handles(m: M) -> bool {
    matches!(
        m,
        M::Fld
            | M::Fst
            | M::Fstp
            | M::Fild
            | M::Fist
            | M::Fistp
            | M::Fbld
            | M::Fbstp
            | M::Fxch
            | M::Fld1
            | M::Fldz
            | M::Fldpi
            | M::Fldl2e
            | M::Fldl2t
            | M::Fldlg2
            | M::Fldln2
            | M::Fadd
            | M::Faddp
            | M::Fiadd
            | M::Fsub
            | M::Fsubp
            | M::Fisub
            | M::Fsubr
            | M::Fsubrp
            | M::Fisubr
            | M::Fmul
            | M::Fmulp
            | M::Fimul
            | M::Fdiv
            | M::Fdivp
            | M::Fidiv
            | M::Fdivr
            | M::Fdivrp
            | M::Fidivr
            | M::Fcom
            | M::Fcomp
            | M::Fcompp
            | M::Ficom
            | M::Ficomp
            | M::Fucom
            | M::Fucomp
            | M::Fucompp
            | M::Fcomi
            | M::Fcomip
            | M::Fucomi
            | M::Fucomip
            | M::Ftst
            | M::Fxam
            | M::Fchs
            | M::Fabs
            | M::Fsqrt
            | M::Frndint
            | M::Fscale
            | M::Fxtract
            | M::Fprem
            | M::Fprem1
            | M::Fcmovb
            | M::Fcmove
            | M::Fcmovbe
            | M::Fcmovu
            | M::Fcmovnb
            | M::Fcmovne
            | M::Fcmovnbe
            | M::Fcmovnu
            | M::Fninit
            | M::Fnclex
            | M::Fnstsw
            | M::Fnstcw
            | M::Fldcw
            | M::Fnstenv
            | M::Fldenv
            | M::Fnsave
            | M::Frstor
            | M::Ffree
            | M::Ffreep
            | M::Fdecstp
            | M::Fincstp
            | M::Fnop
            | M::Fneni
            | M::Fndisi
            | M::Fnsetpm
            | M::Wait
    )
}

/// The arithmetic operations that share the two-operand forms.
#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    SubR,
    Mul,
    Div,
    DivR,
}

/// Instructions that do not wait for (and so do not report) a pending unmasked exception.
fn no_wait(m: M) -> bool {
    matches!(
        m,
        M::Fninit
            | M::Fnclex
            | M::Fnstsw
            | M::Fnstcw
            | M::Fnstenv
            | M::Fnsave
            | M::Fneni
            | M::Fndisi
            | M::Fnsetpm
    )
}

/// Whether the instruction updates the last-instruction and data pointers.
fn records_pointers(m: M) -> bool {
    !no_wait(m) && !matches!(m, M::Fldcw | M::Fldenv | M::Frstor | M::Wait)
}

/// Stack register operand `i` as an ST index.
fn st_index(ins: &Instruction, i: u32) -> usize {
    ins.op_register(i).number()
}

/// A constant loaded by FLDPI and friends: the value truncated to 64 bits, and whether the
/// true value lies above the halfway point to the next one (for round to nearest).
struct Constant {
    sign_exp: u16,
    truncated: u64,
    above_half: bool,
}

impl Constant {
    fn rounded(&self, rounding: Rounding) -> F80 {
        let up = match rounding {
            Rounding::Nearest => self.above_half,
            Rounding::Up => true,
            Rounding::Down | Rounding::Zero => false,
        };
        F80 {
            sign_exp: self.sign_exp,
            mantissa: self.truncated + u64::from(up),
        }
    }
}

const PI: Constant = Constant {
    sign_exp: 0x4000,
    truncated: 0xC90F_DAA2_2168_C234,
    above_half: true,
};
const L2E: Constant = Constant {
    sign_exp: 0x3FFF,
    truncated: 0xB8AA_3B29_5C17_F0BB,
    above_half: true,
};
const L2T: Constant = Constant {
    sign_exp: 0x4000,
    truncated: 0xD49A_784B_CD1B_8AFE,
    above_half: false,
};
const LG2: Constant = Constant {
    sign_exp: 0x3FFD,
    truncated: 0x9A20_9A84_FBCF_F798,
    above_half: true,
};
const LN2: Constant = Constant {
    sign_exp: 0x3FFE,
    truncated: 0xB172_17F7_D1CF_79AB,
    above_half: true,
};

impl Cpu {
    pub(super) fn execute_x87(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        let mnemonic = ins.mnemonic();
        if mnemonic == M::Wait {
            if self.cr0 & (cr0::TS | cr0::MP) == cr0::TS | cr0::MP {
                return Err(Fault::nm());
            }
            return self.fpu_pending();
        }
        if self.cr0 & (cr0::EM | cr0::TS) != 0 {
            return Err(Fault::nm());
        }
        if !no_wait(mnemonic) {
            self.fpu_pending()?;
        }
        if records_pointers(mnemonic) {
            self.record_fpu_pointers(bus, ins)?;
        }
        let rounding = Rounding::from_bits(self.fpu.rounding());
        match mnemonic {
            M::Fld => {
                if ins.op0_kind() == OpKind::Memory {
                    let value = self.load_real(bus, ins)?;
                    self.fpu_push(value)
                } else {
                    let i = st_index(ins, 0);
                    if self.fpu.is_empty(i) {
                        return self.stack_underflow(None, false, true);
                    }
                    let value = self.fpu.st(i);
                    self.fpu_push(X87Result {
                        value,
                        flags: Flags::NONE,
                        c1: false,
                    })
                }
            }
            M::Fild => {
                let value = self.load_integer(bus, ins)?;
                self.fpu_push(X87Result {
                    value,
                    flags: Flags::NONE,
                    c1: false,
                })
            }
            M::Fbld => {
                let value = self.load_bcd(bus, ins)?;
                self.fpu_push(X87Result {
                    value,
                    flags: Flags::NONE,
                    c1: false,
                })
            }
            M::Fld1 | M::Fldz | M::Fldpi | M::Fldl2e | M::Fldl2t | M::Fldlg2 | M::Fldln2 => {
                let value = match mnemonic {
                    M::Fld1 => F80::ONE,
                    M::Fldz => F80::ZERO,
                    M::Fldpi => PI.rounded(rounding),
                    M::Fldl2e => L2E.rounded(rounding),
                    M::Fldl2t => L2T.rounded(rounding),
                    M::Fldlg2 => LG2.rounded(rounding),
                    _ => LN2.rounded(rounding),
                };
                self.fpu_push(X87Result {
                    value,
                    flags: Flags::NONE,
                    c1: false,
                })
            }
            M::Fst | M::Fstp => {
                let pop = mnemonic == M::Fstp;
                if self.fpu.is_empty(0) {
                    let destination =
                        (ins.op0_kind() == OpKind::Register).then(|| st_index(ins, 0));
                    if ins.op0_kind() == OpKind::Memory {
                        return self.store_underflow(bus, ins, pop);
                    }
                    return self.stack_underflow(destination, pop, false);
                }
                let value = self.fpu.st(0);
                if ins.op0_kind() == OpKind::Register {
                    self.fpu.set_st(st_index(ins, 0), value);
                    self.set_c1(false);
                } else {
                    self.store_real(bus, ins, value, rounding)?;
                }
                if pop {
                    self.fpu.pop();
                }
                Ok(())
            }
            M::Fist | M::Fistp => {
                let pop = mnemonic == M::Fistp;
                if self.fpu.is_empty(0) {
                    return self.store_underflow(bus, ins, pop);
                }
                self.store_integer(bus, ins, self.fpu.st(0), rounding)?;
                if pop {
                    self.fpu.pop();
                }
                Ok(())
            }
            M::Fbstp => {
                if self.fpu.is_empty(0) {
                    return self.store_underflow(bus, ins, true);
                }
                self.store_bcd(bus, ins, self.fpu.st(0), rounding)?;
                self.fpu.pop();
                Ok(())
            }
            M::Fxch => {
                let i = if ins.op_count() > 1 {
                    st_index(ins, 1)
                } else {
                    1
                };
                if self.fpu.is_empty(0) || self.fpu.is_empty(i) {
                    self.fpu.raise(Flags::INVALID.0);
                    self.fpu.status |= sw::SF;
                    self.set_c1(false);
                    if self.fpu.unmasked(Flags::INVALID.0) {
                        return Ok(());
                    }
                    for r in [0, i] {
                        if self.fpu.is_empty(r) {
                            self.fpu.set_st(r, F80::INDEFINITE);
                        }
                    }
                }
                let (a, b) = (self.fpu.st(0), self.fpu.st(i));
                self.fpu.set_st(0, b);
                self.fpu.set_st(i, a);
                self.set_c1(false);
                Ok(())
            }
            M::Fadd | M::Faddp | M::Fiadd => self.fpu_arith(bus, ins, Op::Add),
            M::Fsub | M::Fsubp | M::Fisub => self.fpu_arith(bus, ins, Op::Sub),
            M::Fsubr | M::Fsubrp | M::Fisubr => self.fpu_arith(bus, ins, Op::SubR),
            M::Fmul | M::Fmulp | M::Fimul => self.fpu_arith(bus, ins, Op::Mul),
            M::Fdiv | M::Fdivp | M::Fidiv => self.fpu_arith(bus, ins, Op::Div),
            M::Fdivr | M::Fdivrp | M::Fidivr => self.fpu_arith(bus, ins, Op::DivR),
            M::Fcom
            | M::Fcomp
            | M::Fcompp
            | M::Ficom
            | M::Ficomp
            | M::Fucom
            | M::Fucomp
            | M::Fucompp => self.fpu_compare(bus, ins),
            M::Fcomi | M::Fcomip | M::Fucomi | M::Fucomip => {
                let i = st_index(ins, 1);
                let signaling = matches!(mnemonic, M::Fcomi | M::Fcomip);
                let pop = matches!(mnemonic, M::Fcomip | M::Fucomip);
                let relation = if self.fpu.is_empty(0) || self.fpu.is_empty(i) {
                    self.fpu.raise(Flags::INVALID.0);
                    self.fpu.status |= sw::SF;
                    if self.fpu.unmasked(Flags::INVALID.0) {
                        return Ok(());
                    }
                    Relation::Unordered
                } else {
                    let (relation, flags) = F80::compare(self.fpu.st(0), self.fpu.st(i), signaling);
                    self.fpu.raise(flags.0);
                    if self
                        .fpu
                        .unmasked(flags.0 & (Flags::INVALID.0 | Flags::DENORMAL.0))
                    {
                        return Ok(());
                    }
                    relation
                };
                self.set_c1(false);
                let bits = match relation {
                    Relation::Greater => 0,
                    Relation::Less => flag::CF,
                    Relation::Equal => flag::ZF,
                    Relation::Unordered => flag::ZF | flag::PF | flag::CF,
                };
                self.eflags = (self.eflags & !(flag::ARITH)) | bits;
                if pop {
                    self.fpu.pop();
                }
                Ok(())
            }
            M::Ftst => {
                if self.fpu.is_empty(0) {
                    return self.compare_underflow(0);
                }
                let (relation, flags) = F80::compare(self.fpu.st(0), F80::ZERO, true);
                self.set_compare_result(relation, flags, 0)
            }
            M::Fxam => {
                let value = self.fpu.st(0);
                let class = if self.fpu.is_empty(0) {
                    sw::C3 | sw::C0
                } else {
                    value.classify().status_bits()
                };
                let sign = if value.sign() { sw::C1 } else { 0 };
                self.fpu.status = (self.fpu.status & !sw::CONDITION) | class | sign;
                Ok(())
            }
            M::Fchs | M::Fabs => {
                if self.fpu.is_empty(0) {
                    return self.stack_underflow(Some(0), false, false);
                }
                let value = self.fpu.st(0);
                self.fpu.set_st(
                    0,
                    if mnemonic == M::Fchs {
                        value.chs()
                    } else {
                        value.abs()
                    },
                );
                self.set_c1(false);
                Ok(())
            }
            M::Fsqrt | M::Frndint => {
                if self.fpu.is_empty(0) {
                    return self.stack_underflow(Some(0), false, false);
                }
                let value = self.fpu.st(0);
                let result = if mnemonic == M::Fsqrt {
                    value.sqrt(rounding, Precision::from_bits(self.fpu.precision()))
                } else {
                    value.round_to_integer(rounding)
                };
                self.commit(0, result, false)
            }
            M::Fscale => {
                if self.fpu.is_empty(0) || self.fpu.is_empty(1) {
                    return self.stack_underflow(Some(0), false, false);
                }
                let result = F80::scale(self.fpu.st(0), self.fpu.st(1), rounding);
                self.commit(0, result, false)
            }
            M::Fxtract => {
                if self.fpu.is_empty(0) {
                    return self.stack_underflow(Some(0), false, false);
                }
                if !self.fpu.is_empty(7) {
                    return self.stack_overflow();
                }
                let result = self.fpu.st(0).extract();
                self.fpu.raise(result.flags.0);
                if self.fpu.unmasked(
                    result.flags.0 & (Flags::INVALID.0 | Flags::DIV_BY_ZERO.0 | Flags::DENORMAL.0),
                ) {
                    return Ok(());
                }
                let (exponent, significand) = result.value;
                self.fpu.set_st(0, exponent);
                self.fpu.push(significand);
                self.set_c1(false);
                Ok(())
            }
            M::Fprem | M::Fprem1 => {
                if self.fpu.is_empty(0) || self.fpu.is_empty(1) {
                    return self.stack_underflow(Some(0), false, false);
                }
                let (a, b) = (self.fpu.st(0), self.fpu.st(1));
                let r = if mnemonic == M::Fprem {
                    F80::prem(a, b)
                } else {
                    F80::prem1(a, b)
                };
                self.fpu.raise(r.flags.0);
                if self
                    .fpu
                    .unmasked(r.flags.0 & (Flags::INVALID.0 | Flags::DENORMAL.0))
                {
                    return Ok(());
                }
                self.fpu.set_st(0, r.value);
                // Incomplete: C2 = 1. Complete: C0, C3, C1 = quotient bits 2, 1, 0.
                let q = r.quotient;
                let mut bits = if r.incomplete { sw::C2 } else { 0 };
                if !r.incomplete {
                    bits |= if q & 4 != 0 { sw::C0 } else { 0 }
                        | if q & 2 != 0 { sw::C3 } else { 0 }
                        | if q & 1 != 0 { sw::C1 } else { 0 };
                }
                self.fpu.status = (self.fpu.status & !sw::CONDITION) | bits;
                Ok(())
            }
            M::Fcmovb
            | M::Fcmove
            | M::Fcmovbe
            | M::Fcmovu
            | M::Fcmovnb
            | M::Fcmovne
            | M::Fcmovnbe
            | M::Fcmovnu => {
                let i = st_index(ins, 1);
                if self.fpu.is_empty(0) || self.fpu.is_empty(i) {
                    return self.stack_underflow(Some(0), false, false);
                }
                let f = self.eflags;
                let set = |bit| f & bit != 0;
                let taken = match mnemonic {
                    M::Fcmovb => set(flag::CF),
                    M::Fcmove => set(flag::ZF),
                    M::Fcmovbe => set(flag::CF) || set(flag::ZF),
                    M::Fcmovu => set(flag::PF),
                    M::Fcmovnb => !set(flag::CF),
                    M::Fcmovne => !set(flag::ZF),
                    M::Fcmovnbe => !set(flag::CF) && !set(flag::ZF),
                    _ => !set(flag::PF),
                };
                if taken {
                    self.fpu.set_st(0, self.fpu.st(i));
                }
                self.set_c1(false);
                Ok(())
            }
            M::Fninit => {
                self.fpu.init();
                Ok(())
            }
            M::Fnclex => {
                self.fpu.status &= !(0xFF | sw::B);
                Ok(())
            }
            M::Fnstsw => {
                let status = u32::from(self.fpu.status);
                if ins.op0_kind() == OpKind::Register {
                    self.set_reg(ins.op0_register(), status);
                    Ok(())
                } else {
                    self.write_memory_at(bus, ins, 0, 2, status)
                }
            }
            M::Fnstcw => self.write_memory_at(bus, ins, 0, 2, u32::from(self.fpu.control)),
            M::Fldcw => {
                let control = self.read_memory_at(bus, ins, 0, 2)? as u16;
                self.fpu.set_control(control);
                Ok(())
            }
            M::Fnstenv => {
                self.store_environment(bus, ins, 0)?;
                self.fpu.control |= cw::MASKS;
                Ok(())
            }
            M::Fldenv => {
                self.load_environment(bus, ins, 0)?;
                Ok(())
            }
            M::Fnsave => {
                let size = self.store_environment(bus, ins, 0)?;
                for i in 0..8 {
                    let bytes = self.fpu.st(i).to_le_bytes();
                    for (j, chunk) in bytes.chunks(2).enumerate() {
                        let value = u32::from(u16::from_le_bytes([chunk[0], chunk[1]]));
                        self.write_memory_at(
                            bus,
                            ins,
                            size + 10 * i as u32 + 2 * j as u32,
                            2,
                            value,
                        )?;
                    }
                }
                self.fpu.init();
                Ok(())
            }
            M::Frstor => {
                let size = self.environment_size(ins);
                let mut regs = [F80::ZERO; 8];
                for (i, reg) in regs.iter_mut().enumerate() {
                    let mut bytes = [0u8; 10];
                    for (j, byte) in bytes.iter_mut().enumerate() {
                        *byte = self.read_memory_at(bus, ins, size + 10 * i as u32 + j as u32, 1)?
                            as u8;
                    }
                    *reg = F80::from_le_bytes(bytes);
                }
                self.load_environment(bus, ins, 0)?;
                let tags = self.fpu.tags;
                for (i, value) in regs.into_iter().enumerate() {
                    let physical = self.fpu.physical(i);
                    self.fpu.regs[physical] = value;
                }
                self.fpu.tags = tags;
                Ok(())
            }
            M::Ffree | M::Ffreep => {
                let physical = self.fpu.physical(st_index(ins, 0));
                self.fpu.set_tag(physical, tag::EMPTY);
                if mnemonic == M::Ffreep {
                    self.fpu.pop();
                }
                Ok(())
            }
            M::Fdecstp | M::Fincstp => {
                let top = self.fpu.top();
                self.fpu.set_top(if mnemonic == M::Fdecstp {
                    top + 7
                } else {
                    top + 1
                });
                self.set_c1(false);
                Ok(())
            }
            // FNOP, and the 8087/287 controls that a 387 and later ignore.
            _ => Ok(()),
        }
    }

    /// #MF for an unmasked exception pending from an earlier instruction.
    fn fpu_pending(&self) -> Result<()> {
        if self.fpu.status & sw::ES != 0 {
            Err(Fault::mf())
        } else {
            Ok(())
        }
    }

    fn set_c1(&mut self, on: bool) {
        if on {
            self.fpu.status |= sw::C1;
        } else {
            self.fpu.status &= !sw::C1;
        }
    }

    /// Records the instruction's address and opcode, and the memory operand's address.
    fn record_fpu_pointers(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        let start = self.eip.wrapping_sub(ins.len() as u32);
        let cs = self.seg[1].base;
        // The opcode is the 11 bits after the D8..DF escape's high five: skip prefixes first.
        let mut offset = 0;
        let mut first = 0;
        while offset < ins.len() as u32 {
            first = self.linear_read(
                bus,
                cs.wrapping_add(start).wrapping_add(offset),
                1,
                crate::cpu::mmu::Access::Execute,
                self.user(),
            )?;
            if !matches!(
                first,
                0x26 | 0x2E | 0x36 | 0x3E | 0x64 | 0x65 | 0x66 | 0x67 | 0xF0 | 0xF2 | 0xF3 | 0x9B
            ) {
                break;
            }
            offset += 1;
        }
        let modrm = self.linear_read(
            bus,
            cs.wrapping_add(start).wrapping_add(offset + 1),
            1,
            crate::cpu::mmu::Access::Execute,
            self.user(),
        )?;
        self.fpu.opcode = (((first & 7) << 8) | modrm) as u16;
        self.fpu.ip = start;
        self.fpu.cs = self.seg[1].selector;
        if ins.op_count() > 0 && (0..ins.op_count()).any(|i| ins.op_kind(i) == OpKind::Memory) {
            self.fpu.dp = self.effective_address(ins);
            self.fpu.ds = self.seg[Cpu::memory_segment(ins) as usize].selector;
        }
        Ok(())
    }

    /// Pushes a loaded value, with the stack-overflow check.
    fn fpu_push(&mut self, result: X87Result) -> Result<()> {
        if !self.fpu.is_empty(7) {
            return self.stack_overflow();
        }
        self.fpu.raise(result.flags.0);
        if self
            .fpu
            .unmasked(result.flags.0 & (Flags::INVALID.0 | Flags::DENORMAL.0))
        {
            return Ok(());
        }
        self.fpu.push(result.value);
        self.set_c1(false);
        Ok(())
    }

    fn stack_overflow(&mut self) -> Result<()> {
        self.fpu.raise(Flags::INVALID.0);
        self.fpu.status |= sw::SF | sw::C1;
        if !self.fpu.unmasked(Flags::INVALID.0) {
            self.fpu.push(F80::INDEFINITE);
        }
        Ok(())
    }

    /// A register operand was empty: IE and SF; with IE masked, `destination` gets the
    /// indefinite. `push_instead` is FLD ST(i), whose result is pushed.
    fn stack_underflow(
        &mut self,
        destination: Option<usize>,
        pop: bool,
        push_instead: bool,
    ) -> Result<()> {
        self.fpu.raise(Flags::INVALID.0);
        self.fpu.status |= sw::SF;
        self.set_c1(false);
        if self.fpu.unmasked(Flags::INVALID.0) {
            return Ok(());
        }
        if push_instead {
            if !self.fpu.is_empty(7) {
                return self.stack_overflow();
            }
            self.fpu.push(F80::INDEFINITE);
            return Ok(());
        }
        if let Some(i) = destination {
            self.fpu.set_st(i, F80::INDEFINITE);
        }
        if pop {
            self.fpu.pop();
        }
        Ok(())
    }

    /// A store from an empty ST(0): with IE masked the indefinite of the destination format is
    /// written.
    fn store_underflow(&mut self, bus: &mut dyn Bus, ins: &Instruction, pop: bool) -> Result<()> {
        self.fpu.raise(Flags::INVALID.0);
        self.fpu.status |= sw::SF;
        self.set_c1(false);
        if self.fpu.unmasked(Flags::INVALID.0) {
            return Ok(());
        }
        match ins.memory_size() {
            MemorySize::Float32 => self.write_memory_at(bus, ins, 0, 4, 0xFFC0_0000)?,
            MemorySize::Float64 => {
                self.write_memory_at(bus, ins, 0, 4, 0)?;
                self.write_memory_at(bus, ins, 4, 4, 0xFFF8_0000)?;
            }
            MemorySize::Int16 => self.write_memory_at(bus, ins, 0, 2, 0x8000)?,
            MemorySize::Int32 => self.write_memory_at(bus, ins, 0, 4, 0x8000_0000)?,
            MemorySize::Int64 => {
                self.write_memory_at(bus, ins, 0, 4, 0)?;
                self.write_memory_at(bus, ins, 4, 4, 0x8000_0000)?;
            }
            MemorySize::Bcd => {
                for (i, byte) in [0u8, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF]
                    .into_iter()
                    .enumerate()
                {
                    self.write_memory_at(bus, ins, i as u32, 1, u32::from(byte))?;
                }
            }
            _ => self.write_real80(bus, ins, F80::INDEFINITE)?,
        }
        if pop {
            self.fpu.pop();
        }
        Ok(())
    }

    /// Writes an arithmetic result to ST(i) within the masking rules, then pops if asked.
    fn commit(&mut self, i: usize, result: X87Result, pop: bool) -> Result<()> {
        self.fpu.raise(result.flags.0);
        let blocking = Flags::INVALID.0 | Flags::DIV_BY_ZERO.0 | Flags::DENORMAL.0;
        if self.fpu.unmasked(result.flags.0 & blocking) {
            return Ok(());
        }
        self.fpu.set_st(i, result.value);
        self.set_c1(result.c1);
        if pop {
            self.fpu.pop();
        }
        Ok(())
    }

    fn fpu_arith(&mut self, bus: &mut dyn Bus, ins: &Instruction, op: Op) -> Result<()> {
        let pop = matches!(
            ins.mnemonic(),
            M::Faddp | M::Fsubp | M::Fsubrp | M::Fmulp | M::Fdivp | M::Fdivrp
        );
        let (destination, source) = if ins.op_count() == 2 && ins.op1_kind() == OpKind::Register {
            (st_index(ins, 0), None)
        } else {
            let Some(value) = self.load_operand(bus, ins)? else {
                return Ok(());
            };
            (0, Some(value))
        };
        let other = if source.is_none() {
            st_index(ins, 1)
        } else {
            0
        };
        if self.fpu.is_empty(destination) || (source.is_none() && self.fpu.is_empty(other)) {
            return self.stack_underflow(Some(destination), pop, false);
        }
        // In register forms ST(0) is always one operand; `a op b` is "destination op source".
        let b = match source {
            Some(value) => value,
            None => self.fpu.st(other),
        };
        let a = self.fpu.st(destination);
        let rounding = Rounding::from_bits(self.fpu.rounding());
        let precision = Precision::from_bits(self.fpu.precision());
        let result = match op {
            Op::Add => F80::add(a, b, rounding, precision),
            Op::Sub => F80::sub(a, b, rounding, precision),
            Op::SubR => F80::sub(b, a, rounding, precision),
            Op::Mul => F80::mul(a, b, rounding, precision),
            Op::Div => F80::div(a, b, rounding, precision),
            Op::DivR => F80::div(b, a, rounding, precision),
        };
        self.commit(destination, result, pop)
    }

    fn fpu_compare(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        let mnemonic = ins.mnemonic();
        let pops = match mnemonic {
            M::Fcompp | M::Fucompp => 2,
            M::Fcomp | M::Ficomp | M::Fucomp => 1,
            _ => 0,
        };
        let signaling = !matches!(mnemonic, M::Fucom | M::Fucomp | M::Fucompp);
        let b = if (0..ins.op_count()).any(|i| ins.op_kind(i) == OpKind::Memory) {
            let Some(value) = self.load_operand(bus, ins)? else {
                return Ok(());
            };
            Some(value)
        } else {
            None
        };
        let other = if b.is_some() {
            0
        } else if ins.op_count() > 1 {
            st_index(ins, 1)
        } else {
            1
        };
        if self.fpu.is_empty(0) || (b.is_none() && self.fpu.is_empty(other)) {
            return self.compare_underflow(pops);
        }
        let b = b.unwrap_or(self.fpu.st(other));
        let (relation, flags) = F80::compare(self.fpu.st(0), b, signaling);
        self.set_compare_result(relation, flags, pops)
    }

    fn compare_underflow(&mut self, pops: usize) -> Result<()> {
        self.fpu.raise(Flags::INVALID.0);
        self.fpu.status |= sw::SF;
        if self.fpu.unmasked(Flags::INVALID.0) {
            return Ok(());
        }
        self.fpu.status = (self.fpu.status & !sw::CONDITION) | sw::C3 | sw::C2 | sw::C0;
        for _ in 0..pops {
            self.fpu.pop();
        }
        Ok(())
    }

    fn set_compare_result(&mut self, relation: Relation, flags: Flags, pops: usize) -> Result<()> {
        self.fpu.raise(flags.0);
        if self
            .fpu
            .unmasked(flags.0 & (Flags::INVALID.0 | Flags::DENORMAL.0))
        {
            return Ok(());
        }
        let bits = match relation {
            Relation::Greater => 0,
            Relation::Less => sw::C0,
            Relation::Equal => sw::C3,
            Relation::Unordered => sw::C3 | sw::C2 | sw::C0,
        };
        self.fpu.status = (self.fpu.status & !sw::CONDITION) | bits;
        for _ in 0..pops {
            self.fpu.pop();
        }
        Ok(())
    }

    /// The memory operand of an arithmetic or compare instruction as an F80 (integers for the
    /// FI* forms). The conversion's own flags (SNaN, denormal) are raised here; None when one
    /// of them is unmasked, which stops the instruction.
    fn load_operand(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<Option<F80>> {
        let result = match ins.memory_size() {
            MemorySize::Int16 | MemorySize::Int32 => {
                return self.load_integer(bus, ins).map(Some);
            }
            _ => self.load_real(bus, ins)?,
        };
        self.fpu.raise(result.flags.0);
        Ok((!self.fpu.unmasked(result.flags.0)).then_some(result.value))
    }

    fn load_real(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<X87Result> {
        Ok(match ins.memory_size() {
            MemorySize::Float32 => F80::from_f32(self.read_memory_at(bus, ins, 0, 4)?),
            MemorySize::Float64 => {
                let low = self.read_memory_at(bus, ins, 0, 4)?;
                let high = self.read_memory_at(bus, ins, 4, 4)?;
                F80::from_f64(u64::from(low) | u64::from(high) << 32)
            }
            _ => {
                let mut bytes = [0u8; 10];
                for (i, byte) in bytes.iter_mut().enumerate() {
                    *byte = self.read_memory_at(bus, ins, i as u32, 1)? as u8;
                }
                X87Result {
                    value: F80::from_le_bytes(bytes),
                    flags: Flags::NONE,
                    c1: false,
                }
            }
        })
    }

    fn load_integer(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<F80> {
        let value = match ins.memory_size() {
            MemorySize::Int16 => i64::from(self.read_memory_at(bus, ins, 0, 2)? as u16 as i16),
            MemorySize::Int32 => i64::from(self.read_memory_at(bus, ins, 0, 4)? as i32),
            _ => {
                let low = self.read_memory_at(bus, ins, 0, 4)?;
                let high = self.read_memory_at(bus, ins, 4, 4)?;
                (u64::from(low) | u64::from(high) << 32) as i64
            }
        };
        Ok(F80::from_i64(value))
    }

    /// FBLD: 18 packed BCD digits and a sign byte. Invalid digits give an undefined result on
    /// hardware; here they are taken at face value.
    fn load_bcd(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<F80> {
        let mut value: i64 = 0;
        for i in (0..9).rev() {
            let byte = self.read_memory_at(bus, ins, i, 1)? as i64;
            value = value * 100 + (byte >> 4) * 10 + (byte & 0xF);
        }
        let sign = self.read_memory_at(bus, ins, 9, 1)? & 0x80 != 0;
        let magnitude = F80::from_i64(value);
        Ok(if sign { magnitude.chs() } else { magnitude })
    }

    fn write_real80(&mut self, bus: &mut dyn Bus, ins: &Instruction, value: F80) -> Result<()> {
        let bytes = value.to_le_bytes();
        let low = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let middle = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        let high = u32::from(u16::from_le_bytes([bytes[8], bytes[9]]));
        // The last part is written first so a fault on the far page changes nothing.
        self.write_memory_at(bus, ins, 8, 2, high)?;
        self.write_memory_at(bus, ins, 0, 4, low)?;
        self.write_memory_at(bus, ins, 4, 4, middle)
    }

    fn store_real(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        value: F80,
        rounding: Rounding,
    ) -> Result<()> {
        let blocking = Flags::INVALID.0 | Flags::DENORMAL.0;
        match ins.memory_size() {
            MemorySize::Float32 => {
                let result = value.to_f32(rounding);
                self.fpu.raise(result.flags.0);
                if !self
                    .fpu
                    .unmasked(result.flags.0 & (blocking | Flags::OVERFLOW.0 | Flags::UNDERFLOW.0))
                {
                    self.write_memory_at(bus, ins, 0, 4, result.value)?;
                }
                self.set_c1(result.c1);
            }
            MemorySize::Float64 => {
                let result = value.to_f64(rounding);
                self.fpu.raise(result.flags.0);
                if !self
                    .fpu
                    .unmasked(result.flags.0 & (blocking | Flags::OVERFLOW.0 | Flags::UNDERFLOW.0))
                {
                    self.write_memory_at(bus, ins, 4, 4, (result.value >> 32) as u32)?;
                    self.write_memory_at(bus, ins, 0, 4, result.value as u32)?;
                }
                self.set_c1(result.c1);
            }
            _ => {
                self.write_real80(bus, ins, value)?;
                self.set_c1(false);
            }
        }
        Ok(())
    }

    fn store_integer(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        value: F80,
        rounding: Rounding,
    ) -> Result<()> {
        let (bits, size, flags, c1) = match ins.memory_size() {
            MemorySize::Int16 => {
                let r = value.to_i16(rounding);
                (r.value as u16 as u64, 2, r.flags, r.c1)
            }
            MemorySize::Int32 => {
                let r = value.to_i32(rounding);
                (r.value as u32 as u64, 4, r.flags, r.c1)
            }
            _ => {
                let r = value.to_i64(rounding);
                (r.value as u64, 8, r.flags, r.c1)
            }
        };
        self.fpu.raise(flags.0);
        if self
            .fpu
            .unmasked(flags.0 & (Flags::INVALID.0 | Flags::DENORMAL.0))
        {
            return Ok(());
        }
        if size == 8 {
            self.write_memory_at(bus, ins, 4, 4, (bits >> 32) as u32)?;
            self.write_memory_at(bus, ins, 0, 4, bits as u32)?;
        } else {
            self.write_memory_at(bus, ins, 0, size, bits as u32)?;
        }
        self.set_c1(c1);
        Ok(())
    }

    /// FBSTP: rounds to an integer and stores 18 BCD digits; beyond 18 digits (or a NaN) is
    /// invalid and stores the BCD indefinite.
    fn store_bcd(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        value: F80,
        rounding: Rounding,
    ) -> Result<()> {
        let result = value.to_i64(rounding);
        let mut flags = result.flags;
        let magnitude = result.value.unsigned_abs();
        let valid = !flags.contains(Flags::INVALID) && magnitude <= 999_999_999_999_999_999;
        if !valid {
            flags = Flags::INVALID;
        }
        self.fpu.raise(flags.0);
        if self
            .fpu
            .unmasked(flags.0 & (Flags::INVALID.0 | Flags::DENORMAL.0))
        {
            return Ok(());
        }
        let mut bytes = [0u8, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF];
        if valid {
            let mut rest = magnitude;
            for byte in bytes.iter_mut().take(9) {
                let pair = rest % 100;
                *byte = (((pair / 10) << 4) | (pair % 10)) as u8;
                rest /= 100;
            }
            bytes[9] = if value.sign() { 0x80 } else { 0 };
        }
        for (i, byte) in bytes.into_iter().enumerate().rev() {
            self.write_memory_at(bus, ins, i as u32, 1, u32::from(byte))?;
        }
        self.set_c1(result.c1);
        Ok(())
    }

    /// The size of the FSTENV/FLDENV image: 14 or 28 bytes by operand size.
    fn environment_size(&self, ins: &Instruction) -> u32 {
        if matches!(
            ins.memory_size(),
            MemorySize::FpuEnv14 | MemorySize::FpuState94
        ) {
            14
        } else {
            28
        }
    }

    /// Stores the environment image at `offset` in the operand's format (16/32-bit, real or
    /// protected mode); returns its size.
    fn store_environment(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        offset: u32,
    ) -> Result<u32> {
        let size = self.environment_size(ins);
        let fpu = self.fpu.clone();
        let unit = if size == 14 { 2 } else { 4 };
        let mut fields = [
            u32::from(fpu.control) | 0xFFFF_0000,
            u32::from(fpu.status) | 0xFFFF_0000,
            u32::from(fpu.tags) | 0xFFFF_0000,
            0,
            0,
            0,
            0,
        ];
        if self.protected_mode() && !self.v86_mode() {
            fields[3] = fpu.ip;
            fields[4] = u32::from(fpu.cs) | u32::from(fpu.opcode) << 16;
            fields[5] = fpu.dp;
            fields[6] = u32::from(fpu.ds) | 0xFFFF_0000;
        } else {
            // Real-mode layout: 20-bit linear pointers split around the opcode.
            let ip = (u32::from(fpu.cs) << 4).wrapping_add(fpu.ip);
            let dp = (u32::from(fpu.ds) << 4).wrapping_add(fpu.dp);
            fields[3] = ip & 0xFFFF | 0xFFFF_0000;
            fields[4] = (ip >> 16) << 12 | u32::from(fpu.opcode);
            fields[5] = dp & 0xFFFF | 0xFFFF_0000;
            fields[6] = (dp >> 16) << 12;
        }
        for (i, value) in fields.into_iter().enumerate() {
            let value = if unit == 2 { value & 0xFFFF } else { value };
            self.write_memory_at(bus, ins, offset + unit * i as u32, unit as usize, value)?;
        }
        Ok(size)
    }

    fn load_environment(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        offset: u32,
    ) -> Result<()> {
        let unit = if self.environment_size(ins) == 14 {
            2
        } else {
            4
        };
        let mut fields = [0u32; 7];
        for (i, value) in fields.iter_mut().enumerate() {
            *value = self.read_memory_at(bus, ins, offset + unit * i as u32, unit as usize)?;
        }
        self.fpu.tags = fields[2] as u16;
        self.fpu.status = fields[1] as u16;
        if self.protected_mode() && !self.v86_mode() {
            self.fpu.ip = fields[3];
            self.fpu.cs = fields[4] as u16;
            self.fpu.opcode = (fields[4] >> 16) as u16 & 0x7FF;
            self.fpu.dp = fields[5];
            self.fpu.ds = fields[6] as u16;
        } else {
            self.fpu.ip = (fields[3] & 0xFFFF) | (fields[4] >> 12) << 16;
            self.fpu.opcode = fields[4] as u16 & 0x7FF;
            self.fpu.dp = (fields[5] & 0xFFFF) | (fields[6] >> 12) << 16;
            self.fpu.cs = 0;
            self.fpu.ds = 0;
        }
        self.fpu.set_control(fields[0] as u16);
        Ok(())
    }
}
