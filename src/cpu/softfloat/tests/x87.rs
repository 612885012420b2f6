//! x87 operations against the host FPU.

use super::super::{F80, Flags, Precision, Relation, Remainder, Rounding, X87Result};
use super::rng::Rng;
use super::{Check, host, random_cases};

const ROUNDINGS: [Rounding; 4] = [
    Rounding::Nearest,
    Rounding::Down,
    Rounding::Up,
    Rounding::Zero,
];
const PRECISIONS: [Precision; 3] = [Precision::Single, Precision::Double, Precision::Extended];

fn f80(sign_exp: u16, mantissa: u64) -> F80 {
    F80 { sign_exp, mantissa }
}

/// Hand-picked values, each with both signs.
pub fn edge_values() -> Vec<F80> {
    let positive = [
        f80(0, 0),
        f80(0, 1),                     // smallest denormal
        f80(0, 0x7FFF_FFFF_FFFF_FFFF), // largest denormal
        f80(0, 0x4000_0000_0000_0000),
        f80(0, 0x8000_0000_0000_0000), // pseudo-denormals
        f80(0, 0xFFFF_FFFF_FFFF_FFFF),
        f80(1, 0x8000_0000_0000_0000), // smallest normal
        f80(1, 0xFFFF_FFFF_FFFF_FFFF),
        f80(2, 0x8000_0000_0000_0001),
        f80(0x3FFF, 0x8000_0000_0000_0000), // 1
        f80(0x3FFF, 0xC000_0000_0000_0000), // 1.5
        f80(0x3FFF, 0x8000_0080_0000_0000), // 1 + 2^-24: halfway at 24 bits
        f80(0x3FFF, 0x8000_0180_0000_0000),
        f80(0x3FFF, 0x8000_0000_0000_0400), // 1 + 2^-53: halfway at 53 bits
        f80(0x3FFF, 0x8000_0000_0000_0001),
        f80(0x3FFF, 0xFFFF_FF80_0000_0000), // rounds up across the binade at 24 bits
        f80(0x3FFF, 0xFFFF_FFFF_FFFF_FC00), // ... at 53 bits
        f80(0x3FFF, 0xFFFF_FFFF_FFFF_FFFF),
        f80(0x4000, 0xAAAA_AAAA_AAAA_AAAB),
        f80(0x3FFE, 0xB504_F333_F9DE_6484),
        f80(0x7FFE, 0xFFFF_FFFF_FFFF_FFFF), // largest finite
        f80(0x7FFE, 0xFFFF_FF00_0000_0000), // largest at 24 bits
        f80(0x7FFE, 0xFFFF_FFFF_FFFF_F800), // largest at 53 bits
        f80(0x7FFE, 0x8000_0000_0000_0000),
        f80(0x7FFF, 0x8000_0000_0000_0000), // infinity
        f80(0x7FFF, 0xC000_0000_0000_0000), // QNaNs
        f80(0x7FFF, 0xC000_0000_0000_0001),
        f80(0x7FFF, 0xE123_4567_89AB_CDEF),
        f80(0x7FFF, 0x8000_0000_0000_0001), // SNaNs
        f80(0x7FFF, 0xA000_0000_0000_0000),
        f80(0x7FFF, 0x0000_0000_0000_0000), // pseudo-infinity
        f80(0x7FFF, 0x4000_0000_0000_0000), // pseudo-NaNs
        f80(0x7FFF, 0x0000_0000_0000_0001),
        f80(0x3FFF, 0x4000_0000_0000_0000), // unnormals
        f80(0x0001, 0x0000_0000_0000_0000),
        f80(0x403E, 0x8000_0000_0000_0000), // 2^63
        f80(0x3FFE, 0x8000_0000_0000_0000), // 0.5
        f80(0x3FC0, 0x8000_0000_0000_0000), // 2^-63
        f80(0x3F80, 0xC000_0000_0000_0000),
        f80(0x4040, 0xC000_0000_0000_0000),
    ];
    positive.iter().flat_map(|&x| [x, x.chs()]).collect()
}

