//! MMX instructions on 64-bit values (Intel SDM vol. 2 definitions).
//!
//! Lanes are little-endian: byte/word/dword 0 is the least significant. Shifts take the count as
//! the full 64-bit value (register and memory forms) or the imm8 zero-extended: a count beyond
//! the element width clears logical shifts and fills arithmetic shifts with the sign bit.

use core::array;

#[inline]
pub(super) fn bytes(x: u64) -> [u8; 8] {
    x.to_le_bytes()
}

#[inline]
pub(super) fn from_bytes(b: [u8; 8]) -> u64 {
    u64::from_le_bytes(b)
}

#[inline]
pub(super) fn words(x: u64) -> [u16; 4] {
    array::from_fn(|i| (x >> (16 * i)) as u16)
}

#[inline]
pub(super) fn from_words(w: [u16; 4]) -> u64 {
    w.iter().rev().fold(0, |acc, &w| acc << 16 | u64::from(w))
}

#[inline]
fn dwords(x: u64) -> [u32; 2] {
    [x as u32, (x >> 32) as u32]
}

#[inline]
fn from_dwords(d: [u32; 2]) -> u64 {
    u64::from(d[1]) << 32 | u64::from(d[0])
}

#[inline]
pub(super) fn zip_bytes(a: u64, b: u64, f: impl Fn(u8, u8) -> u8) -> u64 {
    let (a, b) = (bytes(a), bytes(b));
    from_bytes(array::from_fn(|i| f(a[i], b[i])))
}

#[inline]
pub(super) fn zip_words(a: u64, b: u64, f: impl Fn(u16, u16) -> u16) -> u64 {
    let (a, b) = (words(a), words(b));
    from_words(array::from_fn(|i| f(a[i], b[i])))
}

#[inline]
fn zip_dwords(a: u64, b: u64, f: impl Fn(u32, u32) -> u32) -> u64 {
    let (a, b) = (dwords(a), dwords(b));
    from_dwords([f(a[0], b[0]), f(a[1], b[1])])
}

/// Interleaves the low (`HIGH = false`) or high halves of `a` and `b`, `a`'s element first.
#[inline]
fn interleave<T: Copy, const N: usize, const HIGH: bool>(a: [T; N], b: [T; N]) -> [T; N] {
    let base = if HIGH { N / 2 } else { 0 };
    array::from_fn(|i| {
        if i % 2 == 0 {
            a[base + i / 2]
        } else {
            b[base + i / 2]
        }
    })
}

#[inline]
pub fn paddb(a: u64, b: u64) -> u64 {
    zip_bytes(a, b, u8::wrapping_add)
}

#[inline]
pub fn paddw(a: u64, b: u64) -> u64 {
    zip_words(a, b, u16::wrapping_add)
}

#[inline]
pub fn paddd(a: u64, b: u64) -> u64 {
    zip_dwords(a, b, u32::wrapping_add)
}

#[inline]
pub fn paddsb(a: u64, b: u64) -> u64 {
    zip_bytes(a, b, |x, y| (x as i8).saturating_add(y as i8) as u8)
}

#[inline]
pub fn paddsw(a: u64, b: u64) -> u64 {
    zip_words(a, b, |x, y| (x as i16).saturating_add(y as i16) as u16)
}

#[inline]
pub fn paddusb(a: u64, b: u64) -> u64 {
    zip_bytes(a, b, u8::saturating_add)
}

#[inline]
pub fn paddusw(a: u64, b: u64) -> u64 {
    zip_words(a, b, u16::saturating_add)
}

#[inline]
pub fn psubb(a: u64, b: u64) -> u64 {
    zip_bytes(a, b, u8::wrapping_sub)
}

#[inline]
pub fn psubw(a: u64, b: u64) -> u64 {
    zip_words(a, b, u16::wrapping_sub)
}

#[inline]
pub fn psubd(a: u64, b: u64) -> u64 {
    zip_dwords(a, b, u32::wrapping_sub)
}

#[inline]
pub fn psubsb(a: u64, b: u64) -> u64 {
    zip_bytes(a, b, |x, y| (x as i8).saturating_sub(y as i8) as u8)
}

#[inline]
pub fn psubsw(a: u64, b: u64) -> u64 {
    zip_words(a, b, |x, y| (x as i16).saturating_sub(y as i16) as u16)
}

#[inline]
pub fn psubusb(a: u64, b: u64) -> u64 {
    zip_bytes(a, b, u8::saturating_sub)
}

#[inline]
pub fn psubusw(a: u64, b: u64) -> u64 {
    zip_words(a, b, u16::saturating_sub)
}

#[inline]
pub fn pcmpeqb(a: u64, b: u64) -> u64 {
    zip_bytes(a, b, |x, y| if x == y { !0 } else { 0 })
}

#[inline]
pub fn pcmpeqw(a: u64, b: u64) -> u64 {
    zip_words(a, b, |x, y| if x == y { !0 } else { 0 })
}

#[inline]
pub fn pcmpeqd(a: u64, b: u64) -> u64 {
    zip_dwords(a, b, |x, y| if x == y { !0 } else { 0 })
}

#[inline]
pub fn pcmpgtb(a: u64, b: u64) -> u64 {
    zip_bytes(a, b, |x, y| if x as i8 > y as i8 { !0 } else { 0 })
}

#[inline]
pub fn pcmpgtw(a: u64, b: u64) -> u64 {
    zip_words(a, b, |x, y| if x as i16 > y as i16 { !0 } else { 0 })
}

