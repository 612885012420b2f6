//! The boot ROM's x86 code and the tables it walks, assembled with `asm`.
//!
//! The code runs from flash in flat 32-bit protected mode with its stack and variables in low
//! RAM. It is a straight line of phases, each ending with a "bootrom: ..." line on the debug
//! console; a wrong answer from the hardware prints "bootrom: FAIL ..." and the ROM goes on.
//! Waits are bounded by the ACPI PM timer, so a missing device costs a few milliseconds.
//!
//! Register conventions: routines take arguments in registers and keep ESI, EDI and EBP unless
//! they say otherwise; while the screen is drawn EDI is the pushbuffer's write pointer. `Asm::print`
//! clobbers AL, so values to print wait in other registers.

use super::layout::{Field, PALETTE, Screen};
use super::nv2a::{self, Op};
use super::xcodes::{self, ACPI_BASE, NV2A_BAR0, SMBUS_BASE};
use super::{BootInfo, DATA, FLASH_BASE, FLASH_SIZE, GDT, encoder};
use crate::asm::code_asm::*;
use crate::asm::{self, Asm, Label, Result};
use crate::screen::font::{self, GLYPH_HEIGHT, GLYPH_WIDTH};

const CONSOLE: u32 = 0xE9;
const STACK: u32 = 0x0009_0000;
/// Variables in RAM.
const VARS: u32 = 0x0008_0000;
const VAR_RAM_MIB: u32 = VARS;
/// The SMC version string (3 bytes).
const VAR_SMC: u32 = VARS + 4;
/// The RAM size as 3 right-aligned digits.
const VAR_RAM_TEXT: u32 = VARS + 8;
const VAR_VBLANKS: u32 = VARS + 12;
const VAR_ROWS: u32 = VARS + 16;
const VAR_GLYPHS: u32 = VARS + 20;
/// Characters blitted.
const VAR_DRAWN: u32 = VARS + 24;
/// The IDT: only the vblank's gate is present.
const IDT: u32 = 0x0000_1000;
/// IRQ 3 (the NV2A on PIRQC) through the master 8259 at vectors 0x20-0x27.
const VBLANK_VECTOR: u32 = 0x23;

// The SMBus host's registers (AMD-756 layout).
const SMB_STATUS: u16 = SMBUS_BASE;
const SMB_CONTROL: u16 = SMBUS_BASE + 2;
const SMB_ADDRESS: u16 = SMBUS_BASE + 4;
const SMB_DATA0: u16 = SMBUS_BASE + 6;
const SMB_COMMAND: u16 = SMBUS_BASE + 8;
const SMB_BLOCK: u16 = SMBUS_BASE + 9;
const SMB_DONE: u32 = 0x10;
/// Aborted, collision, protocol error (no acknowledge), timeout.
const SMB_FAILED: u32 = 0x27;
const SMB_START: u32 = 0x08;
const SMB_BYTE_DATA: u32 = 2;
const SMB_BLOCK_DATA: u32 = 5;
const SMC_ADDRESS: u32 = 0x10;
const SMC_VERSION: u32 = 0x01;

/// The ACPI PM timer: 3.375 MHz on the Xbox.
const PM_TIMER: u16 = ACPI_BASE + 8;
const PM_HZ: u32 = 3_375_000;
const SMBUS_TIMEOUT: u32 = PM_HZ / 100;
const DMA_TIMEOUT: u32 = PM_HZ / 10;

/// Where the x86 code finds its tables.
struct Tables {
    smbus: Label,
    mode: Label,
    pfifo: Label,
    vblank: Label,
    palette: Label,
    font: Label,
    rects: Label,
    lines: Label,
}

/// Shared routines.
struct Routines {
    print_hex: Label,
    print_dec: Label,
    pm_now: Label,
    smbus_transfer: Label,
    run_ops: Label,
    blit_text: Label,
    kick: Label,
}

/// The whole flash image but its X-codes.
pub fn assemble(info: &BootInfo, screen: &Screen) -> Result<Vec<u8>> {
    let smbus = encoder::writes(info.encoder);
    let mode = nv2a::mode_set(info.ram_mib);
    let pfifo = nv2a::pfifo_setup(info.ram_mib);
    let vblank = nv2a::vblank_on();
    asm::assemble(FLASH_SIZE, 0xFF, |a| {
        let tables = Tables {
            smbus: a.label(),
            mode: a.label(),
            pfifo: a.label(),
            vblank: a.label(),
            palette: a.label(),
            font: a.label(),
            rects: a.label(),
            lines: a.label(),
        };
        a.section(32, DATA, (DATA - FLASH_BASE) as usize)?;
        data(a, &tables, &smbus, [&mode, &pfifo, &vblank], screen)?;
        flat_start(a, STACK)?;
        a.cld()?;
        let routines = Routines {
            print_hex: a.label(),
            print_dec: a.label(),
            pm_now: a.label(),
            smbus_transfer: a.label(),
            run_ops: a.label(),
            blit_text: a.label(),
            kick: a.label(),
        };
        main(a, info, screen, &tables, &routines)?;
        routines_text(a, &routines)
    })
}