/// Every rounding mode and precision, with the host control word.
fn controls() -> impl Iterator<Item = (Rounding, Precision, u16)> {
    ROUNDINGS.into_iter().flat_map(|rc| {
        PRECISIONS
            .into_iter()
            .map(move |pc| (rc, pc, host::control_word(rc as u32, pc as u32)))
    })
}

/// The host's result in the library's terms.
fn host_result<T>(value: T, sw: u16) -> X87Result<T> {
    X87Result {
        value,
        flags: Flags(sw as u8 & 0x3F),
        c1: sw & 1 << 9 != 0,
    }
}

/// Edge pairs plus random pairs.
fn pairs(seed: u64) -> Vec<(F80, F80)> {
    let edges = edge_values();
    let mut v: Vec<(F80, F80)> = edges
        .iter()
        .flat_map(|&a| edges.iter().map(move |&b| (a, b)))
        .collect();
    let mut rng = Rng::new(seed);
    v.extend((0..random_cases()).map(|_| {
        let a = rng.f80();
        (a, rng.f80_near(a))
    }));
    v
}

type HostOp = fn(F80, F80, u16) -> (F80, F80, u16);

fn binary(
    name: &'static str,
    seed: u64,
    soft: fn(F80, F80, Rounding, Precision) -> X87Result,
    host: HostOp,
) {
    let mut check = Check::new(name);
    let pairs = pairs(seed);
    for (rc, pc, cw) in controls() {
        for &(a, b) in &pairs {
            let (r, _, sw) = host(a, b, cw);
            check.eq(soft(a, b, rc, pc), host_result(r, sw), || {
                format!("{a:?} {b:?} {rc:?} {pc:?}")
            });
        }
    }
}

#[test]
fn add() {
    binary("fadd", 1, F80::add, host::fadd);
}

#[test]
fn sub() {
    binary("fsub", 2, F80::sub, host::fsub);
}

#[test]
fn mul() {
    binary("fmul", 3, F80::mul, host::fmul);
}

#[test]
fn div() {
    binary("fdiv", 4, F80::div, host::fdiv);
}

/// Quotients exactly halfway between two 24- or 53-bit values: `a = b * q` with `q`
/// odd and one bit wider than the precision.
#[test]
fn div_halfway() {
    let mut check = Check::new("fdiv halfway");
    let mut rng = Rng::new(18);
    for _ in 0..random_cases() {
        let pc = if rng.chance(2) {
            Precision::Single
        } else {
            Precision::Double
        };
        let q = (rng.next() >> (63 - pc.bits())) | 1 << pc.bits() | 1;
        let b = (rng.next() >> (pc.bits() + 1)) | 1;
        let Some(a) = q.checked_mul(b) else { continue };
        let (sign, shift) = (rng.next() as u16 & 0x8000, rng.below(64) as u16);
        let f80 = |v: u64, sign_exp: u16| F80 {
            sign_exp,
            mantissa: v << v.leading_zeros(),
        };
        let (a, b) = (f80(a, sign | (0x3FFF + shift)), f80(b, 0x3FFF));
        for rc in ROUNDINGS {
            let (r, _, sw) = host::fdiv(a, b, host::control_word(rc as u32, pc as u32));
            check.eq(F80::div(a, b, rc, pc), host_result(r, sw), || {
                format!("{a:?} {b:?} {rc:?} {pc:?}")
            });
        }
    }
}

#[test]
fn sqrt() {
    binary("fsqrt", 5, |a, _, rc, pc| a.sqrt(rc, pc), host::fsqrt);
}

