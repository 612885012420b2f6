//! Single instructions run on the host with chosen input flags.

use super::{STATUS, Size};
use core::arch::asm;

/// What the host produced: the destination, a second output where the instruction has one
/// (else the unchanged source), and the status flags.
#[derive(Clone, Copy, Debug)]
pub struct Host {
    pub value: u32,
    pub extra: u32,
    pub flags: u32,
}

impl Host {
    pub fn new(size: Size, value: u64, extra: u64, flags: u64) -> Host {
        let m = u64::from(size.mask());
        Host {
            value: (value & m) as u32,
            extra: (extra & m) as u32,
            flags: flags as u32 & STATUS,
        }
    }
}

/// A two-operand instruction on the host: (size, a, b, flags).
pub type HostTwo = fn(Size, u32, u32, u32) -> Host;

/// A one-operand instruction on the host: (size, a, flags).
pub type HostOne = fn(Size, u32, u32) -> Host;

/// A one-operand multiply or divide on the host: (size, lo, hi, src, flags).
pub type HostAcc = fn(Size, u32, u32, u32, u32) -> Host;

/// Clears the status flags in the EFLAGS image on the stack.
const CLEAR: i32 = !(STATUS as i32);

/// Runs `$insn` with the status flags taken from `$f`, then stores EFLAGS back into `$f`.
macro_rules! flagged {
    ($f:ident, $insn:expr, $($operands:tt)*) => {
        // SAFETY: the instructions touch only the named registers (and memory the caller
        // passes in); the EFLAGS push and pop balance, and only status flags are changed.
        unsafe {
            asm!(
                "pushfq",
                "and qword ptr [rsp], {clear}",
                "or qword ptr [rsp], {f}",
                "popfq",
                $insn,
                "pushfq",
                "pop {f}",
                $($operands)*
                f = inout(reg) $f,
                clear = const CLEAR,
            )
        }
    };
}

/// Runs the byte, word or dword template by `$size`, with the same operands.
macro_rules! sized {
    ($size:expr, $f:ident, [$byte:expr, $word:expr, $dword:expr], $($operands:tt)*) => {
        match $size {
            Size::Byte => flagged!($f, $byte, $($operands)*),
            Size::Word => flagged!($f, $word, $($operands)*),
            Size::Dword => flagged!($f, $dword, $($operands)*),
        }
    };
}

/// `op a, b` on two registers; `extra` is `b` afterwards.
macro_rules! two {
    ($name:ident, $op:literal) => {
        pub fn $name(size: Size, a: u32, b: u32, flags: u32) -> Host {
            let (mut a, mut b, mut f) = (u64::from(a), u64::from(b), u64::from(flags));
            sized!(
                size,
                f,
                [
                    concat!($op, " {a:l}, {b:l}"),
                    concat!($op, " {a:x}, {b:x}"),
                    concat!($op, " {a:e}, {b:e}")
                ],
                a = inout(reg) a,
                b = inout(reg) b,
            );
            Host::new(size, a, b, f)
        }
    };
}

/// `op a, b` where only 16- and 32-bit forms exist.
macro_rules! two_wide {
    ($name:ident, $op:literal) => {
        pub fn $name(size: Size, a: u32, b: u32, flags: u32) -> Host {
            let (mut a, mut b, mut f) = (u64::from(a), u64::from(b), u64::from(flags));
            match size {
                Size::Byte => panic!(concat!($op, " has no 8-bit form")),
                Size::Word => {
                    flagged!(f, concat!($op, " {a:x}, {b:x}"), a = inout(reg) a, b = inout(reg) b,)
                }
                Size::Dword => {
                    flagged!(f, concat!($op, " {a:e}, {b:e}"), a = inout(reg) a, b = inout(reg) b,)
                }
            }
            Host::new(size, a, b, f)
        }
    };
}

/// `op a` on one register.
macro_rules! one {
    ($name:ident, $op:literal) => {
        pub fn $name(size: Size, a: u32, flags: u32) -> Host {
            let (mut a, mut f) = (u64::from(a), u64::from(flags));
            sized!(
                size,
                f,
                [concat!($op, " {a:l}"), concat!($op, " {a:x}"), concat!($op, " {a:e}")],
                a = inout(reg) a,
            );
            Host::new(size, a, 0, f)
        }
    };
}

/// `op a, cl`.
macro_rules! by_cl {
    ($name:ident, $op:literal) => {
        pub fn $name(size: Size, a: u32, count: u8, flags: u32) -> Host {
            let (mut a, mut f) = (u64::from(a), u64::from(flags));
            sized!(
                size,
                f,
                [
                    concat!($op, " {a:l}, cl"),
                    concat!($op, " {a:x}, cl"),
                    concat!($op, " {a:e}, cl")
                ],
                a = inout(reg) a,
                in("ecx") u32::from(count),
            );
            Host::new(size, a, 0, f)
        }
    };
}

