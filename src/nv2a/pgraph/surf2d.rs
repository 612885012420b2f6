//! CONTEXT_SURFACES_2D (class 0x62): the source and destination surfaces of the 2D engine,
//! pitch-linear windows into two DMA objects sharing one pixel format. The surfaces are
//! channel context, not per object: a blit or GDI object only names this object, and uses
//! whatever it was last set to.
//!
//! Methods (envytools rnndb nv01_2d.xml, NV04_SURFACE_2D): 0x184 DMA_IMAGE_SOURCE, 0x188
//! DMA_IMAGE_DESTIN, 0x300 FORMAT, 0x304 PITCH (source in bits 0-15, destination in 16-31),
//! 0x308 OFFSET_SOURCE, 0x30C OFFSET_DESTIN. Offsets keep their low 27 bits, as xemu does.

use crate::machine::state::State;
use crate::nv2a::dma::DmaObject;

/// A 2D surface format (FORMAT method). The `_Z`/`_O` variants force their padding bits to
/// zero/one on every write (xemu's blit does so for X8R8G8B8; abaire's hardware-run image
/// blit tests show the zeroed alpha); Y formats are single-channel.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format2d {
    Y8 = 1,
    X1R5G5B5_Z1R5G5B5 = 2,
    X1R5G5B5_O1R5G5B5 = 3,
    R5G6B5 = 4,
    Y16 = 5,
    X8R8G8B8_Z8R8G8B8 = 6,
    X8R8G8B8_O8R8G8B8 = 7,
    X1A7R8G8B8_Z1A7R8G8B8 = 8,
    X1A7R8G8B8_O1A7R8G8B8 = 9,
    A8R8G8B8 = 10,
    Y32 = 11,
}

impl Format2d {
    pub const ALL: [Format2d; 11] = [
        Format2d::Y8,
        Format2d::X1R5G5B5_Z1R5G5B5,
        Format2d::X1R5G5B5_O1R5G5B5,
        Format2d::R5G6B5,
        Format2d::Y16,
        Format2d::X8R8G8B8_Z8R8G8B8,
        Format2d::X8R8G8B8_O8R8G8B8,
        Format2d::X1A7R8G8B8_Z1A7R8G8B8,
        Format2d::X1A7R8G8B8_O1A7R8G8B8,
        Format2d::A8R8G8B8,
        Format2d::Y32,
    ];

    pub fn from_raw(raw: u32) -> Option<Format2d> {
        Format2d::ALL.get((raw as usize).wrapping_sub(1)).copied()
    }

    pub fn bytes_per_pixel(self) -> u32 {
        match self {
            Format2d::Y8 => 1,
            Format2d::X1R5G5B5_Z1R5G5B5
            | Format2d::X1R5G5B5_O1R5G5B5
            | Format2d::R5G6B5
            | Format2d::Y16 => 2,
            _ => 4,
        }
    }

    /// The stored bits and the padding bits every write sets.
    pub fn forced(self) -> (u32, u32) {
        match self {
            Format2d::Y8 => (0xFF, 0),
            Format2d::X1R5G5B5_Z1R5G5B5 => (0x7FFF, 0),
            Format2d::X1R5G5B5_O1R5G5B5 => (0x7FFF, 0x8000),
            Format2d::R5G6B5 | Format2d::Y16 => (0xFFFF, 0),
            Format2d::X8R8G8B8_Z8R8G8B8 => (0x00FF_FFFF, 0),
            Format2d::X8R8G8B8_O8R8G8B8 => (0x00FF_FFFF, 0xFF00_0000),
            Format2d::X1A7R8G8B8_Z1A7R8G8B8 => (0x7FFF_FFFF, 0),
            Format2d::X1A7R8G8B8_O1A7R8G8B8 => (0x7FFF_FFFF, 0x8000_0000),
            Format2d::A8R8G8B8 | Format2d::Y32 => (0xFFFF_FFFF, 0),
        }
    }

