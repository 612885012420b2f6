//! The working precision of the transcendental functions: a binary floating-point value
//! with a 128-bit significand, twice the x87's, and an `i32` exponent that neither
//! overflows nor underflows for anything the instructions compute.
//!
//! Every operation truncates its exact result to 128 bits and ORs whatever it discarded
//! into bit 0 (a sticky bit), so a value that lost bits never looks exact. Its relative
//! error is below 2^-127 per operation; the series built on it stay below about 2^-123,
//! leaving 59 bits between the computed value and the final rounding to 64 bits.

use crate::cpu::softfloat::{F80, Flags, X87Result};
use core::cmp::Ordering;
use core::ops::{Add, Div, Mul, Neg, Sub};

/// `(-1)^neg * sig * 2^(exp - 127)`: `sig` is normalised (bit 127 set), or zero for the
/// value zero (whose sign is never used).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Wide {
    pub neg: bool,
    /// The exponent of bit 127 of `sig`.
    pub exp: i32,
    pub sig: u128,
}

impl Wide {
    pub const ZERO: Wide = Wide::int(0, 0);
    pub const ONE: Wide = Wide::int(1, 0);

    /// `mag * 2^scale`, exactly.
    pub const fn int(mag: u128, scale: i32) -> Wide {
        let lz = mag.leading_zeros();
        Wide {
            neg: false,
            exp: scale + 127 - lz as i32,
            sig: if mag == 0 { 0 } else { mag << lz },
        }
    }

    /// A normalised 128-bit constant `sig * 2^(exp - 127)`.
    pub const fn constant(exp: i32, sig: u128) -> Wide {
        Wide {
            neg: false,
            exp,
            sig,
        }
    }

    /// The exact value of a finite `F80`; the caller has rejected unsupported encodings.
    /// Denormals (and pseudo-denormals) have the exponent of the smallest normal.
    pub fn from_f80(x: F80) -> Wide {
        let exp = x.biased_exp().max(1) as i32 - 16383 - 63;
        Wide {
            neg: x.sign(),
            ..Wide::int(x.mantissa as u128, exp)
        }
    }

    /// `self / n` for an integer `n > 0`: the quotient keeps at least 64 bits, and the
    /// bits below it come from dividing the remainder.
    pub const fn div_int(self, n: u64) -> Wide {
        if self.is_zero() {
            return Wide::ZERO;
        }
        let n = n as u128;
        let (q, r) = (self.sig / n, self.sig % n);
        let lz = q.leading_zeros(); // at most 64
        let r = r << lz;
        Wide {
            exp: self.exp - lz as i32,
            sig: (q << lz) | (r / n) | (r % n != 0) as u128,
            ..self
        }
    }

    /// `self` with its sign set to `neg`.
    pub const fn with_sign(self, neg: bool) -> Wide {
        Wide { neg, ..self }
    }

    pub const fn is_zero(self) -> bool {
        self.sig == 0
    }

    pub const fn abs(self) -> Wide {
        self.with_sign(false)
    }

    /// `self * 2^k`, exactly.
    pub const fn scale(self, k: i32) -> Wide {
        Wide {
            exp: self.exp + k,
            ..self
        }
    }

    /// Compares magnitudes.
    pub fn cmp_abs(self, other: Wide) -> Ordering {
        let key = |w: Wide| (w.sig != 0, w.exp, w.sig);
        key(self).cmp(&key(other))
    }

    /// The integer `n`, exactly.
    pub fn from_int(n: i32) -> Wide {
        Wide {
            neg: n < 0,
            ..Wide::int(n.unsigned_abs() as u128, 0)
        }
    }

    /// Normalises the 256-bit `hi:lo * 2^(exp - 255)`, truncating it to 128 bits.
    fn from_u256(neg: bool, exp: i32, hi: u128, lo: u128) -> Wide {
        let lz = match (hi, lo) {
            (0, 0) => return Wide::ZERO,
            (0, _) => 128 + lo.leading_zeros(),
            _ => hi.leading_zeros(),
        };
        let (hi, lo) = match lz {
            0 => (hi, lo),
            1..=127 => (hi << lz | lo >> (128 - lz), lo << lz),
            _ => (lo << (lz - 128), 0),
        };
        Wide {
            neg,
            exp: exp - lz as i32,
            sig: hi | (lo != 0) as u128,
        }
    }

    /// Rounds to the nearest `F80`, ties to even, with the masked responses to overflow
    /// and underflow (tininess is detected after rounding, as on the x87). The result is
    /// taken to be inexact, as the hardware reports every finite non-zero result of the
    /// transcendental instructions, exact or not: PE is always raised, and UE for a tiny
    /// result. C1 reports a rounding up in magnitude.
    pub fn round(self) -> X87Result {
        let sign = (self.neg as u16) << 15;
        if self.is_zero() {
            return result(F80 {
                sign_exp: sign,
                mantissa: 0,
            });
        }
        let bexp = self.exp + 16383;
        let (q, up) = shift_round(self.sig, 64);
        let (q, rounded_bexp) = if q >> 64 != 0 {
            (q >> 1, bexp + 1)
        } else {
            (q, bexp)
        };
        if rounded_bexp >= 0x7FFF {
            return X87Result {
                value: F80 {
                    sign_exp: sign | 0x7FFF,
                    mantissa: 1 << 63,
                },
                flags: Flags::OVERFLOW | Flags::INEXACT,
                c1: true,
            };
        }
        if rounded_bexp >= 1 {
            return X87Result {
                value: F80 {
                    sign_exp: sign | rounded_bexp as u16,
                    mantissa: q as u64,
                },
                flags: Flags::INEXACT,
                c1: up,
            };
        }
        // Tiny: round again at the denormal position, `1 - bexp` bits further right.
        let (q, up) = shift_round(self.sig, (65 - bexp).min(129) as u32);
        X87Result {
            value: F80 {
                sign_exp: sign | (q >> 63) as u16, // 1 when rounding reached the smallest normal
                mantissa: q as u64,
            },
            flags: Flags::UNDERFLOW | Flags::INEXACT,
            c1: up,
        }
    }
}

