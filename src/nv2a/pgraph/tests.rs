//! PGRAPH on a RAM vector: expected bytes are worked out by hand from the format, swizzle and
//! notifier definitions cited in the modules.

use super::kelvin::*;
use super::regs::*;
use super::surface::*;
use super::*;
use crate::nv2a::dma::CLASS_IN_MEMORY;
use crate::nv2a::{PRAMIN_SIZE, write_u32};

const RAM: usize = 1 << 20;
/// Where the test surfaces' DMA window starts in RAM.
const WINDOW: u32 = 0x1_0000;
const WINDOW_LIMIT: u32 = 0x7_FFFF;

struct Rig {
    gpu: Pgraph,
    ram: Vec<u8>,
    pramin: Vec<u8>,
    next: u32,
}

impl Rig {
    fn new() -> Rig {
        Rig {
            gpu: Pgraph::new(),
            ram: vec![0; RAM],
            pramin: vec![0; PRAMIN_SIZE],
            next: 0x1000,
        }
    }

    fn alloc(&mut self, bytes: u32) -> u32 {
        let at = self.next;
        self.next += bytes.next_multiple_of(16);
        at
    }

    /// A graph object of `class` in PRAMIN (pbkit's layout: the class in the first word).
    fn object(&mut self, class: u32) -> u32 {
        let at = self.alloc(16);
        write_u32(&mut self.pramin, at as usize, class);
        at
    }

    /// A DMA object (class 0x3D) over `limit + 1` bytes from `base`.
    fn dma(&mut self, base: u32, limit: u32) -> u32 {
        let at = self.alloc(16);
        let flags = CLASS_IN_MEMORY | 3 << 16 | (base & 0xFFF) << 20;
        write_u32(&mut self.pramin, at as usize, flags);
        write_u32(&mut self.pramin, at as usize + 4, limit);
        write_u32(&mut self.pramin, at as usize + 8, base & 0xFFFF_F000);
        at
    }

    fn bind(&mut self, sub: u32, instance: u32) {
        let mut mem = Memory {
            ram: &mut self.ram,
            pramin: &mut self.pramin,
        };
        self.gpu.bind(&mut mem, 0, sub, instance);
    }

    fn bind_new(&mut self, sub: u32, class: u32) -> u32 {
        let instance = self.object(class);
        self.bind(sub, instance);
        instance
    }

    fn m(&mut self, sub: u32, method: u32, param: u32) -> Result<(), EngineError> {
        let mut mem = Memory {
            ram: &mut self.ram,
            pramin: &mut self.pramin,
        };
        self.gpu.method(
            &mut mem,
            Method {
                channel: 0,
                subchannel: sub,
                method,
                param,
            },
        )
    }

    fn ok(&mut self, sub: u32, method: u32, param: u32) {
        assert_eq!(
            self.m(sub, method, param),
            Ok(()),
            "method {method:#x} param {param:#x}"
        );
    }

    fn bytes(&self, at: u32, len: usize) -> &[u8] {
        &self.ram[at as usize..at as usize + len]
    }

    fn r32(&self, at: u32) -> u32 {
        u32::from_le_bytes(self.bytes(at, 4).try_into().unwrap())
    }

    fn w32(&mut self, at: u32, value: u32) {
        write_u32(&mut self.ram, at as usize, value);
    }

    fn reg(&self, offset: u32) -> u32 {
        self.gpu.read(offset, 4)
    }

    fn ack(&mut self) {
        self.gpu.write(INTR, 4, 0xFFFF_FFFF);
    }

    /// KELVIN on subchannel 0 with colour and zeta windows over [`WINDOW`].
    fn kelvin(&mut self) {
        self.bind_new(0, CLASS_KELVIN);
        let window = self.dma(WINDOW, WINDOW_LIMIT);
        self.ok(0, SET_CONTEXT_DMA_COLOR, window);
        self.ok(0, SET_CONTEXT_DMA_ZETA, window);
    }

    /// A pitch-linear surface: colour at window offset 0, zeta at 0x4_0000.
    fn linear_surface(&mut self, color: u32, zeta: u32, width: u32, height: u32, pitch: u32) {
        self.ok(0, SET_SURFACE_FORMAT, color | zeta << 4 | 1 << 8);
        self.ok(0, SET_SURFACE_PITCH, pitch | pitch << 16);
        self.ok(0, SET_SURFACE_COLOR_OFFSET, 0);
        self.ok(0, SET_SURFACE_ZETA_OFFSET, 0x4_0000);
        self.ok(0, SET_SURFACE_CLIP_HORIZONTAL, width << 16);
        self.ok(0, SET_SURFACE_CLIP_VERTICAL, height << 16);
    }

    fn clear_rect(&mut self, x0: u32, x1: u32, y0: u32, y1: u32) {
        self.ok(0, SET_CLEAR_RECT_HORIZONTAL, x1 << 16 | x0);
        self.ok(0, SET_CLEAR_RECT_VERTICAL, y1 << 16 | y0);
    }
}

// --- Binding and dispatch ---

#[test]
fn bind_takes_the_class_from_the_first_pramin_word() {
    let mut rig = Rig::new();
    // pbkit sets bit 24 in an M2MF object's flags; only the low 8 bits are the class.
    let m2mf = rig.object(CLASS_M2MF | 0x0100_0000);
    write_u32(&mut rig.pramin, m2mf as usize + 4, 0xAAAA);
    rig.bind(5, m2mf);
    assert_eq!(rig.gpu.binding(0, 5), Some((m2mf, CLASS_M2MF)));
    assert_eq!(rig.gpu.binding(0, 4), None);
    assert_eq!(rig.gpu.binding(1, 5), None, "bindings are per channel");
    assert_eq!(rig.reg(CTX_CACHE1 + 5 * 4), CLASS_M2MF | 0x0100_0000);
    assert_eq!(rig.reg(CTX_CACHE1 + 0x20 + 5 * 4), 0xAAAA);
    assert_eq!(rig.reg(CTX_CACHE1 + 0x80 + 5 * 4), m2mf);
    // A method makes it the current object.
    rig.ok(5, NOP, 0);
    assert_eq!(rig.reg(CTX_SWITCH1), CLASS_M2MF | 0x0100_0000);
    assert_eq!(rig.reg(CTX_SWITCH1 + 16), m2mf);
    assert_eq!(rig.reg(CTX_USER) >> 13 & 7, 5);
}

#[test]
fn a_method_on_an_empty_subchannel_faults() {
    let mut rig = Rig::new();
    rig.gpu.write(INTR_EN, 4, INTR_ERROR);
    assert_eq!(rig.m(3, 0x300, 0x1234), Err(EngineError::NoObject));
    assert_eq!(rig.reg(INTR), INTR_ERROR);
    assert!(rig.gpu.pending());
    assert_eq!(rig.reg(NSOURCE), NSOURCE_ILLEGAL_MTHD);
    assert_eq!(rig.reg(TRAPPED_ADDR), 0x300 | 3 << 16);
    assert_eq!(rig.reg(TRAPPED_DATA_LOW), 0x1234);
    assert!(
        rig.gpu.busy(),
        "the FIFO waits for the error to be acknowledged"
    );
    rig.ack();
    assert_eq!(rig.reg(INTR), 0);
    assert_eq!(rig.reg(NSOURCE), 0);
    assert!(!rig.gpu.pending());
    assert!(rig.gpu.busy(), "the error also took the FIFO's access away");
    rig.gpu.write(FIFO, 4, FIFO_ACCESS);
    assert!(!rig.gpu.busy());
}

#[test]
fn an_unmodelled_class_takes_only_the_common_methods() {
    let mut rig = Rig::new();
    rig.bind_new(1, CLASS_NULL);
    for method in [0x0, 0x50, NOP, NOTIFY, DMA_NOTIFY] {
        rig.ok(1, method, 7);
    }
    assert_eq!(rig.m(1, 0x300, 7), Err(EngineError::InvalidMethod));
    assert_eq!(rig.reg(NSOURCE), NSOURCE_ILLEGAL_MTHD);
}

#[test]
fn unknown_methods_of_known_classes_are_recorded_and_accepted() {
    let mut rig = Rig::new();
    rig.bind_new(2, CLASS_BETA1);
    assert_eq!(rig.gpu.last_ignored(), None);
    rig.ok(2, 0x3F0, 0xBEEF);
    let (ignored, count) = rig.gpu.last_ignored().unwrap();
    assert_eq!(
        (ignored.class, ignored.method, ignored.param, count),
        (0x12, 0x3F0, 0xBEEF, 1)
    );
    assert_eq!(rig.reg(INTR), 0);
    // KELVIN keeps every parameter instead.
    rig.bind_new(0, CLASS_KELVIN);
    rig.ok(0, 0x0A20, 0x3F80_0000);
    assert_eq!(rig.gpu.kelvin_param(0x0A20), 0x3F80_0000);
}

#[test]
fn each_class_dispatches_its_methods() {
    let mut rig = Rig::new();
    rig.bind_new(1, CLASS_BETA1);
    rig.ok(1, 0x300, 0x4000_0000);
    rig.bind_new(2, CLASS_BETA4);
    rig.ok(2, 0x300, 0x1122_3344);
    rig.bind_new(3, CLASS_CLIP);
    rig.ok(3, 0x300, 5 << 16 | 4);
    rig.ok(3, 0x304, 7 << 16 | 6);
    rig.bind_new(4, CLASS_ROP);
    rig.ok(4, 0x300, 0x66);
    rig.bind_new(5, CLASS_PATTERN);
    rig.ok(5, 0x30C, 2);
    rig.ok(5, 0x700, 0x00AB_CDEF);
    rig.bind_new(6, CLASS_SURFACES_2D);
    rig.ok(6, 0x300, 0xA);
    rig.ok(6, 0x304, 0x200 << 16 | 0x100);
    rig.ok(6, 0x308, 0xF800_0010);
    let g = &rig.gpu;
    assert_eq!(g.context.beta, 0x4000_0000);
    assert_eq!(g.context.beta4, 0x1122_3344);
    assert_eq!(g.context.clip, [4, 5, 6, 7]);
    assert_eq!(g.context.rop, 0x66);
    assert_eq!(g.context.pattern.colors[0], 0xFFAB_CDEF);
    assert_eq!(g.surf2d.format, 0xA);
    assert_eq!(
        (g.surf2d.source_pitch(), g.surf2d.destin_pitch()),
        (0x100, 0x200)
    );
    assert_eq!(g.surf2d.offset_source, 0x0000_0010, "offsets keep 27 bits");
    assert_eq!(rig.gpu.last_ignored(), None);
}