    /// The colour components as (shift, width), blue first; a Y format has one.
    pub fn components(self) -> &'static [(u32, u32)] {
        match self {
            Format2d::Y8 => &[(0, 8)],
            Format2d::Y16 => &[(0, 16)],
            Format2d::Y32 => &[(0, 32)],
            Format2d::R5G6B5 => &[(0, 5), (5, 6), (11, 5)],
            Format2d::X1R5G5B5_Z1R5G5B5 | Format2d::X1R5G5B5_O1R5G5B5 => &[(0, 5), (5, 5), (10, 5)],
            _ => &[(0, 8), (8, 8), (16, 8)],
        }
    }

    /// The alpha component, where the format stores one.
    pub fn alpha(self) -> Option<(u32, u32)> {
        match self {
            Format2d::A8R8G8B8 => Some((24, 8)),
            Format2d::X1A7R8G8B8_Z1A7R8G8B8 | Format2d::X1A7R8G8B8_O1A7R8G8B8 => Some((24, 7)),
            _ => None,
        }
    }

    /// Packs an A8R8G8B8 colour (components truncated; Y formats take green as luminance).
    pub fn pack_argb(self, argb: u32) -> u32 {
        let (a, r, g, b) = (argb >> 24, argb >> 16 & 0xFF, argb >> 8 & 0xFF, argb & 0xFF);
        let packed = match self {
            Format2d::Y8 => g,
            Format2d::Y16 => g * 0x101,
            Format2d::Y32 => g * 0x0101_0101,
            Format2d::R5G6B5 => (r >> 3) << 11 | (g >> 2) << 5 | b >> 3,
            Format2d::X1R5G5B5_Z1R5G5B5 | Format2d::X1R5G5B5_O1R5G5B5 => {
                (r >> 3) << 10 | (g >> 3) << 5 | b >> 3
            }
            Format2d::X1A7R8G8B8_Z1A7R8G8B8 | Format2d::X1A7R8G8B8_O1A7R8G8B8 => {
                (a >> 1) << 24 | argb & 0x00FF_FFFF
            }
            _ => argb,
        };
        let (keep, set) = self.forced();
        packed & keep | set
    }
}

/// The 2D surfaces' state.
#[derive(Clone, Debug, Default)]
pub struct Surfaces2d {
    /// The DMA instances last set, and their objects as decoded then.
    pub dma_source_instance: u32,
    pub dma_destin_instance: u32,
    pub dma_source: DmaObject,
    pub dma_destin: DmaObject,
    pub format: u32,
    pub pitch: u32,
    pub offset_source: u32,
    pub offset_destin: u32,
}

/// The offset bits the hardware keeps.
const OFFSET_MASK: u32 = 0x07FF_FFFF;

impl Surfaces2d {
    /// Executes a method; `dma` decodes a DMA instance. Returns false for a method the class
    /// does not define.
    pub fn method(&mut self, method: u32, param: u32, dma: impl Fn(u32) -> DmaObject) -> bool {
        match method {
            0x184 => {
                self.dma_source_instance = param;
                self.dma_source = dma(param);
            }
            0x188 => {
                self.dma_destin_instance = param;
                self.dma_destin = dma(param);
            }
            0x300 => self.format = param,
            0x304 => self.pitch = param,
            0x308 => self.offset_source = param & OFFSET_MASK,
            0x30C => self.offset_destin = param & OFFSET_MASK,
            _ => return false,
        }
        true
    }

    pub fn source_pitch(&self) -> u32 {
        self.pitch & 0xFFFF
    }

    pub fn destin_pitch(&self) -> u32 {
        self.pitch >> 16
    }

    pub fn state(&mut self, s: &mut State) {
        s.u32(&mut self.dma_source_instance);
        s.u32(&mut self.dma_destin_instance);
        super::dma_state(s, &mut self.dma_source);
        super::dma_state(s, &mut self.dma_destin);
        s.u32(&mut self.format);
        s.u32(&mut self.pitch);
        s.u32(&mut self.offset_source);
        s.u32(&mut self.offset_destin);
    }
}
