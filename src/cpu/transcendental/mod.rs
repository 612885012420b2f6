//! The x87 transcendental instructions (FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X,
//! FYL2XP1) in software: pure functions of their operands, computed in integers (128-bit
//! significands, see `wide`) so that every host gives the same bits, and never with the
//! host's FPU or libm. Exceptions are treated as masked, as in [`crate::cpu::softfloat`]:
//! each function returns the masked response, the flags it raises and C1; the caller
//! handles the register stack (FSINCOS and FPTAN push, FPATAN, FYL2X and FYL2XP1 pop),
//! C2 ([`Trig::OutOfRange`]) and unmasked exceptions.
//!
//! # Accuracy
//!
//! The operand is reduced exactly (for the trigonometric instructions with the x87's own
//! pi, below), the function is computed to about 2^-123 relative and rounded once to 64
//! bits, to nearest: the result is correctly rounded unless the exact value lies within
//! about 2^-123 of a rounding boundary, which random operands never hit but structured
//! ones can (FPATAN(1, 2^64 - 1) is 1 ulp off). Intel documents errors below 1 ulp; the
//! hosts tried round correctly 92-99.3% of the time, and the tests check that the
//! results here are within 1 ulp of theirs.
//!
//! # Hardware behaviour
//!
//! Established by running the instructions on an AMD EPYC (Zen 4) and an Intel Xeon
//! (Emerald Rapids), which agree on everything below unless noted.
//!
//! - FSIN, FCOS, FSINCOS and FPTAN reduce `x` exactly as `x = n P/2 + r`, `|r| <= P/4`,
//!   with the 66-bit pi `P` of the SDM (`kernels::PI_66`): results near multiples of pi
//!   follow `P`, not pi (FSIN of the `F80` nearest pi is exactly -2^-64, -5.42e-20,
//!   where its sine is -5.02e-20). Finite `|x| >= 2^63` is out of range: C2 set,
//!   operand unchanged, nothing raised.
//! - FPATAN's quadrant offsets are multiples of the same `P/2`: the special results
//!   (`atan2(+-0, -x) = +-pi` etc.) are `k P/4` rounded, and random operands match the
//!   hosts far more often with `P` than with pi.
//! - Precision control is ignored. Rounding control is honoured: under RC=down, 95-99%
//!   of FSIN results are the exact value rounded down, and only about half of them the
//!   value rounded to nearest. These functions round to nearest.
//! - Every finite non-zero result raises PE, even an exact one: F2XM1(1) = 1,
//!   F2XM1(-1) = -1/2, FYL2X(2^k, y) = k y. An exact zero raises nothing. A tiny result
//!   therefore always raises UE (tininess is detected after rounding).
//! - DE is raised for a denormal or pseudo-denormal operand, also when the result is a
//!   special value (FPATAN(+0, +denormal) = +0 with DE), but not with IE, ZE or a NaN
//!   result.
//! - NaNs and unsupported encodings (pseudo-NaN, pseudo-infinity, unnormal) are handled
//!   as by the arithmetic instructions: an unsupported operand gives the indefinite with
//!   IE, even beside a NaN; otherwise the NaN with the larger significand (on a tie the
//!   positive one) is returned quietened, with IE if any operand is signalling. FSINCOS
//!   returns that NaN twice, and FPTAN pushes it instead of 1 ([`fptan_push`]).
//! - F2XM1 outside its documented domain: `|x| > 1` returns `x` unchanged, with PE.
//! - FYL2XP1 outside its documented domain `|x| < 1 - sqrt(2)/2`: for `x > -1` it is
//!   `y log2(1 + x)`, as accurate as inside; `x <= -1` (finite) returns `x` with PE for
//!   a finite non-zero `y`, and otherwise acts as if `log2(1 + x)` were negative (`-+0`
//!   for `y = +-0`, `-+inf` for `y = +-inf`).
//! - C1 ("rounded up") is where the hosts disagree, with each other and with the exact
//!   value: below about 2^-68 Intel returns FSIN's and FCOS's `x` and 1 with C1 clear;
//!   for operands below about 2^-33 FPTAN's C1 is erratic on both; FSINCOS reports the
//!   cosine's rounding on Intel and the sine's on AMD; the exact results above differ.
//!   Here C1 is set exactly when the magnitude was rounded up (for FSINCOS, the cosine's,
//!   as on Intel). The tests count the agreement instead of requiring it.

