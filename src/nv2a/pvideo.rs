//! PVIDEO (BAR0 0x008000): the video overlay, a YUV picture the CRTC scales and keys over the
//! frame buffer as it scans out (the Xbox's video players use it).
//!
//! Registers (offsets in the block; two buffers, the second's registers 4 bytes after the
//! first's; sources: envytools `rnndb/display/nv10_pvideo.xml`, xemu `nv2a_regs.h`, `pvideo.c`
//! and its display code, nouveau's `nv10_set_params`):
//! - 0x100 INTR (bit 0 buffer 0, bit 4 buffer 1; write 1 to clear), 0x140 INTR_EN;
//! - 0x700 BUFFER: bit 0 (4) hands buffer 0 (1) to the hardware; 0x704 STOP: writing bit 0
//!   tears the overlay down (clears BUFFER); reads 0;
//! - 0x900 BASE and 0x908 LIMIT: the buffer's memory window (LIMIT its last offset);
//! - 0x910 LUMINANCE: contrast in bits 15-0 (4.12, 0x1000 = 1), brightness in bits 31-16
//!   (signed); 0x918 CHROMINANCE: saturation * cos(hue) in bits 15-0 and saturation * sin(hue)
//!   in bits 31-16 (signed 4.12);
//! - 0x920 OFFSET: the picture's start within the window;
//! - 0x928 SIZE_IN: width in bits 10-0, height in 26-16 (0xFFFFFFFF, which the Xbox's
//!   libraries write while tearing down, hides the overlay, as in xemu);
//! - 0x930 POINT_IN: the source's first pixel, S in bits 14-0 (1/16 pixel), T in bits 31-17
//!   (1/8 line);
//! - 0x938 DS_DX and 0x940 DT_DY: source step per output pixel, 12.20 fixed point
//!   (`in << 20 / out`; 1 << 20 is 1:1);
//! - 0x948 POINT_OUT: x in bits 11-0, y in 27-16; 0x950 SIZE_OUT: width 11-0, height 27-16;
//! - 0x958 FORMAT: pitch in bits 12-0, bits 17-16 the layout (1: LE_CR8YB8CB8YA8, bytes Y0 U
//!   Y1 V, "YUY2"; 0: LE_YB8CR8YA8CB8, bytes U Y0 V Y1, "UYVY"), bit 20 DISPLAY: show only
//!   where the frame buffer holds the colour key, bit 24 MATRIX: ITU-R BT.709 rather than
//!   BT.601;
//! - 0xB00 COLOR_KEY: the key, a pixel value in the frame buffer's own format (nouveau writes
//!   the X server's key pixel there);
//! - everything else storage.
//!
//! Buffer 0 is shown while BUFFER bit 0 is set, else buffer 1 while bit 4 is. The hardware's
//! hand-back of buffers (clearing the BUFFER bit and raising INTR when it moves to the other)
//! is not modelled; nor is it in xemu, with which the Xbox's players run.
//!
//! [`composite`] is the overlay as the scan-out applies it: YUV to RGB with the studio-range
//! matrix (Y 16-235, Cb/Cr 16-240, 8-bit fixed-point coefficients: BT.601 R = 1.164 Y' + 1.596
//! Cr', G = 1.164 Y' - 0.391 Cb' - 0.813 Cr', B = 1.164 Y' + 2.018 Cb'; BT.709 with 1.793,
//! 0.213, 0.533 and 2.112), after contrast, brightness (taken as quarter steps of Y: nouveau's
//! range is -512 to 511) and the saturation/hue rotation; nearest or bilinear sampling.

use super::scanout::{lane, read_lane, write_lane};
use crate::frame::{Frame, PixelFormat, Pixels};
use crate::machine::state::{Snapshot, State};

pub const INTR: u32 = 0x100;
pub const INTR_EN: u32 = 0x140;
pub const BUFFER: u32 = 0x700;
pub const STOP: u32 = 0x704;
pub const BASE: u32 = 0x900;
pub const LIMIT: u32 = 0x908;
pub const LUMINANCE: u32 = 0x910;
pub const CHROMINANCE: u32 = 0x918;
pub const OFFSET: u32 = 0x920;
pub const SIZE_IN: u32 = 0x928;
pub const POINT_IN: u32 = 0x930;
pub const DS_DX: u32 = 0x938;
pub const DT_DY: u32 = 0x940;
pub const POINT_OUT: u32 = 0x948;
pub const SIZE_OUT: u32 = 0x950;
pub const FORMAT: u32 = 0x958;
pub const COLOR_KEY: u32 = 0xB00;

