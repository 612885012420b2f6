//! Finished video frames in host memory, as the machine hands them to a presenter: [`Frame`]
//! (XRGB8888, what Oxbox's own screens draw) and [`RawFrame`] (the guest's scan-out: pixels as
//! they lie in guest RAM, in one of the CRTC's [`PixelFormat`]s). A presenter draws either
//! through a borrowed [`Pixels`] view; [`Pixels::to_frame`] is the CPU reference of the
//! conversion it does.

/// Pixels in XRGB8888 (one `u32` each, the top byte ignored), rows top first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u32>,
}

impl Frame {
    pub fn new(width: usize, height: usize, colour: u32) -> Frame {
        Frame {
            width,
            height,
            pixels: vec![colour; width * height],
        }
    }

    /// Paints the rectangle at (x, y) of size w x h, clipped to the frame.
    pub fn fill_rect(&mut self, x: usize, y: usize, w: usize, h: usize, colour: u32) {
        let (x1, y1) = ((x + w).min(self.width), (y + h).min(self.height));
        for row in y.min(y1)..y1 {
            self.pixels[row * self.width + x.min(x1)..row * self.width + x1].fill(colour);
        }
    }

    /// The pixel at (x, y), or `None` outside the frame.
    pub fn pixel(&self, x: usize, y: usize) -> Option<u32> {
        (x < self.width && y < self.height).then(|| self.pixels[y * self.width + x])
    }

    /// The frame as X8R8G8B8 scan-out pixels (rows `width * 4` bytes apart), if it is not empty
    /// and its pixel vector holds `width * height` pixels. The bytes are the `u32`s' own, so
    /// this is the little-endian layout on little-endian hosts only; [`Frame::to_raw`] works
    /// everywhere.
    pub fn as_pixels(&self) -> Option<Pixels<'_>> {
        if self.pixels.len() != self.width.checked_mul(self.height)? {
            return None;
        }
        let bytes: &[u8] = bytemuck::cast_slice(&self.pixels);
        Pixels::new(
            self.width,
            self.height,
            self.width * 4,
            PixelFormat::X8R8G8B8,
            bytes,
        )
    }

    /// A copy of the frame as little-endian X8R8G8B8 scan-out pixels.
    pub fn to_raw(&self) -> RawFrame {
        RawFrame {
            width: self.width,
            height: self.height,
            pitch: self.width * 4,
            format: PixelFormat::X8R8G8B8,
            bytes: self.pixels.iter().flat_map(|p| p.to_le_bytes()).collect(),
        }
    }
}

/// How the CRTC reads a pixel from memory: little-endian words of 16 or 32 bits.
///
/// The 5- and 6-bit components reach the 8-bit DAC by bit replication (the top bits repeated
/// below: 0x1F becomes 0xFF, 0x10 becomes 0x84), so black stays 0 and full intensity is 255.
/// Which 8 bits the NV2A's RAMDAC really derives from a 5-bit component is not documented
/// anywhere we found: it looks the component up in its gamma table, and the kernel and nxdk
/// load an identity ramp, so this is the choice that keeps white white. (xemu differs: it lets
/// OpenGL normalise, c * 255 / 31 rounded, which gives 25 rather than 24 for 3.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// 16 bits: bit 15 unused, red 14-10, green 9-5, blue 4-0 (CR28 depth 2, PRAMDAC general
    /// control ALT_MODE_SEL clear).
    X1R5G5B5,
    /// 16 bits: red 15-11, green 10-5, blue 4-0 (depth 2 with ALT_MODE_SEL set).
    R5G6B5,
    /// 32 bits: bits 31-24 unused, red 23-16, green 15-8, blue 7-0 (depth 3).
    X8R8G8B8,
}

impl PixelFormat {
    pub const ALL: [PixelFormat; 3] = [
        PixelFormat::X1R5G5B5,
        PixelFormat::R5G6B5,
        PixelFormat::X8R8G8B8,
    ];

    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::X1R5G5B5 | PixelFormat::R5G6B5 => 2,
            PixelFormat::X8R8G8B8 => 4,
        }
    }

    /// Converts one stored pixel (the little-endian word's value) to XRGB8888 with the top
    /// byte 0.
    pub fn to_xrgb(self, value: u32) -> u32 {
        let (r, g, b) = match self {
            PixelFormat::X1R5G5B5 => (expand5(value >> 10), expand5(value >> 5), expand5(value)),
            PixelFormat::R5G6B5 => (expand5(value >> 11), expand6(value >> 5), expand5(value)),
            PixelFormat::X8R8G8B8 => return value & 0x00FF_FFFF,
        };
        u32::from(r) << 16 | u32::from(g) << 8 | u32::from(b)
    }

    /// The format's number in save states and in the presentation shader's `format` uniform.
    pub fn code(self) -> u32 {
        match self {
            PixelFormat::X1R5G5B5 => 0,
            PixelFormat::R5G6B5 => 1,
            PixelFormat::X8R8G8B8 => 2,
        }
    }

    /// The format with [`PixelFormat::code`] `code` (unknown codes give X8R8G8B8).
    pub fn from_code(code: u32) -> PixelFormat {
        match code {
            0 => PixelFormat::X1R5G5B5,
            1 => PixelFormat::R5G6B5,
            _ => PixelFormat::X8R8G8B8,
        }
    }
}

