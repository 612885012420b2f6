//! Bitwise logic: AND OR XOR TEST NOT.

use super::{AF, Out, Size, szp};

/// CF = OF = 0, SF ZF PF from the result; AF is undefined and we clear it.
#[inline]
fn logic(size: Size, r: u32) -> Out {
    let r = r & size.mask();
    Out::all(r, szp(size, r)).undefined(AF)
}

/// AND; also TEST, which keeps only the flags.
#[inline]
pub fn and(size: Size, a: u32, b: u32) -> Out {
    logic(size, a & b)
}

#[inline]
pub fn or(size: Size, a: u32, b: u32) -> Out {
    logic(size, a | b)
}

#[inline]
pub fn xor(size: Size, a: u32, b: u32) -> Out {
    logic(size, a ^ b)
}

/// NOT writes no flags.
#[inline]
pub fn not(size: Size, a: u32) -> u32 {
    !a & size.mask()
}
