//! Privilege levels: call gates (with the parameter copy onto the inner stack), far returns to
//! an outer level, direct far transfers and conforming code, SYSENTER/SYSEXIT, and what CPL 3
//! may not do.

use super::Case;
use super::descriptor::{access, flat, gate};
use super::kernel::{CODE0, CODE3, DATA0, DATA3, GDT, ISTACK, Kernel, STACK3, TSS0, var};
use crate::asm::code_asm::*;
use crate::asm::{Cc, Result};

pub fn cases() -> Vec<Case> {
    vec![
        Case::kernel("privilege/call-gates", call_gates),
        Case::kernel("privilege/far-transfers", far_transfers),
        Case::kernel("privilege/sysenter-sysexit", sysenter_sysexit),
        Case::kernel("privilege/ring3-restrictions", ring3_restrictions),
    ]
}

const NP: u8 = 11;
const GP: u8 = 13;
const IF: u32 = 1 << 9;
const IOPL3: u32 = 3 << 12;

/// Checks that the segment register `register` holds `selector`.
fn selector_is(k: &mut Kernel, register: AsmRegisterSegment, selector: u16, what: &str) -> Result {
    k.mov(eax, register)?;
    k.check_eq(eax, u32::from(selector), what)
}

fn call_gates(k: &mut Kernel) -> Result {
    let after_call = k.label();
    // Reached from CPL 3 with two parameters: checks the inner stack, then returns with RETF
    // 8 holding DPL 0 data in DS and GS.
    let inner = k.routine(|k| {
        selector_is(k, cs, CODE0, "through the gate: CS")?;
        selector_is(k, ss, DATA0, "through the gate: SS from the TSS")?;
        k.check_eq(
            esp,
            ISTACK - 24,
            "through the gate: ESP from the TSS, six words",
        )?;
        let back = k.addr(after_call);
        k.check_eq(dword_ptr(esp), back, "inner stack: return EIP")?;
        k.check_eq(dword_ptr(esp + 4), u32::from(CODE3), "inner stack: CS")?;
        k.check_eq(
            dword_ptr(esp + 8),
            0x2222_2222,
            "inner stack: second parameter",
        )?;
        k.check_eq(
            dword_ptr(esp + 12),
            0x1111_1111,
            "inner stack: first parameter",
        )?;
        k.check_eq(dword_ptr(esp + 16), STACK3 - 8, "inner stack: outer ESP")?;
        k.check_eq(
            dword_ptr(esp + 20),
            u32::from(DATA3),
            "inner stack: outer SS",
        )?;
        k.mov(ax, u32::from(DATA0))?;
        k.mov(ds, ax)?;
        k.mov(gs, ax)?;
        k.retf_1(8)?;
        Ok(())
    })?;
    // Reached from CPL 0: no stack switch, nothing copied.
    let same = k.routine(|k| {
        k.check_eq(
            esp,
            dword_ptr(var::SCRATCH).fs(),
            "same level: two words pushed",
        )?;
        k.check_eq(dword_ptr(esp + 4), u32::from(CODE0), "same level: CS")?;
        k.retf()?;
        Ok(())
    })?;
    let inner_at = k.addr(inner);
    let same_at = k.addr(same);
    let outer_gate = k.descriptor(gate(CODE0, inner_at, access::CALL_GATE32 | access::DPL3, 2));
    let ring0_gate = k.descriptor(gate(CODE0, same_at, access::CALL_GATE32, 2));
    let absent_gate = k.descriptor(gate(
        CODE0,
        inner_at,
        (access::CALL_GATE32 | access::DPL3) & !access::PRESENT,
        0,
    ));

    // CPL 0 to CPL 0 through a gate.
    k.lea(eax, dword_ptr(esp - 8))?;
    k.mov(dword_ptr(var::SCRATCH).fs(), eax)?;
    k.call_far(ring0_gate, 0)?;
    k.expect_fault(
        "CALL through a DPL 0 gate with RPL 3",
        GP,
        Some(u32::from(ring0_gate)),
        |k| k.call_far(ring0_gate | 3, 0),
    )?;

    // CPL 3 to CPL 0 with two parameters, and back: DS and GS become null, ES stays.
    k.to_ring3(0x2)?;
    k.push(0x1111_1111)?;
    k.push(0x2222_2222)?;
    k.call_far(outer_gate, 0)?;
    k.bind(after_call)?;
    k.check_eq(
        esp,
        STACK3,
        "RETF 8 releases the parameters on the outer stack",
    )?;
    selector_is(k, cs, CODE3, "RETF to CPL 3: CS")?;
    selector_is(k, ss, DATA3, "RETF to CPL 3: SS")?;
    selector_is(k, ds, 0, "RETF to CPL 3 nulls DS (DPL 0)")?;
    selector_is(k, gs, 0, "RETF to CPL 3 nulls GS (DPL 0)")?;
    selector_is(k, es, DATA3, "RETF to CPL 3 keeps ES (DPL 3)")?;

    k.expect_fault(
        "CALL through a DPL 0 gate at CPL 3",
        GP,
        Some(u32::from(ring0_gate)),
        |k| k.call_far(ring0_gate, 0),
    )?;
    k.expect_fault(
        "JMP through a gate to more privileged code",
        GP,
        Some(u32::from(CODE0)),
        |k| k.jmp_far(outer_gate, 0),
    )?;
    k.expect_fault(
        "CALL through an absent gate",
        NP,
        Some(u32::from(absent_gate)),
        |k| k.call_far(absent_gate, 0),
    )?;
    // RETF to an inner level is refused.
    k.push(u32::from(CODE0))?;
    k.push(0)?;
    k.expect_fault(
        "RETF to CPL 0 from CPL 3",
        GP,
        Some(u32::from(CODE0)),
        |k| k.retf(),
    )?;
    k.to_ring0()
}

