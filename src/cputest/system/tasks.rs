//! Hardware task switches: JMP, CALL (through a task gate) and IRET with NT, with their busy
//! bits, back links and saved state; and a double fault handled by a task gate, as the Xbox
//! kernel handles it, on a stack of its own.

use super::Case;
use super::descriptor::{access, gate, segment};
use super::kernel::{FREE, Gate, Kernel, TSS, TSS0, Tss, tss, var};
use super::paging::{PD, PT0, identity_paging};
use crate::asm::code_asm::*;
use crate::asm::{Cc, Result};

pub fn cases() -> Vec<Case> {
    vec![
        Case::kernel("tasks/jmp-call-iret", switches),
        Case::kernel("tasks/double-fault-gate", double_fault_task),
    ]
}

const DF: u8 = 8;
const TS: u8 = 10;
const NP: u8 = 11;
const GP: u8 = 13;
const NT: u32 = 1 << 14;
const CR0_TS: u32 = 1 << 3;
const AVAILABLE: u32 = access::TSS32 as u32;
const BUSY: u32 = access::TSS32_BUSY as u32;

/// Checks the type (busy or not) of the TSS descriptor `selector`.
fn tss_type_is(k: &mut Kernel, selector: u16, kind: u32, what: &str) -> Result {
    k.access_byte(selector)?;
    k.check_eq(al, kind, what)
}

fn task_register_is(k: &mut Kernel, selector: u16, what: &str) -> Result {
    k.str(eax)?;
    k.check_eq(eax, u32::from(selector), what)
}

fn nt_is(k: &mut Kernel, set: bool, what: &str) -> Result {
    k.flags_to_eax()?;
    k.test(eax, NT)?;
    k.check(if set { Cc::Ne } else { Cc::E }, what)
}

fn switches(k: &mut Kernel) -> Result {
    let (task_b, after_jmp, after_call, called) = (k.label(), k.label(), k.label(), k.label());
    let entry = k.addr(task_b);
    let b_tss = k.tss(Tss {
        eax: 0xB0B0_B0B0,
        ..Tss::new(entry, FREE + 0x1_0000)
    });
    let b = k.descriptor(segment(b_tss, 0x67, access::TSS32, 0));
    let gate_b = k.descriptor(gate(b, 0, access::TASK_GATE, 0));
    let small = k.descriptor(segment(b_tss, 0x60, access::TSS32, 0));
    let absent = k.descriptor(segment(b_tss, 0x67, access::TSS32 & !access::PRESENT, 0));

    // Task B, entered first by JMP, then by CALL through the task gate.
    k.routine(|k| {
        k.bind(task_b)?;
        k.check_eq(eax, 0xB0B0_B0B0u32, "task B starts with the EAX of its TSS")?;
        task_register_is(k, b, "JMP: TR is task B")?;
        tss_type_is(k, b, BUSY, "JMP: task B is busy")?;
        tss_type_is(k, TSS0, AVAILABLE, "JMP: the task left is not busy")?;
        k.check_eq(
            dword_ptr(TSS + tss::EAX),
            0xA0A0_A0A0u32,
            "JMP: A's EAX saved",
        )?;
        let back = k.addr(after_jmp);
        k.check_eq(
            dword_ptr(TSS + tss::EIP),
            back,
            "JMP: A's EIP saved, past the JMP",
        )?;
        k.test(dword_ptr(TSS + tss::EFLAGS), NT)?;
        k.check(Cc::Ne, "JMP keeps NT in the EFLAGS saved for the task left")?;
        k.and(dword_ptr(TSS + tss::EFLAGS), !NT)?;
        nt_is(k, false, "JMP: NT clear in the new task")?;
        k.check_eq(dword_ptr(b_tss + tss::LINK), 0, "JMP writes no back link")?;
        k.mov(eax, cr0)?;
        k.test(eax, CR0_TS)?;
        k.check(Cc::Ne, "a task switch sets CR0.TS")?;
        k.clts()?;
        k.jmp_far(TSS0, 0)?;

        k.bind(called)?;
        nt_is(k, true, "CALL: NT set in the new task")?;
        k.check_eq(
            dword_ptr(b_tss + tss::LINK),
            u32::from(TSS0),
            "CALL: the back link",
        )?;
        tss_type_is(k, TSS0, BUSY, "CALL: the caller stays busy")?;
        tss_type_is(k, b, BUSY, "CALL: task B is busy")?;
        k.iretd()?;
        k.fail("task B resumed after its IRET")
    })?;

    // Task A (the kernel's): JMP to B with NT set, and back.
    k.mov(eax, 0xA0A0_A0A0u32)?;
    k.pushfd()?;
    k.or(dword_ptr(esp), NT)?;
    k.popfd()?;
    k.jmp_far(b, 0)?;
    k.bind(after_jmp)?;
    task_register_is(k, TSS0, "JMP back: TR")?;
    tss_type_is(k, b, AVAILABLE, "JMP back: task B is not busy")?;
    tss_type_is(k, TSS0, BUSY, "JMP back: task A is busy")?;
    let resumed = k.addr(called);
    k.check_eq(
        dword_ptr(b_tss + tss::EIP),
        resumed,
        "JMP back: B's EIP saved",
    )?;
    nt_is(k, false, "JMP back: NT as saved")?;

    // CALL through the task gate; B returns with IRET.
    k.call_far(gate_b, 0)?;
    k.bind(after_call)?;
    task_register_is(k, TSS0, "IRET back: TR")?;
    tss_type_is(
        k,
        b,
        AVAILABLE,
        "IRET clears the busy bit of the task it leaves",
    )?;
    tss_type_is(k, TSS0, BUSY, "IRET back: task A is busy")?;
    k.test(dword_ptr(b_tss + tss::EFLAGS), NT)?;
    k.check(
        Cc::E,
        "IRET clears NT in the EFLAGS saved for the task left",
    )?;
    nt_is(k, false, "IRET back: NT clear in A")?;

    // What cannot be switched to.
    k.expect_fault(
        "JMP to the running (busy) task",
        GP,
        Some(u32::from(TSS0)),
        |k| k.jmp_far(TSS0, 0),
    )?;
    k.expect_fault(
        "JMP to a TSS shorter than 0x68 bytes",
        TS,
        Some(u32::from(small)),
        |k| k.jmp_far(small, 0),
    )?;
    k.expect_fault("JMP to an absent TSS", NP, Some(u32::from(absent)), |k| {
        k.jmp_far(absent, 0)
    })?;
    k.mov(dword_ptr(TSS + tss::LINK), u32::from(b))?;
    k.pushfd()?;
    k.or(dword_ptr(esp), NT)?;
    k.popfd()?;
    k.expect_fault(
        "IRET with NT to a task that is not busy",
        TS,
        Some(u32::from(b)),
        |k| k.iretd(),
    )?;
    k.pushfd()?;
    k.and(dword_ptr(esp), !NT)?;
    k.popfd()?;
    Ok(())
}

