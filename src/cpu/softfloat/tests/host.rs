//! The host CPU's own x87 and SSE units, the reference the library is checked against.
//! Every x87 sequence starts from FNINIT (all exceptions masked) and ends with FNINIT so
//! that the x87 state Rust expects is restored; every SSE sequence restores MXCSR.

use super::super::F80;
use core::arch::asm;

/// x87 control word with all exceptions masked, precision `pc` and rounding `rc` (as bits).
pub fn control_word(rc: u32, pc: u32) -> u16 {
    (0x7F | pc << 8 | rc << 10) as u16
}

/// MXCSR with all exceptions masked, rounding `rc` and optionally flush-to-zero.
pub fn mxcsr(rc: u32, ftz: bool) -> u32 {
    0x1F80 | rc << 13 | (ftz as u32) << 15
}

/// Runs x87 code with ST(0) = `a` and ST(1) = `b`; returns ST(0), ST(1) and the status
/// word taken right after the instruction.
macro_rules! x87 {
    ($name:ident, $($insn:literal),+) => {
        pub fn $name(a: F80, b: F80, cw: u16) -> (F80, F80, u16) {
            let (a, b) = (a.to_le_bytes(), b.to_le_bytes());
            let (mut r0, mut r1, mut sw) = ([0u8; 10], [0u8; 10], 0u16);
            // SAFETY: only the x87 state (declared clobbered) and the locals are touched.
            unsafe {
                asm!(
                    "fninit",
                    "fldcw word ptr [{cw}]",
                    "fld tbyte ptr [{b}]",
                    "fld tbyte ptr [{a}]",
                    $($insn,)+
                    "fnstsw word ptr [{sw}]",
                    "fstp tbyte ptr [{r0}]",
                    "fstp tbyte ptr [{r1}]",
                    "fninit",
                    cw = in(reg) &cw, a = in(reg) a.as_ptr(), b = in(reg) b.as_ptr(),
                    r0 = in(reg) r0.as_mut_ptr(), r1 = in(reg) r1.as_mut_ptr(), sw = in(reg) &mut sw,
                    out("st(0)") _, out("st(1)") _, out("st(2)") _, out("st(3)") _,
                    out("st(4)") _, out("st(5)") _, out("st(6)") _, out("st(7)") _,
                    options(nostack),
                );
            }
            (F80::from_le_bytes(r0), F80::from_le_bytes(r1), sw)
        }
    };
}

x87!(fadd, "fadd st(0), st(1)");
x87!(fsub, "fsub st(0), st(1)");
x87!(fmul, "fmul st(0), st(1)");
x87!(fdiv, "fdiv st(0), st(1)");
x87!(fsqrt, "fsqrt");
x87!(fcom, "fcom st(1)");
x87!(fucom, "fucom st(1)");
x87!(fxam, "fxam");
x87!(fabs, "fabs");
x87!(fchs, "fchs");
x87!(frndint, "frndint");
x87!(fscale, "fscale");
x87!(fprem, "fprem");
x87!(fprem1, "fprem1");
// FXTRACT pushes: the significand ends in ST(0), the exponent in ST(1); the original
// ST(1) is dropped by storing the exponent over it. The shuffle leaves the flags alone
// and clears C1, which FXTRACT leaves clear anyway.
x87!(fxtract, "fxtract", "fstp st(2)", "fxch");

/// Runs x87 code on memory: `src` is the operand's bytes, the result's bytes land in a
/// 10-byte buffer; returns them with the status word.
macro_rules! x87_mem {
    ($name:ident, $($insn:literal),+) => {
        pub fn $name(src: &[u8], cw: u16) -> ([u8; 10], u16) {
            let mut buf = [0u8; 10];
            buf[..src.len()].copy_from_slice(src);
            let (mut out, mut sw) = ([0u8; 10], 0u16);
            // SAFETY: only the x87 state (declared clobbered) and the locals are touched.
            unsafe {
                asm!(
                    "fninit",
                    "fldcw word ptr [{cw}]",
                    $($insn,)+
                    "fninit",
                    cw = in(reg) &cw, src = in(reg) buf.as_ptr(), out = in(reg) out.as_mut_ptr(),
                    sw = in(reg) &mut sw,
                    out("st(0)") _, out("st(1)") _, out("st(2)") _, out("st(3)") _,
                    out("st(4)") _, out("st(5)") _, out("st(6)") _, out("st(7)") _,
                    options(nostack),
                );
            }
            (out, sw)
        }
    };
}

