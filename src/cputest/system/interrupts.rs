//! Interrupts and exceptions through the IDT: interrupt and trap gates, the stack frames with
//! and without error codes, INT n, INT3, INTO, BOUND, faults and traps, and the errors of
//! delivery itself (absent gates, gate privilege, the IDT limit).

use super::Case;
use super::descriptor::{access, flat, gate};
use super::kernel::{CODE0, CODE3, DATA0, DATA3, Gate, ISTACK, Kernel, STACK3, var};
use crate::asm::code_asm::*;
use crate::asm::{Cc, Label, Result};
use iced_x86::code_asm::CodeAssembler;

pub fn cases() -> Vec<Case> {
    vec![
        Case::kernel("interrupts/gates", gates),
        Case::kernel("interrupts/exceptions", exceptions),
        Case::kernel("interrupts/delivery-errors", delivery_errors),
        Case::kernel("interrupts/ring3-to-ring0", ring3_to_ring0),
    ]
}

const DB: u8 = 1;
const BP: u8 = 3;
const OF: u8 = 4;
const BR: u8 = 5;
const UD: u8 = 6;
const NP: u8 = 11;
const GP: u8 = 13;
const IF: u32 = 1 << 9;
const FLAG_OF: u32 = 1 << 11;

/// What the test handlers saw: ESP on entry and the frame above it.
const SEEN_ESP: u32 = var::SCRATCH;
const SEEN_EIP: u32 = var::SCRATCH + 4;
const SEEN_CS: u32 = var::SCRATCH + 8;
const SEEN_EFLAGS: u32 = var::SCRATCH + 12;
/// EFLAGS inside the handler.
const HANDLER_EFLAGS: u32 = var::SCRATCH + 16;
const SEEN_OUTER_ESP: u32 = var::SCRATCH + 20;
const SEEN_OUTER_SS: u32 = var::SCRATCH + 24;
const SEEN_SS: u32 = var::SCRATCH + 28;

/// A handler that records its entry ESP, a frame without error code and its own EFLAGS, then
/// returns with IRETD.
fn recording_handler(k: &mut Kernel) -> Result<Label> {
    k.routine(|k| {
        k.mov(dword_ptr(SEEN_ESP).fs(), esp)?;
        for (offset, variable) in [
            (0, SEEN_EIP),
            (4, SEEN_CS),
            (8, SEEN_EFLAGS),
            (12, SEEN_OUTER_ESP),
            (16, SEEN_OUTER_SS),
        ] {
            k.push(dword_ptr(esp + offset))?;
            k.pop(dword_ptr(variable).fs())?;
        }
        k.pushfd()?;
        k.pop(dword_ptr(HANDLER_EFLAGS).fs())?;
        k.mov(dword_ptr(SEEN_SS).fs(), ss)?;
        k.iretd()?;
        Ok(())
    })
}

/// Interrupt gates clear IF, trap gates leave it; both push EFLAGS, CS and the EIP after INT.
fn gates(k: &mut Kernel) -> Result {
    let handler = recording_handler(k)?;
    k.gate(
        0x40,
        Gate::Interrupt {
            handler,
            dpl3: false,
        },
    );
    k.gate(
        0x41,
        Gate::Trap {
            handler,
            dpl3: false,
        },
    );
    // A software INT to an exception vector pushes no error code.
    k.gate(
        0x0E,
        Gate::Interrupt {
            handler,
            dpl3: false,
        },
    );

    // No device raises interrupts here, so IF may be set.
    k.sti()?;
    k.mov(ebx, esp)?;
    for (vector, kind) in [(0x40u32, "interrupt gate"), (0x41, "trap gate")] {
        k.int(vector)?;
        let after = k.position()?;
        k.lea(eax, dword_ptr(ebx - 12))?;
        k.check_eq(
            eax,
            dword_ptr(SEEN_ESP).fs(),
            &format!("{kind}: three words pushed"),
        )?;
        k.check_eq(
            dword_ptr(SEEN_EIP).fs(),
            after,
            &format!("{kind}: EIP after INT"),
        )?;
        k.check_eq(
            dword_ptr(SEEN_CS).fs(),
            u32::from(CODE0),
            &format!("{kind}: CS"),
        )?;
        k.mov(eax, dword_ptr(SEEN_EFLAGS).fs())?;
        k.test(eax, IF)?;
        k.check(Cc::Ne, &format!("{kind}: the frame has IF set"))?;
        k.flags_to_eax()?;
        k.test(eax, IF)?;
        k.check(Cc::Ne, &format!("{kind}: IRETD restores IF"))?;
        k.check_eq(esp, ebx, &format!("{kind}: IRETD restores ESP"))?;
    }
    k.mov(eax, dword_ptr(HANDLER_EFLAGS).fs())?;
    k.test(eax, IF)?;
    k.check(Cc::Ne, "a trap gate leaves IF set")?;
    k.int(0x40)?;
    k.mov(eax, dword_ptr(HANDLER_EFLAGS).fs())?;
    k.test(eax, IF)?;
    k.check(Cc::E, "an interrupt gate clears IF")?;
    k.cli()?;

    k.int(0x0E)?;
    let after = k.position()?;
    k.lea(eax, dword_ptr(ebx - 12))?;
    k.check_eq(
        eax,
        dword_ptr(SEEN_ESP).fs(),
        "INT 0x0E pushes no error code",
    )?;
    k.check_eq(dword_ptr(SEEN_EIP).fs(), after, "INT 0x0E: EIP after INT")
}

