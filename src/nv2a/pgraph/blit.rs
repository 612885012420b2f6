//! IMAGE_BLIT (class 0x9F, NV15_BLIT): copies a rectangle between the 2D surfaces
//! (envytools rnndb nv01_2d.xml; the nxdk_pgraph_tests image blit suite shows the order a
//! driver sends them in):
//!
//! - 0x184 COLOR_KEY, 0x188 CLIP, 0x18C PATTERN, 0x190 ROP, 0x194 BETA, 0x198 BETA4,
//!   0x19C SURFACES: the context objects the blit uses. Binding the NULL object (class
//!   0x30) instead switches one off; only the clip's presence changes anything here, the
//!   others always read the channel context.
//! - 0x2FC OPERATION (SRCCOPY_AND 0, ROP_AND 1, BLEND_AND 2, SRCCOPY 3, SRCCOPY_PREMULT 4,
//!   BLEND_PREMULT 5);
//! - 0x300 POINT_IN, 0x304 POINT_OUT (x low, y high), 0x308 SIZE (width low, height high):
//!   SIZE starts the blit.
//! - 0x120-0x130: the flip methods, shared with KELVIN.
//!
//! The destination is clipped to the clip object's rectangle only: the hardware does not
//! clip to the destination pitch (the suite's "BlitBeyondWidth" overwrites past a 128-pixel
//! surface's end), so neither does this.

use crate::machine::state::State;

#[derive(Clone, Debug)]
pub struct ImageBlit {
    pub color_key: u32,
    pub clip: u32,
    pub pattern: u32,
    pub rop: u32,
    pub beta: u32,
    pub beta4: u32,
    pub surfaces: u32,
    pub operation: u32,
    pub point_in: u32,
    pub point_out: u32,
    pub size: u32,
}

impl Default for ImageBlit {
    fn default() -> ImageBlit {
        ImageBlit {
            color_key: 0,
            clip: 0,
            pattern: 0,
            rop: 0,
            beta: 0,
            beta4: 0,
            surfaces: 0,
            operation: 3,
            point_in: 0,
            point_out: 0,
            size: 0,
        }
    }
}

/// The method that starts a blit.
pub const SIZE: u32 = 0x308;
/// The OPERATION method.
pub const OPERATION: u32 = 0x2FC;

impl ImageBlit {
    /// Stores a state method; false for one the class does not define (SIZE included).
    pub fn method(&mut self, method: u32, param: u32) -> bool {
        match method {
            0x184 => self.color_key = param,
            0x188 => self.clip = param,
            0x18C => self.pattern = param,
            0x190 => self.rop = param,
            0x194 => self.beta = param,
            0x198 => self.beta4 = param,
            0x19C => self.surfaces = param,
            OPERATION => self.operation = param,
            0x300 => self.point_in = param,
            0x304 => self.point_out = param,
            _ => return false,
        }
        true
    }

    pub fn state(&mut self, s: &mut State) {
        for v in [
            &mut self.color_key,
            &mut self.clip,
            &mut self.pattern,
            &mut self.rop,
            &mut self.beta,
            &mut self.beta4,
            &mut self.surfaces,
            &mut self.operation,
            &mut self.point_in,
            &mut self.point_out,
            &mut self.size,
        ] {
            s.u32(v);
        }
    }
}
