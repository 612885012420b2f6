//! The functions on finite working-precision values: the x87's argument reduction, then
//! an argument reduction of our own where a Taylor series would converge slowly, then
//! the Taylor series, truncated where its remaining terms fall below 2^-130 relative
//! and evaluated in Horner form with coefficients computed at compile time.

use super::wide::Wide;

/// The x87's internal pi (Intel SDM vol. 1, "Approximation of Pi"): pi rounded to 66
/// significant bits, `PI_66 * 2^-66`, about 2^-67.7 below pi. FSIN, FCOS, FSINCOS and
/// FPTAN reduce their operand with it and FPATAN adds its multiples, so the hardware's
/// results follow it rather than pi: FSIN of the `F80` nearest pi is exactly -2^-64.
pub(super) const PI_66: u128 = 0xC_90FD_AA22_168C_234C;

/// ln 2, rounded to 128 bits.
pub(super) const LN_2: Wide = Wide::constant(-1, 0xB172_17F7_D1CF_79AB_C9E3_B398_03F2_F6AF);
/// log2(e) = 1 / ln 2, rounded to 128 bits.
pub(super) const LOG2_E: Wide = Wide::constant(0, 0xB8AA_3B29_5C17_F0BB_BE87_FED0_691D_3E89);
/// sqrt(2) as a 128-bit significand (`* 2^-127`), rounded: where `log2` splits binades.
pub(super) const SQRT_2: u128 = 0xB504_F333_F9DE_6484_597D_89B3_754A_BE9F;
/// atan(k/8) for k = 1..=8, rounded to 128 bits; the last is pi/4.
pub(super) const ATAN_EIGHTHS: [Wide; 8] = [
    Wide::constant(-4, 0xFEAD_D4D5_617B_6E32_C897_989F_3E88_8EF8),
    Wide::constant(-3, 0xFADB_AFC9_6406_EB15_6DC7_9EF5_F7A2_17E6),
    Wide::constant(-2, 0xB7B0_CA0F_26F7_8473_8AA3_2122_DCFE_4483),
    Wide::constant(-2, 0xED63_382B_0DDA_7B45_6FE4_45EC_BC3A_8D03),
    Wide::constant(-1, 0x8F00_5D5E_F7F5_9F9B_5C83_5E16_65C4_3748),
    Wide::constant(-1, 0xA4BC_7D19_34F7_0924_19A8_7F2A_457D_AC9F),
    Wide::constant(-1, 0xB805_3E2B_C231_9E73_CB2D_A552_10A4_443D),
    Wide::constant(-1, 0xC90F_DAA2_2168_C234_C4C6_628B_80DC_1CD1),
];

/// Taylor coefficients `c[k] = (+-1)^k / ((m + 1) (m + 2) ... (m + step k))`, the signs
/// alternating when `alternate`: `1/(2k+1)!` (m = 1, step = 2), `1/(2k)!` (0, 2) and
/// `1/(k+1)!` (1, 1).
const fn factorial_series<const N: usize>(m: u64, step: u64, alternate: bool) -> [Wide; N] {
    let mut c = [Wide::ONE; N];
    let mut factor = m;
    let mut k = 1;
    while k < N {
        let mut v = c[k - 1];
        let mut j = 0;
        while j < step {
            factor += 1;
            v = v.div_int(factor);
            j += 1;
        }
        c[k] = v.with_sign(alternate && k % 2 == 1);
        k += 1;
    }
    c
}

/// `c[k] = (+-1)^k / (2k + 1)`, the signs alternating when `alternate`: the Taylor
/// coefficients of atan (alternating) and atanh over their argument.
const fn odd_reciprocals<const N: usize>(alternate: bool) -> [Wide; N] {
    let mut c = [Wide::ONE; N];
    let mut k = 1;
    while k < N {
        c[k] = Wide::ONE
            .div_int(2 * k as u64 + 1)
            .with_sign(alternate && k % 2 == 1);
        k += 1;
    }
    c
}

// Each series stops where the first term left out is below 2^-130 relative.
/// `sin r / r` in powers of `r^2`; `r^32/33!` < 2^-134 for `|r| <= P/4`.
const SIN: [Wide; 16] = factorial_series(1, 2, true);
/// `cos r` in powers of `r^2`; `r^34/34!` < 2^-139 for `|r| <= P/4`.
const COS: [Wide; 17] = factorial_series(0, 2, true);
/// `(e^y - 1) / y` in powers of `y`; `y^31/32!` < 2^-134 for `|y| <= ln 2`.
const EXPM1: [Wide; 31] = factorial_series(1, 1, false);
/// `atan u / u` in powers of `u^2`; `u^32/33` < 2^-133 for `|u| <= 1/16`.
const ATAN: [Wide; 16] = odd_reciprocals(true);
/// `atanh s / s` in powers of `s^2`; `s^50/51` < 2^-132 for `|s| <= 3 - 2 sqrt(2)`.
const ATANH: [Wide; 25] = odd_reciprocals(false);

