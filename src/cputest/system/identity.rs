//! What the processor says about itself: CPUID, the time-stamp counter, model-specific
//! registers.

use super::Case;
use super::kernel::Kernel;
use crate::asm::code_asm::*;
use crate::asm::{Cc, Result};

pub fn cases() -> Vec<Case> {
    vec![
        Case::kernel("identity/cpuid", cpuid_leaves),
        Case::kernel("identity/tsc", time_stamp_counter),
        Case::kernel("identity/msr", model_specific_registers),
    ]
}

const GP: u8 = 13;
const CR4_TSD: u32 = 1 << 2;
const CR4_PCE: u32 = 1 << 8;
const EFLAGS_ID: u32 = 1 << 21;

/// Runs CPUID for `leaf` and checks all four registers.
fn cpuid_is(k: &mut Kernel, leaf: u32, [a, b, c, d]: [u32; 4]) -> Result {
    k.mov(eax, leaf)?;
    k.cpuid()?;
    k.check_eq(eax, a, &format!("CPUID {leaf:#X}: EAX"))?;
    k.check_eq(ebx, b, &format!("CPUID {leaf:#X}: EBX"))?;
    k.check_eq(ecx, c, &format!("CPUID {leaf:#X}: ECX"))?;
    k.check_eq(edx, d, &format!("CPUID {leaf:#X}: EDX"))
}

/// The Xbox's Pentium III (Coppermine, family 6 model 8 stepping 10), leaf by leaf.
fn cpuid_leaves(k: &mut Kernel) -> Result {
    // EFLAGS.ID can be toggled: CPUID exists.
    k.flags_to_eax()?;
    k.mov(ecx, eax)?;
    k.xor(eax, EFLAGS_ID)?;
    k.push(eax)?;
    k.popfd()?; // EFLAGS.ID inverted
    k.flags_to_eax()?;
    k.xor(eax, ecx)?;
    k.check_eq(eax, EFLAGS_ID, "EFLAGS.ID toggles")?;

    // Highest basic leaf 2, "GenuineIntel".
    cpuid_is(k, 0, [2, 0x756E_6547, 0x6C65_746E, 0x4965_6E69])?;
    // Signature 0x68A; features FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV
    // PAT PSE36 MMX FXSR SSE (no serial number).
    cpuid_is(k, 1, [0x0000_068A, 0, 0, 0x0383_FBFF])?;
    // Cache and TLB descriptors: 128 KiB L2.
    let leaf2 = [0x0302_0101, 0, 0, 0x0C04_0841];
    cpuid_is(k, 2, leaf2)?;
    // Beyond the highest leaf, basic or extended, Intel parts repeat the highest basic leaf.
    cpuid_is(k, 3, leaf2)?;
    cpuid_is(k, 0x8000_0000, leaf2)?;

    // CPUID is not privileged.
    k.to_ring3(0x2)?;
    k.mov(eax, 1)?;
    k.cpuid()?;
    k.to_ring0()?;
    k.check_eq(eax, 0x68A, "CPUID 1 at CPL 3")
}

/// EDX:EAX = RDTSC - EDX:EAX (the cycles since a first RDTSC whose result is in EDX:EAX);
/// ESI and EDI hold the first reading afterwards.
fn cycles_since(k: &mut Kernel) -> Result {
    k.mov(esi, eax)?;
    k.mov(edi, edx)?;
    k.rdtsc()?;
    k.sub(eax, esi)?;
    k.sbb(edx, edi)?;
    Ok(())
}

/// RDTSC follows the cycle counter; WRMSR sets it; CR4.TSD keeps it from ring 3, as CR4.PCE
/// lets RDPMC reach it.
fn time_stamp_counter(k: &mut Kernel) -> Result {
    // Two readings a few instructions apart: later, and not by much.
    k.rdtsc()?;
    k.mov(esi, eax)?;
    k.mov(edi, edx)?;
    k.rdtsc()?;
    k.sub(eax, esi)?;
    k.sbb(edx, edi)?;
    k.check_eq(edx, 0, "consecutive RDTSCs: high half of the difference")?;
    k.cmp(eax, 0)?;
    k.check(Cc::A, "consecutive RDTSCs: the counter advances")?;
    k.cmp(eax, 1000)?;
    k.check(Cc::B, "consecutive RDTSCs: by a few cycles")?;

    // 2000 instructions take at least 2000 cycles.
    k.rdtsc()?;
    k.mov(ecx, 1000)?;
    let spin = k.here()?;
    k.dec(ecx)?;
    k.jnz(spin)?;
    cycles_since(k)?;
    k.check_eq(edx, 0, "a 2000-instruction loop: high half")?;
    k.cmp(eax, 2000)?;
    k.check(Cc::Ae, "a 2000-instruction loop takes at least 2000 cycles")?;
    k.cmp(eax, 100_000)?;
    k.check(
        Cc::B,
        "a 2000-instruction loop takes less than 100000 cycles",
    )?;

    // WRMSR to the TSC: a P6 writes the low 32 bits and clears the high ones.
    k.mov(ecx, 0x10)?;
    k.mov(edx, 5)?;
    k.mov(eax, 0x4000_0000)?;
    k.wrmsr()?;
    k.rdtsc()?;
    k.check_eq(edx, 0, "WRMSR TSC: the high half is cleared")?;
    k.sub(eax, 0x4000_0000)?;
    k.cmp(eax, 1000)?;
    k.check(Cc::B, "WRMSR TSC: counts on from the low half written")?;
    k.mov(ecx, 0x10)?;
    k.rdmsr()?;
    k.check_eq(edx, 0, "RDMSR TSC: high half")?;
    k.sub(eax, 0x4000_0000)?;
    k.cmp(eax, 1000)?;
    k.check(Cc::B, "RDMSR TSC reads the counter RDTSC reads")?;

    // CR4.TSD: RDTSC at CPL 3 is #GP(0); at CPL 0 it still works.
    k.mov(eax, cr4)?;
    k.or(eax, CR4_TSD)?;
    k.mov(cr4, eax)?;
    k.expect_no_fault("RDTSC at CPL 0 with CR4.TSD", |k| k.rdtsc())?;
    k.to_ring3(0x2)?;
    k.expect_fault("RDTSC at CPL 3 with CR4.TSD", GP, Some(0), |k| k.rdtsc())?;
    k.to_ring0()?;
    k.mov(eax, cr4)?;
    k.and(eax, !CR4_TSD)?;
    k.mov(cr4, eax)?;
    k.to_ring3(0x2)?;
    k.expect_no_fault("RDTSC at CPL 3 without CR4.TSD", |k| k.rdtsc())?;
    k.to_ring0()?;

    // RDPMC: counters 0 and 1; at CPL 3 only with CR4.PCE.
    k.mov(ecx, 2)?;
    k.expect_fault("RDPMC of counter 2", GP, Some(0), |k| k.rdpmc())?;
    k.xor(ecx, ecx)?;
    k.expect_no_fault("RDPMC of counter 0 at CPL 0", |k| k.rdpmc())?;
    k.to_ring3(0x2)?;
    k.expect_fault("RDPMC at CPL 3 without CR4.PCE", GP, Some(0), |k| k.rdpmc())?;
    k.to_ring0()?;
    k.mov(eax, cr4)?;
    k.or(eax, CR4_PCE)?;
    k.mov(cr4, eax)?;
    k.to_ring3(0x2)?;
    k.mov(ecx, 1)?;
    k.expect_no_fault("RDPMC at CPL 3 with CR4.PCE", |k| k.rdpmc())?;
    k.to_ring0()
}