mod kernels;
mod wide;

#[cfg(all(test, target_arch = "x86_64"))]
mod tests;

use crate::cpu::softfloat::{F80, Flags, FxamClass, X87Result};
use wide::{Wide, result};

/// The outcome of FSIN, FCOS, FSINCOS and FPTAN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trig<T = F80> {
    /// The result, with C2 clear.
    Done(X87Result<T>),
    /// A finite operand with `|x| >= 2^63`: the instruction sets C2 and clears C1, leaves
    /// ST(0) as it is, pushes nothing and raises nothing.
    OutOfRange,
}

/// FSIN: `sin x`.
pub fn fsin(x: F80) -> Trig {
    trig(x, x, |neg, n, r| {
        let v = kernels::sin_quadrant(n, r);
        (if neg { -v } else { v }).round()
    })
}

/// FCOS: `cos x`.
pub fn fcos(x: F80) -> Trig {
    // cos(r + n P/2) = sin(r + (n + 1) P/2)
    trig(x, F80::ONE, |_, n, r| {
        kernels::sin_quadrant((n + 1) & 3, r).round()
    })
}

/// FSINCOS: `(sin x, cos x)`; the instruction replaces ST(0) by the sine and pushes the
/// cosine. C1 is the cosine's.
pub fn fsincos(x: F80) -> Trig<(F80, F80)> {
    match classify_trig(x) {
        TrigOperand::Special(r) => Trig::Done(r.map(|v| (v, v))),
        TrigOperand::Zero => Trig::Done(result((x, F80::ONE))),
        TrigOperand::OutOfRange => Trig::OutOfRange,
        TrigOperand::Reduced {
            neg,
            n,
            r,
            denormal,
        } => {
            let sin = kernels::sin_quadrant(n, r);
            let sin = (if neg { -sin } else { sin }).round();
            let cos = kernels::sin_quadrant((n + 1) & 3, r).round();
            Trig::Done(with_denormal(
                X87Result {
                    value: (sin.value, cos.value),
                    flags: sin.flags | cos.flags,
                    c1: cos.c1,
                },
                denormal,
            ))
        }
    }
}

/// FPTAN: `tan x`; the instruction replaces ST(0) by it and pushes [`fptan_push`] of it.
pub fn fptan(x: F80) -> Trig {
    trig(x, x, |neg, n, r| {
        // tan(r + n P/2) is tan r for even n and -cot r for odd n.
        let v = kernels::tan_or_cot(r, n & 1 == 1);
        (if neg != (n & 1 == 1) { -v } else { v }).round()
    })
}

/// The value FPTAN pushes after its result: 1, or the result again when it is a NaN (a
/// NaN operand or an invalid operation).
pub fn fptan_push(tan: F80) -> F80 {
    if tan.is_nan() { tan } else { F80::ONE }
}

/// FPATAN: `atan2(y, x)` with `y` = ST(1) and `x` = ST(0), in `[-pi, pi]`; the
/// instruction pops and leaves it in the new ST(0).
pub fn fpatan(y: F80, x: F80) -> X87Result {
    let ([oy, ox], denormal) = match operands([y, x]) {
        Ok(ops) => ops,
        Err(r) => return r,
    };
    let (sy, sx) = (oy.sign(), ox.sign());
    // Special results are multiples of P/4 (signed like y), or zeros.
    let quarters = |k: u128| {
        let v = kernels::quarter_pi_66(k);
        (if sy { -v } else { v }).round()
    };
    let zero = result(with_sign(F80::ZERO, sy));
    let r = match (oy, ox) {
        (Operand::Zero(_), _) if sx => quarters(4),
        (Operand::Zero(_), _) => zero,
        (Operand::Inf(_), Operand::Inf(false)) => quarters(1),
        (Operand::Inf(_), Operand::Inf(true)) => quarters(3),
        (Operand::Inf(_), _) | (_, Operand::Zero(_)) => quarters(2),
        (_, Operand::Inf(true)) => quarters(4),
        (_, Operand::Inf(false)) => zero,
        (Operand::Finite(y), Operand::Finite(x)) => kernels::atan2(y, x).round(),
    };
    with_denormal(r, denormal)
}