fn far_transfers(k: &mut Kernel) -> Result {
    let absent = k.descriptor(flat(access::CODE_R & !access::PRESENT));
    let conforming = k.descriptor(flat(access::CODE_R | access::DC));
    let nowhere = k.label();
    let target = k.addr(nowhere);

    k.expect_fault("JMP FAR to the null selector", GP, Some(0), |k| {
        k.jmp_far(0, target)
    })?;
    k.expect_fault("JMP FAR to data", GP, Some(u32::from(DATA0)), |k| {
        k.jmp_far(DATA0, target)
    })?;
    k.expect_fault("JMP FAR to absent code", NP, Some(u32::from(absent)), |k| {
        k.jmp_far(absent, target)
    })?;
    k.expect_fault(
        "JMP FAR to DPL 3 code at CPL 0",
        GP,
        Some(u32::from(CODE3 & !3)),
        |k| k.jmp_far(CODE3, target),
    )?;

    // A far call at the same level pushes CS and EIP; RETF pops them.
    let routine = k.routine(|k| {
        k.check_eq(dword_ptr(esp + 4), u32::from(CODE0), "CALL FAR pushes CS")?;
        k.retf()?;
        Ok(())
    })?;
    k.mov(ebx, esp)?;
    let at = k.addr(routine);
    k.call_far(CODE0, at)?;
    k.check_eq(esp, ebx, "RETF pops CS and EIP")?;

    // Conforming code runs at the caller's privilege.
    k.to_ring3(0x2)?;
    let inside = k.label();
    let at = k.addr(inside);
    k.jmp_far(conforming, at)?;
    k.bind(inside)?;
    selector_is(
        k,
        cs,
        conforming | 3,
        "conforming code entered from CPL 3 keeps CPL 3",
    )?;
    let back = k.label();
    let at = k.addr(back);
    k.jmp_far(CODE3, at)?;
    k.bind(back)?;
    k.expect_fault(
        "CALL FAR to DPL 0 code at CPL 3",
        GP,
        Some(u32::from(CODE0)),
        |k| k.call_far(CODE0, target),
    )?;
    k.to_ring0()?;
    k.bind(nowhere)?;
    Ok(())
}