/// A page the test unmaps to serve as a broken stack.
const BAD_STACK: u32 = 0x001F_0000;

/// The stack runs into an absent page; the exception cannot be delivered on it (#PF), nor the
/// #PF: a double fault, which a task gate takes to a task with a good stack. That task
/// repairs the faulted one and returns to it with IRET.
fn double_fault_task(k: &mut Kernel) -> Result {
    let (handler, recovered) = (k.label(), k.label());
    let entry = k.addr(handler);
    let df_stack = FREE + 0x2_0000;
    let df_tss = k.tss(Tss {
        cr3: PD,
        ..Tss::new(entry, df_stack)
    });
    let df = k.descriptor(segment(df_tss, 0x67, access::TSS32, 0));
    k.gate(DF, Gate::Task(df));

    identity_paging(k)?;
    // The kernel task's CR3 is loaded from its TSS when it is switched back to.
    k.mov(dword_ptr(TSS + tss::CR3), PD)?;
    k.mov(dword_ptr(PT0 + 4 * (BAD_STACK >> 12)), 0)?;
    k.invlpg(byte_ptr(BAD_STACK))?;

    k.routine(|k| {
        k.bind(handler)?;
        k.check_eq(
            esp,
            df_stack - 4,
            "#DF task: its own stack, one word pushed",
        )?;
        k.check_eq(dword_ptr(esp), 0, "#DF task: error code 0")?;
        task_register_is(k, df, "#DF task: TR")?;
        nt_is(k, true, "#DF task: NT set")?;
        k.check_eq(
            dword_ptr(df_tss + tss::LINK),
            u32::from(TSS0),
            "#DF task: back link",
        )?;
        tss_type_is(k, TSS0, BUSY, "#DF task: the faulted task stays busy")?;
        k.mov(eax, cr2)?;
        k.check_eq(
            eax,
            BAD_STACK + 0xFFC,
            "#DF task: CR2 is the push that faulted",
        )?;
        k.check_eq(
            dword_ptr(TSS + tss::ESP),
            BAD_STACK + 0x1000,
            "#DF task: the bad ESP saved",
        )?;
        // Give the faulted task a good stack and a place to go on, and return to it.
        k.mov(eax, dword_ptr(var::SCRATCH))?;
        k.mov(dword_ptr(TSS + tss::ESP), eax)?;
        let back = k.addr(recovered);
        k.mov(dword_ptr(TSS + tss::EIP), back)?;
        k.add(esp, 4)?;
        k.iretd()?;
        k.fail("the #DF task resumed after its IRET")
    })?;

    k.mov(dword_ptr(var::SCRATCH), esp)?;
    k.mov(esp, BAD_STACK + 0x1000)?;
    k.int(0x40)?;
    k.fail("INT with an absent stack page returned")?;

    k.bind(recovered)?;
    task_register_is(k, TSS0, "after the #DF task: TR")?;
    tss_type_is(k, df, AVAILABLE, "after the #DF task: it is not busy")?;
    k.check_eq(
        esp,
        dword_ptr(var::SCRATCH),
        "after the #DF task: the repaired ESP",
    )?;
    k.mov(eax, cr3)?;
    k.check_eq(eax, PD, "after the #DF task: CR3 from the TSS")
}
