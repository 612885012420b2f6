//! Instruction fetch and decoding (iced-x86), and the cache of decoded blocks.
//!
//! A block is a run of instructions in one physical page, ending at the first instruction that
//! can change control flow or processor mode. Blocks are keyed by physical address and code
//! size, so they survive paging changes; a write to a page that holds decoded code drops that
//! page's blocks (self-modifying code), and `generation` tells a running block it went stale.

use super::Cpu;
use super::bus::Bus;
use super::fault::{Fault, Result};
use super::mmu::Access;
use iced_x86::{
    Code, CpuidFeature, Decoder, DecoderError, DecoderOptions, FlowControl, Instruction, Mnemonic,
};
use std::collections::HashMap;
use std::sync::Arc;

/// The longest x86 instruction.
const MAX_INSTRUCTION: usize = 15;
/// Blocks stop after this many instructions so one never runs far past an event deadline.
const MAX_BLOCK: usize = 32;

/// Decode as a P6 does: the whole 0F 18–0F 1F hint space (and 0F 0D, which `exec` makes
/// #UD) as reserved NOPs, although later CPUs gave parts of it meanings (ENDBR32, MPX,
/// CLDEMOTE) that a Pentium III executes as NOPs. CET-built i686 code starts every function
/// with ENDBR32. And F3 0F BC/BD as BSF/BSR with an ignored REP prefix, not TZCNT/LZCNT:
/// compilers emit REP BSF as a TZCNT that still works on older CPUs.
const DECODER_OPTIONS: u32 = DecoderOptions::FORCE_RESERVED_NOP
    | DecoderOptions::NO_MPFX_0FBC
    | DecoderOptions::NO_MPFX_0FBD;

/// Whether a Pentium III executes `code`; anything else (SSE2 and later, 3DNow!, long mode,
/// ...) is #UD there. iced files PADDQ mm, mm/m64 under MMX, but it came with SSE2.
pub fn pentium_iii_executes(code: Code) -> bool {
    code != Code::Paddq_mm_mmm64 && pentium_iii_has(code.cpuid_features())
}

/// Instructions whose only CPUID features are these exist on a Pentium III.
fn pentium_iii_has(features: &[CpuidFeature]) -> bool {
    features.iter().all(|f| {
        matches!(
            f,
            CpuidFeature::INTEL8086
                | CpuidFeature::INTEL186
                | CpuidFeature::INTEL286
                | CpuidFeature::INTEL386
                | CpuidFeature::INTEL486
                | CpuidFeature::CMOV
                | CpuidFeature::CPUID
                | CpuidFeature::CX8
                | CpuidFeature::FPU
                | CpuidFeature::FPU287
                | CpuidFeature::FPU387
                | CpuidFeature::FXSR
                | CpuidFeature::MMX
                | CpuidFeature::MSR
                | CpuidFeature::MULTIBYTENOP
                | CpuidFeature::PAUSE
                | CpuidFeature::RDPMC
                | CpuidFeature::SEP
                | CpuidFeature::SMM
                | CpuidFeature::SSE
                | CpuidFeature::TSC
        )
    })
}

/// Instructions that end a block although they do not branch: they change how the following
/// instructions decode or run (mode, paging, interrupt shadow), they stop the CPU, or they
/// write a port (which can unmap the code, as the MCPX ROM's hide bit does, or schedule an
/// event the machine must handle at once).
fn ends_block(instruction: &Instruction) -> bool {
    if instruction.flow_control() != FlowControl::Next {
        return true;
    }
    matches!(
        instruction.mnemonic(),
        Mnemonic::Mov | Mnemonic::Pop
            if instruction.op0_register().is_segment_register() || instruction.op0_register().is_cr()
    ) || matches!(
        instruction.mnemonic(),
        Mnemonic::Hlt
            | Mnemonic::Lmsw
            | Mnemonic::Clts
            | Mnemonic::Invlpg
            | Mnemonic::Wrmsr
            | Mnemonic::Popf
            | Mnemonic::Popfd
            | Mnemonic::Sti
            | Mnemonic::Lldt
            | Mnemonic::Ltr
            | Mnemonic::Lgdt
            | Mnemonic::Lidt
            | Mnemonic::Lds
            | Mnemonic::Les
            | Mnemonic::Lss
            | Mnemonic::Lfs
            | Mnemonic::Lgs
            | Mnemonic::Cpuid
            | Mnemonic::Wbinvd
            | Mnemonic::Invd
            | Mnemonic::Out
            | Mnemonic::Outsb
            | Mnemonic::Outsw
            | Mnemonic::Outsd
    )
}

/// A decoded run of instructions.
pub struct Block {
    pub instructions: Vec<Instruction>,
}

/// What `fetch_block` found at EIP.
pub enum Fetched {
    Cached(Arc<Block>),
    /// An instruction that crosses a page boundary: decoded afresh each time, never cached,
    /// because its second page can be remapped independently.
    Single(Instruction),
}

/// A hasher for physical addresses: one multiply, since the keys are not chosen by an
/// adversary who could exploit collisions beyond slowing the guest itself down. Lookups only;
/// nothing ever iterates these maps, so emulation stays deterministic.
#[derive(Clone, Copy, Default)]
pub struct AddressHash;

