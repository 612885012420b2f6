//! The harness's ring-0 side in guest memory: descriptor tables, the TSS, one entry stub per
//! interrupt vector, and the code that returns to user mode.
//!
//! System calls and exceptions take the CPU's real path: the IDT gate switches to ring 0 on
//! the TSS's stack, the vector's stub pushes the vector number (and a zero where the CPU
//! pushes no error code) and executes HLT, and `Cpu::run` returns `Stop::Halted`. The
//! harness then reads the frame from the ring-0 stack ([`entry`]).
//!
//! The way back is IRET, also through the CPU: [`resume`] writes the user context onto the
//! ring-0 stack and points EIP at a stub that pops EAX, DS, ES, FS and GS and executes IRETD,
//! so every selector is loaded with the processor's own checks. When page tables or the LDT
//! changed, the stub first reloads CR3 (flushing the TLB) and LDTR.

use super::fpstate;
use super::layout::{KERNEL_BASE, ring0, selector};
use super::memory::Memory;
use crate::cpu::state::{Segment, TableReg, attr, cr0, cr4, flag, reg};
use crate::cpu::{Cpu, Stop, fpu};

/// The user-mode state saved on entry to ring 0 and restored on the way back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI; ESP is the user stack pointer.
    pub regs: [u32; 8],
    pub eip: u32,
    pub eflags: u32,
    pub cs: u16,
    pub ss: u16,
    pub ds: u16,
    pub es: u16,
    pub fs: u16,
    pub gs: u16,
}

impl Context {
    /// The state a new process starts in (all general registers zero, as Linux does).
    pub fn initial(entry: u32, stack: u32) -> Context {
        let mut regs = [0; 8];
        regs[reg::ESP] = stack;
        Context {
            regs,
            eip: entry,
            eflags: flag::FIXED | flag::IF,
            cs: selector::USER_CS,
            ss: selector::USER_DS,
            ds: selector::USER_DS,
            es: selector::USER_DS,
            fs: 0,
            gs: 0,
        }
    }
}

/// The code at `ring0::CODE`: boot (load TR and initialise the x87, whose power-on state
/// differs from the one Linux gives a new process), the two ways back to user mode, and the
/// routines that save, load and reset the FPU state for signal frames. Their memory operands
/// go through SS, the one data segment the guest cannot have changed.
fn code() -> Vec<u8> {
    let [tss_low, tss_high] = selector::TSS.to_le_bytes();
    let at = |offset: u32| (KERNEL_BASE + offset).to_le_bytes();
    let [image, legacy, init] = [ring0::FPU_IMAGE, ring0::FPU_LEGACY, ring0::FPU_INIT].map(at);
    [
        &[
            0x66, 0xB8, tss_low, tss_high, // boot:   mov ax, TSS
            0x0F, 0x00, 0xD8, //                      ltr ax
            0xDB, 0xE3, //                            fninit
            0x0F, 0x20, 0xD8, //             reload:  mov eax, cr3
            0x0F, 0x22, 0xD8, //                      mov cr3, eax    ; flushes the TLB
            0x58, //                                  pop eax         ; LDT selector or 0
            0x0F, 0x00, 0xD0, //                      lldt ax
            0x58, //                         resume:  pop eax
            0x1F, //                                  pop ds
            0x07, //                                  pop es
            0x0F, 0xA1, //                            pop fs
            0x0F, 0xA9, //                            pop gs
            0xCF, //                                  iretd
        ][..],
        &[0x36, 0x0F, 0xAE, 0x05], // save_fpu:  fxsave ss:[image]
        &image,
        &[0x36, 0xDD, 0x35], //                  fnsave ss:[legacy]  ; reinitialises the x87
        &legacy,
        &[0x36, 0x0F, 0xAE, 0x0D], //            fxrstor ss:[image]  ; so restore it
        &image,
        &[0xF4],                   //                              hlt
        &[0x36, 0x0F, 0xAE, 0x0D], // load_fpu:  fxrstor ss:[image]
        &image,
        &[0xF4],                   //                              hlt
        &[0x36, 0x0F, 0xAE, 0x0D], // reset_fpu: fxrstor ss:[init]
        &init,
        &[0xF4], //                              hlt
    ]
    .concat()
}

const BOOT: u32 = 0;
const RELOAD: u32 = 9;
const RESUME: u32 = 19;
/// The POP DS, POP ES, POP FS and POP GS of `resume`.
const SEGMENT_POPS: std::ops::Range<u32> = 20..26;
const IRET: u32 = 26;
/// The FPU routines: where each starts and where its HLT leaves EIP.
const SAVE_FPU: (u32, u32) = (27, 51);
const LOAD_FPU: (u32, u32) = (51, 60);
const RESET_FPU: (u32, u32) = (60, 69);

