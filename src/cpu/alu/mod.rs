//! Integer ALU semantics of the Pentium III (P6 family): the value and status-flag result of
//! every integer data instruction, for 8-, 16- and 32-bit operands, as pure functions with no
//! CPU state. The interpreter fetches operands, calls one of these and writes back.
//!
//! # Conventions
//!
//! * Operands are `u32`; bits above the operand [`Size`] are ignored, and every result value
//!   is zero-extended from the operand size, so callers may pass whole registers.
//! * Flags are `u32` in EFLAGS bit positions ([`CF`], [`PF`], [`AF`], [`ZF`], [`SF`], [`OF`];
//!   [`STATUS`] is all six). An instruction that may leave some of them alone returns an
//!   [`Out`] whose `written` mask says which it sets; [`Out::apply`] merges it into EFLAGS.
//! * Shift and rotate counts are masked to 5 bits inside, as on a P6 (pass CL or imm8 as is).
//! * `#DE` conditions (divide by zero, quotient overflow, `AAM 0`) return [`DivideError`].
//! * Nothing here panics, for any input.
//!
//! Instructions without a function of their own: CMP is [`sub`] and TEST is [`and`] with the
//! value dropped; MOVZX is [`Size::mask`] and MOVSX [`Size::sign_extend`]; CBW/CWDE is
//! `sign_extend` from Byte/Word, CWD/CDQ is [`Size::sign_fill`] (the new DX/EDX); the
//! two- and three-operand IMUL forms are [`imul_trunc`] (sign-extend the immediate first);
//! SETcc, CMOVcc and Jcc use [`condition`].
//!
//! # Undefined flags
//!
//! The SDM (Intel 64 and IA-32 Architectures Software Developer's Manual, Volume 2, the
//! "Flags Affected" section of each instruction's page, named in the first column) leaves
//! these status flags undefined. Each [`Out`] lists them for its inputs in `undefined`. We
//! still produce a deterministic value, given in the last column; "kept" means we do not
//! write the flag, so it keeps its old value. Where public sources document no P6 behaviour,
//! the choice is whatever falls out of the defined computation, or 0.
//!
//! | SDM page                 | Undefined                                        | Our value |
//! |--------------------------|--------------------------------------------------|-----------|
//! | ADD ADC SUB SBB CMP NEG INC DEC XADD CMPXCHG | none                         | |
//! | CMPXCHG8B                | none (writes ZF only)                            | |
//! | NOT, BSWAP               | none (no flag written)                           | |
//! | AND, OR, XOR, TEST       | AF                                               | 0 |
//! | SAL/SAR/SHL/SHR          | count ≠ 0: AF; count > 1: OF; SHL/SHR with count ≥ operand width: CF | AF 0; OF by the count-1 rule (SHL: MSB(result) ^ CF, SHR: MSB(source), SAR: 0); CF the last bit shifted out of the zero-extended operand |
//! | RCL/RCR/ROL/ROR          | masked count > 1: OF                             | OF by the count-1 rule on the result (left: MSB ^ CF; right: XOR of the two top bits) |
//! | SHLD, SHRD               | count ≠ 0: AF; count > 1: OF; count > operand size (16-bit only): all six, and the result | AF 0; OF = the destination's sign changed; result and flags as a P6 (see [`shld`]) |
//! | MUL, IMUL                | SF ZF AF PF                                      | SF ZF PF of the low half (the truncated product), AF 0 |
//! | DIV, IDIV                | all six                                          | kept |
//! | BSF, BSR                 | CF OF SF AF PF; the destination if the source is 0 | kept; destination kept (as a P6) |
//! | BT, BTS, BTR, BTC        | OF SF AF PF (ZF is unaffected)                   | kept |
//! | DAA, DAS                 | OF                                               | 0 |
//! | AAA, AAS                 | OF SF ZF PF                                      | OF 0; SF ZF PF of the new AL |
//! | AAM, AAD                 | OF AF CF                                         | 0 |
//!
//! The host-CPU tests compare every flag not marked undefined, and print how often the host
//! agrees with our choice for the undefined ones.

mod arith;
mod bcd;
mod bits;
mod cond;
mod logic;
mod muldiv;
mod shift;
#[cfg(all(test, target_arch = "x86_64"))]
mod tests;

