//! The x87 floating-point unit: loads and stores, arithmetic, comparisons, the register stack
//! and its faults, control and environment instructions. The arithmetic itself is
//! `cpu::softfloat` (bit-exact, host-independent); this module applies the x87 exception
//! rules to its masked results, as the hardware does:
//!
//! - A stack fault (an empty operand, or a push onto a full register) is IE with SF; C1 says
//!   overflow (1) or underflow (0). Masked, the operands read as the real indefinite: the
//!   destination gets it, pushes and pops happen. Unmasked, nothing else changes.
//! - IE, DE and ZE are found before the result exists: unmasked, they stop the instruction
//!   (nothing written, no pop, C1 cleared) and the operation's other flags are not reported.
//!   DE is not reported beside IE, ZE or a NaN operand, memory operands' included.
//! - Unmasked OE and UE: a register result is delivered with its exponent wrapped by 24576
//!   into the range (underflow is then reported on tininess alone, exact or not); FST to
//!   memory stores nothing and reports OE or UE alone.
//! - Compares set the condition codes (or EFLAGS) even when an unmasked exception stops
//!   them: unordered for IE. Only the pops are skipped.
//! - An unmasked exception sets ES; the next waiting FP instruction raises #MF.

use crate::cpu::Cpu;
use crate::cpu::bus::Bus;
use crate::cpu::fault::{Fault, Result};
use crate::cpu::fpu::{sw, tag};
use crate::cpu::softfloat::{F80, Flags, FxamClass, Precision, Relation, Rounding, X87Result};
use crate::cpu::state::{cr0, flag};
use crate::cpu::transcendental::{self, Trig};
use iced_x86::{Instruction, MemorySize, Mnemonic as M, OpKind};