/// BUFFER's bit for buffer `n`, and INTR's.
pub const fn buffer_bit(n: usize) -> u32 {
    1 << (4 * n)
}
/// FORMAT fields.
pub const FORMAT_PITCH: u32 = 0x1FFF;
pub const FORMAT_COLOR_YUY2: u32 = 1 << 16;
pub const FORMAT_DISPLAY_COLOR_KEY: u32 = 1 << 20;
pub const FORMAT_MATRIX_BT709: u32 = 1 << 24;
/// DS_DX / DT_DY for 1:1.
pub const UNITY: u32 = 1 << 20;

const REGISTERS: usize = 0x1000 / 4;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pvideo {
    regs: Box<[u32; REGISTERS]>,
}

impl Default for Pvideo {
    fn default() -> Pvideo {
        Pvideo {
            regs: Box::new([0; REGISTERS]),
        }
    }
}

/// How the overlay's source pixels are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YuvLayout {
    /// Bytes Y0 U Y1 V (FORMAT color 1, LE_CR8YB8CB8YA8).
    Yuy2,
    /// Bytes U Y0 V Y1 (FORMAT color 0, LE_YB8CR8YA8CB8).
    Uyvy,
}

/// How the overlay samples its source when scaling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    Nearest,
    Bilinear,
}

/// The shown buffer's registers, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overlay {
    /// The picture's first byte in RAM (BASE + OFFSET).
    pub address: u32,
    /// Bytes readable from `address` (the window's end minus OFFSET).
    pub window: u32,
    pub pitch: u32,
    pub layout: YuvLayout,
    pub in_width: u32,
    pub in_height: u32,
    /// The first source pixel, 12.20 fixed point.
    pub point_in_s: u32,
    pub point_in_t: u32,
    pub ds_dx: u32,
    pub dt_dy: u32,
    pub out_x: u32,
    pub out_y: u32,
    pub out_width: u32,
    pub out_height: u32,
    /// The colour key, when the overlay shows only where the frame buffer holds it.
    pub color_key: Option<u32>,
    pub bt709: bool,
    /// 4.12: 0x1000 leaves luma as it is.
    pub contrast: u16,
    pub brightness: i16,
    /// Saturation times the hue's cosine and sine, 4.12.
    pub sat_cos: i16,
    pub sat_sin: i16,
}

impl Pvideo {
    pub fn read(&self, offset: u32, size: usize) -> u32 {
        let value = match offset & 0xFFC {
            STOP => 0,
            register => self.reg(register),
        };
        read_lane(value, offset, size)
    }

    pub fn write(&mut self, offset: u32, size: usize, value: u32) {
        let register = offset & 0xFFC;
        match register {
            INTR => {
                let (mask, shift) = lane(offset, size);
                self.regs[(INTR / 4) as usize] &= !(value << shift & mask);
            }
            STOP => {
                if write_lane(0, offset, size, value) & 1 != 0 {
                    self.regs[(BUFFER / 4) as usize] = 0;
                }
            }
            _ => {
                let slot = &mut self.regs[register as usize / 4];
                *slot = write_lane(*slot, offset, size, value);
            }
        }
    }

    /// The register at `offset` as last written.
    pub fn reg(&self, offset: u32) -> u32 {
        self.regs[(offset & 0xFFC) as usize / 4]
    }

    /// The enabled interrupts that are pending (never set here: see the module documentation).
    pub fn pending(&self) -> u32 {
        self.reg(INTR) & self.reg(INTR_EN)
    }