/// The tables, laid out in the data section.
fn data(
    a: &mut Asm,
    t: &Tables,
    smbus: &[encoder::SmbusWrite],
    ops: [&[Op]; 3],
    screen: &Screen,
) -> Result {
    // SMBus writes: device, register, dword flag, 0, value; device 0 ends.
    a.bind(t.smbus)?;
    for w in smbus {
        a.db(&[w.address, w.register, u8::from(w.dword), 0])?;
        a.dd(&[w.value])?;
    }
    a.dd(&[0, 0])?;
    // Register sequences: op, address, value, count; op 0 ends.
    for (label, ops) in [t.mode, t.pfifo, t.vblank].into_iter().zip(ops) {
        a.bind(label)?;
        for op in ops {
            a.dd(&op.encode())?;
        }
        a.dd(&[0; 4])?;
    }
    // The text colours, one atlas strip each.
    a.bind(t.palette)?;
    a.dd(&PALETTE)?;
    // The font, 16 bytes per glyph from ' ' to '~', bit 7 leftmost.
    a.bind(t.font)?;
    for c in ' '..='~' {
        a.db(&font::glyph(c))?;
    }
    // Rectangles: x, y, w, h, colour; w 0 ends.
    a.bind(t.rects)?;
    for r in &screen.rects {
        a.dw(&[r.x, r.y, r.w, r.h])?;
        a.dd(&[r.colour])?;
    }
    a.dw(&[0; 4])?;
    a.dd(&[0])?;
    // Lines: x, y, colour, length, then the text padded to a dword; length 0xFFFF ends.
    a.bind(t.lines)?;
    for line in &screen.lines {
        a.dw(&[line.x, line.y, line.colour.into(), line.text.len() as u16])?;
        let mut text = line.text.clone();
        text.resize(line.text.len().next_multiple_of(4), 0);
        a.db(&text)?;
    }
    a.dw(&[0, 0, 0, 0xFFFF])?;
    Ok(())
}

fn main(a: &mut Asm, info: &BootInfo, screen: &Screen, t: &Tables, r: &Routines) -> Result {
    a.print("bootrom: start\n")?;
    check_pci(a, r)?;
    program_encoder(a, t, r)?;
    read_smc_version(a, r)?;
    probe_nv2a(a, info, r)?;
    set_mode(a, t, r)?;
    setup_pfifo(a, t, r)?;
    build_atlas(a, t)?;
    draw(a, screen, t, r)?;
    wait_for_vblank(a, t, r)
}

/// Checks that the X-codes assigned the BARs the code relies on.
fn check_pci(a: &mut Asm, r: &Routines) -> Result {
    let fail = a.label();
    let done = a.label();
    for (address, value) in xcodes::BARS {
        a.mov(eax, address)?;
        a.mov(edx, 0xCF8u32)?;
        a.out(dx, eax)?;
        a.mov(edx, 0xCFCu32)?;
        a.in_(eax, dx)?;
        // The low bits are the BAR's type (I/O, prefetchable), fixed by the device.
        a.and(eax, 0xFFFF_FFF0u32 as i32)?;
        a.mov(ebx, address)?;
        a.cmp(eax, (value & !0xF) as i32)?;
        a.jne(fail)?;
    }
    a.print("bootrom: PCI resources assigned: NV2A BAR0 FD000000 BAR1 F0000000, ACPI 8000, SMBus C000\n")?;
    a.jmp(done)?;
    // Printing clobbers AL: values wait in EBX and EDX.
    a.bind(fail)?;
    a.mov(edx, eax)?;
    a.print("bootrom: FAIL PCI BAR ")?;
    a.mov(eax, ebx)?;
    a.call(r.print_hex)?;
    a.print(" reads ")?;
    a.mov(eax, edx)?;
    a.call(r.print_hex)?;
    a.print("\n")?;
    a.bind(done)
}

/// Replays the encoder's table, then reads the last register back.
fn program_encoder(a: &mut Asm, t: &Tables, r: &Routines) -> Result {
    let (next, written, failed, done) = (a.label(), a.label(), a.label(), a.label());
    let address = a.addr(t.smbus);
    a.mov(esi, address)?;
    a.xor(ebp, ebp)?;
    a.bind(next)?;
    a.mov(al, byte_ptr(esi))?;
    a.test(al, al)?;
    a.jz(written)?;
    transfer_entry(a, r, false)?;
    a.jc(failed)?;
    a.inc(ebp)?;
    a.add(esi, 8)?;
    a.jmp(next)?;

    a.bind(failed)?;
    a.print("bootrom: FAIL SMBus transfer to device ")?;
    a.movzx(eax, byte_ptr(esi))?;
    a.call(r.print_hex)?;
    a.print(" register ")?;
    a.movzx(eax, byte_ptr(esi + 1))?;
    a.call(r.print_hex)?;
    a.print(" did not complete\n")?;
    a.jmp(done)?;

    a.bind(written)?;
    a.print("bootrom: encoder programmed: ")?;
    a.mov(eax, ebp)?;
    a.call(r.print_dec)?;
    a.print(" writes\n")?;
    // Read the last register back (the CX25871 answers reads with EN_REG_RD set, as here).
    let (mismatch, compared) = (a.label(), a.label());
    a.sub(esi, 8)?;
    transfer_entry(a, r, true)?;
    a.jc(failed)?;
    let byte = a.label();
    a.cmp(byte_ptr(esi + 2), 0)?;
    a.je(byte)?;
    a.mov(eax, ebx)?;
    a.cmp(eax, dword_ptr(esi + 4))?;
    a.jne(mismatch)?;
    a.jmp(compared)?;
    a.bind(byte)?;
    a.movzx(eax, al)?;
    a.cmp(eax, dword_ptr(esi + 4))?;
    a.jne(mismatch)?;
    a.bind(compared)?;
    a.print("bootrom: encoder readback ok\n")?;
    a.jmp(done)?;
    a.bind(mismatch)?;
    a.mov(edx, eax)?;
    a.print("bootrom: FAIL encoder readback ")?;
    a.mov(eax, edx)?;
    a.call(r.print_hex)?;
    a.print(", wrote ")?;
    a.mov(eax, dword_ptr(esi + 4))?;
    a.call(r.print_hex)?;
    a.print("\n")?;
    a.bind(done)
}

