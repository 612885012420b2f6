//! Segmentation: loading segment registers with their descriptor checks (#GP, #NP, #SS and
//! their error codes, null selectors, the LDT), and the limit and type checks of accesses
//! (expand-down segments, the stack segment, code segments).

use super::Case;
use super::descriptor::{access, flags, flat, segment};
use super::kernel::{CODE0, DATA0, DATA3, Kernel, TSS0};
use crate::asm::code_asm::*;
use crate::asm::{Cc, Result};

pub fn cases() -> Vec<Case> {
    vec![
        Case::kernel("segments/loads", loads),
        Case::kernel("segments/limits", limits),
        Case::kernel("segments/stack", stack_segment),
        Case::kernel("segments/code-limit", code_limit),
        Case::kernel("segments/queries", queries),
    ]
}

const NP: u8 = 11;
const SS: u8 = 12;
const GP: u8 = 13;

/// Where the data-segment tests put their segments' bases.
const WINDOW: u32 = 0x0040_0000;

/// ES := `selector` (through AX).
fn load_es(k: &mut Kernel, selector: u16) -> Result {
    k.mov(ax, u32::from(selector))?;
    k.mov(es, ax)?;
    Ok(())
}

fn loads(k: &mut Kernel) -> Result {
    let read_only = k.descriptor(flat(access::PRESENT | access::S | access::ACCESSED));
    let absent = k.descriptor(flat(access::S | access::RW));
    let execute_only = k.descriptor(flat(access::PRESENT | access::S | access::CODE));
    let readable_code = k.descriptor(flat(access::CODE_R));
    let conforming = k.descriptor(flat(access::CODE_R | access::DC));
    let untouched = k.descriptor(flat(access::DATA_W));
    // An LDT of one flat data segment (selector 0x04 with TI set).
    let table = k.data_words(vec![0xFFFF, 0x00CF_9300]);
    let ldt = k.descriptor(segment(table, 7, access::LDT, 0));

    // Null selectors load into DS-GS (any RPL), but using them is #GP(0); SS refuses them.
    k.xor(eax, eax)?;
    k.mov(ds, ax)?;
    k.expect_fault("read through a null DS", GP, Some(0), |k| {
        k.mov(eax, dword_ptr(0x1000))
    })?;
    k.mov(eax, 3)?;
    k.mov(gs, ax)?;
    k.expect_fault("write through a null GS (RPL 3)", GP, Some(0), |k| {
        k.mov(dword_ptr(0x1000).gs(), eax)
    })?;
    k.mov(ax, u32::from(DATA0))?;
    k.mov(ds, ax)?;
    k.mov(gs, ax)?;
    k.xor(eax, eax)?;
    k.expect_fault("MOV SS, null", GP, Some(0), |k| k.mov(ss, ax))?;

    // Descriptors the selector cannot name or the register cannot hold: #GP(selector).
    k.mov(eax, 0xFFF8)?;
    k.expect_fault("MOV ES beyond the GDT limit", GP, Some(0xFFF8), |k| {
        k.mov(es, ax)
    })?;
    k.mov(eax, u32::from(execute_only))?;
    k.expect_fault(
        "MOV ES, execute-only code",
        GP,
        Some(u32::from(execute_only)),
        |k| k.mov(es, ax),
    )?;
    k.mov(eax, u32::from(TSS0))?;
    k.expect_fault("MOV ES, a TSS", GP, Some(u32::from(TSS0)), |k| {
        k.mov(es, ax)
    })?;
    k.mov(eax, u32::from(read_only))?;
    k.expect_fault(
        "MOV SS, read-only data",
        GP,
        Some(u32::from(read_only)),
        |k| k.mov(ss, ax),
    )?;
    k.mov(eax, u32::from(DATA3))?;
    k.expect_fault(
        "MOV SS, DPL 3 data at CPL 0",
        GP,
        Some(u32::from(DATA3 & !3)),
        |k| k.mov(ss, ax),
    )?;
    k.mov(eax, u32::from(DATA0 | 3))?;
    k.expect_fault("MOV SS, RPL 3 at CPL 0", GP, Some(u32::from(DATA0)), |k| {
        k.mov(ss, ax)
    })?;
    k.expect_fault(
        "MOV ES, DPL 0 data with RPL 3",
        GP,
        Some(u32::from(DATA0)),
        |k| k.mov(es, ax),
    )?;
    // POP ES that faults leaves ESP alone.
    k.mov(ebx, esp)?;
    k.push(u32::from(TSS0))?;
    k.expect_fault("POP ES, a TSS", GP, Some(u32::from(TSS0)), |k| k.pop(es))?;
    k.lea(eax, dword_ptr(esp + 4))?;
    k.check_eq(eax, ebx, "a faulting POP ES keeps ESP")?;
    k.mov(esp, ebx)?;

    // Absent segments: #NP, or #SS for SS.
    k.mov(eax, u32::from(absent))?;
    k.expect_fault("MOV ES, not present", NP, Some(u32::from(absent)), |k| {
        k.mov(es, ax)
    })?;
    k.expect_fault("MOV SS, not present", SS, Some(u32::from(absent)), |k| {
        k.mov(ss, ax)
    })?;

    // Readable code loads into a data register; reading works, writing does not.
    load_es(k, readable_code)?;
    k.mov(eax, dword_ptr(0x0010_0000).es())?;
    k.check_eq(
        eax,
        0x1BAD_B002,
        "read through readable code: the multiboot magic",
    )?;
    k.expect_fault("write through readable code", GP, Some(0), |k| {
        k.mov(dword_ptr(0x0010_0000).es(), eax)
    })?;
    load_es(k, read_only)?;
    k.expect_fault("write through read-only data", GP, Some(0), |k| {
        k.mov(dword_ptr(WINDOW).es(), eax)
    })?;
    k.expect_fault("write through CS", GP, Some(0), |k| {
        k.mov(dword_ptr(WINDOW).cs(), eax)
    })?;

    // Loading a descriptor sets its accessed bit in the GDT.
    k.access_byte(untouched)?;
    k.check_eq(
        al,
        u32::from(access::DATA_W),
        "accessed bit clear before the load",
    )?;
    load_es(k, untouched)?;
    k.access_byte(untouched)?;
    k.check_eq(
        al,
        u32::from(access::DATA_W | access::ACCESSED),
        "accessed bit set by the load",
    )?;

    // The LDT: TI selectors fault while LDTR is null, then load from the table; error codes
    // keep TI.
    k.mov(eax, 0x04)?;
    k.expect_fault(
        "MOV ES, LDT selector with a null LDTR",
        GP,
        Some(0x04),
        |k| k.mov(es, ax),
    )?;
    k.mov(eax, u32::from(DATA0))?;
    k.expect_fault("LLDT of a data segment", GP, Some(u32::from(DATA0)), |k| {
        k.lldt(ax)
    })?;
    k.mov(eax, u32::from(ldt))?;
    k.lldt(ax)?;
    k.sldt(ebx)?;
    k.check_eq(ebx, u32::from(ldt), "SLDT")?;
    load_es(k, 0x04)?;
    k.mov(dword_ptr(WINDOW).es(), 0x1DA7_A000)?;
    k.check_eq(
        dword_ptr(WINDOW),
        0x1DA7_A000,
        "a write through an LDT segment",
    )?;
    k.mov(eax, 0x0C)?;
    k.expect_fault("MOV ES beyond the LDT limit", GP, Some(0x0C), |k| {
        k.mov(es, ax)
    })?;
    k.xor(eax, eax)?;
    k.lldt(ax)?;

    // At CPL 3: DPL 0 data is refused, conforming code is not.
    k.to_ring3(0x2)?;
    k.mov(eax, u32::from(DATA0 | 3))?;
    k.expect_fault(
        "MOV ES, DPL 0 data at CPL 3",
        GP,
        Some(u32::from(DATA0)),
        |k| k.mov(es, ax),
    )?;
    k.mov(eax, u32::from(conforming | 3))?;
    k.mov(es, ax)?;
    k.mov(eax, dword_ptr(0x0010_0000).es())?;
    k.to_ring0()?;
    k.check_eq(
        eax,
        0x1BAD_B002,
        "read through conforming DPL 0 code at CPL 3",
    )
}

