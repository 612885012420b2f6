//! FPREM, FPREM1, FSCALE and FXTRACT.

use super::arith::{Num, Operand, Outcome};
use super::f80::{finish, invalid, nan_result, with_denormal};
use super::round::{Exact, Format};
use super::{F80, Flags, Rounding, X87Result};

/// The outcome of FPREM or FPREM1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Remainder {
    pub value: F80,
    pub flags: Flags,
    /// The quotient's low three bits, reported as C0 (bit 2), C3 (bit 1) and C1 (bit 0);
    /// zero when the reduction is incomplete or the operation is invalid.
    pub quotient: u8,
    /// C2: only a partial reduction was done; running the instruction again goes on.
    pub incomplete: bool,
}

impl F80 {
    /// FPREM: `a - q * b` with `q` the quotient truncated toward zero, or, when the
    /// exponents differ by 64 or more, a partial reduction (see `remainder`).
    pub fn prem(a: F80, b: F80) -> Remainder {
        remainder(a, b, false)
    }

    /// FPREM1: as `prem` with the quotient rounded to nearest, ties to even (IEEE
    /// remainder); partial reductions still truncate.
    pub fn prem1(a: F80, b: F80) -> Remainder {
        remainder(a, b, true)
    }

    /// FSCALE: `a * 2^trunc(b)`, rounded by `rc` (precision control does not apply).
    pub fn scale(a: F80, b: F80, rc: Rounding) -> X87Result {
        let ((oa, da), (ob, db)) = (a.unpack(), b.unpack());
        let (x, y) = match (oa, ob) {
            (Operand::Num(x), Operand::Num(y)) => (x, y),
            _ => return nan_result(&[oa, ob]),
        };
        let outcome = match (x, y) {
            (Num::Zero(_), Num::Inf(false)) | (Num::Inf(_), Num::Inf(true)) => Outcome::Invalid,
            (Num::Finite { sign, .. }, Num::Inf(down)) => {
                if down {
                    Outcome::Zero(sign)
                } else {
                    Outcome::Inf(sign)
                }
            }
            (Num::Finite { sign, exp, sig }, y) => {
                // Scales of 2^20 and beyond overflow or underflow any operand alike,
                // so larger ones are capped there.
                let n = match y {
                    Num::Finite { sign, exp, sig } if exp >= 0 => {
                        let n = (sig >> (63 - exp.min(20))) as i32;
                        if sign { -n } else { n }
                    }
                    _ => 0,
                };
                Outcome::Finite(Exact::from_u64(sign, exp + n, sig))
            }
            (x, _) => x.into(),
        };
        with_denormal(finish(outcome, rc, Format::F80), da || db)
    }

    /// FXTRACT: `(exponent, significand)`, the significand keeping the sign with an
    /// exponent of zero. Zero gives `(-inf, zero)` with ZE; infinity `(+inf, infinity)`.
    pub fn extract(self) -> X87Result<(F80, F80)> {
        let (value, flags) = match self.unpack() {
            (Operand::Num(Num::Zero(sign)), _) => {
                let zero = F80 {
                    sign_exp: (sign as u16) << 15,
                    mantissa: 0,
                };
                ((F80::INFINITY.chs(), zero), Flags::DIV_BY_ZERO)
            }
            (Operand::Num(Num::Inf(_)), _) => ((F80::INFINITY, self), Flags::NONE),
            (Operand::Num(Num::Finite { sign, exp, sig }), denormal) => {
                let significand = F80 {
                    sign_exp: (sign as u16) << 15 | 0x3FFF,
                    mantissa: sig,
                };
                (
                    (F80::from_i64(exp.into()), significand),
                    Flags::NONE.with_denormal(denormal),
                )
            }
            (op, _) => {
                let r = nan_result(&[op]);
                ((r.value, r.value), r.flags)
            }
        };
        X87Result {
            value,
            flags,
            c1: false,
        }
    }
}

/// The partial remainder. With an exponent difference `d` of 64 or more, the hardware
/// reduces the exponent by a multiple of 32, leaving a difference between 32 and 63:
/// the quotient `trunc(a / (b * 2^(d - n)))` with `n = 32 + (d - 32) % 32` is removed.
fn remainder(a: F80, b: F80, nearest: bool) -> Remainder {
    let ((oa, da), (ob, db)) = (a.unpack(), b.unpack());
    let (x, y) = match (oa, ob) {
        (Operand::Num(x), Operand::Num(y)) => (x, y),
        _ => {
            let r = nan_result(&[oa, ob]);
            return Remainder {
                value: r.value,
                flags: r.flags,
                quotient: 0,
                incomplete: false,
            };
        }
    };
    let done = |r: X87Result, quotient: u8| Remainder {
        value: r.value,
        flags: r.flags.with_denormal(da || db),
        quotient,
        incomplete: false,
    };
    let exact = |n: Num| X87Result::exact(F80::from_num(n));
    match (x, y) {
        (Num::Inf(_), _) | (_, Num::Zero(_)) => done(invalid(), 0),
        (Num::Zero(_), _) | (_, Num::Inf(_)) => done(exact(x), 0),
        (
            Num::Finite {
                sign,
                exp: ea,
                sig: ma,
            },
            Num::Finite {
                exp: eb, sig: mb, ..
            },
        ) => {
            let d = ea - eb;
            if d >= 64 {
                let n = 32 + (d - 32) % 32;
                let r = ((ma as u128) << n) % mb as u128;
                return Remainder {
                    incomplete: true,
                    ..done(exact(Num::finite(sign, ea - n, r as u64)), 0)
                };
            }
            if d < -1 || (d == -1 && !nearest) {
                return done(exact(x), 0);
            }
            // Both as integers in units of the smaller operand's last place.
            let (num, den) = if d >= 0 {
                ((ma as u128) << d, mb as u128)
            } else {
                (ma as u128, (mb as u128) << 1)
            };
            let (mut q, mut r, mut sign) = (num / den, num % den, sign);
            if nearest && (2 * r > den || (2 * r == den && q & 1 == 1)) {
                (q, r, sign) = (q + 1, den - r, !sign);
            }
            done(
                exact(Num::finite(sign, ea.min(eb), r as u64)),
                (q & 7) as u8,
            )
        }
    }
}