/// One SMBus transfer of the table entry at ESI (a write, or a read of the same register).
fn transfer_entry(a: &mut Asm, r: &Routines, read: bool) -> Result {
    a.mov(al, byte_ptr(esi))?;
    a.shl(al, 1)?;
    if read {
        a.or(al, 1)?;
    }
    a.mov(ah, byte_ptr(esi + 1))?;
    a.mov(cl, SMB_BYTE_DATA)?;
    let go = a.label();
    a.cmp(byte_ptr(esi + 2), 0)?;
    a.je(go)?;
    a.mov(cl, SMB_BLOCK_DATA)?;
    a.bind(go)?;
    a.mov(ebx, dword_ptr(esi + 4))?;
    a.call(r.smbus_transfer)?;
    Ok(())
}

/// Reads the SMC's 3-character version string: a write to register 1 rewinds it, then each
/// read of register 1 returns the next character.
fn read_smc_version(a: &mut Asm, r: &Routines) -> Result {
    let (failed, unprintable, done) = (a.label(), a.label(), a.label());
    a.mov(eax, SMC_VERSION << 8 | SMC_ADDRESS << 1)?;
    a.xor(ebx, ebx)?;
    a.mov(cl, SMB_BYTE_DATA)?;
    a.call(r.smbus_transfer)?;
    a.jc(failed)?;
    for k in 0..3 {
        a.mov(eax, SMC_VERSION << 8 | SMC_ADDRESS << 1 | 1)?;
        a.mov(cl, SMB_BYTE_DATA)?;
        a.call(r.smbus_transfer)?;
        a.jc(failed)?;
        a.mov(byte_ptr(VAR_SMC + k), al)?;
        a.cmp(al, 0x20)?;
        a.jb(unprintable)?;
        a.cmp(al, 0x7E)?;
        a.ja(unprintable)?;
    }
    a.print("bootrom: SMC version ")?;
    for k in 0..3 {
        a.mov(al, byte_ptr(VAR_SMC + k))?;
        a.out(CONSOLE, al)?;
    }
    a.print("\n")?;
    a.jmp(done)?;
    a.bind(failed)?;
    a.print("bootrom: FAIL SMC version read\n")?;
    let unknown = a.label();
    a.jmp(unknown)?;
    a.bind(unprintable)?;
    a.print("bootrom: FAIL SMC version is not printable\n")?;
    a.bind(unknown)?;
    a.mov(dword_ptr(VAR_SMC), u32::from_le_bytes(*b"???\0"))?;
    a.bind(done)
}

/// Checks that the NV2A answers, and takes the RAM size from its memory controller.
fn probe_nv2a(a: &mut Asm, info: &BootInfo, r: &Routines) -> Result {
    a.mov(edx, dword_ptr(NV2A_BAR0 + nv2a::PMC_BOOT_0))?;
    a.print("bootrom: NV2A PMC_BOOT_0 ")?;
    a.mov(eax, edx)?;
    a.call(r.print_hex)?;
    a.print("\n")?;
    let (identified, from_pfb, done) = (a.label(), a.label(), a.label());
    a.mov(eax, edx)?;
    a.and(eax, 0xFFFF_FF00u32 as i32)?;
    a.cmp(eax, nv2a::PMC_BOOT_0_NV2A as i32)?;
    a.je(identified)?;
    a.print("bootrom: FAIL NV2A does not identify itself (PMC_BOOT_0 should be 02A000xx)\n")?;
    a.bind(identified)?;
    a.mov(eax, dword_ptr(NV2A_BAR0 + nv2a::PFB_CSTATUS))?;
    a.cmp(eax, 64 << 20)?;
    a.je(from_pfb)?;
    a.cmp(eax, 128 << 20)?;
    a.je(from_pfb)?;
    a.mov(dword_ptr(VAR_RAM_MIB), info.ram_mib)?;
    a.print("bootrom: RAM ")?;
    a.mov(eax, info.ram_mib)?;
    a.call(r.print_dec)?;
    a.print(" MiB (configured: PFB CSTATUS does not say)\n")?;
    a.jmp(done)?;
    a.bind(from_pfb)?;
    a.shr(eax, 20)?;
    a.mov(dword_ptr(VAR_RAM_MIB), eax)?;
    a.print("bootrom: RAM ")?;
    a.mov(eax, dword_ptr(VAR_RAM_MIB))?;
    a.call(r.print_dec)?;
    a.print(" MiB (NV2A PFB CSTATUS)\n")?;
    a.bind(done)
}