/// The exceptions instructions raise, faults (EIP on the instruction) and traps (EIP after
/// it), with error codes where the architecture pushes them.
fn exceptions(k: &mut Kernel) -> Result {
    let bounds = k.data_words(vec![10, 20]);

    k.xor(ecx, ecx)?;
    k.expect_fault("DIV by zero", 0, None, |k| k.div(ecx))?;
    k.mov(eax, 0x8000_0000u32)?;
    k.mov(edx, u32::MAX)?;
    k.mov(ecx, u32::MAX)?;
    k.expect_fault("IDIV overflow", 0, None, |k| k.idiv(ecx))?;
    k.expect_fault("UD2", UD, None, |k| k.ud2())?;
    k.expect_fault("LOCK on a register destination", UD, None, |k| {
        k.lock().add(eax, 1)
    })?;

    k.mov(eax, 21)?;
    k.expect_fault("BOUND above the upper bound", BR, None, |k| {
        k.bound(eax, qword_ptr(bounds))
    })?;
    k.mov(eax, 9)?;
    k.expect_fault("BOUND below the lower bound", BR, None, |k| {
        k.bound(eax, qword_ptr(bounds))
    })?;
    k.mov(eax, 20)?;
    k.expect_no_fault("BOUND at the upper bound", |k| {
        k.bound(eax, qword_ptr(bounds))
    })?;

    k.expect_trap("INT3", BP, |k| k.int3())?;
    k.expect_trap("INT 3", BP, |k| k.int(3))?;
    k.expect_trap("INT1", DB, |k| k.int1())?;
    k.mov(al, 0x7F)?;
    k.add(al, 1)?; // OF set
    k.expect_trap("INTO with OF set", OF, |k| CodeAssembler::into(k))?;
    k.test(dword_ptr(var::EFLAGS).fs(), FLAG_OF)?;
    k.check(Cc::Ne, "INTO: the saved EFLAGS has OF")?;
    k.xor(eax, eax)?; // OF clear
    k.expect_no_fault("INTO with OF clear", |k| CodeAssembler::into(k))?;

    // #GP pushes its error code: the saved EIP is found above it.
    k.mov(eax, 0x2B)?;
    k.expect_fault("MOV DS, the TSS with RPL 3", GP, Some(0x28), |k| {
        k.mov(ds, ax)
    })?;
    // Exceptions at CPL 3 reach DPL 0 gates (the gate's DPL applies to INT n only).
    k.to_ring3(0x2)?;
    k.expect_fault("UD2 at CPL 3", UD, None, |k| k.ud2())?;
    k.to_ring0()?;
    k.check_eq(
        dword_ptr(var::CS).fs(),
        u32::from(CODE3),
        "UD2 at CPL 3: saved CS",
    )?;
    k.check_eq(
        dword_ptr(var::SS).fs(),
        u32::from(DATA3),
        "UD2 at CPL 3: saved SS",
    )?;
    k.check_eq(dword_ptr(var::ESP).fs(), STACK3, "UD2 at CPL 3: saved ESP")
}