    /// The buffer being shown and its registers, if the overlay is on.
    pub fn overlay(&self) -> Option<Overlay> {
        let buffers = self.reg(BUFFER);
        let n = (0..2).find(|&n| buffers & buffer_bit(n) != 0)?;
        let reg = |offset: u32| self.reg(offset + 4 * n as u32);
        let size_in = reg(SIZE_IN);
        if size_in == u32::MAX {
            return None;
        }
        let (size_out, point_out, point_in) = (reg(SIZE_OUT), reg(POINT_OUT), reg(POINT_IN));
        let (format, luma, chroma) = (reg(FORMAT), reg(LUMINANCE), reg(CHROMINANCE));
        let (base, offset) = (reg(BASE), reg(OFFSET));
        let overlay = Overlay {
            address: base.wrapping_add(offset),
            window: reg(LIMIT).wrapping_add(1).saturating_sub(offset),
            pitch: format & FORMAT_PITCH,
            layout: if format & FORMAT_COLOR_YUY2 != 0 {
                YuvLayout::Yuy2
            } else {
                YuvLayout::Uyvy
            },
            in_width: size_in & 0x7FF,
            in_height: size_in >> 16 & 0x7FF,
            point_in_s: (point_in & 0x7FFF) << 16,
            point_in_t: (point_in >> 17) << 17,
            ds_dx: reg(DS_DX),
            dt_dy: reg(DT_DY),
            out_x: point_out & 0xFFF,
            out_y: point_out >> 16 & 0xFFF,
            out_width: size_out & 0xFFF,
            out_height: size_out >> 16 & 0xFFF,
            color_key: (format & FORMAT_DISPLAY_COLOR_KEY != 0).then(|| self.reg(COLOR_KEY)),
            bt709: format & FORMAT_MATRIX_BT709 != 0,
            contrast: luma as u16,
            brightness: (luma >> 16) as i16,
            sat_cos: chroma as i16,
            sat_sin: (chroma >> 16) as i16,
        };
        (overlay.in_width > 0 && overlay.in_height > 0 && overlay.out_width > 0)
            .then_some(overlay)
            .filter(|o| o.out_height > 0)
    }
}

impl Snapshot for Pvideo {
    fn state(&mut self, s: &mut State) {
        s.u32s(&mut self.regs[..]);
    }
}

impl Overlay {
    /// One source pixel's Y, U and V, if its bytes lie in the buffer's window and in `ram`.
    fn yuv(&self, ram: &[u8], x: u32, y: u32) -> Option<[u8; 3]> {
        let within = u64::from(y) * u64::from(self.pitch) + u64::from(x & !1) * 2;
        if within + 4 > u64::from(self.window) {
            return None;
        }
        let at = usize::try_from(u64::from(self.address) + within).ok()?;
        let quad = ram.get(at..at.checked_add(4)?)?;
        let odd = usize::from(x & 1 == 1);
        Some(match self.layout {
            YuvLayout::Yuy2 => [quad[2 * odd], quad[1], quad[3]],
            YuvLayout::Uyvy => [quad[1 + 2 * odd], quad[0], quad[2]],
        })
    }

    /// One source pixel as (red, green, blue).
    fn rgb(&self, ram: &[u8], x: u32, y: u32) -> Option<[i32; 3]> {
        self.yuv(ram, x, y).map(|yuv| self.convert(yuv))
    }

    /// YUV to RGB with the picture controls and the chosen matrix, each channel 0-255.
    pub fn convert(&self, [y, u, v]: [u8; 3]) -> [i32; 3] {
        let y = (((i32::from(y) - 16) * i32::from(self.contrast)) >> 12)
            + (i32::from(self.brightness) >> 2);
        let (u0, v0) = (i32::from(u) - 128, i32::from(v) - 128);
        let (cos, sin) = (i32::from(self.sat_cos), i32::from(self.sat_sin));
        let u = (u0 * cos - v0 * sin) >> 12;
        let v = (u0 * sin + v0 * cos) >> 12;
        let c = 298 * y + 128;
        let [r, g, b] = if self.bt709 {
            [c + 459 * v, c - 55 * u - 136 * v, c + 541 * u]
        } else {
            [c + 409 * v, c - 100 * u - 208 * v, c + 516 * u]
        };
        [r, g, b].map(|channel| (channel >> 8).clamp(0, 255))
    }

