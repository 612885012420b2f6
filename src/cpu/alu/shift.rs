//! Shifts and rotates: SHL/SAL SHR SAR ROL ROR RCL RCR SHLD SHRD.
//!
//! Every count is masked to 5 bits first, as on a P6 (and every CPU since the 80286); a masked
//! count of 0 changes neither the value nor any flag.

use super::{AF, CF, OF, Out, STATUS, Size, flag, msb, szp};

#[inline]
const fn masked(count: u32) -> u32 {
    count & 31
}

/// Flags of SHL/SHR/SAR by a nonzero count `n`.
#[inline]
fn shift_out(size: Size, n: u32, r: u32, cf: bool, of: bool, cf_undefined: bool) -> Out {
    let undefined = AF | flag(n > 1, OF) | flag(cf_undefined, CF);
    Out::all(r, flag(cf, CF) | flag(of, OF) | szp(size, r)).undefined(undefined)
}

/// SHL and SAL.
#[inline]
pub fn shl(size: Size, a: u32, count: u32) -> Out {
    let (a, n) = (a & size.mask(), masked(count));
    if n == 0 {
        return Out::keep(a);
    }
    // In the widened operand the last bit shifted out sits at bit `bits`, even for counts at or
    // past the width (8/16-bit), where it is the SDM's undefined CF.
    let wide = u64::from(a) << n;
    let r = wide as u32 & size.mask();
    let cf = (wide >> size.bits()) & 1 != 0;
    shift_out(size, n, r, cf, msb(size, r) != cf, n >= size.bits())
}

#[inline]
pub fn shr(size: Size, a: u32, count: u32) -> Out {
    let (a, n) = (a & size.mask(), masked(count));
    if n == 0 {
        return Out::keep(a);
    }
    // With the operand in the high half, the last bit shifted out lands at bit 31.
    let wide = (u64::from(a) << 32) >> n;
    let r = (wide >> 32) as u32;
    let cf = (wide >> 31) & 1 != 0;
    shift_out(size, n, r, cf, msb(size, a), n >= size.bits())
}

#[inline]
pub fn sar(size: Size, a: u32, count: u32) -> Out {
    let n = masked(count);
    if n == 0 {
        return Out::keep(a & size.mask());
    }
    let a = size.sign_extend(a) as i32;
    let r = (a >> n) as u32 & size.mask();
    let cf = (a >> (n - 1)) & 1 != 0;
    shift_out(size, n, r, cf, false, false)
}

/// Flags of a rotate by a nonzero masked count `n`: CF and OF only.
#[inline]
fn rotate_out(n: u32, r: u32, cf: bool, of: bool) -> Out {
    Out {
        value: r,
        flags: flag(cf, CF) | flag(of, OF),
        written: CF | OF,
        undefined: flag(n != 1, OF),
    }
}

#[inline]
pub fn rol(size: Size, a: u32, count: u32) -> Out {
    let n = masked(count);
    if n == 0 {
        return Out::keep(a & size.mask());
    }
    // Counts of a multiple of the width still write CF (from bit 0) and OF.
    let r = match size {
        Size::Byte => u32::from((a as u8).rotate_left(n)),
        Size::Word => u32::from((a as u16).rotate_left(n)),
        Size::Dword => a.rotate_left(n),
    };
    let cf = r & 1 != 0;
    rotate_out(n, r, cf, msb(size, r) != cf)
}

#[inline]
pub fn ror(size: Size, a: u32, count: u32) -> Out {
    let n = masked(count);
    if n == 0 {
        return Out::keep(a & size.mask());
    }
    let r = match size {
        Size::Byte => u32::from((a as u8).rotate_right(n)),
        Size::Word => u32::from((a as u16).rotate_right(n)),
        Size::Dword => a.rotate_right(n),
    };
    let cf = msb(size, r);
    rotate_out(n, r, cf, cf != msb(size, r << 1))
}