/// Delivery itself faults: the error code names the IDT entry (index * 8 + 2, plus 1 when an
/// exception or external event, not INT n, was being delivered) or the handler's selector.
fn delivery_errors(k: &mut Kernel) -> Result {
    let absent_code = k.descriptor(flat(access::CODE_R & !access::PRESENT));
    k.gate(
        BR,
        Gate::Default {
            access: access::INTERRUPT_GATE32 & !access::PRESENT,
        },
    );
    k.gate(
        0x42,
        Gate::Default {
            access: access::INTERRUPT_GATE32 & !access::PRESENT,
        },
    );
    k.gate(
        0x43,
        Gate::Default {
            access: access::CALL_GATE32,
        },
    );
    k.gate(
        0x44,
        Gate::Raw(gate(absent_code, 0, access::INTERRUPT_GATE32, 0)),
    );
    k.gate(0x45, Gate::Raw(gate(DATA0, 0, access::INTERRUPT_GATE32, 0)));
    k.gate(0x46, Gate::Raw(gate(0, 0, access::INTERRUPT_GATE32, 0)));
    k.gate(
        0x47,
        Gate::Default {
            access: access::INTERRUPT_GATE32 | access::DPL3,
        },
    );
    let bounds = k.data_words(vec![0, 0]);

    k.expect_fault("INT to an absent gate", NP, Some(0x42 * 8 + 2), |k| {
        k.int(0x42)
    })?;
    k.mov(eax, 1)?;
    k.expect_fault(
        "#BR through an absent gate",
        NP,
        Some(BR as u32 * 8 + 3),
        |k| k.bound(eax, qword_ptr(bounds)),
    )?;
    k.expect_fault(
        "INT to a call gate in the IDT",
        GP,
        Some(0x43 * 8 + 2),
        |k| k.int(0x43),
    )?;
    k.expect_fault("INT beyond the IDT limit", GP, Some(0x50 * 8 + 2), |k| {
        k.int(0x50)
    })?;
    k.expect_fault(
        "INT to an absent code segment",
        NP,
        Some(u32::from(absent_code)),
        |k| k.int(0x44),
    )?;
    k.expect_fault(
        "INT to a gate naming data",
        GP,
        Some(u32::from(DATA0)),
        |k| k.int(0x45),
    )?;
    k.expect_fault("INT to a gate naming null", GP, Some(0), |k| k.int(0x46))?;

    // INT n checks the gate's DPL against CPL.
    k.to_ring3(0x2)?;
    k.expect_fault(
        "INT to a DPL 0 gate at CPL 3",
        GP,
        Some(0x40 * 8 + 2),
        |k| k.int(0x40),
    )?;
    k.expect_trap("INT to a DPL 3 gate at CPL 3", 0x47, |k| k.int(0x47))?;
    k.expect_fault(
        "INT3 to a DPL 0 gate at CPL 3",
        GP,
        Some(BP as u32 * 8 + 2),
        |k| k.int3(),
    )?;
    k.to_ring0()
}

/// From CPL 3 through a DPL 3 gate: the TSS's ring-0 stack, the outer SS:ESP in the frame,
/// and IRETD back (which nulls data segments the outer level may not use).
fn ring3_to_ring0(k: &mut Kernel) -> Result {
    let handler = recording_handler(k)?;
    k.gate(
        0x40,
        Gate::Interrupt {
            handler,
            dpl3: true,
        },
    );
    k.to_ring3(0x2)?;
    k.mov(ebx, esp)?;
    k.int(0x40)?;
    let after = k.position()?;
    k.check_eq(esp, ebx, "IRETD restores the ring-3 ESP")?;
    k.mov(eax, cs)?;
    k.check_eq(eax, u32::from(CODE3), "IRETD returns to CPL 3")?;
    k.mov(eax, ss)?;
    k.check_eq(eax, u32::from(DATA3), "IRETD restores the ring-3 SS")?;
    k.to_ring0()?;
    k.check_eq(
        dword_ptr(SEEN_ESP).fs(),
        ISTACK - 20,
        "the handler runs on the TSS's ring-0 stack, five words pushed",
    )?;
    k.check_eq(
        dword_ptr(SEEN_SS).fs(),
        u32::from(DATA0),
        "the handler's SS is the TSS's SS0",
    )?;
    k.check_eq(dword_ptr(SEEN_EIP).fs(), after, "frame: EIP")?;
    k.check_eq(dword_ptr(SEEN_CS).fs(), u32::from(CODE3), "frame: CS")?;
    k.check_eq(dword_ptr(SEEN_OUTER_SS).fs(), u32::from(DATA3), "frame: SS")?;
    k.mov(eax, dword_ptr(SEEN_OUTER_ESP).fs())?;
    k.check_eq(eax, STACK3, "frame: ESP")?;

    // IRETD to CPL 3 with DS and GS holding DPL 0 data: they become null; ES (DPL 3) stays.
    k.mov(ax, u32::from(DATA3))?;
    k.mov(es, ax)?;
    k.mov(ax, u32::from(DATA0))?;
    k.mov(ds, ax)?;
    k.mov(gs, ax)?;
    let ring3 = k.label();
    k.mov(dword_ptr(var::SAVED_ESP).fs(), esp)?;
    k.push(u32::from(DATA3))?;
    k.push(STACK3)?;
    k.push(0x2)?;
    k.push(u32::from(CODE3))?;
    let target = k.addr(ring3);
    k.push(target)?;
    k.iretd()?;
    k.bind(ring3)?;
    k.mov(eax, ds)?;
    k.mov(ecx, es)?;
    k.mov(edx, gs)?;
    k.to_ring0()?;
    k.check_eq(eax, 0, "IRETD to CPL 3 nulls DS (DPL 0)")?;
    k.check_eq(ecx, u32::from(DATA3), "IRETD to CPL 3 keeps ES (DPL 3)")?;
    k.check_eq(edx, 0, "IRETD to CPL 3 nulls GS (DPL 0)")
}