    /// The overlay's colour at output pixel (ox, oy) of its rectangle, if its source is there.
    fn sample(&self, ram: &[u8], ox: u32, oy: u32, filter: Filter) -> Option<u32> {
        let sx = u64::from(self.point_in_s) + u64::from(ox) * u64::from(self.ds_dx);
        let sy = u64::from(self.point_in_t) + u64::from(oy) * u64::from(self.dt_dy);
        let clamp_x = |x: u64| (x >> 20).min(u64::from(self.in_width.saturating_sub(1))) as u32;
        let clamp_y = |y: u64| (y >> 20).min(u64::from(self.in_height.saturating_sub(1))) as u32;
        let (x0, y0) = (clamp_x(sx), clamp_y(sy));
        let rgb = match filter {
            Filter::Nearest => self.rgb(ram, x0, y0)?,
            Filter::Bilinear => {
                let (x1, y1) = (clamp_x(sx + (1 << 20)), clamp_y(sy + (1 << 20)));
                let (fx, fy) = ((sx >> 12 & 0xFF) as i32, (sy >> 12 & 0xFF) as i32);
                let lerp = |a: [i32; 3], b: [i32; 3], f: i32| {
                    [0, 1, 2].map(|i| (a[i] * (256 - f) + b[i] * f + 128) >> 8)
                };
                let top = lerp(self.rgb(ram, x0, y0)?, self.rgb(ram, x1, y0)?, fx);
                let bottom = lerp(self.rgb(ram, x0, y1)?, self.rgb(ram, x1, y1)?, fx);
                lerp(top, bottom, fy)
            }
        };
        Some((rgb[0] as u32) << 16 | (rgb[1] as u32) << 8 | rgb[2] as u32)
    }
}

/// Whether frame-buffer pixel `value` in `format` is the colour key `key` (compared over the
/// format's colour bits).
pub fn matches_key(format: PixelFormat, value: u32, key: u32) -> bool {
    let mask = match format {
        PixelFormat::X1R5G5B5 => 0x7FFF,
        PixelFormat::R5G6B5 => 0xFFFF,
        PixelFormat::X8R8G8B8 => 0x00FF_FFFF,
    };
    value & mask == key & mask
}