/// An exact result that raises nothing.
pub(super) const fn result<T>(value: T) -> X87Result<T> {
    X87Result {
        value,
        flags: Flags::NONE,
        c1: false,
    }
}

/// `sig >> shift` (`shift >= 1`) rounded to nearest, ties to even, and whether it was
/// incremented.
fn shift_round(sig: u128, shift: u32) -> (u128, bool) {
    let (q, vs_half) = if shift > 128 {
        (0, Ordering::Less)
    } else {
        let rem = sig & (u128::MAX >> (128 - shift));
        (
            sig.checked_shr(shift).unwrap_or(0),
            rem.cmp(&(1 << (shift - 1))),
        )
    };
    let up = vs_half == Ordering::Greater || (vs_half == Ordering::Equal && q & 1 == 1);
    (q + up as u128, up)
}

/// The 256-bit `hi:lo` shifted right by `n`, the bits shifted out ORed into bit 0.
fn shr_sticky(hi: u128, lo: u128, n: u32) -> (u128, u128) {
    let (hi, lo, lost) = match n {
        0 => return (hi, lo),
        1..=127 => (hi >> n, lo >> n | hi << (128 - n), lo << (128 - n) != 0),
        128 => (0, hi, lo != 0),
        129..=255 => (0, hi >> (n - 128), lo != 0 || hi << (256 - n) != 0),
        _ => (0, 0, hi | lo != 0),
    };
    (hi, lo | lost as u128)
}

impl Neg for Wide {
    type Output = Wide;
    fn neg(self) -> Wide {
        Wide {
            neg: !self.neg,
            ..self
        }
    }
}

impl Add for Wide {
    type Output = Wide;
    fn add(self, other: Wide) -> Wide {
        if other.is_zero() {
            return self;
        }
        if self.is_zero() {
            return other;
        }
        let (big, small) = if self.cmp_abs(other) == Ordering::Less {
            (other, self)
        } else {
            (self, other)
        };
        // A 256-bit window with `big`'s top bit at bit 254: bit 255 takes the carry, and
        // the 127 bits below `big` keep `small` exact for exponent gaps up to 127.
        let (bh, bl) = (big.sig >> 1, big.sig << 127);
        let gap = big.exp.abs_diff(small.exp);
        let (sh, sl) = shr_sticky(small.sig >> 1, small.sig << 127, gap);
        let (hi, lo) = if big.neg == small.neg {
            let (lo, carry) = bl.overflowing_add(sl);
            (bh + sh + carry as u128, lo)
        } else {
            let (lo, borrow) = bl.overflowing_sub(sl);
            (bh - sh - borrow as u128, lo)
        };
        Wide::from_u256(big.neg, big.exp + 1, hi, lo)
    }
}

impl Sub for Wide {
    type Output = Wide;
    fn sub(self, other: Wide) -> Wide {
        self + -other
    }
}

impl Mul for Wide {
    type Output = Wide;
    fn mul(self, other: Wide) -> Wide {
        const LOW: u128 = u64::MAX as u128;
        let (a1, a0) = (self.sig >> 64, self.sig & LOW);
        let (b1, b0) = (other.sig >> 64, other.sig & LOW);
        let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
        let mid = (p00 >> 64) + (p01 & LOW) + (p10 & LOW); // below 3 * 2^64
        let lo = (p00 & LOW) | mid << 64;
        let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
        // Bit 255 of the product weighs 2^(exp_a + exp_b + 1).
        Wide::from_u256(self.neg != other.neg, self.exp + other.exp + 1, hi, lo)
    }
}

impl Div for Wide {
    type Output = Wide;
    /// Restoring division, one quotient bit per step. The divisor is never zero.
    fn div(self, other: Wide) -> Wide {
        if self.is_zero() {
            return Wide::ZERO;
        }
        let d = other.sig;
        // The first quotient bit weighs 2^(exp_a - exp_b); when it is 0, take one more.
        let (mut q, mut rem, exp, steps) = if self.sig >= d {
            (1u128, self.sig - d, self.exp - other.exp, 127)
        } else {
            (0, self.sig, self.exp - other.exp - 1, 128)
        };
        for _ in 0..steps {
            let carry = rem >> 127 == 1;
            rem <<= 1;
            q <<= 1;
            if carry || rem >= d {
                rem = rem.wrapping_sub(d);
                q |= 1;
            }
        }
        Wide {
            neg: self.neg != other.neg,
            exp,
            sig: q | (rem != 0) as u128,
        }
    }
}

impl Div<u64> for Wide {
    type Output = Wide;
    fn div(self, n: u64) -> Wide {
        self.div_int(n)
    }
}
