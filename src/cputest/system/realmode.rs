//! Real mode from the reset vector, into protected mode and back again: the state after
//! reset, the IVT, real-mode segment limits, and the limits a protected-mode load leaves in
//! the descriptor caches, which real-mode loads keep ("unreal mode").
//!
//! The program is a 64 KiB ROM. Its 16-bit code runs at CS = 0xF000 (the ROM's copy below
//! 1 MiB) in real mode and, on the way back, in a 16-bit protected-mode segment with the same
//! base; its 32-bit code runs from the copy below 4 GiB through a flat segment.

use super::Case;
use super::descriptor::{access, flat, segment};
use crate::asm::code_asm::*;
use crate::asm::{Asm, Result, assemble};
use iced_x86::{Code, Instruction};

pub fn cases() -> Vec<Case> {
    vec![Case::rom("real-mode/round-trip", round_trip)]
}

const ROM_SIZE: usize = 0x1_0000;
/// The ROM's segment in real mode, and the base of its copy below 1 MiB.
const ROM_SEGMENT: u16 = 0xF000;
const LOW_COPY: u32 = 0x000F_0000;
/// The ROM's copy below 4 GiB, where the 32-bit code runs.
const HIGH_COPY: u32 = 0xFFFF_0000;
/// Where in the ROM the pieces go (offsets, which are also IPs in the ROM segment).
const CODE32: u32 = 0x8000;
const TABLES: u32 = 0x7000;
const RESET: u32 = 0xFFF0;

/// GDT selectors: flat 32-bit code and data, a 16-bit code segment over the ROM's low copy
/// and a 16-bit data segment with a 64 KiB limit.
const FLAT_CODE: u16 = 0x08;
const FLAT_DATA: u16 = 0x10;
const ROM_CODE16: u16 = 0x18;
const DATA16: u16 = 0x20;

/// Variables in low RAM (DS = 0): a mark the INT handler sets, the #GP count and where the
/// #GP handler resumes.
const MARK: u32 = 0x500;
const GP_COUNT: u32 = 0x501;
const RESUME: u32 = 0x502;
/// Above 1 MiB, out of reach of a 64 KiB limit.
const HIGH: u32 = 0x0020_0000;
const HIGH_VALUE: u32 = 0x0123_4567;

fn round_trip() -> Result<Vec<u8>> {
    assemble(ROM_SIZE, 0xFF, program)
}

