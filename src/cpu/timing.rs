//! The cost model: how many CPU cycles each instruction advances the machine's clock.
//!
//! Emulated time must be deterministic, so it is counted, not measured: every instruction
//! costs a fixed number of cycles by class, loosely after the Pentium III's latencies (one
//! cycle for simple operations, more for multiplies, divides, far transfers and the like).
//! Repeated string instructions add one cycle per iteration (see `exec::string`). The model is
//! deliberately simple; what matters is that it is the same on every run and every host.

use iced_x86::{Instruction, Mnemonic as M};

/// Cycles to deliver an exception through the IDT.
pub const EXCEPTION: u64 = 20;

pub fn cost(ins: &Instruction) -> u64 {
    match ins.mnemonic() {
        M::Mul | M::Imul => 4,
        M::Div | M::Idiv => 24,
        M::Aam | M::Aad => 12,
        M::Int | M::Int3 | M::Into | M::Iret | M::Iretd | M::Retf => 20,
        M::Call | M::Jmp
            if matches!(
                ins.op0_kind(),
                iced_x86::OpKind::FarBranch16 | iced_x86::OpKind::FarBranch32
            ) =>
        {
            20
        }
        M::Cpuid | M::Rdmsr | M::Wrmsr | M::Wbinvd | M::Invd | M::Invlpg => 30,
        M::In | M::Out | M::Insb | M::Insw | M::Insd | M::Outsb | M::Outsw | M::Outsd => 30,
        M::Lgdt | M::Lidt | M::Lldt | M::Ltr | M::Sysenter | M::Sysexit => 10,
        _ => 1,
    }
}