/// F2XM1: `2^x - 1`, documented for `-1 <= x <= 1`; beyond, the hardware returns `x`
/// unchanged with PE, and so does this.
pub fn f2xm1(x: F80) -> X87Result {
    let ([op], denormal) = match operands([x]) {
        Ok(ops) => ops,
        Err(r) => return r,
    };
    let r = match op {
        Operand::Zero(_) | Operand::Inf(false) => result(x),
        Operand::Inf(true) => result(with_sign(F80::ONE, true)),
        Operand::Finite(w) => match w.cmp_abs(Wide::ONE) {
            core::cmp::Ordering::Less => kernels::exp2m1(w).round(),
            // 2^1 - 1 and 2^-1 - 1, exact (but PE is raised, see `Wide::round`).
            core::cmp::Ordering::Equal if w.neg => (-Wide::ONE.scale(-1)).round(),
            core::cmp::Ordering::Equal => Wide::ONE.round(),
            core::cmp::Ordering::Greater => X87Result {
                value: x,
                flags: Flags::INEXACT,
                c1: false,
            },
        },
    };
    with_denormal(r, denormal)
}

/// FYL2X: `y * log2(x)` with `x` = ST(0) and `y` = ST(1); the instruction pops and
/// leaves it in the new ST(0). `x < 0` is invalid; `x = +-0` gives the infinity of the
/// sign opposite to `y`'s, with ZE for a finite `y` (and is invalid for `y = +-0`).
pub fn fyl2x(x: F80, y: F80) -> X87Result {
    let ([ox, oy], denormal) = match operands([x, y]) {
        Ok(ops) => ops,
        Err(r) => return r,
    };
    let r = match ox {
        Operand::Inf(true) => invalid(),
        Operand::Finite(w) if w.neg => invalid(),
        Operand::Zero(_) => scaled_log(Operand::Inf(true), oy, true),
        Operand::Inf(false) => scaled_log(Operand::Inf(false), oy, false),
        Operand::Finite(w) if w == Wide::ONE => scaled_log(Operand::Zero(false), oy, false),
        Operand::Finite(w) => scaled_log(Operand::Finite(kernels::log2(w)), oy, false),
    };
    with_denormal(r, denormal)
}

/// FYL2XP1: `y * log2(x + 1)` with `x` = ST(0) and `y` = ST(1), documented for
/// `|x| < 1 - sqrt(2)/2`; the instruction pops and leaves it in the new ST(0). See the
/// module documentation for `x <= -1`.
pub fn fyl2xp1(x: F80, y: F80) -> X87Result {
    let ([ox, oy], denormal) = match operands([x, y]) {
        Ok(ops) => ops,
        Err(r) => return r,
    };
    let r = match ox {
        Operand::Inf(true) => invalid(),
        Operand::Zero(_) | Operand::Inf(false) => scaled_log(ox, oy, false),
        Operand::Finite(w) if w.neg && w.cmp_abs(Wide::ONE).is_ge() => match oy {
            Operand::Finite(_) => X87Result {
                value: x,
                flags: Flags::INEXACT,
                c1: false,
            },
            _ => scaled_log(Operand::Finite(w), oy, false),
        },
        Operand::Finite(w) => scaled_log(Operand::Finite(kernels::log2_1p(w)), oy, false),
    };
    with_denormal(r, denormal)
}

/// `y * l` for FYL2X and FYL2XP1, where `l` is the logarithm (zero, infinite or finite);
/// `pole` says that `l` is the infinite `log2(0)`, which raises ZE for a finite `y`.
fn scaled_log(l: Operand, y: Operand, pole: bool) -> X87Result {
    let sign = l.sign() != y.sign();
    match (l, y) {
        (Operand::Zero(_), Operand::Inf(_)) | (Operand::Inf(_), Operand::Zero(_)) => invalid(),
        (Operand::Inf(_), Operand::Finite(_)) if pole => X87Result {
            flags: Flags::DIV_BY_ZERO,
            ..result(with_sign(F80::INFINITY, sign))
        },
        (Operand::Inf(_), _) | (_, Operand::Inf(_)) => result(with_sign(F80::INFINITY, sign)),
        (Operand::Zero(_), _) | (_, Operand::Zero(_)) => result(with_sign(F80::ZERO, sign)),
        (Operand::Finite(l), Operand::Finite(y)) => (l * y).round(),
    }
}