#[test]
fn beta_keeps_eight_fraction_bits_and_clamps_negative_values() {
    for (param, beta) in [
        (0, 0),
        (0x7FFF_FFFF, 0x7F80_0000),
        (0x7F80_0000, 0x7F80_0000),
        (0x8000_0000, 0),
        (0x8FFF_FFFF, 0),
        (0x007F_FFFF, 0),
        (0x0080_0000, 0x0080_0000),
        (0x444F_FFFF, 0x4400_0000),
    ] {
        assert_eq!(context::beta_from_param(param), beta, "{param:#x}");
    }
}

#[test]
fn a_rop_wider_than_8_bits_is_a_data_error() {
    let mut rig = Rig::new();
    rig.bind_new(4, CLASS_ROP);
    assert_eq!(rig.m(4, 0x300, 0x1CC), Err(EngineError::InvalidData));
    assert_eq!(rig.reg(NSOURCE), NSOURCE_DATA_ERROR);
    assert_eq!(rig.reg(NSTATUS), NSTATUS_BAD_ARGUMENT);
    assert_eq!(rig.gpu.context.rop, 0xCC);
}

// --- Pixel formats ---

#[test]
fn clear_values_keep_their_low_bits_with_padding_forced() {
    // SET_COLOR_CLEAR_VALUE 0x804D5D6D as each format stores it.
    let cases: [(ColorFormat, &[u8]); 10] = [
        (ColorFormat::X1R5G5B5_Z1R5G5B5, &[0x6D, 0x5D]),
        (ColorFormat::X1R5G5B5_O1R5G5B5, &[0x6D, 0xDD]),
        (ColorFormat::R5G6B5, &[0x6D, 0x5D]),
        (ColorFormat::X8R8G8B8_Z8R8G8B8, &[0x6D, 0x5D, 0x4D, 0x00]),
        (ColorFormat::X8R8G8B8_O8R8G8B8, &[0x6D, 0x5D, 0x4D, 0xFF]),
        (
            ColorFormat::X1A7R8G8B8_Z1A7R8G8B8,
            &[0x6D, 0x5D, 0x4D, 0x00],
        ),
        (
            ColorFormat::X1A7R8G8B8_O1A7R8G8B8,
            &[0x6D, 0x5D, 0x4D, 0x80],
        ),
        (ColorFormat::A8R8G8B8, &[0x6D, 0x5D, 0x4D, 0x80]),
        (ColorFormat::B8, &[0x6D]),
        (ColorFormat::G8B8, &[0x6D, 0x5D]),
    ];
    for (format, bytes) in cases {
        assert_eq!(
            clear_value_bytes(format, 0x804D_5D6D).as_slice(),
            bytes,
            "{format:?}"
        );
    }
    // A7 keeps its seven bits.
    assert_eq!(
        clear_pixel(ColorFormat::X1A7R8G8B8_Z1A7R8G8B8, 0xFE0E_CE3E),
        0x7E0E_CE3E
    );
}

#[test]
fn argb_converts_to_each_format() {
    // 0x80FF8040: alpha 0x80, red 0xFF, green 0x80, blue 0x40.
    let cases: [(ColorFormat, &[u8]); 10] = [
        // 31 << 10 | 16 << 5 | 8 = 0x7E08
        (ColorFormat::X1R5G5B5_Z1R5G5B5, &[0x08, 0x7E]),
        (ColorFormat::X1R5G5B5_O1R5G5B5, &[0x08, 0xFE]),
        // 31 << 11 | 32 << 5 | 8 = 0xFC08
        (ColorFormat::R5G6B5, &[0x08, 0xFC]),
        (ColorFormat::X8R8G8B8_Z8R8G8B8, &[0x40, 0x80, 0xFF, 0x00]),
        (ColorFormat::X8R8G8B8_O8R8G8B8, &[0x40, 0x80, 0xFF, 0xFF]),
        // alpha 0x80 >> 1 = 0x40 in bits 24-30
        (
            ColorFormat::X1A7R8G8B8_Z1A7R8G8B8,
            &[0x40, 0x80, 0xFF, 0x40],
        ),
        (
            ColorFormat::X1A7R8G8B8_O1A7R8G8B8,
            &[0x40, 0x80, 0xFF, 0xC0],
        ),
        (ColorFormat::A8R8G8B8, &[0x40, 0x80, 0xFF, 0x80]),
        (ColorFormat::B8, &[0x40]),
        (ColorFormat::G8B8, &[0x40, 0x80]),
    ];
    for (format, bytes) in cases {
        assert_eq!(
            argb_to_bytes(format, 0x80FF_8040).as_slice(),
            bytes,
            "{format:?}"
        );
    }
    assert_eq!(ColorFormat::from_raw(0), None);
    assert_eq!(ColorFormat::from_raw(11), None);
    assert_eq!(ColorFormat::from_raw(8), Some(ColorFormat::A8R8G8B8));
}

#[test]
fn swizzle_interleaves_x_below_y_then_runs_on() {
    // 4x4: x0 y0 x1 y1.
    assert_eq!(swizzle_offset(1, 1, 2, 2), 3);
    assert_eq!(swizzle_offset(2, 1, 2, 2), 6);
    assert_eq!(swizzle_offset(1, 2, 2, 2), 9);
    assert_eq!(swizzle_offset(3, 3, 2, 2), 15);
    // 8x32 indexes as yyyxyxyx: x = 0b101, y = 0b10011 gives y4 y3 y2 x2 y1 x1 y0 x0.
    assert_eq!(swizzle_offset(0b101, 0b10011, 3, 5), 0b1001_1011);
    // 2x8: x0 y0 y1 y2.
    assert_eq!(swizzle_offset(1, 5, 1, 3), 0b1011);
    // 8x2: x0 y0 x1 x2.
    assert_eq!(swizzle_offset(5, 1, 3, 1), 0b1011);
}

// --- Clears ---

/// A 6x4 surface cleared over x 1-3, y 1-2, every byte else left at 0xEE.
fn clear_one(format: ColorFormat, clear_bits: u32) -> Rig {
    let mut rig = Rig::new();
    rig.kelvin();
    let bpp = format.bytes_per_pixel();
    rig.linear_surface(format as u32, 0, 6, 4, 6 * bpp);
    rig.ram[WINDOW as usize..WINDOW as usize + 128].fill(0xEE);
    rig.ok(0, SET_COLOR_CLEAR_VALUE, 0x804D_5D6D);
    rig.clear_rect(1, 3, 1, 2);
    rig.ok(0, CLEAR_SURFACE, clear_bits);
    rig
}

#[test]
fn clears_write_every_colour_format_within_the_rectangle() {
    for format in ColorFormat::ALL {
        let rig = clear_one(format, 0xF0);
        let bpp = format.bytes_per_pixel() as usize;
        let pixel = clear_value_bytes(format, 0x804D_5D6D);
        for y in 0..4 {
            for x in 0..6 {
                let at = WINDOW + (y * 6 + x) * bpp as u32;
                let inside = (1..=3).contains(&x) && (1..=2).contains(&y);
                let expect: Vec<u8> = if inside {
                    pixel.as_slice().to_vec()
                } else {
                    vec![0xEE; bpp]
                };
                assert_eq!(rig.bytes(at, bpp), &expect[..], "{format:?} at {x},{y}");
            }
        }
    }
}

#[test]
fn clear_channel_masks_select_bits() {
    // A8R8G8B8, red only: 0xEEEEEEEE keeps all but the red byte (0x4D).
    let rig = clear_one(ColorFormat::A8R8G8B8, 1 << 4);
    assert_eq!(rig.r32(WINDOW + (6 + 1) * 4), 0xEE4D_EEEE);
    // Alpha only.
    let rig = clear_one(ColorFormat::A8R8G8B8, 1 << 7);
    assert_eq!(rig.r32(WINDOW + (6 + 1) * 4), 0x80EE_EEEE);
    // X8R8G8B8_O: the padding byte goes with alpha.
    let rig = clear_one(ColorFormat::X8R8G8B8_O8R8G8B8, 1 << 7);
    assert_eq!(rig.r32(WINDOW + (6 + 1) * 4), 0xFFEE_EEEE);
    let rig = clear_one(ColorFormat::X8R8G8B8_O8R8G8B8, 0x70);
    assert_eq!(rig.r32(WINDOW + (6 + 1) * 4), 0xEE4D_5D6D);
    // R5G6B5, green only: 0xEEEE & !0x07E0 | 0x5D6D & 0x07E0 = 0xE80E | 0x0560.
    let rig = clear_one(ColorFormat::R5G6B5, 1 << 5);
    assert_eq!(rig.bytes(WINDOW + (6 + 1) * 2, 2), &0xED6Eu16.to_le_bytes());
    // X1R5G5B5_O, blue only: the padding bit is not written.
    let rig = clear_one(ColorFormat::X1R5G5B5_O1R5G5B5, 1 << 6);
    assert_eq!(rig.bytes(WINDOW + (6 + 1) * 2, 2), &0xEEEDu16.to_le_bytes());
    // G8B8, green only.
    let rig = clear_one(ColorFormat::G8B8, 1 << 5);
    assert_eq!(rig.bytes(WINDOW + (6 + 1) * 2, 2), &[0xEE, 0x5D]);
    // B8 has no red: nothing is written.
    let rig = clear_one(ColorFormat::B8, 1 << 4);
    assert_eq!(rig.bytes(WINDOW + 6 + 1, 1), &[0xEE]);
}

