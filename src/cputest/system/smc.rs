//! Self-modifying code: a store into instructions the CPU has decoded (and cached) takes
//! effect before they run, in the same block, across a page boundary, inside an instruction
//! that straddles one, and through another linear address of the same physical page.

use super::Case;
use super::kernel::{KERNEL, Kernel};
use super::paging::{WINDOW, identity_paging, map, pte};
use crate::asm::Result;
use crate::asm::code_asm::*;

pub fn cases() -> Vec<Case> {
    vec![Case::kernel("smc/self-modifying-code", self_modifying)]
}

/// Two page boundaries in the kernel's code area, above the code itself.
const BOUNDARY: u32 = KERNEL + 0xF000;
const SPLIT_BOUNDARY: u32 = KERNEL + 0xE000;

fn self_modifying(k: &mut Kernel) -> Result {
    // The next instruction, in the same block: MOV AL, 0 becomes MOV AL, 0x42.
    let patched = k.label();
    let immediate = k.addr(patched) + 1;
    k.mov(byte_ptr(immediate), 0x42)?;
    k.bind(patched)?;
    k.mov(al, 0)?;
    k.check_eq(al, 0x42, "a store into the next instruction, same block")?;

    // An instruction run, then changed, then run again: ADD EBX, 1, 2, 3.
    let add = k.label();
    let immediate = k.addr(add) + 2;
    k.xor(ebx, ebx)?;
    k.mov(ecx, 3)?;
    let again = k.here()?;
    k.bind(add)?;
    k.add(ebx, 1)?; // 83 C3 ib
    k.inc(byte_ptr(immediate))?;
    k.loop_(again)?;
    k.check_eq(
        ebx,
        1 + 2 + 3,
        "an instruction changed between the runs of a loop",
    )?;

    // REP STOSB writes NOPs over the UD2 after it before it runs.
    let trap = k.label();
    let at = k.addr(trap);
    k.mov(edi, at)?;
    k.mov(ecx, 2)?;
    k.mov(al, 0x90)?;
    k.cld()?;
    k.rep().stosb()?;
    k.bind(trap)?;
    k.ud2()?;

    // Across a page: the store ends one page, the MOV it changes starts the next. Run twice,
    // so the second run changes code already decoded.
    let (store, target) = (k.label(), k.label());
    k.place_at(BOUNDARY - 0x20, |k| {
        let length = k.addr(target).wrapping_sub(k.addr(store));
        k.pad_to(BOUNDARY.wrapping_sub(length))?;
        let immediate = k.addr(target) + 1;
        k.bind(store)?;
        k.mov(byte_ptr(immediate), bl)?;
        k.bind(target)?;
        k.mov(al, 0)?;
        k.ret()?;
        Ok(())
    })?;
    let entry = k.addr(store);
    for value in [0x11u32, 0x22] {
        k.mov(bl, value)?;
        k.mov(eax, entry)?;
        k.call(eax)?;
        k.check_eq(
            al,
            value,
            "a store into the first instruction of the next page",
        )?;
    }

    // An instruction across a page boundary, changed in its second page.
    let split = k.label();
    k.place_at(SPLIT_BOUNDARY - 0x10, |k| {
        k.pad_to(SPLIT_BOUNDARY - 2)?;
        k.bind(split)?;
        k.mov(eax, 0)?; // B8 id: opcode and one byte on one page, three on the next
        k.ret()?;
        Ok(())
    })?;
    let entry = k.addr(split);
    k.mov(ecx, entry)?;
    k.call(ecx)?;
    k.check_eq(eax, 0, "the split MOV as assembled")?;
    k.mov(byte_ptr(SPLIT_BOUNDARY), 0x77)?;
    k.call(ecx)?;
    k.check_eq(eax, 0x7700, "the split MOV changed in its second page")?;

    // Through another linear address: the window maps the code's own physical page.
    identity_paging(k)?;
    let aliased = k.label();
    let physical = k.addr(aliased);
    map(k, 0, (physical & !0xFFF) | pte::PWU)?;
    k.mov(byte_ptr(WINDOW + (physical & 0xFFF) + 1), 0x5B)?;
    k.bind(aliased)?;
    k.mov(al, 0)?;
    k.check_eq(
        al,
        0x5B,
        "a store through another linear address of the page",
    )
}
