//! Seeded operand generators that favour the interesting exponents and bit patterns.

use super::super::F80;

/// xorshift64* generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }

    /// A significand pattern: random, runs of ones, short, or a rounding boundary (a
    /// halfway point and its neighbours after 24, 53 or other numbers of bits).
    pub fn bits64(&mut self) -> u64 {
        match self.below(6) {
            0 | 1 => self.next(),
            2 => {
                let (lo, len) = (self.below(64), self.below(64));
                let run = if len == 0 { 0 } else { u64::MAX >> (64 - len) };
                let sign = if self.chance(2) { u64::MAX } else { 0 };
                (run << lo) ^ sign ^ (self.next() & self.next() & self.next())
            }
            3 => self.next() & !(u64::MAX >> self.below(64)),
            _ => {
                let keep = [24, 53, 63, 23, 52, 11, 40, 32][self.below(8) as usize];
                let top = self.next() & !(u64::MAX >> keep);
                let half = (1u64 << 63) >> keep;
                let tail =
                    [0, half, half - 1, half + 1, half | 1, 1, !0 >> keep][self.below(7) as usize];
                top | (tail & (u64::MAX >> keep))
            }
        }
    }

    /// A biased exponent in the ranges that matter: specials, denormals and their
    /// neighbours, around one, near overflow, or anywhere.
    pub fn exp15(&mut self) -> u16 {
        match self.below(8) {
            0 => [0, 0x7FFF, 1, 0x7FFE][self.below(4) as usize],
            1 => self.below(80) as u16,
            2 => 0x7FFE - self.below(80) as u16,
            3 | 4 => 0x3FFF - 70 + self.below(140) as u16,
            _ => self.below(0x8000) as u16,
        }
    }

    pub fn f80(&mut self) -> F80 {
        let exp = self.exp15();
        let mut mantissa = self.bits64();
        if exp != 0 && !self.chance(30) {
            mantissa |= 1 << 63; // mostly supported encodings
        } else if exp == 0 && !self.chance(30) {
            mantissa &= !(1 << 63); // mostly true denormals
        }
        F80 {
            sign_exp: exp | (self.next() as u16 & 0x8000),
            mantissa,
        }
    }

    /// A second operand, often close to the first in exponent or value, or placed so
    /// that a product or quotient lands near the denormal or overflow boundary.
    pub fn f80_near(&mut self, a: F80) -> F80 {
        let mut b = self.f80();
        let ea = a.biased_exp() as i32;
        let mut set_exp = |e: i32| b.sign_exp = (b.sign_exp & 0x8000) | e.clamp(0, 0x7FFF) as u16;
        match self.below(6) {
            0 => set_exp(ea + self.below(140) as i32 - 70),
            2 => set_exp(0x3FFF + 1 - ea + self.below(80) as i32 - 70), // product near 2^-16382
            3 => set_exp(ea - 0x3FFF + 0x7FFE - self.below(80) as i32 + 70), // quotient near 2^-16382
            4 if self.chance(2) => set_exp(0x3FFF + 0x7FFE - ea + self.below(3) as i32 - 1), // product near overflow
            4 => set_exp(ea + 0x3FFF - 0x7FFE + self.below(3) as i32 - 1), // quotient near overflow
            1 => {
                let delta = self.next() >> self.below(64);
                b = F80 {
                    mantissa: a.mantissa ^ delta,
                    ..a
                };
                if self.chance(2) {
                    b = b.chs();
                }
            }
            _ => {}
        }
        b
    }
}

impl Rng {
    /// A value near the integer ranges: exponent 2^0 .. 2^66, halves and boundaries.
    pub fn f80_integral(&mut self) -> F80 {
        let exp = 0x3FFF - 2 + self.below(68) as u16;
        let mantissa = self.bits64() | 1 << 63;
        F80 {
            sign_exp: exp | (self.next() as u16 & 0x8000),
            mantissa,
        }
    }

    /// Single-precision bits favouring specials, denormals and boundaries.
    pub fn f32(&mut self) -> u32 {
        let exp = match self.below(6) {
            0 => [0, 255, 1, 254][self.below(4) as usize],
            1 => self.below(30) as u32,
            2 => 254 - self.below(30) as u32,
            3 => 127 - 30 + self.below(60) as u32,
            _ => self.below(256) as u32,
        };
        let frac = (self.bits64() >> 41) as u32;
        (self.next() as u32 & 1 << 31) | exp << 23 | frac
    }

    /// Double-precision bits, as `f32`.
    pub fn f64(&mut self) -> u64 {
        let exp = match self.below(6) {
            0 => [0, 2047, 1, 2046][self.below(4) as usize],
            1 => self.below(70),
            2 => 2046 - self.below(70),
            3 => 1023 - 200 + self.below(400),
            _ => self.below(2048),
        };
        let frac = self.bits64() >> 12;
        (self.next() & 1 << 63) | exp << 52 | frac
    }
}

impl Rng {
    /// A second single, often close to `a` in exponent or value, or placed so that a
    /// product or quotient lands near the denormal or overflow boundary.
    pub fn f32_near(&mut self, a: u32) -> u32 {
        let b = self.f32();
        let (sign, ea) = (b & 1 << 31, (a >> 23 & 0xFF) as i64);
        let exp = |e: i64| (e.clamp(0, 255) as u32) << 23;
        match self.below(6) {
            0 => sign | exp(ea + self.below(60) as i64 - 30) | (b & 0x7F_FFFF),
            1 => (a ^ (self.next() as u32 >> self.below(32) >> 9)) ^ (sign & (self.next() as u32)),
            2 => sign | exp(127 + 1 - ea + self.below(30) as i64 - 25) | (b & 0x7F_FFFF),
            3 => sign | exp(ea - 127 + 1 + self.below(30) as i64 - 5) | (b & 0x7F_FFFF),
            _ => b,
        }
    }

    /// A double, often close to `a`, as `f32_near`.
    pub fn f64_near(&mut self, a: u64) -> u64 {
        let b = self.f64();
        let (sign, ea) = (b & 1 << 63, (a >> 52 & 0x7FF) as i64);
        let exp = |e: i64| (e.clamp(0, 2047) as u64) << 52;
        let frac = b & ((1 << 52) - 1);
        match self.below(6) {
            0 => sign | exp(ea + self.below(120) as i64 - 60) | frac,
            1 => (a ^ (self.next() >> self.below(64) >> 12)) ^ (sign & self.next()),
            2 => sign | exp(1023 + 1 - ea + self.below(60) as i64 - 55) | frac,
            3 => sign | exp(ea - 1023 + 1 + self.below(60) as i64 - 5) | frac,
            _ => b,
        }
    }

    /// A double whose magnitude is near the single-precision range's edges.
    pub fn f64_single_range(&mut self) -> u64 {
        let d = self.f64();
        let exp = match self.below(4) {
            0 => 1023 - 126 - self.below(30) as i64,
            1 => 1023 + 127 + self.below(4) as i64 - 2,
            2 => 1023 + self.below(60) as i64 - 30,
            _ => return d,
        };
        (d & !(0x7FF << 52)) | (exp as u64) << 52
    }

    /// A single near the integer range: 2^-2 .. 2^33.
    pub fn f32_integral(&mut self) -> u32 {
        let exp = 127 - 2 + self.below(36) as u32;
        (self.next() as u32 & 1 << 31) | exp << 23 | (self.bits64() >> 41) as u32
    }
}