#[inline]
pub fn pcmpgtd(a: u64, b: u64) -> u64 {
    zip_dwords(a, b, |x, y| if x as i32 > y as i32 { !0 } else { 0 })
}

/// Low 16 bits of each signed 32-bit product (the same bits as for unsigned operands).
#[inline]
pub fn pmullw(a: u64, b: u64) -> u64 {
    zip_words(a, b, u16::wrapping_mul)
}

/// High 16 bits of each signed 32-bit product.
#[inline]
pub fn pmulhw(a: u64, b: u64) -> u64 {
    zip_words(a, b, |x, y| {
        ((i32::from(x as i16) * i32::from(y as i16)) >> 16) as u16
    })
}

/// Sums of adjacent signed word products into dwords. Only -32768 * -32768 twice overflows, and
/// the hardware wraps it to 0x8000_0000.
#[inline]
pub fn pmaddwd(a: u64, b: u64) -> u64 {
    let (a, b) = (words(a), words(b));
    let product = |i: usize| i32::from(a[i] as i16) * i32::from(b[i] as i16);
    from_dwords([
        product(0).wrapping_add(product(1)) as u32,
        product(2).wrapping_add(product(3)) as u32,
    ])
}

#[inline]
pub fn pand(a: u64, b: u64) -> u64 {
    a & b
}

/// `!a & b`: the destination is the operand inverted.
#[inline]
pub fn pandn(a: u64, b: u64) -> u64 {
    !a & b
}

#[inline]
pub fn por(a: u64, b: u64) -> u64 {
    a | b
}

#[inline]
pub fn pxor(a: u64, b: u64) -> u64 {
    a ^ b
}

#[inline]
pub fn psllw(a: u64, count: u64) -> u64 {
    if count > 15 {
        return 0;
    }
    from_words(words(a).map(|w| w << count))
}

#[inline]
pub fn pslld(a: u64, count: u64) -> u64 {
    if count > 31 {
        return 0;
    }
    from_dwords(dwords(a).map(|d| d << count))
}

#[inline]
pub fn psllq(a: u64, count: u64) -> u64 {
    if count > 63 { 0 } else { a << count }
}

#[inline]
pub fn psrlw(a: u64, count: u64) -> u64 {
    if count > 15 {
        return 0;
    }
    from_words(words(a).map(|w| w >> count))
}

#[inline]
pub fn psrld(a: u64, count: u64) -> u64 {
    if count > 31 {
        return 0;
    }
    from_dwords(dwords(a).map(|d| d >> count))
}

#[inline]
pub fn psrlq(a: u64, count: u64) -> u64 {
    if count > 63 { 0 } else { a >> count }
}

/// Counts above 15 shift like 15: every bit becomes the sign bit.
#[inline]
pub fn psraw(a: u64, count: u64) -> u64 {
    let count = count.min(15);
    from_words(words(a).map(|w| ((w as i16) >> count) as u16))
}

/// Counts above 31 shift like 31: every bit becomes the sign bit.
#[inline]
pub fn psrad(a: u64, count: u64) -> u64 {
    let count = count.min(31);
    from_dwords(dwords(a).map(|d| ((d as i32) >> count) as u32))
}

/// Signed words of `a` (low half) then `b` (high half), saturated to signed bytes.
#[inline]
pub fn packsswb(a: u64, b: u64) -> u64 {
    let (a, b) = (words(a), words(b));
    from_bytes(array::from_fn(|i| {
        let w = if i < 4 { a[i] } else { b[i - 4] };
        (w as i16).clamp(i8::MIN.into(), i8::MAX.into()) as u8
    }))
}

/// Signed dwords of `a` (low half) then `b` (high half), saturated to signed words.
#[inline]
pub fn packssdw(a: u64, b: u64) -> u64 {
    let (a, b) = (dwords(a), dwords(b));
    from_words(array::from_fn(|i| {
        let d = if i < 2 { a[i] } else { b[i - 2] };
        (d as i32).clamp(i16::MIN.into(), i16::MAX.into()) as u16
    }))
}

/// Signed words of `a` (low half) then `b` (high half), saturated to unsigned bytes.
#[inline]
pub fn packuswb(a: u64, b: u64) -> u64 {
    let (a, b) = (words(a), words(b));
    from_bytes(array::from_fn(|i| {
        let w = if i < 4 { a[i] } else { b[i - 4] };
        (w as i16).clamp(0, u8::MAX.into()) as u8
    }))
}

#[inline]
pub fn punpckhbw(a: u64, b: u64) -> u64 {
    from_bytes(interleave::<_, 8, true>(bytes(a), bytes(b)))
}

#[inline]
pub fn punpckhwd(a: u64, b: u64) -> u64 {
    from_words(interleave::<_, 4, true>(words(a), words(b)))
}

#[inline]
pub fn punpckhdq(a: u64, b: u64) -> u64 {
    from_dwords(interleave::<_, 2, true>(dwords(a), dwords(b)))
}

/// Only the low dword of `b` is used (the memory form reads 32 bits).
#[inline]
pub fn punpcklbw(a: u64, b: u64) -> u64 {
    from_bytes(interleave::<_, 8, false>(bytes(a), bytes(b)))
}

/// Only the low dword of `b` is used (the memory form reads 32 bits).
#[inline]
pub fn punpcklwd(a: u64, b: u64) -> u64 {
    from_words(interleave::<_, 4, false>(words(a), words(b)))
}

/// Only the low dword of `b` is used (the memory form reads 32 bits).
#[inline]
pub fn punpckldq(a: u64, b: u64) -> u64 {
    from_dwords(interleave::<_, 2, false>(dwords(a), dwords(b)))
}