#[test]
fn set_color_mask_does_not_limit_a_clear() {
    let mut rig = Rig::new();
    rig.kelvin();
    rig.linear_surface(ColorFormat::A8R8G8B8 as u32, 0, 4, 4, 16);
    rig.ok(0, SET_COLOR_MASK, 0);
    rig.ok(0, SET_COLOR_CLEAR_VALUE, 0x7F7F_7F7F);
    rig.clear_rect(0, 3, 0, 3);
    rig.ok(0, CLEAR_SURFACE, 0xF3);
    assert_eq!(rig.r32(WINDOW + 60), 0x7F7F_7F7F);
}

#[test]
fn the_surface_clip_bounds_a_clear() {
    let mut rig = Rig::new();
    rig.kelvin();
    rig.linear_surface(ColorFormat::A8R8G8B8 as u32, 0, 8, 8, 32);
    // Clip to x 2-4, y 3-4; the clear rectangle covers everything.
    rig.ok(0, SET_SURFACE_CLIP_HORIZONTAL, 3 << 16 | 2);
    rig.ok(0, SET_SURFACE_CLIP_VERTICAL, 2 << 16 | 3);
    rig.ok(0, SET_COLOR_CLEAR_VALUE, 0x1234_5678);
    rig.clear_rect(0, 4095, 0, 4095);
    rig.ok(0, CLEAR_SURFACE, 0xF0);
    for y in 0..8 {
        for x in 0..8 {
            let inside = (2..5).contains(&x) && (3..5).contains(&y);
            let value = rig.r32(WINDOW + y * 32 + x * 4);
            assert_eq!(value, if inside { 0x1234_5678 } else { 0 }, "{x},{y}");
        }
    }
    // An inverted rectangle clears nothing.
    rig.ok(0, SET_COLOR_CLEAR_VALUE, 0x1111_1111);
    rig.clear_rect(5, 2, 0, 7);
    rig.ok(0, CLEAR_SURFACE, 0xF0);
    assert_eq!(rig.r32(WINDOW + 3 * 32 + 2 * 4), 0x1234_5678);
}

#[test]
fn anti_aliased_surfaces_scale_the_clear() {
    let mut rig = Rig::new();
    rig.kelvin();
    // Square-offset-4: twice as wide and high in memory.
    rig.ok(0, SET_SURFACE_FORMAT, 8 | 1 << 8 | 2 << 12);
    rig.ok(0, SET_SURFACE_PITCH, 64);
    rig.ok(0, SET_SURFACE_CLIP_HORIZONTAL, 8 << 16);
    rig.ok(0, SET_SURFACE_CLIP_VERTICAL, 8 << 16);
    rig.ok(0, SET_COLOR_CLEAR_VALUE, 0xAABB_CCDD);
    rig.clear_rect(1, 1, 1, 1);
    rig.ok(0, CLEAR_SURFACE, 0xF0);
    for (x, y, set) in [
        (2, 2, true),
        (3, 3, true),
        (1, 2, false),
        (4, 2, false),
        (2, 4, false),
    ] {
        let value = rig.r32(WINDOW + y * 64 + x * 4);
        assert_eq!(value == 0xAABB_CCDD, set, "{x},{y}");
    }
}

#[test]
fn zeta_clears_write_depth_and_stencil_separately() {
    for (bits, expect) in [
        (1, 0x1234_56EE),
        (2, 0xEEEE_EE78),
        (3, 0x1234_5678),
        (0xF0, 0xEEEE_EEEE),
    ] {
        let mut rig = Rig::new();
        rig.kelvin();
        rig.linear_surface(ColorFormat::A8R8G8B8 as u32, 2, 4, 4, 16);
        let zeta = WINDOW + 0x4_0000;
        rig.ram[zeta as usize..zeta as usize + 64].fill(0xEE);
        rig.ok(0, SET_ZSTENCIL_CLEAR_VALUE, 0x1234_5678);
        rig.clear_rect(0, 3, 0, 3);
        rig.ok(0, CLEAR_SURFACE, bits);
        assert_eq!(rig.r32(zeta + 20), expect, "bits {bits:#x}");
    }
    // Z16: the low 16 bits; it has no stencil.
    for (bits, expect) in [(1, 0x1234), (2, 0xEEEE), (3, 0x1234)] {
        let mut rig = Rig::new();
        rig.kelvin();
        rig.linear_surface(ColorFormat::R5G6B5 as u32, 1, 4, 4, 8);
        let zeta = WINDOW + 0x4_0000;
        rig.ram[zeta as usize..zeta as usize + 32].fill(0xEE);
        rig.ok(0, SET_ZSTENCIL_CLEAR_VALUE, 0xABCD_1234);
        rig.clear_rect(0, 3, 0, 3);
        rig.ok(0, CLEAR_SURFACE, bits);
        assert_eq!(
            rig.bytes(zeta + 10, 2),
            &u16::to_le_bytes(expect),
            "{bits:#x}"
        );
    }
}

#[test]
fn float_depth_is_stored_as_given() {
    let mut rig = Rig::new();
    rig.kelvin();
    rig.linear_surface(ColorFormat::A8R8G8B8 as u32, 2, 2, 2, 8);
    rig.ok(0, SET_CONTROL0, 1 << 12);
    assert!(rig.gpu.zeta_surface().float_depth);
    rig.ok(0, SET_ZSTENCIL_CLEAR_VALUE, 0x7F7F_FF00);
    rig.clear_rect(0, 1, 0, 1);
    rig.ok(0, CLEAR_SURFACE, 3);
    assert_eq!(rig.r32(WINDOW + 0x4_0000 + 12), 0x7F7F_FF00);
}

#[test]
fn swizzled_clears_follow_z_order() {
    // 4x4 A8R8G8B8, pixels (1..=2, 1..=2): indices 3, 6, 9, 12.
    let mut rig = Rig::new();
    rig.kelvin();
    rig.ok(0, SET_SURFACE_FORMAT, 8 | 2 << 8 | 2 << 16 | 2 << 24);
    rig.ok(0, SET_SURFACE_CLIP_HORIZONTAL, 4 << 16);
    rig.ok(0, SET_SURFACE_CLIP_VERTICAL, 4 << 16);
    rig.ok(0, SET_COLOR_CLEAR_VALUE, 0xCAFE_F00D);
    rig.clear_rect(1, 2, 1, 2);
    rig.ok(0, CLEAR_SURFACE, 0xF0);
    for index in 0..16 {
        let set = [3, 6, 9, 12].contains(&index);
        assert_eq!(rig.r32(WINDOW + index * 4) == 0xCAFE_F00D, set, "{index}");
    }

    // 8x2 R5G6B5, row 1: indices 2, 3, 6, 7, 10, 11, 14, 15.
    let mut rig = Rig::new();
    rig.kelvin();
    rig.ok(0, SET_SURFACE_FORMAT, 3 | 2 << 8 | 3 << 16 | 1 << 24);
    rig.ok(0, SET_SURFACE_CLIP_HORIZONTAL, 8 << 16);
    rig.ok(0, SET_SURFACE_CLIP_VERTICAL, 2 << 16);
    rig.ok(0, SET_COLOR_CLEAR_VALUE, 0xBEEF);
    rig.clear_rect(0, 7, 1, 1);
    rig.ok(0, CLEAR_SURFACE, 0xF0);
    for index in 0..16 {
        let set = [2, 3, 6, 7, 10, 11, 14, 15].contains(&index);
        let value = rig.bytes(WINDOW + index * 2, 2) == 0xBEEFu16.to_le_bytes();
        assert_eq!(value, set, "{index}");
    }

    // 2x8 B8, pixel (1, 5): index 11. The clip cannot reach past the surface.
    let mut rig = Rig::new();
    rig.kelvin();
    rig.ok(0, SET_SURFACE_FORMAT, 9 | 2 << 8 | 1 << 16 | 3 << 24);
    rig.ok(0, SET_SURFACE_CLIP_HORIZONTAL, 100 << 16);
    rig.ok(0, SET_SURFACE_CLIP_VERTICAL, 100 << 16);
    rig.ok(0, SET_COLOR_CLEAR_VALUE, 0x5A);
    rig.clear_rect(1, 50, 5, 5);
    rig.ok(0, CLEAR_SURFACE, 0xF0);
    assert_eq!(rig.bytes(WINDOW, 17), {
        let mut v = [0u8; 17];
        v[11] = 0x5A;
        v
    });
}

#[test]
fn a_clear_beyond_its_window_faults_without_writing() {
    let mut rig = Rig::new();
    rig.bind_new(0, CLASS_KELVIN);
    let small = rig.dma(WINDOW, 63);
    rig.ok(0, SET_CONTEXT_DMA_COLOR, small);
    rig.ok(0, SET_CONTEXT_DMA_ZETA, small);
    rig.linear_surface(ColorFormat::A8R8G8B8 as u32, 0, 8, 8, 32);
    rig.ok(0, SET_COLOR_CLEAR_VALUE, 0xFFFF_FFFF);
    rig.clear_rect(0, 7, 0, 7);
    assert_eq!(rig.m(0, CLEAR_SURFACE, 0xF0), Err(EngineError::InvalidData));
    assert_eq!(rig.reg(NSOURCE), NSOURCE_LIMIT_COLOR);
    assert_eq!(rig.reg(NSTATUS), NSTATUS_PROTECTION_FAULT);
    assert!(rig.bytes(WINDOW, 256).iter().all(|&b| b == 0));
    // A 2x2 colour clear fits in 64 bytes; zeta's offset (0x40000) is past the window.
    rig.ack();
    rig.ok(0, SET_SURFACE_FORMAT, 8 | 2 << 4 | 1 << 8);
    rig.clear_rect(0, 1, 0, 1);
    assert_eq!(rig.m(0, CLEAR_SURFACE, 0xF3), Err(EngineError::InvalidData));
    assert_eq!(rig.reg(NSOURCE), NSOURCE_LIMIT_ZETA);
    assert_eq!(rig.r32(WINDOW + 32 + 4), 0xFFFF_FFFF);
}

