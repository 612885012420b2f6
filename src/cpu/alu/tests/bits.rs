//! BSF BSR BT BTS BTR BTC (register and memory forms) BSWAP.

use super::super as alu;
use super::{Out, RANDOM, Rng, Size, Tally, host};

#[test]
fn bsf_bsr() {
    type Ours = fn(Size, u32, u32) -> Out;
    let ops: [(&str, host::HostTwo, Ours); 2] =
        [("bsf", host::bsf, alu::bsf), ("bsr", host::bsr, alu::bsr)];
    let mut rng = Rng::new(40);
    for (name, host, ours) in ops {
        let mut tally = Tally::new(name);
        for size in [Size::Word, Size::Dword] {
            for i in 0..RANDOM {
                // Spread the set bits so that every index occurs; one case in eight is zero.
                let shift = rng.u32() % 32;
                let src = match i % 8 {
                    0 => 0,
                    1..4 => rng.u32() << shift,
                    _ => rng.u32() >> shift,
                };
                let (dst, f) = (rng.u32(), rng.flags());
                let (out, h) = (ours(size, dst, src), host(size, dst, src, f));
                // The destination is undefined for a zero source.
                let zero = src & size.mask() == 0;
                tally.compare(size, &[dst, src], f, h, out, src & size.mask(), zero);
            }
        }
        tally.report();
    }
}

type BitOp = fn(Size, u32, u32) -> Out;
const BIT_OPS: [(&str, host::HostTwo, BitOp); 4] = [
    ("bt", host::bt, alu::bt),
    ("bts", host::bts, alu::bts),
    ("btr", host::btr, alu::btr),
    ("btc", host::btc, alu::btc),
];

#[test]
fn bit_test_register() {
    let mut rng = Rng::new(41);
    for (name, host, ours) in BIT_OPS {
        let mut tally = Tally::new(name);
        for size in [Size::Word, Size::Dword] {
            for _ in 0..RANDOM {
                let (base, bit, f) = (rng.operand(), rng.u32(), rng.flags());
                let h = host(size, base, bit, f);
                tally.check(
                    size,
                    &[base, bit],
                    f,
                    h,
                    ours(size, base, bit),
                    bit & size.mask(),
                );
            }
        }
        tally.report();
    }
}

/// Memory forms with signed register offsets, on a buffer the host and a model of it share:
/// checks `bit_address` and that nothing but the addressed operand changes.
#[test]
fn bit_test_memory() {
    const MIDDLE: usize = 1 << 16;
    let mut rng = Rng::new(42);
    let mut memory: Vec<u8> = (0..2 * MIDDLE).map(|_| rng.u32() as u8).collect();
    let mut model = memory.clone();
    for (op, (name, _, ours)) in BIT_OPS.into_iter().enumerate() {
        let mut tally = Tally::new(name);
        for size in [Size::Word, Size::Dword] {
            let bytes = size.bits() as usize / 8;
            for _ in 0..RANDOM {
                // 16-bit offsets span ±32K bits; keep 32-bit ones to ±256K bits, inside the buffer.
                let offset = match size {
                    Size::Word => rng.u32(),
                    _ => ((rng.u32() as i32) >> 13) as u32,
                };
                let f = rng.flags();
                let (displacement, bit) = alu::bit_address(size, offset);
                let at = MIDDLE.wrapping_add_signed(displacement as isize);
                let read = |m: &[u8]| {
                    m[at..at + bytes]
                        .iter()
                        .rev()
                        .fold(0, |v, &b| (v << 8) | u32::from(b))
                };
                let out = ours(size, read(&model), bit);
                model[at..at + bytes].copy_from_slice(&out.value.to_le_bytes()[..bytes]);
                let base = memory[MIDDLE..].as_mut_ptr();
                let flags = host::bit_test_memory(op, size, base, offset, f);
                let h = host::Host {
                    value: read(&memory),
                    extra: 0,
                    flags,
                };
                tally.check(size, &[offset], f, h, out, 0);
            }
        }
        tally.report();
    }
    assert!(
        memory == model,
        "the host wrote outside the operand the model addressed"
    );
}

#[test]
fn bswap() {
    let mut rng = Rng::new(43);
    for _ in 0..RANDOM {
        let v = rng.u32();
        assert_eq!(alu::bswap(v), host::bswap(v), "{v:#x}");
    }
}
