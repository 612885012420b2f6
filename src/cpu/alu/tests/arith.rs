//! ADD ADC SUB SBB CMP AND OR XOR TEST XADD CMPXCHG CMPXCHG8B INC DEC NEG NOT.

use super::super as alu;
use super::{CF, EDGES, Out, RANDOM, Rng, SIZES, Size, Tally, ZF, host, pairs};

/// Our side of a two-operand instruction: the result and the second output (the source
/// afterwards).
type Ours = fn(Size, u32, u32, u32) -> (Out, u32);

fn check_two(name: &'static str, host: host::HostTwo, ours: Ours, seed: u64) {
    let mut tally = Tally::new(name);
    let mut rng = Rng::new(seed);
    for size in SIZES {
        for (a, b, f) in pairs(size, &mut rng) {
            let (out, extra) = ours(size, a, b, f);
            tally.check(size, &[a, b], f, host(size, a, b, f), out, extra);
        }
    }
    tally.report();
}

/// The source is unchanged for all but XADD.
fn keep_src(size: Size, b: u32, out: Out) -> (Out, u32) {
    (out, b & size.mask())
}

/// CMP and TEST keep the destination.
fn flags_only(size: Size, a: u32, b: u32, out: Out) -> (Out, u32) {
    (
        Out {
            value: a & size.mask(),
            ..out
        },
        b & size.mask(),
    )
}

#[test]
fn add_adc_sub_sbb_cmp() {
    check_two(
        "add",
        host::add,
        |s, a, b, _| keep_src(s, b, alu::add(s, a, b)),
        1,
    );
    check_two(
        "adc",
        host::adc,
        |s, a, b, f| keep_src(s, b, alu::adc(s, a, b, f & CF != 0)),
        2,
    );
    check_two(
        "sub",
        host::sub,
        |s, a, b, _| keep_src(s, b, alu::sub(s, a, b)),
        3,
    );
    check_two(
        "sbb",
        host::sbb,
        |s, a, b, f| keep_src(s, b, alu::sbb(s, a, b, f & CF != 0)),
        4,
    );
    check_two(
        "cmp",
        host::cmp,
        |s, a, b, _| flags_only(s, a, b, alu::sub(s, a, b)),
        5,
    );
}

#[test]
fn and_or_xor_test() {
    check_two(
        "and",
        host::and,
        |s, a, b, _| keep_src(s, b, alu::and(s, a, b)),
        6,
    );
    check_two(
        "or",
        host::or,
        |s, a, b, _| keep_src(s, b, alu::or(s, a, b)),
        7,
    );
    check_two(
        "xor",
        host::xor,
        |s, a, b, _| keep_src(s, b, alu::xor(s, a, b)),
        8,
    );
    check_two(
        "test",
        host::test,
        |s, a, b, _| flags_only(s, a, b, alu::and(s, a, b)),
        9,
    );
}

#[test]
fn xadd() {
    check_two("xadd", host::xadd, |s, a, b, _| alu::xadd(s, a, b), 10);
}

#[test]
fn inc_dec_neg_not() {
    type One = fn(Size, u32) -> Out;
    let ops: [(&str, host::HostOne, One); 4] = [
        ("inc", host::inc, alu::inc),
        ("dec", host::dec, alu::dec),
        ("neg", host::neg, alu::neg),
        ("not", host::not, |s, a| Out::keep(alu::not(s, a))),
    ];
    let mut rng = Rng::new(11);
    for (name, host, ours) in ops {
        let mut tally = Tally::new(name);
        for size in SIZES {
            let values = (0..256)
                .chain(EDGES)
                .chain((0..RANDOM).map(|_| rng.operand()));
            for a in values.collect::<Vec<_>>() {
                for f in [rng.flags() & !CF, rng.flags() | CF] {
                    tally.check(size, &[a], f, host(size, a, f), ours(size, a), 0);
                }
            }
        }
        tally.report();
    }
}

#[test]
fn cmpxchg() {
    let mut tally = Tally::new("cmpxchg");
    let mut rng = Rng::new(12);
    for size in SIZES {
        for (acc, dst, f) in pairs(size, &mut rng) {
            let src = rng.operand();
            // Make half of the random cases equal, which uniform operands almost never are.
            let acc = if rng.next() & 1 == 0 { dst } else { acc };
            let (out, new_acc) = alu::cmpxchg(size, acc, dst, src);
            tally.check(
                size,
                &[acc, dst, src],
                f,
                host::cmpxchg(size, acc, dst, src, f),
                out,
                new_acc,
            );
        }
    }
    tally.report();
}

#[test]
fn cmpxchg8b() {
    let mut rng = Rng::new(13);
    for i in 0..RANDOM {
        let mem = rng.next();
        let edx_eax = if i % 2 == 0 { mem } else { rng.next() };
        let (ecx_ebx, f) = (rng.next(), rng.flags());
        let ours = alu::cmpxchg8b(edx_eax, ecx_ebx, mem);
        let (host_mem, host_edx_eax, host_flags) = host::cmpxchg8b(edx_eax, ecx_ebx, mem, f);
        let zf = if ours.zf { ZF } else { 0 };
        assert_eq!(
            (ours.mem, ours.edx_eax),
            (host_mem, host_edx_eax),
            "{edx_eax:#x} {mem:#x}"
        );
        assert_eq!((f & !ZF) | zf, host_flags, "only ZF changes");
    }
    println!("cmpxchg8b  {RANDOM:>8} cases");
}
