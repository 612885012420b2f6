//! Multiplication and division: MUL IMUL DIV IDIV.
//!
//! The one-operand forms work on an accumulator pair, passed and returned as (low, high):
//! AL/AH for bytes, AX/DX for words, EAX/EDX for doublewords.

use super::{CF, DivideError, OF, Out, STATUS, Size, flag, szp};

/// SF ZF AF PF are undefined after a multiply; we give SF ZF PF of the low half and clear AF.
const MUL_UNDEFINED: u32 = STATUS & !(CF | OF);

#[inline]
fn mul_out(size: Size, lo: u32, overflow: bool) -> Out {
    Out::all(lo, flag(overflow, CF | OF) | szp(size, lo)).undefined(MUL_UNDEFINED)
}

/// MUL: `a * b` unsigned; returns the low half (AL/AX/EAX) and the high half (AH/DX/EDX).
/// CF = OF = the high half is nonzero.
#[inline]
pub fn mul(size: Size, a: u32, b: u32) -> (Out, u32) {
    let p = u64::from(a & size.mask()) * u64::from(b & size.mask());
    let (lo, hi) = (p as u32 & size.mask(), (p >> size.bits()) as u32);
    (mul_out(size, lo, hi != 0), hi)
}

#[inline]
fn signed_product(size: Size, a: u32, b: u32) -> i64 {
    i64::from(size.sign_extend(a) as i32) * i64::from(size.sign_extend(b) as i32)
}

/// One-operand IMUL: `a * b` signed; returns the low half and the high half.
/// CF = OF = the product does not fit in the low half.
#[inline]
pub fn imul(size: Size, a: u32, b: u32) -> (Out, u32) {
    let p = signed_product(size, a, b);
    let lo = p as u32 & size.mask();
    let hi = (p >> size.bits()) as u32 & size.mask();
    (
        mul_out(size, lo, i64::from(size.sign_extend(lo) as i32) != p),
        hi,
    )
}

/// Two- and three-operand IMUL: the product truncated to `size` (sign-extend an immediate
/// before passing it). CF = OF = the truncation lost significant bits.
#[inline]
pub fn imul_trunc(size: Size, a: u32, b: u32) -> Out {
    imul(size, a, b).0
}

/// The dividend `hi:lo`, zero-extended.
#[inline]
fn dividend(size: Size, lo: u32, hi: u32) -> u64 {
    (u64::from(hi & size.mask()) << size.bits()) | u64::from(lo & size.mask())
}

/// DIV: `hi:lo / divisor` unsigned (AX, DX:AX or EDX:EAX); returns the quotient (AL/AX/EAX,
/// in `value`) and the remainder (AH/DX/EDX). All flags are undefined and kept.
#[inline]
pub fn div(size: Size, lo: u32, hi: u32, divisor: u32) -> Result<(Out, u32), DivideError> {
    let n = dividend(size, lo, hi);
    let d = u64::from(divisor & size.mask());
    if d == 0 {
        return Err(DivideError);
    }
    let q = n / d;
    if q > u64::from(size.mask()) {
        return Err(DivideError);
    }
    Ok((Out::keep(q as u32).undefined(STATUS), (n % d) as u32))
}

/// IDIV: `hi:lo / divisor` signed, truncating toward zero; returns the quotient and the
/// remainder (which has the dividend's sign). All flags are undefined and kept.
#[inline]
pub fn idiv(size: Size, lo: u32, hi: u32, divisor: u32) -> Result<(Out, u32), DivideError> {
    let unused = 64 - 2 * size.bits();
    let n = ((dividend(size, lo, hi) << unused) as i64) >> unused;
    let d = i64::from(size.sign_extend(divisor) as i32);
    // None for a zero divisor, and for i64::MIN / -1, whose quotient overflows anyway.
    let q = n.checked_div(d).ok_or(DivideError)?;
    let fits = i64::from(size.sign_extend(q as u32) as i32) == q;
    if !fits {
        return Err(DivideError);
    }
    let m = size.mask();
    Ok((
        Out::keep(q as u32 & m).undefined(STATUS),
        (n % d) as u32 & m,
    ))
}
