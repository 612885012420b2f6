//! The seeded generator behind every random operand: xorshift64*, so a run is the same on every
//! machine and a case can be reproduced from `--seed`.

pub struct Rng(u64);

impl Rng {
    /// A generator for one form: the run's seed mixed with the form's name, so `--filter` does
    /// not change which cases a form gets.
    pub fn for_form(seed: u64, name: &str) -> Rng {
        // FNV-1a of the name, then SplitMix64's finaliser; the state must not be zero.
        let mut h = 0xCBF2_9CE4_8422_2325u64;
        for byte in name.bytes() {
            h = (h ^ u64::from(byte)).wrapping_mul(0x100_0000_01B3);
        }
        let mut z = seed ^ h;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u32) -> u32 {
        if n == 0 {
            0
        } else {
            ((u64::from(self.next_u32()) * u64::from(n)) >> 32) as u32
        }
    }

    /// True with probability 1/`n`.
    pub fn one_in(&mut self, n: u32) -> bool {
        self.below(n) == 0
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u32) as usize]
    }

    /// A 32-bit value, often one where arithmetic changes behaviour (carries, signs, widths).
    pub fn value(&mut self) -> u32 {
        const EDGES: [u32; 16] = [
            0,
            1,
            2,
            0x7F,
            0x80,
            0xFF,
            0x100,
            0x7FFF,
            0x8000,
            0xFFFF,
            0x1_0000,
            0x7FFF_FFFF,
            0x8000_0000,
            0xFFFF_FFFE,
            0xFFFF_FFFF,
            0x0F0F_0F0F,
        ];
        match self.below(8) {
            0 => self.pick(&EDGES),
            1 => self.pick(&EDGES).wrapping_neg(),
            2 => self.below(40),
            _ => self.next_u32(),
        }
    }
}
