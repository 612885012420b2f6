//! The bare-metal test machine: a CPU, RAM, an optional ROM and three debug I/O ports, and
//! nothing else. No interrupt controller, timers or devices; it runs CPU test programs (raw ROM
//! images started at the reset vector, or multiboot kernels) and reports how they stopped.
//!
//! Memory map: RAM from 0 (64 MiB by default); a ROM image ends at 1 MiB and, again, at 4 GiB;
//! everything else reads as 0xFF bytes and ignores writes (see `memory`). Ports: a console, an
//! exit device and a POST code latch (see `ports`); other ports read as all ones.
//!
//! A run stops when the program writes the exit port, halts, shuts the processor down (a
//! triple fault) or reaches its instruction limit. A real PC resets on a triple fault; a test
//! wants to know it happened, so this machine stops there. A HLT stops it whatever IF says:
//! with nothing to raise an interrupt, a halted CPU here never wakes.

mod elf;
mod error;
mod memory;
mod multiboot;
mod ports;

pub use error::Error;
pub use memory::MAX_ROM;
pub use multiboot::BOOTLOADER_MAGIC;

use crate::cpu::{self, Bus, Cpu, state::flag};
use memory::Memory;
use ports::DebugPorts;

/// The most RAM, in MiB: it stays below 3 GiB, clear of the ROM's copy at the top.
pub const MAX_RAM_MIB: u32 = 3072;

/// The CPU runs in slices of this many cycles. The machine checks its exit port between them,
/// so a program that writes the exit port may run on for up to one slice (usually only to the
/// HLT after its OUT); the ports ignore what it writes then.
const SLICE: u64 = 4096;
/// No instruction costs this many cycles (the longest is a 1024-iteration burst of a repeated
/// string instruction). A run that spends this many per allowed instruction is retiring none:
/// an exception whose handler faults again at once, forever.
const MAX_CYCLES_PER_INSTRUCTION: u64 = 2048;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub ram_mib: u32,
    pub console_port: u16,
    pub exit_port: u16,
    pub post_port: u16,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            ram_mib: 64,
            console_port: 0xE9,
            exit_port: 0xF4,
            post_port: 0x80,
        }
    }
}

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The program wrote this value to the exit port.
    Exit(u32),
    /// HLT; whether interrupts were enabled (IF) tells a deliberate stop from a wait for an
    /// interrupt that cannot come.
    Halted { interrupts_enabled: bool },
    /// Triple fault: an exception while delivering a double fault.
    Shutdown,
    /// The instruction limit was reached.
    Limit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub stop: Stop,
    /// Everything the program wrote to the console.
    pub console: Vec<u8>,
    /// The last POST code written, if any.
    pub post: Option<u8>,
    /// Instructions retired and cycles spent since the machine started.
    pub instructions: u64,
    pub cycles: u64,
}

pub struct TestMachine {
    memory: Memory,
    ports: DebugPorts,
}

impl TestMachine {
    pub fn new(config: &Config) -> Result<TestMachine, Error> {
        if !(1..=MAX_RAM_MIB).contains(&config.ram_mib) {
            return Err(Error::RamSize(config.ram_mib));
        }
        let (console, exit, post) = (config.console_port, config.exit_port, config.post_port);
        if console == exit || console == post {
            return Err(Error::PortClash(console));
        }
        if exit == post {
            return Err(Error::PortClash(exit));
        }
        Ok(TestMachine {
            memory: Memory::new(config.ram_mib as usize * (1 << 20)),
            ports: DebugPorts::new(console, exit, post),
        })
    }

    /// Maps a raw ROM image (at most 1 MiB) and returns a processor just out of reset, about to
    /// fetch the ROM's last 16 bytes.
    pub fn boot_rom(&mut self, image: &[u8]) -> Result<Cpu, Error> {
        self.memory.map_rom(image)?;
        Ok(Cpu::new())
    }

    /// Loads a multiboot kernel with its command line and returns the processor at its entry.
    pub fn boot_multiboot(&mut self, kernel: &[u8], cmdline: &str) -> Result<Cpu, Error> {
        multiboot::boot(self.memory.ram(), kernel, cmdline)
    }

    /// Runs `cpu` for at most `limit` more instructions, handing console output to `console`
    /// as it appears.
    pub fn run(&mut self, cpu: &mut Cpu, limit: u64, console: &mut dyn FnMut(&[u8])) -> Outcome {
        let last_instruction = cpu.instructions.saturating_add(limit);
        let last_cycle = cpu
            .cycles
            .saturating_add(limit.saturating_mul(MAX_CYCLES_PER_INSTRUCTION));
        let stop = loop {
            if let Some(value) = self.ports.exit {
                break Stop::Exit(value);
            }
            if cpu.instructions >= last_instruction || cpu.cycles >= last_cycle {
                break Stop::Limit;
            }
            // Every instruction costs at least a cycle, so a deadline this close cannot let
            // the CPU pass the instruction limit.
            let remaining = last_instruction - cpu.instructions;
            let deadline = (cpu.cycles + remaining.min(SLICE)).min(last_cycle);
            let stopped = match cpu.run(self, deadline) {
                cpu::Stop::Deadline => None,
                cpu::Stop::Halted => Some(Stop::Halted {
                    interrupts_enabled: cpu.eflags & flag::IF != 0,
                }),
                cpu::Stop::Shutdown => Some(Stop::Shutdown),
            };
            let output = self.ports.unstreamed();
            if !output.is_empty() {
                console(output);
            }
            // An exit written before the HLT or the fault is what the program meant.
            if let Some(stop) = stopped.filter(|_| self.ports.exit.is_none()) {
                break stop;
            }
        };
        Outcome {
            stop,
            console: self.ports.console.clone(),
            post: self.ports.post,
            instructions: cpu.instructions,
            cycles: cpu.cycles,
        }
    }
}

impl Bus for TestMachine {
    fn ram(&mut self) -> &mut [u8] {
        self.memory.direct()
    }

    fn read(&mut self, addr: u32, size: usize) -> u32 {
        self.memory.read(addr, size)
    }

    fn write(&mut self, addr: u32, size: usize, value: u32) {
        self.memory.write(addr, size, value);
    }

    fn io_read(&mut self, port: u16, size: usize) -> u32 {
        self.ports.read(port, size)
    }

    fn io_write(&mut self, port: u16, size: usize, value: u32) {
        self.ports.write(port, size, value);
    }
}