/// Vectors whose exceptions push an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC.
fn has_error_code(vector: u8) -> bool {
    matches!(vector, 8 | 10..=14 | 17)
}

/// Vectors user code may raise with INT n: INT3, INTO and the system call (Linux's choice).
fn user_gate(vector: u8) -> bool {
    matches!(vector, 3 | 4 | 0x80)
}

/// An 8-byte code or data segment descriptor.
pub fn segment_descriptor(base: u32, limit: u32, access: u8, flags: u8) -> u64 {
    u64::from(limit & 0xFFFF)
        | u64::from(base & 0xFF_FFFF) << 16
        | u64::from(access) << 40
        | u64::from((limit >> 16) & 0xF) << 48
        | u64::from(flags & 0xF) << 52
        | u64::from(base >> 24) << 56
}

/// Flat 4 GiB, 32-bit, page-granular.
const FLAT: u8 = 0xC;

pub fn gdt_entry(memory: &Memory, index: u32) -> u64 {
    let at = ring0::GDT + index * 8;
    u64::from(memory.read_u32(at)) | u64::from(memory.read_u32(at + 4)) << 32
}

pub fn set_gdt_entry(memory: &mut Memory, index: u32, raw: u64) {
    let at = ring0::GDT + index * 8;
    memory.write_u32(at, raw as u32);
    memory.write_u32(at + 4, (raw >> 32) as u32);
}

/// Writes the GDT, TSS, IDT and stubs.
pub fn install(memory: &mut Memory) {
    let entries = [
        (selector::KERNEL_CS, 0x9B),
        (selector::KERNEL_DS, 0x93),
        (selector::USER_CS, 0xFB),
        (selector::USER_DS, 0xF3),
    ];
    for (selector, access) in entries {
        let raw = segment_descriptor(0, 0xF_FFFF, access, FLAT);
        set_gdt_entry(memory, u32::from(selector >> 3), raw);
    }
    let tss = segment_descriptor(KERNEL_BASE + ring0::TSS, ring0::TSS_LIMIT, 0x89, 0);
    set_gdt_entry(memory, u32::from(selector::TSS >> 3), tss);
    set_ldt_size(memory, 0);

    memory.write_u32(ring0::TSS + 4, KERNEL_BASE + ring0::STACK_TOP);
    memory.write_u32(ring0::TSS + 8, u32::from(selector::KERNEL_DS));
    // The I/O bitmap starts past the TSS's limit: no port is open to user code.
    memory.write_u32(ring0::TSS + 0x64, (ring0::TSS_LIMIT + 1) << 16);

    memory.write_phys(ring0::CODE, &code());
    let mut init = [0u8; 512];
    init[0..2].copy_from_slice(&fpu::cw::DEFAULT.to_le_bytes());
    init[24..28].copy_from_slice(&fpu::mxcsr::DEFAULT.to_le_bytes());
    memory.write_phys(ring0::FPU_INIT, &init);
    for vector in 0..=255u8 {
        let stub = ring0::VECTORS + u32::from(vector) * ring0::VECTOR_STUB;
        let mut bytes = Vec::new();
        if !has_error_code(vector) {
            bytes.extend([0x6A, 0x00]); // push 0
        }
        bytes.extend([0x68, vector, 0, 0, 0, 0xF4]); // push vector; hlt
        memory.write_phys(stub, &bytes);
        let offset = KERNEL_BASE + stub;
        let dpl = if user_gate(vector) { 3 } else { 0 };
        // A present 32-bit interrupt gate.
        let low = u32::from(selector::KERNEL_CS) << 16 | (offset & 0xFFFF);
        let high = (offset & 0xFFFF_0000) | 0x8E00 | dpl << 13;
        let gate = ring0::IDT + u32::from(vector) * 8;
        memory.write_u32(gate, low);
        memory.write_u32(gate + 4, high);
    }
}

/// Points the GDT's LDT descriptor at the first `entries` LDT entries.
pub fn set_ldt_size(memory: &mut Memory, entries: u32) {
    let limit = (entries * 8).saturating_sub(1);
    let raw = segment_descriptor(KERNEL_BASE + ring0::LDT, limit, 0x82, 0);
    set_gdt_entry(memory, u32::from(selector::LDT >> 3), raw);
}

/// A flat 32-bit ring-0 segment's descriptor cache.
fn kernel_segment(selector: u16, kind: u16) -> Segment {
    Segment {
        selector,
        base: 0,
        limit: u32::MAX,
        attrs: attr::PRESENT | attr::S | attr::RW | attr::ACCESSED | attr::DB | attr::G | kind,
    }
}