x87_mem!(
    fld_m32,
    "fld dword ptr [{src}]",
    "fnstsw word ptr [{sw}]",
    "fstp tbyte ptr [{out}]"
);
x87_mem!(
    fld_m64,
    "fld qword ptr [{src}]",
    "fnstsw word ptr [{sw}]",
    "fstp tbyte ptr [{out}]"
);
x87_mem!(
    fild_m16,
    "fild word ptr [{src}]",
    "fnstsw word ptr [{sw}]",
    "fstp tbyte ptr [{out}]"
);
x87_mem!(
    fild_m32,
    "fild dword ptr [{src}]",
    "fnstsw word ptr [{sw}]",
    "fstp tbyte ptr [{out}]"
);
x87_mem!(
    fild_m64,
    "fild qword ptr [{src}]",
    "fnstsw word ptr [{sw}]",
    "fstp tbyte ptr [{out}]"
);
x87_mem!(
    fst_m32,
    "fld tbyte ptr [{src}]",
    "fstp dword ptr [{out}]",
    "fnstsw word ptr [{sw}]"
);
x87_mem!(
    fst_m64,
    "fld tbyte ptr [{src}]",
    "fstp qword ptr [{out}]",
    "fnstsw word ptr [{sw}]"
);
x87_mem!(
    fist_m16,
    "fld tbyte ptr [{src}]",
    "fistp word ptr [{out}]",
    "fnstsw word ptr [{sw}]"
);
x87_mem!(
    fist_m32,
    "fld tbyte ptr [{src}]",
    "fistp dword ptr [{out}]",
    "fnstsw word ptr [{sw}]"
);
x87_mem!(
    fist_m64,
    "fld tbyte ptr [{src}]",
    "fistp qword ptr [{out}]",
    "fnstsw word ptr [{sw}]"
);

/// Runs an SSE instruction on `a` (first operand, in `{x}`) and `b` (in `{y}`) under
/// `csr`; returns the first operand's low 64 bits, the arithmetic flags (ZF, PF, CF as
/// bits 0-2, for COMISS) and the MXCSR flags.
macro_rules! sse {
    ($name:ident, $insn:literal) => {
        sse!($name, $insn, "movq {ga}, {x}");
    };
    ($name:ident, $insn:literal, $store:literal) => {
        pub fn $name(a: u64, b: u64, csr: u32) -> (u64, u8, u32) {
            let (mut x, mut csr, mut saved) = (a, csr, 0u32);
            let (z, p, c): (u8, u8, u8);
            // SAFETY: MXCSR is restored; only declared registers and locals are touched.
            unsafe {
                asm!(
                    "stmxcsr dword ptr [{saved}]",
                    "ldmxcsr dword ptr [{csr}]",
                    "movq {x}, {ga}",
                    "movq {y}, {gb}",
                    $insn,
                    "setz {z}",
                    "setp {p}",
                    "setc {c}",
                    $store,
                    "stmxcsr dword ptr [{csr}]",
                    "ldmxcsr dword ptr [{saved}]",
                    saved = in(reg) &mut saved, csr = in(reg) &mut csr,
                    ga = inout(reg) x, gb = in(reg) b,
                    x = out(xmm_reg) _, y = out(xmm_reg) _,
                    z = out(reg_byte) z, p = out(reg_byte) p, c = out(reg_byte) c,
                    options(nostack),
                );
            }
            (x, z | p << 1 | c << 2, csr & 0x3F)
        }
    };
}

sse!(addss, "addss {x}, {y}");
sse!(subss, "subss {x}, {y}");
sse!(mulss, "mulss {x}, {y}");
sse!(divss, "divss {x}, {y}");
sse!(sqrtss, "sqrtss {x}, {y}");
sse!(minss, "minss {x}, {y}");
sse!(maxss, "maxss {x}, {y}");
sse!(addsd, "addsd {x}, {y}");
sse!(subsd, "subsd {x}, {y}");
sse!(mulsd, "mulsd {x}, {y}");
sse!(divsd, "divsd {x}, {y}");
sse!(sqrtsd, "sqrtsd {x}, {y}");
sse!(cmpss0, "cmpss {x}, {y}, 0");
sse!(cmpss1, "cmpss {x}, {y}, 1");
sse!(cmpss2, "cmpss {x}, {y}, 2");
sse!(cmpss3, "cmpss {x}, {y}, 3");
sse!(cmpss4, "cmpss {x}, {y}, 4");
sse!(cmpss5, "cmpss {x}, {y}, 5");
sse!(cmpss6, "cmpss {x}, {y}, 6");
sse!(cmpss7, "cmpss {x}, {y}, 7");
sse!(comiss, "comiss {x}, {y}");
sse!(ucomiss, "ucomiss {x}, {y}");
sse!(cvtss2sd, "cvtss2sd {x}, {y}");
sse!(cvtsd2ss, "cvtsd2ss {x}, {y}");
sse!(cvtss2si, "cvtss2si {ga:e}, {y}", "nop");
sse!(cvttss2si, "cvttss2si {ga:e}, {y}", "nop");
sse!(cvtsi2ss, "cvtsi2ss {x}, {gb:e}");
