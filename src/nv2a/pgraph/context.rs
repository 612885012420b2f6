//! The context objects: BETA1 (0x12), BETA4 (0x72), CLIP (0x19), ROP (0x43) and PATTERN
//! (0x44). They draw nothing; each sets a piece of channel context that the 2D drawing
//! objects use (envytools docs/hw/graph/2d/ctxobj.rst, rnndb nv01_2d.xml).
//!
//! - BETA1 0x300: the blend factor, a sign bit and 31 fraction bits of which the hardware
//!   keeps 8 (bits 23-30); negative values clamp to 0.
//! - BETA4 0x300: per-component factors for the PREMULT operations (B, G, R, A bytes).
//! - CLIP 0x300 POINT (x, y in 16-bit halves), 0x304 SIZE (width, height).
//! - ROP 0x300: an 8-bit ternary raster operation; other bits are an invalid value.
//! - PATTERN: 0x300 COLOR_FORMAT, 0x304 MONOCHROME_FORMAT, 0x308 MONOCHROME_SHAPE, 0x30C
//!   SELECT (1 monochrome, 2 colour), 0x310/0x314 the two monochrome colours, 0x318/0x31C
//!   the 64-bit monochrome pattern, then the 8x8 colour pattern as Y8 (0x400, four pixels a
//!   word), R5G6B5 (0x500, two), X1R5G5B5 (0x600, two) or X8R8G8B8 (0x700, one).

use crate::machine::state::State;

use super::surface::expand;

/// The value of BETA1's method: sign clamps to 0, eight fraction bits survive.
pub fn beta_from_param(param: u32) -> u32 {
    if param & 0x8000_0000 != 0 {
        0
    } else {
        param & 0x7F80_0000
    }
}

/// The monochrome pattern's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternShape {
    Square8x8,
    Wide64x1,
    Tall1x64,
}

impl PatternShape {
    pub fn from_raw(raw: u32) -> PatternShape {
        match raw {
            1 => PatternShape::Wide64x1,
            2 => PatternShape::Tall1x64,
            _ => PatternShape::Square8x8,
        }
    }

    /// The pattern entry covering destination pixel (x, y).
    pub fn index(self, x: u32, y: u32) -> usize {
        (match self {
            PatternShape::Square8x8 => (y & 7) * 8 + (x & 7),
            PatternShape::Wide64x1 => x & 63,
            PatternShape::Tall1x64 => y & 63,
        }) as usize
    }
}

/// The pattern state.
#[derive(Clone, Debug)]
pub struct Pattern {
    pub color_format: u32,
    pub mono_format: u32,
    pub shape: u32,
    pub select: u32,
    pub mono_color: [u32; 2],
    pub mono_bits: [u32; 2],
    /// The colour pattern, 8x8, as A8R8G8B8.
    pub colors: [u32; 64],
}

impl Default for Pattern {
    fn default() -> Pattern {
        Pattern {
            color_format: 3,
            mono_format: 2,
            shape: 0,
            select: 1,
            mono_color: [0, 0xFFFF_FFFF],
            mono_bits: [0; 2],
            colors: [0; 64],
        }
    }
}

/// A 16-bit R5G6B5 value as opaque A8R8G8B8.
fn from_r5g6b5(v: u32) -> u32 {
    0xFF00_0000 | expand(v >> 11, 5) << 16 | expand(v >> 5, 6) << 8 | expand(v, 5)
}

/// A 16-bit X1R5G5B5 value as opaque A8R8G8B8.
fn from_x1r5g5b5(v: u32) -> u32 {
    0xFF00_0000 | expand(v >> 10, 5) << 16 | expand(v >> 5, 5) << 8 | expand(v, 5)
}

impl Pattern {
    /// Executes a PATTERN method; false for one the class does not define.
    pub fn method(&mut self, method: u32, param: u32) -> bool {
        let word = ((method & 0xFF) / 4) as usize;
        match method {
            0x300 => self.color_format = param,
            0x304 => self.mono_format = param,
            0x308 => self.shape = param,
            0x30C => self.select = param,
            0x310 | 0x314 => self.mono_color[word - 4] = param,
            0x318 | 0x31C => self.mono_bits[word - 6] = param,
            0x400..=0x43C => {
                for k in 0..4 {
                    let y = param >> (8 * k) & 0xFF;
                    self.colors[word * 4 + k] = 0xFF00_0000 | (y * 0x0001_0101);
                }
            }
            0x500..=0x57C => {
                self.colors[word * 2] = from_r5g6b5(param & 0xFFFF);
                self.colors[word * 2 + 1] = from_r5g6b5(param >> 16);
            }
            0x600..=0x67C => {
                self.colors[word * 2] = from_x1r5g5b5(param & 0xFFFF);
                self.colors[word * 2 + 1] = from_x1r5g5b5(param >> 16);
            }
            0x700..=0x7FC => {
                let index = ((method - 0x700) / 4) as usize;
                self.colors[index] = 0xFF00_0000 | param & 0x00FF_FFFF;
            }
            _ => return false,
        }
        true
    }

    /// A monochrome colour in the pattern's colour format, as A8R8G8B8 (1: A16R5G6B5,
    /// 2: X16A1R5G5B5, 3: A8R8G8B8).
    fn mono_argb(&self, which: usize) -> u32 {
        let v = self.mono_color[which];
        match self.color_format {
            1 => from_r5g6b5(v & 0xFFFF),
            2 => from_x1r5g5b5(v) & if v & 0x8000 != 0 { !0 } else { 0x00FF_FFFF },
            _ => v,
        }
    }

    /// The 64 pattern entries as A8R8G8B8 and the shape that maps pixels onto them.
    pub fn table(&self) -> (PatternShape, [u32; 64]) {
        if self.select == 2 {
            return (PatternShape::Square8x8, self.colors);
        }
        let bits = u64::from(self.mono_bits[1]) << 32 | u64::from(self.mono_bits[0]);
        let colors = [self.mono_argb(0), self.mono_argb(1)];
        let mut table = [0; 64];
        for (i, entry) in table.iter_mut().enumerate() {
            // LE: entry i is bit i; CGA6: each byte's leftmost pixel is its top bit.
            let bit = if self.mono_format == 1 {
                i & !7 | (7 - (i & 7))
            } else {
                i
            };
            *entry = colors[(bits >> bit & 1) as usize];
        }
        (PatternShape::from_raw(self.shape), table)
    }

    pub fn state(&mut self, s: &mut State) {
        s.u32(&mut self.color_format);
        s.u32(&mut self.mono_format);
        s.u32(&mut self.shape);
        s.u32(&mut self.select);
        s.u32s(&mut self.mono_color);
        s.u32s(&mut self.mono_bits);
        s.u32s(&mut self.colors);
    }
}

/// The channel context the context objects set.
#[derive(Clone, Debug)]
pub struct Context {
    /// BETA1's factor as kept (0 to 0x7F800000).
    pub beta: u32,
    pub beta4: u32,
    pub rop: u32,
    /// CLIP's rectangle: x, y, width, height.
    pub clip: [u32; 4],
    pub pattern: Pattern,
}

impl Default for Context {
    fn default() -> Context {
        Context {
            beta: 0,
            beta4: 0,
            // SRCCOPY.
            rop: 0xCC,
            clip: [0, 0, 0x7FFF, 0x7FFF],
            pattern: Pattern::default(),
        }
    }
}

impl Context {
    pub fn state(&mut self, s: &mut State) {
        s.u32(&mut self.beta);
        s.u32(&mut self.beta4);
        s.u32(&mut self.rop);
        s.u32s(&mut self.clip);
        self.pattern.state(s);
    }
}