fn limits(k: &mut Kernel) -> Result {
    let small = k.descriptor(segment(WINDOW, 0xFFF, access::DATA_W, 0));
    let paged = k.descriptor(segment(WINDOW, 0, access::DATA_W, flags::G));
    let down16 = k.descriptor(segment(WINDOW, 0xFFF, access::DATA_W | access::DC, 0));
    let down32 = k.descriptor(segment(
        WINDOW,
        0xFFF,
        access::DATA_W | access::DC,
        flags::DB,
    ));

    // A 4 KiB segment at WINDOW: its base is added, its limit is the last valid byte.
    load_es(k, small)?;
    k.mov(byte_ptr(0xFFF).es(), 0x5A)?;
    k.check_eq(byte_ptr(WINDOW + 0xFFF), 0x5A, "ES:0xFFF is WINDOW + 0xFFF")?;
    k.expect_fault("dword at the limit - 2", GP, Some(0), |k| {
        k.mov(eax, dword_ptr(0xFFD).es())
    })?;
    k.expect_fault("byte at the limit + 1", GP, Some(0), |k| {
        k.mov(al, byte_ptr(0x1000).es())
    })?;
    // Granularity: limit 0 in pages is 0xFFF in bytes.
    load_es(k, paged)?;
    k.mov(eax, dword_ptr(0xFFC).es())?;
    k.expect_fault("page-granular limit + 1", GP, Some(0), |k| {
        k.mov(al, byte_ptr(0x1000).es())
    })?;

    // Expand-down, 16-bit: valid offsets are limit + 1 to 0xFFFF.
    load_es(k, down16)?;
    k.expect_fault("expand-down (16-bit): the limit itself", GP, Some(0), |k| {
        k.mov(al, byte_ptr(0xFFF).es())
    })?;
    k.mov(byte_ptr(0x1000).es(), 0x11)?;
    k.check_eq(
        byte_ptr(WINDOW + 0x1000),
        0x11,
        "expand-down (16-bit): limit + 1",
    )?;
    k.mov(byte_ptr(0xFFFF).es(), 0x22)?;
    k.check_eq(
        byte_ptr(WINDOW + 0xFFFF),
        0x22,
        "expand-down (16-bit): 0xFFFF",
    )?;
    k.expect_fault(
        "expand-down (16-bit): a dword over 0xFFFF",
        GP,
        Some(0),
        |k| k.mov(eax, dword_ptr(0xFFFD).es()),
    )?;
    k.expect_fault("expand-down (16-bit): 0x10000", GP, Some(0), |k| {
        k.mov(al, byte_ptr(0x1_0000).es())
    })?;
    // Expand-down, 32-bit: up to 4 GiB.
    load_es(k, down32)?;
    k.mov(byte_ptr(0x1_0000).es(), 0x33)?;
    k.check_eq(
        byte_ptr(WINDOW + 0x1_0000),
        0x33,
        "expand-down (32-bit): 0x10000",
    )?;
    k.mov(eax, dword_ptr(0xFFFF_FFFCu32).es())?;
    k.expect_fault("expand-down (32-bit): below the limit", GP, Some(0), |k| {
        k.mov(al, byte_ptr(0x800).es())
    })?;
    Ok(())
}