#[test]
fn the_colour_surface_is_visible_to_scan_out() {
    let mut rig = Rig::new();
    rig.kelvin();
    rig.linear_surface(ColorFormat::X8R8G8B8_Z8R8G8B8 as u32, 2, 640, 480, 2560);
    rig.ok(0, SET_SURFACE_COLOR_OFFSET, 0x100);
    rig.ok(0, SET_SURFACE_CLIP_HORIZONTAL, 640 << 16 | 3);
    let s = rig.gpu.color_surface();
    assert_eq!(s.format, Some(ColorFormat::X8R8G8B8_Z8R8G8B8));
    assert_eq!(s.pitch, 2560);
    assert_eq!(s.offset, 0x100);
    assert_eq!(s.address, Some(WINDOW + 0x100));
    assert!(!s.shape.swizzled);
    assert_eq!(s.shape.anti_aliasing, AntiAliasing::Center1);
    assert_eq!(
        s.shape.clip,
        SurfaceClip {
            x: 3,
            y: 0,
            width: 640,
            height: 480
        }
    );
    let z = rig.gpu.zeta_surface();
    assert_eq!(z.format, Some(ZetaFormat::Z24S8));
    assert_eq!(z.address, Some(WINDOW + 0x4_0000));
    // An offset past the window has no address.
    rig.ok(0, SET_SURFACE_COLOR_OFFSET, WINDOW_LIMIT + 1);
    assert_eq!(rig.gpu.color_surface().address, None);
}

// --- Image blit ---

/// BLIT on 3, SURFACES_2D on 4 (source and destination both over [`WINDOW`], pitch 64).
fn blit_rig(format: Format2d) -> Rig {
    let mut rig = Rig::new();
    rig.bind_new(3, CLASS_IMAGE_BLIT);
    let surfaces = rig.bind_new(4, CLASS_SURFACES_2D);
    let window = rig.dma(WINDOW, WINDOW_LIMIT);
    rig.ok(4, 0x184, window);
    rig.ok(4, 0x188, window);
    rig.ok(4, 0x300, format as u32);
    rig.ok(4, 0x304, 64 << 16 | 64);
    rig.ok(4, 0x308, 0);
    rig.ok(4, 0x30C, 0);
    rig.ok(3, 0x19C, surfaces);
    rig
}

fn blit(rig: &mut Rig, operation: u32, from: (u32, u32), to: (u32, u32), size: (u32, u32)) {
    rig.ok(3, 0x2FC, operation);
    rig.ok(3, 0x300, from.1 << 16 | from.0);
    rig.ok(3, 0x304, to.1 << 16 | to.0);
    rig.ok(3, 0x308, size.1 << 16 | size.0);
}

/// Fills the 16x16 A8R8G8B8 surface with distinct values.
fn numbered(rig: &mut Rig) -> Vec<u32> {
    let values: Vec<u32> = (0..256).map(|i| (i << 24) | (i * 0x0001_0101)).collect();
    for (i, v) in values.iter().enumerate() {
        let (x, y) = (i as u32 % 16, i as u32 / 16);
        rig.w32(WINDOW + y * 64 + x * 4, *v);
    }
    values
}

/// What a copy through a temporary buffer gives.
fn copied(
    before: &[u32],
    from: (usize, usize),
    to: (usize, usize),
    (w, h): (usize, usize),
) -> Vec<u32> {
    let mut after = before.to_vec();
    for y in 0..h {
        for x in 0..w {
            after[(to.1 + y) * 16 + to.0 + x] = before[(from.1 + y) * 16 + from.0 + x];
        }
    }
    after
}

fn surface(rig: &Rig) -> Vec<u32> {
    (0..256)
        .map(|i| rig.r32(WINDOW + (i / 16) * 64 + (i % 16) * 4))
        .collect()
}

#[test]
fn srccopy_handles_overlap_in_both_directions() {
    for (from, to, size) in [
        ((2, 2), (4, 5), (6, 5)),
        ((4, 5), (2, 2), (6, 5)),
        ((1, 3), (3, 3), (8, 2)),
        ((3, 3), (1, 3), (8, 2)),
        ((0, 0), (0, 0), (16, 16)),
    ] {
        let mut rig = blit_rig(Format2d::A8R8G8B8);
        let before = numbered(&mut rig);
        blit(&mut rig, 3, (from.0, from.1), (to.0, to.1), size);
        let expect = copied(
            &before,
            (from.0 as usize, from.1 as usize),
            (to.0 as usize, to.1 as usize),
            (size.0 as usize, size.1 as usize),
        );
        assert_eq!(surface(&rig), expect, "{from:?} -> {to:?}");
    }
}

#[test]
fn srccopy_forces_the_padding_of_x_formats() {
    let mut rig = blit_rig(Format2d::X8R8G8B8_Z8R8G8B8);
    rig.w32(WINDOW, 0x8811_2233);
    blit(&mut rig, 3, (0, 0), (1, 0), (1, 1));
    assert_eq!(rig.r32(WINDOW + 4), 0x0011_2233);
    let mut rig = blit_rig(Format2d::X8R8G8B8_O8R8G8B8);
    rig.w32(WINDOW, 0x0011_2233);
    blit(&mut rig, 3, (0, 0), (1, 0), (1, 1));
    assert_eq!(rig.r32(WINDOW + 4), 0xFF11_2233);
}

#[test]
fn blend_and_mixes_by_beta() {
    // Source 0x80FF_0040 at (0,0), destination 0x4000_FF80 at (1,0).
    for (beta, expect) in [
        // beta 0: the destination stays.
        (0, 0x4000_FF80),
        // Negative: clamped to 0.
        (0x8000_0000, 0x4000_FF80),
        (0x8FFF_FFFF, 0x4000_FF80),
        // 0x7FFFFFFF keeps 0x7F800000: all source (the destination's alpha stays).
        (0x7FFF_FFFF, 0x40FF_0040),
        // b = 0x80: red (255*128)/255 = 128, green (255*127)/255 = 127,
        // blue (0x40*128 + 0x80*127)/255 = (8192 + 16256)/255 = 95.
        (0x4000_0000, 0x4080_7F5F),
    ] {
        let mut rig = blit_rig(Format2d::A8R8G8B8);
        rig.bind_new(5, CLASS_BETA1);
        rig.ok(5, 0x300, beta);
        rig.w32(WINDOW, 0x80FF_0040);
        rig.w32(WINDOW + 4, 0x4000_FF80);
        blit(&mut rig, 2, (0, 0), (1, 0), (1, 1));
        assert_eq!(rig.r32(WINDOW + 4), expect, "beta {beta:#x}");
    }
    // X8R8G8B8_Z: the alpha byte comes out 0.
    let mut rig = blit_rig(Format2d::X8R8G8B8_Z8R8G8B8);
    rig.bind_new(5, CLASS_BETA1);
    rig.ok(5, 0x300, 0x7F80_0000);
    rig.w32(WINDOW, 0x80FF_0040);
    rig.w32(WINDOW + 4, 0x4000_FF80);
    blit(&mut rig, 2, (0, 0), (1, 0), (1, 1));
    assert_eq!(rig.r32(WINDOW + 4), 0x00FF_0040);
    // R5G6B5 blends each field: source red 31, green 0, blue 0; destination 0, 63, 31.
    let mut rig = blit_rig(Format2d::R5G6B5);
    rig.bind_new(5, CLASS_BETA1);
    rig.ok(5, 0x300, 0x4000_0000);
    rig.ram[WINDOW as usize..WINDOW as usize + 4].copy_from_slice(&[0x00, 0xF8, 0xFF, 0x07]);
    blit(&mut rig, 2, (0, 0), (1, 0), (1, 1));
    // red 31*128/255 = 15, green 63*127/255 = 31, blue 31*127/255 = 15.
    let expect: u16 = 15 << 11 | 31 << 5 | 15;
    assert_eq!(rig.bytes(WINDOW + 2, 2), &expect.to_le_bytes());
}

#[test]
fn rop_and_combines_pattern_source_and_destination() {
    let mut rig = blit_rig(Format2d::A8R8G8B8);
    rig.bind_new(5, CLASS_ROP);
    rig.bind_new(6, CLASS_PATTERN);
    // A colour pattern: entry i is 0x000000i0.
    rig.ok(6, 0x30C, 2);
    for i in 0..64 {
        rig.ok(6, 0x700 + 4 * i, i << 4);
    }
    rig.w32(WINDOW, 0x0F0F_0F0F);
    rig.w32(WINDOW + 64 + 8, 0x00FF_00FF);
    // 0x66: source XOR destination.
    rig.ok(5, 0x300, 0x66);
    blit(&mut rig, 1, (0, 0), (2, 1), (1, 1));
    assert_eq!(rig.r32(WINDOW + 64 + 8), 0x0FF0_0FF0);
    // 0xF0: the pattern, at the destination (2, 1): entry 10; opaque.
    rig.ok(5, 0x300, 0xF0);
    blit(&mut rig, 1, (0, 0), (2, 1), (1, 1));
    assert_eq!(rig.r32(WINDOW + 64 + 8), 0xFF00_00A0);
    // 0xCC copies the source.
    rig.ok(5, 0x300, 0xCC);
    blit(&mut rig, 1, (0, 0), (2, 1), (1, 1));
    assert_eq!(rig.r32(WINDOW + 64 + 8), 0x0F0F_0F0F);
    assert_eq!(
        soft::rop3(0xAA, 0, 0, 0x1234),
        0x1234,
        "0xAA keeps the destination"
    );
}

