//! The IEEE single and double formats as raw bits (in the low bits of a `u64`).

use super::arith::{Num, Operand};
use super::round::{Format, Packed};

impl Format {
    fn frac_bits(self) -> u32 {
        self.prec - 1
    }

    /// Exponent field width: 8 or 11.
    fn exp_bits(self) -> u32 {
        (self.emax as u32 + 1).trailing_zeros() + 1
    }

    fn sign_bit(self) -> u64 {
        1 << (self.frac_bits() + self.exp_bits())
    }

    /// The default NaN, negative and quiet: 0xFFC0_0000 for singles. It is both the
    /// SSE default NaN and the x87 indefinite stored to memory.
    pub fn default_nan(self) -> u64 {
        self.pack_nan(true, 0xC000_0000_0000_0000)
    }

    /// Encodes a NaN from an x87-layout significand, keeping its top fraction bits.
    pub fn pack_nan(self, sign: bool, sig: u64) -> u64 {
        let frac = (sig << 1) >> (65 - self.prec);
        (sign as u64 * self.sign_bit()) | (self.max_field() as u64) << self.frac_bits() | frac
    }

    pub fn pack(self, p: Packed) -> u64 {
        let frac = (p.sig << 1) >> (65 - self.prec);
        (p.sign as u64 * self.sign_bit()) | (p.bexp as u64) << self.frac_bits() | frac
    }

    /// Decodes `bits`; the flag says the operand is a denormal.
    pub fn unpack(self, bits: u64) -> (Operand, bool) {
        let sign = bits & self.sign_bit() != 0;
        let field = (bits >> self.frac_bits()) as u32 & self.max_field();
        let frac = bits & ((1 << self.frac_bits()) - 1);
        let sig = frac << (64 - self.frac_bits()) >> 1; // fraction below bit 63
        let op = match field {
            0 if frac == 0 => Operand::Num(Num::Zero(sign)),
            0 => return (Operand::Num(Num::finite(sign, self.emin, sig)), true),
            f if f == self.max_field() && frac == 0 => Operand::Num(Num::Inf(sign)),
            f if f == self.max_field() => Operand::Nan {
                sign,
                sig: sig | 1 << 63,
            },
            f => Operand::Num(Num::Finite {
                sign,
                exp: f as i32 - self.emax,
                sig: sig | 1 << 63,
            }),
        };
        (op, false)
    }

    /// Encodes a NaN operand, quietened.
    pub fn quiet_nan(self, sign: bool, sig: u64) -> u64 {
        self.pack_nan(sign, sig | 1 << 62)
    }
}
