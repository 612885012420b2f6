//! GDI_RECTANGLE_TEXT (class 0x4A, NV04_GDI): Windows-style solid rectangles and glyphs into
//! the 2D destination surface (envytools rnndb nv01_2d.xml). Only the unclipped solid
//! rectangles are drawn here:
//!
//! - 0x184 DMA_FONTS, 0x188 PATTERN, 0x18C ROP, 0x190 BETA, 0x194 BETA4, 0x198 SURFACE;
//! - 0x2FC OPERATION, 0x300 COLOR_FORMAT (1 X16R5G6B5, 2 X17R5G5B5, 3 X8R8G8B8), 0x304
//!   MONOCHROME_FORMAT;
//! - 0x3FC COLOR1_A: the rectangles' colour;
//! - 0x400 + 8i UNCLIPPED_RECTANGLE_POINT (y in bits 0-15, x in 16-31) and 0x404 + 8i
//!   UNCLIPPED_RECTANGLE_SIZE (height low, width high), 32 pairs: each SIZE draws.
//!
//! The clipped rectangles and the monochrome glyph methods are stored and ignored.

use crate::machine::state::State;

use super::surf2d::Format2d;
use super::surface::expand;

#[derive(Clone, Debug)]
pub struct Gdi {
    pub dma_fonts: u32,
    pub pattern: u32,
    pub rop: u32,
    pub beta: u32,
    pub beta4: u32,
    pub surface: u32,
    pub operation: u32,
    pub color_format: u32,
    pub mono_format: u32,
    pub color: u32,
    pub point: u32,
}

impl Default for Gdi {
    fn default() -> Gdi {
        Gdi {
            dma_fonts: 0,
            pattern: 0,
            rop: 0,
            beta: 0,
            beta4: 0,
            surface: 0,
            operation: 3,
            color_format: 3,
            mono_format: 2,
            color: 0,
            point: 0,
        }
    }
}

/// Whether a method is one of the 32 UNCLIPPED_RECTANGLE_SIZE methods.
pub fn is_rectangle_size(method: u32) -> bool {
    (0x404..=0x4FC).contains(&method) && method & 4 != 0
}

impl Gdi {
    /// Stores a state method; false for one not modelled (the rectangle sizes included).
    pub fn method(&mut self, method: u32, param: u32) -> bool {
        match method {
            0x184 => self.dma_fonts = param,
            0x188 => self.pattern = param,
            0x18C => self.rop = param,
            0x190 => self.beta = param,
            0x194 => self.beta4 = param,
            0x198 => self.surface = param,
            0x2FC => self.operation = param,
            0x300 => self.color_format = param,
            0x304 => self.mono_format = param,
            0x3FC => self.color = param,
            0x400..=0x4F8 if method & 4 == 0 => self.point = param,
            _ => return false,
        }
        true
    }

    /// The rectangle colour as a pixel of the destination format. Y destinations take the
    /// value as it is (an index or grey level); colours are converted.
    pub fn pixel(&self, format: Format2d) -> u32 {
        solid_pixel(self.color_format, self.color, format)
    }

    pub fn state(&mut self, s: &mut State) {
        for v in [
            &mut self.dma_fonts,
            &mut self.pattern,
            &mut self.rop,
            &mut self.beta,
            &mut self.beta4,
            &mut self.surface,
            &mut self.operation,
            &mut self.color_format,
            &mut self.mono_format,
            &mut self.color,
            &mut self.point,
        ] {
            s.u32(v);
        }
    }
}

/// A solid colour given in one of the solid objects' COLOR_FORMATs (1 X16R5G6B5, 2 X17R5G5B5,
/// 3 X8R8G8B8: envytools' nv04_color_format_unpacked) as a pixel of a destination format. Y
/// destinations take the value as it is (an index or grey level); colours are converted, each
/// component widened by repeating its top bits.
pub fn solid_pixel(color_format: u32, v: u32, format: Format2d) -> u32 {
    let argb = match color_format {
        1 => 0xFF00_0000 | expand(v >> 11, 5) << 16 | expand(v >> 5, 6) << 8 | expand(v, 5),
        2 => 0xFF00_0000 | expand(v >> 10, 5) << 16 | expand(v >> 5, 5) << 8 | expand(v, 5),
        _ => 0xFF00_0000 | v & 0x00FF_FFFF,
    };
    match format {
        Format2d::Y8 => v & 0xFF,
        Format2d::Y16 => v & 0xFFFF,
        Format2d::Y32 => v,
        _ => format.pack_argb(argb),
    }
}