fn set_mode(a: &mut Asm, t: &Tables, r: &Routines) -> Result {
    let address = a.addr(t.mode);
    a.mov(esi, address)?;
    a.call(r.run_ops)?;
    a.print("bootrom: mode set: 640x480 X8R8G8B8, NTSC timing, scan-out at 03C00000\n")?;
    let ok = a.label();
    a.mov(edx, dword_ptr(NV2A_BAR0 + nv2a::PCRTC_START))?;
    a.cmp(edx, nv2a::FRAMEBUFFER as i32)?;
    a.je(ok)?;
    a.print("bootrom: FAIL PCRTC START reads ")?;
    a.mov(eax, edx)?;
    a.call(r.print_hex)?;
    a.print("\n")?;
    a.bind(ok)
}

fn setup_pfifo(a: &mut Asm, t: &Tables, r: &Routines) -> Result {
    let address = a.addr(t.pfifo);
    a.mov(esi, address)?;
    a.call(r.run_ops)?;
    a.print("bootrom: PFIFO channel 0 in DMA mode; RAMHT, RAMFC, RAMRO and 5 objects in PRAMIN\n")?;
    // PRAMIN is memory: the Kelvin object's RAMHT entry reads back.
    let ok = a.label();
    let entry = NV2A_BAR0 + nv2a::PRAMIN + 0x1_0000 + 8 * nv2a::ramht_hash(nv2a::KELVIN.handle, 0);
    a.mov(edx, dword_ptr(entry))?;
    a.cmp(edx, nv2a::KELVIN.handle as i32)?;
    a.je(ok)?;
    a.print("bootrom: FAIL PRAMIN RAMHT entry reads ")?;
    a.mov(eax, edx)?;
    a.call(r.print_hex)?;
    a.print("\n")?;
    a.bind(ok)
}

/// Expands the font into one atlas strip per palette colour: glyph g's row y of colour k at
/// (8g, 16k + y), set bits in the colour, clear bits in the background.
fn build_atlas(a: &mut Asm, t: &Tables) -> Result {
    let (colour, glyph, row) = (a.label(), a.label(), a.label());
    a.xor(ebp, ebp)?;
    a.bind(colour)?;
    let table = a.addr(t.palette);
    a.mov(ebx, dword_ptr(ebp * 4 + table))?;
    a.mov(edx, PALETTE[0])?;
    let font = a.addr(t.font);
    a.mov(esi, font)?;
    a.mov(edi, ebp)?;
    a.shl(edi, (4 + ATLAS_PITCH_SHIFT) as i32)?;
    a.add(edi, nv2a::ATLAS as i32)?;
    a.mov(dword_ptr(VAR_GLYPHS), 95u32)?;
    a.bind(glyph)?;
    a.push(edi)?;
    a.mov(dword_ptr(VAR_ROWS), GLYPH_HEIGHT as u32)?;
    a.bind(row)?;
    a.lodsb()?;
    for col in 0..GLYPH_WIDTH as i32 {
        a.shl(al, 1)?;
        a.mov(ecx, edx)?;
        a.cmovc(ecx, ebx)?;
        a.mov(dword_ptr(edi + 4 * col), ecx)?;
    }
    a.add(edi, nv2a::ATLAS_PITCH as i32)?;
    a.dec(dword_ptr(VAR_ROWS))?;
    a.jnz(row)?;
    a.pop(edi)?;
    a.add(edi, 4 * GLYPH_WIDTH as i32)?;
    a.dec(dword_ptr(VAR_GLYPHS))?;
    a.jnz(glyph)?;
    a.inc(ebp)?;
    a.cmp(ebp, PALETTE.len() as i32)?;
    a.jb(colour)?;
    a.print(&format!(
        "bootrom: glyph atlas: {} colours x 95 glyphs at {:08X}\n",
        PALETTE.len(),
        nv2a::ATLAS
    ))
}

/// log2 of the atlas pitch: colour k's strip starts 16 rows of it after colour k-1's.
const ATLAS_PITCH_SHIFT: u32 = nv2a::ATLAS_PITCH.trailing_zeros();

/// A method value: an immediate or a register.
#[derive(Clone, Copy)]
enum V {
    I(u32),
    R(AsmRegister32),
}

/// Appends `values` for consecutive methods from `method` on `subchannel` at EDI.
fn push_method(a: &mut Asm, subchannel: u32, method: u32, values: &[V]) -> Result {
    let count = values.len() as u32;
    a.mov(
        dword_ptr(edi),
        nv2a::method_header(subchannel, method, count),
    )?;
    for (k, value) in values.iter().enumerate() {
        let at = dword_ptr(edi + 4 * (k as i32 + 1));
        match *value {
            V::I(v) => a.mov(at, v)?,
            V::R(reg) => a.mov(at, reg)?,
        }
    }
    a.add(edi, 4 * (count as i32 + 1))?;
    Ok(())
}

