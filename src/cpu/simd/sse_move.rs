//! SSE1 bitwise, shuffle and mask operations on XMM values (Intel SDM vol. 2 definitions).
//!
//! These move bits without interpreting them as floats: no exceptions, no NaN quieting.

use super::Xmm;

#[inline]
pub fn andps(a: Xmm, b: Xmm) -> Xmm {
    [0, 1, 2, 3].map(|i| a[i] & b[i])
}

/// `!a & b`: the destination is the operand inverted.
#[inline]
pub fn andnps(a: Xmm, b: Xmm) -> Xmm {
    [0, 1, 2, 3].map(|i| !a[i] & b[i])
}

#[inline]
pub fn orps(a: Xmm, b: Xmm) -> Xmm {
    [0, 1, 2, 3].map(|i| a[i] | b[i])
}

#[inline]
pub fn xorps(a: Xmm, b: Xmm) -> Xmm {
    [0, 1, 2, 3].map(|i| a[i] ^ b[i])
}

/// Lanes 0 and 1 come from `a` (the destination), lanes 2 and 3 from `b`, each selected by two
/// bits of `imm`, lane 0's lowest.
#[inline]
pub fn shufps(a: Xmm, b: Xmm, imm: u8) -> Xmm {
    let pick = |v: Xmm, i: u8| v[usize::from((imm >> (2 * i)) & 3)];
    [pick(a, 0), pick(a, 1), pick(b, 2), pick(b, 3)]
}

#[inline]
pub fn unpckhps(a: Xmm, b: Xmm) -> Xmm {
    [a[2], b[2], a[3], b[3]]
}

/// Only the low quadword of `b` is used, but the memory form still reads 128 aligned bits.
#[inline]
pub fn unpcklps(a: Xmm, b: Xmm) -> Xmm {
    [a[0], b[0], a[1], b[1]]
}

/// The sign bit of each lane, lane 0's in bit 0; the upper 28 bits are clear.
#[inline]
pub fn movmskps(a: Xmm) -> u32 {
    a.iter().rev().fold(0, |m, &x| m << 1 | x >> 31)
}

/// The high quadword of `b` into the low quadword of `a` (the register-only form of MOVLPS).
#[inline]
pub fn movhlps(a: Xmm, b: Xmm) -> Xmm {
    [b[2], b[3], a[2], a[3]]
}

/// The low quadword of `b` into the high quadword of `a` (the register-only form of MOVHPS).
#[inline]
pub fn movlhps(a: Xmm, b: Xmm) -> Xmm {
    [a[0], a[1], b[0], b[1]]
}
