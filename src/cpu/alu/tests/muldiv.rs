//! MUL IMUL (all forms) DIV IDIV. Division is run on the host only where it cannot fault; the
//! 32-bit helper (bcd.rs) checks the #DE cases.

use super::super as alu;
use super::{EDGES, RANDOM, Rng, SIZES, Size, Tally, host, pairs};

#[test]
fn mul_imul() {
    let mut rng = Rng::new(30);
    for (name, host, ours) in [
        ("mul", host::mul as host::HostAcc, alu::mul as OurMul),
        ("imul", host::imul, alu::imul),
    ] {
        let mut tally = Tally::new(name);
        for size in SIZES {
            for (a, b, f) in pairs(size, &mut rng) {
                let (out, hi) = ours(size, a, b);
                tally.check(size, &[a, b], f, host(size, a, 0, b, f), out, hi);
            }
        }
        tally.report();
    }
}

type OurMul = fn(Size, u32, u32) -> (alu::Out, u32);

#[test]
fn imul_truncating() {
    let mut rng = Rng::new(31);
    let mut tally = Tally::new("imul2");
    for size in [Size::Word, Size::Dword] {
        for (a, b, f) in pairs(size, &mut rng) {
            let out = alu::imul_trunc(size, a, b);
            tally.check(
                size,
                &[a, b],
                f,
                host::imul2(size, a, b, f),
                out,
                b & size.mask(),
            );
        }
    }
    tally.report();
    let mut tally = Tally::new("imul3");
    let sources: Vec<u32> = EDGES
        .into_iter()
        .chain((0..RANDOM / 10).map(|_| rng.operand()))
        .collect();
    for src in sources {
        let f = rng.flags();
        for (size, results) in [
            (Size::Word, host::imul3_word(src, f)),
            (Size::Dword, host::imul3_dword(src, f)),
        ] {
            for (imm, h) in results {
                let out = alu::imul_trunc(size, src, imm as u32);
                tally.check(size, &[src, imm as u32], f, h, out, src & size.mask());
            }
        }
    }
    tally.report();
}

/// Reference quotient and remainder, or None for #DE, computed independently in i128.
fn reference(size: Size, signed: bool, lo: u32, hi: u32, d: u32) -> Option<(u32, u32)> {
    let bits = size.bits();
    let m = i128::from(size.mask());
    let wide = (i128::from(hi) & m) << bits | (i128::from(lo) & m);
    let (n, d) = if signed {
        let half = 1i128 << (2 * bits - 1);
        let sd = i128::from(size.sign_extend(d) as i32);
        (if wide >= half { wide - 2 * half } else { wide }, sd)
    } else {
        (wide, i128::from(d) & m)
    };
    if d == 0 {
        return None;
    }
    let q = n / d;
    let range = if signed { -(m + 1) / 2..=m / 2 } else { 0..=m };
    range
        .contains(&q)
        .then(|| ((q & m) as u32, ((n % d) & m) as u32))
}

#[test]
fn div_idiv() {
    type OurDiv = fn(Size, u32, u32, u32) -> Result<(alu::Out, u32), alu::DivideError>;
    let ops: [(&str, bool, host::HostAcc, OurDiv); 2] = [
        ("div", false, host::div, alu::div),
        ("idiv", true, host::idiv, alu::idiv),
    ];
    let mut rng = Rng::new(32);
    for (name, signed, host, ours) in ops {
        let mut tally = Tally::new(name);
        let mut faults = 0;
        for size in SIZES {
            for i in 0..4 * RANDOM {
                let (lo, d, f) = (rng.operand(), rng.operand(), rng.flags());
                // Mostly dividends whose high half is the sign (or zero) extension, so most
                // quotients fit; the rest random.
                let hi = match i % 4 {
                    0 => rng.operand(),
                    1 => 0,
                    2 => rng.u32() % 3,
                    _ => size.sign_fill(lo),
                };
                let expected = reference(size, signed, lo, hi, d);
                match ours(size, lo, hi, d) {
                    Err(alu::DivideError) => {
                        assert_eq!(expected, None, "{name} {size:?} {hi:#x}:{lo:#x} / {d:#x}");
                        faults += 1;
                    }
                    Ok((out, rem)) => {
                        assert_eq!(
                            Some((out.value, rem)),
                            expected,
                            "{name} {size:?} {hi:#x}:{lo:#x} / {d:#x}"
                        );
                        tally.check(size, &[lo, hi, d], f, host(size, lo, hi, d, f), out, rem);
                    }
                }
            }
        }
        tally.report();
        println!("{name:<10} {faults:>8} #DE cases checked against i128 (and the 32-bit helper)");
    }
}