/// Draws the screen: objects bound, the surface cleared, rectangles, then the text.
fn draw(a: &mut Asm, screen: &Screen, t: &Tables, r: &Routines) -> Result {
    use V::I;
    a.mov(edi, nv2a::PUSHBUFFER)?;
    push_method(a, nv2a::SUB_3D, nv2a::SET_OBJECT, &[I(nv2a::KELVIN.handle)])?;
    push_method(
        a,
        nv2a::SUB_BLIT,
        nv2a::SET_OBJECT,
        &[I(nv2a::IMAGE_BLIT.handle)],
    )?;
    push_method(
        a,
        nv2a::SUB_SURFACES,
        nv2a::SET_OBJECT,
        &[I(nv2a::SURFACES_2D.handle)],
    )?;
    // Kelvin's colour surface (and zeta, which clears of colour leave alone) in the RAM window:
    // clip, format, pitch, offsets (methods 0x200-0x214).
    let ram = nv2a::DMA_RAM.handle;
    push_method(
        a,
        nv2a::SUB_3D,
        nv2a::NV097_SET_CONTEXT_DMA_COLOR,
        &[I(ram), I(ram)],
    )?;
    let (w, h) = (super::layout::WIDTH, super::layout::HEIGHT);
    push_method(
        a,
        nv2a::SUB_3D,
        nv2a::NV097_SET_SURFACE_CLIP_HORIZONTAL,
        &[
            I(w << 16),
            I(h << 16),
            I(nv2a::SURFACE_FORMAT),
            I(nv2a::PITCH << 16 | nv2a::PITCH),
            I(nv2a::FRAMEBUFFER),
            I(nv2a::ZETA),
        ],
    )?;
    // The whole surface in the background colour.
    clear(a, I((w - 1) << 16), I((h - 1) << 16), I(PALETTE[0]))?;
    rects(a, t)?;
    // The 2D path: surfaces over RAM (source the atlas, destination the framebuffer), and the
    // blitter copying from them.
    push_method(
        a,
        nv2a::SUB_SURFACES,
        nv2a::NV062_SET_CONTEXT_DMA_IMAGE_SOURCE,
        &[I(ram), I(ram)],
    )?;
    push_method(
        a,
        nv2a::SUB_SURFACES,
        nv2a::NV062_SET_COLOR_FORMAT,
        &[
            I(nv2a::NV062_COLOR_FORMAT_X8R8G8B8),
            I(nv2a::PITCH << 16 | nv2a::ATLAS_PITCH),
            I(nv2a::ATLAS),
            I(nv2a::FRAMEBUFFER),
        ],
    )?;
    push_method(
        a,
        nv2a::SUB_BLIT,
        nv2a::NV09F_SET_CONTEXT_SURFACES,
        &[I(nv2a::SURFACES_2D.handle)],
    )?;
    push_method(
        a,
        nv2a::SUB_BLIT,
        nv2a::NV09F_SET_OPERATION,
        &[I(nv2a::NV09F_OPERATION_SRCCOPY)],
    )?;
    a.mov(ebp, 1u32)?;
    a.call(r.kick)?;

    a.mov(dword_ptr(VAR_DRAWN), 0u32)?;
    lines(a, t, r)?;
    // The values found at run time.
    a.mov(esi, VAR_SMC)?;
    field(a, r, screen.smc_version)?;
    ram_digits(a)?;
    a.mov(esi, VAR_RAM_TEXT)?;
    field(a, r, screen.ram_mib)?;
    a.print("bootrom: text: ")?;
    a.mov(eax, dword_ptr(VAR_DRAWN))?;
    a.call(r.print_dec)?;
    a.print(" characters blitted from the atlas\n")?;
    a.mov(ebp, 2u32)?;
    a.call(r.kick)?;
    Ok(())
}

/// A colour clear of a rectangle (inclusive bounds, min in the low half, max in the high).
fn clear(a: &mut Asm, horizontal: V, vertical: V, colour: V) -> Result {
    push_method(
        a,
        nv2a::SUB_3D,
        nv2a::NV097_SET_CLEAR_RECT_HORIZONTAL,
        &[horizontal, vertical],
    )?;
    push_method(
        a,
        nv2a::SUB_3D,
        nv2a::NV097_SET_COLOR_CLEAR_VALUE,
        &[colour],
    )?;
    push_method(
        a,
        nv2a::SUB_3D,
        nv2a::NV097_CLEAR_SURFACE,
        &[V::I(nv2a::CLEAR_COLOR)],
    )
}

/// One clear per entry of the rectangle table.
fn rects(a: &mut Asm, t: &Tables) -> Result {
    let (next, done) = (a.label(), a.label());
    let address = a.addr(t.rects);
    a.mov(esi, address)?;
    a.bind(next)?;
    a.movzx(eax, word_ptr(esi + 4))?;
    a.test(eax, eax)?;
    a.jz(done)?;
    // ECX = x | (x + w - 1) << 16, EDX = y | (y + h - 1) << 16.
    a.movzx(ebx, word_ptr(esi))?;
    a.lea(ecx, ptr(ebx + eax - 1))?;
    a.shl(ecx, 16)?;
    a.or(ecx, ebx)?;
    a.movzx(eax, word_ptr(esi + 6))?;
    a.movzx(ebx, word_ptr(esi + 2))?;
    a.lea(edx, ptr(ebx + eax - 1))?;
    a.shl(edx, 16)?;
    a.or(edx, ebx)?;
    a.mov(eax, dword_ptr(esi + 8))?;
    clear(a, V::R(ecx), V::R(edx), V::R(eax))?;
    a.add(esi, 12)?;
    a.jmp(next)?;
    a.bind(done)
}