/// An operand that is not a NaN or an unsupported encoding; a finite one is exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operand {
    Zero(bool),
    Inf(bool),
    Finite(Wide),
}

impl Operand {
    fn sign(self) -> bool {
        match self {
            Operand::Zero(s) | Operand::Inf(s) => s,
            Operand::Finite(w) => w.neg,
        }
    }
}

/// Decodes the operands, and whether any is a denormal; or the result when one is a NaN
/// or an unsupported encoding.
fn operands<const N: usize>(ops: [F80; N]) -> Result<([Operand; N], bool), X87Result> {
    if ops.iter().any(|x| x.classify() == FxamClass::Unsupported) {
        return Err(invalid());
    }
    if let Some(nan) = ops
        .iter()
        .filter(|x| x.is_nan())
        .max_by_key(|x| (x.mantissa, !x.sign()))
    {
        return Err(X87Result {
            value: F80 {
                mantissa: nan.mantissa | 1 << 62,
                ..*nan
            },
            flags: if ops.iter().any(|x| x.is_signaling_nan()) {
                Flags::INVALID
            } else {
                Flags::NONE
            },
            c1: false,
        });
    }
    let decoded = ops.map(|x| match x.classify() {
        FxamClass::Zero => Operand::Zero(x.sign()),
        FxamClass::Infinity => Operand::Inf(x.sign()),
        _ => Operand::Finite(Wide::from_f80(x)),
    });
    let denormal = ops.iter().any(|x| x.classify() == FxamClass::Denormal);
    Ok((decoded, denormal))
}

/// The operand of FSIN, FCOS, FSINCOS or FPTAN.
enum TrigOperand {
    /// A NaN, an unsupported encoding or an infinity: the result of each output.
    Special(X87Result),
    Zero,
    OutOfRange,
    /// A finite non-zero `x` with `|x| = n P/2 + r` (`n` mod 4); `neg` is the sign of x.
    Reduced {
        neg: bool,
        n: u32,
        r: Wide,
        denormal: bool,
    },
}

fn classify_trig(x: F80) -> TrigOperand {
    match operands([x]) {
        Err(r) => TrigOperand::Special(r),
        Ok(([Operand::Inf(_)], _)) => TrigOperand::Special(invalid()),
        Ok(([Operand::Zero(_)], _)) => TrigOperand::Zero,
        Ok(([Operand::Finite(w)], _)) if w.exp >= 63 => TrigOperand::OutOfRange,
        Ok(([Operand::Finite(w)], denormal)) => {
            let (n, r) = kernels::reduce(w.abs());
            TrigOperand::Reduced {
                neg: w.neg,
                n,
                r,
                denormal,
            }
        }
    }
}

/// FSIN, FCOS and FPTAN: `f(neg, n, r)` computes the result of a reduced operand; `zero`
/// is the (exact) result for a zero.
fn trig(x: F80, zero: F80, f: impl FnOnce(bool, u32, Wide) -> X87Result) -> Trig {
    match classify_trig(x) {
        TrigOperand::Special(r) => Trig::Done(r),
        TrigOperand::Zero => Trig::Done(result(zero)),
        TrigOperand::OutOfRange => Trig::OutOfRange,
        TrigOperand::Reduced {
            neg,
            n,
            r,
            denormal,
        } => Trig::Done(with_denormal(f(neg, n, r), denormal)),
    }
}

/// `v` with its sign set to `neg`.
const fn with_sign(v: F80, neg: bool) -> F80 {
    F80 {
        sign_exp: v.sign_exp & 0x7FFF | (neg as u16) << 15,
        ..v
    }
}

/// The masked invalid-operation response: the real indefinite, IE.
fn invalid() -> X87Result {
    X87Result {
        value: F80::INDEFINITE,
        flags: Flags::INVALID,
        c1: false,
    }
}

/// Adds DE for a denormal operand unless the operation was invalid or divided by zero.
fn with_denormal<T>(mut r: X87Result<T>, denormal: bool) -> X87Result<T> {
    if denormal && !r.flags.contains(Flags::INVALID) && !r.flags.contains(Flags::DIV_BY_ZERO) {
        r.flags |= Flags::DENORMAL;
    }
    r
}
