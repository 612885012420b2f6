//! Decimal adjusts: DAA DAS AAA AAS AAM AAD, following the SDM's pseudo-code (with the
//! P6 forms of AAA/AAS, which adjust AX as a whole). They read CF and AF from `eflags`.

use super::{AF, CF, DivideError, OF, Out, PF, SF, Size, ZF, flag, szp};

/// AL after DAA/DAS and its flags; OF is undefined and we clear it.
#[inline]
fn decimal_out(al: u32, cf: bool, af: bool) -> Out {
    Out::all(al, flag(cf, CF) | flag(af, AF) | szp(Size::Byte, al)).undefined(OF)
}

/// True when the low digit of AL needs adjusting.
#[inline]
fn low_digit_carries(al: u32, eflags: u32) -> bool {
    al & 0xf > 9 || eflags & AF != 0
}

/// DAA: `value` is the new AL.
#[inline]
pub fn daa(al: u32, eflags: u32) -> Out {
    let old = al & 0xff;
    let af = low_digit_carries(old, eflags);
    // The high-digit test uses the original AL, so it also covers a carry out of `+ 6`.
    let cf = old > 0x99 || eflags & CF != 0;
    let al = old + flag(af, 0x06) + flag(cf, 0x60);
    decimal_out(al & 0xff, cf, af)
}

/// DAS: `value` is the new AL.
#[inline]
pub fn das(al: u32, eflags: u32) -> Out {
    let old = al & 0xff;
    let af = low_digit_carries(old, eflags);
    // Unlike DAA, a borrow out of the low-digit `- 6` sets CF by itself.
    let high = old > 0x99 || eflags & CF != 0;
    let cf = high || (af && old < 6);
    let al = old.wrapping_sub(flag(af, 0x06) + flag(high, 0x60));
    decimal_out(al & 0xff, cf, af)
}

/// AAA/AAS flags: CF = AF = `adjust`; OF SF ZF PF are undefined, we give SF ZF PF of AL.
#[inline]
fn ascii_out(ax: u32, adjust: bool) -> Out {
    let value = ax & 0xff0f;
    let undefined = OF | SF | ZF | PF;
    Out::all(value, flag(adjust, CF | AF) | szp(Size::Byte, value & 0xff)).undefined(undefined)
}

/// AAA: `value` is the new AX (P6: AX + 0x106 when adjusting, then AL &= 0x0f).
#[inline]
pub fn aaa(ax: u32, eflags: u32) -> Out {
    let adjust = low_digit_carries(ax & 0xff, eflags);
    ascii_out(ax.wrapping_add(flag(adjust, 0x106)), adjust)
}

/// AAS: `value` is the new AX (P6: AX - 6 and AH - 1 when adjusting, then AL &= 0x0f).
#[inline]
pub fn aas(ax: u32, eflags: u32) -> Out {
    let adjust = low_digit_carries(ax & 0xff, eflags);
    ascii_out(ax.wrapping_sub(flag(adjust, 0x106)), adjust)
}

/// AAM: AH = AL / base, AL = AL % base; `value` is the new AX. `#DE` for base 0.
/// OF AF CF are undefined and we clear them; SF ZF PF come from AL.
#[inline]
pub fn aam(al: u32, base: u8) -> Result<Out, DivideError> {
    let (al, base) = (al & 0xff, u32::from(base));
    if base == 0 {
        return Err(DivideError);
    }
    let (hi, lo) = (al / base, al % base);
    Ok(Out::all((hi << 8) | lo, szp(Size::Byte, lo)).undefined(OF | AF | CF))
}

/// AAD: AL = AL + AH * base, AH = 0; `value` is the new AX.
/// OF AF CF are undefined and we clear them; SF ZF PF come from AL.
#[inline]
pub fn aad(ax: u32, base: u8) -> Out {
    let al = (ax & 0xff).wrapping_add(((ax >> 8) & 0xff) * u32::from(base)) & 0xff;
    Out::all(al, szp(Size::Byte, al)).undefined(OF | AF | CF)
}
