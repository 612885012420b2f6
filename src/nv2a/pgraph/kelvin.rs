//! KELVIN (class 0x97), the 3D object, as far as it works outside the 3D pipeline: its
//! surfaces, clears, semaphores and flip counters. Every method's last parameter is kept (the
//! 3D pipeline will read its state from there); the surface state is decoded from those
//! values when used. Offsets and fields follow xemu's nv2a_regs.h and envytools' nv20_3d.xml.
//!
//! Surfaces: 0x200/0x204 SET_SURFACE_CLIP_HORIZONTAL/VERTICAL (x or y in bits 0-15, width or
//! height in 16-31), 0x208 SET_SURFACE_FORMAT (colour 0-3, zeta 4-7, type 8-11: 1 pitch,
//! 2 swizzle; anti-aliasing 12-15; log2 width 16-23 and height 24-31 for swizzled
//! surfaces), 0x20C SET_SURFACE_PITCH (colour 0-15, zeta 16-31), 0x210/0x214 colour and zeta
//! offsets in the 0x194/0x198 DMA windows. SET_CONTROL0 (0x290) bit 12 selects floating-point
//! depth.
//!
//! Clears: 0x1D8C SET_ZSTENCIL_CLEAR_VALUE, 0x1D90 SET_COLOR_CLEAR_VALUE, 0x1D98/0x1D9C the
//! clear rectangle (inclusive min in bits 0-11, max in 16-27), 0x1D94 CLEAR_SURFACE (bit 0
//! depth, bit 1 stencil, bits 4-7 red, green, blue, alpha). The clear covers the clear
//! rectangle within the surface clip, both scaled by the anti-aliasing factor, and writes the
//! clear values as the surface stores pixels (see [`super::surface`]). Zeta values are stored
//! as given whatever the depth encoding: the driver encodes them. SET_COLOR_MASK does not
//! apply: the hardware-run "Clear" suite clears fully with every channel masked off.

use crate::machine::state::State;
use crate::nv2a::dma::DmaObject;

use super::soft::{self, Layout, Rect, Target};
use super::surface::{AntiAliasing, ColorFormat, ZetaFormat, clear_pixel};

pub const NO_OPERATION: u32 = 0x100;
pub const WAIT_FOR_IDLE: u32 = 0x110;
pub const SET_FLIP_READ: u32 = 0x120;
pub const SET_FLIP_WRITE: u32 = 0x124;
pub const SET_FLIP_MODULO: u32 = 0x128;
pub const FLIP_INCREMENT_WRITE: u32 = 0x12C;
pub const FLIP_STALL: u32 = 0x130;
pub const SET_CONTEXT_DMA_NOTIFIES: u32 = 0x180;
pub const SET_CONTEXT_DMA_COLOR: u32 = 0x194;
pub const SET_CONTEXT_DMA_ZETA: u32 = 0x198;
pub const SET_CONTEXT_DMA_SEMAPHORE: u32 = 0x1A4;
pub const SET_CONTEXT_DMA_REPORT: u32 = 0x1A8;
pub const SET_SURFACE_CLIP_HORIZONTAL: u32 = 0x200;
pub const SET_SURFACE_CLIP_VERTICAL: u32 = 0x204;
pub const SET_SURFACE_FORMAT: u32 = 0x208;
pub const SET_SURFACE_PITCH: u32 = 0x20C;
pub const SET_SURFACE_COLOR_OFFSET: u32 = 0x210;
pub const SET_SURFACE_ZETA_OFFSET: u32 = 0x214;
pub const SET_CONTROL0: u32 = 0x290;
pub const SET_COLOR_MASK: u32 = 0x358;
pub const SET_SEMAPHORE_OFFSET: u32 = 0x1D6C;
pub const BACK_END_WRITE_SEMAPHORE_RELEASE: u32 = 0x1D70;
pub const SET_ZSTENCIL_CLEAR_VALUE: u32 = 0x1D8C;
pub const SET_COLOR_CLEAR_VALUE: u32 = 0x1D90;
pub const CLEAR_SURFACE: u32 = 0x1D94;
pub const SET_CLEAR_RECT_HORIZONTAL: u32 = 0x1D98;
pub const SET_CLEAR_RECT_VERTICAL: u32 = 0x1D9C;

