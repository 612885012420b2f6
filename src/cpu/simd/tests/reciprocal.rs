//! The approximations legitimately differ from the host's in their low bits, so against the host
//! we compare special results bit for bit and hold both to Intel's accuracy bound.

use core::arch::asm;

use super::super::Xmm;
use super::super::reciprocal::*;
use super::Rng;
use super::sse_move::{from_m128, to_m128};

/// Intel's bound on |relative error| for both instructions.
const BOUND: f64 = 1.5 / 4096.0;

const FRACTION: u32 = 0x007F_FFFF;

/// Magnitudes (as bits) strictly between these may or may not give a tiny, flushed RCP result.
const RCP_NEVER_TINY: u32 = 0x7E7F_E800;
const RCP_ALWAYS_TINY: u32 = 0x7E80_0C01;

fn value(bits: u32) -> f64 {
    f64::from(f32::from_bits(bits))
}

/// Relative error of `r` as 1/x; exact, since a product of two floats fits an f64.
fn rcp_error(x: u32, r: u32) -> f64 {
    (value(r) * value(x) - 1.0).abs()
}

/// Relative error of `r` as 1/sqrt(x), to within f64 rounding (about 2^-52, far below the margin).
fn rsqrt_error(x: u32, r: u32) -> f64 {
    (value(r) * value(x).sqrt() - 1.0).abs()
}

fn is_finite_nonzero(bits: u32) -> bool {
    bits & 0x7F80_0000 != 0x7F80_0000 && bits & 0x7FFF_FFFF != 0
}

fn is_normal(bits: u32) -> bool {
    f32::from_bits(bits).is_normal()
}

/// The greatest error over every significand of the binade with biased exponent `exponent`.
fn max_error(op: fn(u32) -> u32, error: fn(u32, u32) -> f64, exponent: u32) -> f64 {
    (0..=FRACTION)
        .map(|f| {
            let x = exponent << 23 | f;
            let r = op(x);
            assert!(is_normal(r), "{x:#010x} -> {r:#010x}");
            error(x, r)
        })
        .fold(0.0, f64::max)
}

#[test]
fn rcp_accuracy_over_every_significand() {
    let max = max_error(rcpss, rcp_error, 127);
    assert!(
        max <= BOUND,
        "max relative error {max:e} = {} * 2^-12",
        max * 4096.0
    );
}

#[test]
fn rsqrt_accuracy_over_every_significand() {
    // Both exponent parities, as they use different halves of the table.
    for exponent in [127, 128] {
        let max = max_error(rsqrtss, rsqrt_error, exponent);
        assert!(
            max <= BOUND,
            "max relative error {max:e} = {} * 2^-12",
            max * 4096.0
        );
    }
}

/// Other binades give the same significands scaled by a power of two, so the same errors.
#[test]
fn exponent_scales_the_measured_binade() {
    let mut rng = Rng::new();
    for _ in 0..4096 {
        let sign = rng.next() as u32 & 0x8000_0000;
        let f = rng.next() as u32 & FRACTION;
        let one = rcpss(0x3F80_0000 | f);
        for exponent in 1..=252 {
            let r = rcpss(sign | exponent << 23 | f);
            assert_eq!(
                r,
                sign | (253 - exponent) << 23 | one & FRACTION,
                "rcp({exponent}, {f:#x})"
            );
        }
        let even = rsqrtss(0x3F80_0000 | f);
        let odd = rsqrtss(0x4000_0000 | f);
        for exponent in 1..=254 {
            let r = rsqrtss(exponent << 23 | f);
            let reference = if exponent % 2 == 1 { even } else { odd };
            let scale = (exponent as i32 - 127).div_euclid(2);
            assert_eq!(
                f64::from(f32::from_bits(r)) * 2f64.powi(scale),
                f64::from(f32::from_bits(reference)),
                "rsqrt({exponent}, {f:#x})"
            );
        }
    }
}

