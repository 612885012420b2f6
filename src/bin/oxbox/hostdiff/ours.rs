//! Our side: a case on `oxbox::cpu::Cpu`, in flat 32-bit protected mode at CPL 3, as the
//! host's Linux process runs.
//!
//! The segment caches and TR are set directly (flat 4 GiB ring-3 data, and ring-3 code whose
//! base puts the instruction at the host's EIP); the GDT, IDT and TSS exist in memory only
//! because exception delivery reads them: each of the 32 exception vectors has an interrupt
//! gate to its own ring-0 address, so the EIP after a fault names the vector, and the switch
//! to the TSS's ring-0 stack makes delivery independent of the case's ESP. One page of RAM at physical 0 holds the tables, the ring-0 stack, the
//! FXSAVE area and the instruction, which sits at the end of the page so that block decoding
//! reads no more than it. The scratch buffer is at the host's linear address and served by the
//! bus; any other access is recorded as stray.
//!
//! x87/MMX/SSE cases run three instructions, FXRSTOR of the case's image, the instruction and
//! FXSAVE, as the host does; a #UD from the first says the interpreter has no FPU state yet.

use super::case::{CODE_ADDR, Case, SCRATCH_ADDR, SCRATCH_SIZE, State};
use super::fx;
use iced_x86::{Code, Encoder, Instruction, MemoryOperand};
use oxbox::cpu::bus::Bus;
use oxbox::cpu::fault::vector;
use oxbox::cpu::state::{Segment, TableReg, attr, cr0, cr4, flag};
use oxbox::cpu::{Cpu, Stop};

/// How an instruction ended, on either side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// It completed and EIP moved past it.
    Next,
    /// It raised this exception.
    Fault(u8),
    /// Anything else (ours only): a stray access, EIP elsewhere, a shutdown.
    Other(String),
}

pub struct Outcome {
    pub end: End,
    pub state: State,
}

const PAGE: usize = 4096;
const GDT: u32 = 0x000;
const IDT: u32 = 0x100;
const TSS: u32 = 0x200;
/// The ring-0 stack grows down from the FXSAVE area.
const RING0_STACK: u32 = 0x400;
const FX_AREA: u32 = 0x400;
const HANDLERS: u32 = 0xE00;
const FXRSTOR_AT: u32 = 0xFE0;
const FXSAVE_AT: u32 = 0xFE8;
const INSTRUCTION_AT: u32 = 0xFF0;
const RING0_CODE: u16 = 0x08;
const RING0_DATA: u16 = 0x10;
const USER_CODE: u16 = 0x1B;
/// The user code segment's base: it puts the instruction at the host's EIP, `CODE_ADDR`, so
/// that the x87 instruction pointer (FIP) is the same on both sides.
const CODE_BASE: u32 = INSTRUCTION_AT.wrapping_sub(CODE_ADDR);
const USER_DATA: u16 = 0x23;
/// Flat 4 GiB descriptors: ring-0 code and data, ring-3 code and data.
const DESCRIPTORS: [u64; 4] = [
    0x00CF_9B00_0000_FFFF,
    0x00CF_9300_0000_FFFF,
    0x00CF_FB00_0000_FFFF,
    0x00CF_F300_0000_FFFF,
];

/// Runs cases; keeps the RAM page's template.
pub struct Ours {
    template: Vec<u8>,
}

struct TestBus {
    ram: Vec<u8>,
    scratch: [u8; SCRATCH_SIZE],
    /// The first access outside RAM and the scratch buffer.
    stray: Option<u32>,
}

impl TestBus {
    fn scratch_range(&mut self, addr: u32, size: usize) -> Option<&mut [u8]> {
        let offset = addr.wrapping_sub(SCRATCH_ADDR) as usize;
        let range = self.scratch.get_mut(offset..offset + size);
        if range.is_none() {
            self.stray.get_or_insert(addr);
        }
        range
    }
}

impl Bus for TestBus {
    fn ram(&mut self) -> &mut [u8] {
        &mut self.ram
    }

    fn read(&mut self, addr: u32, size: usize) -> u32 {
        match self.scratch_range(addr, size) {
            Some(bytes) => bytes.iter().rev().fold(0, |v, &b| (v << 8) | u32::from(b)),
            None => u32::MAX,
        }
    }

    fn write(&mut self, addr: u32, size: usize, value: u32) {
        if let Some(bytes) = self.scratch_range(addr, size) {
            bytes.copy_from_slice(&value.to_le_bytes()[..size]);
        }
    }

    fn io_read(&mut self, port: u16, _size: usize) -> u32 {
        self.stray.get_or_insert(u32::from(port));
        u32::MAX
    }

    fn io_write(&mut self, port: u16, _size: usize, _value: u32) {
        self.stray.get_or_insert(u32::from(port));
    }
}

