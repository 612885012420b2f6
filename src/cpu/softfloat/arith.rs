//! Exact arithmetic on unpacked operands, shared by the x87 and SSE units. Each unit
//! applies its own NaN and operand rules before, and rounds into its own format after.

use super::round::{self, Exact, Format, Packed};
use super::{Flags, Rounding};
use core::cmp::Ordering;

/// A non-NaN operand; a finite one is `sig * 2^(exp - 63)` with bit 63 of `sig` set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Num {
    Zero(bool),
    Finite { sign: bool, exp: i32, sig: u64 },
    Inf(bool),
}

impl Num {
    pub fn sign(self) -> bool {
        match self {
            Num::Zero(s) | Num::Inf(s) | Num::Finite { sign: s, .. } => s,
        }
    }

    pub fn negate(self) -> Num {
        match self {
            Num::Zero(s) => Num::Zero(!s),
            Num::Inf(s) => Num::Inf(!s),
            Num::Finite { sign, exp, sig } => Num::Finite {
                sign: !sign,
                exp,
                sig,
            },
        }
    }

    /// A finite value `sig * 2^(exp - 63)` with any `sig`; zero when `sig` is.
    pub fn finite(sign: bool, exp: i32, sig: u64) -> Num {
        let lz = sig.leading_zeros();
        if sig == 0 {
            Num::Zero(sign)
        } else {
            Num::Finite {
                sign,
                exp: exp - lz as i32,
                sig: sig << lz,
            }
        }
    }

    /// Rounds to an integer by `rc`: the value if it lies in `min..=max`, whether it was
    /// inexact and whether its magnitude was rounded up; `None` for infinities and
    /// values out of range.
    pub fn to_int(self, rc: Rounding, min: i64, max: i64) -> Option<(i64, bool, bool)> {
        let (magnitude, inexact, up) = match self {
            Num::Zero(_) => (0, false, false),
            Num::Finite { sign, exp, sig } => round::to_integer(sign, exp, sig, rc)?,
            Num::Inf(_) => return None,
        };
        let value = if self.sign() {
            -(magnitude as i128)
        } else {
            magnitude as i128
        };
        let value = i64::try_from(value)
            .ok()
            .filter(|v| (min..=max).contains(v))?;
        Some((value, inexact, up))
    }

    /// Rounds into `fmt` (see `round::round`).
    pub fn round(self, fmt: Format, rc: Rounding, ftz: bool) -> Packed {
        match self {
            Num::Zero(s) => Packed::zero(s),
            Num::Inf(s) => Packed::inf(s, fmt),
            Num::Finite { sign, exp, sig } => {
                round::round(Exact::from_u64(sign, exp, sig), fmt, rc, ftz)
            }
        }
    }

    /// Compares values: zeros of either sign are equal.
    pub fn compare(self, other: Num) -> Ordering {
        let magnitude = |n: Num| match n {
            Num::Zero(_) => (0, 0, 0),
            Num::Finite { exp, sig, .. } => (1, exp, sig),
            Num::Inf(_) => (2, 0, 0),
        };
        match (self, other) {
            (Num::Zero(_), Num::Zero(_)) => Ordering::Equal,
            _ if self.sign() != other.sign() => other.sign().cmp(&self.sign()),
            _ if self.sign() => magnitude(other).cmp(&magnitude(self)),
            _ => magnitude(self).cmp(&magnitude(other)),
        }
    }
}

/// An operand as decoded by either unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operand {
    Num(Num),
    /// A NaN, its significand in x87 layout: integer bit 63, quiet bit 62, payload below.
    Nan {
        sign: bool,
        sig: u64,
    },
    /// An x87 pseudo-NaN, pseudo-infinity or unnormal: invalid on the 387 and later.
    Unsupported,
}

impl Operand {
    pub fn is_signaling(self) -> bool {
        matches!(self, Operand::Nan { sig, .. } if sig & 1 << 62 == 0)
    }
}

/// The exact result of an operation, before rounding.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Outcome {
    Invalid,
    DivByZero(bool),
    Zero(bool),
    Inf(bool),
    Finite(Exact),
}

impl Outcome {
    /// Rounds into `fmt` (see `round::round`); `None` for an invalid operation, whose
    /// result each unit chooses.
    pub fn round(self, fmt: Format, rc: Rounding, ftz: bool) -> Option<Packed> {
        Some(match self {
            Outcome::Invalid => return None,
            Outcome::DivByZero(s) => Packed {
                flags: Flags::DIV_BY_ZERO,
                ..Packed::inf(s, fmt)
            },
            Outcome::Zero(s) => Packed::zero(s),
            Outcome::Inf(s) => Packed::inf(s, fmt),
            Outcome::Finite(x) => round::round(x, fmt, rc, ftz),
        })
    }
}

impl From<Num> for Outcome {
    fn from(n: Num) -> Outcome {
        match n {
            Num::Zero(s) => Outcome::Zero(s),
            Num::Inf(s) => Outcome::Inf(s),
            Num::Finite { sign, exp, sig } => Outcome::Finite(Exact::from_u64(sign, exp, sig)),
        }
    }
}

