//! The double-fault rules (which exception pairs become #DF, which are delivered one after
//! the other) and the triple fault, which shuts the processor down: the test machine stops
//! there, and these cases expect it to.

use super::Case;
use super::descriptor::access;
use super::kernel::{Gate, Kernel, TSS0};
use super::paging::{PT0, WINDOW, identity_paging};
use crate::asm::Result;
use crate::asm::code_asm::*;

pub fn cases() -> Vec<Case> {
    vec![
        Case::kernel("faults/double", double_faults),
        Case::triple_fault("faults/triple-absent-gates", BEFORE, triple_through_gates),
        Case::triple_fault("faults/triple-bad-stack", BEFORE, triple_through_stack),
    ]
}

/// What the triple-fault cases print just before faulting.
const BEFORE: &str = "triple fault next\n";

const DE: u8 = 0;
const UD: u8 = 6;
const DF: u8 = 8;
const NP: u8 = 11;
const GP: u8 = 13;
const PF: u8 = 14;

const ABSENT: Gate = Gate::Default {
    access: access::INTERRUPT_GATE32 & !access::PRESENT,
};

fn double_faults(k: &mut Kernel) -> Result {
    for vector in [DE, UD, GP, PF] {
        k.gate(vector, ABSENT);
    }
    // Contributory, then contributory: #DF with error code 0.
    k.mov(eax, u32::from(TSS0))?;
    k.expect_abort("#GP, then #NP delivering it", DF, Some(0), |k| {
        k.mov(ds, ax)
    })?;
    k.xor(ecx, ecx)?;
    k.expect_abort("#DE, then #NP delivering it", DF, Some(0), |k| k.div(ecx))?;
    // Benign, then contributory: the second is delivered (EXT set in its error code).
    k.expect_fault(
        "#UD, then #NP delivering it",
        NP,
        Some(u32::from(UD) * 8 + 3),
        |k| k.ud2(),
    )?;
    // Page fault, then contributory: #DF.
    identity_paging(k)?;
    k.expect_abort("#PF, then #NP delivering it", DF, Some(0), |k| {
        k.mov(eax, dword_ptr(WINDOW))
    })?;
    Ok(())
}

/// #GP through an absent gate is #NP, which makes a double fault, whose gate is absent too.
fn triple_through_gates(k: &mut Kernel) -> Result {
    for vector in [DF, GP] {
        k.gate(vector, ABSENT);
    }
    k.print(BEFORE)?;
    k.mov(eax, u32::from(TSS0))?;
    k.mov(ds, ax)?;
    k.fail("MOV DS, a TSS selector went on")
}

/// Without a task gate, a double fault caused by the stack is delivered on that same stack:
/// it faults once more, and the processor shuts down.
fn triple_through_stack(k: &mut Kernel) -> Result {
    const BAD_STACK: u32 = 0x001F_0000;
    identity_paging(k)?;
    k.mov(dword_ptr(PT0 + 4 * (BAD_STACK >> 12)), 0)?;
    k.invlpg(byte_ptr(BAD_STACK))?;
    k.print(BEFORE)?;
    k.mov(esp, BAD_STACK + 0x1000)?;
    k.int(0x40)?;
    k.fail("INT with an absent stack page returned")
}