/// `op a, b, cl` (SHLD/SHRD), which have no 8-bit form.
macro_rules! double_by_cl {
    ($name:ident, $op:literal) => {
        pub fn $name(size: Size, a: u32, b: u32, count: u8, flags: u32) -> Host {
            let (mut a, b, mut f) = (u64::from(a), u64::from(b), u64::from(flags));
            let wide = size == Size::Dword;
            assert!(wide || size == Size::Word, concat!($op, " has no 8-bit form"));
            let count = u32::from(count);
            if wide {
                flagged!(
                    f,
                    concat!($op, " {a:e}, {b:e}, cl"),
                    a = inout(reg) a,
                    b = in(reg) b,
                    in("ecx") count,
                );
            } else {
                flagged!(
                    f,
                    concat!($op, " {a:x}, {b:x}, cl"),
                    a = inout(reg) a,
                    b = in(reg) b,
                    in("ecx") count,
                );
            }
            Host::new(size, a, b, f)
        }
    };
}

/// One-operand multiply or divide on the accumulator pair: `value` is AL/AX/EAX, `extra`
/// AH/DX/EDX. The caller must rule out #DE.
macro_rules! accumulator {
    ($name:ident, $op:literal) => {
        pub fn $name(size: Size, lo: u32, hi: u32, src: u32, flags: u32) -> Host {
            let (mut f, s) = (u64::from(flags), u64::from(src));
            let mut ax = u64::from(lo & size.mask());
            let mut dx = u64::from(hi & size.mask());
            match size {
                Size::Byte => {
                    ax |= dx << 8;
                    flagged!(f, concat!($op, " {s:l}"), s = in(reg) s, inout("rax") ax,);
                    dx = ax >> 8;
                }
                Size::Word => {
                    flagged!(
                        f,
                        concat!($op, " {s:x}"),
                        s = in(reg) s,
                        inout("rax") ax,
                        inout("rdx") dx,
                    );
                }
                Size::Dword => {
                    flagged!(
                        f,
                        concat!($op, " {s:e}"),
                        s = in(reg) s,
                        inout("rax") ax,
                        inout("rdx") dx,
                    );
                }
            }
            Host::new(size, ax, dx, f)
        }
    };
}

two!(add, "add");
two!(adc, "adc");
two!(sub, "sub");
two!(sbb, "sbb");
two!(cmp, "cmp");
two!(and, "and");
two!(or, "or");
two!(xor, "xor");
two!(test, "test");
two!(xadd, "xadd");
two_wide!(imul2, "imul");
two_wide!(bsf, "bsf");
two_wide!(bsr, "bsr");
two_wide!(bt, "bt");
two_wide!(bts, "bts");
two_wide!(btr, "btr");
two_wide!(btc, "btc");
one!(inc, "inc");
one!(dec, "dec");
one!(neg, "neg");
one!(not, "not");
by_cl!(shl, "shl");
by_cl!(shr, "shr");
by_cl!(sar, "sar");
by_cl!(rol, "rol");
by_cl!(ror, "ror");
by_cl!(rcl, "rcl");
by_cl!(rcr, "rcr");
double_by_cl!(shld, "shld");
double_by_cl!(shrd, "shrd");
accumulator!(mul, "mul");
accumulator!(imul, "imul");
accumulator!(div, "div");
accumulator!(idiv, "idiv");

/// CMPXCHG: `value` is the destination, `extra` the accumulator.
pub fn cmpxchg(size: Size, acc: u32, dst: u32, src: u32, flags: u32) -> Host {
    let (mut a, mut d, s, mut f) = (
        u64::from(acc),
        u64::from(dst),
        u64::from(src),
        u64::from(flags),
    );
    match size {
        Size::Byte => {
            flagged!(f, "cmpxchg {d:l}, {s:l}", d = inout(reg) d, s = in(reg) s, inout("rax") a,)
        }
        Size::Word => {
            flagged!(f, "cmpxchg {d:x}, {s:x}", d = inout(reg) d, s = in(reg) s, inout("rax") a,)
        }
        Size::Dword => {
            flagged!(f, "cmpxchg {d:e}, {s:e}", d = inout(reg) d, s = in(reg) s, inout("rax") a,)
        }
    }
    Host::new(size, d, a, f)
}

/// CMPXCHG8B on `mem`: returns the new memory, the new EDX:EAX and the flags.
pub fn cmpxchg8b(edx_eax: u64, ecx_ebx: u64, mem: u64, flags: u32) -> (u64, u64, u32) {
    let mut mem = mem;
    let mut f = u64::from(flags);
    let (mut eax, mut edx) = (edx_eax & 0xffff_ffff, edx_eax >> 32);
    let p: *mut u64 = &mut mem;
    // RBX is reserved by the compiler, so EBX is swapped in and out around the instruction.
    flagged!(
        f,
        "xchg rbx, {b}\n cmpxchg8b qword ptr [{p}]\n xchg rbx, {b}",
        b = inout(reg) ecx_ebx & 0xffff_ffff => _,
        p = in(reg) p,
        inout("rax") eax,
        inout("rdx") edx,
        in("rcx") ecx_ebx >> 32,
    );
    (mem, (edx << 32) | (eax & 0xffff_ffff), f as u32 & STATUS)
}