/// `$insn` on the host, packed and scalar; the scalar form must keep the upper lanes.
macro_rules! host {
    ($packed:literal, $scalar:literal) => {{
        fn host(a: Xmm) -> (Xmm, Xmm) {
            let packed;
            let mut scalar = to_m128([a[1], a[2], a[3], a[0]]);
            // SAFETY: register-only instructions.
            unsafe {
                asm!(
                    concat!($packed, " {p}, {a}"),
                    concat!($scalar, " {s}, {a}"),
                    a = in(xmm_reg) to_m128(a),
                    p = out(xmm_reg) packed,
                    s = inout(xmm_reg) scalar,
                    options(pure, nomem, nostack, preserves_flags),
                );
            }
            (from_m128(packed), from_m128(scalar))
        }
        host
    }};
}

/// Inputs where the result is fully specified: zeros, denormals, infinities, NaNs, negatives,
/// the ends of the normal range and the documented RCP flush thresholds.
fn special_inputs() -> Vec<u32> {
    let magnitudes = [
        0,
        1,
        0x0000_1234,
        FRACTION,
        0x0080_0000,
        0x0080_0001,
        0x3F80_0000,
        0x7F7F_FFFF,
        0x7F80_0000,
        0x7F80_0001,
        0x7FBF_FFFF,
        0x7FC0_0000,
        0x7FC1_2345,
        0x7FFF_FFFF,
        RCP_NEVER_TINY,
        RCP_NEVER_TINY - 1,
        RCP_ALWAYS_TINY,
        RCP_ALWAYS_TINY + 1,
        0x7F00_0000,
    ];
    magnitudes
        .iter()
        .flat_map(|&m| [m, m | 0x8000_0000])
        .collect()
}

/// Random bit patterns over the whole range, a quarter of them denormal or NaN.
fn random_inputs() -> impl Iterator<Item = u32> {
    let mut rng = Rng::new();
    (0..1 << 18).map(move |_| {
        let x = rng.next() as u32;
        match x % 8 {
            0 => x & 0x807F_FFFF,
            1 => x | 0x7F80_0000,
            _ => x,
        }
    })
}

/// Checks ours against the host on `inputs`: bit-exact where the host's result is zero, infinite
/// or NaN, otherwise both normal, of the same sign and within the bound. `undefined` marks inputs
/// whose result class Intel leaves to the implementation.
fn check_against_host(
    name: &str,
    ours: fn(Xmm) -> Xmm,
    host: fn(Xmm) -> (Xmm, Xmm),
    error: fn(u32, u32) -> f64,
    undefined: fn(u32) -> bool,
    inputs: impl Iterator<Item = u32>,
) {
    let inputs: Vec<u32> = inputs.collect();
    for chunk in inputs.chunks(4) {
        let a: Xmm = core::array::from_fn(|i| chunk.get(i).copied().unwrap_or_default());
        let (packed, scalar) = host(a);
        assert_eq!(
            scalar,
            [packed[0], a[2], a[3], a[0]],
            "{name}ss vs {name}ps on {a:x?}"
        );
        for ((&x, &h), &r) in a.iter().zip(&packed).zip(&ours(a)) {
            if undefined(x) {
                continue;
            }
            if is_finite_nonzero(h) {
                assert!(
                    is_normal(h) && h >> 31 == r >> 31,
                    "{name}({x:#010x}): host {h:#010x}"
                );
                assert!(
                    is_normal(r),
                    "{name}({x:#010x}) = {r:#010x}, host {h:#010x}"
                );
                assert!(error(x, h) <= BOUND, "host {name}({x:#010x}) = {h:#010x}");
                assert!(error(x, r) <= BOUND, "{name}({x:#010x}) = {r:#010x}");
            } else {
                assert_eq!(r, h, "{name}({x:#010x})");
            }
        }
    }
}

#[test]
fn rcp_special_cases_and_random_inputs_match_host() {
    check_against_host(
        "rcp",
        rcpps,
        host!("rcpps", "rcpss"),
        rcp_error,
        |x| (RCP_NEVER_TINY + 1..RCP_ALWAYS_TINY).contains(&(x & 0x7FFF_FFFF)),
        special_inputs().into_iter().chain(random_inputs()),
    );
}

#[test]
fn rsqrt_special_cases_and_random_inputs_match_host() {
    check_against_host(
        "rsqrt",
        rsqrtps,
        host!("rsqrtps", "rsqrtss"),
        rsqrt_error,
        |_| false,
        special_inputs().into_iter().chain(random_inputs()),
    );
}
