//! The NV2A: the Xbox's GPU and northbridge, as the CPU reaches it through BAR0 (16 MiB of
//! registers) and as it reaches guest RAM.
//!
//! BAR0 is divided into blocks (offsets from BAR0): PMC 0x000000 (identity, interrupt
//! aggregation), PBUS 0x001000, PFIFO 0x002000 (the command FIFO), PVIDEO 0x008000 (the
//! overlay), PTIMER 0x009000, PFB 0x100000 (memory configuration), PGRAPH 0x400000 (the
//! graphics engine), PCRTC 0x600000 (scan-out timing), PRMCIO 0x601000 (VGA CRTC), PRAMDAC
//! 0x680000 (PLLs and pixel formats), PRMVIO 0x0C0000 (VGA sequencer and graphics controller),
//! PRAMIN 0x700000 (1 MiB of instance memory: RAMHT, RAMFC, RAMRO and objects) and USER
//! 0x800000 (each channel's PUT/GET).
//!
//! Conventions of the blocks here, like the MCPX devices': registers through
//! `read(offset, size)`/`write(offset, size, value)` with offsets relative to the block; time
//! in CPU cycles where a block needs it; interrupt state through `pending()` (the block's
//! enabled interrupt bits, which PMC aggregates); state through
//! [`crate::machine::state::Snapshot`]. Guest memory is reached only through [`Memory`], which
//! checks every access, so no guest value can reach host memory outside RAM and PRAMIN.

pub mod dma;
pub mod pcrtc;
pub mod pfb;
pub mod pfifo;
pub mod pgraph;
pub mod pmc;
pub mod pramdac;
pub mod ptimer;
pub mod pvideo;
pub mod ramht;
pub mod scanout;
pub mod vga;

/// PRAMIN, the NV2A's instance memory: 1 MiB.
pub const PRAMIN_SIZE: usize = 1 << 20;

/// The memory the GPU reaches: guest RAM and its own instance memory.
pub struct Memory<'a> {
    pub ram: &'a mut [u8],
    pub pramin: &'a mut [u8],
}

/// Reads a little-endian dword; out of range reads 0.
pub fn read_u32(bytes: &[u8], offset: usize) -> u32 {
    bytes
        .get(offset..offset.wrapping_add(4))
        .map_or(0, |b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
}

/// Writes a little-endian dword; out of range writes are dropped.
pub fn write_u32(bytes: &mut [u8], offset: usize, value: u32) {
    if let Some(b) = bytes.get_mut(offset..offset.wrapping_add(4)) {
        b.copy_from_slice(&value.to_le_bytes());
    }
}

/// One method as the puller hands it to an engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Method {
    pub channel: u32,
    pub subchannel: u32,
    /// The method's byte offset within the object (0x0000-0x1FFC).
    pub method: u32,
    pub param: u32,
}

/// Why an engine refused a method: the puller stops and raises the matching interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// The object's class has no such method.
    InvalidMethod,
    /// A parameter out of range, or a DMA object access beyond its limit.
    InvalidData,
    /// The subchannel has no object bound.
    NoObject,
}

/// What the FIFO's puller drives: the graphics engine (PGRAPH) in the NV2A.
pub trait Engine {
    /// Binds the object at PRAMIN offset `instance` to a subchannel of a channel (method 0
    /// after its RAMHT lookup).
    fn bind(&mut self, mem: &mut Memory, channel: u32, subchannel: u32, instance: u32);
    /// Executes one method on the object bound to its subchannel.
    fn method(&mut self, mem: &mut Memory, method: Method) -> Result<(), EngineError>;
    /// Whether the engine is still busy with earlier work (the puller waits).
    fn busy(&self) -> bool {
        false
    }
}
