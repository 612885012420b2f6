//! Condition codes (Jcc, SETcc, CMOVcc) and the LAHF/SAHF flag byte.

use super::{AF, CF, OF, PF, SF, ZF};

/// Whether condition `cc` (the low 4 bits of the opcode: 0 = O, 1 = NO, 2 = B, ... 15 = G)
/// holds for `eflags`. Odd codes negate the even code below them.
#[inline]
pub fn condition(cc: u8, eflags: u32) -> bool {
    let set = |f: u32| eflags & f != 0;
    let holds = match (cc >> 1) & 7 {
        0 => set(OF),
        1 => set(CF),
        2 => set(ZF),
        3 => set(CF | ZF),
        4 => set(SF),
        5 => set(PF),
        6 => set(SF) != set(OF),
        _ => set(ZF) || set(SF) != set(OF),
    };
    holds != (cc & 1 != 0)
}

/// The flags SAHF loads and LAHF stores (SF ZF AF PF CF; not OF).
pub const SAHF_MASK: u32 = SF | ZF | AF | PF | CF;

/// LAHF: the new AH, SF:ZF:0:AF:0:PF:1:CF.
#[inline]
pub fn lahf(eflags: u32) -> u8 {
    (eflags & SAHF_MASK) as u8 | 0x02
}

/// SAHF: `eflags` with SF ZF AF PF CF loaded from `ah`.
#[inline]
pub fn sahf(eflags: u32, ah: u8) -> u32 {
    (eflags & !SAHF_MASK) | (u32::from(ah) & SAHF_MASK)
}