/// The low 5 bits of `v` as 8 by bit replication.
pub fn expand5(v: u32) -> u8 {
    let v = (v & 0x1F) as u8;
    v << 3 | v >> 2
}

/// The low 6 bits of `v` as 8 by bit replication.
pub fn expand6(v: u32) -> u8 {
    let v = (v & 0x3F) as u8;
    v << 2 | v >> 4
}

/// A scan-out picture: `height` rows of `width` pixels in `format`, row `y` starting at byte
/// `y * pitch` of `bytes` (little-endian, as in guest RAM).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFrame {
    pub width: usize,
    pub height: usize,
    pub pitch: usize,
    pub format: PixelFormat,
    pub bytes: Vec<u8>,
}

impl RawFrame {
    /// A frame of one colour (a stored pixel value), rows packed.
    pub fn filled(width: usize, height: usize, format: PixelFormat, value: u32) -> RawFrame {
        let bpp = format.bytes_per_pixel();
        let pixel = &value.to_le_bytes()[..bpp];
        RawFrame {
            width,
            height,
            pitch: width * bpp,
            format,
            bytes: pixel.repeat(width * height),
        }
    }

    /// The borrowed view a presenter draws, if the frame is consistent (see [`Pixels::new`]).
    pub fn view(&self) -> Option<Pixels<'_>> {
        Pixels::new(
            self.width,
            self.height,
            self.pitch,
            self.format,
            &self.bytes,
        )
    }

    /// The stored value of the pixel at (x, y), if the frame holds it.
    pub fn pixel(&self, x: usize, y: usize) -> Option<u32> {
        self.view()?.pixel(x, y)
    }

    /// Stores `value` at (x, y); outside the frame it is dropped.
    pub fn set_pixel(&mut self, x: usize, y: usize, value: u32) {
        if x >= self.width || y >= self.height {
            return;
        }
        let bpp = self.format.bytes_per_pixel();
        let at = y * self.pitch + x * bpp;
        if let Some(dst) = self.bytes.get_mut(at..at + bpp) {
            dst.copy_from_slice(&value.to_le_bytes()[..bpp]);
        }
    }

    /// The picture in XRGB8888 (the CPU reference of the presenter's conversion); an
    /// inconsistent frame gives an empty one.
    pub fn to_frame(&self) -> Frame {
        self.view()
            .map_or_else(|| Frame::new(0, 0, 0), |view| view.to_frame())
    }
}

/// A checked, borrowed scan-out picture: `height` rows of `width` pixels, `pitch` bytes apart,
/// with every byte a presenter reads inside `bytes`.
#[derive(Clone, Copy, Debug)]
pub struct Pixels<'a> {
    width: usize,
    height: usize,
    pitch: usize,
    format: PixelFormat,
    bytes: &'a [u8],
}

impl<'a> Pixels<'a> {
    /// The view, or `None` when the picture is empty, a row is longer than the pitch, or
    /// `bytes` ends before the last row does.
    pub fn new(
        width: usize,
        height: usize,
        pitch: usize,
        format: PixelFormat,
        bytes: &'a [u8],
    ) -> Option<Pixels<'a>> {
        let row = width.checked_mul(format.bytes_per_pixel())?;
        let needed = pitch
            .checked_mul(height.checked_sub(1)?)?
            .checked_add(row)?;
        (width > 0 && pitch >= row && bytes.len() >= needed).then_some(Pixels {
            width,
            height,
            pitch,
            format,
            bytes,
        })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    pub fn pitch(&self) -> usize {
        self.pitch
    }

    pub fn format(&self) -> PixelFormat {
        self.format
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The bytes of row `y` that hold pixels.
    pub fn row(&self, y: usize) -> &'a [u8] {
        let start = y * self.pitch;
        &self.bytes[start..start + self.width * self.format.bytes_per_pixel()]
    }