#[test]
fn monochrome_patterns_expand_by_bit_order() {
    let mut p = context::Pattern::default();
    p.method(0x310, 0x0000_0000);
    p.method(0x314, 0x00FF_FFFF);
    p.method(0x318, 0x0000_0081);
    // LE: bits 0 and 7 of the first byte are pixels 0 and 7.
    p.method(0x304, 2);
    let (shape, table) = p.table();
    assert_eq!(shape, context::PatternShape::Square8x8);
    assert_eq!(
        (table[0], table[1], table[7]),
        (0x00FF_FFFF, 0, 0x00FF_FFFF)
    );
    // CGA6: the top bit is the leftmost pixel; 0x81 is symmetric, so use 0x01.
    p.method(0x318, 0x0000_0001);
    p.method(0x304, 1);
    let (_, table) = p.table();
    assert_eq!((table[0], table[7]), (0, 0x00FF_FFFF));
    // 64x1 shapes index by x alone.
    p.method(0x308, 1);
    assert_eq!(p.table().0.index(70, 9), 6);
}

#[test]
fn the_clip_object_bounds_a_blit() {
    let run = |clip: Option<(u32, u32, u32, u32)>| {
        let mut rig = blit_rig(Format2d::A8R8G8B8);
        let object = match clip {
            Some((x, y, w, h)) => {
                let object = rig.bind_new(5, CLASS_CLIP);
                rig.ok(5, 0x300, y << 16 | x);
                rig.ok(5, 0x304, h << 16 | w);
                object
            }
            None => rig.object(CLASS_NULL),
        };
        rig.ok(3, 0x188, object);
        let before = numbered(&mut rig);
        blit(&mut rig, 3, (0, 0), (4, 4), (8, 8));
        (before, surface(&rig))
    };
    // A 2x3 clip at (5, 6): only those pixels change, taking the source shifted by (1, 2).
    let (before, after) = run(Some((5, 6, 2, 3)));
    for y in 0..16 {
        for x in 0..16 {
            let inside = (5..7).contains(&x) && (6..9).contains(&y);
            let expect = if inside {
                before[(y - 4) * 16 + x - 4]
            } else {
                before[y * 16 + x]
            };
            assert_eq!(after[y * 16 + x], expect, "{x},{y}");
        }
    }
    // An empty clip draws nothing; the NULL object draws everything.
    let (before, after) = run(Some((4, 4, 0, 0)));
    assert_eq!(before, after);
    let (before, after) = run(None);
    assert_eq!(after, copied(&before, (0, 0), (4, 4), (8, 8)));
}

#[test]
fn blits_check_both_windows() {
    let mut rig = blit_rig(Format2d::A8R8G8B8);
    let small = rig.dma(WINDOW, 255);
    rig.ok(4, 0x184, small);
    // Rows 0-1 of the source fit in 256 bytes; rows 3-4 do not.
    rig.ok(3, 0x308, 2 << 16 | 2);
    rig.ok(3, 0x300, 3 << 16);
    assert_eq!(rig.m(3, 0x308, 2 << 16 | 2), Err(EngineError::InvalidData));
    assert_eq!(rig.reg(NSOURCE), NSOURCE_DMA_R_PROTECTION);
    rig.ack();
    rig.ok(3, 0x300, 0);
    rig.ok(4, 0x188, small);
    rig.ok(3, 0x304, 4 << 16);
    assert_eq!(rig.m(3, 0x308, 2 << 16 | 2), Err(EngineError::InvalidData));
    assert_eq!(rig.reg(NSOURCE), NSOURCE_DMA_W_PROTECTION);
    rig.ack();
    // An undefined surface format.
    rig.ok(4, 0x300, 0);
    assert_eq!(rig.m(3, 0x308, 1 << 16 | 1), Err(EngineError::InvalidData));
    assert_eq!(rig.reg(NSOURCE), NSOURCE_FORMAT_EXCEPTION);
    rig.ack();
    // An undefined operation.
    assert_eq!(rig.m(3, 0x2FC, 6), Err(EngineError::InvalidData));
    assert_eq!(rig.reg(NSOURCE), NSOURCE_DATA_ERROR);
}

// --- GDI ---

#[test]
fn gdi_fills_rectangles_in_the_destination_format() {
    let mut rig = Rig::new();
    rig.bind_new(4, CLASS_SURFACES_2D);
    let window = rig.dma(WINDOW, WINDOW_LIMIT);
    rig.ok(4, 0x188, window);
    rig.ok(4, 0x300, Format2d::R5G6B5 as u32);
    rig.ok(4, 0x304, 32 << 16);
    rig.bind_new(2, CLASS_GDI);
    rig.ok(2, 0x2FC, 3);
    rig.ok(2, 0x300, 3);
    rig.ok(2, 0x3FC, 0x00FF_0000);
    // Point: y low, x high. Size: height low, width high.
    rig.ok(2, 0x408, 1 << 16 | 2);
    rig.ok(2, 0x40C, 3 << 16 | 2);
    for y in 0..4u32 {
        for x in 0..8u32 {
            let inside = (1..4).contains(&x) && (2..4).contains(&y);
            let expect: u16 = if inside { 0xF800 } else { 0 };
            assert_eq!(
                rig.bytes(WINDOW + y * 32 + x * 2, 2),
                &expect.to_le_bytes(),
                "{x},{y}"
            );
        }
    }
}

// --- Solid lines ---

/// SURFACES_2D as the NV04 class 0x42 on 4 (A8R8G8B8 destination over [`WINDOW`], pitch 32:
/// 8 pixels a row), SOLID_LINE on 2 in SRCCOPY with X8R8G8B8 colours.
fn line_rig() -> Rig {
    let mut rig = Rig::new();
    rig.bind_new(4, CLASS_SURFACES_2D_NV04);
    let window = rig.dma(WINDOW, WINDOW_LIMIT);
    rig.ok(4, 0x188, window);
    rig.ok(4, 0x300, Format2d::A8R8G8B8 as u32);
    rig.ok(4, 0x304, 32 << 16 | 32);
    let surfaces = rig.object(CLASS_SURFACES_2D_NV04);
    rig.bind_new(2, CLASS_SOLID_LINE);
    rig.ok(2, 0x198, surfaces);
    rig.ok(2, 0x2FC, 3);
    rig.ok(2, 0x300, 3);
    rig.ok(2, 0x304, 0x00FF_FFFF);
    rig
}

/// The pixels of the 8x8 line surface that are not 0.
fn lit(rig: &Rig) -> Vec<(u32, u32)> {
    let mut pixels = Vec::new();
    for y in 0..8 {
        for x in 0..8 {
            if rig.r32(WINDOW + y * 32 + x * 4) != 0 {
                pixels.push((x, y));
            }
        }
    }
    pixels
}

fn xy(x: u32, y: u32) -> u32 {
    y << 16 | x
}

#[test]
fn the_nv04_surfaces_class_takes_the_nv10_methods() {
    assert_eq!(
        Class::from_id(CLASS_SURFACES_2D_NV04),
        Some(Class::Surfaces2d)
    );
    let rig = line_rig();
    assert_eq!(rig.gpu.last_ignored(), None);
}

/// Worked by hand from envytools' lin rule (docs/hw/graph/2d/solid.rst): walk the major axis
/// in the direction of increasing minor coordinate, step the minor coordinate when the error
/// (starting at 0, plus 2*dmin a pixel) reaches dmaj, subtracting 2*dmaj; leave out the end
/// point given second.
#[test]
fn lins_follow_the_documented_bresenham_walk() {
    type Point = (u32, u32);
    let cases: [(Point, Point, &[Point]); 7] = [
        // Horizontal and vertical: the end pixel is left out.
        ((1, 1), (5, 1), &[(1, 1), (2, 1), (3, 1), (4, 1)]),
        ((2, 0), (2, 3), &[(2, 0), (2, 1), (2, 2)]),
        // Going left: the start pixel is drawn, the end one is not.
        ((5, 1), (1, 1), &[(2, 1), (3, 1), (4, 1), (5, 1)]),
        // x-major, dmaj 4, dmin 2: errors 0, 4 (step, -4), 0, 4 (step, -4): (4,2) is the end.
        ((0, 0), (4, 2), &[(0, 0), (1, 1), (2, 1), (3, 2)]),
        // The same lin given the other way: walked the same way (increasing y), so the
        // pixels are the same but for which end is left out.
        ((4, 2), (0, 0), &[(1, 1), (2, 1), (3, 2), (4, 2)]),
        // y-major, dmaj 3, dmin 1: errors 0, 2, 4 (step at the third pixel).
        ((6, 0), (7, 3), &[(6, 0), (6, 1), (7, 2)]),
        // Of no length: its only pixel is the end point.
        ((3, 3), (3, 3), &[]),
    ];
    for (from, to, expect) in cases {
        let mut rig = line_rig();
        rig.ok(2, 0x400, xy(from.0, from.1));
        rig.ok(2, 0x404, xy(to.0, to.1));
        let mut expect = expect.to_vec();
        expect.sort_by_key(|&(x, y)| (y, x));
        assert_eq!(lit(&rig), expect, "{from:?} to {to:?}");
    }
}

