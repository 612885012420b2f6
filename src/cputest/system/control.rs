//! Control registers (CR0, CR2, CR3, CR4 and their rules) and debug registers (storage, the
//! fixed bits of DR6 and DR7, DR4/DR5 aliasing under CR4.DE).

use super::Case;
use super::kernel::Kernel;
use crate::asm::code_asm::*;
use crate::asm::{Cc, Result};

pub fn cases() -> Vec<Case> {
    vec![
        Case::kernel("control/cr0-cr4", control_registers),
        Case::kernel("control/debug-registers", debug_registers),
    ]
}

const UD: u8 = 6;
const GP: u8 = 13;

mod cr0 {
    pub const PE: u32 = 1 << 0;
    pub const MP: u32 = 1 << 1;
    pub const EM: u32 = 1 << 2;
    pub const TS: u32 = 1 << 3;
    pub const ET: u32 = 1 << 4;
    pub const NW: u32 = 1 << 29;
    pub const CD: u32 = 1 << 30;
    pub const PG: u32 = 1 << 31;
}

/// Every CR4 bit a Pentium III has: VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT.
const CR4_VALID: u32 = 0x7FF;
const CR4_DE: u32 = 1 << 3;

/// Writing CR0 with `value` (built from the current CR0 in EAX by `make`) is #GP(0) and
/// leaves CR0 as it was.
fn cr0_refuses(k: &mut Kernel, what: &str, make: impl FnOnce(&mut Kernel) -> Result) -> Result {
    k.mov(ebx, cr0)?;
    k.mov(eax, ebx)?;
    make(k)?;
    k.expect_fault(what, GP, Some(0), |k| k.mov(cr0, eax))?;
    k.mov(eax, cr0)?;
    k.check_eq(eax, ebx, &format!("{what}: CR0 unchanged"))
}

fn control_registers(k: &mut Kernel) -> Result {
    // The multiboot state: protected mode, no paging; ET is wired to 1.
    k.mov(eax, cr0)?;
    k.and(eax, cr0::PE | cr0::PG)?;
    k.check_eq(eax, cr0::PE, "CR0: PE set, PG clear at entry")?;
    k.mov(eax, cr0)?;
    k.and(eax, !cr0::ET)?;
    k.mov(cr0, eax)?;
    k.mov(eax, cr0)?;
    k.test(eax, cr0::ET)?;
    k.check(Cc::Ne, "CR0.ET reads 1 after writing 0")?;

    // Invalid combinations.
    cr0_refuses(k, "CR0.PG without PE", |k| {
        k.and(eax, !cr0::PE)?;
        k.or(eax, cr0::PG)?;
        Ok(())
    })?;
    cr0_refuses(k, "CR0.NW without CD", |k| {
        k.and(eax, !cr0::CD)?;
        k.or(eax, cr0::NW)?;
        Ok(())
    })?;

    // LMSW sets PE but never clears it, and writes MP, EM and TS; CLTS clears TS.
    k.mov(eax, cr0::MP | cr0::EM | cr0::TS)?;
    k.lmsw(ax)?;
    k.mov(eax, cr0)?;
    k.and(eax, 0xF)?;
    k.check_eq(eax, 0xF, "LMSW 0xE: MP, EM, TS set, PE kept")?;
    k.clts()?;
    k.smsw(ax)?;
    k.and(eax, 0xF)?;
    k.check_eq(eax, 0x7, "CLTS clears TS only (seen by SMSW)")?;
    k.xor(eax, eax)?;
    k.lmsw(ax)?;
    k.mov(eax, cr0)?;
    k.and(eax, 0xF)?;
    k.check_eq(eax, cr0::PE, "LMSW 0 clears MP, EM, TS and keeps PE")?;

    // CR2 and CR3 hold what is written (paging is off).
    k.mov(eax, 0x8765_4321u32)?;
    k.mov(cr2, eax)?;
    k.mov(ebx, cr2)?;
    k.check_eq(ebx, 0x8765_4321u32, "CR2 reads back")?;
    k.mov(eax, 0x0034_5018u32)?;
    k.mov(cr3, eax)?;
    k.mov(ebx, cr3)?;
    k.check_eq(ebx, 0x0034_5018u32, "CR3 reads back with PWT and PCD")?;

    // Every implemented CR4 bit is writable; any other is #GP(0).
    k.mov(eax, CR4_VALID)?;
    k.mov(cr4, eax)?;
    k.mov(ebx, cr4)?;
    k.check_eq(ebx, CR4_VALID, "CR4: all eleven P6 bits read back")?;
    k.xor(eax, eax)?;
    k.mov(cr4, eax)?;
    for bit in [11, 13, 14, 18, 31] {
        k.mov(eax, 1u32 << bit)?;
        k.expect_fault(&format!("CR4 bit {bit}"), GP, Some(0), |k| k.mov(cr4, eax))?;
        k.mov(ebx, cr4)?;
        k.check_eq(ebx, 0, &format!("CR4 bit {bit}: CR4 unchanged"))?;
    }

    // CR1 and CR5-CR7 do not exist.
    k.expect_fault("MOV from CR1", UD, None, |k| k.mov(eax, cr1))?;
    k.expect_fault("MOV to CR5", UD, None, |k| k.mov(cr5, eax))?;

    // At CPL 3 only SMSW is allowed.
    k.to_ring3(0x2)?;
    k.expect_fault("MOV from CR0 at CPL 3", GP, Some(0), |k| k.mov(eax, cr0))?;
    k.expect_fault("MOV to CR3 at CPL 3", GP, Some(0), |k| k.mov(cr3, eax))?;
    k.expect_fault("CLTS at CPL 3", GP, Some(0), |k| k.clts())?;
    k.expect_fault("LMSW at CPL 3", GP, Some(0), |k| k.lmsw(ax))?;
    k.smsw(ax)?;
    k.to_ring0()?;
    k.and(eax, 0xFFFF)?;
    k.check_eq(eax, cr0::PE | cr0::ET, "SMSW at CPL 3")
}