/// Method slots: offsets 0 to 0x1FFC.
pub const METHODS: usize = 0x800;

/// A surface's clip rectangle as set (in pixels, before the anti-aliasing scale).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SurfaceClip {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// What colour and zeta surfaces share: layout, sample pattern and clip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SurfaceShape {
    pub swizzled: bool,
    /// log2 of a swizzled surface's width and height.
    pub log_width: u32,
    pub log_height: u32,
    pub anti_aliasing: AntiAliasing,
    pub clip: SurfaceClip,
}

/// The colour surface as the 3D engine draws into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColorSurface {
    /// None: no format set, or an undefined one.
    pub format: Option<ColorFormat>,
    pub shape: SurfaceShape,
    pub pitch: u32,
    /// SET_SURFACE_COLOR_OFFSET: the surface's offset in its DMA window.
    pub offset: u32,
    /// The SET_CONTEXT_DMA_COLOR window.
    pub dma: DmaObject,
    /// The guest-physical address of the first pixel, when the window holds the offset.
    pub address: Option<u32>,
}

/// The zeta (depth/stencil) surface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZetaSurface {
    pub format: Option<ZetaFormat>,
    /// SET_CONTROL0's Z_FORMAT: depth stored as floating point.
    pub float_depth: bool,
    pub shape: SurfaceShape,
    pub pitch: u32,
    pub offset: u32,
    pub dma: DmaObject,
    pub address: Option<u32>,
}

/// One surface's part of a clear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClearJob {
    pub target: Target,
    pub rect: Rect,
    pub value: u32,
    pub mask: u32,
}

fn address(dma: &DmaObject, offset: u32) -> Option<u32> {
    (soft::is_dma(dma) && offset <= dma.limit).then(|| dma.base.checked_add(offset))?
}

#[derive(Clone, Debug)]
pub struct Kelvin {
    /// The last parameter of every method.
    pub params: Box<[u32]>,
    /// The DMA windows as decoded when bound.
    pub dma_color: DmaObject,
    pub dma_zeta: DmaObject,
    pub dma_semaphore: DmaObject,
    pub dma_report: DmaObject,
}

impl Default for Kelvin {
    fn default() -> Kelvin {
        Kelvin {
            params: vec![0; METHODS].into_boxed_slice(),
            dma_color: DmaObject::default(),
            dma_zeta: DmaObject::default(),
            dma_semaphore: DmaObject::default(),
            dma_report: DmaObject::default(),
        }
    }
}

impl Kelvin {
    /// A method's last parameter.
    pub fn param(&self, method: u32) -> u32 {
        self.params
            .get((method as usize & 0x1FFC) / 4)
            .copied()
            .unwrap_or(0)
    }

    pub fn record(&mut self, method: u32, param: u32) {
        if let Some(slot) = self.params.get_mut((method as usize & 0x1FFC) / 4) {
            *slot = param;
        }
    }

    pub fn shape(&self) -> SurfaceShape {
        let format = self.param(SET_SURFACE_FORMAT);
        let h = self.param(SET_SURFACE_CLIP_HORIZONTAL);
        let v = self.param(SET_SURFACE_CLIP_VERTICAL);
        SurfaceShape {
            swizzled: format >> 8 & 0xF == 2,
            log_width: format >> 16 & 0xFF,
            log_height: format >> 24,
            anti_aliasing: AntiAliasing::from_raw(format >> 12 & 0xF),
            clip: SurfaceClip {
                x: h & 0xFFFF,
                y: v & 0xFFFF,
                width: h >> 16,
                height: v >> 16,
            },
        }
    }

    pub fn color_surface(&self) -> ColorSurface {
        let offset = self.param(SET_SURFACE_COLOR_OFFSET);
        ColorSurface {
            format: ColorFormat::from_raw(self.param(SET_SURFACE_FORMAT) & 0xF),
            shape: self.shape(),
            pitch: self.param(SET_SURFACE_PITCH) & 0xFFFF,
            offset,
            dma: self.dma_color,
            address: address(&self.dma_color, offset),
        }
    }

