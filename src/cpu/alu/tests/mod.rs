//! Checks every function against the host CPU, which runs the same instructions natively.
//!
//! Each case sets the input flags, runs one instruction with `asm!` on 8/16/32-bit registers
//! (or, for the instructions 64-bit mode lacks, in a 32-bit helper built with `gcc -m32`) and
//! compares the value and every status flag the SDM defines. Flags it leaves undefined are
//! not compared; instead each test prints how often the host agrees with our choice (run with
//! `--nocapture` to see it). The host need not be a P6, so those figures are only for the record.

mod arith;
mod bcd;
mod bits;
mod cond;
mod host;
mod muldiv;
mod shift;

use super::{AF, CF, OF, Out, PF, SF, STATUS, Size, ZF};
use host::Host;

const SIZES: [Size; 3] = [Size::Byte, Size::Word, Size::Dword];

/// Random cases per instruction and operand size, on top of the edge cases.
const RANDOM: usize = 20_000;

/// Values near the boundaries of every operand size.
const EDGES: [u32; 24] = [
    0,
    1,
    2,
    0x0f,
    0x10,
    0x7f,
    0x80,
    0x81,
    0xfe,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0x8001,
    0xfffe,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0x8000_0001,
    0xffff_fffe,
    0xffff_ffff,
    0x5555_5555,
    0xaaaa_aaaa,
];

/// xorshift64* with a fixed seed per test, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn u32(&mut self) -> u32 {
        (self.next() >> 32) as u32
    }

    /// Mostly uniform, with edge values and small numbers mixed in.
    fn operand(&mut self) -> u32 {
        let r = self.next();
        match r & 7 {
            0 => EDGES[(r >> 8) as usize % EDGES.len()],
            1 => (r >> 32) as u32 & 0x1f,
            _ => (r >> 32) as u32,
        }
    }

    /// A random combination of the six status flags.
    fn flags(&mut self) -> u32 {
        self.u32() & STATUS
    }
}

/// Operand pairs: every byte pair, or all edge pairs plus random ones for wider sizes; each with
/// random input flags.
fn pairs(size: Size, rng: &mut Rng) -> Vec<(u32, u32, u32)> {
    let mut cases = Vec::new();
    if size == Size::Byte {
        for a in 0..256 {
            for b in 0..256 {
                cases.push((a, b, rng.flags()));
            }
        }
        return cases;
    }
    for &a in &EDGES {
        for &b in &EDGES {
            for carry in [0, CF] {
                cases.push((a, b, (rng.flags() & !CF) | carry));
            }
        }
    }
    for _ in 0..RANDOM {
        cases.push((rng.operand(), rng.operand(), rng.flags()));
    }
    cases
}

const FLAG_NAMES: [(&str, u32); 6] = [
    ("CF", CF),
    ("PF", PF),
    ("AF", AF),
    ("ZF", ZF),
    ("SF", SF),
    ("OF", OF),
];

/// Compares results and counts host agreement on undefined flags (index 6: undefined values).
struct Tally {
    name: &'static str,
    cases: u64,
    undefined: [(u64, u64); 7],
}

impl Tally {
    fn new(name: &'static str) -> Tally {
        Tally {
            name,
            cases: 0,
            undefined: [(0, 0); 7],
        }
    }

    /// Asserts that `ours` (and its second output `extra`) matches the host on all but the
    /// undefined flags.
    fn check(
        &mut self,
        size: Size,
        inputs: &[u32],
        flags_in: u32,
        host: Host,
        ours: Out,
        extra: u32,
    ) {
        self.compare(size, inputs, flags_in, host, ours, extra, false);
    }

    /// As `check`, for inputs where the SDM leaves the result value undefined too.
    #[allow(clippy::too_many_arguments)]
    fn compare(
        &mut self,
        size: Size,
        inputs: &[u32],
        flags_in: u32,
        host: Host,
        ours: Out,
        extra: u32,
        value_undefined: bool,
    ) {
        let context = || {
            format!(
                "{} {size:?} inputs {inputs:x?} flags {flags_in:#x}",
                self.name
            )
        };
        assert_eq!(
            ours.flags & !ours.written,
            0,
            "flags outside `written`: {}",
            context()
        );
        assert_eq!(
            (ours.written | ours.undefined) & !STATUS,
            0,
            "not a status flag: {}",
            context()
        );
        assert_eq!(
            ours.value & !size.mask(),
            0,
            "value not zero-extended: {}",
            context()
        );
        let diff = (ours.apply(flags_in) ^ host.flags) & STATUS;
        let same_value = ours.value == host.value;
        if !value_undefined {
            assert!(
                same_value,
                "value: host {:#x} ours {:#x}: {}",
                host.value,
                ours.value,
                context()
            );
        }
        assert_eq!(extra, host.extra, "second output: {}", context());
        assert_eq!(
            diff & !ours.undefined,
            0,
            "flags: host {:#x} ours {:#x}: {}",
            host.flags,
            ours.apply(flags_in) & STATUS,
            context()
        );
        self.cases += 1;
        for (i, (_, f)) in FLAG_NAMES.iter().enumerate() {
            if ours.undefined & f != 0 {
                self.undefined[i].0 += 1;
                self.undefined[i].1 += u64::from(diff & f == 0);
            }
        }
        if value_undefined {
            self.undefined[6].0 += 1;
            self.undefined[6].1 += u64::from(same_value);
        }
    }

    /// Prints the case count and, per undefined flag, how often the host agreed with us.
    fn report(&self) {
        let mut line = format!("{:<10} {:>8} cases", self.name, self.cases);
        let names = FLAG_NAMES.iter().map(|(n, _)| *n).chain(["value"]);
        for (name, (seen, agreed)) in names.zip(self.undefined) {
            if seen > 0 {
                line += &format!("  {name} {agreed}/{seen}");
            }
        }
        println!("{line}");
    }
}
