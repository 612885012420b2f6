//! String instructions (MOVS, CMPS, SCAS, LODS, STOS, INS, OUTS) with REP prefixes.
//!
//! A repeated instruction runs a bounded number of iterations per execution and, if the count
//! is not exhausted, leaves EIP on itself, so interrupts, single-step traps and the cycle
//! deadline are honoured between iterations exactly as the architecture allows.

use super::integer::size as width;
use crate::cpu::Cpu;
use crate::cpu::alu;
use crate::cpu::bus::Bus;
use crate::cpu::fault::Result;
use crate::cpu::mmu::Access;
use crate::cpu::state::{Seg, flag, reg};
use iced_x86::{Instruction, Mnemonic as M, OpKind};

/// Iterations of a repeated string instruction per execution.
const BURST: u32 = 1024;

pub fn handles(m: M) -> bool {
    matches!(
        m,
        M::Movsb
            | M::Movsw
            | M::Movsd
            | M::Cmpsb
            | M::Cmpsw
            | M::Cmpsd
            | M::Scasb
            | M::Scasw
            | M::Scasd
            | M::Lodsb
            | M::Lodsw
            | M::Lodsd
            | M::Stosb
            | M::Stosw
            | M::Stosd
            | M::Insb
            | M::Insw
            | M::Insd
            | M::Outsb
            | M::Outsw
            | M::Outsd
    )
}

impl Cpu {
    pub(super) fn execute_string(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        let size = ins.memory_size().size().max(1);
        let address32 = (0..ins.op_count()).any(|i| {
            matches!(
                ins.op_kind(i),
                OpKind::MemorySegESI | OpKind::MemoryESEDI | OpKind::MemorySegEDI
            )
        });
        let mask = if address32 { u32::MAX } else { 0xFFFF };
        let step = if self.eflags & flag::DF != 0 {
            (size as u32).wrapping_neg()
        } else {
            size as u32
        };
        let repeat = ins.has_rep_prefix() || ins.has_repne_prefix();
        // The source segment may be overridden; the destination is always ES.
        let source = Cpu::memory_segment(ins);
        let compares = matches!(
            ins.mnemonic(),
            M::Cmpsb | M::Cmpsw | M::Cmpsd | M::Scasb | M::Scasw | M::Scasd
        );
        let start = self.eip.wrapping_sub(ins.len() as u32);
        // Single-stepping traps after each iteration, so run one per execution then.
        let iterations = if repeat && self.eflags & flag::TF == 0 {
            BURST
        } else {
            1
        };
        for _ in 0..iterations {
            if repeat && self.regs[reg::ECX] & mask == 0 {
                return Ok(());
            }
            let si = self.regs[reg::ESI] & mask;
            let di = self.regs[reg::EDI] & mask;
            let advance = |cpu: &mut Cpu, register: usize| {
                let value = cpu.regs[register];
                cpu.regs[register] = (value & !mask) | (value.wrapping_add(step) & mask);
            };
            match ins.mnemonic() {
                M::Movsb | M::Movsw | M::Movsd => {
                    let value = self.read(bus, source, si, size)?;
                    self.write(bus, Seg::Es, di, size, value)?;
                    advance(self, reg::ESI);
                    advance(self, reg::EDI);
                }
                M::Cmpsb | M::Cmpsw | M::Cmpsd => {
                    let a = self.read(bus, source, si, size)?;
                    let b = self.read(bus, Seg::Es, di, size)?;
                    self.eflags = alu::sub(width(size), a, b).apply(self.eflags);
                    advance(self, reg::ESI);
                    advance(self, reg::EDI);
                }
                M::Scasb | M::Scasw | M::Scasd => {
                    let b = self.read(bus, Seg::Es, di, size)?;
                    self.eflags = alu::sub(width(size), self.regs[reg::EAX], b).apply(self.eflags);
                    advance(self, reg::EDI);
                }
                M::Lodsb | M::Lodsw | M::Lodsd => {
                    let value = self.read(bus, source, si, size)?;
                    let keep = !super::data::size_mask(size);
                    self.regs[reg::EAX] = (self.regs[reg::EAX] & keep) | value;
                    advance(self, reg::ESI);
                }
                M::Stosb | M::Stosw | M::Stosd => {
                    let value = self.regs[reg::EAX] & super::data::size_mask(size);
                    self.write(bus, Seg::Es, di, size, value)?;
                    advance(self, reg::EDI);
                }
                M::Insb | M::Insw | M::Insd => {
                    let port = self.regs[reg::EDX] as u16;
                    self.check_io(bus, port, size)?;
                    // The destination is checked before the port is read: port reads have effects.
                    let linear = self.segment_address(Seg::Es, di, size, Access::Write)?;
                    self.translate(bus, linear, Access::Write, self.user())?;
                    let value = self.port_in(bus, port, size);
                    self.write(bus, Seg::Es, di, size, value)?;
                    advance(self, reg::EDI);
                }
                _ => {
                    let port = self.regs[reg::EDX] as u16;
                    self.check_io(bus, port, size)?;
                    let value = self.read(bus, source, si, size)?;
                    self.port_out(bus, port, size, value);
                    advance(self, reg::ESI);
                }
            }
            if !repeat {
                return Ok(());
            }
            let count = self.regs[reg::ECX].wrapping_sub(1) & mask;
            self.regs[reg::ECX] = (self.regs[reg::ECX] & !mask) | count;
            self.cycles += 1;
            if compares {
                let zf = self.eflags & flag::ZF != 0;
                // REPE stops on a difference, REPNE on a match.
                if (ins.has_repe_prefix() && !zf) || (ins.has_repne_prefix() && zf) {
                    return Ok(());
                }
            }
        }
        if self.regs[reg::ECX] & mask != 0 {
            self.eip = start;
        }
        Ok(())
    }
}