/// `sum c[k] z^k`, by Horner's rule.
fn horner(c: &[Wide], z: Wide) -> Wide {
    c.iter().rev().fold(Wide::ZERO, |acc, &ck| ck + z * acc)
}

/// `k * PI_66 / 4`, exactly.
pub(super) fn quarter_pi_66(k: u128) -> Wide {
    Wide::int(k * PI_66, -68)
}

/// The x87's reduction of a positive `x < 2^63` for FSIN, FCOS, FSINCOS and FPTAN:
/// `x = n * P/2 + r` with `P = PI_66 * 2^-66` and `n` the integer nearest `x / (P/2)`, so
/// `|r| <= P/4`. Returns `n mod 4` and `r`, both exact: `r` is computed in integers, in
/// units of `2^-67` where `P/2` is the integer `PI_66`. `r` is never zero and there are
/// no ties: either would need the 64-bit significand of `x` to be a multiple of the
/// 66-bit odd part of `PI_66`.
pub(super) fn reduce(x: Wide) -> (u32, Wide) {
    if x.exp < -1 {
        return (0, x); // below 1/2 < P/4
    }
    // x = m * 2^(exp - 63) = (m << (exp + 4)) units, with `exp + 4` in 3..=66; divide in
    // two steps so that the dividend stays within 128 bits.
    let m = x.sig >> 64;
    let shift = (x.exp + 4) as u32;
    let head = shift.min(64);
    let t = m << head;
    let (q, rem) = (t / PI_66, t % PI_66);
    let tail = shift - head;
    let t = rem << tail;
    let (q, rem) = ((q << tail) + t / PI_66, t % PI_66);
    if rem > PI_66 / 2 {
        ((q + 1) as u32 & 3, -Wide::int(PI_66 - rem, -67))
    } else {
        (q as u32 & 3, Wide::int(rem, -67))
    }
}

/// `sin r` for `|r| <= P/4`.
pub(super) fn sin(r: Wide) -> Wide {
    r * horner(&SIN, r * r)
}

/// `cos r` for `|r| <= P/4`.
pub(super) fn cos(r: Wide) -> Wide {
    horner(&COS, r * r)
}

/// `sin(r + n P/2)` for `|r| <= P/4`, `n` in `0..4`.
pub(super) fn sin_quadrant(n: u32, r: Wide) -> Wide {
    match n {
        0 => sin(r),
        1 => cos(r),
        2 => -sin(r),
        _ => -cos(r),
    }
}

/// `tan r`, or `cot r` when `cot`, for `|r| <= P/4`.
pub(super) fn tan_or_cot(r: Wide, cot: bool) -> Wide {
    if r.exp < -40 {
        // Two terms suffice (the next are 2^-160 relative), and adding the small one last
        // keeps the result on the correct side of `r` or `1/r`, which a quotient of two
        // values both within 2^-128 of 1 would not.
        return if cot {
            Wide::ONE / r - r / 3
        } else {
            r + r * r * r / 3
        };
    }
    let (s, c) = (sin(r), cos(r));
    if cot { c / s } else { s / c }
}

/// `atan t` for `0 < t <= 1`: with `c = k/8` the nearest eighth,
/// `atan t = atan c + atan u`, `u = (t - c) / (1 + t c)`, `|u| <= 1/16`.
pub(super) fn atan(t: Wide) -> Wide {
    // round(8 t) = (floor(16 t) + 1) / 2, with 16 t = sig * 2^(exp - 123) and exp <= 0.
    let k = (t.sig.checked_shr((123 - t.exp) as u32).unwrap_or(0) + 1) >> 1;
    let (base, u) = match k {
        0 => (Wide::ZERO, t),
        _ => {
            let c = Wide::int(k, -3);
            (ATAN_EIGHTHS[k as usize - 1], (t - c) / (Wide::ONE + t * c))
        }
    };
    base + u * horner(&ATAN, u * u)
}

/// `atan2(y, x)` for finite non-zero operands: `atan` of the ratio at most 1, then the
/// octant, with the quadrant offsets in multiples of the x87's `P/2`.
pub(super) fn atan2(y: Wide, x: Wide) -> Wide {
    let (ay, ax) = (y.abs(), x.abs());
    let a = if ay.cmp_abs(ax).is_gt() {
        quarter_pi_66(2) - atan(ax / ay)
    } else {
        atan(ay / ax)
    };
    let a = if x.neg { quarter_pi_66(4) - a } else { a };
    if y.neg { -a } else { a }
}