#[test]
fn compare() {
    let mut check = Check::new("fcom/fucom");
    for (a, b) in pairs(6) {
        for signaling in [true, false] {
            let host = if signaling { host::fcom } else { host::fucom };
            let (_, _, sw) = host(a, b, host::control_word(0, 3));
            let relation = match (sw >> 14 & 1, sw >> 10 & 1, sw >> 8 & 1) {
                (0, 0, 0) => Relation::Greater,
                (0, 0, 1) => Relation::Less,
                (1, 0, 0) => Relation::Equal,
                _ => Relation::Unordered,
            };
            check.eq(
                F80::compare(a, b, signaling),
                (relation, Flags(sw as u8 & 0x3F)),
                || format!("{a:?} {b:?} signaling={signaling}"),
            );
        }
    }
}

/// Operands for unary operations: edge values and random ones.
fn singles(seed: u64) -> Vec<F80> {
    let mut rng = Rng::new(seed);
    let mut v = edge_values();
    v.extend((0..random_cases() * 4).map(|_| rng.f80()));
    v
}

#[test]
fn classify_abs_chs() {
    let mut check = Check::new("fxam/fabs/fchs");
    for a in singles(7) {
        let (_, _, sw) = host::fxam(a, F80::ZERO, host::control_word(0, 3));
        let soft = (a.classify().status_bits(), a.sign());
        check.eq(soft, (sw & 0x4500, sw & 1 << 9 != 0), || {
            format!("fxam {a:?}")
        });
        for (soft, host) in [(a.abs(), host::fabs as HostOp), (a.chs(), host::fchs)] {
            let (r, _, sw) = host(a, F80::ZERO, host::control_word(0, 3));
            check.eq(X87Result::exact(soft), host_result(r, sw), || {
                format!("fabs/fchs {a:?}")
            });
        }
    }
}

#[test]
fn round_to_integer() {
    let mut check = Check::new("frndint");
    for a in singles(8) {
        for (rc, pc, cw) in controls() {
            let (r, _, sw) = host::frndint(a, F80::ZERO, cw);
            check.eq(a.round_to_integer(rc), host_result(r, sw), || {
                format!("{a:?} {rc:?} {pc:?}")
            });
        }
    }
}

#[test]
fn store_f32_f64() {
    let mut check = Check::new("fst m32/m64");
    for a in singles(9) {
        for rc in ROUNDINGS {
            let cw = host::control_word(rc as u32, 3);
            let (out, sw) = host::fst_m32(&a.to_le_bytes(), cw);
            let value = u32::from_le_bytes(out[..4].try_into().unwrap());
            check.eq(a.to_f32(rc), host_result(value, sw), || {
                format!("m32 {a:?} {rc:?}")
            });
            let (out, sw) = host::fst_m64(&a.to_le_bytes(), cw);
            let value = u64::from_le_bytes(out[..8].try_into().unwrap());
            check.eq(a.to_f64(rc), host_result(value, sw), || {
                format!("m64 {a:?} {rc:?}")
            });
        }
    }
}

#[test]
fn load_f32_f64() {
    let mut check = Check::new("fld m32/m64");
    let mut rng = Rng::new(10);
    let cw = host::control_word(0, 3);
    for _ in 0..random_cases() * 8 {
        let (b32, b64) = (rng.f32(), rng.f64());
        let (out, sw) = host::fld_m32(&b32.to_le_bytes(), cw);
        check.eq(
            F80::from_f32(b32),
            host_result(F80::from_le_bytes(out), sw),
            || format!("m32 {b32:08X}"),
        );
        let (out, sw) = host::fld_m64(&b64.to_le_bytes(), cw);
        check.eq(
            F80::from_f64(b64),
            host_result(F80::from_le_bytes(out), sw),
            || format!("m64 {b64:016X}"),
        );
    }
}