/// Accesses through SS fault with #SS(0), implicit (EBP-based) or explicit; limits apply to
/// the stack as to data. The stack pointer itself stays valid, so the fault can be delivered.
fn stack_segment(k: &mut Kernel) -> Result {
    let stack = k.descriptor(segment(WINDOW, 0xFFFF, access::DATA_W, flags::DB));
    let down = k.descriptor(segment(
        WINDOW,
        0x7FFF,
        access::DATA_W | access::DC,
        flags::DB,
    ));
    k.mov(ebx, esp)?;
    k.mov(ax, u32::from(stack))?;
    k.mov(ss, ax)?;
    k.mov(esp, 0x8000)?;
    k.push(0x600D_57ACu32)?;
    k.check_eq(
        dword_ptr(WINDOW + 0x7FFC),
        0x600D_57ACu32,
        "a push lands at SS base + ESP",
    )?;
    k.xor(ebp, ebp)?;
    k.expect_fault("[EBP] beyond the SS limit", SS, Some(0), |k| {
        k.mov(eax, dword_ptr(ebp + 0x1_0000))
    })?;
    k.expect_fault("SS: override beyond the limit", SS, Some(0), |k| {
        k.mov(dword_ptr(0xFFFE).ss(), eax)
    })?;
    k.expect_fault("[ESP] beyond the limit", SS, Some(0), |k| {
        k.mov(eax, dword_ptr(esp + 0x8004))
    })?;

    // An expand-down stack: valid above its limit, the usual way to let a stack grow down.
    k.mov(ax, u32::from(down))?;
    k.mov(ss, ax)?;
    k.mov(esp, 0x9000)?;
    k.push(0x5EC0_4D00)?;
    k.check_eq(
        dword_ptr(WINDOW + 0x8FFC),
        0x5EC0_4D00,
        "a push on an expand-down stack",
    )?;
    k.expect_fault("expand-down stack below its limit", SS, Some(0), |k| {
        k.mov(eax, dword_ptr(ebp + 0x7000))
    })?;

    k.mov(ax, u32::from(DATA0))?;
    k.mov(ss, ax)?;
    k.mov(esp, ebx)?;
    Ok(())
}