/// `a + b`; an exact zero sum of opposite operands is -0 only when rounding down.
pub(crate) fn add(a: Num, b: Num, rc: Rounding) -> Outcome {
    match (a, b) {
        (Num::Inf(sa), Num::Inf(sb)) if sa != sb => Outcome::Invalid,
        (Num::Inf(s), _) | (_, Num::Inf(s)) => Outcome::Inf(s),
        (Num::Zero(sa), Num::Zero(sb)) => {
            Outcome::Zero(if sa == sb { sa } else { rc == Rounding::Down })
        }
        (Num::Zero(_), x) | (x, Num::Zero(_)) => x.into(),
        (
            Num::Finite {
                sign: sa,
                exp: ea,
                sig: ma,
            },
            Num::Finite {
                sign: sb,
                exp: eb,
                sig: mb,
            },
        ) => {
            let ((sign, ea, ma), (eb, mb)) = if (ea, ma) >= (eb, mb) {
                ((sa, ea, ma), (eb, mb))
            } else {
                ((sb, eb, mb), (ea, ma))
            };
            // Both significands sit at bits 126..63, leaving a carry bit above and 63
            // guard bits below; what shifts out of the smaller one is kept as a sticky bit.
            let big = (ma as u128) << 63;
            let small = (mb as u128) << 63;
            let d = ea.abs_diff(eb);
            let small = if d >= 127 {
                1
            } else {
                (small >> d) | (small & ((1u128 << d) - 1) != 0) as u128
            };
            let sum = if sa == sb { big + small } else { big - small };
            match Exact::new(sign, ea + 1, sum) {
                Some(x) => Outcome::Finite(x),
                None => Outcome::Zero(rc == Rounding::Down),
            }
        }
    }
}

pub(crate) fn mul(a: Num, b: Num) -> Outcome {
    let sign = a.sign() != b.sign();
    match (a, b) {
        (Num::Zero(_), Num::Inf(_)) | (Num::Inf(_), Num::Zero(_)) => Outcome::Invalid,
        (Num::Inf(_), _) | (_, Num::Inf(_)) => Outcome::Inf(sign),
        (Num::Zero(_), _) | (_, Num::Zero(_)) => Outcome::Zero(sign),
        (
            Num::Finite {
                exp: ea, sig: ma, ..
            },
            Num::Finite {
                exp: eb, sig: mb, ..
            },
        ) => {
            let product = ma as u128 * mb as u128; // exact, top bit at 126 or 127
            Exact::new(sign, ea + eb + 1, product).map_or(Outcome::Zero(sign), Outcome::Finite)
        }
    }
}

pub(crate) fn div(a: Num, b: Num) -> Outcome {
    let sign = a.sign() != b.sign();
    match (a, b) {
        (Num::Inf(_), Num::Inf(_)) | (Num::Zero(_), Num::Zero(_)) => Outcome::Invalid,
        (Num::Inf(_), _) => Outcome::Inf(sign),
        (_, Num::Inf(_)) | (Num::Zero(_), _) => Outcome::Zero(sign),
        (Num::Finite { .. }, Num::Zero(_)) => Outcome::DivByZero(sign),
        (
            Num::Finite {
                exp: ea, sig: ma, ..
            },
            Num::Finite {
                exp: eb, sig: mb, ..
            },
        ) => {
            // Scale the dividend so the first quotient word has its top bit set, then
            // divide the remainder once more for 64 guard bits; the rest is sticky.
            let (num, exp) = if ma >= mb {
                ((ma as u128) << 63, ea - eb)
            } else {
                ((ma as u128) << 64, ea - eb - 1)
            };
            let (hi, r1) = (num / mb as u128, num % mb as u128);
            let (lo, r2) = ((r1 << 64) / mb as u128, (r1 << 64) % mb as u128);
            let sig = hi << 64 | lo | (r2 != 0) as u128;
            Outcome::Finite(Exact { sign, exp, sig })
        }
    }
}

pub(crate) fn sqrt(a: Num) -> Outcome {
    match a {
        Num::Zero(s) => Outcome::Zero(s),
        Num::Inf(false) => Outcome::Inf(false),
        Num::Inf(true) | Num::Finite { sign: true, .. } => Outcome::Invalid,
        Num::Finite {
            sign: false,
            exp,
            sig,
        } => {
            // One more bit of shift for an odd exponent makes it even; the radicand lies
            // in [2^126, 2^128), so the root has exactly 64 bits. A root is never halfway
            // between two integers: "remainder exceeds root" is the round bit and
            // "remainder non-zero" the sticky bit.
            let (root, rem) = isqrt((sig as u128) << (63 + (exp & 1)));
            let sig =
                (root as u128) << 64 | ((rem > root as u128) as u128) << 63 | (rem != 0) as u128;
            Outcome::Finite(Exact {
                sign: false,
                exp: exp >> 1,
                sig,
            })
        }
    }
}

/// Integer square root of `n` (at least 2^126): `(floor(sqrt(n)), n - root^2)`.
fn isqrt(n: u128) -> (u64, u128) {
    let (mut rem, mut root, mut bit) = (n, 0u128, 1u128 << 126);
    while bit != 0 {
        if rem >= root + bit {
            rem -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    (root as u64, rem)
}