/// Blits every line of the line table.
fn lines(a: &mut Asm, t: &Tables, r: &Routines) -> Result {
    let (next, done) = (a.label(), a.label());
    let address = a.addr(t.lines);
    a.mov(esi, address)?;
    a.bind(next)?;
    a.movzx(ecx, word_ptr(esi + 6))?;
    a.cmp(ecx, 0xFFFF)?;
    a.je(done)?;
    a.movzx(ebx, word_ptr(esi))?;
    a.movzx(eax, word_ptr(esi + 2))?;
    a.shl(eax, 16)?;
    a.or(ebx, eax)?;
    a.movzx(edx, word_ptr(esi + 4))?;
    a.shl(edx, 20)?;
    a.push(esi)?;
    a.add(esi, 8)?;
    a.call(r.blit_text)?;
    a.pop(esi)?;
    // Past the header and the padded text.
    a.movzx(ecx, word_ptr(esi + 6))?;
    a.add(ecx, 3 + 8)?;
    a.and(ecx, !3)?;
    a.add(esi, ecx)?;
    a.jmp(next)?;
    a.bind(done)
}

/// Blits 3 characters from ESI at `field`.
fn field(a: &mut Asm, r: &Routines, field: Field) -> Result {
    a.mov(ecx, 3u32)?;
    a.mov(ebx, u32::from(field.y) << 16 | u32::from(field.x))?;
    a.mov(edx, u32::from(field.colour) << 20)?;
    a.call(r.blit_text)?;
    Ok(())
}

/// The RAM size as 3 right-aligned digits at VAR_RAM_TEXT (keeps EDI).
fn ram_digits(a: &mut Asm) -> Result {
    let (digit, done) = (a.label(), a.label());
    a.mov(dword_ptr(VAR_RAM_TEXT), u32::from_le_bytes(*b"   \0"))?;
    a.mov(eax, dword_ptr(VAR_RAM_MIB))?;
    a.mov(esi, VAR_RAM_TEXT + 2)?;
    a.mov(ecx, 10u32)?;
    a.bind(digit)?;
    a.xor(edx, edx)?;
    a.div(ecx)?;
    a.add(dl, b'0' as u32)?;
    a.mov(byte_ptr(esi), dl)?;
    a.test(eax, eax)?;
    a.jz(done)?;
    a.dec(esi)?;
    a.cmp(esi, VAR_RAM_TEXT)?;
    a.jae(digit)?;
    a.bind(done)
}

/// Turns the vblank interrupt on and halts; each vblank wakes the CPU, the first one logs.
fn wait_for_vblank(a: &mut Asm, t: &Tables, r: &Routines) -> Result {
    let handler = a.label();
    let target = a.addr(handler);
    let gate = IDT + 8 * VBLANK_VECTOR;
    a.mov(dword_ptr(gate), 0x0008_0000 | (target & 0xFFFF))?;
    a.mov(dword_ptr(gate + 4), (target & 0xFFFF_0000) | 0x8E00)?;
    let pointer = IDT + 0x800;
    a.mov(word_ptr(pointer), 0x7FFu32)?;
    a.mov(dword_ptr(pointer + 2), IDT)?;
    a.lidt(ptr(pointer))?;
    // The 8259 pair: vectors 0x20 and 0x28, slave on IR2, only IRQ 3 unmasked.
    for (port, value) in [
        (0x20, 0x11),
        (0x21, 0x20),
        (0x21, 0x04),
        (0x21, 0x01),
        (0xA0, 0x11),
        (0xA1, 0x28),
        (0xA1, 0x02),
        (0xA1, 0x01),
        (0x21, 0xF7),
        (0xA1, 0xFF),
    ] {
        a.mov(al, value as u32)?;
        a.out(port as u32, al)?;
    }
    a.mov(dword_ptr(VAR_VBLANKS), 0u32)?;
    let address = a.addr(t.vblank);
    a.mov(esi, address)?;
    a.call(r.run_ops)?;
    a.print("bootrom: done: vblank interrupt on, halting\n")?;
    a.sti()?;
    let idle = a.here()?;
    a.hlt()?;
    a.jmp(idle)?;

    a.bind(handler)?;
    a.push(eax)?;
    a.mov(dword_ptr(NV2A_BAR0 + nv2a::PCRTC_INTR_0), 1u32)?;
    a.inc(dword_ptr(VAR_VBLANKS))?;
    let eoi = a.label();
    a.cmp(dword_ptr(VAR_VBLANKS), 1)?;
    a.jne(eoi)?;
    a.print("bootrom: vblank\n")?;
    a.bind(eoi)?;
    a.mov(al, 0x20u32)?;
    a.out(0x20u32, al)?;
    a.pop(eax)?;
    a.iretd()?;
    Ok(())
}

/// The start of a flash program: a flat GDT of our own in the flash (null, code 0x08, data
/// 0x10; the MCPX ROM's is gone with the ROM), then, at [`super::CODE`] where the visor jump
/// lands, code that loads it, reloads every segment and sets the stack. What the caller emits
/// next follows that code.
pub fn flat_start(a: &mut Asm, stack: u32) -> Result {
    a.section(32, GDT, (GDT - FLASH_BASE) as usize)?;
    a.dq(&[0, 0x00CF_9B00_0000_FFFF, 0x00CF_9300_0000_FFFF])?;
    let gdt_pointer = a.here()?;
    a.dw(&[23])?;
    a.dd(&[GDT])?;
    a.section(32, super::CODE, (super::CODE - FLASH_BASE) as usize)?;
    let address = a.addr(gdt_pointer);
    a.lgdt(ptr(address))?;
    let flat = a.label();
    a.jmp(flat)?;
    a.bind(flat)?;
    a.mov(eax, 0x10u32)?;
    for seg in [ds, es, ss, fs, gs] {
        a.mov(seg, ax)?;
    }
    a.mov(esp, stack)?;
    Ok(())
}

