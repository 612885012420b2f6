use super::super::mmx::*;
use super::{EDGES, Rng, each_imm, mmx_asm, pairs};

/// A host function running `$insn mm0, mm1` with mm0 = a, mm1 = b and returning mm0.
macro_rules! host {
    ($insn:literal) => {{
        fn host(a: u64, b: u64) -> u64 {
            let r: u64;
            // SAFETY: registers only, all declared by `mmx_asm!`.
            unsafe {
                mmx_asm!(
                    [
                        "movq mm0, {a}",
                        "movq mm1, {b}",
                        concat!($insn, " mm0, mm1"),
                        "movq {r}, mm0",
                    ],
                    a = in(reg) a,
                    b = in(reg) b,
                    r = lateout(reg) r,
                );
            }
            r
        }
        host as fn(u64, u64) -> u64
    }};
}
pub(super) use host;

/// `$insn mm0, imm8` on the host for every imm8, as a table indexed by the immediate.
macro_rules! host_shift_imm {
    ($insn:literal) => {{
        fn host<const IMM: u8>(a: u64) -> u64 {
            let r: u64;
            // SAFETY: registers only, all declared by `mmx_asm!`.
            unsafe {
                mmx_asm!(
                    [
                        "movq mm0, {a}",
                        concat!($insn, " mm0, {imm}"),
                        "movq {r}, mm0",
                    ],
                    a = in(reg) a,
                    imm = const IMM,
                    r = lateout(reg) r,
                );
            }
            r
        }
        each_imm!(host)
    }};
}

type Binary = fn(u64, u64) -> u64;
/// Name, ours, host register form, host imm8 form for each immediate.
type Shift = (&'static str, Binary, Binary, Vec<fn(u64) -> u64>);

pub(super) fn check(cases: &[(&str, Binary, Binary)]) {
    for &(name, ours, host) in cases {
        for (a, b) in pairs() {
            assert_eq!(ours(a, b), host(a, b), "{name}({a:#018x}, {b:#018x})");
        }
    }
}

#[test]
fn add_and_subtract() {
    check(&[
        ("paddb", paddb, host!("paddb")),
        ("paddw", paddw, host!("paddw")),
        ("paddd", paddd, host!("paddd")),
        ("paddsb", paddsb, host!("paddsb")),
        ("paddsw", paddsw, host!("paddsw")),
        ("paddusb", paddusb, host!("paddusb")),
        ("paddusw", paddusw, host!("paddusw")),
        ("psubb", psubb, host!("psubb")),
        ("psubw", psubw, host!("psubw")),
        ("psubd", psubd, host!("psubd")),
        ("psubsb", psubsb, host!("psubsb")),
        ("psubsw", psubsw, host!("psubsw")),
        ("psubusb", psubusb, host!("psubusb")),
        ("psubusw", psubusw, host!("psubusw")),
    ]);
}

#[test]
fn compare() {
    check(&[
        ("pcmpeqb", pcmpeqb, host!("pcmpeqb")),
        ("pcmpeqw", pcmpeqw, host!("pcmpeqw")),
        ("pcmpeqd", pcmpeqd, host!("pcmpeqd")),
        ("pcmpgtb", pcmpgtb, host!("pcmpgtb")),
        ("pcmpgtw", pcmpgtw, host!("pcmpgtw")),
        ("pcmpgtd", pcmpgtd, host!("pcmpgtd")),
    ]);
}

#[test]
fn multiply() {
    check(&[
        ("pmullw", pmullw, host!("pmullw")),
        ("pmulhw", pmulhw, host!("pmulhw")),
        ("pmaddwd", pmaddwd, host!("pmaddwd")),
    ]);
}

#[test]
fn logic() {
    check(&[
        ("pand", pand, host!("pand")),
        ("pandn", pandn, host!("pandn")),
        ("por", por, host!("por")),
        ("pxor", pxor, host!("pxor")),
    ]);
}

#[test]
fn pack_and_unpack() {
    check(&[
        ("packsswb", packsswb, host!("packsswb")),
        ("packssdw", packssdw, host!("packssdw")),
        ("packuswb", packuswb, host!("packuswb")),
        ("punpckhbw", punpckhbw, host!("punpckhbw")),
        ("punpckhwd", punpckhwd, host!("punpckhwd")),
        ("punpckhdq", punpckhdq, host!("punpckhdq")),
        ("punpcklbw", punpcklbw, host!("punpcklbw")),
        ("punpcklwd", punpcklwd, host!("punpcklwd")),
        ("punpckldq", punpckldq, host!("punpckldq")),
    ]);
}

#[test]
fn shifts_by_register_and_immediate() {
    let shifts: [Shift; 8] = [
        ("psllw", psllw, host!("psllw"), host_shift_imm!("psllw")),
        ("pslld", pslld, host!("pslld"), host_shift_imm!("pslld")),
        ("psllq", psllq, host!("psllq"), host_shift_imm!("psllq")),
        ("psrlw", psrlw, host!("psrlw"), host_shift_imm!("psrlw")),
        ("psrld", psrld, host!("psrld"), host_shift_imm!("psrld")),
        ("psrlq", psrlq, host!("psrlq"), host_shift_imm!("psrlq")),
        ("psraw", psraw, host!("psraw"), host_shift_imm!("psraw")),
        ("psrad", psrad, host!("psrad"), host_shift_imm!("psrad")),
    ];
    // Counts whose low bits are small but whose high bits are set must still clear everything.
    let huge = [
        1 << 32,
        (1 << 32) | 5,
        1 << 63,
        (1 << 63) | 1,
        u64::MAX,
        0x100,
        0x1_0000_0010,
    ];
    let mut rng = Rng::new();
    let values: Vec<u64> = EDGES
        .into_iter()
        .chain((0..64).map(|_| rng.operand()))
        .collect();
    for (name, ours, host, host_imm) in shifts {
        for &a in &values {
            for count in (0..=300).chain(huge) {
                assert_eq!(
                    ours(a, count),
                    host(a, count),
                    "{name}({a:#018x}, count {count:#x})"
                );
            }
            for (imm, host_imm) in host_imm.iter().enumerate() {
                assert_eq!(
                    ours(a, imm as u64),
                    host_imm(a),
                    "{name}({a:#018x}, imm {imm})"
                );
            }
        }
    }
}
