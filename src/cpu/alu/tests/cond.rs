//! Condition codes, LAHF/SAHF and the sign extensions CBW CWDE CWD CDQ.

use super::super as alu;
use super::{FLAG_NAMES, Rng, STATUS, Size, host};

/// Every combination of the six status flags.
fn all_flag_combinations() -> impl Iterator<Item = u32> {
    (0..64u32).map(|bits| {
        FLAG_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| bits >> i & 1 != 0)
            .map(|(_, (_, f))| f)
            .sum()
    })
}

#[test]
fn conditions() {
    for flags in all_flag_combinations() {
        let host = host::setcc_all(flags);
        for cc in 0..16u8 {
            assert_eq!(
                alu::condition(cc, flags),
                host[usize::from(cc)],
                "cc {cc} flags {flags:#x}"
            );
            // Only the low four bits select the condition.
            assert_eq!(alu::condition(cc | 0x70, flags), host[usize::from(cc)]);
        }
    }
}

#[test]
fn lahf_sahf() {
    for flags in all_flag_combinations() {
        assert_eq!(alu::lahf(flags), host::lahf(flags), "flags {flags:#x}");
    }
    let mut rng = Rng::new(50);
    for ah in 0..=255 {
        let flags = rng.flags();
        assert_eq!(
            alu::sahf(flags, ah) & STATUS,
            host::sahf(ah, flags),
            "ah {ah:#x}"
        );
    }
}

#[test]
fn sign_extensions() {
    let mut rng = Rng::new(51);
    for _ in 0..10_000 {
        let v = rng.operand();
        let ours = (
            Size::Byte.sign_extend(v) & 0xffff,
            Size::Word.sign_extend(v),
            Size::Word.sign_fill(v),
            Size::Dword.sign_fill(v),
        );
        assert_eq!(ours, host::conversions(v), "{v:#x}");
    }
}
