//! The x87 register format and its arithmetic (FADD, FSUB, FMUL, FDIV, FSQRT, FCOM,
//! FUCOM, FXAM, FABS, FCHS).

use super::arith::{self, Num, Operand, Outcome};
use super::round::{Format, Packed};
use super::{Flags, Precision, Relation, Rounding};

/// An x87 double-extended value: sign and 15-bit biased exponent, and a 64-bit
/// significand with an explicit integer bit (bit 63).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct F80 {
    pub sign_exp: u16,
    pub mantissa: u64,
}

impl core::fmt::Debug for F80 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "F80({:04X}:{:016X})", self.sign_exp, self.mantissa)
    }
}

/// The outcome of an x87 operation with all exceptions masked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct X87Result<T = F80> {
    pub value: T,
    pub flags: Flags,
    /// Status word C1: the inexact result was rounded up in magnitude.
    pub c1: bool,
}

/// What FXAM reports (C3, C2, C0). An empty register (C3=1, C2=0, C0=1) is a property of
/// the register stack, not of a value, and is not represented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FxamClass {
    Unsupported,
    Nan,
    Normal,
    Infinity,
    Zero,
    Denormal,
}

impl FxamClass {
    /// The class as status word bits C3 (bit 14), C2 (bit 10) and C0 (bit 8).
    pub const fn status_bits(self) -> u16 {
        match self {
            FxamClass::Unsupported => 0,
            FxamClass::Nan => 1 << 8,
            FxamClass::Normal => 1 << 10,
            FxamClass::Infinity => 1 << 10 | 1 << 8,
            FxamClass::Zero => 1 << 14,
            FxamClass::Denormal => 1 << 14 | 1 << 10,
        }
    }
}

impl F80 {
    pub const ZERO: F80 = F80 {
        sign_exp: 0,
        mantissa: 0,
    };
    pub const ONE: F80 = F80 {
        sign_exp: 0x3FFF,
        mantissa: 1 << 63,
    };
    pub const INFINITY: F80 = F80 {
        sign_exp: 0x7FFF,
        mantissa: 1 << 63,
    };
    /// The default NaN ("real indefinite") produced by masked invalid operations.
    pub const INDEFINITE: F80 = F80 {
        sign_exp: 0xFFFF,
        mantissa: 0xC000_0000_0000_0000,
    };

    /// Decodes the 10-byte memory layout used by FLD/FSTP m80.
    pub const fn from_le_bytes(b: [u8; 10]) -> F80 {
        let m = [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]];
        F80 {
            sign_exp: u16::from_le_bytes([b[8], b[9]]),
            mantissa: u64::from_le_bytes(m),
        }
    }

    pub const fn to_le_bytes(self) -> [u8; 10] {
        let m = self.mantissa.to_le_bytes();
        let e = self.sign_exp.to_le_bytes();
        [m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], e[0], e[1]]
    }

    pub const fn sign(self) -> bool {
        self.sign_exp & 0x8000 != 0
    }

    pub const fn biased_exp(self) -> u16 {
        self.sign_exp & 0x7FFF
    }

    /// A NaN of any kind (quiet or signalling; pseudo-NaNs are not NaNs).
    pub const fn is_nan(self) -> bool {
        self.biased_exp() == 0x7FFF && self.mantissa >> 63 == 1 && self.mantissa << 1 != 0
    }

    pub const fn is_signaling_nan(self) -> bool {
        self.is_nan() && self.mantissa & 1 << 62 == 0
    }

    /// FABS: clears the sign; never raises, even for NaNs.
    pub const fn abs(self) -> F80 {
        F80 {
            sign_exp: self.sign_exp & 0x7FFF,
            ..self
        }
    }

    /// FCHS: flips the sign; never raises, even for NaNs.
    pub const fn chs(self) -> F80 {
        F80 {
            sign_exp: self.sign_exp ^ 0x8000,
            ..self
        }
    }

    /// FXAM's classification; the sign goes to C1 and is `self.sign()`.
    pub const fn classify(self) -> FxamClass {
        let integer = self.mantissa >> 63 == 1;
        match self.biased_exp() {
            0 if self.mantissa == 0 => FxamClass::Zero,
            0 => FxamClass::Denormal, // pseudo-denormals included
            0x7FFF if !integer => FxamClass::Unsupported,
            0x7FFF if self.mantissa << 1 == 0 => FxamClass::Infinity,
            0x7FFF => FxamClass::Nan,
            _ if !integer => FxamClass::Unsupported,
            _ => FxamClass::Normal,
        }
    }

    /// Decodes an operand; the flag says it is a denormal (or pseudo-denormal), which
    /// raises DE when used by an arithmetic instruction.
    pub(crate) fn unpack(self) -> (Operand, bool) {
        let sign = self.sign();
        match self.classify() {
            FxamClass::Zero => (Operand::Num(Num::Zero(sign)), false),
            // The denormal exponent is that of the smallest normal.
            FxamClass::Denormal => (Operand::Num(Num::finite(sign, -16382, self.mantissa)), true),
            FxamClass::Normal => {
                let exp = self.biased_exp() as i32 - 16383;
                (
                    Operand::Num(Num::Finite {
                        sign,
                        exp,
                        sig: self.mantissa,
                    }),
                    false,
                )
            }
            FxamClass::Infinity => (Operand::Num(Num::Inf(sign)), false),
            FxamClass::Nan => (
                Operand::Nan {
                    sign,
                    sig: self.mantissa,
                },
                false,
            ),
            FxamClass::Unsupported => (Operand::Unsupported, false),
        }
    }

    pub(crate) fn pack(p: Packed) -> X87Result {
        let value = F80 {
            sign_exp: (p.sign as u16) << 15 | p.bexp as u16,
            mantissa: p.sig,
        };
        X87Result {
            value,
            flags: p.flags,
            c1: p.up,
        }
    }

    /// `a + b` (FADD) with the significand rounded to `pc`.
    pub fn add(a: F80, b: F80, rc: Rounding, pc: Precision) -> X87Result {
        binary(a, b, rc, pc, |x, y| arith::add(x, y, rc))
    }

    /// `a - b` (FSUB; FSUBR is `sub(b, a)`).
    pub fn sub(a: F80, b: F80, rc: Rounding, pc: Precision) -> X87Result {
        binary(a, b, rc, pc, |x, y| arith::add(x, y.negate(), rc))
    }

    pub fn mul(a: F80, b: F80, rc: Rounding, pc: Precision) -> X87Result {
        binary(a, b, rc, pc, arith::mul)
    }

    /// `a / b` (FDIV; FDIVR is `div(b, a)`).
    pub fn div(a: F80, b: F80, rc: Rounding, pc: Precision) -> X87Result {
        binary(a, b, rc, pc, arith::div)
    }

    pub fn sqrt(self, rc: Rounding, pc: Precision) -> X87Result {
        match self.unpack() {
            (Operand::Num(n), denormal) => {
                with_denormal(finish(arith::sqrt(n), rc, Format::x87(pc)), denormal)
            }
            (op, _) => nan_result(&[op]),
        }
    }

    /// FCOM (`signaling`: any NaN is invalid) or FUCOM (only signalling NaNs are);
    /// unsupported encodings are always invalid.
    pub fn compare(a: F80, b: F80, signaling: bool) -> (Relation, Flags) {
        let ((oa, da), (ob, db)) = (a.unpack(), b.unpack());
        match (oa, ob) {
            (Operand::Num(x), Operand::Num(y)) => {
                (x.compare(y).into(), Flags::DENORMAL.when(da || db))
            }
            _ => {
                let invalid = |o: Operand| o.is_signaling() || matches!(o, Operand::Unsupported);
                let raise = signaling || invalid(oa) || invalid(ob);
                (Relation::Unordered, Flags::INVALID.when(raise))
            }
        }
    }
}

