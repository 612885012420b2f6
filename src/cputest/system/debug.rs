//! Single-step traps (EFLAGS.TF): which instructions trap and where the saved EIP points,
//! the MOV SS shadow, and handlers entered by INT, which are not stepped.

use super::Case;
use super::kernel::{DATA0, Gate, Kernel, var};
use crate::asm::code_asm::*;
use crate::asm::{Label, Result};

pub fn cases() -> Vec<Case> {
    vec![Case::kernel("debug/single-step", single_step)]
}

const DB: u8 = 1;
const TF: u32 = 1 << 8;
const DR6_BS: u32 = 1 << 14;

/// How many traps the #DB handler saw, the EIPs they saved, and DR6 at each.
const STEPS: u32 = var::SCRATCH;
const TRACE: u32 = var::SCRATCH + 0x10;
const DR6S: u32 = var::SCRATCH + 0x80;

fn single_step(k: &mut Kernel) -> Result {
    // The #DB handler records the saved EIP and DR6, clears DR6 and returns (to the next
    // step: the saved EFLAGS still has TF).
    let handler = k.routine(|k| {
        k.push(eax)?;
        k.push(ebx)?;
        k.mov(eax, dword_ptr(STEPS).fs())?;
        k.mov(ebx, dword_ptr(esp + 8))?;
        k.mov(dword_ptr(eax * 4 + TRACE).fs(), ebx)?;
        k.mov(ebx, dr6)?;
        k.mov(dword_ptr(eax * 4 + DR6S).fs(), ebx)?;
        k.xor(ebx, ebx)?;
        k.mov(dr6, ebx)?;
        k.inc(dword_ptr(STEPS).fs())?;
        k.pop(ebx)?;
        k.pop(eax)?;
        k.iretd()?;
        Ok(())
    })?;
    k.gate(
        DB,
        Gate::Interrupt {
            handler,
            dpl3: false,
        },
    );
    // A handler INT reaches: it must not be stepped.
    let quiet = k.routine(|k| {
        k.nop()?;
        k.nop()?;
        k.iretd()?;
        Ok(())
    })?;
    k.gate(
        0x40,
        Gate::Interrupt {
            handler: quiet,
            dpl3: false,
        },
    );

    let mut expected: Vec<(Label, &str)> = Vec::new();
    k.xor(eax, eax)?;
    k.mov(dr6, eax)?;
    // POPFD setting TF does not trap after itself.
    k.pushfd()?;
    k.or(dword_ptr(esp), TF)?;
    k.popfd()?;
    k.nop()?;
    expected.push((k.here()?, "after the first instruction with TF set"));
    k.mov(eax, 1)?;
    expected.push((k.here()?, "after MOV EAX"));
    k.mov(ax, u32::from(DATA0))?;
    expected.push((k.here()?, "after MOV AX"));
    // MOV SS holds the trap until the next instruction is done.
    k.mov(ss, ax)?;
    k.nop()?;
    expected.push((
        k.here()?,
        "after the instruction following MOV SS, not MOV SS itself",
    ));
    // INT clears TF for its handler; the IRET there restores it.
    k.int(0x40)?;
    k.nop()?;
    expected.push((k.here()?, "after the first instruction back from INT"));
    // STI holds interrupts, not traps.
    k.sti()?;
    expected.push((k.here()?, "after STI"));
    k.cli()?;
    expected.push((k.here()?, "after the instruction following STI"));
    k.pushfd()?;
    expected.push((k.here()?, "after PUSHFD"));
    k.and(dword_ptr(esp), !TF)?;
    expected.push((k.here()?, "after AND"));
    // POPFD clearing TF traps after itself: TF was set when it began.
    k.popfd()?;
    expected.push((k.here()?, "after the POPFD that clears TF"));
    k.nop()?;

    let count = expected.len() as u32;
    k.check_eq(
        dword_ptr(STEPS).fs(),
        count,
        &format!("{count} single-step traps"),
    )?;
    for (i, (label, what)) in expected.into_iter().enumerate() {
        let eip = k.addr(label);
        let i = i as u32;
        k.check_eq(
            dword_ptr(TRACE + 4 * i).fs(),
            eip,
            &format!("trap {i}: {what}"),
        )?;
        k.mov(eax, dword_ptr(DR6S + 4 * i).fs())?;
        k.and(eax, DR6_BS | 0xF)?;
        k.check_eq(eax, DR6_BS, &format!("trap {i}: DR6.BS"))?;
    }
    Ok(())
}