/// A code segment ending at 2 MiB: branches beyond the limit are #GP(0) at the branch.
fn code_limit(k: &mut Kernel) -> Result {
    let short = k.descriptor(segment(0, 0x1FF, access::CODE_R, flags::FLAT));
    let inside = k.label();
    let at = k.addr(inside);
    k.jmp_far(short, at)?;
    k.bind(inside)?;
    k.mov(eax, cs)?;
    k.check_eq(eax, u32::from(short), "CS is the short segment")?;
    k.mov(eax, 0x0020_0000)?;
    k.expect_fault("JMP beyond the CS limit", GP, Some(0), |k| k.jmp(eax))?;
    k.expect_fault("CALL beyond the CS limit", GP, Some(0), |k| k.call(eax))?;
    k.mov(ebx, esp)?;
    k.push(eax)?;
    k.expect_fault("RET beyond the CS limit", GP, Some(0), |k| k.ret())?;
    k.lea(ecx, dword_ptr(esp + 4))?;
    k.check_eq(ecx, ebx, "a faulting RET keeps ESP")?;
    k.mov(esp, ebx)?;
    let back = k.label();
    let at = k.addr(back);
    k.jmp_far(CODE0, at)?;
    k.bind(back)?;
    Ok(())
}

/// LAR, LSL, VERR and VERW: what CPL 0 may learn about descriptors.
fn queries(k: &mut Kernel) -> Result {
    let read_only = k.descriptor(segment(WINDOW, 0x1234, access::PRESENT | access::S, 0));
    let execute_only = k.descriptor(flat(access::PRESENT | access::S | access::CODE));
    k.mov(eax, u32::from(read_only))?;
    k.lsl(ebx, eax)?;
    k.check(Cc::E, "LSL: ZF")?;
    k.check_eq(ebx, 0x1234, "LSL: the byte limit")?;
    k.mov(eax, u32::from(DATA0))?;
    k.lsl(ebx, eax)?;
    k.check_eq(
        ebx,
        u32::MAX,
        "LSL of a page-granular segment: the byte limit",
    )?;
    k.mov(eax, u32::from(read_only))?;
    k.lar(ebx, eax)?;
    k.check(Cc::E, "LAR: ZF")?;
    k.check_eq(ebx, 0x0000_9000, "LAR: access rights")?;
    k.xor(eax, eax)?;
    k.lsl(ebx, eax)?;
    k.check(Cc::Ne, "LSL of the null selector: ZF clear")?;
    k.mov(eax, u32::from(read_only))?;
    k.verw(ax)?;
    k.check(Cc::Ne, "VERW of read-only data")?;
    k.verr(ax)?;
    k.check(Cc::E, "VERR of read-only data")?;
    k.mov(eax, u32::from(execute_only))?;
    k.verr(ax)?;
    k.check(Cc::Ne, "VERR of execute-only code")?;
    k.mov(eax, u32::from(CODE0))?;
    k.verr(ax)?;
    k.check(Cc::E, "VERR of readable code")
}
