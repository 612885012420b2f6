//! The Pentium III: an interpreter that defines the CPU's semantics.
//!
//! `Cpu` holds the architectural state; [`Cpu::run`] executes instructions until a cycle
//! deadline, a HLT or a shutdown. Memory and I/O go through a [`Bus`]. Instructions are decoded
//! once into cached blocks (`decode`), translated through segmentation and paging (`segment`,
//! `mmu`), and executed by the handlers in `exec`. Exceptions are values ([`fault::Fault`])
//! delivered through the IDT by `interrupt`.

pub mod alu;
pub mod bus;
pub mod decode;
mod exec;
pub mod fault;
pub mod fpu;
mod interrupt;
pub mod mmu;
mod segment;
pub mod simd;
mod snapshot;
pub mod softfloat;
mod stack;
pub mod state;
mod task;
mod timing;
pub mod transcendental;

pub use bus::Bus;
use decode::{CodeCache, Fetched};
use fault::Fault;
use mmu::Tlb;
use state::{Segment, TableReg, cr0, flag};

/// The Xbox CPU's identity: family 6, model 8 (Coppermine), stepping 10.
pub const SIGNATURE: u32 = 0x0000_068A;
/// Core clock of the Xbox CPU in Hz (733.33 MHz).
pub const CLOCK_HZ: u64 = 733_333_333;

/// Why [`Cpu::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The cycle deadline was reached.
    Deadline,
    /// HLT with nothing to wake it yet; the machine may skip time to its next event.
    Halted,
    /// A fault while delivering a double fault: the processor shuts down (the board resets).
    Shutdown,
}

/// Model-specific registers the emulation keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Msrs {
    pub sysenter_cs: u32,
    pub sysenter_esp: u32,
    pub sysenter_eip: u32,
    pub apic_base: u64,
    pub pat: u64,
    /// MTRRs: fixed, variable (base, mask pairs), default type and capability.
    pub mtrr_fixed: [u64; 11],
    pub mtrr_variable: [u64; 16],
    pub mtrr_def_type: u64,
    /// Added to the cycle counter to give the time-stamp counter (WRMSR 0x10 changes it).
    pub tsc_offset: u64,
}

pub struct Cpu {
    /// EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI.
    pub regs: [u32; 8],
    pub eip: u32,
    /// EFLAGS, with the arithmetic flags always up to date.
    pub eflags: u32,
    /// ES, CS, SS, DS, FS, GS.
    pub seg: [Segment; 6],
    pub ldtr: Segment,
    pub tr: Segment,
    pub gdtr: TableReg,
    pub idtr: TableReg,
    pub cr0: u32,
    pub cr2: u32,
    pub cr3: u32,
    pub cr4: u32,
    pub dr: [u32; 8],
    /// x87, MMX and SSE state.
    pub fpu: fpu::Fpu,
    /// Current privilege level (CS.RPL in protected mode, 3 in virtual-8086 mode).
    pub cpl: u8,
    pub msr: Msrs,
    /// Cycles since reset: the machine's clock. See `timing` for the cost model.
    pub cycles: u64,
    /// Instructions retired since reset.
    pub instructions: u64,
    /// Stopped by HLT until an interrupt.
    pub halted: bool,
    /// Interrupts are held off for one instruction after MOV SS, POP SS and STI.
    interrupt_shadow: bool,
    tlb: Tlb,
    /// The PAE page-directory pointers, loaded with CR3.
    pdpte: [u64; 4],
    code: CodeCache,
}

impl Default for Cpu {
    fn default() -> Cpu {
        Cpu::new()
    }
}

