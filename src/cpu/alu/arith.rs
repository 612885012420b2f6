//! Addition and subtraction: ADD ADC SUB SBB CMP INC DEC NEG XADD CMPXCHG CMPXCHG8B.

use super::{AF, CF, OF, Out, STATUS, Size, flag, msb, szp};

/// `a + b + carry`, all six flags.
#[inline]
fn add_carry(size: Size, a: u32, b: u32, carry: bool) -> Out {
    let (a, b) = (a & size.mask(), b & size.mask());
    let wide = u64::from(a) + u64::from(b) + u64::from(carry);
    let r = wide as u32 & size.mask();
    let cf = (wide >> size.bits()) & 1 != 0;
    // Signed overflow: both operands differ in sign from the result.
    let of = msb(size, (a ^ r) & (b ^ r));
    arith_out(size, r, cf, of, a ^ b ^ r)
}

/// `a - b - borrow`, all six flags.
#[inline]
fn sub_borrow(size: Size, a: u32, b: u32, borrow: bool) -> Out {
    let (a, b) = (a & size.mask(), b & size.mask());
    // A borrow wraps the 64-bit difference, setting every bit above the operand.
    let wide = u64::from(a).wrapping_sub(u64::from(b) + u64::from(borrow));
    let r = wide as u32 & size.mask();
    let cf = (wide >> size.bits()) & 1 != 0;
    // Signed overflow: the operands differ in sign and the result took the subtrahend's.
    let of = msb(size, (a ^ b) & (a ^ r));
    arith_out(size, r, cf, of, a ^ b ^ r)
}

/// `carries` has bit 4 set where a carry or borrow crossed from bit 3 into bit 4: AF.
#[inline]
fn arith_out(size: Size, r: u32, cf: bool, of: bool, carries: u32) -> Out {
    Out::all(
        r,
        flag(cf, CF) | flag(of, OF) | (carries & AF) | szp(size, r),
    )
}

#[inline]
pub fn add(size: Size, a: u32, b: u32) -> Out {
    add_carry(size, a, b, false)
}

#[inline]
pub fn adc(size: Size, a: u32, b: u32, carry: bool) -> Out {
    add_carry(size, a, b, carry)
}

/// SUB; also CMP, which keeps only the flags.
#[inline]
pub fn sub(size: Size, a: u32, b: u32) -> Out {
    sub_borrow(size, a, b, false)
}

#[inline]
pub fn sbb(size: Size, a: u32, b: u32, borrow: bool) -> Out {
    sub_borrow(size, a, b, borrow)
}

/// INC writes every status flag but CF.
#[inline]
pub fn inc(size: Size, a: u32) -> Out {
    without_cf(add_carry(size, a, 1, false))
}

/// DEC writes every status flag but CF.
#[inline]
pub fn dec(size: Size, a: u32) -> Out {
    without_cf(sub_borrow(size, a, 1, false))
}

#[inline]
fn without_cf(out: Out) -> Out {
    Out {
        flags: out.flags & !CF,
        written: STATUS & !CF,
        ..out
    }
}

/// NEG is `0 - a`: CF is set unless `a` is 0.
#[inline]
pub fn neg(size: Size, a: u32) -> Out {
    sub_borrow(size, 0, a, false)
}

/// XADD: returns the sum for the destination and the old destination for the source. Write
/// the source first: when both are one register, the sum wins.
#[inline]
pub fn xadd(size: Size, dst: u32, src: u32) -> (Out, u32) {
    (add(size, dst, src), dst & size.mask())
}

/// CMPXCHG with accumulator `acc`: flags of `CMP acc, dst`; returns the new destination and
/// the new accumulator. The destination is always written (the old value when unequal), as on
/// a P6, so a memory destination is written either way. Write the accumulator first: when the
/// destination is the accumulator itself, the destination's value wins.
#[inline]
pub fn cmpxchg(size: Size, acc: u32, dst: u32, src: u32) -> (Out, u32) {
    let cmp = sub(size, acc, dst);
    let (acc, dst) = (acc & size.mask(), dst & size.mask());
    let (dst, acc) = if cmp.value == 0 {
        (src & size.mask(), acc)
    } else {
        (dst, dst)
    };
    (Out { value: dst, ..cmp }, acc)
}

/// Result of CMPXCHG8B, which writes ZF only.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cmpxchg8b {
    /// The new ZF: EDX:EAX equalled the memory operand.
    pub zf: bool,
    /// The value stored back to memory (always written, the old value when unequal).
    pub mem: u64,
    /// The new EDX:EAX.
    pub edx_eax: u64,
}

#[inline]
pub fn cmpxchg8b(edx_eax: u64, ecx_ebx: u64, mem: u64) -> Cmpxchg8b {
    let zf = edx_eax == mem;
    let (mem, edx_eax) = if zf { (ecx_ebx, edx_eax) } else { (mem, mem) };
    Cmpxchg8b { zf, mem, edx_eax }
}