impl Ours {
    pub fn new() -> Result<Ours, String> {
        let mut page = vec![0u8; PAGE];
        let mut put = |at: u32, bytes: &[u8]| {
            page[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
        };
        for (i, descriptor) in DESCRIPTORS.iter().enumerate() {
            put(GDT + 8 * (i as u32 + 1), &descriptor.to_le_bytes());
        }
        put(TSS + 4, &RING0_STACK.to_le_bytes());
        put(TSS + 8, &RING0_DATA.to_le_bytes());
        for v in 0..32 {
            let handler = HANDLERS + v;
            let low = u32::from(RING0_CODE) << 16 | (handler & 0xFFFF);
            let high = (handler & 0xFFFF_0000) | 0x8E00;
            put(
                IDT + 8 * v,
                &(u64::from(high) << 32 | u64::from(low)).to_le_bytes(),
            );
        }
        put(FXRSTOR_AT, &fx_instruction(Code::Fxrstor_m512byte)?);
        put(FXSAVE_AT, &fx_instruction(Code::Fxsave_m512byte)?);
        Ok(Ours { template: page })
    }

    /// The case's outcome; None when FXRSTOR raised #UD (the interpreter has no FPU/SSE
    /// state to compare).
    pub fn run(&self, case: &Case) -> Option<Outcome> {
        let mut bus = TestBus {
            ram: self.template.clone(),
            scratch: case.input.memory,
            stray: None,
        };
        let start = INSTRUCTION_AT as usize;
        bus.ram[start..start + case.bytes.len()].copy_from_slice(&case.bytes);
        let mut cpu = flat_cpu(&case.input);
        if let Some(image) = &case.input.fx {
            let area = FX_AREA as usize;
            bus.ram[area..area + fx::SIZE].copy_from_slice(&image[..]);
            match step(&mut cpu, &mut bus, FXRSTOR_AT, 7) {
                End::Next => {}
                End::Fault(vector::UD) => return None,
                other => return Some(outcome(other, &cpu, &bus, true)),
            }
        }
        let end = step(&mut cpu, &mut bus, INSTRUCTION_AT, case.bytes.len());
        if end == End::Next && case.input.fx.is_some() {
            let saved = step(&mut cpu, &mut bus, FXSAVE_AT, 7);
            if saved != End::Next {
                let end = End::Other(format!("FXSAVE: {saved:?}"));
                return Some(outcome(end, &cpu, &bus, true));
            }
        }
        Some(outcome(end, &cpu, &bus, case.input.fx.is_some()))
    }
}

/// FXRSTOR or FXSAVE of the FXSAVE area: 7 bytes (opcode, ModRM, disp32).
fn fx_instruction(code: Code) -> Result<Vec<u8>, String> {
    let ins = Instruction::with1(code, MemoryOperand::with_displ(u64::from(FX_AREA), 4))
        .map_err(|e| e.to_string())?;
    let mut encoder = Encoder::new(32);
    encoder.encode(&ins, 0).map_err(|e| e.to_string())?;
    let bytes = encoder.take_buffer();
    if bytes.len() != 7 {
        return Err(format!("{code:?} encodes in {} bytes", bytes.len()));
    }
    Ok(bytes)
}

fn flat_cpu(input: &State) -> Cpu {
    let mut cpu = Cpu::new();
    let flat = |selector, attrs| Segment {
        selector,
        base: 0,
        limit: u32::MAX,
        attrs: attr::PRESENT | attr::S | attr::RW | attr::ACCESSED | attr::DB | attr::G | attrs,
    };
    let user = 3 << attr::DPL_SHIFT;
    cpu.seg = [flat(USER_DATA, user); 6];
    cpu.seg[1] = Segment {
        base: CODE_BASE,
        ..flat(USER_CODE, user | attr::CODE)
    };
    cpu.cpl = 3;
    // An available 32-bit TSS.
    cpu.tr = Segment {
        selector: 0x28,
        base: TSS,
        limit: 103,
        attrs: attr::PRESENT | 0x9,
    };
    cpu.cr0 = cr0::PE | cr0::MP | cr0::ET | cr0::NE;
    cpu.cr4 = cr4::OSFXSR | cr4::OSXMMEXCPT;
    cpu.gdtr = TableReg {
        base: GDT,
        limit: 8 * 5 - 1,
    };
    cpu.idtr = TableReg {
        base: IDT,
        limit: 32 * 8 - 1,
    };
    cpu.regs = input.regs;
    cpu.eflags = input.eflags | flag::FIXED;
    cpu
}

/// Runs the one instruction of `len` bytes at linear address `at`.
fn step(cpu: &mut Cpu, bus: &mut TestBus, at: u32, len: usize) -> End {
    let at = at.wrapping_sub(CODE_BASE);
    cpu.eip = at;
    let stop = cpu.run(bus, cpu.cycles + 1);
    if stop != Stop::Deadline {
        return End::Other(format!("stopped: {stop:?}"));
    }
    if let Some(v) = cpu.eip.checked_sub(HANDLERS).filter(|&v| v < 32) {
        return End::Fault(v as u8);
    }
    if let Some(addr) = bus.stray {
        return End::Other(format!("access outside the buffer at {addr:#010x}"));
    }
    if cpu.eip != at + len as u32 {
        return End::Other(format!(
            "EIP {:#x}, expected {:#x}",
            cpu.eip,
            at + len as u32
        ));
    }
    End::Next
}

fn outcome(end: End, cpu: &Cpu, bus: &TestBus, fp: bool) -> Outcome {
    let area = FX_AREA as usize;
    let image = (fp.then(|| bus.ram[area..area + fx::SIZE].try_into().ok())).flatten();
    Outcome {
        end,
        state: State {
            regs: cpu.regs,
            eflags: cpu.eflags,
            memory: bus.scratch,
            fx: image.map(Box::new),
        },
    }
}