impl Cpu {
    /// A processor in its power-on state.
    pub fn new() -> Cpu {
        let mut cpu = Cpu {
            regs: [0; 8],
            eip: 0,
            eflags: 0,
            seg: [Segment::default(); 6],
            ldtr: Segment::default(),
            tr: Segment::default(),
            gdtr: TableReg::default(),
            idtr: TableReg::default(),
            cr0: 0,
            cr2: 0,
            cr3: 0,
            cr4: 0,
            dr: [0; 8],
            fpu: fpu::Fpu::default(),
            cpl: 0,
            msr: Msrs::default(),
            cycles: 0,
            instructions: 0,
            halted: false,
            interrupt_shadow: false,
            tlb: Tlb::default(),
            pdpte: [0; 4],
            code: CodeCache::default(),
        };
        cpu.reset();
        cpu
    }

    /// RESET: the state of the SDM's table "IA-32 processor states following power-up, reset
    /// or INIT". Execution starts at 0xFFFFFFF0 (CS base 0xFFFF0000, IP 0xFFF0). The cycle
    /// counter keeps running.
    pub fn reset(&mut self) {
        self.regs = [0; 8];
        self.regs[state::reg::EDX] = SIGNATURE;
        self.eip = 0xFFF0;
        self.eflags = flag::FIXED;
        for seg in &mut self.seg {
            *seg = Segment::real(0);
        }
        self.seg[1] = Segment {
            selector: 0xF000,
            base: 0xFFFF_0000,
            limit: 0xFFFF,
            attrs: state::attr::PRESENT
                | state::attr::S
                | state::attr::CODE
                | state::attr::RW
                | state::attr::ACCESSED,
        };
        let system = |attrs| Segment {
            selector: 0,
            base: 0,
            limit: 0xFFFF,
            attrs: state::attr::PRESENT | attrs,
        };
        self.ldtr = system(2);
        self.tr = system(3);
        self.gdtr = TableReg {
            base: 0,
            limit: 0xFFFF,
        };
        self.idtr = TableReg {
            base: 0,
            limit: 0xFFFF,
        };
        self.cr0 = cr0::ET | cr0::CD | cr0::NW;
        self.cr2 = 0;
        self.cr3 = 0;
        self.cr4 = 0;
        self.dr = [0, 0, 0, 0, 0, 0, 0xFFFF_0FF0, 0x400];
        self.cpl = 0;
        self.fpu = fpu::Fpu::default();
        self.msr = Msrs {
            apic_base: 0xFEE0_0900,
            pat: 0x0007_0406_0007_0406,
            tsc_offset: 0u64.wrapping_sub(self.cycles),
            ..Msrs::default()
        };
        self.halted = false;
        self.interrupt_shadow = false;
        self.tlb.flush(false);
        self.code.clear();
    }

    /// Whether CS holds 32-bit code: the cached descriptor's D bit, which real mode keeps
    /// after a switch back from protected mode until CS is reloaded there.
    pub fn code32(&self) -> bool {
        self.seg[1].big()
    }

    pub fn protected_mode(&self) -> bool {
        self.cr0 & cr0::PE != 0
    }

    pub fn v86_mode(&self) -> bool {
        self.eflags & flag::VM != 0
    }

    /// The time-stamp counter, as RDTSC reads it.
    pub fn tsc(&self) -> u64 {
        self.cycles.wrapping_add(self.msr.tsc_offset)
    }

    /// Drops all decoded code: the board changed what is mapped at some physical addresses.
    pub fn flush_code(&mut self) {
        self.code.clear();
    }

    /// Runs until `deadline` (in cycles), a HLT with no interrupt, or a shutdown.
    pub fn run(&mut self, bus: &mut dyn Bus, deadline: u64) -> Stop {
        loop {
            let deadline = deadline.min(bus.next_event());
            if self.cycles >= deadline {
                return Stop::Deadline;
            }
            if !self.interrupt_shadow && self.eflags & flag::IF != 0 && bus.interrupt_pending() {
                self.halted = false;
                let vector = bus.acknowledge_interrupt();
                if self
                    .deliver(bus, vector, interrupt::Source::External)
                    .is_err()
                {
                    return Stop::Shutdown;
                }
            }
            if self.halted {
                return Stop::Halted;
            }
            if let Err(stop) = self.step_block(bus, deadline) {
                return stop;
            }
        }
    }

