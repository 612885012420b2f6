//! Builds test flash images around guest programs assembled here, boots them through the
//! high-level MCPX and collects what the guest prints on the debug console (port 0xE9).
//!
//! A flash image holds an X-code table at 0x80 that stores "mov eax, CODE; jmp eax" at RAM
//! address 0 and exits: with no second-stage loader in the flash, the MCPX's check fails and
//! execution wraps to address 0 (the path open flash images use). The program then starts
//! at `CODE` in flat 32-bit protected mode, with a stack set up by the prologue.

#![allow(dead_code)]

use oxbox::asm::{self, Asm, Result};
use oxbox::input::{Gamepad, PORTS};
use oxbox::machine::{Config, Machine};
use std::path::PathBuf;

pub use oxbox::asm::code_asm::*;

pub const FLASH_SIZE: usize = 256 * 1024;
/// Where the program's code starts (flash offset 0x1000, seen through the top mirror).
pub const CODE: u32 = oxbox::bootrom::CODE;
/// Where programs build their IDT in RAM.
pub const IDT: u32 = 0x0000_1000;
/// The program's stack top.
pub const STACK: u32 = 0x0009_0000;
pub const FLASH_FILE: &str = "Complex_4627.bin";

/// X-code opcodes, as the MCPX ROM interprets them.
pub mod xcode {
    pub const POKE: u8 = 0x03;
    pub const POKE_PCI: u8 = 0x04;
    pub const EXIT: u8 = 0xEE;
}

/// An X-code table.
#[derive(Default)]
pub struct Xcodes(pub Vec<u8>);

impl Xcodes {
    pub fn op(mut self, opcode: u8, a: u32, b: u32) -> Xcodes {
        self.0.push(opcode);
        self.0.extend_from_slice(&a.to_le_bytes());
        self.0.extend_from_slice(&b.to_le_bytes());
        self
    }

    /// Stores "mov eax, target; jmp eax" at RAM address 0 (the visor jump), then exits.
    pub fn jump_from_zero(self, target: u32) -> Xcodes {
        let mut code = [0x90u8; 8];
        code[0] = 0xB8;
        code[1..5].copy_from_slice(&target.to_le_bytes());
        code[5..7].copy_from_slice(&[0xFF, 0xE0]);
        self.op(
            xcode::POKE,
            0,
            u32::from_le_bytes(code[..4].try_into().unwrap()),
        )
        .op(
            xcode::POKE,
            4,
            u32::from_le_bytes(code[4..].try_into().unwrap()),
        )
        .op(xcode::EXIT, 0, 0)
    }
}

/// A flash image whose program is `text` (after a prologue that sets up the stack).
pub fn flash(text: impl Fn(&mut Asm) -> Result) -> Vec<u8> {
    flash_with(Xcodes::default().jump_from_zero(CODE), text)
}

pub fn flash_with(xcodes: Xcodes, text: impl Fn(&mut Asm) -> Result) -> Vec<u8> {
    let mut image = asm::assemble(FLASH_SIZE, 0xFF, |a| {
        oxbox::bootrom::program::flat_start(a, STACK)?;
        text(a)
    })
    .unwrap_or_else(|e| panic!("guest program: {e}"));
    image[0x80..0x80 + xcodes.0.len()].copy_from_slice(&xcodes.0);
    image
}

