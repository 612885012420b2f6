//! RCPPS/RCPSS and RSQRTPS/RSQRTSS: approximate 1/x and 1/sqrt(x) of single-precision values.
//!
//! Intel only promises |relative error| <= 1.5 * 2^-12, and the exact bits differ between CPU
//! generations, so the host instruction would make the emulator's results depend on the machine
//! it runs on. We use tables of our own instead, built at compile time with integer arithmetic
//! only, so every build on every host gives the same bits.
//!
//! # Tables
//!
//! Both tables have 2048 `u16` entries (4 KiB each). An entry holds the 16 bits below the
//! leading one of a result significand in [1, 2); the result's low 7 mantissa bits are zero.
//!
//! - RCP: a significand m in [1, 2) is split into 2048 intervals by its top 11 fraction bits.
//!   Entry i is 2/t rounded to nearest, t being the interval's midpoint
//!   1 + (2i + 1) / 2^12, so 2/t lies in (1, 2). For 1/x the midpoint value is the constant
//!   with the least maximum relative error over the interval: about 2^-12 at m = 1, less
//!   above, plus at most 2^-17 from rounding.
//! - RSQRT: x = 2^(2k) * t with t in [1, 4) (an odd exponent moves one factor 2 into t). The
//!   parity picks a half of the table and the top 10 fraction bits an interval, so t in [1, 2)
//!   has 1024 intervals of width 2^-10 and t in [2, 4) 1024 of width 2^-9. Entry j is 2/sqrt(t)
//!   rounded to nearest at the interval midpoint; the error is at most about width / (4 t),
//!   i.e. 2^-12 at t = 1 and t = 2, plus rounding.
//!
//! The measured maxima over every significand (see the tests) are 1.0103 * 2^-12 for RCP and
//! 1.0121 * 2^-12 for RSQRT, inside Intel's 1.5 * 2^-12.
//!
//! # Special values (as Intel documents them; MXCSR plays no part, no exception is raised)
//!
//! - A NaN comes back quieted (bit 22 set, sign and payload kept).
//! - ±0 and denormals (treated as zero of their sign) give ±inf, for RSQRT too (-0 gives -inf).
//! - ±inf gives ±0; for RSQRT, -inf and every other negative number give the QNaN indefinite.
//! - RCP results that would be denormal are flushed to zero of the input's sign. That happens
//!   exactly for |x| >= 2^126, which Intel permits: it guarantees flushing from
//!   1.00000000000110000000001b * 2^126 up and a normal result up to 1.1111111111010b * 2^125.

use super::Xmm;

const SIGN: u32 = 0x8000_0000;
const EXPONENT: u32 = 0x7F80_0000;
const FRACTION: u32 = 0x007F_FFFF;
const QUIET: u32 = 0x0040_0000;
const INDEFINITE: u32 = 0xFFC0_0000;

/// Table entries have 16 fraction bits; the mantissa field has 23.
const ENTRY_SHIFT: u32 = 23 - 16;

static RCP_TABLE: [u16; 2048] = rcp_table();
static RSQRT_TABLE: [u16; 2048] = rsqrt_table();

const fn rcp_table() -> [u16; 2048] {
    let mut table = [0; 2048];
    let mut i = 0;
    while i < table.len() {
        // The midpoint is d / 2^12, so 2^16 * 2 / midpoint is 2^29 / d; round it to nearest.
        let d = (1 << 12) + 2 * i as u64 + 1;
        let value = ((1 << 30) / d).div_ceil(2);
        table[i] = (value - (1 << 16)) as u16;
        i += 1;
    }
    table
}

const fn rsqrt_table() -> [u16; 2048] {
    let mut table = [0; 2048];
    let mut j = 0;
    while j < table.len() {
        // The midpoint is d / 2^11 in the lower half and d / 2^10 in the upper, so
        // 2^16 * 2 / sqrt(midpoint) is sqrt(q) with q = 2^45 / d or 2^44 / d. The nearest integer
        // to sqrt(q) is floor(sqrt(4q)) / 2 rounded up.
        let d = (1 << 11) + 2 * (j as u64 % 1024) + 1;
        let four_q = (1 << (47 - j / 1024)) / d;
        let value = four_q.isqrt().div_ceil(2);
        table[j] = (value - (1 << 16)) as u16;
        j += 1;
    }
    table
}

/// The value RCPSS writes to lane 0 (lanes 1..3 keep the destination's).
#[inline]
pub fn rcpss(x: u32) -> u32 {
    let sign = x & SIGN;
    let exponent = (x & EXPONENT) >> 23;
    let fraction = x & FRACTION;
    match exponent {
        0xFF if fraction != 0 => x | QUIET,
        0xFF => sign,
        0 => sign | EXPONENT,
        // 1/x < 2^-126: denormal, flushed.
        253.. => sign,
        _ => {
            // x = 2^e * m gives 1/x = 2^(-e-1) * (2/m): the biased exponent 127 - e - 1.
            let entry = u32::from(RCP_TABLE[(fraction >> 12) as usize]);
            sign | (253 - exponent) << 23 | entry << ENTRY_SHIFT
        }
    }
}

/// The value RSQRTSS writes to lane 0 (lanes 1..3 keep the destination's).
#[inline]
pub fn rsqrtss(x: u32) -> u32 {
    let sign = x & SIGN;
    let exponent = (x & EXPONENT) >> 23;
    let fraction = x & FRACTION;
    match exponent {
        0xFF if fraction != 0 => x | QUIET,
        0 => sign | EXPONENT,
        _ if sign != 0 => INDEFINITE,
        0xFF => 0,
        _ => {
            // x = 2^(2k) * t, t in [1, 4), gives 1/sqrt(x) = 2^(-k-1) * (2/sqrt(t)) with
            // k = floor((exponent - 127) / 2): the biased exponent 126 - k, which is
            // 190 - ceil(exponent / 2). An even biased exponent is an odd true one, whose t is
            // in [2, 4): the table's upper half.
            let upper = usize::from(exponent.is_multiple_of(2));
            let entry = u32::from(RSQRT_TABLE[upper << 10 | (fraction >> 13) as usize]);
            (190 - exponent.div_ceil(2)) << 23 | entry << ENTRY_SHIFT
        }
    }
}

#[inline]
pub fn rcpps(a: Xmm) -> Xmm {
    a.map(rcpss)
}

#[inline]
pub fn rsqrtps(a: Xmm) -> Xmm {
    a.map(rsqrtss)
}
