//! Integer instructions that SSE1 added on MMX registers (Intel SDM vol. 2 definitions).

use core::array;

use super::mmx::{bytes, from_bytes, from_words, words, zip_bytes, zip_words};

/// Unsigned byte averages, rounding halves up.
#[inline]
pub fn pavgb(a: u64, b: u64) -> u64 {
    zip_bytes(a, b, |x, y| ((u16::from(x) + u16::from(y) + 1) >> 1) as u8)
}

/// Unsigned word averages, rounding halves up.
#[inline]
pub fn pavgw(a: u64, b: u64) -> u64 {
    zip_words(a, b, |x, y| ((u32::from(x) + u32::from(y) + 1) >> 1) as u16)
}

/// The word selected by `imm & 3`, zero-extended as written to the 32-bit register.
#[inline]
pub fn pextrw(a: u64, imm: u8) -> u32 {
    u32::from(words(a)[usize::from(imm & 3)])
}

/// `a` with the word selected by `imm & 3` replaced by `value` (the low word of the source).
#[inline]
pub fn pinsrw(a: u64, value: u16, imm: u8) -> u64 {
    let mut w = words(a);
    w[usize::from(imm & 3)] = value;
    from_words(w)
}

#[inline]
pub fn pmaxsw(a: u64, b: u64) -> u64 {
    zip_words(a, b, |x, y| (x as i16).max(y as i16) as u16)
}

#[inline]
pub fn pmaxub(a: u64, b: u64) -> u64 {
    zip_bytes(a, b, u8::max)
}

#[inline]
pub fn pminsw(a: u64, b: u64) -> u64 {
    zip_words(a, b, |x, y| (x as i16).min(y as i16) as u16)
}

#[inline]
pub fn pminub(a: u64, b: u64) -> u64 {
    zip_bytes(a, b, u8::min)
}

/// The most significant bit of each byte, byte 0's in bit 0; the upper 24 bits are clear.
#[inline]
pub fn pmovmskb(a: u64) -> u32 {
    bytes(a)
        .iter()
        .rev()
        .fold(0, |m, &b| m << 1 | u32::from(b >> 7))
}

/// High 16 bits of each unsigned 32-bit product.
#[inline]
pub fn pmulhuw(a: u64, b: u64) -> u64 {
    zip_words(a, b, |x, y| ((u32::from(x) * u32::from(y)) >> 16) as u16)
}

/// Sum of absolute byte differences in the low word; the upper 48 bits are clear.
#[inline]
pub fn psadbw(a: u64, b: u64) -> u64 {
    let (a, b) = (bytes(a), bytes(b));
    (0..8).map(|i| u64::from(a[i].abs_diff(b[i]))).sum()
}

/// Result word `i` is the source word selected by bits `2i+1..2i` of `imm`.
#[inline]
pub fn pshufw(src: u64, imm: u8) -> u64 {
    let w = words(src);
    from_words(array::from_fn(|i| w[usize::from(imm >> (2 * i)) & 3]))
}

/// Which bytes MASKMOVQ stores: bit `i` set means byte `i` of the data goes to `[EDI + i]`.
/// The others must not be touched at all (they may be MMIO), so the interpreter writes the
/// selected bytes one by one or uses [`maskmovq_merge`] only where a read-modify-write is safe.
#[inline]
pub fn maskmovq_select(mask: u64) -> u8 {
    pmovmskb(mask) as u8
}

/// The quadword memory holds after MASKMOVQ stores `data` under `mask` over `old`: bytes whose
/// mask byte has its top bit set come from `data`, the rest keep `old`.
#[inline]
pub fn maskmovq_merge(old: u64, data: u64, mask: u64) -> u64 {
    // Spread each mask byte's top bit over the byte.
    let select = from_bytes(bytes(mask).map(|m| ((m as i8) >> 7) as u8));
    (data & select) | (old & !select)
}
