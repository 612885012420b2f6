//! Bit-for-bit comparisons with the host CPU, which runs MMX and SSE natively: every instruction
//! executes through `asm!` on hand-picked edge cases and seeded random operands.

mod mmx;
mod mmx_ext;
mod reciprocal;
mod sse_move;

/// Random operands per instruction, after the edge cases.
const RANDOM_CASES: usize = 4096;

/// 64-bit edge values: lane boundaries for saturation, signs, compares and shifts.
const EDGES: [u64; 20] = [
    0,
    1,
    u64::MAX,
    0x8000_0000_0000_0000,
    0x7FFF_FFFF_FFFF_FFFF,
    0x0101_0101_0101_0101,
    0x7F7F_7F7F_7F7F_7F7F,
    0x8080_8080_8080_8080,
    0x8181_8181_8181_8181,
    0xFEFE_FEFE_FEFE_FEFE,
    0x0001_0001_0001_0001,
    0x7FFF_7FFF_7FFF_7FFF,
    0x8000_8000_8000_8000,
    0x8001_8001_8001_8001,
    0x00FF_00FF_00FF_00FF,
    0xFF80_007F_0080_FF7F,
    0x0000_0001_0000_0001,
    0x7FFF_FFFF_8000_0000,
    0x8000_0000_7FFF_FFFF,
    0x0123_4567_89AB_CDEF,
];

/// Byte and word values near which lanes saturate, wrap or change sign.
const EDGE_BYTES: [u8; 8] = [0x00, 0x01, 0x7E, 0x7F, 0x80, 0x81, 0xFE, 0xFF];
const EDGE_WORDS: [u16; 12] = [
    0x0000, 0x0001, 0x007F, 0x0080, 0x00FF, 0x0100, 0x7FFF, 0x8000, 0x8001, 0xFF7F, 0xFF80, 0xFFFF,
];

/// xorshift64 with a fixed seed, so a failure reproduces.
pub struct Rng(u64);

impl Rng {
    pub fn new() -> Self {
        Rng(0x9E37_79B9_7F4A_7C15)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A random value whose lanes are often edge values, so boundaries get hit.
    pub fn operand(&mut self) -> u64 {
        match self.below(3) {
            0 => self.next(),
            1 => (0..8).fold(0, |v, i| {
                let b = if self.below(4) == 0 {
                    self.next() as u8
                } else {
                    EDGE_BYTES[self.below(8)]
                };
                v | u64::from(b) << (8 * i)
            }),
            _ => (0..4).fold(0, |v, i| {
                let w = if self.below(4) == 0 {
                    self.next() as u16
                } else {
                    EDGE_WORDS[self.below(12)]
                };
                v | u64::from(w) << (16 * i)
            }),
        }
    }

    /// A second operand for `a`: often `a` with a few bytes changed, so lanes compare equal.
    pub fn partner(&mut self, a: u64) -> u64 {
        if self.below(4) == 0 {
            a ^ (self.next() & self.next() & 0xFF00_00FF_0000_FF00)
        } else {
            self.operand()
        }
    }
}

/// Every pair of edge values, then random pairs.
pub fn pairs() -> impl Iterator<Item = (u64, u64)> {
    let edges = EDGES
        .iter()
        .flat_map(|&a| EDGES.iter().map(move |&b| (a, b)));
    let mut rng = Rng::new();
    let random = (0..RANDOM_CASES).map(move |_| {
        let a = rng.operand();
        (a, rng.partner(a))
    });
    edges.chain(random)
}

/// Single operands: the edge values, then random ones.
pub fn singles() -> impl Iterator<Item = u64> {
    let mut rng = Rng::new();
    EDGES
        .into_iter()
        .chain((0..RANDOM_CASES).map(move |_| rng.operand()))
}

/// A table `[f::<0>, ..., f::<255>]` of a host function taking its imm8 as a const parameter.
macro_rules! each_imm {
    ($f:ident) => {
        each_imm!(@rows $f
            [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15]
            [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15])
    };
    (@rows $f:ident [$($high:tt)*] $lows:tt) => {
        [$(each_imm!(@row $f $high $lows)),*].concat()
    };
    (@row $f:ident $high:tt [$($low:tt)*]) => {
        [$($f::<{ $high * 16 + $low }>),*]
    };
}
use each_imm;

/// `asm!` for MMX code: `[template lines], operands`. Appends EMMS, so the x87 stack is left
/// empty again, and declares mm0, mm1 and the x87 registers they alias as clobbered, as Rust
/// requires of code that changes the x87 state.
macro_rules! mmx_asm {
    ([$($line:expr),* $(,)?], $($operand:tt)*) => {
        core::arch::asm!(
            $($line,)*
            "emms",
            $($operand)*
            out("mm0") _,
            out("mm1") _,
            out("st(0)") _,
            out("st(1)") _,
            out("st(2)") _,
            out("st(3)") _,
            out("st(4)") _,
            out("st(5)") _,
            out("st(6)") _,
            out("st(7)") _,
            options(nostack, preserves_flags),
        )
    };
}
use mmx_asm;