fn sysenter_sysexit(k: &mut Kernel) -> Result {
    let msr = |k: &mut Kernel, index: u32, value: u32| -> Result {
        k.mov(ecx, index)?;
        k.mov(eax, value)?;
        k.xor(edx, edx)?;
        k.wrmsr()?;
        Ok(())
    };
    let (ring3, entry) = (k.label(), k.label());
    msr(k, 0x174, u32::from(CODE0))?;
    msr(k, 0x175, ISTACK)?;
    let entry_at = k.addr(entry);
    msr(k, 0x176, entry_at)?;

    // SYSEXIT: to CPL 3 at EDX with ESP = ECX, CS = SYSENTER_CS + 16, SS = + 24.
    k.mov(dword_ptr(var::SAVED_ESP).fs(), esp)?;
    k.sti()?;
    k.mov(ecx, STACK3 - 0x40)?;
    let ring3_at = k.addr(ring3);
    k.mov(edx, ring3_at)?;
    k.sysexit()?;
    k.bind(ring3)?;
    selector_is(k, cs, CODE3, "SYSEXIT: CS")?;
    selector_is(k, ss, DATA3, "SYSEXIT: SS")?;
    k.check_eq(esp, STACK3 - 0x40, "SYSEXIT: ESP from ECX")?;
    k.mov(esi, 0x5E5E_5E5E)?;

    // SYSENTER: to CPL 0 at SYSENTER_EIP with SYSENTER_ESP, IF cleared.
    k.sysenter()?;
    k.bind(entry)?;
    selector_is(k, cs, CODE0, "SYSENTER: CS")?;
    selector_is(k, ss, DATA0, "SYSENTER: SS")?;
    k.check_eq(esp, ISTACK, "SYSENTER: ESP")?;
    k.check_eq(esi, 0x5E5E_5E5E, "SYSENTER keeps the other registers")?;
    k.flags_to_eax()?;
    k.test(eax, IF)?;
    k.check(Cc::E, "SYSENTER clears IF")?;
    k.mov(esp, dword_ptr(var::SAVED_ESP).fs())?;

    // The rules: no SYSENTER without SYSENTER_CS, no SYSEXIT outside CPL 0 or without it.
    k.to_ring3(0x2)?;
    k.expect_fault("SYSEXIT at CPL 3", GP, Some(0), |k| k.sysexit())?;
    k.to_ring0()?;
    msr(k, 0x174, 0)?;
    k.expect_fault("SYSEXIT with SYSENTER_CS 0", GP, Some(0), |k| k.sysexit())?;
    k.to_ring3(0x2)?;
    k.expect_fault("SYSENTER with SYSENTER_CS 0", GP, Some(0), |k| k.sysenter())?;
    k.to_ring0()
}

fn ring3_restrictions(k: &mut Kernel) -> Result {
    let scratch = var::SCRATCH;
    k.to_ring3(0x2)?;
    k.expect_fault("CLI at CPL 3, IOPL 0", GP, Some(0), |k| k.cli())?;
    k.expect_fault("STI at CPL 3, IOPL 0", GP, Some(0), |k| k.sti())?;
    k.expect_fault("HLT at CPL 3", GP, Some(0), |k| k.hlt())?;
    k.expect_fault("LGDT at CPL 3", GP, Some(0), |k| k.lgdt(ptr(scratch)))?;
    k.expect_fault("LIDT at CPL 3", GP, Some(0), |k| k.lidt(ptr(scratch)))?;
    k.expect_fault("LLDT at CPL 3", GP, Some(0), |k| k.lldt(ax))?;
    k.expect_fault("LTR at CPL 3", GP, Some(0), |k| k.ltr(ax))?;
    k.expect_fault("INVLPG at CPL 3", GP, Some(0), |k| {
        k.invlpg(byte_ptr(scratch))
    })?;
    k.expect_fault("WBINVD at CPL 3", GP, Some(0), |k| k.wbinvd())?;
    // POPFD at CPL 3 silently keeps IOPL and IF.
    k.push(IOPL3 | IF | 0x2)?;
    k.popfd()?;
    k.flags_to_eax()?;
    k.test(eax, IOPL3 | IF)?;
    k.check(Cc::E, "POPFD at CPL 3 changes neither IOPL nor IF")?;
    // The store forms are not privileged.
    k.sgdt(ptr(STACK3 - 0x100))?;
    k.check_eq(word_ptr(STACK3 - 0x100), 0x1FF, "SGDT at CPL 3: limit")?;
    k.check_eq(dword_ptr(STACK3 - 0xFE), GDT, "SGDT at CPL 3: base")?;
    k.str(eax)?;
    k.check_eq(eax, u32::from(TSS0), "STR at CPL 3")?;
    k.to_ring0()?;

    // With IOPL 3, CPL 3 may change IF (CLI, STI, POPFD) but still not IOPL.
    k.to_ring3(IOPL3 | 0x2)?;
    k.sti()?;
    k.flags_to_eax()?;
    k.test(eax, IF)?;
    k.check(Cc::Ne, "STI at CPL 3 with IOPL 3")?;
    k.cli()?;
    k.push(IF | 0x2)?;
    k.popfd()?;
    k.flags_to_eax()?;
    k.and(eax, IOPL3 | IF)?;
    k.check_eq(
        eax,
        IOPL3 | IF,
        "POPFD at CPL 3, IOPL 3: IF changes, IOPL does not",
    )?;
    k.to_ring0()?;
    // CPL 0 may change IOPL.
    k.push(IOPL3 | 0x2)?;
    k.popfd()?;
    k.flags_to_eax()?;
    k.and(eax, IOPL3)?;
    k.check_eq(eax, IOPL3, "POPFD at CPL 0 sets IOPL")?;
    k.push(0x2)?;
    k.popfd()?;
    Ok(())
}