impl std::hash::BuildHasher for AddressHash {
    type Hasher = AddressHasher;
    fn build_hasher(&self) -> AddressHasher {
        AddressHasher(0)
    }
}

pub struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x517C_C1B7_2722_0A95);
    }
    fn write_u32(&mut self, value: u32) {
        self.write_u64(u64::from(value));
    }
    fn write_u8(&mut self, value: u8) {
        self.write_u64(u64::from(value));
    }
}

/// Decoded blocks by (physical address, 32-bit code) and the pages that hold them.
#[derive(Default)]
pub struct CodeCache {
    blocks: HashMap<(u32, bool), Arc<Block>, AddressHash>,
    pages: HashMap<u32, Vec<(u32, bool)>, AddressHash>,
    /// Bumped whenever blocks are dropped, so a running block knows it may be stale.
    pub generation: u64,
}

impl CodeCache {
    /// A physical write at `addr`: drop the blocks of its page, if any.
    #[inline]
    pub fn written(&mut self, addr: u32) {
        if self.pages.is_empty() {
            return;
        }
        if let Some(keys) = self.pages.remove(&(addr >> 12)) {
            for key in keys {
                self.blocks.remove(&key);
            }
            self.generation += 1;
        }
    }

    /// Drops everything (the board remapped memory under the CPU, e.g. the MCPX ROM hid).
    pub fn clear(&mut self) {
        self.blocks.clear();
        self.pages.clear();
        self.generation += 1;
    }
}

impl Cpu {
    /// The instructions at CS:EIP.
    pub(crate) fn fetch_block(&mut self, bus: &mut dyn Bus) -> Result<Fetched> {
        let code32 = self.code32();
        let linear = self.seg[1].base.wrapping_add(self.eip);
        self.check_fetch(self.eip)?;
        let phys = self.translate(bus, linear, Access::Execute, self.cpl == 3)?;
        if let Some(block) = self.code.blocks.get(&(phys, code32)) {
            return Ok(Fetched::Cached(block.clone()));
        }
        let in_page = 0x1000 - (phys & 0xFFF) as usize;
        let mut bytes = [0u8; 4096 + MAX_INSTRUCTION];
        for (i, byte) in bytes[..in_page].iter_mut().enumerate() {
            *byte = self.phys_read(bus, phys + i as u32, 1) as u8;
        }
        let bitness = if code32 { 32 } else { 16 };
        let mut decoder = Decoder::with_ip(
            bitness,
            &bytes[..in_page],
            u64::from(self.eip),
            DECODER_OPTIONS,
        );
        let mut instructions = Vec::new();
        let mut instruction = Instruction::default();
        while instructions.len() < MAX_BLOCK && decoder.can_decode() {
            decoder.decode_out(&mut instruction);
            if decoder.last_error() == DecoderError::NoMoreBytes {
                break;
            }
            if instruction.is_invalid() || !pentium_iii_executes(instruction.code()) {
                if instructions.is_empty() {
                    return Err(Fault::ud());
                }
                break;
            }
            instructions.push(instruction);
            if ends_block(&instruction) {
                break;
            }
        }
        if instructions.is_empty() {
            return self
                .fetch_across_pages(bus, linear, &mut bytes, in_page, bitness)
                .map(Fetched::Single);
        }
        let block = Arc::new(Block { instructions });
        self.code.blocks.insert((phys, code32), block.clone());
        self.code
            .pages
            .entry(phys >> 12)
            .or_default()
            .push((phys, code32));
        Ok(Fetched::Cached(block))
    }

    /// Decodes the one instruction that starts at the end of a page and ends in the next.
    fn fetch_across_pages(
        &mut self,
        bus: &mut dyn Bus,
        linear: u32,
        bytes: &mut [u8],
        in_page: usize,
        bitness: u32,
    ) -> Result<Instruction> {
        let next = linear.wrapping_add(in_page as u32);
        self.check_fetch(self.eip.wrapping_add(in_page as u32))?;
        let phys = self.translate(bus, next, Access::Execute, self.cpl == 3)?;
        for i in 0..MAX_INSTRUCTION {
            bytes[in_page + i] = self.phys_read(bus, phys + i as u32, 1) as u8;
        }
        let mut decoder = Decoder::with_ip(
            bitness,
            &bytes[..in_page + MAX_INSTRUCTION],
            u64::from(self.eip),
            DECODER_OPTIONS,
        );
        let instruction = decoder.decode();
        if instruction.is_invalid() || !pentium_iii_executes(instruction.code()) {
            // Longer than 15 bytes (a run of prefixes) is #GP; anything else undefined is #UD.
            if decoder.last_error() == DecoderError::NoMoreBytes {
                return Err(Fault::gp(0));
            }
            return Err(Fault::ud());
        }
        Ok(instruction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pentium_iii_instruction_sets() {
        assert!(pentium_iii_executes(Code::Paddd_mm_mmm64));
        assert!(pentium_iii_executes(Code::Addps_xmm_xmmm128));
        assert!(pentium_iii_executes(Code::Cmovne_r32_rm32));
        // SSE2, although iced lists PADDQ mm under MMX.
        assert!(!pentium_iii_executes(Code::Paddq_mm_mmm64));
        assert!(!pentium_iii_executes(Code::Psubq_mm_mmm64));
        assert!(!pentium_iii_executes(Code::Addpd_xmm_xmmm128));
    }
}