fn debug_registers(k: &mut Kernel) -> Result {
    // DR0-DR3 keep any address.
    let address = [0x1234_5678u32, 0x9ABC_DEF0, 0x0000_1000, 0xFFFF_FFFF];
    for (register, value) in [dr0, dr1, dr2, dr3].into_iter().zip(address) {
        k.mov(eax, value)?;
        k.mov(register, eax)?;
    }
    for (i, (register, value)) in [dr0, dr1, dr2, dr3].into_iter().zip(address).enumerate() {
        k.mov(eax, register)?;
        k.check_eq(eax, value, &format!("DR{i} reads back"))?;
    }

    // DR6: bits 4-11 and 16-31 read as 1. DR7: bit 10 reads as 1, bits 14 and 15 as 0.
    k.xor(eax, eax)?;
    k.mov(dr6, eax)?;
    k.mov(eax, dr6)?;
    k.check_eq(eax, 0xFFFF_0FF0u32, "DR6 after writing 0")?;
    k.mov(eax, 0xE00Fu32)?;
    k.mov(dr6, eax)?;
    k.mov(eax, dr6)?;
    k.check_eq(eax, 0xFFFF_EFFFu32, "DR6 after writing B0-B3, BD, BS, BT")?;
    k.xor(eax, eax)?;
    k.mov(dr7, eax)?;
    k.mov(eax, dr7)?;
    k.check_eq(eax, 0x400, "DR7 after writing 0")?;
    k.mov(eax, 0xC355u32)?;
    k.mov(dr7, eax)?;
    k.mov(eax, dr7)?;
    k.check_eq(
        eax,
        0x0755,
        "DR7 after writing L0-L3, LE, GE and bits 14, 15",
    )?;
    k.xor(eax, eax)?;
    k.mov(dr7, eax)?;

    // With CR4.DE clear, DR4 is DR6 and DR5 is DR7, both ways.
    k.mov(eax, 0x1)?;
    k.mov(dr4, eax)?;
    k.mov(eax, dr6)?;
    k.check_eq(eax, 0xFFFF_0FF1u32, "DR4 writes DR6")?;
    k.mov(eax, 0x2)?;
    k.mov(dr6, eax)?;
    k.mov(eax, dr4)?;
    k.check_eq(eax, 0xFFFF_0FF2u32, "DR4 reads DR6")?;
    k.mov(eax, 0x4)?;
    k.mov(dr5, eax)?;
    k.mov(eax, dr7)?;
    k.check_eq(eax, 0x404, "DR5 writes DR7")?;
    k.mov(eax, 0x10)?;
    k.mov(dr7, eax)?;
    k.mov(eax, dr5)?;
    k.check_eq(eax, 0x410, "DR5 reads DR7")?;
    k.xor(eax, eax)?;
    k.mov(dr7, eax)?;

    // With CR4.DE set they are #UD (and write nothing); DR6 and DR7 still work.
    k.mov(eax, CR4_DE)?;
    k.mov(cr4, eax)?;
    k.expect_fault("MOV from DR4 with CR4.DE", UD, None, |k| k.mov(eax, dr4))?;
    k.expect_fault("MOV from DR5 with CR4.DE", UD, None, |k| k.mov(eax, dr5))?;
    k.mov(eax, 0xF)?;
    k.expect_fault("MOV to DR4 with CR4.DE", UD, None, |k| k.mov(dr4, eax))?;
    k.expect_fault("MOV to DR5 with CR4.DE", UD, None, |k| k.mov(dr5, eax))?;
    k.mov(eax, dr6)?;
    k.check_eq(eax, 0xFFFF_0FF2u32, "DR6 after the refused DR4 write")?;
    k.mov(eax, dr7)?;
    k.check_eq(eax, 0x400, "DR7 after the refused DR5 write")?;
    k.xor(eax, eax)?;
    k.mov(cr4, eax)?;

    // Debug registers are privileged.
    k.to_ring3(0x2)?;
    k.expect_fault("MOV from DR0 at CPL 3", GP, Some(0), |k| k.mov(eax, dr0))?;
    k.expect_fault("MOV to DR7 at CPL 3", GP, Some(0), |k| k.mov(dr7, eax))?;
    k.to_ring0()
}
