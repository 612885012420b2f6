//! Builds test flash images around guest programs assembled here, boots them through the
//! high-level MCPX and collects what the guest prints on the debug console (port 0xE9).
//!
//! A flash image holds an X-code table at 0x80 that stores "mov eax, CODE; jmp eax" at RAM
//! address 0 and exits: with no second-stage loader in the flash, the MCPX's check fails and
//! execution wraps to address 0 (the path open flash images use). The program then starts
//! at `CODE` in flat 32-bit protected mode, with a stack set up by the prologue.

#![allow(dead_code)]

use oxbox::cputest::asm::{self, Asm, Result};
use oxbox::input::{Gamepad, PORTS};
use oxbox::machine::{Config, Machine};
use std::path::PathBuf;

pub use oxbox::cputest::asm::code_asm::*;

pub const FLASH_SIZE: usize = 256 * 1024;
/// Where the program's code starts (flash offset 0x1000, seen through the top mirror).
pub const CODE: u32 = 0xFF00_1000;
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
        a.section(32, CODE, (CODE - 0xFF00_0000) as usize)?;
        a.mov(esp, STACK)?;
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
pub fn machine(name: &str, flash: &[u8], mcpx: Option<&[u8]>, config: Config) -> (Machine, Scratch) {
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