/// Puts the CPU in ring 0 with paging on, about to load TR and enter user mode with `context`.
/// Only CS and SS are set directly (as a boot loader would); everything else goes through
/// the stubs.
pub fn boot(cpu: &mut Cpu, memory: &mut Memory, context: &Context) {
    // As Linux sets it: alignment checks are the program's choice (EFLAGS.AC).
    cpu.cr0 = cr0::PE | cr0::MP | cr0::ET | cr0::NE | cr0::WP | cr0::AM | cr0::PG;
    cpu.cr3 = ring0::PAGE_DIRECTORY;
    cpu.cr4 = cr4::OSFXSR | cr4::OSXMMEXCPT;
    cpu.gdtr = TableReg {
        base: KERNEL_BASE + ring0::GDT,
        limit: (ring0::GDT_ENTRIES * 8 - 1) as u16,
    };
    cpu.idtr = TableReg {
        base: KERNEL_BASE + ring0::IDT,
        limit: 256 * 8 - 1,
    };
    cpu.seg = [Segment::default(); 6];
    cpu.seg[1] = kernel_segment(selector::KERNEL_CS, attr::CODE);
    cpu.seg[2] = kernel_segment(selector::KERNEL_DS, 0);
    cpu.cpl = 0;
    cpu.eflags = flag::FIXED;
    resume(cpu, memory, context, Some(0));
    cpu.eip = KERNEL_BASE + ring0::CODE + BOOT;
}

/// Returns to user mode with `context` through IRET; with `reload`, first flushes the TLB and
/// loads LDTR with that selector.
pub fn resume(cpu: &mut Cpu, memory: &mut Memory, context: &Context, reload: Option<u16>) {
    // IRET cannot return to virtual-8086 mode or a nested task here.
    let eflags = context.eflags & !(flag::VM | flag::NT);
    let frame = [
        context.regs[reg::EAX],
        u32::from(context.ds),
        u32::from(context.es),
        u32::from(context.fs),
        u32::from(context.gs),
        context.eip,
        u32::from(context.cs),
        eflags,
        context.regs[reg::ESP],
        u32::from(context.ss),
    ];
    let mut top = ring0::STACK_TOP;
    for word in frame.iter().rev().chain(reload.map(u32::from).iter()) {
        top -= 4;
        memory.write_u32(top, *word);
    }
    cpu.regs = context.regs;
    cpu.regs[reg::ESP] = KERNEL_BASE + top;
    let start = if reload.is_some() { RELOAD } else { RESUME };
    cpu.eip = KERNEL_BASE + ring0::CODE + start;
    cpu.halted = false;
}

/// The FPU state as FNSAVE and FXSAVE store it, for a signal frame.
pub struct FpuImages {
    pub fnsave: [u8; fpstate::FNSAVE_SIZE],
    pub fxsave: [u8; 512],
}

/// Runs one of the FPU routines on the CPU, in ring 0 between an entry and the return to
/// user mode; Err says what went wrong (a bug: the routines cannot fault).
fn run_routine(cpu: &mut Cpu, memory: &mut Memory, (start, end): (u32, u32)) -> Result<(), String> {
    cpu.eip = KERNEL_BASE + ring0::CODE + start;
    cpu.halted = false;
    let stop = cpu.run(memory, cpu.cycles + 1000);
    let expected = KERNEL_BASE + ring0::CODE + end;
    if stop != Stop::Halted || cpu.eip != expected {
        return Err(format!(
            "the FPU routine at {start} stopped ({stop:?}) at {:08x}",
            cpu.eip
        ));
    }
    Ok(())
}

/// The FPU state, left unchanged.
pub fn save_fpu(cpu: &mut Cpu, memory: &mut Memory) -> Result<FpuImages, String> {
    run_routine(cpu, memory, SAVE_FPU)?;
    let mut images = FpuImages {
        fnsave: [0; fpstate::FNSAVE_SIZE],
        fxsave: [0; 512],
    };
    memory.read_phys(ring0::FPU_LEGACY, &mut images.fnsave);
    memory.read_phys(ring0::FPU_IMAGE, &mut images.fxsave);
    Ok(images)
}

/// Loads an FXSAVE image (whose MXCSR must be valid).
pub fn load_fpu(cpu: &mut Cpu, memory: &mut Memory, image: &[u8; 512]) -> Result<(), String> {
    memory.write_phys(ring0::FPU_IMAGE, image);
    run_routine(cpu, memory, LOAD_FPU)
}

/// The FPU state Linux gives a new process and a signal handler: FNINIT's, MXCSR 0x1F80,
/// XMM registers zero.
pub fn reset_fpu(cpu: &mut Cpu, memory: &mut Memory) -> Result<(), String> {
    run_routine(cpu, memory, RESET_FPU)
}