    /// The stored value of the pixel at (x, y), or `None` outside the picture.
    pub fn pixel(&self, x: usize, y: usize) -> Option<u32> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let bpp = self.format.bytes_per_pixel();
        let at = y * self.pitch + x * bpp;
        let mut word = [0u8; 4];
        word[..bpp].copy_from_slice(&self.bytes[at..at + bpp]);
        Some(u32::from_le_bytes(word))
    }

    /// The picture in XRGB8888: what the presenter must show, pixel for pixel.
    pub fn to_frame(&self) -> Frame {
        let bpp = self.format.bytes_per_pixel();
        let mut pixels = Vec::with_capacity(self.width * self.height);
        for y in 0..self.height {
            pixels.extend(self.row(y).chunks_exact(bpp).map(|p| {
                let mut word = [0u8; 4];
                word[..bpp].copy_from_slice(p);
                self.format.to_xrgb(u32::from_le_bytes(word))
            }));
        }
        Frame {
            width: self.width,
            height: self.height,
            pixels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_rect_clips() {
        let mut frame = Frame::new(4, 3, 0);
        frame.fill_rect(2, 1, 10, 10, 7);
        assert_eq!(frame.pixels, [0, 0, 0, 0, 0, 0, 7, 7, 0, 0, 7, 7]);
        frame.fill_rect(9, 9, 1, 1, 5);
        assert_eq!(frame.pixel(3, 2), Some(7));
        assert_eq!(frame.pixel(4, 0), None);
    }

    #[test]
    fn sixteen_bit_components_are_widened_by_replication() {
        // R5G6B5: pure red, green and blue reach 255; the top bit alone is 0x84 (1000_0100).
        let f = PixelFormat::R5G6B5;
        assert_eq!(f.to_xrgb(0xF800), 0x00FF_0000);
        assert_eq!(f.to_xrgb(0x07E0), 0x0000_FF00);
        assert_eq!(f.to_xrgb(0x001F), 0x0000_00FF);
        assert_eq!(f.to_xrgb(0xFFFF), 0x00FF_FFFF);
        assert_eq!(f.to_xrgb(0x0000), 0);
        assert_eq!(f.to_xrgb(0x8000), 0x0084_0000);
        // Green's top bit alone: 10_0000 -> 1000_0010.
        assert_eq!(f.to_xrgb(0x0400), 0x0000_8200);
        // X1R5G5B5: bit 15 is ignored.
        let f = PixelFormat::X1R5G5B5;
        assert_eq!(f.to_xrgb(0x7C00), 0x00FF_0000);
        assert_eq!(f.to_xrgb(0xFC00), 0x00FF_0000);
        assert_eq!(f.to_xrgb(0x03E0), 0x0000_FF00);
        assert_eq!(f.to_xrgb(0x001F), 0x0000_00FF);
        assert_eq!(f.to_xrgb(0x8000), 0);
        // 3 becomes 0001_1000 | 000 = 24, where c * 255 / 31 rounded would be 25.
        assert_eq!(f.to_xrgb(3), 24);
        // X8R8G8B8: the X byte is dropped.
        assert_eq!(PixelFormat::X8R8G8B8.to_xrgb(0xAB12_3456), 0x0012_3456);
    }

    #[test]
    fn every_five_and_six_bit_value_keeps_its_top_bits() {
        for v in 0..32 {
            assert_eq!(u32::from(expand5(v)) >> 3, v);
        }
        for v in 0..64 {
            assert_eq!(u32::from(expand6(v)) >> 2, v);
        }
        assert_eq!((expand5(0), expand5(31), expand6(63)), (0, 255, 255));
    }

    #[test]
    fn views_check_their_bounds() {
        let bytes = [0u8; 100];
        assert!(Pixels::new(4, 3, 40, PixelFormat::X8R8G8B8, &bytes).is_some());
        // The last row needs 80 + 16 bytes.
        assert!(Pixels::new(4, 3, 42, PixelFormat::X8R8G8B8, &bytes).is_some());
        assert!(Pixels::new(4, 3, 43, PixelFormat::X8R8G8B8, &bytes).is_none());
        assert!(Pixels::new(4, 3, 15, PixelFormat::X8R8G8B8, &bytes).is_none());
        assert!(Pixels::new(0, 3, 40, PixelFormat::X8R8G8B8, &bytes).is_none());
        assert!(Pixels::new(4, 0, 40, PixelFormat::X8R8G8B8, &bytes).is_none());
        assert!(Pixels::new(usize::MAX, 2, usize::MAX, PixelFormat::R5G6B5, &bytes).is_none());
    }

    #[test]
    fn a_raw_frame_converts_row_by_row_at_its_pitch() {
        let mut raw = RawFrame {
            width: 2,
            height: 2,
            pitch: 6,
            format: PixelFormat::R5G6B5,
            bytes: vec![0xEE; 10],
        };
        raw.set_pixel(0, 0, 0xF800);
        raw.set_pixel(1, 0, 0x07E0);
        raw.set_pixel(0, 1, 0x001F);
        raw.set_pixel(1, 1, 0x0000);
        raw.set_pixel(2, 1, 0x1234);
        assert_eq!(raw.pixel(1, 1), Some(0));
        assert_eq!(
            raw.to_frame().pixels,
            [0x00FF_0000, 0x0000_FF00, 0x0000_00FF, 0]
        );
    }

    #[test]
    fn a_frame_is_x8r8g8b8() {
        let mut frame = Frame::new(3, 2, 0x0012_3456);
        frame.pixels[4] = 0x00AB_CDEF;
        let raw = frame.to_raw();
        assert_eq!(raw.format, PixelFormat::X8R8G8B8);
        assert_eq!(raw.to_frame(), frame);
        if cfg!(target_endian = "little") {
            assert_eq!(frame.as_pixels().unwrap().to_frame(), frame);
        }
        assert!(
            Frame {
                width: 2,
                height: 2,
                pixels: vec![0; 3]
            }
            .as_pixels()
            .is_none()
        );
    }
}