#[test]
fn line32_and_polylines_draw_lins_between_their_points() {
    let mut rig = line_rig();
    // LINE32: start x, start y, end x, end y; the fourth draws.
    rig.ok(2, 0x490, 0);
    rig.ok(2, 0x494, 0);
    rig.ok(2, 0x498, 3);
    assert_eq!(lit(&rig), []);
    rig.ok(2, 0x49C, 0);
    assert_eq!(lit(&rig), [(0, 0), (1, 0), (2, 0)]);
    // A polyline (0,2) - (2,2) - (2,4): two lins, each without its end point; the last point
    // is not drawn.
    let mut rig = line_rig();
    rig.ok(2, 0x500, xy(0, 2));
    assert_eq!(lit(&rig), []);
    rig.ok(2, 0x504, xy(2, 2));
    rig.ok(2, 0x508, xy(2, 4));
    assert_eq!(lit(&rig), [(0, 2), (1, 2), (2, 2), (2, 3)]);
    // POLYLINE32 the same way; another method starts a new polyline.
    let mut rig = line_rig();
    rig.ok(2, 0x580, 5);
    rig.ok(2, 0x584, 0);
    rig.ok(2, 0x304, 0x00FF_FFFF);
    rig.ok(2, 0x588, 7);
    rig.ok(2, 0x58C, 0);
    assert_eq!(lit(&rig), []);
    rig.ok(2, 0x590, 7);
    rig.ok(2, 0x594, 2);
    assert_eq!(lit(&rig), [(7, 0), (7, 1)]);
    // CPOLYLINE: each point with its own colour (the colour set before the point).
    let mut rig = line_rig();
    rig.ok(2, 0x600, 0x0000_00FF);
    rig.ok(2, 0x604, xy(0, 5));
    rig.ok(2, 0x608, 0x0000_FF00);
    rig.ok(2, 0x60C, xy(2, 5));
    assert_eq!(lit(&rig), [(0, 5), (1, 5)]);
    assert_eq!(rig.r32(WINDOW + 5 * 32), 0xFF00_FF00);
}

#[test]
fn line_colours_convert_to_the_destination_format() {
    // (COLOR_FORMAT, COLOR, the A8R8G8B8 pixel): 5- and 6-bit components widen by repeating
    // their top bits; the surface's alpha is opaque.
    for (format, color, pixel) in [
        (1, 0x07E0, 0xFF00_FF00u32),
        (1, 0x8010, 0xFF84_0084),
        (2, 0x03E0, 0xFF00_FF00),
        (2, 0x4010, 0xFF84_0084),
        (3, 0xFFFF_FFFF, 0xFFFF_FFFF),
        (3, 0x0012_3456, 0xFF12_3456),
    ] {
        let mut rig = line_rig();
        rig.ok(2, 0x300, format);
        rig.ok(2, 0x304, color);
        rig.ok(2, 0x400, xy(1, 1));
        rig.ok(2, 0x404, xy(2, 1));
        assert_eq!(rig.r32(WINDOW + 32 + 4), pixel, "{format} {color:#x}");
        assert_eq!(lit(&rig), [(1, 1)]);
    }
}

#[test]
fn the_clip_object_and_the_window_bound_a_line() {
    let mut rig = line_rig();
    let clip = rig.bind_new(5, CLASS_CLIP);
    rig.ok(5, 0x300, xy(2, 0));
    rig.ok(5, 0x304, xy(3, 8));
    rig.ok(2, 0x184, clip);
    rig.ok(2, 0x400, xy(0, 1));
    rig.ok(2, 0x404, xy(7, 1));
    assert_eq!(lit(&rig), [(2, 1), (3, 1), (4, 1)]);
    // Off the left edge: pixels at negative x are not drawn, the walk goes on.
    let mut rig = line_rig();
    rig.ok(2, 0x400, 0xFFFE);
    rig.ok(2, 0x404, xy(2, 0));
    assert_eq!(lit(&rig), [(0, 0), (1, 0)]);
    // A pixel past the window's limit faults.
    let mut rig = line_rig();
    let small = rig.dma(WINDOW, 32 * 4 - 1);
    rig.ok(4, 0x188, small);
    rig.ok(2, 0x400, xy(0, 2));
    assert_eq!(rig.m(2, 0x404, xy(0, 6)), Err(EngineError::InvalidData));
    assert_eq!(
        rig.reg(NSOURCE) & NSOURCE_DMA_W_PROTECTION,
        NSOURCE_DMA_W_PROTECTION
    );
    // A bad operation is a data error.
    let mut rig = line_rig();
    assert_eq!(rig.m(2, 0x2FC, 6), Err(EngineError::InvalidData));
}

// --- M2MF ---

fn m2mf_rig() -> (Rig, u32) {
    let mut rig = Rig::new();
    rig.bind_new(1, CLASS_M2MF);
    let window = rig.dma(WINDOW, WINDOW_LIMIT);
    let notify = rig.dma(0x800, 0x1F);
    rig.ok(1, 0x180, notify);
    rig.ok(1, 0x184, window);
    rig.ok(1, 0x188, window);
    (rig, window)
}

#[test]
fn m2mf_copies_lines_with_pitches_and_notifies() {
    let (mut rig, _) = m2mf_rig();
    for i in 0..64 {
        rig.ram[(WINDOW + i) as usize] = i as u8 + 1;
    }
    rig.ram[0x800..0x820].fill(0xEE);
    rig.gpu.set_time(0x0123_4567_89AB_CDEF);
    rig.ok(1, 0x30C, 0);
    rig.ok(1, 0x310, 0x1000);
    rig.ok(1, 0x314, 8);
    rig.ok(1, 0x318, 16);
    rig.ok(1, 0x31C, 5);
    rig.ok(1, 0x320, 3);
    rig.ok(1, 0x324, 0x101);
    rig.ok(1, 0x328, 0);
    for line in 0..3u32 {
        let expect: Vec<u8> = (0..5).map(|k| (line * 8 + k) as u8 + 1).collect();
        assert_eq!(rig.bytes(WINDOW + 0x1000 + line * 16, 5), &expect[..]);
        assert_eq!(rig.bytes(WINDOW + 0x1000 + line * 16 + 5, 11), &[0; 11]);
    }
    // The M2MF notifier at 0x10: time, then two zero words; notifier 0 untouched.
    assert_eq!(rig.bytes(0x810, 8), &0x0123_4567_89AB_CDEFu64.to_le_bytes());
    assert_eq!(rig.bytes(0x818, 8), &[0; 8]);
    assert_eq!(rig.bytes(0x800, 16), &[0xEE; 16]);
    assert_eq!(rig.reg(INTR), 0);
    // WRITE_THEN_AWAKEN raises BUFFER_NOTIFY.
    rig.ok(1, 0x328, 1);
    assert_eq!(rig.reg(INTR), INTR_BUFFER_NOTIFY);
}

#[test]
fn m2mf_takes_negative_pitches_and_strides() {
    let (mut rig, _) = m2mf_rig();
    for i in 0..32 {
        rig.ram[(WINDOW + i) as usize] = i as u8;
    }
    // Two lines read bottom-up: line 0 at 16, line 1 at 8.
    rig.ok(1, 0x30C, 16);
    rig.ok(1, 0x310, 0x100);
    rig.ok(1, 0x314, (-8i32) as u32);
    rig.ok(1, 0x318, 4);
    rig.ok(1, 0x31C, 4);
    rig.ok(1, 0x320, 2);
    rig.ok(1, 0x328, 0);
    assert_eq!(
        rig.bytes(WINDOW + 0x100, 8),
        &[16, 17, 18, 19, 8, 9, 10, 11]
    );
    // Input increment 2: every other byte.
    rig.ok(1, 0x30C, 0);
    rig.ok(1, 0x310, 0x200);
    rig.ok(1, 0x320, 1);
    rig.ok(1, 0x324, 0x102);
    rig.ok(1, 0x328, 0);
    assert_eq!(rig.bytes(WINDOW + 0x200, 4), &[0, 2, 4, 6]);
}

#[test]
fn m2mf_faults_past_a_window_limit_and_on_bad_formats() {
    let (mut rig, _) = m2mf_rig();
    let small = rig.dma(WINDOW, 99);
    rig.ok(1, 0x184, small);
    rig.ok(1, 0x30C, 0);
    rig.ok(1, 0x310, 0x1000);
    rig.ok(1, 0x314, 50);
    rig.ok(1, 0x318, 50);
    rig.ok(1, 0x31C, 50);
    rig.ok(1, 0x320, 2);
    // Lines 0-1 end at byte 99: fits.
    rig.ok(1, 0x328, 0);
    rig.ok(1, 0x320, 3);
    rig.ram[(WINDOW + 0x1000 + 100) as usize..(WINDOW + 0x1000 + 150) as usize].fill(0xEE);
    assert_eq!(rig.m(1, 0x328, 0), Err(EngineError::InvalidData));
    assert_eq!(rig.reg(NSOURCE), NSOURCE_DMA_R_PROTECTION);
    assert_eq!(rig.reg(TRAPPED_ADDR) & 0x1FFF, 0x328);
    assert!(
        rig.bytes(WINDOW + 0x1000 + 100, 50)
            .iter()
            .all(|&b| b == 0xEE),
        "nothing is copied"
    );
    rig.ack();
    // The output window.
    rig.ok(1, 0x184, rig.gpu.m2mf.dma_out_instance);
    rig.ok(1, 0x188, small);
    assert_eq!(rig.m(1, 0x328, 0), Err(EngineError::InvalidData));
    assert_eq!(rig.reg(NSOURCE), NSOURCE_DMA_W_PROTECTION);
    rig.ack();
    // A negative start.
    rig.ok(1, 0x188, rig.gpu.m2mf.dma_in_instance);
    rig.ok(1, 0x314, (-100i32) as u32);
    assert_eq!(rig.m(1, 0x328, 0), Err(EngineError::InvalidData));
    rig.ack();
    // Increments other than 1, 2, 4.
    rig.ok(1, 0x314, 50);
    rig.ok(1, 0x324, 0x103);
    assert_eq!(rig.m(1, 0x328, 0), Err(EngineError::InvalidData));
    assert_eq!(rig.reg(NSOURCE), NSOURCE_DATA_ERROR);
}

// --- Notifiers, semaphores, flips ---

