//! Alignment checking: #AC(0) for a misaligned data access at CPL 3 when CR0.AM and
//! EFLAGS.AC are both set, and never otherwise.

use super::Case;
use super::kernel::{Kernel, STACK3};
use crate::asm::Result;
use crate::asm::code_asm::*;

pub fn cases() -> Vec<Case> {
    vec![Case::kernel("alignment/ac", alignment_check)]
}

const AC: u8 = 17;
const EFLAGS_AC: u32 = 1 << 18;
const CR0_AM: u32 = 1 << 18;

/// A buffer on the ring-3 stack's page.
const BUFFER: u32 = STACK3 - 0x400;

fn set_am(k: &mut Kernel, on: bool) -> Result {
    k.mov(eax, cr0)?;
    if on {
        k.or(eax, CR0_AM)?;
    } else {
        k.and(eax, !CR0_AM)?;
    }
    k.mov(cr0, eax)?;
    Ok(())
}

fn alignment_check(k: &mut Kernel) -> Result {
    set_am(k, true)?;
    k.to_ring3(EFLAGS_AC | 0x2)?;
    k.expect_fault("CPL 3: a dword at an odd address", AC, Some(0), |k| {
        k.mov(eax, dword_ptr(BUFFER + 1))
    })?;
    k.expect_fault("CPL 3: a dword at 2 mod 4", AC, Some(0), |k| {
        k.mov(dword_ptr(BUFFER + 2), eax)
    })?;
    k.expect_fault("CPL 3: a word at an odd address", AC, Some(0), |k| {
        k.mov(ax, word_ptr(BUFFER + 3))
    })?;
    k.mov(esi, BUFFER + 1)?;
    k.expect_fault("CPL 3: LODSD from an odd address", AC, Some(0), |k| {
        k.lodsd()
    })?;
    k.sub(esp, 2)?;
    k.expect_fault("CPL 3: a push onto a misaligned stack", AC, Some(0), |k| {
        k.push(eax)
    })?;
    k.add(esp, 2)?;
    k.expect_no_fault("CPL 3: aligned and byte accesses", |k| -> Result {
        k.mov(eax, dword_ptr(BUFFER + 4))?;
        k.mov(ax, word_ptr(BUFFER + 6))?;
        k.mov(al, byte_ptr(BUFFER + 7))?;
        Ok(())
    })?;
    // EFLAGS.AC may be changed at CPL 3; clear, it disables the check.
    k.pushfd()?;
    k.and(dword_ptr(esp), !EFLAGS_AC)?;
    k.popfd()?;
    k.expect_no_fault("CPL 3 with EFLAGS.AC clear", |k| {
        k.mov(eax, dword_ptr(BUFFER + 1))
    })?;
    k.to_ring0()?;

    // CPL 0 is never checked.
    k.pushfd()?;
    k.or(dword_ptr(esp), EFLAGS_AC)?;
    k.popfd()?;
    k.expect_no_fault("CPL 0 with CR0.AM and EFLAGS.AC", |k| {
        k.mov(eax, dword_ptr(BUFFER + 1))
    })?;
    // Without CR0.AM, EFLAGS.AC means nothing.
    set_am(k, false)?;
    k.to_ring3(EFLAGS_AC | 0x2)?;
    k.expect_no_fault("CPL 3 with EFLAGS.AC but CR0.AM clear", |k| {
        k.mov(eax, dword_ptr(BUFFER + 1))
    })?;
    k.to_ring0()
}