#[test]
fn integers() {
    let mut check = Check::new("fild/fist");
    let mut rng = Rng::new(11);
    let cw = host::control_word(0, 3);
    for _ in 0..random_cases() * 4 {
        let v = rng.next() >> rng.below(64);
        let v = if rng.chance(2) { v.wrapping_neg() } else { v };
        let loads = [
            (
                v as i16 as i64,
                host::fild_m16(&(v as i16).to_le_bytes(), cw),
            ),
            (
                v as i32 as i64,
                host::fild_m32(&(v as i32).to_le_bytes(), cw),
            ),
            (v as i64, host::fild_m64(&v.to_le_bytes(), cw)),
        ];
        for (v, (out, sw)) in loads {
            let host = host_result(F80::from_le_bytes(out), sw);
            check.eq(X87Result::exact(F80::from_i64(v)), host, || {
                format!("fild {v:X}")
            });
        }
    }
    for a in singles(12)
        .into_iter()
        .chain((0..random_cases() * 4).map(|_| rng.f80_integral()))
    {
        for rc in ROUNDINGS {
            let cw = host::control_word(rc as u32, 3);
            let bytes = a.to_le_bytes();
            let ((o16, s16), (o32, s32), (o64, s64)) = (
                host::fist_m16(&bytes, cw),
                host::fist_m32(&bytes, cw),
                host::fist_m64(&bytes, cw),
            );
            let v16 = i16::from_le_bytes([o16[0], o16[1]]);
            let v32 = i32::from_le_bytes(o32[..4].try_into().unwrap());
            let v64 = i64::from_le_bytes(o64[..8].try_into().unwrap());
            let input = || format!("{a:?} {rc:?}");
            check.eq(a.to_i16(rc), host_result(v16, s16), input);
            check.eq(a.to_i32(rc), host_result(v32, s32), input);
            check.eq(a.to_i64(rc), host_result(v64, s64), input);
        }
    }
}

#[test]
fn scale() {
    let mut check = Check::new("fscale");
    let mut rng = Rng::new(13);
    let mut cases = pairs(14);
    cases.extend((0..random_cases()).map(|_| (rng.f80(), rng.f80_integral())));
    cases.extend(
        (0..random_cases()).map(|_| (rng.f80(), F80::from_i64(rng.below(70_000) as i64 - 35_000))),
    );
    for (rc, pc, cw) in controls() {
        for &(a, b) in &cases {
            let (r, _, sw) = host::fscale(a, b, cw);
            check.eq(F80::scale(a, b, rc), host_result(r, sw), || {
                format!("{a:?} {b:?} {rc:?} {pc:?}")
            });
        }
    }
}

#[test]
fn extract() {
    let mut check = Check::new("fxtract");
    for a in singles(15) {
        let (significand, exponent, sw) = host::fxtract(a, F80::ZERO, host::control_word(0, 3));
        check.eq(
            a.extract(),
            host_result((exponent, significand), sw),
            || format!("{a:?}"),
        );
    }
}

#[test]
fn partial_remainder() {
    let mut check = Check::new("fprem/fprem1");
    let mut rng = Rng::new(16);
    let mut cases = pairs(17);
    cases.extend((0..random_cases() * 2).map(|_| {
        let b = rng.f80();
        let e = (b.biased_exp() as i32 + rng.below(200) as i32 - 30).clamp(0, 0x7FFE);
        (
            F80 {
                sign_exp: (rng.next() as u16 & 0x8000) | e as u16,
                ..rng.f80()
            },
            b,
        )
    }));
    let cw = host::control_word(0, 3);
    for (a, b) in cases {
        for (nearest, host) in [(false, host::fprem as HostOp), (true, host::fprem1)] {
            let (r, _, sw) = host(a, b, cw);
            let quotient = ((sw >> 8 & 1) << 2 | (sw >> 14 & 1) << 1 | (sw >> 9 & 1)) as u8;
            let expect = Remainder {
                value: r,
                flags: Flags(sw as u8 & 0x3F),
                quotient,
                incomplete: sw & 1 << 10 != 0,
            };
            let soft = if nearest {
                F80::prem1(a, b)
            } else {
                F80::prem(a, b)
            };
            check.eq(soft, expect, || format!("{a:?} {b:?} nearest={nearest}"));
        }
    }
}
