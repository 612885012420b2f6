//! SHL SHR SAR ROL ROR RCL RCR SHLD SHRD over every CL value 0..=255 (the host masks it too).

use super::super as alu;
use super::{CF, EDGES, Out, RANDOM, Rng, SIZES, Size, Tally, host};

/// Operand values: every byte, or the edges plus random values.
fn values(size: Size, rng: &mut Rng) -> Vec<u32> {
    match size {
        Size::Byte => (0..256).collect(),
        _ => EDGES
            .into_iter()
            .chain((0..60).map(|_| rng.operand()))
            .collect(),
    }
}

fn check_shift(
    name: &'static str,
    host: fn(Size, u32, u8, u32) -> host::Host,
    ours: fn(Size, u32, u32, bool) -> Out,
    seed: u64,
) {
    let mut tally = Tally::new(name);
    let mut rng = Rng::new(seed);
    for size in SIZES {
        for a in values(size, &mut rng) {
            for count in 0..=255 {
                let f = rng.flags();
                let out = ours(size, a, u32::from(count), f & CF != 0);
                tally.check(size, &[a, count.into()], f, host(size, a, count, f), out, 0);
            }
        }
    }
    tally.report();
}

#[test]
fn shifts() {
    check_shift("shl", host::shl, |s, a, n, _| alu::shl(s, a, n), 20);
    check_shift("shr", host::shr, |s, a, n, _| alu::shr(s, a, n), 21);
    check_shift("sar", host::sar, |s, a, n, _| alu::sar(s, a, n), 22);
}

#[test]
fn rotates() {
    check_shift("rol", host::rol, |s, a, n, _| alu::rol(s, a, n), 23);
    check_shift("ror", host::ror, |s, a, n, _| alu::ror(s, a, n), 24);
    check_shift("rcl", host::rcl, alu::rcl, 25);
    check_shift("rcr", host::rcr, alu::rcr, 26);
}

#[test]
fn double_shifts() {
    type Host = fn(Size, u32, u32, u8, u32) -> host::Host;
    type Ours = fn(Size, u32, u32, u32) -> Out;
    let ops: [(&str, Host, Ours); 2] = [
        ("shld", host::shld, alu::shld),
        ("shrd", host::shrd, alu::shrd),
    ];
    let mut rng = Rng::new(27);
    for (name, host, ours) in ops {
        let mut tally = Tally::new(name);
        for size in [Size::Word, Size::Dword] {
            for _ in 0..80 {
                let (a, b) = (rng.operand(), rng.operand());
                for count in 0..=255u8 {
                    let f = rng.flags();
                    let out = ours(size, a, b, count.into());
                    let h = host(size, a, b, count, f);
                    // A 16-bit count over 16 leaves the result undefined as well.
                    let value_undefined = size == Size::Word && count & 31 > 16;
                    let inputs = [a, b, count.into()];
                    tally.compare(size, &inputs, f, h, out, b & size.mask(), value_undefined);
                }
            }
        }
        tally.report();
    }
}

/// Counts beyond CL's range (imm8 callers, or a whole ECX) behave as their low five bits.
#[test]
fn counts_use_the_low_five_bits() {
    let mut rng = Rng::new(28);
    for _ in 0..RANDOM {
        let size = SIZES[rng.u32() as usize % 3];
        let (a, b, count, carry) = (rng.u32(), rng.u32(), rng.u32(), rng.u32() & 1 != 0);
        let low = count & 31;
        assert_eq!(alu::shl(size, a, count), alu::shl(size, a, low));
        assert_eq!(alu::shr(size, a, count), alu::shr(size, a, low));
        assert_eq!(alu::sar(size, a, count), alu::sar(size, a, low));
        assert_eq!(alu::rol(size, a, count), alu::rol(size, a, low));
        assert_eq!(alu::ror(size, a, count), alu::ror(size, a, low));
        assert_eq!(
            alu::rcl(size, a, count, carry),
            alu::rcl(size, a, low, carry)
        );
        assert_eq!(
            alu::rcr(size, a, count, carry),
            alu::rcr(size, a, low, carry)
        );
        assert_eq!(alu::shld(size, a, b, count), alu::shld(size, a, b, low));
        assert_eq!(alu::shrd(size, a, b, count), alu::shrd(size, a, b, low));
    }
}