/// BT/BTS/BTR/BTC on memory at `base` with a register bit offset; returns the flags.
pub fn bit_test_memory(op: usize, size: Size, base: *mut u8, offset: u32, flags: u32) -> u32 {
    let (o, mut f) = (u64::from(offset), u64::from(flags));
    macro_rules! on_memory {
        ($insn:literal) => {
            match size {
                Size::Word => flagged!(
                    f,
                    concat!($insn, " word ptr [{p}], {o:x}"),
                    p = in(reg) base,
                    o = in(reg) o,
                ),
                _ => flagged!(
                    f,
                    concat!($insn, " dword ptr [{p}], {o:e}"),
                    p = in(reg) base,
                    o = in(reg) o,
                ),
            }
        };
    }
    match op {
        0 => on_memory!("bt"),
        1 => on_memory!("bts"),
        2 => on_memory!("btr"),
        _ => on_memory!("btc"),
    }
    f as u32 & STATUS
}

/// Three-operand IMUL of `src` by each immediate in the list, as (immediate, result).
macro_rules! imul3 {
    ($size:expr, $src:expr, $flags:expr, $($imm:literal),+) => {{
        let mut results = Vec::new();
        $(
            let (mut a, s, mut f) = (0u64, u64::from($src), u64::from($flags));
            match $size {
                Size::Word => {
                    flagged!(
                        f,
                        "imul {a:x}, {s:x}, {i}",
                        a = out(reg) a,
                        s = in(reg) s,
                        i = const $imm,
                    )
                }
                _ => {
                    flagged!(
                        f,
                        "imul {a:e}, {s:e}, {i}",
                        a = out(reg) a,
                        s = in(reg) s,
                        i = const $imm,
                    )
                }
            }
            results.push(($imm as i32, Host::new($size, a, s, f)));
        )+
        results
    }};
}

pub fn imul3_word(src: u32, flags: u32) -> Vec<(i32, Host)> {
    imul3!(
        Size::Word,
        src,
        flags,
        -32768,
        -129,
        -128,
        -1,
        0,
        1,
        2,
        3,
        10,
        127,
        128,
        255,
        32767
    )
}

pub fn imul3_dword(src: u32, flags: u32) -> Vec<(i32, Host)> {
    imul3!(
        Size::Dword,
        src,
        flags,
        -2147483648,
        -65536,
        -1,
        0,
        1,
        7,
        1000,
        32767,
        65536,
        2147483647
    )
}

/// SETcc for each condition code 0..16, under `flags`.
pub fn setcc_all(flags: u32) -> [bool; 16] {
    let mut results = [false; 16];
    macro_rules! each {
        ($($cc:literal $mnemonic:literal),+) => {$(
            let (mut r, mut f) = (0u64, u64::from(flags));
            flagged!(f, concat!($mnemonic, " {r:l}"), r = inout(reg) r,);
            let _ = f;
            results[$cc] = r & 1 != 0;
        )+};
    }
    each!(0 "seto", 1 "setno", 2 "setb", 3 "setae", 4 "sete", 5 "setne", 6 "setbe", 7 "seta",
        8 "sets", 9 "setns", 10 "setp", 11 "setnp", 12 "setl", 13 "setge", 14 "setle", 15 "setg");
    results
}

/// LAHF under `flags`: the new AH.
pub fn lahf(flags: u32) -> u8 {
    let (mut ax, mut f) = (0u64, u64::from(flags));
    flagged!(f, "lahf", inout("rax") ax,);
    let _ = f;
    (ax >> 8) as u8
}

/// SAHF with `ah` under `flags`: the new status flags.
pub fn sahf(ah: u8, flags: u32) -> u32 {
    let mut f = u64::from(flags);
    flagged!(f, "sahf", in("rax") u64::from(ah) << 8,);
    f as u32 & STATUS
}

/// CBW, CWDE, CWD and CDQ of `v`: (AX, EAX, DX, EDX).
pub fn conversions(v: u32) -> (u32, u32, u32, u32) {
    let (mut cbw, mut cwde, mut cwd, mut cdq) = (u64::from(v), u64::from(v), 0u64, 0u64);
    // SAFETY: register-only instructions.
    unsafe {
        asm!("cbw", inout("rax") cbw, options(nomem, nostack, preserves_flags));
        asm!("cwde", inout("rax") cwde, options(nomem, nostack, preserves_flags));
        asm!("cwd", in("rax") v, inout("rdx") cwd, options(nomem, nostack, preserves_flags));
        asm!("cdq", in("rax") v, inout("rdx") cdq, options(nomem, nostack, preserves_flags));
    }
    (
        cbw as u32 & 0xffff,
        cwde as u32,
        cwd as u32 & 0xffff,
        cdq as u32,
    )
}

pub fn bswap(v: u32) -> u32 {
    let mut r = u64::from(v);
    // SAFETY: a register-only instruction.
    unsafe { asm!("bswap {r:e}", r = inout(reg) r, options(nomem, nostack, preserves_flags)) };
    r as u32
}