/// The scanned-out picture with the overlay over it: `screen` converted to XRGB8888, then,
/// within the overlay's output rectangle (clipped to the screen) and where the colour key (if
/// any) matches the frame buffer's pixel, the overlay's source scaled by DS_DX/DT_DY from
/// POINT_IN. Source pixels are read from `ram`; a pixel whose source lies outside the
/// buffer's window or RAM leaves the frame buffer's colour.
pub fn composite(screen: Pixels, ram: &[u8], overlay: &Overlay, filter: Filter) -> Frame {
    let mut frame = screen.to_frame();
    let x_end = (overlay.out_x + overlay.out_width).min(screen.width() as u32);
    let y_end = (overlay.out_y + overlay.out_height).min(screen.height() as u32);
    for y in overlay.out_y..y_end {
        for x in overlay.out_x..x_end {
            let keyed = overlay.color_key.is_none_or(|key| {
                let value = screen.pixel(x as usize, y as usize).unwrap_or(0);
                matches_key(screen.format(), value, key)
            });
            if !keyed {
                continue;
            }
            if let Some(colour) = overlay.sample(ram, x - overlay.out_x, y - overlay.out_y, filter)
            {
                frame.pixels[y as usize * frame.width + x as usize] = colour;
            }
        }
    }
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::RawFrame;

    /// An overlay of a `w` x `h` YUY2 picture at `address` (pitch 2w), shown 1:1 at (x, y).
    fn setup(p: &mut Pvideo, address: u32, w: u32, h: u32, x: u32, y: u32) {
        p.write(BASE, 4, 0);
        p.write(LIMIT, 4, 0x03FF_FFFF);
        p.write(OFFSET, 4, address);
        p.write(LUMINANCE, 4, 0x1000);
        p.write(CHROMINANCE, 4, 0x1000);
        p.write(SIZE_IN, 4, h << 16 | w);
        p.write(POINT_IN, 4, 0);
        p.write(DS_DX, 4, UNITY);
        p.write(DT_DY, 4, UNITY);
        p.write(POINT_OUT, 4, y << 16 | x);
        p.write(SIZE_OUT, 4, h << 16 | w);
        p.write(FORMAT, 4, FORMAT_COLOR_YUY2 | (2 * w));
        p.write(BUFFER, 4, buffer_bit(0));
    }

    /// Fills the picture with one YUY2 colour.
    fn paint(ram: &mut [u8], address: u32, w: u32, h: u32, [y, u, v]: [u8; 3]) {
        for i in 0..(w * h / 2) as usize {
            ram[address as usize + 4 * i..][..4].copy_from_slice(&[y, u, y, v]);
        }
    }

    fn neutral() -> Overlay {
        let mut p = Pvideo::default();
        setup(&mut p, 0, 2, 2, 0, 0);
        p.overlay().unwrap()
    }

    #[test]
    fn studio_range_yuv_converts_with_the_bt601_matrix() {
        let o = neutral();
        assert_eq!(o.convert([235, 128, 128]), [255, 255, 255]);
        assert_eq!(o.convert([16, 128, 128]), [0, 0, 0]);
        assert_eq!(o.convert([126, 128, 128]), [128, 128, 128]);
        // BT.601 red (Y 82, Cb 90, Cr 240): R = (298*66 + 409*112 + 128) >> 8 = 256, clamped;
        // G = (19668 + 3800 - 23296 + 128) >> 8 = 1; B = (19668 - 19608 + 128) >> 8 = 0.
        assert_eq!(o.convert([82, 90, 240]), [255, 1, 0]);
        // Below black clamps to 0.
        assert_eq!(o.convert([0, 128, 128]), [0, 0, 0]);
    }

    #[test]
    fn bt709_and_the_picture_controls() {
        let mut o = neutral();
        o.bt709 = true;
        // BT.709 red (Y 63, Cb 102, Cr 240): R = (298*47 + 459*112 + 128) >> 8 = 255.
        // G = (14006 + 55*26 - 136*112 + 128) >> 8 = (14006 + 1430 - 15232 + 128) >> 8 = 1.
        // B = (14006 - 541*26 + 128) >> 8 = (14006 - 14066 + 128) >> 8 = 0.
        assert_eq!(o.convert([63, 102, 240]), [255, 1, 0]);
        o.bt709 = false;
        // Contrast 0 leaves only brightness: 0x200 quarter steps is +128 luma levels.
        o.contrast = 0;
        o.brightness = 0x200;
        assert_eq!(o.convert([235, 128, 128]), [149, 149, 149]);
        // Saturation 0 turns colour grey.
        let mut o = neutral();
        o.sat_cos = 0;
        assert_eq!(o.convert([82, 90, 240]), o.convert([82, 128, 128]));
    }

    #[test]
    fn registers_decode_into_the_shown_buffer() {
        let mut p = Pvideo::default();
        assert_eq!(p.overlay(), None);
        setup(&mut p, 0x1000, 64, 32, 10, 20);
        p.write(POINT_IN, 4, 3 << 17 | 5);
        p.write(
            FORMAT,
            4,
            FORMAT_DISPLAY_COLOR_KEY | FORMAT_MATRIX_BT709 | 128,
        );
        p.write(COLOR_KEY, 4, 0x00FF_00FF);
        let o = p.overlay().unwrap();
        assert_eq!(
            (o.address, o.pitch, o.layout),
            (0x1000, 128, YuvLayout::Uyvy)
        );
        assert_eq!(
            (o.in_width, o.in_height, o.out_x, o.out_y),
            (64, 32, 10, 20)
        );
        assert_eq!((o.point_in_s, o.point_in_t), (5 << 16, 3 << 17));
        assert_eq!(o.color_key, Some(0x00FF_00FF));
        assert!(o.bt709);
        // Buffer 1 when only it is handed over; SIZE_IN all ones hides it; STOP tears down.
        p.write(BUFFER, 4, buffer_bit(1));
        assert_eq!(p.overlay(), None, "buffer 1 has no size");
        p.write(SIZE_IN + 4, 4, 0x0010_0010);
        p.write(SIZE_OUT + 4, 4, 0x0010_0010);
        assert_eq!(p.overlay().unwrap().in_width, 16);
        p.write(SIZE_IN + 4, 4, u32::MAX);
        assert_eq!(p.overlay(), None);
        p.write(BUFFER, 4, 0x11);
        p.write(STOP, 4, 1);
        assert_eq!(p.read(BUFFER, 4), 0);
        assert_eq!(p.read(STOP, 4), 0);
        p.write(INTR, 4, 0x11);
        assert_eq!(p.read(INTR, 4), 0);
    }

    #[test]
    fn the_overlay_is_drawn_at_its_point_and_keyed() {
        let mut ram = vec![0u8; 0x10000];
        let mut p = Pvideo::default();
        setup(&mut p, 0x100, 4, 2, 1, 1);
        paint(&mut ram, 0x100, 4, 2, [235, 128, 128]);
        let mut screen = RawFrame::filled(8, 4, PixelFormat::R5G6B5, 0x001F);
        let out = composite(
            screen.view().unwrap(),
            &ram,
            &p.overlay().unwrap(),
            Filter::Nearest,
        );
        let white = 0x00FF_FFFF;
        let blue = 0x0000_00FF;
        for y in 0..4 {
            for x in 0..8 {
                let inside = (1..5).contains(&x) && (1..3).contains(&y);
                assert_eq!(
                    out.pixel(x, y),
                    Some(if inside { white } else { blue }),
                    "({x}, {y})"
                );
            }
        }
        // Keyed on magenta: only the frame buffer's magenta pixels take the overlay.
        p.write(FORMAT, 4, FORMAT_COLOR_YUY2 | FORMAT_DISPLAY_COLOR_KEY | 8);
        p.write(COLOR_KEY, 4, 0xF81F);
        screen.set_pixel(2, 1, 0xF81F);
        screen.set_pixel(0, 0, 0xF81F);
        let out = composite(
            screen.view().unwrap(),
            &ram,
            &p.overlay().unwrap(),
            Filter::Nearest,
        );
        assert_eq!(out.pixel(2, 1), Some(white));
        assert_eq!(out.pixel(3, 1), Some(blue));
        assert_eq!(
            out.pixel(0, 0),
            Some(0x00FF_00FF),
            "magenta outside the rectangle"
        );
        assert!(matches_key(PixelFormat::X1R5G5B5, 0x8001, 0x0001));
        assert!(!matches_key(PixelFormat::R5G6B5, 0x8001, 0x0001));
    }

    #[test]
    fn scaling_samples_nearest_or_bilinear() {
        let mut ram = vec![0u8; 0x1000];
        let mut p = Pvideo::default();
        // A 2x1 source (one YUY2 pair: black then white), shown 4x1: DS_DX = 1/2.
        setup(&mut p, 0x40, 2, 1, 0, 0);
        p.write(SIZE_OUT, 4, 1 << 16 | 4);
        p.write(DS_DX, 4, UNITY / 2);
        ram[0x40..0x44].copy_from_slice(&[16, 128, 235, 128]);
        let screen = RawFrame::filled(4, 1, PixelFormat::X8R8G8B8, 0);
        let o = p.overlay().unwrap();
        let nearest = composite(screen.view().unwrap(), &ram, &o, Filter::Nearest);
        assert_eq!(nearest.pixels, [0, 0, 0x00FF_FFFF, 0x00FF_FFFF]);
        let bilinear = composite(screen.view().unwrap(), &ram, &o, Filter::Bilinear);
        // Source positions 0, 0.5, 1, 1.5 (the edge repeats): 0, 128, 255, 255.
        assert_eq!(bilinear.pixels, [0, 0x0080_8080, 0x00FF_FFFF, 0x00FF_FFFF]);
        // A source beyond the window is left alone.
        p.write(LIMIT, 4, 0x42);
        let clipped = composite(
            screen.view().unwrap(),
            &ram,
            &p.overlay().unwrap(),
            Filter::Nearest,
        );
        assert_eq!(clipped.pixels, [0; 4]);
    }

    #[test]
    fn state_round_trips() {
        let mut p = Pvideo::default();
        setup(&mut p, 0x100, 4, 2, 1, 1);
        let mut bytes = Vec::new();
        p.state(&mut State::saving(&mut bytes));
        let mut q = Pvideo::default();
        q.state(&mut State::loading(&bytes));
        assert_eq!(q, p);
    }
}