/// RDMSR `index` and checks EDX:EAX.
fn msr_is(k: &mut Kernel, index: u32, value: u64, what: &str) -> Result {
    k.mov(ecx, index)?;
    k.rdmsr()?;
    k.check_eq(eax, value as u32, &format!("{what}: low half"))?;
    k.check_eq(edx, (value >> 32) as u32, &format!("{what}: high half"))
}

/// WRMSR `index` with `value`, then reads it back.
fn msr_round_trip(k: &mut Kernel, index: u32, value: u64, what: &str) -> Result {
    k.mov(ecx, index)?;
    k.mov(eax, value as u32)?;
    k.mov(edx, (value >> 32) as u32)?;
    k.wrmsr()?;
    k.xor(eax, eax)?;
    k.xor(edx, edx)?;
    msr_is(k, index, value, what)
}

/// The MSRs the Xbox kernel and its loader touch, read back as written; unknown ones fault.
fn model_specific_registers(k: &mut Kernel) -> Result {
    // Values after reset.
    msr_is(k, 0x1B, 0xFEE0_0900, "APIC base after reset")?;
    msr_is(k, 0x277, 0x0007_0406_0007_0406, "PAT after reset")?;
    msr_is(k, 0xFE, 0x508, "MTRR capabilities: 8 variable, fixed, WC")?;

    msr_round_trip(k, 0x174, 0x08, "SYSENTER_CS")?;
    msr_round_trip(k, 0x175, 0x0015_0000, "SYSENTER_ESP")?;
    msr_round_trip(k, 0x176, 0x8000_1234, "SYSENTER_EIP")?;
    msr_round_trip(k, 0x1B, 0xFEE0_0800, "APIC base")?;
    msr_round_trip(k, 0x277, 0x0001_0506_0007_0400, "PAT")?;
    msr_round_trip(k, 0x200, 0x0000_0000_0000_0006, "MTRR physical base 0")?;
    msr_round_trip(k, 0x201, 0x0000_000F_FC00_0800, "MTRR physical mask 0")?;
    msr_round_trip(k, 0x20F, 0x0000_000F_FF00_0800, "MTRR physical mask 7")?;
    msr_round_trip(k, 0x250, 0x0606_0606_0606_0606, "MTRR fixed 64K")?;
    msr_round_trip(k, 0x259, 0x0505_0505_0505_0505, "MTRR fixed 16K A0000")?;
    msr_round_trip(k, 0x26F, 0x0404_0404_0404_0404, "MTRR fixed 4K F8000")?;
    msr_round_trip(k, 0x2FF, 0xC06, "MTRR default type")?;

    // Registers a Pentium III does not have, and the read-only capability register.
    for index in [0x1234_5678u32, 0xC000_0080, 0x2FE] {
        k.mov(ecx, index)?;
        k.expect_fault(&format!("RDMSR {index:#X}"), GP, Some(0), |k| k.rdmsr())?;
        k.expect_fault(&format!("WRMSR {index:#X}"), GP, Some(0), |k| k.wrmsr())?;
    }
    k.mov(ecx, 0xFE)?;
    k.expect_fault("WRMSR to MTRR capabilities", GP, Some(0), |k| k.wrmsr())?;

    // RDMSR and WRMSR are privileged.
    k.to_ring3(0x2)?;
    k.mov(ecx, 0x1B)?;
    k.expect_fault("RDMSR at CPL 3", GP, Some(0), |k| k.rdmsr())?;
    k.expect_fault("WRMSR at CPL 3", GP, Some(0), |k| k.wrmsr())?;
    k.to_ring0()
}
