//! Bit scans and bit tests: BSF BSR BT BTS BTR BTC BSWAP.

use super::{AF, CF, OF, Out, PF, SF, Size, ZF, flag};

/// The flags BSF/BSR leave undefined; we keep them (only ZF is written).
const SCAN_UNDEFINED: u32 = CF | OF | SF | AF | PF;

#[inline]
fn scan(size: Size, dst: u32, index: Option<u32>) -> Out {
    // A zero source leaves the destination as it was on a P6 (the SDM: undefined).
    let value = index.unwrap_or(dst & size.mask());
    Out {
        value,
        flags: flag(index.is_none(), ZF),
        written: ZF,
        undefined: SCAN_UNDEFINED,
    }
}

/// BSF: index of the lowest set bit of `src`; ZF = `src` is 0, in which case `dst` is kept.
#[inline]
pub fn bsf(size: Size, dst: u32, src: u32) -> Out {
    let src = src & size.mask();
    scan(size, dst, (src != 0).then(|| src.trailing_zeros()))
}

/// BSR: index of the highest set bit of `src`; ZF = `src` is 0, in which case `dst` is kept.
#[inline]
pub fn bsr(size: Size, dst: u32, src: u32) -> Out {
    let src = src & size.mask();
    scan(size, dst, (src != 0).then(|| 31 - src.leading_zeros()))
}

/// Splits the bit offset of a memory-operand BT/BTS/BTR/BTC with a register offset into a
/// byte displacement to add to the effective address and the bit index within the operand
/// read there. The offset register is signed (16-bit: ±32K bits; 32-bit: ±2G bits), so the
/// operand may lie below the address. For an immediate offset use displacement 0: the
/// immediate is taken modulo the operand width, as for a register destination.
#[inline]
pub fn bit_address(size: Size, offset: u32) -> (i32, u32) {
    let offset = size.sign_extend(offset) as i32;
    let log2_bits = size.bits().trailing_zeros();
    let bytes = (size.bits() / 8) as i32;
    (
        (offset >> log2_bits) * bytes,
        offset as u32 & (size.bits() - 1),
    )
}

/// CF = the selected bit; OF SF AF PF are undefined and kept, ZF is unaffected.
#[inline]
fn test_bit(size: Size, base: u32, bit: u32, value: u32) -> Out {
    let bit = bit & (size.bits() - 1);
    Out {
        value: value & size.mask(),
        flags: (base >> bit) & 1,
        written: CF,
        undefined: OF | SF | AF | PF,
    }
}

/// BT: `bit` is taken modulo the operand width; the value is `base`, unchanged.
#[inline]
pub fn bt(size: Size, base: u32, bit: u32) -> Out {
    test_bit(size, base, bit, base)
}

/// BTS: BT, then set the bit.
#[inline]
pub fn bts(size: Size, base: u32, bit: u32) -> Out {
    test_bit(size, base, bit, base | single(size, bit))
}

/// BTR: BT, then clear the bit.
#[inline]
pub fn btr(size: Size, base: u32, bit: u32) -> Out {
    test_bit(size, base, bit, base & !single(size, bit))
}

/// BTC: BT, then complement the bit.
#[inline]
pub fn btc(size: Size, base: u32, bit: u32) -> Out {
    test_bit(size, base, bit, base ^ single(size, bit))
}

#[inline]
fn single(size: Size, bit: u32) -> u32 {
    1 << (bit & (size.bits() - 1))
}

/// BSWAP of a 32-bit register. (With a 16-bit operand the SDM leaves the result undefined.)
#[inline]
pub fn bswap(v: u32) -> u32 {
    v.swap_bytes()
}