/// The result when an operand is a NaN or an unsupported encoding. Unsupported
/// encodings give the indefinite; otherwise the NaN with the larger raw significand wins
/// (so a QNaN beats any SNaN; on a tie the positive one), quietened, with IE if any
/// operand was signalling.
pub(crate) fn nan_result(ops: &[Operand]) -> X87Result {
    let nan = ops
        .iter()
        .filter_map(|o| match *o {
            Operand::Nan { sign, sig } => Some((sig, !sign)),
            _ => None,
        })
        .max();
    match nan {
        Some((sig, positive)) if !ops.contains(&Operand::Unsupported) => X87Result {
            value: F80 {
                sign_exp: (!positive as u16) << 15 | 0x7FFF,
                mantissa: sig | 1 << 62,
            },
            flags: Flags::INVALID.when(ops.iter().any(|o| o.is_signaling())),
            c1: false,
        },
        _ => invalid(),
    }
}

impl<T> X87Result<T> {
    /// The same result with its value converted.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> X87Result<U> {
        X87Result {
            value: f(self.value),
            flags: self.flags,
            c1: self.c1,
        }
    }

    /// An exact result that raises nothing.
    pub(crate) const fn exact(value: T) -> X87Result<T> {
        X87Result {
            value,
            flags: Flags::NONE,
            c1: false,
        }
    }
}

pub(crate) fn invalid() -> X87Result {
    X87Result {
        value: F80::INDEFINITE,
        flags: Flags::INVALID,
        c1: false,
    }
}

pub(crate) fn with_denormal<T>(mut r: X87Result<T>, denormal: bool) -> X87Result<T> {
    r.flags = r.flags.with_denormal(denormal);
    r
}

/// Encodes an exact outcome in x87 register format rounded to `fmt`.
pub(crate) fn finish(o: Outcome, rc: Rounding, fmt: Format) -> X87Result {
    o.round(fmt, rc, false).map_or_else(invalid, F80::pack)
}

fn binary(
    a: F80,
    b: F80,
    rc: Rounding,
    pc: Precision,
    op: impl FnOnce(Num, Num) -> Outcome,
) -> X87Result {
    let ((oa, da), (ob, db)) = (a.unpack(), b.unpack());
    match (oa, ob) {
        (Operand::Num(x), Operand::Num(y)) => {
            with_denormal(finish(op(x, y), rc, Format::x87(pc)), da || db)
        }
        _ => nan_result(&[oa, ob]),
    }
}