pub fn handles(m: M) -> bool {
    matches!(
        m,
        M::Fld
            | M::Fst
            | M::Fstp
            | M::Fstpnce
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
            | M::Fsin
            | M::Fcos
            | M::Fsincos
            | M::Fptan
            | M::Fpatan
            | M::F2xm1
            | M::Fyl2x
            | M::Fyl2xp1
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

/// The arithmetic operations that share the two-operand forms; FSUBR and FDIVR are FSUB and
/// FDIV with the operands swapped.
#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

impl Op {
    fn apply(self, a: F80, b: F80, rc: Rounding, pc: Precision) -> X87Result {
        match self {
            Op::Add => F80::add(a, b, rc, pc),
            Op::Sub => F80::sub(a, b, rc, pc),
            Op::Mul => F80::mul(a, b, rc, pc),
            Op::Div => F80::div(a, b, rc, pc),
        }
    }

    /// The result with an unlimited exponent range: the operation runs on the operands
    /// scaled into the middle of the range, which rounds alike, and the scale is added back.
    /// None unless both operands are finite and non-zero.
    fn unbounded(self, a: F80, b: F80, rc: Rounding, pc: Precision) -> Option<Unbounded> {
        let ((a, ea), (b, eb)) = (split(a)?, split(b)?);
        let (a, b, scale) = match self {
            Op::Mul => (a, b, ea + eb),
            Op::Div => (a, b, ea - eb),
            Op::Add | Op::Sub => {
                // An operand 2^128 times smaller than the other only acts as a sticky bit,
                // so capping the gap keeps it in range without changing the rounding.
                let top = ea.max(eb);
                let scaled = |x: F80, e: i32| F80 {
                    sign_exp: x.sign_exp - (top - e).min(128) as u16,
                    ..x
                };
                (scaled(a, ea), scaled(b, eb), top)
            }
        };
        let result = self.apply(a, b, rc, pc);
        let (value, exponent) = split(result.value)?;
        Some(Unbounded {
            result: X87Result { value, ..result },
            exponent: exponent + scale,
        })
    }
}

/// A result rounded as though the exponent range were unlimited: `result.value`, with a
/// biased exponent of 0x3FFF, times 2^`exponent`.
struct Unbounded {
    result: X87Result,
    exponent: i32,
}

impl Unbounded {
    /// An exact result; None for zeros and specials.
    fn exact(value: F80, scale: i32) -> Option<Unbounded> {
        let (value, exponent) = split(value)?;
        Some(Unbounded {
            result: X87Result::exact(value),
            exponent: exponent.saturating_add(scale),
        })
    }
}

/// A finite non-zero value (denormals and pseudo-denormals included) as a significand in
/// [1, 2), with the biased exponent 0x3FFF, and a power of two.
fn split(x: F80) -> Option<(F80, i32)> {
    let exponent = match x.classify() {
        FxamClass::Normal => i32::from(x.biased_exp()),
        // A (pseudo-)denormal has the smallest normal's exponent.
        FxamClass::Denormal => 1,
        _ => return None,
    };
    let shift = x.mantissa.leading_zeros();
    let significand = F80 {
        sign_exp: (x.sign_exp & 0x8000) | 0x3FFF,
        mantissa: x.mantissa << shift,
    };
    Some((significand, exponent - shift as i32 - 0x3FFF))
}

/// `f` with an unlimited exponent range, for an `f` linear in `x` around the result: `x`'s
/// significand is given the exponent `target` (within range, and small enough for the
/// linearity), and the scale is taken back out of the result. None for zeros and specials.
fn linear(x: F80, target: i32, f: impl Fn(F80) -> X87Result) -> Option<Unbounded> {
    let (significand, exponent) = split(x)?;
    let scaled = F80 {
        sign_exp: (significand.sign_exp & 0x8000) | (0x3FFF + target) as u16,
        ..significand
    };
    let result = f(scaled);
    let (value, result_exponent) = split(result.value)?;
    Some(Unbounded {
        result: X87Result { value, ..result },
        exponent: result_exponent + exponent - target,
    })
}

/// The flags of an operation with a memory operand: the load's (IE for a signalling NaN, DE
/// for a denormal) merged with the operation's, DE dropped as for register operands when
/// the operation is invalid, divides by zero or has a NaN operand.
fn merge_load(load: Flags, operation: Flags, a: F80, b: F80) -> Flags {
    let suppressed =
        a.is_nan() || b.is_nan() || operation.0 & (Flags::INVALID.0 | Flags::DIV_BY_ZERO.0) != 0;
    let denormal = Flags::DENORMAL.when(load.contains(Flags::DENORMAL) && !suppressed);
    operation | Flags(load.0 & Flags::INVALID.0) | denormal
}

/// The memory formats of loads and stores.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    F32,
    F64,
    F80,
    I16,
    I32,
    I64,
    Bcd,
}

/// The packed BCD indefinite: sign byte 0xFF, then 0xFF, 0xC0 and zeros.
const BCD_INDEFINITE: u128 = 0xFFFF_C000_0000_0000_0000;
const BCD_MAX: u64 = 999_999_999_999_999_999;

impl Format {
    fn of(ins: &Instruction) -> Format {
        match ins.memory_size() {
            MemorySize::Float32 => Format::F32,
            MemorySize::Float64 => Format::F64,
            MemorySize::Int16 => Format::I16,
            MemorySize::Int32 => Format::I32,
            MemorySize::Int64 => Format::I64,
            MemorySize::Bcd => Format::Bcd,
            _ => Format::F80,
        }
    }

    fn bytes(self) -> usize {
        match self {
            Format::I16 => 2,
            Format::F32 | Format::I32 => 4,
            Format::F64 | Format::I64 => 8,
            Format::F80 | Format::Bcd => 10,
        }
    }

    /// FLD, FILD, FBLD: the value in register format. Only FLD m32/m64 raise anything.
    /// Invalid BCD digits give an undefined result on hardware; they are taken at face value.
    fn load(self, bits: u128) -> X87Result {
        let integer = |value: i64| X87Result::exact(F80::from_i64(value));
        match self {
            Format::F32 => F80::from_f32(bits as u32),
            Format::F64 => F80::from_f64(bits as u64),
            Format::F80 => X87Result::exact(F80 {
                sign_exp: (bits >> 64) as u16,
                mantissa: bits as u64,
            }),
            Format::I16 => integer((bits as i16).into()),
            Format::I32 => integer((bits as i32).into()),
            Format::I64 => integer(bits as i64),
            Format::Bcd => {
                let magnitude = (0..18)
                    .rev()
                    .fold(0, |v, digit| v * 10 + (bits >> (4 * digit) & 0xF) as i64);
                let value = F80::from_i64(magnitude);
                X87Result::exact(if bits >> 79 & 1 != 0 {
                    value.chs()
                } else {
                    value
                })
            }
        }
    }

    /// FST, FIST, FBSTP: the stored bits, rounded by `rc`.
    fn store(self, value: F80, rc: Rounding) -> X87Result<u128> {
        match self {
            Format::F32 => value.to_f32(rc).map(u128::from),
            Format::F64 => value.to_f64(rc).map(u128::from),
            Format::F80 => {
                X87Result::exact(u128::from(value.sign_exp) << 64 | u128::from(value.mantissa))
            }
            Format::I16 => value.to_i16(rc).map(|v| u128::from(v as u16)),
            Format::I32 => value.to_i32(rc).map(|v| u128::from(v as u32)),
            Format::I64 => value.to_i64(rc).map(|v| u128::from(v as u64)),
            Format::Bcd => {
                let integer = value.to_i64(rc);
                let magnitude = integer.value.unsigned_abs();
                if integer.flags.contains(Flags::INVALID) || magnitude > BCD_MAX {
                    return X87Result {
                        value: BCD_INDEFINITE,
                        flags: Flags::INVALID,
                        c1: false,
                    };
                }
                let digits = (0..18).fold(0u128, |bits, digit| {
                    bits | u128::from(magnitude / 10u64.pow(digit) % 10) << (4 * digit)
                });
                integer.map(|_| digits | u128::from(value.sign()) << 79)
            }
        }
    }

    /// The exponent field of the narrower floating-point formats: (position, all ones).
    fn exponent_field(self) -> Option<(u32, i32)> {
        match self {
            Format::F32 => Some((23, 0xFF)),
            Format::F64 => Some((52, 0x7FF)),
            _ => None,
        }
    }
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

fn has_memory_operand(ins: &Instruction) -> bool {
    (0..ins.op_count()).any(|i| ins.op_kind(i) == OpKind::Memory)
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

/// The exponent adjustment of results delivered with unmasked overflow or underflow.
const WRAP: i32 = 24576;
const MAX_BIASED: i32 = 0x7FFE;

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
            M::Fld | M::Fild | M::Fbld => {
                if ins.op0_kind() == OpKind::Memory {
                    let value = self.fpu_load(bus, ins)?;
                    return self.fpu_push(value);
                }
                // The empty source is found first: the underflow's indefinite is pushed even
                // onto a full register.
                let i = st_index(ins, 0);
                if self.fpu.is_empty(i) {
                    if self.stack_fault(false) {
                        self.fpu.push(F80::INDEFINITE);
                    }
                    return Ok(());
                }
                self.fpu_push(X87Result::exact(self.fpu.st(i)))
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
                self.fpu_push(X87Result::exact(value))
            }
            M::Fst | M::Fstp | M::Fstpnce | M::Fist | M::Fistp | M::Fbstp => {
                let pop = !matches!(mnemonic, M::Fst | M::Fist);
                if ins.op0_kind() == OpKind::Memory {
                    return self.fpu_store(bus, ins, pop);
                }
                let i = st_index(ins, 0);
                // FSTPNCE ("no check empty") takes an empty ST(0) without a stack fault: it
                // only pops, leaving ST(i) alone.
                if mnemonic == M::Fstpnce && self.fpu.is_empty(0) {
                    self.set_c1(false);
                    self.fpu.pop();
                    return Ok(());
                }
                if self.operands_present(&[0], i, pop) {
                    self.commit(i, X87Result::exact(self.fpu.st(0)), pop);
                }
                Ok(())
            }
            M::Fxch => {
                let i = if ins.op_count() > 1 {
                    st_index(ins, 1)
                } else {
                    1
                };
                if self.fpu.is_empty(0) || self.fpu.is_empty(i) {
                    if !self.stack_fault(false) {
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
            M::Fadd | M::Faddp | M::Fiadd => self.fpu_arith(bus, ins, Op::Add, false),
            M::Fsub | M::Fsubp | M::Fisub => self.fpu_arith(bus, ins, Op::Sub, false),
            M::Fsubr | M::Fsubrp | M::Fisubr => self.fpu_arith(bus, ins, Op::Sub, true),
            M::Fmul | M::Fmulp | M::Fimul => self.fpu_arith(bus, ins, Op::Mul, false),
            M::Fdiv | M::Fdivp | M::Fidiv => self.fpu_arith(bus, ins, Op::Div, false),
            M::Fdivr | M::Fdivrp | M::Fidivr => self.fpu_arith(bus, ins, Op::Div, true),
            M::Fcom
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
            | M::Ftst => self.fpu_compare(bus, ins),
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
                if self.operands_present(&[0], 0, false) {
                    let value = self.fpu.st(0);
                    let value = if mnemonic == M::Fchs {
                        value.chs()
                    } else {
                        value.abs()
                    };
                    self.commit(0, X87Result::exact(value), false);
                }
                Ok(())
            }
            M::Fsqrt | M::Frndint => {
                if self.operands_present(&[0], 0, false) {
                    let value = self.fpu.st(0);
                    let result = if mnemonic == M::Fsqrt {
                        value.sqrt(rounding, Precision::from_bits(self.fpu.precision()))
                    } else {
                        value.round_to_integer(rounding)
                    };
                    self.commit(0, result, false);
                }
                Ok(())
            }
            M::Fscale => {
                if self.operands_present(&[0, 1], 0, false) {
                    let (a, b) = (self.fpu.st(0), self.fpu.st(1));
                    // Exact unless the result leaves the range: the exponent moves by trunc(b).
                    let unbounded =
                        || {
                            // Scales of 2^20 and beyond leave the range from any operand alike,
                            // so larger ones are capped there.
                            let n =
                                match b.classify() {
                                    FxamClass::Normal if b.biased_exp() >= 0x3FFF + 20 => {
                                        if b.sign() { -(1 << 20) } else { 1 << 20 }
                                    }
                                    FxamClass::Normal | FxamClass::Denormal | FxamClass::Zero => {
                                        b.to_i32(Rounding::Zero).value
                                    }
                                    _ => return None,
                                };
                            Unbounded::exact(a, n)
                        };
                    let result = self.wrap(F80::scale(a, b, rounding), unbounded);
                    self.commit(0, result, false);
                }
                Ok(())
            }
            M::Fxtract => {
                // Both results are stack registers: an empty ST(0) or a full ST(7) puts the
                // indefinite in both.
                let (underflow, overflow) = (self.fpu.is_empty(0), !self.fpu.is_empty(7));
                if underflow || overflow {
                    if self.stack_fault(!underflow) {
                        self.fpu.set_st(0, F80::INDEFINITE);
                        self.fpu.push(F80::INDEFINITE);
                    }
                    return Ok(());
                }
                let result = self.fpu.st(0).extract();
                if self.stops(result.flags) {
                    return Ok(());
                }
                self.fpu.raise(result.flags.0);
                let (exponent, significand) = result.value;
                self.fpu.set_st(0, exponent);
                self.fpu.push(significand);
                self.set_c1(false);
                Ok(())
            }
            M::Fprem | M::Fprem1 => {
                if !self.operands_present(&[0, 1], 0, false) {
                    return Ok(());
                }
                let (a, b) = (self.fpu.st(0), self.fpu.st(1));
                let r = if mnemonic == M::Fprem {
                    F80::prem(a, b)
                } else {
                    F80::prem1(a, b)
                };
                let result = X87Result {
                    value: r.value,
                    flags: r.flags,
                    c1: false,
                };
                // The remainder is exact, but may be tiny.
                if self.commit(0, self.wrap(result, || None), false) {
                    // Incomplete: C2 = 1. Complete: C0, C3, C1 = quotient bits 2, 1, 0.
                    let q = r.quotient;
                    let bits = if r.incomplete {
                        sw::C2
                    } else {
                        (if q & 4 != 0 { sw::C0 } else { 0 })
                            | (if q & 2 != 0 { sw::C3 } else { 0 })
                            | (if q & 1 != 0 { sw::C1 } else { 0 })
                    };
                    self.fpu.status = (self.fpu.status & !sw::CONDITION) | bits;
                }
                Ok(())
            }
            M::Fsin | M::Fcos | M::F2xm1 => {
                if self.operands_present(&[0], 0, false) {
                    let x = self.fpu.st(0);
                    let result = match mnemonic {
                        M::Fsin => transcendental::fsin(x),
                        M::Fcos => transcendental::fcos(x),
                        _ => Trig::Done(transcendental::f2xm1(x)),
                    };
                    match result {
                        Trig::OutOfRange => self.fpu.status |= sw::C2,
                        Trig::Done(result) => {
                            self.fpu.status &= !sw::C2;
                            // Results that leave the range come from tiny x, where F2XM1 and
                            // FSIN are linear (FCOS is never tiny).
                            let unbounded = || match mnemonic {
                                M::Fsin => linear(x, -200, |x| match transcendental::fsin(x) {
                                    Trig::Done(result) => result,
                                    Trig::OutOfRange => X87Result::exact(x),
                                }),
                                M::F2xm1 => linear(x, -200, transcendental::f2xm1),
                                _ => None,
                            };
                            let result = self.wrap(result, unbounded);
                            self.commit(0, result, false);
                        }
                    }
                }
                Ok(())
            }
            M::Fsincos | M::Fptan => {
                // Like FXTRACT, two stack results: an empty ST(0) or a full ST(7) puts the
                // indefinite in both.
                let (underflow, overflow) = (self.fpu.is_empty(0), !self.fpu.is_empty(7));
                if underflow || overflow {
                    if self.stack_fault(!underflow) {
                        self.fpu.set_st(0, F80::INDEFINITE);
                        self.fpu.push(F80::INDEFINITE);
                    }
                    return Ok(());
                }
                let x = self.fpu.st(0);
                let outcome = match mnemonic {
                    M::Fsincos => match transcendental::fsincos(x) {
                        Trig::Done(r) => Some((r.map(|(sin, _)| sin), r.value.1)),
                        Trig::OutOfRange => None,
                    },
                    _ => match transcendental::fptan(x) {
                        Trig::Done(r) => Some((r, transcendental::fptan_push(r.value))),
                        Trig::OutOfRange => None,
                    },
                };
                let Some((result, pushed)) = outcome else {
                    // |ST(0)| >= 2^63: C2 set, the operand left alone, nothing pushed.
                    self.fpu.status |= sw::C2;
                    return Ok(());
                };
                self.fpu.status &= !sw::C2;
                // Tiny sines and tangents come from tiny x, where both are linear.
                let first = |x: F80| match mnemonic {
                    M::Fsincos => match transcendental::fsincos(x) {
                        Trig::Done(r) => r.map(|(sin, _)| sin),
                        Trig::OutOfRange => X87Result::exact(x),
                    },
                    _ => match transcendental::fptan(x) {
                        Trig::Done(r) => r,
                        Trig::OutOfRange => X87Result::exact(x),
                    },
                };
                let result = self.wrap(result, || linear(x, -200, first));
                if self.commit(0, result, false) {
                    self.fpu.push(pushed);
                }
                Ok(())
            }
            M::Fpatan | M::Fyl2x | M::Fyl2xp1 => {
                if self.operands_present(&[0, 1], 1, true) {
                    let (x, y) = (self.fpu.st(0), self.fpu.st(1));
                    let apply = |y: F80| match mnemonic {
                        M::Fpatan => transcendental::fpatan(y, x),
                        M::Fyl2x => transcendental::fyl2x(x, y),
                        _ => transcendental::fyl2xp1(x, y),
                    };
                    // All three are linear in y where their results leave the range (FPATAN
                    // once y/x is tiny), so y is scaled into range and the scale added back.
                    let target = match mnemonic {
                        M::Fpatan => split(x).map_or(0, |(_, e)| e - 100),
                        _ => 0,
                    };
                    let masked = apply(y);
                    // FPATAN's result is bounded by pi: only a tiny one leaves the range.
                    let scalable = mnemonic != M::Fpatan
                        || matches!(
                            masked.value.classify(),
                            FxamClass::Denormal | FxamClass::Zero
                        );
                    // FYL2XP1 with a tiny x is tiny even for y near 1: it is linear in x
                    // there, and x is the operand to scale.
                    let tiny_x = mnemonic == M::Fyl2xp1 && split(x).is_some_and(|(_, e)| e < -200);
                    let result = self.wrap(masked, || {
                        if tiny_x {
                            // Linear in y as well: both are scaled, both scales come back.
                            let (y, ey) = split(y)?;
                            linear(x, -200, |x| transcendental::fyl2xp1(x, y)).map(|u| Unbounded {
                                exponent: u.exponent + ey,
                                ..u
                            })
                        } else {
                            scalable.then(|| linear(y, target, apply)).flatten()
                        }
                    });
                    self.commit(1, result, true);
                }
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
                if !self.operands_present(&[0, i], 0, false) {
                    return Ok(());
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
                self.fpu.control |= crate::cpu::fpu::cw::MASKS;
                Ok(())
            }
            M::Fldenv => self.load_environment(bus, ins, 0),
            M::Fnsave => {
                let size = self.store_environment(bus, ins, 0)?;
                for i in 0..8 {
                    let value = Format::F80.store(self.fpu.st(i), rounding).value;
                    self.write_bytes(bus, ins, size + 10 * i as u32, value, 10)?;
                }
                self.fpu.init();
                Ok(())
            }
            M::Frstor => {
                let size = self.environment_size(ins);
                let mut regs = [F80::ZERO; 8];
                for (i, reg) in regs.iter_mut().enumerate() {
                    let bits = self.read_bytes(bus, ins, size + 10 * i as u32, 10)?;
                    *reg = Format::F80.load(bits).value;
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
        if has_memory_operand(ins) {
            self.fpu.dp = self.effective_address(ins);
            self.fpu.ds = self.seg[Cpu::memory_segment(ins) as usize].selector;
        }
        Ok(())
    }

    /// A stack overflow or underflow: IE and SF, with C1 telling which. Returns whether IE
    /// is masked, i.e. whether the instruction goes on with the indefinite.
    fn stack_fault(&mut self, overflow: bool) -> bool {
        self.fpu.raise(Flags::INVALID.0);
        self.fpu.status |= sw::SF;
        self.set_c1(overflow);
        !self.fpu.unmasked(Flags::INVALID.0)
    }

    /// Whether the stack registers `regs` all hold values. If not, that is a stack underflow,
    /// whose masked response writes the indefinite to ST(`destination`) and pops if asked.
    fn operands_present(&mut self, regs: &[usize], destination: usize, pop: bool) -> bool {
        if regs.iter().all(|&i| !self.fpu.is_empty(i)) {
            return true;
        }
        if self.stack_fault(false) {
            self.fpu.set_st(destination, F80::INDEFINITE);
            if pop {
                self.fpu.pop();
            }
        }
        false
    }

    /// Whether `flags` hold an unmasked IE, DE or ZE, which stops the instruction before
    /// its result exists: only those flags are recorded and C1 is cleared. Otherwise
    /// nothing is recorded yet.
    fn stops(&mut self, flags: Flags) -> bool {
        let early = flags.0 & (Flags::INVALID.0 | Flags::DENORMAL.0 | Flags::DIV_BY_ZERO.0);
        if !self.fpu.unmasked(early) {
            return false;
        }
        self.fpu.raise(early);
        self.set_c1(false);
        true
    }

    /// Pushes a loaded value: a full ST(7) is a stack overflow. A denormal m32/m64 is loaded
    /// even when DE is unmasked.
    fn fpu_push(&mut self, result: X87Result) -> Result<()> {
        if !self.fpu.is_empty(7) {
            if self.stack_fault(true) {
                self.fpu.push(F80::INDEFINITE);
            }
            return Ok(());
        }
        if !self.stops(Flags(result.flags.0 & !Flags::DENORMAL.0)) {
            self.fpu.raise(result.flags.0);
            self.fpu.push(result.value);
            self.set_c1(false);
        }
        Ok(())
    }

    /// Writes a result to ST(i) under the exception rules, then pops if asked. Returns
    /// whether the result was written.
    fn commit(&mut self, i: usize, result: X87Result, pop: bool) -> bool {
        if self.stops(result.flags) {
            return false;
        }
        self.fpu.raise(result.flags.0);
        self.fpu.set_st(i, result.value);
        self.set_c1(result.c1);
        if pop {
            self.fpu.pop();
        }
        true
    }

    /// The arithmetic's result, `masked`, under unmasked overflow or underflow; `unbounded`
    /// gives it without exponent limits. A register result beyond the exponent range is
    /// delivered with its exponent moved 24576 toward the middle. Underflow is then reported
    /// on tininess, exact or not. A result beyond even that (FSCALE by large amounts) becomes
    /// an infinity or a zero, whatever the rounding.
    fn wrap(&self, masked: X87Result, unbounded: impl FnOnce() -> Option<Unbounded>) -> X87Result {
        if !self.fpu.unmasked(Flags::OVERFLOW.0 | Flags::UNDERFLOW.0) {
            return masked;
        }
        // An exact masked result (a denormal, say) is already the true value.
        let unbounded = if masked.flags.contains(Flags::INEXACT) {
            unbounded()
        } else {
            Unbounded::exact(masked.value, 0)
        };
        let Some(Unbounded { result, exponent }) = unbounded else {
            return masked;
        };
        let biased = exponent.saturating_add(0x3FFF);
        let (kind, wrapped) = if biased > MAX_BIASED {
            (Flags::OVERFLOW, biased - WRAP)
        } else if biased < 1 {
            (Flags::UNDERFLOW, biased + WRAP)
        } else {
            return masked;
        };
        if !self.fpu.unmasked(kind.0) {
            return masked;
        }
        let sign = result.value.sign_exp & 0x8000;
        let denormal = Flags(masked.flags.0 & Flags::DENORMAL.0);
        if !(1..=MAX_BIASED).contains(&wrapped) {
            let overflow = kind == Flags::OVERFLOW;
            let value = if overflow { F80::INFINITY } else { F80::ZERO };
            return X87Result {
                value: F80 {
                    sign_exp: value.sign_exp | sign,
                    ..value
                },
                flags: denormal | kind | Flags::INEXACT,
                c1: overflow,
            };
        }
        X87Result {
            value: F80 {
                sign_exp: sign | wrapped as u16,
                mantissa: result.value.mantissa,
            },
            flags: denormal | kind | Flags(result.flags.0 & Flags::INEXACT.0),
            c1: result.c1,
        }
    }

    /// FADD and the other two-operand arithmetic: `destination op source`, or `source op
    /// destination` when `reversed`.
    fn fpu_arith(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        op: Op,
        reversed: bool,
    ) -> Result<()> {
        let pop = matches!(
            ins.mnemonic(),
            M::Faddp | M::Fsubp | M::Fsubrp | M::Fmulp | M::Fdivp | M::Fdivrp
        );
        let memory = self.memory_operand(bus, ins)?;
        // Register forms: ST(0) is always one operand, the first names the destination.
        let (destination, other) = match memory {
            Some(_) => (0, 0),
            None => (st_index(ins, 0), st_index(ins, 1)),
        };
        if !self.operands_present(&[destination, other], destination, pop) {
            return Ok(());
        }
        let a = self.fpu.st(destination);
        let (b, loaded) = match memory {
            Some(load) => (load.value, load.flags),
            None => (self.fpu.st(other), Flags::NONE),
        };
        let (x, y) = if reversed { (b, a) } else { (a, b) };
        let rc = Rounding::from_bits(self.fpu.rounding());
        let pc = Precision::from_bits(self.fpu.precision());
        let mut result = op.apply(x, y, rc, pc);
        result.flags = merge_load(loaded, result.flags, x, y);
        let result = self.wrap(result, || op.unbounded(x, y, rc, pc));
        self.commit(destination, result, pop);
        Ok(())
    }

    /// FCOM, FUCOM, FICOM, FTST (against zero) and their popping forms set C3, C2, C0;
    /// FCOMI and FUCOMI set ZF, PF, CF and clear OF, SF, AF.
    fn fpu_compare(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        let mnemonic = ins.mnemonic();
        let pops = match mnemonic {
            M::Fcompp | M::Fucompp => 2,
            M::Fcomp | M::Ficomp | M::Fucomp | M::Fcomip | M::Fucomip => 1,
            _ => 0,
        };
        let signaling = !matches!(
            mnemonic,
            M::Fucom | M::Fucomp | M::Fucompp | M::Fucomi | M::Fucomip
        );
        let memory = self.memory_operand(bus, ins)?;
        let other = match (memory, mnemonic) {
            (Some(_), _) | (None, M::Ftst) => 0,
            _ if ins.op_count() > 1 => st_index(ins, 1),
            _ => 1,
        };
        let (relation, proceeds) = if self.fpu.is_empty(0) || self.fpu.is_empty(other) {
            (Relation::Unordered, self.stack_fault(false))
        } else {
            let a = self.fpu.st(0);
            let (b, loaded) = match memory {
                Some(load) => (load.value, load.flags),
                None if mnemonic == M::Ftst => (F80::ZERO, Flags::NONE),
                None => (self.fpu.st(other), Flags::NONE),
            };
            let (relation, flags) = F80::compare(a, b, signaling);
            let flags = merge_load(loaded, flags, a, b);
            let stops = self.stops(flags);
            if !stops {
                self.fpu.raise(flags.0);
            }
            (relation, !stops)
        };
        if matches!(mnemonic, M::Fcomi | M::Fcomip | M::Fucomi | M::Fucomip) {
            let bits = match relation {
                Relation::Greater => 0,
                Relation::Less => flag::CF,
                Relation::Equal => flag::ZF,
                Relation::Unordered => flag::ZF | flag::PF | flag::CF,
            };
            self.eflags = (self.eflags & !flag::ARITH) | bits;
            self.set_c1(false);
        } else {
            let bits = match relation {
                Relation::Greater => 0,
                Relation::Less => sw::C0,
                Relation::Equal => sw::C3,
                Relation::Unordered => sw::C3 | sw::C2 | sw::C0,
            };
            self.fpu.status = (self.fpu.status & !sw::CONDITION) | bits;
        }
        if proceeds {
            for _ in 0..pops {
                self.fpu.pop();
            }
        }
        Ok(())
    }

    /// The memory operand of an arithmetic or compare instruction in register format, with
    /// the conversion's flags; None for register forms.
    fn memory_operand(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
    ) -> Result<Option<X87Result>> {
        if !has_memory_operand(ins) {
            return Ok(None);
        }
        let mut load = self.fpu_load(bus, ins)?;
        // The load quietens a signalling NaN, but the operation chooses between two NaNs by
        // their significands before quietening: it gets the signalling one.
        if load.flags.contains(Flags::INVALID) {
            load.value.mantissa &= !(1 << 62);
        }
        Ok(Some(load))
    }

    /// Reads the memory operand in its format (FLD, FILD, FBLD and the memory forms).
    fn fpu_load(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<X87Result> {
        let format = Format::of(ins);
        let bits = self.read_bytes(bus, ins, 0, format.bytes())?;
        Ok(format.load(bits))
    }

    /// FST, FIST and FBSTP to memory. An empty ST(0) stores the format's indefinite when
    /// IE is masked; unmasked OE or UE of FST m32/m64 stores nothing.
    fn fpu_store(&mut self, bus: &mut dyn Bus, ins: &Instruction, pop: bool) -> Result<()> {
        let format = Format::of(ins);
        let rc = Rounding::from_bits(self.fpu.rounding());
        let value = if self.fpu.is_empty(0) {
            if !self.stack_fault(false) {
                return Ok(());
            }
            F80::INDEFINITE
        } else {
            self.fpu.st(0)
        };
        let result = format.store(value, rc);
        if self.stops(result.flags) {
            return Ok(());
        }
        if let Some(kind) = self.range_trap(format, value, rc) {
            self.fpu.raise(kind.0);
            self.set_c1(false);
            return Ok(());
        }
        self.write_bytes(bus, ins, 0, result.value, format.bytes())?;
        self.fpu.raise(result.flags.0);
        self.set_c1(result.c1);
        if pop {
            self.fpu.pop();
        }
        Ok(())
    }

    /// Unmasked OE or UE for a value that FST m32/m64 cannot hold: beyond the format's
    /// exponent range once rounded to its precision, or tiny (even if exact).
    fn range_trap(&self, format: Format, value: F80, rc: Rounding) -> Option<Flags> {
        let (position, ones) = format.exponent_field()?;
        let (significand, exponent) = split(value)?;
        // The significand in [1, 2) rounds to 1 or 2: the field is the bias or one more.
        let field = (format.store(significand, rc).value >> position) as i32 & ones;
        let biased = field + exponent;
        let kind = if biased >= ones {
            Flags::OVERFLOW
        } else if biased < 1 {
            Flags::UNDERFLOW
        } else {
            return None;
        };
        self.fpu.unmasked(kind.0).then_some(kind)
    }

    /// `len` bytes of the memory operand at `offset`, little-endian.
    fn read_bytes(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        offset: u32,
        len: usize,
    ) -> Result<u128> {
        let mut value = 0;
        for at in (0..len).step_by(4).rev() {
            let size = (len - at).min(4);
            let part = self.read_memory_at(bus, ins, offset + at as u32, size)?;
            value = value << (8 * size) | u128::from(part);
        }
        Ok(value)
    }

    /// Writes `len` bytes of `value` to the memory operand at `offset`, the last part first
    /// so that a fault on the far page changes nothing.
    fn write_bytes(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        offset: u32,
        value: u128,
        len: usize,
    ) -> Result<()> {
        for at in (0..len).step_by(4).rev() {
            let size = (len - at).min(4);
            let part = (value >> (8 * at)) as u32 & (u32::MAX >> (32 - 8 * size));
            self.write_memory_at(bus, ins, offset + at as u32, size, part)?;
        }
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

#[cfg(test)]
pub(super) mod tests {
    use crate::cpu::fpu::{cw, sw};
    use crate::cpu::softfloat::F80;
    use crate::cpu::state::{Segment, reg};
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

    const CODE: usize = 0x500;
    /// Where the tests' memory operands are.
    pub const DATA: usize = 0x600;
    /// Interrupt vector v leads to 0000:(HANDLERS + v).
    const HANDLERS: u32 = 0xF00;

    /// Runs one real-mode instruction at 0000:0500 after FNINIT and `setup`. Returns the CPU,
    /// the RAM and the exception raised, if any.
    pub fn run(code: &[u8], setup: impl FnOnce(&mut Cpu, &mut [u8])) -> (Cpu, Vec<u8>, Option<u8>) {
        let mut ram = Ram(vec![0; 0x1_0000]);
        for v in 0..32 {
            ram.0[4 * v..4 * v + 2].copy_from_slice(&(HANDLERS as u16 + v as u16).to_le_bytes());
        }
        ram.0[CODE..CODE + code.len()].copy_from_slice(code);
        let mut cpu = Cpu::new();
        cpu.seg[1] = Segment::real(0);
        cpu.eip = CODE as u32;
        cpu.regs[reg::ESP] = 0x800;
        cpu.fpu.init();
        setup(&mut cpu, &mut ram.0);
        cpu.run(&mut ram, cpu.cycles + 1);
        let fault = cpu.eip.checked_sub(HANDLERS).filter(|&v| v < 32);
        if fault.is_none() {
            assert_eq!(cpu.eip, (CODE + code.len()) as u32, "EIP after {code:02X?}");
        }
        (cpu, ram.0, fault.map(|v| v as u8))
    }

    /// A power of two.
    fn pow2(exponent: i32) -> F80 {
        F80 {
            sign_exp: (0x3FFF + exponent) as u16,
            mantissa: 1 << 63,
        }
    }

    /// The exception flags, SF and the condition codes.
    fn flags(cpu: &Cpu) -> u16 {
        cpu.fpu.status & (0x7F | sw::ES | sw::CONDITION)
    }

    #[test]
    fn control_word_loads_keep_only_the_defined_bits() {
        // FLDCW [0600]
        for (value, control) in [(0xFFFF, 0x1F7F), (0x0000, 0x0040), (0xE0C0, 0x0040)] {
            let (cpu, _, _) = run(&[0xD9, 0x2E, 0x00, 0x06], |_, ram| {
                ram[DATA..DATA + 2].copy_from_slice(&u16::to_le_bytes(value))
            });
            assert_eq!(cpu.fpu.control, control, "FLDCW {value:04X}");
        }
    }

    #[test]
    fn an_empty_source_underflows_before_a_full_destination_overflows() {
        // FLD ST(1) with ST(1) empty and ST(7) full: underflow (C1 = 0), indefinite pushed.
        let (cpu, _, _) = run(&[0xD9, 0xC1], |cpu, _| {
            cpu.fpu.set_st(0, F80::ONE);
            cpu.fpu.set_st(7, F80::ONE);
        });
        assert_eq!(cpu.fpu.top(), 7);
        assert_eq!(cpu.fpu.st(0), F80::INDEFINITE);
        assert_eq!(flags(&cpu), sw::IE | sw::SF);
    }

    #[test]
    fn fxtract_stack_faults_put_the_indefinite_in_both_results() {
        // FXTRACT with ST(0) empty (underflow), then with ST(7) full (overflow, C1 = 1).
        for (full, c1) in [(vec![], 0), (vec![0, 7], sw::C1)] {
            let (cpu, _, _) = run(&[0xD9, 0xF4], |cpu, _| {
                full.iter().for_each(|&i| cpu.fpu.set_st(i, F80::ONE))
            });
            assert_eq!(cpu.fpu.top(), 7);
            assert_eq!(
                (cpu.fpu.st(0), cpu.fpu.st(1)),
                (F80::INDEFINITE, F80::INDEFINITE)
            );
            assert_eq!(flags(&cpu), sw::IE | sw::SF | c1);
        }
    }

    #[test]
    fn compares_report_unordered_under_an_unmasked_invalid_without_popping() {
        let setup = |cpu: &mut Cpu, _: &mut [u8]| {
            cpu.fpu.set_control(cw::DEFAULT & !1);
            cpu.fpu.set_st(0, F80::ONE);
        };
        // FCOMP ST(1), ST(1) empty.
        let (cpu, _, _) = run(&[0xD8, 0xD9], setup);
        assert_eq!(cpu.fpu.top(), 0);
        let unordered = sw::C3 | sw::C2 | sw::C0;
        assert_eq!(flags(&cpu), sw::IE | sw::SF | sw::ES | unordered);
        // FCOMIP ST(1): ZF PF CF.
        let (cpu, _, _) = run(&[0xDF, 0xF1], setup);
        assert_eq!(cpu.fpu.top(), 0);
        assert_eq!(cpu.eflags & 0x8D5, 0x45);
    }

    #[test]
    fn unmasked_overflow_and_underflow_wrap_the_exponent() {
        // FMUL ST, ST(1) with OE and UE unmasked: 2^(±32000) is delivered as 2^(±7424).
        for (exponent, flag) in [(16000, 1 << 3), (-16000, 1 << 4)] {
            let (cpu, _, _) = run(&[0xD8, 0xC9], |cpu, _| {
                cpu.fpu.set_control(cw::DEFAULT & !0x18);
                cpu.fpu.set_st(0, pow2(exponent));
                cpu.fpu.set_st(1, pow2(exponent));
            });
            let wrapped = if exponent > 0 { 7424 } else { -7424 };
            assert_eq!(cpu.fpu.st(0), pow2(wrapped));
            assert_eq!(flags(&cpu), flag | sw::ES);
        }
        // FSCALE beyond even the wrapped range gives infinity, whatever the rounding.
        let (cpu, _, _) = run(&[0xD9, 0xFD], |cpu, _| {
            cpu.fpu.set_control((cw::DEFAULT & !0x08) | 1 << 10);
            cpu.fpu.set_st(0, F80::ONE);
            cpu.fpu.set_st(1, pow2(40));
        });
        assert_eq!(cpu.fpu.st(0), F80::INFINITY);
        assert_eq!(flags(&cpu), 1 << 3 | 1 << 5 | sw::ES | sw::C1);
    }

    #[test]
    fn stores_with_an_unmasked_exception_write_nothing_and_do_not_pop() {
        // FSTP dword [0600] of 2^200 with OE unmasked: OE alone. FISTP dword [0600] of
        // infinity with IE unmasked.
        let cases = [
            ([0xD9, 0x1E, 0x00, 0x06], pow2(200), !0x08, 1 << 3),
            ([0xDB, 0x1E, 0x00, 0x06], F80::INFINITY, !0x01, 1),
        ];
        for (code, value, control, raised) in cases {
            let (cpu, ram, _) = run(&code, |cpu, ram| {
                cpu.fpu.set_control(cw::DEFAULT & control);
                cpu.fpu.set_st(0, value);
                ram[DATA..DATA + 4].fill(0xAA);
            });
            assert_eq!(ram[DATA..DATA + 4], [0xAA; 4]);
            assert_eq!(cpu.fpu.top(), 0);
            assert_eq!(flags(&cpu), raised | sw::ES);
        }
    }

    #[test]
    fn memory_operands_merge_their_load_flags_with_the_operation() {
        // FSUBR dword [0600]: a signalling NaN in memory and one in ST(0). The NaN with the
        // larger significand before quietening wins (here ST(0)'s); IE only, no DE.
        let (cpu, _, _) = run(&[0xD8, 0x2E, 0x00, 0x06], |cpu, ram| {
            ram[DATA..DATA + 4].copy_from_slice(&0xFF80_013Cu32.to_le_bytes());
            cpu.fpu.set_st(
                0,
                F80 {
                    sign_exp: 0xFFFF,
                    mantissa: 0x9BA9_4277_8393_FF09,
                },
            );
        });
        let quiet = F80 {
            sign_exp: 0xFFFF,
            mantissa: 0xDBA9_4277_8393_FF09,
        };
        assert_eq!(cpu.fpu.st(0), quiet);
        assert_eq!(flags(&cpu), 1);
        // FADD dword [0600]: a denormal operand beside a NaN raises nothing.
        let (cpu, _, _) = run(&[0xD8, 0x06, 0x00, 0x06], |cpu, ram| {
            ram[DATA..DATA + 4].copy_from_slice(&1u32.to_le_bytes());
            cpu.fpu.set_st(0, quiet);
        });
        assert_eq!(flags(&cpu), 0);
    }

    #[test]
    fn fstpnce_pops_an_empty_st0_without_a_fault() {
        // FSTPNCE ST(2) with ST(0) empty.
        let (cpu, _, _) = run(&[0xD9, 0xDA], |cpu, _| cpu.fpu.set_st(2, F80::ONE));
        assert_eq!(cpu.fpu.top(), 1);
        assert_eq!(cpu.fpu.st(1), F80::ONE);
        assert_eq!(flags(&cpu), 0);
    }
}