/// The routines `main` calls.
fn routines_text(a: &mut Asm, r: &Routines) -> Result {
    // EAX as 8 hex digits.
    a.bind(r.print_hex)?;
    a.pushad()?;
    a.mov(ebx, eax)?;
    a.mov(ecx, 8u32)?;
    let (digit, decimal) = (a.here()?, a.label());
    a.rol(ebx, 4)?;
    a.mov(al, bl)?;
    a.and(al, 0x0F)?;
    a.add(al, b'0' as u32)?;
    a.cmp(al, b'9' as u32)?;
    a.jbe(decimal)?;
    a.add(al, (b'A' - b'9' - 1) as u32)?;
    a.bind(decimal)?;
    a.out(CONSOLE, al)?;
    a.dec(ecx)?;
    a.jnz(digit)?;
    a.popad()?;
    a.ret()?;

    // EAX in decimal.
    a.bind(r.print_dec)?;
    a.pushad()?;
    a.xor(ecx, ecx)?;
    a.mov(ebx, 10u32)?;
    let divide = a.here()?;
    a.xor(edx, edx)?;
    a.div(ebx)?;
    a.push(edx)?;
    a.inc(ecx)?;
    a.test(eax, eax)?;
    a.jnz(divide)?;
    let out = a.here()?;
    a.pop(eax)?;
    a.add(al, b'0' as u32)?;
    a.out(CONSOLE, al)?;
    a.dec(ecx)?;
    a.jnz(out)?;
    a.popad()?;
    a.ret()?;

    // EAX = the PM timer.
    a.bind(r.pm_now)?;
    a.push(edx)?;
    a.mov(dx, PM_TIMER as u32)?;
    a.in_(eax, dx)?;
    a.pop(edx)?;
    a.ret()?;

    smbus_transfer(a, r)?;
    run_ops(a, r)?;
    blit_text(a, r)?;
    kick(a, r)
}

/// One SMBus transaction. AL: the address byte (7-bit address << 1, bit 0 for a read), AH:
/// the command (register), EBX: the data, CL: the protocol (byte data or a 4-byte block).
/// Returns CF set on failure; AL the byte read, EBX the block read. Keeps ECX, ESI, EDI, EBP.
fn smbus_transfer(a: &mut Asm, r: &Routines) -> Result {
    a.bind(r.smbus_transfer)?;
    a.push(edx)?;
    a.push(eax)?;
    let out = |a: &mut Asm, port: u16| -> Result {
        a.mov(dx, u32::from(port))?;
        a.out(dx, al)?;
        Ok(())
    };
    // Clear the status, then address, command and data.
    a.mov(al, 0xFFu32)?;
    out(a, SMB_STATUS)?;
    a.mov(al, byte_ptr(esp))?;
    out(a, SMB_ADDRESS)?;
    a.mov(al, byte_ptr(esp + 1))?;
    out(a, SMB_COMMAND)?;
    let (block, start) = (a.label(), a.label());
    a.cmp(cl, SMB_BLOCK_DATA)?;
    a.je(block)?;
    a.mov(al, bl)?;
    out(a, SMB_DATA0)?;
    a.jmp(start)?;
    a.bind(block)?;
    // A block's length goes in DATA0; reading CONTROL rewinds the block buffer.
    a.mov(al, 4u32)?;
    out(a, SMB_DATA0)?;
    a.mov(dx, SMB_CONTROL as u32)?;
    a.in_(al, dx)?;
    a.mov(dx, SMB_BLOCK as u32)?;
    a.mov(eax, ebx)?;
    for _ in 0..4 {
        a.out(dx, al)?;
        a.shr(eax, 8)?;
    }
    a.bind(start)?;
    a.mov(al, cl)?;
    a.or(al, SMB_START)?;
    out(a, SMB_CONTROL)?;

    // Wait for the end of the transaction, at most SMBUS_TIMEOUT.
    let (poll, done, failed, finish) = (a.label(), a.label(), a.label(), a.label());
    a.push(ecx)?;
    a.call(r.pm_now)?;
    a.mov(ecx, eax)?;
    a.bind(poll)?;
    a.mov(dx, SMB_STATUS as u32)?;
    a.in_(al, dx)?;
    a.test(al, SMB_DONE)?;
    a.jnz(done)?;
    a.test(al, SMB_FAILED)?;
    a.jnz(failed)?;
    a.call(r.pm_now)?;
    a.sub(eax, ecx)?;
    a.cmp(eax, SMBUS_TIMEOUT as i32)?;
    a.jb(poll)?;
    a.bind(failed)?;
    a.pop(ecx)?;
    a.stc()?;
    a.jmp(finish)?;

    a.bind(done)?;
    a.pop(ecx)?;
    let byte = a.label();
    a.test(byte_ptr(esp), 1)?;
    a.jz(byte)?;
    a.cmp(cl, SMB_BLOCK_DATA)?;
    a.jne(byte)?;
    // A block read: 4 bytes into EBX, the first in the low byte.
    a.mov(dx, SMB_CONTROL as u32)?;
    a.in_(al, dx)?;
    a.mov(dx, SMB_BLOCK as u32)?;
    for _ in 0..4 {
        a.in_(al, dx)?;
        a.mov(bl, al)?;
        a.ror(ebx, 8)?;
    }
    a.bind(byte)?;
    a.mov(dx, SMB_DATA0 as u32)?;
    a.in_(al, dx)?;
    a.clc()?;
    a.bind(finish)?;
    // Drop the saved EAX without touching the flags.
    a.lea(esp, ptr(esp + 4))?;
    a.pop(edx)?;
    a.ret()?;
    Ok(())
}

