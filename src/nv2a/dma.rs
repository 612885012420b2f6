//! DMA objects: the PRAMIN structures that give the GPU a window of memory.
//!
//! An object is three dwords at a 16-byte aligned PRAMIN offset: flags (class in bits 0-11,
//! target in bits 16-17: 0 video memory, 1 tiled video memory, 2 PCI, 3 AGP; the low 12 bits of
//! the start address in bits 20-31), the limit (the last valid byte offset), and the frame
//! (the page address in bits 12-31). On the Xbox every target is the one unified RAM.

use super::read_u32;

pub const CLASS_FROM_MEMORY: u32 = 0x02;
pub const CLASS_TO_MEMORY: u32 = 0x03;
pub const CLASS_IN_MEMORY: u32 = 0x3D;

/// A decoded DMA object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DmaObject {
    pub class: u32,
    pub target: u32,
    /// The window's first byte in guest RAM (physical).
    pub base: u32,
    /// The window's last valid offset.
    pub limit: u32,
}

impl DmaObject {
    /// Reads the object at `instance` (a byte offset in PRAMIN).
    pub fn load(pramin: &[u8], instance: u32) -> DmaObject {
        let at = instance as usize;
        let flags = read_u32(pramin, at);
        let limit = read_u32(pramin, at + 4);
        let frame = read_u32(pramin, at + 8);
        DmaObject {
            class: flags & 0xFFF,
            target: flags >> 16 & 3,
            base: frame & 0xFFFF_F000 | flags >> 20,
            limit,
        }
    }

    /// The guest-physical address of `len` bytes at `offset` in the window, if they lie
    /// within its limit.
    pub fn address(&self, offset: u32, len: u32) -> Option<u32> {
        let last = offset.checked_add(len.checked_sub(1)?)?;
        (last <= self.limit).then(|| self.base.wrapping_add(offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nv2a::write_u32;

    #[test]
    fn an_object_maps_its_window_and_checks_its_limit() {
        let mut pramin = vec![0u8; 64];
        write_u32(&mut pramin, 16, CLASS_IN_MEMORY | 3 << 16 | 0x123 << 20);
        write_u32(&mut pramin, 20, 0xFFF);
        write_u32(&mut pramin, 24, 0x0020_0000);
        let dma = DmaObject::load(&pramin, 16);
        assert_eq!(dma.class, CLASS_IN_MEMORY);
        assert_eq!(dma.target, 3);
        assert_eq!(dma.base, 0x0020_0123);
        assert_eq!(dma.address(0xFFC, 4), Some(0x0020_111F));
        assert_eq!(dma.address(0xFFD, 4), None, "crosses the limit");
        assert_eq!(dma.address(u32::MAX, 4), None, "wraps");
    }
}