/// A scratch directory, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("oxbox-board-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("system")).unwrap();
        std::fs::create_dir_all(dir.join("save")).unwrap();
        Scratch(dir)
    }

    pub fn system(&self) -> PathBuf {
        self.0.join("system")
    }

    pub fn save(&self) -> PathBuf {
        self.0.join("save")
    }

    pub fn put(&self, name: &str, data: &[u8]) {
        std::fs::write(self.system().join(name), data).unwrap();
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A machine on `flash` (and an MCPX ROM if given), in a scratch directory of its own.
pub fn machine(
    name: &str,
    flash: &[u8],
    mcpx: Option<&[u8]>,
    config: Config,
) -> (Machine, Scratch) {
    let scratch = Scratch::new(name);
    scratch.put(FLASH_FILE, flash);
    if let Some(rom) = mcpx {
        scratch.put("mcpx_1.0.bin", rom);
    }
    let machine = Machine::new(Config {
        system_dir: Some(scratch.system()),
        save_dir: Some(scratch.save()),
        flash_file: FLASH_FILE.into(),
        ..config
    });
    (machine, scratch)
}

/// Runs frames until the guest prints a line starting with "PASS" or one reporting a
/// failure, or until `frames` have run; returns everything it printed.
pub fn run_until_done(machine: &mut Machine, frames: u64) -> Vec<String> {
    let pads = [Gamepad::default(); PORTS];
    let mut lines = Vec::new();
    for _ in 0..frames {
        machine.run_frame(&pads);
        lines.extend(machine.take_guest_log());
        if lines.iter().any(|l| finished(l)) {
            break;
        }
    }
    lines
}

fn finished(line: &str) -> bool {
    line.starts_with("PASS") || line.starts_with("FAIL") || line.contains("failed")
}

/// Boots `text` and asserts that it prints PASS within `frames` frames.
pub fn expect_pass(name: &str, config: Config, frames: u64, text: impl Fn(&mut Asm) -> Result) {
    let image = flash(text);
    let (mut machine, _scratch) = machine(name, &image, None, config);
    let lines = run_until_done(&mut machine, frames);
    assert!(
        lines.iter().any(|l| l.starts_with("PASS")),
        "{name}: the guest did not pass; it printed:\n{}",
        lines.join("\n")
    );
}

/// Prints "PASS" and stops the CPU for good.
pub fn pass(a: &mut Asm) -> Result {
    a.print("PASS\n")?;
    a.cli()?;
    let spin = a.here()?;
    a.hlt()?;
    a.jmp(spin)?;
    Ok(())
}

/// EAX = the dword of PCI configuration space at `address` (clobbers EDX).
pub fn pci_read(a: &mut Asm, address: u32) -> Result {
    a.mov(eax, address)?;
    a.mov(edx, 0xCF8u32)?;
    a.out(dx, eax)?;
    a.mov(edx, 0xCFCu32)?;
    a.in_(eax, dx)?;
    Ok(())
}

/// Writes `value` to the dword of PCI configuration space at `address` (clobbers EAX, EDX).
pub fn pci_write(a: &mut Asm, address: u32, value: u32) -> Result {
    a.mov(eax, address)?;
    a.mov(edx, 0xCF8u32)?;
    a.out(dx, eax)?;
    a.mov(eax, value)?;
    a.mov(edx, 0xCFCu32)?;
    a.out(dx, eax)?;
    Ok(())
}

/// A PCI configuration address.
pub fn config_address(bus: u32, device: u32, function: u32, reg: u32) -> u32 {
    0x8000_0000 | bus << 16 | device << 11 | function << 8 | reg
}

/// Builds an IDT at [`IDT`] with interrupt gates for `handlers` (vector, handler) and loads
/// it (clobbers EAX, EDX).
pub fn install_idt(a: &mut Asm, handlers: &[(u8, asm::Label)]) -> Result {
    for &(vector, handler) in handlers {
        let target = a.addr(handler);
        let entry = IDT + 8 * u32::from(vector);
        a.mov(dword_ptr(entry), 0x0008_0000 | (target & 0xFFFF))?;
        a.mov(dword_ptr(entry + 4), (target & 0xFFFF_0000) | 0x8E00)?;
    }
    let pointer = IDT + 0x800;
    a.mov(word_ptr(pointer), 0x7FFu32)?;
    a.mov(dword_ptr(pointer + 2), IDT)?;
    a.lidt(ptr(pointer))?;
    Ok(())
}

/// Writes the byte `value` to `port` (clobbers AL, DX).
pub fn outb(a: &mut Asm, port: u16, value: u8) -> Result {
    a.mov(al, u32::from(value))?;
    a.mov(dx, u32::from(port))?;
    a.out(dx, al)?;
    Ok(())
}

/// AL = the byte at `port` (clobbers DX).
pub fn inb(a: &mut Asm, port: u16) -> Result {
    a.mov(dx, u32::from(port))?;
    a.in_(al, dx)?;
    Ok(())
}

/// Initialises the 8259 pair: master vectors 0x20-0x27, slave 0x28-0x2F on IR2, and the
/// given masks (clobbers AL, DX).
pub fn init_pic(a: &mut Asm, master_mask: u8, slave_mask: u8) -> Result {
    for (port, icw) in [
        (0x20, 0x11),
        (0x21, 0x20),
        (0x21, 0x04),
        (0x21, 0x01),
        (0xA0, 0x11),
        (0xA1, 0x28),
        (0xA1, 0x02),
        (0xA1, 0x01),
    ] {
        outb(a, port, icw)?;
    }
    outb(a, 0x21, master_mask)?;
    outb(a, 0xA1, slave_mask)
}

/// Programs PIT counter 0 as a rate generator (mode 2) dividing 1.125 MHz by `count`.
pub fn start_pit(a: &mut Asm, count: u16) -> Result {
    outb(a, 0x43, 0x34)?;
    outb(a, 0x40, count as u8)?;
    outb(a, 0x40, (count >> 8) as u8)
}

/// A program driven by the timer: IRQ 0 at 1 kHz steps a pseudo-random generator and writes
/// its values through a 16 KiB ring in RAM; the main loop halts between interrupts.
pub fn ticker(a: &mut Asm) -> Result {
    let handler = a.label();
    install_idt(a, &[(0x20, handler)])?;
    a.mov(dword_ptr(TICKER_SEED), 0x1234_5678u32)?;
    a.mov(dword_ptr(TICKER_COUNT), 0u32)?;
    init_pic(a, 0xFE, 0xFF)?;
    start_pit(a, 1125)?;
    a.sti()?;
    let idle = a.here()?;
    a.hlt()?;
    a.jmp(idle)?;

    a.bind(handler)?;
    a.push(eax)?;
    a.push(edx)?;
    a.imul_3(eax, dword_ptr(TICKER_SEED), 1_103_515_245)?;
    a.add(eax, 12345)?;
    a.mov(dword_ptr(TICKER_SEED), eax)?;
    a.mov(edx, dword_ptr(TICKER_COUNT))?;
    a.inc(edx)?;
    a.mov(dword_ptr(TICKER_COUNT), edx)?;
    a.and(edx, 0xFFF)?;
    a.mov(dword_ptr(edx * 4 + TICKER_RING), eax)?;
    outb(a, 0x20, 0x20)?;
    a.pop(edx)?;
    a.pop(eax)?;
    a.iretd()?;
    Ok(())
}

pub const TICKER_SEED: u32 = 0x2000;
pub const TICKER_COUNT: u32 = 0x2004;
pub const TICKER_RING: u32 = 0x10000;

/// Where [`enable_acpi`] puts the MCPX's ACPI power-management block (LPC BAR0).
pub const ACPI_BASE: u16 = 0x8000;
/// The PM timer: a read-only dword at the block's offset 8.
pub const PM_TIMER: u16 = ACPI_BASE + 8;
/// The PM timer's rate on the Xbox (not ACPI's 3.579545 MHz).
pub const PM_TIMER_HZ: u32 = 3_375_000;

/// Assigns the LPC bridge's (00:01.0) I/O BAR0 to [`ACPI_BASE`] and turns on its I/O decoding
/// (clobbers EAX, ECX, EDX).
pub fn enable_acpi(a: &mut Asm) -> Result {
    pci_write(a, config_address(0, 1, 0, 0x10), u32::from(ACPI_BASE) | 1)?;
    enable_io(a, config_address(0, 1, 0, 0x04))
}

/// Sets bit 0 (I/O space) of the command register at `command` (a configuration address),
/// keeping the other command bits and writing zeros to the status half (clobbers EAX, ECX,
/// EDX).
pub fn enable_io(a: &mut Asm, command: u32) -> Result {
    pci_read(a, command)?;
    a.and(eax, 0xFFFF)?;
    a.or(eax, 1)?;
    a.mov(ecx, eax)?;
    a.mov(eax, command)?;
    a.mov(edx, 0xCF8u32)?;
    a.out(dx, eax)?;
    a.mov(eax, ecx)?;
    a.mov(edx, 0xCFCu32)?;
    a.out(dx, eax)?;
    Ok(())
}

/// EAX = the PM timer (clobbers EDX). Needs [`enable_acpi`].
pub fn pm_timer(a: &mut Asm) -> Result {
    a.mov(dx, u32::from(PM_TIMER))?;
    a.in_(eax, dx)?;
    Ok(())
}

/// AL = CMOS/RTC register `index` through ports 0x70/0x71 (clobbers DX).
pub fn cmos_read(a: &mut Asm, index: u8) -> Result {
    outb(a, 0x70, index)?;
    inb(a, 0x71)
}

/// Writes `value` to CMOS/RTC register `index` (clobbers AL, DX).
pub fn cmos_write(a: &mut Asm, index: u8, value: u8) -> Result {
    outb(a, 0x70, index)?;
    outb(a, 0x71, value)
}

/// Fails `what` unless EAX lies in `expected` ± `tolerance` (wrapping arithmetic, so
/// `expected` may be 0; clobbers EAX).
pub fn check_near(a: &mut Asm, expected: u32, tolerance: u32, what: &str) -> Result {
    a.sub(eax, expected.wrapping_sub(tolerance) as i32)?;
    a.cmp(eax, (2 * tolerance + 1) as i32)?;
    a.check(asm::Cc::B, what)
}

/// Makes every failed check of the program also print the EAX it failed with, as
/// "check N failed: what (EAX=XXXXXXXX)", before halting for good.
pub fn report_eax(a: &mut Asm) -> Result {
    let routine = a.label();
    let over = a.label();
    a.jmp(over)?;
    a.bind(routine)?;
    // The failure stub left the failing EAX in EBX; print it without a stack.
    a.print(" (EAX=")?;
    a.mov(ecx, 8u32)?;
    let digit = a.here()?;
    a.rol(ebx, 4)?;
    a.mov(al, bl)?;
    a.and(al, 0x0F)?;
    a.add(al, b'0' as i32)?;
    a.cmp(al, b'9' as i32)?;
    let decimal = a.label();
    a.jbe(decimal)?;
    a.add(al, (b'A' - b'9' - 1) as i32)?;
    a.bind(decimal)?;
    a.out(u32::from(asm::CONSOLE), al)?;
    a.dec(ecx)?;
    a.jnz(digit)?;
    a.print(")\n")?;
    a.cli()?;
    let spin = a.here()?;
    a.hlt()?;
    a.jmp(spin)?;
    a.bind(over)?;
    a.set_report(routine);
    Ok(())
}