/// `2^x - 1` for `|x| < 1`, as `e^y - 1` with `y = x ln 2`.
pub(super) fn exp2m1(x: Wide) -> Wide {
    let y = x * LN_2;
    y * horner(&EXPM1, y)
}

/// `ln((1 + s) / (1 - s)) = 2 atanh s` for `|s| <= 3 - 2 sqrt(2)` (about 0.1716).
fn ln_ratio(s: Wide) -> Wide {
    (s * horner(&ATANH, s * s)).scale(1)
}

/// Whether `1/sqrt(2) <= v < sqrt(2)`, the binade split of `log2`.
fn near_one(v: Wide) -> bool {
    !v.neg && (v.exp == 0 && v.sig < SQRT_2 || v.exp == -1 && v.sig >= SQRT_2)
}

/// `log2 v` for `v > 0`: `v = 2^e m` with `1/sqrt(2) <= m < sqrt(2)`, and
/// `ln m = ln_ratio((m - 1) / (m + 1))`. No cancellation: `e` is 0 or `|log2 v| >= 1/2`.
pub(super) fn log2(v: Wide) -> Wide {
    let (e, m) = if v.sig >= SQRT_2 {
        (v.exp + 1, Wide { exp: -1, ..v })
    } else {
        (v.exp, Wide { exp: 0, ..v })
    };
    Wide::from_int(e) + ln_ratio((m - Wide::ONE) / (m + Wide::ONE)) * LOG2_E
}

/// `log2(1 + x)` for `x > -1`; near 1 as `ln_ratio(x / (2 + x))`, which keeps the relative
/// precision of a tiny `x`.
pub(super) fn log2_1p(x: Wide) -> Wide {
    let v = Wide::ONE + x;
    if near_one(v) {
        ln_ratio(x / (Wide::int(2, 0) + x)) * LOG2_E
    } else {
        log2(v)
    }
}

/// The constants, recomputed from series that share nothing with the functions above.
#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `a` is within `2^-bits` of `b`, relatively.
    fn close(a: Wide, b: Wide, bits: i32) -> bool {
        let d = a - b;
        d.is_zero() || d.exp <= b.exp - bits
    }

    /// `atan x` by Euler's series, `sum (2n)!! / (2n+1)!! x^(2n+1) / (1 + x^2)^(n+1)`,
    /// whose terms shrink by `x^2 / (1 + x^2)`, at most 1/2, for `|x| <= 1`.
    fn atan_euler(x: Wide) -> Wide {
        let q = Wide::ONE + x * x;
        let ratio = x * x / q;
        let mut term = x / q;
        let mut sum = term;
        for n in 1..=200 {
            term = term * ratio * Wide::int(2 * n, 0) / (2 * n as u64 + 1);
            sum = sum + term;
        }
        sum
    }

    #[test]
    fn pi_66_is_pi_rounded_to_66_bits() {
        // Machin's formula: pi = 16 atan(1/5) - 4 atan(1/239).
        let pi = (atan_euler(Wide::ONE / 5) - atan_euler(Wide::ONE / 239).scale(-2)).scale(4);
        assert!(close(ATAN_EIGHTHS[7], pi.scale(-2), 122));
        // 66 significant bits (68 bits with two trailing zeros), and below pi by between
        // 2^-68 and 2^-67, well within half a unit in their last place (2^-65).
        assert_eq!(
            (128 - PI_66.leading_zeros(), PI_66.trailing_zeros()),
            (68, 2)
        );
        let below = pi - Wide::int(PI_66, -66);
        assert!(!below.neg && below.exp == -68, "P = pi - {below:?}");
    }

    #[test]
    fn logarithmic_constants() {
        // ln 2 = sum 1 / (k 2^k).
        let ln2 = (1..=140).fold(Wide::ZERO, |s, k| s + Wide::ONE.scale(-k) / k as u64);
        assert!(close(LN_2, ln2, 122));
        assert!(close(LOG2_E, Wide::ONE / ln2, 122));
        let sqrt2 = Wide::constant(0, SQRT_2);
        assert!(close(sqrt2 * sqrt2, Wide::int(2, 0), 125));
    }

    #[test]
    fn atan_table() {
        for (k, &c) in (1..).zip(&ATAN_EIGHTHS) {
            assert!(close(c, atan_euler(Wide::int(k, -3)), 122), "atan({k}/8)");
        }
    }
}
