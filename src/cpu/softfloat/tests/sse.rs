//! SSE operations against the host's SSE unit.

use super::super::sse::{self, CmpPredicate, SseControl};
use super::super::{Flags, Relation, Rounding};
use super::rng::Rng;
use super::{Check, host, random_cases};

/// Hand-picked singles, each with both signs.
fn edge_values() -> Vec<u32> {
    let positive = [
        0x0000_0000, // zero
        0x0000_0001, // smallest denormal
        0x0040_0000,
        0x007F_FFFF, // largest denormal
        0x0080_0000, // smallest normal
        0x0080_0001,
        0x00FF_FFFF,
        0x3F80_0000, // 1
        0x3F80_0001,
        0x3FFF_FFFF,
        0x3FC0_0000, // 1.5
        0x3F00_0000, // 0.5
        0x4020_0000, // 2.5
        0x3400_0000, // 2^-23
        0x3380_0000, // 2^-24
        0x4B00_0000, // 2^23
        0x4EFF_FFFF,
        0x4F00_0000, // 2^31
        0x7F00_0000,
        0x7F7F_FFFF, // largest finite
        0x7F80_0000, // infinity
        0x7FC0_0000, // QNaNs
        0x7FC0_0001,
        0x7FFF_FFFF,
        0x7F80_0001, // SNaNs
        0x7FA0_0000,
    ];
    positive.iter().flat_map(|&x| [x, x | 1 << 31]).collect()
}

/// Every rounding mode, with and without flush-to-zero.
fn controls() -> impl Iterator<Item = (SseControl, u32)> {
    [
        Rounding::Nearest,
        Rounding::Down,
        Rounding::Up,
        Rounding::Zero,
    ]
    .into_iter()
    .flat_map(|rounding| {
        [false, true].map(|ftz| {
            (
                SseControl { rounding, ftz },
                host::mxcsr(rounding as u32, ftz),
            )
        })
    })
}

fn pairs(seed: u64) -> Vec<(u32, u32)> {
    let edges = edge_values();
    let mut v: Vec<(u32, u32)> = edges
        .iter()
        .flat_map(|&a| edges.iter().map(move |&b| (a, b)))
        .collect();
    let mut rng = Rng::new(seed);
    v.extend((0..random_cases()).map(|_| {
        let a = rng.f32();
        (a, rng.f32_near(a))
    }));
    v
}

type HostOp = fn(u64, u64, u32) -> (u64, u8, u32);

fn binary(
    name: &'static str,
    seed: u64,
    soft: fn(u32, u32, SseControl) -> (u32, Flags),
    host: HostOp,
) {
    let mut check = Check::new(name);
    let pairs = pairs(seed);
    for (ctl, csr) in controls() {
        for &(a, b) in &pairs {
            let (r, _, f) = host(a.into(), b.into(), csr);
            check.eq(soft(a, b, ctl), (r as u32, Flags(f as u8)), || {
                format!("{a:08X} {b:08X} {ctl:?}")
            });
        }
    }
}

#[test]
fn add() {
    binary("addss", 21, sse::f32_add, host::addss);
}

#[test]
fn sub() {
    binary("subss", 22, sse::f32_sub, host::subss);
}

#[test]
fn mul() {
    binary("mulss", 23, sse::f32_mul, host::mulss);
}

#[test]
fn div() {
    binary("divss", 24, sse::f32_div, host::divss);
}

#[test]
fn sqrt() {
    binary(
        "sqrtss",
        25,
        |_, b, ctl| sse::f32_sqrt(b, ctl),
        host::sqrtss,
    );
}

#[test]
fn min_max() {
    binary("minss", 26, |a, b, _| sse::f32_min(a, b), host::minss);
    binary("maxss", 27, |a, b, _| sse::f32_max(a, b), host::maxss);
}

