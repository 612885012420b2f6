//! Software floating point with the Pentium III's semantics, bit for bit: the x87
//! double-extended unit ([`F80`]) and the SSE scalar unit on raw `f32`/`f64` bits
//! ([`sse`]). Every operation is a pure function of its operands and the controls passed
//! in (rounding, x87 precision, SSE flush-to-zero); nothing depends on the host FPU or
//! libm. Exceptions are treated as masked: each operation returns the masked response
//! and the flags it raises ([`Flags`], x87 status word / MXCSR order); the caller ORs
//! them into the sticky flags and decides whether an unmasked one faults.
//!
//! # Hardware behaviour
//!
//! The tests run every operation on the host CPU (x87 and SSE through `asm!`) and
//! compare results and flags bit for bit. The facts below were established that way on
//! an AMD EPYC (Zen 4) and an Intel Xeon, which agree on all of them; they match the
//! Intel SDM's architectural description of the P6 family, and no case is masked.
//!
//! Rounding and underflow (both units):
//! - Tininess is detected after rounding: a result that rounds (with unbounded exponent,
//!   at the destination precision) to the smallest normal is not tiny.
//! - With underflow masked, UE is raised only when the tiny result is also inexact; an
//!   exact denormal result raises nothing.
//! - SSE flush-to-zero replaces results that are tiny (after rounding) with a zero of
//!   the same sign and raises UE and PE; the Pentium III has no DAZ, so denormal
//!   operands are always used as they are.
//! - x87 precision control rounds the significand of FADD, FSUB, FMUL, FDIV and FSQRT
//!   results to 24 or 53 bits but keeps the 15-bit exponent: overflow happens at the
//!   extended range, and the largest finite value is the 24/53-bit one at exponent
//!   0x7FFE. A tiny result is rounded at the position `prec` bits below 2^-16382, so
//!   with PC=24 the smallest non-zero result is 2^-16405. The reserved PC=01 encoding
//!   behaves as 64 bits. Other instructions ignore precision control.
//! - x87 C1 is set exactly when the result was inexact and its magnitude rounded up
//!   (overflow to infinity included); exact, NaN and invalid results clear it. FST and
//!   FIST report it the same way.
//!
//! Operands and NaNs:
//! - DE is raised for every denormal (and pseudo-denormal) operand of an arithmetic
//!   operation, FCOM/FUCOM, FRNDINT, FSCALE, FXTRACT, FPREM/FPREM1, FLD m32/m64 and the
//!   SSE arithmetic, compares, MIN/MAX and CVTSS2SD/CVTSD2SS. It is not raised when the
//!   operation is invalid, divides by zero or has a NaN operand, nor by FST m32/m64,
//!   FIST, CVTSS2SI or CVTTSS2SI.
//! - Pseudo-denormals (exponent 0, integer bit set) are accepted as denormals with the
//!   value of exponent 1. Pseudo-NaNs, pseudo-infinities and unnormals are unsupported:
//!   as operands they raise IE and give the real indefinite, even beside a NaN; FXAM
//!   reports them as C3=C2=C0=0.
//! - x87, two NaN operands: the one with the larger raw significand is returned (so a
//!   QNaN beats any SNaN, whatever the payloads); if the significands are equal, the
//!   positive one. The result is quietened (bit 62 set); any SNaN raises IE. Masked
//!   invalid operations return the real indefinite, `0xFFFF:C000_0000_0000_0000`, and
//!   `0xFFC0_0000` / `0xFFF8_0000_0000_0000` when stored to m32/m64.
//! - SSE NaNs: the first operand if it is a NaN, else the second, quietened; the default
//!   NaN is `0xFFC0_0000`. MINSS/MAXSS return the second operand unchanged (not
//!   quietened) when either is a NaN, raising IE even for QNaNs, and also when both are
//!   zeros.
//!
//! Other instructions:
//! - FPREM/FPREM1 with an exponent difference `d` of 64 or more reduce partially: the
//!   exponent drops by `d - n` with `n = 32 + (d - 32) % 32`, the quotient is truncated
//!   (FPREM1 too), C2 is set and C0, C3, C1 are cleared. A zero divisor or infinite
//!   dividend is invalid (IE, not ZE).
//! - FIST and CVT(T)SS2SI out of range (or NaN, infinity) store the integer indefinite
//!   with IE alone, not PE.
//! - FXTRACT of zero raises ZE and gives `(-inf, +-0)`.
//!
//! The x87 empty-register and stack-fault cases and unmasked-exception responses are
//! the caller's: this module sees values, not the register stack.