fn program(a: &mut Asm) -> Result {
    let (start, pm32, pm16, real_again, int40, gp, gdt_pointer) = (
        a.label(),
        a.label(),
        a.label(),
        a.label(),
        a.label(),
        a.label(),
        a.label(),
    );

    // The reset vector: a far jump to the ROM's real-mode segment.
    a.section(16, RESET, RESET as usize)?;
    let target = a.addr(start);
    a.jmp_far(ROM_SEGMENT, target)?;

    // The GDT, in the ROM (read through its low copy).
    a.section(16, TABLES, TABLES as usize)?;
    let gdt = [
        0,
        flat(access::CODE_R | access::ACCESSED),
        flat(access::DATA_W | access::ACCESSED),
        segment(LOW_COPY, 0xFFFF, access::CODE_R | access::ACCESSED, 0),
        segment(0, 0xFFFF, access::DATA_W | access::ACCESSED, 0),
    ];
    let table = a.here()?;
    a.dq(&gdt)?;
    a.bind(gdt_pointer)?;
    a.dw(&[(gdt.len() * 8 - 1) as u16])?;
    let base = LOW_COPY + a.addr(table);
    a.dd(&[base])?;

    a.section(16, 0, 0)?;
    a.bind(start)?;
    a.cli()?;
    // The state reset leaves.
    a.check_eq(edx, 0x68A, "EDX holds the processor signature after reset")?;
    a.mov(eax, cr0)?;
    a.check_eq(eax, 0x6000_0010, "CR0 after reset: CD, NW and ET")?;
    a.mov(ax, cs)?;
    a.check_eq(
        ax,
        u32::from(ROM_SEGMENT),
        "CS after the far jump from the reset vector",
    )?;
    a.xor(ax, ax)?;
    a.mov(ds, ax)?;
    a.mov(es, ax)?;
    a.mov(ss, ax)?;
    a.mov(sp, 0x7C00)?;

    // The IVT at 0: INT 0x40 sets the mark; #GP resumes where RESUME says.
    for (vector, handler) in [(0x40u32, int40), (13, gp)] {
        let offset = a.addr(handler);
        a.mov(word_ptr(vector * 4), offset)?;
        a.mov(word_ptr(vector * 4 + 2), u32::from(ROM_SEGMENT))?;
    }
    a.int(0x40)?;
    a.check_eq(byte_ptr(MARK), 0x5A, "INT 0x40 through the IVT")?;
    a.check_eq(sp, 0x7C00, "IRET restores SP")?;

    // Real-mode segments end at 64 KiB: a 32-bit offset beyond is #GP.
    let past = a.label();
    let resume = a.addr(past);
    a.mov(word_ptr(RESUME), resume)?;
    a.mov(esi, 0x1_0000)?;
    a.mov(al, byte_ptr(esi))?;
    a.fail("a real-mode access at DS:0x10000 went through")?;
    a.bind(past)?;
    a.check_eq(
        byte_ptr(GP_COUNT),
        1,
        "real mode: #GP beyond the 64 KiB limit",
    )?;

    // Into protected mode, and a far jump to 32-bit code.
    let pointer = a.addr(gdt_pointer);
    a.lgdt(ptr(pointer).cs())?;
    a.mov(eax, cr0)?;
    a.or(al, 1)?;
    a.mov(cr0, eax)?;
    let target = a.addr(pm32);
    a.add_instruction(Instruction::with_far_branch(
        Code::Jmp_ptr1632,
        FLAT_CODE,
        target,
    )?)?;

    // 16-bit protected mode on the way back: a 16-bit stack segment for real mode, then PE
    // off and a far jump to reload CS as real mode does.
    a.bind(pm16)?;
    a.mov(ax, u32::from(DATA16))?;
    a.mov(ss, ax)?;
    a.mov(eax, cr0)?;
    a.and(al, 0xFE)?;
    a.mov(cr0, eax)?;
    let target = a.addr(real_again);
    a.jmp_far(ROM_SEGMENT, target)?;

    a.bind(real_again)?;
    a.xor(ax, ax)?;
    a.mov(ds, ax)?;
    a.mov(ss, ax)?;
    a.mov(sp, 0x7C00)?;
    // Real-mode loads change selector and base only: DS and FS keep 4 GiB limits.
    a.mov(esi, HIGH)?;
    a.mov(eax, dword_ptr(esi))?;
    a.check_eq(
        eax,
        HIGH_VALUE,
        "DS keeps its 4 GiB limit back in real mode",
    )?;
    a.mov(ax, 0x1000)?;
    a.mov(fs, ax)?;
    a.mov(eax, dword_ptr(esi - 0x1_0000).fs())?;
    a.check_eq(
        eax,
        HIGH_VALUE,
        "FS = 0x1000: a new base (0x10000), the old 4 GiB limit",
    )?;
    // GS was loaded with a 64 KiB limit, and keeps that.
    let past = a.label();
    let resume = a.addr(past);
    a.mov(word_ptr(RESUME), resume)?;
    a.mov(eax, dword_ptr(esi).gs())?;
    a.fail("GS kept no 64 KiB limit")?;
    a.bind(past)?;
    a.check_eq(byte_ptr(GP_COUNT), 2, "GS keeps its 64 KiB limit: #GP")?;
    // The IVT serves again.
    a.mov(byte_ptr(MARK), 0)?;
    a.int(0x40)?;
    a.check_eq(
        byte_ptr(MARK),
        0x5A,
        "INT 0x40 through the IVT after the round trip",
    )?;
    a.exit(0)?;

    // Real-mode handlers.
    a.bind(int40)?;
    a.mov(byte_ptr(MARK), 0x5A)?;
    a.iret()?;
    a.bind(gp)?;
    a.push(bp)?;
    a.mov(bp, sp)?;
    a.push(ax)?;
    a.mov(ax, word_ptr(RESUME))?;
    a.mov(word_ptr(bp + 2), ax)?;
    a.inc(byte_ptr(GP_COUNT))?;
    a.pop(ax)?;
    a.pop(bp)?;
    a.iret()?;

    // 32-bit protected mode, from the ROM's copy below 4 GiB.
    a.section(32, HIGH_COPY + CODE32, CODE32 as usize)?;
    a.bind(pm32)?;
    a.mov(ax, u32::from(FLAT_DATA))?;
    for register in [ds, es, fs, ss] {
        a.mov(register, ax)?;
    }
    a.mov(esp, 0x9000)?;
    a.mov(ax, u32::from(DATA16))?;
    a.mov(gs, ax)?;
    a.mov(dword_ptr(HIGH), HIGH_VALUE)?;
    a.mov(eax, cs)?;
    a.check_eq(eax, u32::from(FLAT_CODE), "protected mode: CS")?;
    let target = a.addr(pm16);
    a.jmp_far(ROM_CODE16, target)?;
    Ok(())
}