#[test]
fn compare() {
    let mut check = Check::new("cmpss/comiss/ucomiss");
    let hosts: [HostOp; 8] = [
        host::cmpss0,
        host::cmpss1,
        host::cmpss2,
        host::cmpss3,
        host::cmpss4,
        host::cmpss5,
        host::cmpss6,
        host::cmpss7,
    ];
    let csr = host::mxcsr(0, false);
    for (a, b) in pairs(28) {
        for (pred, host) in CmpPredicate::ALL.into_iter().zip(hosts) {
            let (r, _, f) = host(a.into(), b.into(), csr);
            let expect = match r as u32 {
                0 => false,
                u32::MAX => true,
                other => panic!("cmpss mask {other:08X}"),
            };
            check.eq(
                sse::f32_compare(a, b, pred),
                (expect, Flags(f as u8)),
                || format!("{a:08X} {b:08X} {pred:?}"),
            );
        }
        for (signaling, host) in [(true, host::comiss as HostOp), (false, host::ucomiss)] {
            let (_, zpc, f) = host(a.into(), b.into(), csr);
            let relation = match zpc {
                0b000 => Relation::Greater,
                0b100 => Relation::Less,
                0b001 => Relation::Equal,
                _ => Relation::Unordered,
            };
            check.eq(
                sse::f32_comi(a, b, signaling),
                (relation, Flags(f as u8)),
                || format!("{a:08X} {b:08X} comi signaling={signaling}"),
            );
        }
    }
}

#[test]
fn integer_conversions() {
    let mut check = Check::new("cvtsi2ss/cvtss2si/cvttss2si");
    let mut rng = Rng::new(29);
    let ints: Vec<u32> = (0..random_cases() * 2)
        .map(|_| {
            let v = (rng.next() >> rng.below(64)) as u32;
            if rng.chance(2) { v.wrapping_neg() } else { v }
        })
        .collect();
    let floats: Vec<u32> = edge_values()
        .into_iter()
        .chain((0..random_cases() * 2).map(|_| rng.f32_integral()))
        .collect();
    for v in ints
        .into_iter()
        .chain([0, 1, i32::MIN as u32, i32::MAX as u32])
    {
        for (ctl, csr) in controls() {
            let (r, _, f) = host::cvtsi2ss(0, v.into(), csr);
            check.eq(
                sse::f32_from_i32(v as i32, ctl),
                (r as u32, Flags(f as u8)),
                || format!("cvtsi2ss {v:08X} {ctl:?}"),
            );
        }
    }
    for &a in &floats {
        for (ctl, csr) in controls() {
            let (r, _, f) = host::cvtss2si(0, a.into(), csr);
            check.eq(sse::f32_to_i32(a, ctl), (r as i32, Flags(f as u8)), || {
                format!("cvtss2si {a:08X} {ctl:?}")
            });
            let (r, _, f) = host::cvttss2si(0, a.into(), csr);
            check.eq(sse::f32_to_i32_trunc(a), (r as i32, Flags(f as u8)), || {
                format!("cvttss2si {a:08X} {ctl:?}")
            });
        }
    }
}

#[test]
fn float_conversions() {
    let mut check = Check::new("cvtss2sd/cvtsd2ss");
    let mut rng = Rng::new(30);
    for _ in 0..random_cases() * 2 {
        let (a, d) = (rng.f32(), rng.f64_single_range());
        for (ctl, csr) in controls() {
            let (r, _, f) = host::cvtss2sd(0, a.into(), csr);
            check.eq(sse::f32_to_f64(a), (r, Flags(f as u8)), || {
                format!("cvtss2sd {a:08X}")
            });
            let (r, _, f) = host::cvtsd2ss(0, d, csr);
            check.eq(sse::f64_to_f32(d, ctl), (r as u32, Flags(f as u8)), || {
                format!("cvtsd2ss {d:016X} {ctl:?}")
            });
        }
    }
}

#[test]
fn double_arithmetic() {
    let mut check = Check::new("addsd/subsd/mulsd/divsd/sqrtsd");
    let mut rng = Rng::new(31);
    type Soft = fn(u64, u64, SseControl) -> (u64, Flags);
    let ops: [(Soft, HostOp); 5] = [
        (sse::f64_add, host::addsd),
        (sse::f64_sub, host::subsd),
        (sse::f64_mul, host::mulsd),
        (sse::f64_div, host::divsd),
        (|_, b, ctl| sse::f64_sqrt(b, ctl), host::sqrtsd),
    ];
    for _ in 0..random_cases() {
        let a = rng.f64();
        let b = rng.f64_near(a);
        for (ctl, csr) in controls() {
            for (i, (soft, host)) in ops.iter().enumerate() {
                let (r, _, f) = host(a, b, csr);
                check.eq(soft(a, b, ctl), (r, Flags(f as u8)), || {
                    format!("op {i} {a:016X} {b:016X} {ctl:?}")
                });
            }
        }
    }
}