/// Replays the register table at ESI (see `nv2a::Op::encode`). Keeps EDI and EBP.
fn run_ops(a: &mut Asm, r: &Routines) -> Result {
    a.bind(r.run_ops)?;
    a.push(edi)?;
    let (next, byte, advance, store, done) =
        (a.label(), a.label(), a.label(), a.label(), a.label());
    a.bind(next)?;
    a.mov(eax, dword_ptr(esi))?;
    a.test(eax, eax)?;
    a.jz(done)?;
    a.mov(edi, dword_ptr(esi + 4))?;
    a.mov(ebx, dword_ptr(esi + 8))?;
    a.mov(ecx, dword_ptr(esi + 12))?;
    a.cmp(eax, 2)?;
    a.je(byte)?;
    a.bind(store)?;
    a.mov(dword_ptr(edi), ebx)?;
    a.add(edi, 4)?;
    a.dec(ecx)?;
    a.jnz(store)?;
    a.jmp(advance)?;
    a.bind(byte)?;
    a.mov(byte_ptr(edi), bl)?;
    a.bind(advance)?;
    a.add(esi, 16)?;
    a.jmp(next)?;
    a.bind(done)?;
    a.pop(edi)?;
    a.ret()?;
    Ok(())
}

/// Blits ECX characters from ESI, the first at EBX (y << 16 | x), from the atlas strip whose
/// top line is EDX >> 16; spaces are skipped (the background is already there). Advances EDI
/// and ESI; counts into VAR_DRAWN.
fn blit_text(a: &mut Asm, r: &Routines) -> Result {
    a.bind(r.blit_text)?;
    let (next, skip, done) = (a.label(), a.label(), a.label());
    a.test(ecx, ecx)?;
    a.jz(done)?;
    a.bind(next)?;
    a.lodsb()?;
    a.cmp(al, b' ' as u32)?;
    a.je(skip)?;
    a.movzx(eax, al)?;
    a.sub(eax, 0x20)?;
    a.shl(eax, 3)?;
    a.or(eax, edx)?;
    push_method(
        a,
        nv2a::SUB_BLIT,
        nv2a::NV09F_CONTROL_POINT_IN,
        &[
            V::R(eax),
            V::R(ebx),
            V::I((GLYPH_HEIGHT as u32) << 16 | GLYPH_WIDTH as u32),
        ],
    )?;
    a.inc(dword_ptr(VAR_DRAWN))?;
    a.bind(skip)?;
    a.add(ebx, GLYPH_WIDTH as i32)?;
    a.dec(ecx)?;
    a.jnz(next)?;
    a.bind(done)?;
    a.ret()?;
    Ok(())
}

/// Hands the pushbuffer up to EDI to the GPU (USER DMA_PUT) and waits, at most DMA_TIMEOUT,
/// for DMA_GET to reach it. EBP: the kick's number, for the log.
fn kick(a: &mut Asm, r: &Routines) -> Result {
    a.bind(r.kick)?;
    a.mov(ebx, edi)?;
    a.sub(ebx, nv2a::PUSHBUFFER as i32)?;
    a.mov(dword_ptr(NV2A_BAR0 + nv2a::USER_DMA_PUT), ebx)?;
    let (poll, reached) = (a.label(), a.label());
    a.call(r.pm_now)?;
    a.mov(ecx, eax)?;
    a.bind(poll)?;
    a.mov(eax, dword_ptr(NV2A_BAR0 + nv2a::USER_DMA_GET))?;
    a.cmp(eax, ebx)?;
    a.je(reached)?;
    a.call(r.pm_now)?;
    a.sub(eax, ecx)?;
    a.cmp(eax, DMA_TIMEOUT as i32)?;
    a.jb(poll)?;
    a.print("bootrom: FAIL pushbuffer kick ")?;
    a.mov(eax, ebp)?;
    a.call(r.print_dec)?;
    a.print(": DMA_GET ")?;
    a.mov(eax, dword_ptr(NV2A_BAR0 + nv2a::USER_DMA_GET))?;
    a.call(r.print_hex)?;
    a.print(" did not reach DMA_PUT ")?;
    a.mov(eax, ebx)?;
    a.call(r.print_hex)?;
    a.print("\n")?;
    a.ret()?;
    a.bind(reached)?;
    a.print("bootrom: pushbuffer kick ")?;
    a.mov(eax, ebp)?;
    a.call(r.print_dec)?;
    a.print(": DMA_GET reached DMA_PUT ")?;
    a.mov(eax, ebx)?;
    a.call(r.print_hex)?;
    a.print("\n")?;
    a.ret()?;
    Ok(())
}