#[test]
fn notify_writes_after_the_next_method() {
    let mut rig = Rig::new();
    rig.bind_new(2, CLASS_BETA1);
    let notify = rig.dma(0x900, 0xF);
    rig.ok(2, DMA_NOTIFY, notify);
    rig.ram[0x900..0x910].fill(0xEE);
    rig.gpu.set_time(0x1122_3344_5566_7788);
    rig.ok(2, NOTIFY, 0);
    assert_eq!(rig.bytes(0x900, 16), &[0xEE; 16], "not yet");
    rig.gpu.set_time(0x99);
    rig.ok(2, NOP, 0);
    let mut expect = [0u8; 16];
    expect[0] = 0x99;
    assert_eq!(rig.bytes(0x900, 16), &expect);
    assert_eq!(rig.reg(INTR), 0);
    // Type 1 also raises NOTIFY.
    rig.ok(2, NOTIFY, 1);
    rig.ok(2, 0x300, 0);
    assert_eq!(rig.reg(INTR), INTR_NOTIFY);
    assert!(!rig.gpu.busy(), "NOTIFY does not hold the FIFO");
    // Type 2 is NV3's; NV4+ call it an invalid value.
    assert_eq!(rig.m(2, NOTIFY, 2), Err(EngineError::InvalidData));
    assert_eq!(rig.reg(NSOURCE), NSOURCE_DATA_ERROR);
    rig.ack();
    rig.ok(2, NOTIFY, 0);
    assert_eq!(rig.m(2, NOTIFY, 0), Err(EngineError::InvalidData));
    assert_eq!(rig.reg(NSOURCE), NSOURCE_DOUBLE_NOTIFY);
}