mod arith;
mod convert;
mod f80;
mod ieee;
mod misc;
mod round;
pub mod sse;

#[cfg(all(test, target_arch = "x86_64"))]
mod tests;

pub use f80::{F80, FxamClass, X87Result};
pub use misc::Remainder;

use core::cmp::Ordering;
use core::fmt;
use core::ops::{BitOr, BitOrAssign};

/// Exception flags in the x87 status word / MXCSR bit order.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags(pub u8);

impl Flags {
    pub const NONE: Flags = Flags(0);
    /// IE: invalid operation.
    pub const INVALID: Flags = Flags(1 << 0);
    /// DE: denormal operand.
    pub const DENORMAL: Flags = Flags(1 << 1);
    /// ZE: division of a finite non-zero value by zero.
    pub const DIV_BY_ZERO: Flags = Flags(1 << 2);
    /// OE: overflow.
    pub const OVERFLOW: Flags = Flags(1 << 3);
    /// UE: underflow.
    pub const UNDERFLOW: Flags = Flags(1 << 4);
    /// PE: precision (inexact result).
    pub const INEXACT: Flags = Flags(1 << 5);

    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// `self` when `cond` holds, else no flags.
    pub(crate) const fn when(self, cond: bool) -> Flags {
        if cond { self } else { Flags::NONE }
    }

    /// Adds DE for a denormal operand, except when the operation was invalid or divided
    /// by zero: both units then leave DE clear.
    pub(crate) const fn with_denormal(self, denormal: bool) -> Flags {
        let suppressed = self.0 & (Flags::INVALID.0 | Flags::DIV_BY_ZERO.0) != 0;
        Flags(self.0 | ((denormal && !suppressed) as u8) << 1)
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 6] = ["IE", "DE", "ZE", "OE", "UE", "PE"];
        let set: Vec<&str> = (0..6)
            .filter(|i| self.0 >> i & 1 == 1)
            .map(|i| NAMES[i])
            .collect();
        write!(f, "[{}]", set.join("|"))
    }
}

/// Rounding control, encoded as in the x87 control word (bits 10-11) and MXCSR (13-14).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rounding {
    Nearest = 0,
    Down = 1,
    Up = 2,
    Zero = 3,
}

impl Rounding {
    /// Decodes the two-bit field in the low bits of `bits`.
    pub const fn from_bits(bits: u32) -> Rounding {
        match bits & 3 {
            0 => Rounding::Nearest,
            1 => Rounding::Down,
            2 => Rounding::Up,
            _ => Rounding::Zero,
        }
    }
}

/// x87 precision control (control word bits 8-9): the significand width that FADD,
/// FSUB, FMUL, FDIV and FSQRT round to. The exponent range stays the 15-bit one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Precision {
    Single = 0,
    Double = 2,
    Extended = 3,
}

impl Precision {
    /// Decodes the two-bit field in the low bits of `bits`.
    pub const fn from_bits(bits: u32) -> Precision {
        match bits & 3 {
            0 => Precision::Single,
            2 => Precision::Double,
            _ => Precision::Extended,
        }
    }

    /// Significand bits, integer bit included.
    pub const fn bits(self) -> u32 {
        match self {
            Precision::Single => 24,
            Precision::Double => 53,
            Precision::Extended => 64,
        }
    }
}

/// The result of a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Relation {
    Less,
    Equal,
    Greater,
    Unordered,
}

impl From<Ordering> for Relation {
    fn from(o: Ordering) -> Relation {
        match o {
            Ordering::Less => Relation::Less,
            Ordering::Equal => Relation::Equal,
            Ordering::Greater => Relation::Greater,
        }
    }
}
