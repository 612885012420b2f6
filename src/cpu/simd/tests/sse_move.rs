use core::arch::asm;
use core::arch::x86_64::__m128;

use super::super::Xmm;
use super::super::sse_move::*;
use super::{RANDOM_CASES, Rng, each_imm};

pub fn to_m128(a: Xmm) -> __m128 {
    // SAFETY: both are 16 plain bytes; lane 0 is the lowest in each.
    unsafe { core::mem::transmute::<Xmm, __m128>(a) }
}

pub fn from_m128(a: __m128) -> Xmm {
    // SAFETY: as in `to_m128`.
    unsafe { core::mem::transmute::<__m128, Xmm>(a) }
}

/// Lane values: signs, zeros, infinities, NaNs, all ones.
const EDGE_LANES: [u32; 8] = [
    0,
    0x8000_0000,
    0x7F80_0000,
    0xFF80_0000,
    0x7FC0_0000,
    0x7F80_0001,
    u32::MAX,
    1,
];

/// Pairs of XMM values whose lanes are edge values or random, seeded.
fn pairs() -> impl Iterator<Item = (Xmm, Xmm)> {
    let mut rng = Rng::new();
    let mut lane = move || {
        let r = rng.next();
        if r.is_multiple_of(2) {
            EDGE_LANES[(r >> 8) as usize % 8]
        } else {
            (r >> 32) as u32
        }
    };
    (0..RANDOM_CASES).map(move |_| ([0; 4].map(|_| lane()), [0; 4].map(|_| lane())))
}

type XmmBinary = fn(Xmm, Xmm) -> Xmm;

/// A host function running `$insn xmm_a, xmm_b` and returning the destination.
macro_rules! host {
    ($insn:literal) => {{
        fn host(a: Xmm, b: Xmm) -> Xmm {
            let mut x = to_m128(a);
            // SAFETY: register-only instruction.
            unsafe {
                asm!(
                    concat!($insn, " {x}, {y}"),
                    x = inout(xmm_reg) x,
                    y = in(xmm_reg) to_m128(b),
                    options(pure, nomem, nostack, preserves_flags),
                );
            }
            from_m128(x)
        }
        host as XmmBinary
    }};
}

#[test]
fn two_operand_forms() {
    let cases: [(&str, XmmBinary, XmmBinary); 8] = [
        ("andps", andps, host!("andps")),
        ("andnps", andnps, host!("andnps")),
        ("orps", orps, host!("orps")),
        ("xorps", xorps, host!("xorps")),
        ("unpckhps", unpckhps, host!("unpckhps")),
        ("unpcklps", unpcklps, host!("unpcklps")),
        ("movhlps", movhlps, host!("movhlps")),
        ("movlhps", movlhps, host!("movlhps")),
    ];
    for (name, ours, host) in cases {
        for (a, b) in pairs() {
            assert_eq!(ours(a, b), host(a, b), "{name}({a:x?}, {b:x?})");
        }
    }
}

#[test]
fn movmskps_matches_host() {
    for (a, _) in pairs() {
        let host: u32;
        // SAFETY: register-only instruction.
        unsafe {
            asm!(
                "movmskps {r:e}, {x}",
                x = in(xmm_reg) to_m128(a),
                r = lateout(reg) host,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        assert_eq!(movmskps(a), host, "movmskps({a:x?})");
    }
}

#[test]
fn shufps_every_immediate() {
    fn host<const IMM: u8>(a: Xmm, b: Xmm) -> Xmm {
        let mut x = to_m128(a);
        // SAFETY: register-only instruction.
        unsafe {
            asm!(
                "shufps {x}, {y}, {imm}",
                x = inout(xmm_reg) x,
                y = in(xmm_reg) to_m128(b),
                imm = const IMM,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        from_m128(x)
    }
    let host: Vec<fn(Xmm, Xmm) -> Xmm> = each_imm!(host);
    for (a, b) in pairs().take(32) {
        for (imm, host) in (0..=u8::MAX).zip(&host) {
            assert_eq!(
                shufps(a, b, imm),
                host(a, b),
                "shufps({a:x?}, {b:x?}, {imm})"
            );
        }
    }
}
