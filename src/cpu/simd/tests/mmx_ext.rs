use super::super::mmx_ext::*;
use super::mmx::{check, host};
use super::{Rng, each_imm, mmx_asm, pairs, singles};

#[test]
fn two_operand_forms() {
    check(&[
        ("pavgb", pavgb, host!("pavgb")),
        ("pavgw", pavgw, host!("pavgw")),
        ("pmaxsw", pmaxsw, host!("pmaxsw")),
        ("pmaxub", pmaxub, host!("pmaxub")),
        ("pminsw", pminsw, host!("pminsw")),
        ("pminub", pminub, host!("pminub")),
        ("pmulhuw", pmulhuw, host!("pmulhuw")),
        ("psadbw", psadbw, host!("psadbw")),
    ]);
}

#[test]
fn pmovmskb_and_maskmovq_select() {
    for a in singles() {
        let host: u32;
        // SAFETY: registers only, all declared by `mmx_asm!`.
        unsafe {
            mmx_asm!(
                [
                    "movq mm0, {a}",
                    "pmovmskb {r:e}, mm0",
                ],
                a = in(reg) a,
                r = lateout(reg) host,
            );
        }
        assert_eq!(pmovmskb(a), host, "pmovmskb({a:#018x})");
        assert_eq!(
            u32::from(maskmovq_select(a)),
            host,
            "maskmovq_select({a:#018x})"
        );
    }
}

#[test]
fn maskmovq_merge_matches_the_bytes_stored() {
    for (data, mask) in pairs() {
        let old = !data.rotate_left(8);
        let mut memory = old;
        // SAFETY: MASKMOVQ stores at most the 8 bytes of `memory` (RDI).
        unsafe {
            mmx_asm!(
                [
                    "movq mm0, {data}",
                    "movq mm1, {mask}",
                    "maskmovq mm0, mm1",
                ],
                data = in(reg) data,
                mask = in(reg) mask,
                in("rdi") &raw mut memory,
            );
        }
        assert_eq!(
            maskmovq_merge(old, data, mask),
            memory,
            "maskmovq({data:#018x}, {mask:#018x})"
        );
    }
}

#[test]
fn pshufw_every_immediate() {
    fn host<const IMM: u8>(a: u64) -> u64 {
        let r: u64;
        // SAFETY: registers only, all declared by `mmx_asm!`.
        unsafe {
            mmx_asm!(
                [
                    "movq mm1, {a}",
                    "pshufw mm0, mm1, {imm}",
                    "movq {r}, mm0",
                ],
                a = in(reg) a,
                imm = const IMM,
                r = lateout(reg) r,
            );
        }
        r
    }
    let host: Vec<fn(u64) -> u64> = each_imm!(host);
    for a in singles().take(64) {
        for (imm, host) in (0..=u8::MAX).zip(&host) {
            assert_eq!(pshufw(a, imm), host(a), "pshufw({a:#018x}, {imm})");
        }
    }
}

#[test]
fn pextrw_and_pinsrw_every_immediate() {
    fn host_extract<const IMM: u8>(a: u64) -> u32 {
        let r: u32;
        // SAFETY: registers only, all declared by `mmx_asm!`.
        unsafe {
            mmx_asm!(
                [
                    // Junk in the destination shows whether the upper half gets cleared.
                    "mov {r:e}, -1",
                    "movq mm0, {a}",
                    "pextrw {r:e}, mm0, {imm}",
                ],
                a = in(reg) a,
                imm = const IMM,
                r = out(reg) r,
            );
        }
        r
    }
    fn host_insert<const IMM: u8>(a: u64, value: u32) -> u64 {
        let r: u64;
        // SAFETY: registers only, all declared by `mmx_asm!`.
        unsafe {
            mmx_asm!(
                [
                    "movq mm0, {a}",
                    "pinsrw mm0, {value:e}, {imm}",
                    "movq {r}, mm0",
                ],
                a = in(reg) a,
                value = in(reg) value,
                imm = const IMM,
                r = lateout(reg) r,
            );
        }
        r
    }
    let extract: Vec<fn(u64) -> u32> = each_imm!(host_extract);
    let insert: Vec<fn(u64, u32) -> u64> = each_imm!(host_insert);
    let mut rng = Rng::new();
    for a in singles().take(64) {
        // Random upper 16 bits in the source register, which must be ignored.
        let value = rng.operand() as u32;
        for imm in 0..=u8::MAX {
            let i = usize::from(imm);
            assert_eq!(pextrw(a, imm), extract[i](a), "pextrw({a:#018x}, {imm})");
            assert_eq!(
                pinsrw(a, value as u16, imm),
                insert[i](a, value),
                "pinsrw({a:#018x}, {value:#x}, {imm})"
            );
        }
    }
}