#[test]
fn kelvin_nop_notifies_and_a_notify_needs_a_window() {
    let mut rig = Rig::new();
    rig.bind_new(0, CLASS_KELVIN);
    assert_eq!(rig.m(0, NOTIFY, 0), Err(EngineError::InvalidData));
    assert_eq!(rig.reg(NSOURCE), NSOURCE_STATE_INVALID);
    rig.ack();
    let notify = rig.dma(0xA00, 0xF);
    rig.ok(0, SET_CONTEXT_DMA_NOTIFIES, notify);
    rig.ram[0xA00..0xA10].fill(0xEE);
    rig.gpu.set_time(5);
    rig.ok(0, NOTIFY, 0);
    rig.ok(0, NO_OPERATION, 0);
    assert_eq!(
        rig.bytes(0xA00, 16),
        &[5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    // A notify window beyond its limit faults at the write.
    let tiny = rig.dma(0xA00, 7);
    rig.ok(0, SET_CONTEXT_DMA_NOTIFIES, tiny);
    rig.ok(0, NOTIFY, 0);
    assert_eq!(rig.m(0, NO_OPERATION, 0), Err(EngineError::InvalidData));
    assert_eq!(rig.reg(NSOURCE), NSOURCE_DMA_W_PROTECTION);
}

#[test]
fn a_nop_with_a_parameter_traps_to_software() {
    let mut rig = Rig::new();
    rig.bind_new(0, CLASS_KELVIN);
    rig.gpu.write(INTR_EN, 4, INTR_ERROR);
    rig.ok(0, NO_OPERATION, 0);
    assert!(!rig.gpu.pending());
    rig.ok(0, NO_OPERATION, 0x42);
    assert!(rig.gpu.pending());
    assert_eq!(rig.reg(NSOURCE), NSOURCE_NOTIFICATION);
    assert_eq!(rig.reg(TRAPPED_ADDR) & 0x1FFF, 0x100);
    assert_eq!(rig.reg(TRAPPED_DATA_LOW), 0x42);
    assert!(rig.gpu.busy());
    rig.gpu.write(INTR, 4, INTR_ERROR);
    rig.gpu.write(FIFO, 4, FIFO_ACCESS);
    assert!(!rig.gpu.busy());
}

#[test]
fn semaphore_release_writes_through_its_window() {
    let mut rig = Rig::new();
    rig.bind_new(0, CLASS_KELVIN);
    let semaphore = rig.dma(0x2000, 0xFF);
    rig.ok(0, SET_CONTEXT_DMA_SEMAPHORE, semaphore);
    rig.ok(0, SET_SEMAPHORE_OFFSET, 0x20);
    rig.ok(0, BACK_END_WRITE_SEMAPHORE_RELEASE, 0xCAFE_BABE);
    assert_eq!(rig.r32(0x2020), 0xCAFE_BABE);
    rig.ok(0, SET_SEMAPHORE_OFFSET, 0xFC);
    rig.ok(0, BACK_END_WRITE_SEMAPHORE_RELEASE, 7);
    assert_eq!(rig.r32(0x20FC), 7);
    rig.ok(0, SET_SEMAPHORE_OFFSET, 0xFD);
    assert_eq!(
        rig.m(0, BACK_END_WRITE_SEMAPHORE_RELEASE, 9),
        Err(EngineError::InvalidData)
    );
    assert_eq!(rig.reg(NSOURCE), NSOURCE_DMA_W_PROTECTION);
    assert_eq!(rig.r32(0x2100), 0);
}

#[test]
fn flip_methods_count_and_stall() {
    let mut rig = Rig::new();
    rig.bind_new(0, CLASS_KELVIN);
    rig.ok(0, SET_FLIP_MODULO, 3);
    rig.ok(0, SET_FLIP_WRITE, 2);
    rig.ok(0, SET_FLIP_READ, 1);
    assert_eq!(rig.gpu.flip_counters(), (1, 2, 3));
    rig.ok(0, FLIP_INCREMENT_WRITE, 0);
    assert_eq!(rig.gpu.flip_counters(), (1, 0, 3));
    rig.ok(0, FLIP_INCREMENT_WRITE, 0);
    assert_eq!(rig.gpu.flip_counters(), (1, 1, 3));
    assert_eq!(rig.reg(SURFACE), 1 << 24 | 1 << 20 | 3 << 28);
    // Read equals write: the stall holds until the read counter moves on.
    rig.ok(0, FLIP_STALL, 0);
    assert!(rig.gpu.busy());
    rig.gpu.write(INCREMENT, 4, INCREMENT_READ_3D);
    assert_eq!(rig.gpu.flip_counters(), (2, 1, 3));
    assert!(!rig.gpu.busy());
    rig.gpu.write(INCREMENT, 4, INCREMENT_READ_3D);
    assert_eq!(rig.gpu.flip_counters().0, 0);
    // The stall ended; equal counters no longer hold the FIFO.
    rig.ok(0, NO_OPERATION, 0);
    rig.ok(0, SET_FLIP_WRITE, 0);
    assert!(!rig.gpu.busy());
    // IMAGE_BLIT shares the methods.
    rig.bind_new(3, CLASS_IMAGE_BLIT);
    rig.ok(3, SET_FLIP_WRITE, 2);
    assert_eq!(rig.gpu.flip_counters().1, 2);
}

// --- Registers ---

#[test]
fn registers_store_clear_and_mask() {
    let mut gpu = Pgraph::new();
    assert_eq!(
        gpu.read(FIFO, 4),
        FIFO_ACCESS,
        "the FIFO may deliver at reset"
    );
    assert_eq!(gpu.read(STATUS, 4), 0);
    gpu.write(STATUS, 4, 0xFFFF);
    assert_eq!(gpu.read(STATUS, 4), 0, "idle");
    gpu.write(0x800, 4, 0x1234_5678);
    assert_eq!(gpu.read(0x800, 4), 0x1234_5678);
    assert_eq!(gpu.read(0x801, 2), 0x3456);
    assert_eq!(gpu.read(0x803, 1), 0x12);
    gpu.write(0x802, 1, 0xAB);
    assert_eq!(gpu.read(0x800, 4), 0x12AB_5678);
    // The offset wraps within the block.
    assert_eq!(gpu.read(0x2800, 4), 0x12AB_5678);
    for reg in [
        CTX_CONTROL,
        CTX_USER,
        CHANNEL_CTX_TABLE,
        CHANNEL_CTX_POINTER,
        NSTATUS,
    ] {
        gpu.write(reg, 4, 0x0000_FF01);
        assert_eq!(gpu.read(reg, 4), 0x0000_FF01, "{reg:#x}");
    }
    gpu.write(CHANNEL_CTX_TRIGGER, 4, 1);
    assert_eq!(gpu.read(CHANNEL_CTX_TRIGGER, 4), 0);
    // INTR: write 1 to clear, and only enabled bits are pending.
    gpu.set_reg(INTR, INTR_NOTIFY | INTR_BUFFER_NOTIFY);
    assert!(!gpu.pending());
    gpu.write(INTR_EN, 4, INTR_BUFFER_NOTIFY);
    assert!(gpu.pending());
    gpu.write(INTR, 1, 0xFF);
    assert_eq!(gpu.read(INTR, 4), INTR_BUFFER_NOTIFY);
    gpu.write(INTR, 4, INTR_BUFFER_NOTIFY);
    assert_eq!(gpu.read(INTR, 4), 0);
    assert!(!gpu.pending());
    // NSOURCE is read-only.
    gpu.write(NSOURCE, 4, 0xFF);
    assert_eq!(gpu.read(NSOURCE, 4), 0);
    // FIFO access off holds the FIFO.
    gpu.write(FIFO, 4, 0);
    assert!(gpu.busy());
    gpu.write(FIFO, 4, FIFO_ACCESS);
    assert!(!gpu.busy());
}

// --- Save states ---

fn saved(gpu: &mut Pgraph) -> Vec<u8> {
    let mut bytes = Vec::new();
    gpu.state(&mut State::saving(&mut bytes));
    bytes
}

#[test]
fn a_save_state_round_trips_at_a_fixed_size() {
    let fresh_size = saved(&mut Pgraph::new()).len();

    let mut rig = Rig::new();
    rig.kelvin();
    rig.linear_surface(ColorFormat::A8R8G8B8 as u32, 2, 4, 4, 16);
    rig.ok(0, SET_FLIP_MODULO, 2);
    rig.ok(0, SET_COLOR_CLEAR_VALUE, 0x0102_0304);
    rig.clear_rect(0, 3, 0, 3);
    let notify = rig.dma(0x900, 0xF);
    rig.ok(0, SET_CONTEXT_DMA_NOTIFIES, notify);
    rig.bind_new(6, CLASS_PATTERN);
    rig.ok(6, 0x500, 0xF800_07E0);
    rig.ok(0, NOTIFY, 0);
    rig.gpu.set_time(77);
    rig.gpu.write(INTR_EN, 4, 0x0011_0001);
    let bytes = saved(&mut rig.gpu);
    assert_eq!(
        bytes.len(),
        fresh_size,
        "the size does not depend on the state"
    );

    let mut copy = Rig::new();
    let mut load = State::loading(&bytes);
    copy.gpu.state(&mut load);
    assert_eq!(load.remaining(), 0);
    assert_eq!(saved(&mut copy.gpu), bytes);
    assert_eq!(copy.gpu.color_surface(), rig.gpu.color_surface());
    assert_eq!(copy.gpu.binding(0, 6), rig.gpu.binding(0, 6));

    // Both carry on alike: the armed notification and the clear.
    for r in [&mut rig, &mut copy] {
        r.ok(0, CLEAR_SURFACE, 0xF0);
    }
    assert_eq!(copy.r32(WINDOW + 60), 0x0102_0304);
    assert_eq!(copy.bytes(0x900, 16), rig.bytes(0x900, 16));
    assert_eq!(copy.bytes(0x900, 1), &[77]);
}

#[test]
fn loading_garbage_never_panics() {
    let mut seed = 0x1234_5678u32;
    let size = saved(&mut Pgraph::new()).len();
    for _ in 0..20 {
        let garbage: Vec<u8> = (0..size)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect();
        let mut rig = Rig::new();
        rig.gpu.state(&mut State::loading(&garbage));
        for method in [CLEAR_SURFACE, 0x308, 0x328, 0x40C, NOP, 0x300] {
            for sub in 0..8 {
                let _ = rig.m(sub, method, seed);
            }
        }
        let _ = rig.gpu.color_surface();
        let _ = rig.gpu.busy();
    }
}

// --- Fuzz ---

/// Methods worth sending to each class (anything else is tried now and then too).
fn fuzz_methods(class: u32) -> &'static [u32] {
    match class {
        CLASS_KELVIN => &[
            NOP, NOTIFY, DMA_NOTIFY, 0x194, 0x198, 0x1A4, 0x120, 0x124, 0x128, 0x12C, 0x130, 0x200,
            0x204, 0x208, 0x20C, 0x210, 0x214, 0x290, 0x1D6C, 0x1D70, 0x1D8C, 0x1D90, 0x1D94,
            0x1D98, 0x1D9C,
        ],
        CLASS_IMAGE_BLIT => &[
            NOTIFY, DMA_NOTIFY, 0x188, 0x19C, 0x2FC, 0x300, 0x304, 0x308, 0x308, 0x12C,
        ],
        CLASS_SURFACES_2D => &[0x184, 0x188, 0x300, 0x304, 0x308, 0x30C],
        CLASS_M2MF => &[
            NOTIFY, DMA_NOTIFY, 0x184, 0x188, 0x30C, 0x310, 0x314, 0x318, 0x31C, 0x320, 0x324,
            0x328, 0x328,
        ],
        CLASS_GDI => &[0x2FC, 0x300, 0x3FC, 0x400, 0x404, 0x4F8, 0x4FC],
        CLASS_SOLID_LINE => &[
            0x184, 0x198, 0x2FC, 0x300, 0x304, 0x400, 0x404, 0x48C, 0x500, 0x584, 0x604,
        ],
        CLASS_PATTERN => &[
            0x300, 0x304, 0x308, 0x30C, 0x310, 0x318, 0x400, 0x500, 0x600, 0x7FC,
        ],
        _ => &[NOP, NOTIFY, DMA_NOTIFY, 0x300, 0x304],
    }
}

/// A parameter a driver might plausibly send (small surfaces, windows from the list).
fn plausible(class: u32, method: u32, r: u64, objects: &[u32], windows: &[u32]) -> u32 {
    let small = |shift: u32, range: u64| ((r >> shift) % range) as u32;
    let object = objects[(r % objects.len() as u64) as usize];
    let window = windows[(r % windows.len() as u64) as usize];
    match (class, method) {
        (CLASS_IMAGE_BLIT, 0x184..=0x19C) | (CLASS_GDI, 0x188..=0x198) => object,
        (_, 0x180..=0x1A8) => window,
        (CLASS_KELVIN, 0x200 | 0x204) => small(8, 8) | (1 + small(16, 24)) << 16,
        (CLASS_KELVIN, 0x208) => {
            (1 + small(8, 10))
                | small(12, 3) << 4
                | (1 + small(16, 2)) << 8
                | small(20, 3) << 12
                | small(24, 5) << 16
                | small(32, 5) << 24
        }
        (CLASS_KELVIN, 0x20C) => (small(8, 64) * 4) | ((small(16, 64) * 4) << 16),
        (CLASS_KELVIN, 0x210 | 0x214 | 0x1D6C) => small(8, 256) * 16,
        (CLASS_KELVIN, 0x1D98 | 0x1D9C) => {
            let lo = small(8, 16);
            lo | (lo + small(16, 16)) << 16
        }
        (CLASS_KELVIN, 0x1D94) => small(8, 256),
        (CLASS_IMAGE_BLIT | CLASS_GDI | CLASS_SOLID_LINE, 0x2FC) => small(8, 6),
        (CLASS_SOLID_LINE, 0x400..=0x67C) => small(8, 40) | small(16, 40) << 16,
        (CLASS_IMAGE_BLIT, 0x300 | 0x304) => small(8, 32) | small(16, 32) << 16,
        (CLASS_IMAGE_BLIT, 0x308) | (CLASS_GDI, 0x400..=0x4FC) => {
            (1 + small(8, 16)) | ((1 + small(16, 16)) << 16)
        }
        (CLASS_SURFACES_2D, 0x300) => 1 + small(8, 11),
        (CLASS_SURFACES_2D, 0x304) => (small(8, 64) * 4) | ((small(16, 64) * 4) << 16),
        (CLASS_SURFACES_2D, 0x308 | 0x30C) | (CLASS_M2MF, 0x30C | 0x310) => small(8, 256) * 16,
        (CLASS_M2MF, 0x314 | 0x318) => (small(8, 64) as i32 - 16) as u32,
        (CLASS_M2MF, 0x31C) => 1 + small(8, 64),
        (CLASS_M2MF, 0x320) => 1 + small(8, 8),
        (CLASS_M2MF, 0x324) => [0x101, 0x102, 0x401, 0x204, 0x303][small(8, 5) as usize],
        _ => small(8, 24),
    }
}

#[test]
fn random_binds_and_methods_never_panic() {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut rig = Rig::new();
    // Random RAM, so that a write of any value shows.
    rig.ram = (0..1 << 16).map(|_| next() as u8).collect();
    rig.gpu.set_time(0x0123_4567_89AB_CDEF);
    let classes = [
        CLASS_BETA1,
        CLASS_BETA4,
        CLASS_CLIP,
        CLASS_ROP,
        CLASS_PATTERN,
        CLASS_M2MF,
        CLASS_GDI,
        CLASS_SOLID_LINE,
        CLASS_SURFACES_2D,
        CLASS_SURFACES_2D_NV04,
        CLASS_KELVIN,
        CLASS_IMAGE_BLIT,
        CLASS_NULL,
        0x56,
    ];
    let objects: Vec<(u32, u32)> = classes.iter().map(|&c| (rig.object(c), c)).collect();
    let instances: Vec<u32> = objects.iter().map(|&(i, _)| i).collect();
    let windows: Vec<u32> = [
        (0, 0xFFFF),
        (0, 0xFFFF),
        (0x8000, 0xFFF),
        (0xFFF0, 0x1F),
        (0x100, 0x3F),
        (0x1_0000, 0xFFFF_FFFF),
    ]
    .into_iter()
    .map(|(base, limit)| rig.dma(base, limit))
    .collect();
    // Stray words anywhere in PRAMIN but the objects.
    for _ in 0..64 {
        let at = (0x2000 + next() % (PRAMIN_SIZE as u64 - 0x2000)) as usize & !3;
        write_u32(&mut rig.pramin, at, next() as u32);
    }
    let mut bound = [0u32; 8];
    let mut drawn = 0;
    for _ in 0..40_000 {
        let sub = (next() % 8) as u32;
        match next() % 32 {
            0..=2 => {
                let (instance, class) = objects[(next() % objects.len() as u64) as usize];
                rig.bind(sub, instance);
                bound[sub as usize] = class;
            }
            3 => {
                rig.bind(sub, (next() as u32) & 0xF_FFFF);
                bound[sub as usize] = rig.gpu.binding(0, sub).map_or(0, |(_, c)| c);
            }
            4 | 5 => rig.ack(),
            6 => rig.gpu.write(
                (next() as u32) & 0x1FFF,
                1 + (next() % 4) as usize,
                next() as u32,
            ),
            _ => {
                let class = bound[sub as usize];
                let methods = fuzz_methods(class);
                let method = if next() % 8 == 0 {
                    (next() as u32) & 0x1FFC
                } else {
                    methods[(next() % methods.len() as u64) as usize]
                };
                let param = match next() % 4 {
                    0 => next() as u32,
                    _ => plausible(class, method, next(), &instances, &windows),
                };
                let before = rig.ram.clone();
                let _ = rig.m(sub, method, param);
                if rig.ram != before {
                    drawn += 1;
                }
                let _ = rig.gpu.read((next() as u32) & 0x1FFF, 4);
                let _ = rig.gpu.busy();
                let _ = rig.gpu.pending();
            }
        }
    }
    let _ = rig.gpu.color_surface();
    let _ = rig.gpu.zeta_surface();
    assert!(
        drawn > 40,
        "the fuzz should reach the drawing code ({drawn} writes)"
    );
}