    /// IN: the device sees the access at the current cycle.
    fn port_in(&mut self, bus: &mut dyn Bus, port: u16, size: usize) -> u32 {
        bus.sync(self.cycles);
        bus.io_read(port, size)
    }

    /// OUT: the device sees the access at the current cycle.
    fn port_out(&mut self, bus: &mut dyn Bus, port: u16, size: usize, value: u32) {
        bus.sync(self.cycles);
        bus.io_write(port, size, value);
    }

    /// Runs one decoded block (or part of it); returns Err only on shutdown.
    fn step_block(&mut self, bus: &mut dyn Bus, deadline: u64) -> Result<(), Stop> {
        let block = match self.fetch_block(bus) {
            Ok(Fetched::Cached(block)) => block,
            Ok(Fetched::Single(instruction)) => {
                return self.step(bus, &instruction);
            }
            Err(fault) => return self.raise(bus, fault),
        };
        let generation = self.code.generation;
        for instruction in &block.instructions {
            let eip = self.eip;
            self.step(bus, instruction)?;
            // Leave the block when control left the straight line, when it may be stale, when
            // an interrupt may be taken, or at the deadline.
            if self.eip != eip.wrapping_add(instruction.len() as u32)
                || self.code.generation != generation
                || self.halted
                || self.cycles >= deadline
                || (self.eflags & flag::IF != 0
                    && !self.interrupt_shadow
                    && bus.interrupt_pending())
            {
                break;
            }
        }
        Ok(())
    }

    /// Executes one instruction, delivering any exception it raises.
    fn step(&mut self, bus: &mut dyn Bus, instruction: &iced_x86::Instruction) -> Result<(), Stop> {
        let shadow = std::mem::take(&mut self.interrupt_shadow);
        let start = self.eip;
        // Single-step traps after an instruction that began with TF set (POPF clearing TF
        // included), unless it entered an interrupt handler or loaded SS (see `suppresses_trap`).
        let single_step = self.eflags & flag::TF != 0;
        self.cycles += timing::cost(instruction);
        match self.execute(bus, instruction) {
            Ok(()) => {
                self.instructions += 1;
                // The shadow lasts exactly one instruction: a second MOV SS does not extend it.
                if shadow {
                    self.interrupt_shadow = false;
                }
                if single_step && !self.suppresses_trap(instruction) {
                    self.dr[6] |= 1 << 14;
                    return self.raise(bus, Fault::db());
                }
                Ok(())
            }
            Err(fault) => {
                self.eip = start;
                self.raise(bus, fault)
            }
        }
    }

    /// Whether the single-step trap after `instruction` does not happen: INT n, INT3, INTO
    /// and INT1 that entered a handler (delivery cleared TF), and MOV SS and POP SS, after
    /// which debug traps wait one instruction (the trap comes after the next one instead).
    fn suppresses_trap(&self, instruction: &iced_x86::Instruction) -> bool {
        use iced_x86::{Mnemonic as M, Register};
        match instruction.mnemonic() {
            M::Int | M::Int3 | M::Into | M::Int1 => self.eflags & flag::TF == 0,
            M::Mov | M::Pop => instruction.op0_register() == Register::SS,
            _ => false,
        }
    }

    /// Delivers a fault, escalating to a double fault and a shutdown as the SDM describes.
    /// Delivery takes time like any instruction, so even a guest stuck in a loop of faults
    /// (a handler whose own fetch faults) reaches the deadline.
    fn raise(&mut self, bus: &mut dyn Bus, fault: Fault) -> Result<(), Stop> {
        self.cycles += timing::EXCEPTION;
        match self.deliver_fault(bus, fault) {
            Ok(()) => Ok(()),
            Err(()) => Err(Stop::Shutdown),
        }
    }
}
