//! x87 conversions: FLD/FST m32 and m64, FILD/FIST, FRNDINT.

use super::arith::{Num, Operand};
use super::f80::{nan_result, with_denormal};
use super::round::{self, Format};
use super::{F80, Flags, Rounding, X87Result};

impl F80 {
    /// Encodes a value that fits the register format exactly.
    pub(crate) fn from_num(n: Num) -> F80 {
        F80::pack(n.round(Format::F80, Rounding::Nearest, false)).value
    }

    /// FLD m32: exact, except that a signalling NaN is quietened (IE); a denormal
    /// raises DE and is normalised.
    pub fn from_f32(bits: u32) -> X87Result {
        load(bits as u64, Format::F32)
    }

    /// FLD m64, as `from_f32`.
    pub fn from_f64(bits: u64) -> X87Result {
        load(bits, Format::F64)
    }

    /// FST m32: rounds by `rc` (precision control does not apply); a denormal source
    /// does not raise DE.
    pub fn to_f32(self, rc: Rounding) -> X87Result<u32> {
        store(self, Format::F32, rc).map(|v| v as u32)
    }

    /// FST m64, as `to_f32`.
    pub fn to_f64(self, rc: Rounding) -> X87Result<u64> {
        store(self, Format::F64, rc)
    }

    /// FILD m16/m32/m64: always exact.
    pub fn from_i64(v: i64) -> F80 {
        F80::from_num(Num::finite(v < 0, 63, v.unsigned_abs()))
    }

    /// FIST m16: rounds by `rc`; NaNs, infinities and values out of range give the
    /// integer indefinite (the most negative integer) with IE. Unlike arithmetic, FIST
    /// does not report denormal operands.
    pub fn to_i16(self, rc: Rounding) -> X87Result<i16> {
        to_int(self, rc, i16::MIN.into(), i16::MAX.into()).map(|v| v as i16)
    }

    /// FIST m32, as `to_i16`.
    pub fn to_i32(self, rc: Rounding) -> X87Result<i32> {
        to_int(self, rc, i32::MIN.into(), i32::MAX.into()).map(|v| v as i32)
    }

    /// FIST m64, as `to_i16`.
    pub fn to_i64(self, rc: Rounding) -> X87Result<i64> {
        to_int(self, rc, i64::MIN, i64::MAX)
    }

    /// FRNDINT: rounds to an integer by `rc` (precision control does not apply).
    pub fn round_to_integer(self, rc: Rounding) -> X87Result {
        let (op, denormal) = self.unpack();
        let Operand::Num(Num::Finite { sign, exp, sig }) = op else {
            return match op {
                Operand::Num(_) => X87Result::exact(self),
                _ => nan_result(&[op]),
            };
        };
        let Some((magnitude, inexact, c1)) = round::to_integer(sign, exp, sig, rc) else {
            return X87Result::exact(self); // too large to have a fraction
        };
        let value = F80::from_num(Num::finite(sign, 63, magnitude));
        let flags = Flags::INEXACT.when(inexact);
        with_denormal(X87Result { value, flags, c1 }, denormal)
    }
}

fn load(bits: u64, fmt: Format) -> X87Result {
    match fmt.unpack(bits) {
        (Operand::Num(n), denormal) => with_denormal(X87Result::exact(F80::from_num(n)), denormal),
        (op, _) => nan_result(&[op]),
    }
}

fn store(x: F80, fmt: Format, rc: Rounding) -> X87Result<u64> {
    let (value, flags) = match x.unpack().0 {
        Operand::Num(n) => {
            let p = n.round(fmt, rc, false);
            return X87Result {
                value: fmt.pack(p),
                flags: p.flags,
                c1: p.up,
            };
        }
        op @ Operand::Nan { sign, sig } => (
            fmt.quiet_nan(sign, sig),
            Flags::INVALID.when(op.is_signaling()),
        ),
        Operand::Unsupported => (fmt.default_nan(), Flags::INVALID),
    };
    X87Result {
        value,
        flags,
        c1: false,
    }
}

fn to_int(x: F80, rc: Rounding, min: i64, max: i64) -> X87Result<i64> {
    let rounded = match x.unpack().0 {
        Operand::Num(n) => n.to_int(rc, min, max),
        _ => None,
    };
    match rounded {
        Some((value, inexact, c1)) => X87Result {
            value,
            flags: Flags::INEXACT.when(inexact),
            c1,
        },
        None => X87Result {
            value: min,
            flags: Flags::INVALID,
            c1: false,
        },
    }
}