pub use arith::{Cmpxchg8b, adc, add, cmpxchg, cmpxchg8b, dec, inc, neg, sbb, sub, xadd};
pub use bcd::{aaa, aad, aam, aas, daa, das};
pub use bits::{bit_address, bsf, bsr, bswap, bt, btc, btr, bts};
pub use cond::{SAHF_MASK, condition, lahf, sahf};
pub use logic::{and, not, or, xor};
pub use muldiv::{div, idiv, imul, imul_trunc, mul};
pub use shift::{rcl, rcr, rol, ror, sar, shl, shld, shr, shrd};

pub const CF: u32 = 1 << 0;
pub const PF: u32 = 1 << 2;
pub const AF: u32 = 1 << 4;
pub const ZF: u32 = 1 << 6;
pub const SF: u32 = 1 << 7;
pub const OF: u32 = 1 << 11;
/// The six status flags that integer instructions compute.
pub const STATUS: u32 = CF | PF | AF | ZF | SF | OF;

/// Operand size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    Byte,
    Word,
    Dword,
}

impl Size {
    #[inline]
    pub const fn bits(self) -> u32 {
        match self {
            Size::Byte => 8,
            Size::Word => 16,
            Size::Dword => 32,
        }
    }

    /// All ones in the operand's bits; `v & mask()` is also MOVZX.
    #[inline]
    pub const fn mask(self) -> u32 {
        u32::MAX >> (32 - self.bits())
    }

    /// MOVSX, CBW (Byte) and CWDE (Word): `v` sign-extended from this size to 32 bits.
    #[inline]
    pub const fn sign_extend(self, v: u32) -> u32 {
        let unused = 32 - self.bits();
        (((v << unused) as i32) >> unused) as u32
    }

    /// CWD (Word) and CDQ (Dword): the new DX/EDX, all ones if `v` is negative, else zero.
    #[inline]
    pub const fn sign_fill(self, v: u32) -> u32 {
        if msb(self, v) { self.mask() } else { 0 }
    }
}

/// Result of an instruction: a value and the status flags it writes.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Out {
    /// The result, zero-extended from the operand size.
    pub value: u32,
    /// New values of the `written` flags; no other bit is set.
    pub flags: u32,
    /// The status flags this instruction writes; the others keep their old values.
    pub written: u32,
    /// The status flags the SDM calls undefined for these inputs (see the module table).
    /// Only tests need this; what we put in them is deterministic but not architectural.
    pub undefined: u32,
}

impl Out {
    /// Every status flag written, all defined.
    #[inline]
    const fn all(value: u32, flags: u32) -> Out {
        Out {
            value,
            flags,
            written: STATUS,
            undefined: 0,
        }
    }

    /// No flag written (for example a shift by 0).
    #[inline]
    const fn keep(value: u32) -> Out {
        Out {
            value,
            flags: 0,
            written: 0,
            undefined: 0,
        }
    }

    #[inline]
    const fn undefined(self, undefined: u32) -> Out {
        Out { undefined, ..self }
    }

    /// `eflags` with this result's flags written into it.
    #[inline]
    pub const fn apply(self, eflags: u32) -> u32 {
        (eflags & !self.written) | self.flags
    }
}

/// `#DE`: division by zero, a quotient too wide for its register, or AAM with base 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DivideError;

/// PF for a result: set when its low byte has an even number of ones.
#[inline]
pub const fn parity(v: u32) -> u32 {
    // Fold the byte into a nibble; 0x9669 has bit n set where nibble n has even parity.
    let nibble = (v ^ (v >> 4)) & 0xf;
    ((0x9669 >> nibble) & 1) * PF
}

/// SF, ZF and PF of a result already masked to `size`.
#[inline]
pub const fn szp(size: Size, r: u32) -> u32 {
    flag(msb(size, r), SF) | flag(r == 0, ZF) | parity(r)
}

/// The sign bit of `v` at `size`.
#[inline]
const fn msb(size: Size, v: u32) -> bool {
    (v >> (size.bits() - 1)) & 1 != 0
}

/// `f` if `cond`, else 0.
#[inline]
const fn flag(cond: bool, f: u32) -> u32 {
    if cond { f } else { 0 }
}