/// Why the CPU halted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A system call or exception from user mode.
    User {
        vector: u8,
        error: u32,
        context: Context,
    },
    /// A segment register from the context being returned to did not load (POP DS, ES, FS
    /// or GS faulted); `slot` is its physical address on the ring-0 stack.
    BadSegment { slot: u32 },
    /// IRET refused the context being returned to (CS, SS, EIP or flags).
    BadReturn { vector: u8, error: u32 },
    /// Anything else: a bug in the harness.
    Unexpected(String),
}

/// Reads the frame the CPU and the entry stub left on the ring-0 stack.
pub fn entry(cpu: &Cpu, memory: &Memory) -> Entry {
    let stubs = KERNEL_BASE + ring0::VECTORS;
    let in_stub = cpu.eip > stubs && cpu.eip <= stubs + 256 * ring0::VECTOR_STUB;
    let esp = cpu.regs[reg::ESP].wrapping_sub(KERNEL_BASE);
    let stack = ring0::STACK..ring0::STACK_TOP;
    if cpu.cpl != 0 || !in_stub || !stack.contains(&esp) || esp + 20 > ring0::STACK_TOP {
        return Entry::Unexpected(format!(
            "halted at {:04x}:{:08x} (CPL {}) outside the entry stubs",
            cpu.seg[1].selector, cpu.eip, cpu.cpl
        ));
    }
    let word = |i: u32| memory.read_u32(esp + 4 * i);
    let vector = word(0) as u8;
    let (error, eip, cs, eflags) = (word(1), word(2), word(3) as u16, word(4));
    if cs & 3 != 0 {
        let seg = |i: usize| cpu.seg[i].selector;
        let mut regs = cpu.regs;
        regs[reg::ESP] = word(5);
        return Entry::User {
            vector,
            error,
            context: Context {
                regs,
                eip,
                eflags,
                cs,
                ss: word(6) as u16,
                ds: seg(3),
                es: seg(0),
                fs: seg(4),
                gs: seg(5),
            },
        };
    }
    let code = KERNEL_BASE + ring0::CODE;
    match eip.wrapping_sub(code) {
        offset if SEGMENT_POPS.contains(&offset) => Entry::BadSegment { slot: esp + 20 },
        IRET => Entry::BadReturn { vector, error },
        _ => Entry::Unexpected(format!(
            "exception {vector} (error {error:#x}) in ring 0 at {eip:08x}"
        )),
    }
}

/// Continues at the faulting POP with its selector replaced by null, as Linux's return path
/// does for a selector that no longer loads.
pub fn retry_with_null_segment(cpu: &mut Cpu, memory: &mut Memory, slot: u32) {
    memory.write_u32(slot, 0);
    let esp = cpu.regs[reg::ESP].wrapping_sub(KERNEL_BASE);
    cpu.eip = memory.read_u32(esp + 8);
    cpu.regs[reg::ESP] = KERNEL_BASE + slot;
    cpu.halted = false;
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::{Decoder, DecoderOptions, Mnemonic};

    #[test]
    fn code_offsets_match_the_instructions() {
        let code = code();
        let mut decoder = Decoder::with_ip(32, &code, 0, DecoderOptions::NONE);
        let found: Vec<(u64, Mnemonic)> = decoder.iter().map(|i| (i.ip(), i.mnemonic())).collect();
        assert_eq!(found.len(), 21);
        assert_eq!(code.len() as u32, RESET_FPU.1);
        for (start, end) in [SAVE_FPU, LOAD_FPU, RESET_FPU] {
            assert!(
                found.contains(&(u64::from(start), Mnemonic::Fxsave))
                    || found.contains(&(u64::from(start), Mnemonic::Fxrstor))
            );
            assert!(found.contains(&(u64::from(end - 1), Mnemonic::Hlt)));
        }
        assert!(found.contains(&(7, Mnemonic::Fninit)));
        assert!(found.contains(&(u64::from(BOOT), Mnemonic::Mov)));
        assert!(found.contains(&(u64::from(RELOAD), Mnemonic::Mov)));
        assert!(found.contains(&(u64::from(RELOAD + 7), Mnemonic::Lldt)));
        assert!(found.contains(&(u64::from(RESUME), Mnemonic::Pop)));
        for pop in [20, 21, 22, 24] {
            assert!(SEGMENT_POPS.contains(&pop));
            assert!(found.contains(&(u64::from(pop), Mnemonic::Pop)));
        }
        assert!(found.contains(&(u64::from(IRET), Mnemonic::Iretd)));
    }

    #[test]
    fn descriptors_encode() {
        assert_eq!(
            segment_descriptor(0, 0xF_FFFF, 0x9B, FLAT),
            0x00CF_9B00_0000_FFFF
        );
        assert_eq!(
            segment_descriptor(0x1234_5678, 0x6_7890, 0xF3, 0x4),
            0x1246_F334_5678_7890
        );
    }
}