    pub fn zeta_surface(&self) -> ZetaSurface {
        let offset = self.param(SET_SURFACE_ZETA_OFFSET);
        ZetaSurface {
            format: ZetaFormat::from_raw(self.param(SET_SURFACE_FORMAT) >> 4 & 0xF),
            float_depth: self.param(SET_CONTROL0) & 1 << 12 != 0,
            shape: self.shape(),
            pitch: self.param(SET_SURFACE_PITCH) >> 16,
            offset,
            dma: self.dma_zeta,
            address: address(&self.dma_zeta, offset),
        }
    }

    /// The pixels a clear covers: the clear rectangle within the surface clip (and, when
    /// swizzled, within the surface), in memory pixels.
    fn clear_rect(&self, shape: &SurfaceShape) -> Rect {
        let (fx, fy) = shape.anti_aliasing.factor();
        let h = self.param(SET_CLEAR_RECT_HORIZONTAL);
        let v = self.param(SET_CLEAR_RECT_VERTICAL);
        let (x_min, x_max) = (h & 0xFFF, h >> 16 & 0xFFF);
        let (y_min, y_max) = (v & 0xFFF, v >> 16 & 0xFFF);
        if x_min > x_max || y_min > y_max {
            return Rect::default();
        }
        let clear = Rect {
            x0: x_min * fx,
            y0: y_min * fy,
            x1: (x_max + 1) * fx,
            y1: (y_max + 1) * fy,
        };
        let c = shape.clip;
        let clip = Rect {
            x0: c.x * fx,
            y0: c.y * fy,
            x1: (c.x + c.width) * fx,
            y1: (c.y + c.height) * fy,
        };
        let rect = clear.intersect(&clip);
        if shape.swizzled {
            let surface = Rect::new(
                0,
                0,
                1 << shape.log_width.min(16),
                1 << shape.log_height.min(16),
            );
            rect.intersect(&surface)
        } else {
            rect
        }
    }

    fn layout(shape: &SurfaceShape, pitch: u32) -> Layout {
        if shape.swizzled {
            Layout::Swizzle {
                log_w: shape.log_width.min(16),
                log_h: shape.log_height.min(16),
            }
        } else {
            Layout::Pitch(pitch)
        }
    }

    /// The colour and zeta parts of a CLEAR_SURFACE. A part is None when the clear does not
    /// touch that surface or its format is not set.
    pub fn clear_jobs(&self, param: u32) -> (Option<ClearJob>, Option<ClearJob>) {
        let color = self.color_surface();
        let color_job = color.format.and_then(|format| {
            let mask = format.write_mask(
                param & 1 << 4 != 0,
                param & 1 << 5 != 0,
                param & 1 << 6 != 0,
                param & 1 << 7 != 0,
            );
            (mask != 0).then(|| ClearJob {
                target: Target {
                    dma: color.dma,
                    offset: color.offset,
                    layout: Self::layout(&color.shape, color.pitch),
                    bpp: format.bytes_per_pixel(),
                },
                rect: self.clear_rect(&color.shape),
                value: clear_pixel(format, self.param(SET_COLOR_CLEAR_VALUE)),
                mask,
            })
        });
        let zeta = self.zeta_surface();
        let zeta_job = zeta.format.and_then(|format| {
            let mask = format.write_mask(param & 1 != 0, param & 2 != 0);
            (mask != 0).then(|| ClearJob {
                target: Target {
                    dma: zeta.dma,
                    offset: zeta.offset,
                    layout: Self::layout(&zeta.shape, zeta.pitch),
                    bpp: format.bytes_per_pixel(),
                },
                rect: self.clear_rect(&zeta.shape),
                value: self.param(SET_ZSTENCIL_CLEAR_VALUE),
                mask,
            })
        });
        (color_job, zeta_job)
    }

    pub fn state(&mut self, s: &mut State) {
        s.u32s(&mut self.params);
        super::dma_state(s, &mut self.dma_color);
        super::dma_state(s, &mut self.dma_zeta);
        super::dma_state(s, &mut self.dma_semaphore);
        super::dma_state(s, &mut self.dma_report);
    }
}