/// CF:a as one (bits + 1)-bit value, and the mask of that width.
#[inline]
fn with_carry(size: Size, a: u32, carry: bool) -> (u64, u64) {
    let v = (u64::from(carry) << size.bits()) | u64::from(a & size.mask());
    (v, (1 << (size.bits() + 1)) - 1)
}

/// RCL: 8- and 16-bit operands rotate by the masked count mod 9 and mod 17.
#[inline]
pub fn rcl(size: Size, a: u32, count: u32, carry: bool) -> Out {
    let n = masked(count);
    if n == 0 {
        return Out::keep(a & size.mask());
    }
    let width = size.bits() + 1;
    let k = n % width;
    let (v, mask) = with_carry(size, a, carry);
    let t = ((v << k) | (v >> (width - k))) & mask;
    let (r, cf) = (t as u32 & size.mask(), (t >> size.bits()) & 1 != 0);
    rotate_out(n, r, cf, msb(size, r) != cf)
}

/// RCR: 8- and 16-bit operands rotate by the masked count mod 9 and mod 17.
#[inline]
pub fn rcr(size: Size, a: u32, count: u32, carry: bool) -> Out {
    let n = masked(count);
    if n == 0 {
        return Out::keep(a & size.mask());
    }
    let width = size.bits() + 1;
    let k = n % width;
    let (v, mask) = with_carry(size, a, carry);
    let t = ((v >> k) | (v << (width - k))) & mask;
    let (r, cf) = (t as u32 & size.mask(), (t >> size.bits()) & 1 != 0);
    rotate_out(n, r, cf, msb(size, r) != msb(size, r << 1))
}

/// `hi:lo` as one double-width value, its width and the mask of that width.
#[inline]
fn double(size: Size, hi: u32, lo: u32) -> (u64, u32, u64) {
    let m = size.mask();
    let w = 2 * size.bits();
    (
        (u64::from(hi & m) << size.bits()) | u64::from(lo & m),
        w,
        u64::MAX >> (64 - w),
    )
}

/// Flags of SHLD/SHRD by a nonzero count `n`. OF records a sign change of the destination.
#[inline]
fn double_out(size: Size, n: u32, dst: u32, r: u32, cf: bool) -> Out {
    let undefined = if n > size.bits() {
        STATUS
    } else {
        AF | flag(n > 1, OF)
    };
    let of = msb(size, r) != msb(size, dst);
    Out::all(r, flag(cf, CF) | flag(of, OF) | szp(size, r)).undefined(undefined)
}

/// SHLD: `dst` shifted left by the masked count, filled from the top of `src`.
///
/// The result is the high half of `dst:src` rotated left; the last bit shifted out wraps to
/// bit 0, which is CF. For a 16-bit operand and count > 16 (the SDM's undefined result) this
/// equals what a P6 does, shifting `dst:src:dst`. Byte has no encoding but works the same way.
#[inline]
pub fn shld(size: Size, dst: u32, src: u32, count: u32) -> Out {
    let n = masked(count);
    if n == 0 {
        return Out::keep(dst & size.mask());
    }
    let (v, w, mask) = double(size, dst, src);
    let k = n % w;
    let t = ((v << k) | (v >> (w - k))) & mask;
    let r = (t >> size.bits()) as u32 & size.mask();
    double_out(size, n, dst, r, t & 1 != 0)
}

/// SHRD: `dst` shifted right by the masked count, filled from the bottom of `src`.
///
/// The result is the low half of `src:dst` rotated right; the last bit shifted out wraps to the
/// top bit, which is CF. For a 16-bit operand and count > 16 this equals what a P6 does,
/// shifting `dst:src:dst`. Byte has no encoding but works the same way.
#[inline]
pub fn shrd(size: Size, dst: u32, src: u32, count: u32) -> Out {
    let n = masked(count);
    if n == 0 {
        return Out::keep(dst & size.mask());
    }
    let (v, w, mask) = double(size, src, dst);
    let k = n % w;
    let t = ((v >> k) | (v << (w - k))) & mask;
    let r = t as u32 & size.mask();
    double_out(size, n, dst, r, (t >> (w - 1)) & 1 != 0)
}
