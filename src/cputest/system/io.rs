//! I/O permission: at CPL > IOPL every port an IN, OUT, INS or OUTS touches must be allowed by
//! the TSS's I/O bitmap, which must lie inside the TSS limit.

use super::Case;
use super::kernel::{Kernel, TSS};
use crate::asm::Result;
use crate::asm::code_asm::*;

pub fn cases() -> Vec<Case> {
    vec![Case::kernel("io/permission-bitmap", permission_bitmap)]
}

const GP: u8 = 13;
const IOPL3: u32 = 3 << 12;
/// The kernel TSS's bitmap starts right after its 0x68 bytes.
const BITMAP: u32 = TSS + 0x68;

fn permission_bitmap(k: &mut Kernel) -> Result {
    // The kernel's bitmap allows the console (0xE9) and the exit ports (0xF4-0xF7) only.
    k.to_ring3(0x2)?;
    k.expect_no_fault("IN from the console port at CPL 3", |k| k.in_(al, 0xE9))?;
    k.check_eq(
        al,
        0xE9,
        "IN from the console port reads its readback value",
    )?;
    k.expect_no_fault("IN EAX from four allowed ports", |k| k.in_(eax, 0xF4))?;
    k.expect_fault("IN from a port the bitmap denies", GP, Some(0), |k| {
        k.in_(al, 0x80)
    })?;
    k.expect_fault("OUT to a port the bitmap denies", GP, Some(0), |k| {
        k.out(0x80, al)
    })?;
    k.expect_fault(
        "IN AX over an allowed and a denied port",
        GP,
        Some(0),
        |k| k.in_(ax, 0xE9),
    )?;
    k.mov(edx, 0x400)?;
    k.expect_fault("IN from a port beyond the TSS limit", GP, Some(0), |k| {
        k.in_(al, dx)
    })?;
    k.mov(edx, 0x80)?;
    k.mov(edi, super::kernel::STACK3 - 0x100)?;
    k.expect_fault("INSB from a denied port", GP, Some(0), |k| k.insb())?;
    k.to_ring0()?;

    // The bitmap is read at each access: allow port 0x80.
    k.and(byte_ptr(BITMAP + 0x80 / 8), !1)?;
    k.to_ring3(0x2)?;
    k.expect_no_fault("IN from port 0x80 once the bitmap allows it", |k| {
        k.in_(al, 0x80)
    })?;
    k.to_ring0()?;
    k.or(byte_ptr(BITMAP + 0x80 / 8), 1)?;

    // With IOPL 3 the bitmap is not consulted.
    k.to_ring3(IOPL3 | 0x2)?;
    k.expect_no_fault("IN from a denied port with IOPL 3", |k| k.in_(al, 0x61))?;
    k.mov(edx, 0x400)?;
    k.expect_no_fault("IN beyond the bitmap with IOPL 3", |k| k.in_(al, dx))?;
    k.to_ring0()
}
