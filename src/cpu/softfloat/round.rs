//! Rounding an exact result into a destination format: the one place where precision,
//! rounding mode, overflow, underflow and inexactness are decided.

use super::{Flags, Precision, Rounding};

/// A destination format: `prec` significand bits (integer bit included) and the normal
/// exponent range `emin..=emax` (unbiased); the bias is `emax`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Format {
    pub prec: u32,
    pub emin: i32,
    pub emax: i32,
}

impl Format {
    pub const F32: Format = Format {
        prec: 24,
        emin: -126,
        emax: 127,
    };
    pub const F64: Format = Format {
        prec: 53,
        emin: -1022,
        emax: 1023,
    };
    pub const F80: Format = Format {
        prec: 64,
        emin: -16382,
        emax: 16383,
    };

    /// The x87 register format under precision control: a shorter significand but the
    /// full 15-bit exponent range.
    pub const fn x87(pc: Precision) -> Format {
        Format {
            prec: pc.bits(),
            ..Format::F80
        }
    }

    /// The biased exponent field of infinities and NaNs.
    pub const fn max_field(self) -> u32 {
        (self.emax * 2 + 1) as u32
    }
}

/// A finite non-zero value `sig * 2^(exp - 127)` with bit 127 of `sig` set. Bits lost
/// below bit 0 by the producer must have been ORed into bit 0 ("sticky").
#[derive(Clone, Copy, Debug)]
pub(crate) struct Exact {
    pub sign: bool,
    pub exp: i32,
    pub sig: u128,
}

impl Exact {
    /// Normalises `sig * 2^(exp - 127)`; `None` when `sig` is zero.
    pub fn new(sign: bool, exp: i32, sig: u128) -> Option<Exact> {
        let lz = sig.leading_zeros();
        (sig != 0).then(|| Exact {
            sign,
            exp: exp - lz as i32,
            sig: sig << lz,
        })
    }

    /// The value `sig * 2^(exp - 63)` with bit 63 of `sig` set.
    pub fn from_u64(sign: bool, exp: i32, sig: u64) -> Exact {
        Exact {
            sign,
            exp,
            sig: (sig as u128) << 64,
        }
    }
}

/// The fields of an encoded result: biased exponent and the significand left-aligned in
/// 64 bits (bit 63 is the integer bit; clear for zero and denormals).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Packed {
    pub sign: bool,
    pub bexp: u32,
    pub sig: u64,
    pub flags: Flags,
    /// The magnitude was rounded up (x87 C1).
    pub up: bool,
}

impl Packed {
    pub const fn zero(sign: bool) -> Packed {
        Packed {
            sign,
            bexp: 0,
            sig: 0,
            flags: Flags::NONE,
            up: false,
        }
    }

    pub const fn inf(sign: bool, fmt: Format) -> Packed {
        Packed {
            sign,
            bexp: fmt.max_field(),
            sig: 1 << 63,
            flags: Flags::NONE,
            up: false,
        }
    }
}

/// Shifts the non-zero `sig` right by `shift` bits and rounds the quotient by `rc`;
/// returns the rounded quotient, whether it is inexact and whether it was incremented.
fn shift_round(sig: u128, shift: u32, rc: Rounding, sign: bool) -> (u128, bool, bool) {
    use core::cmp::Ordering::{Equal, Greater, Less};
    let (q, vs_half, inexact) = match shift {
        0 => return (sig, false, false),
        1..=127 => {
            let rem = sig & ((1u128 << shift) - 1);
            (sig >> shift, rem.cmp(&(1u128 << (shift - 1))), rem != 0)
        }
        128 => (0, sig.cmp(&(1u128 << 127)), true),
        _ => (0, Less, true),
    };
    let inc = inexact
        && match rc {
            Rounding::Nearest => vs_half == Greater || (vs_half == Equal && q & 1 == 1),
            Rounding::Down => sign,
            Rounding::Up => !sign,
            Rounding::Zero => false,
        };
    (q + inc as u128, inexact, inc)
}

/// Rounds `x` into `fmt` under `rc`, as the x87 and SSE units do with all exceptions
/// masked. Tininess is detected after rounding; underflow is flagged only when the tiny
/// result is also inexact, unless `ftz` flushes every tiny result to zero (SSE).
pub(crate) fn round(x: Exact, fmt: Format, rc: Rounding, ftz: bool) -> Packed {
    let p = fmt.prec;
    // Rounding with an unbounded exponent decides tininess and overflow.
    let (q, inexact, up) = shift_round(x.sig, 128 - p, rc, x.sign);
    let carry = q >> p != 0;
    let exp = x.exp + carry as i32;
    if exp > fmt.emax {
        let to_inf = match rc {
            Rounding::Nearest => true,
            Rounding::Zero => false,
            Rounding::Down => x.sign,
            Rounding::Up => !x.sign,
        };
        let mut r = if to_inf {
            Packed::inf(x.sign, fmt)
        } else {
            let max = (u64::MAX >> (64 - p)) << (64 - p);
            Packed {
                sign: x.sign,
                bexp: fmt.max_field() - 1,
                sig: max,
                flags: Flags::NONE,
                up: false,
            }
        };
        r.flags = Flags::OVERFLOW | Flags::INEXACT;
        r.up = to_inf;
        return r;
    }
    if exp >= fmt.emin {
        let q = if carry { q >> 1 } else { q } as u64;
        let flags = Flags::INEXACT.when(inexact);
        let bexp = (exp + fmt.emax) as u32;
        return Packed {
            sign: x.sign,
            bexp,
            sig: q << (64 - p),
            flags,
            up,
        };
    }
    // Tiny: round the exact value again at the denormal position, which lies `prec` bits
    // below the smallest normal's exponent. Under x87 precision control a denormal thus
    // keeps fewer than `prec` bits but still finer ones than the 64-bit format's (as the
    // hardware does: PC=24 makes 2^-16405 the smallest non-zero result, not 2^-16445).
    if ftz {
        let flags = Flags::UNDERFLOW | Flags::INEXACT;
        return Packed {
            flags,
            ..Packed::zero(x.sign)
        };
    }
    let extra = (fmt.emin - x.exp) as u32;
    let (q, inexact, up) = shift_round(x.sig, (128 - p).saturating_add(extra), rc, x.sign);
    let q = q as u64;
    let bexp = (q >> (p - 1)) as u32; // 1 when rounding reached the smallest normal
    let flags = (Flags::UNDERFLOW | Flags::INEXACT).when(inexact);
    Packed {
        sign: x.sign,
        bexp,
        sig: q << (64 - p),
        flags,
        up,
    }
}

/// Rounds the finite `sig * 2^(exp - 63)` to an integer by `rc`: the magnitude, whether
/// it was inexact and whether it was rounded up; `None` when it needs more than 64 bits.
pub(crate) fn to_integer(
    sign: bool,
    exp: i32,
    sig: u64,
    rc: Rounding,
) -> Option<(u64, bool, bool)> {
    if exp > 63 {
        return None;
    }
    let (q, inexact, up) = shift_round(sig as u128, (63 - exp) as u32, rc, sign);
    Some((q as u64, inexact, up))
}
