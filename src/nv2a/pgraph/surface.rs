//! The 3D engine's render surfaces as memory sees them: colour and zeta pixel formats, the
//! anti-aliasing sample layouts, and the swizzled address order.
//!
//! Colour formats (KELVIN SET_SURFACE_FORMAT bits 0-3) are little-endian packed pixels. The
//! `_Z`/`_O` variants have padding bits that every write forces to zero or to one: the top bit
//! of X1R5G5B5, the top byte of X8R8G8B8, the top bit of X1A7R8G8B8. B8 and G8B8 are the
//! one- and two-channel formats D3D uses for data, not for display.
//!
//! CLEAR_SURFACE does not convert its colour: SET_COLOR_CLEAR_VALUE already holds the pixel
//! as the surface stores it, and the clear writes its low bits with the padding forced (pbkit's
//! `pb_fill` packs the A8R8G8B8 colour for 16-bit surfaces itself; xemu reads the clear value
//! the same way, and the nxdk_pgraph_tests "Clear" suite, run on hardware, shows the padding
//! forced). [`clear_value_bytes`] is that rule; [`argb_to_bytes`] is the conversion a driver
//! does first, from an A8R8G8B8 colour to the surface's pixel.
//!
//! Swizzled surfaces store pixels in Z order: the pixel index interleaves the bits of x and y,
//! x taking the lower bit of each pair, and once the smaller dimension runs out of bits the
//! larger one's remaining bits follow in order (so an 8x32 surface indexes as `yyyxyxyx`).

/// A colour surface format (SET_SURFACE_FORMAT bits 0-3).
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorFormat {
    X1R5G5B5_Z1R5G5B5 = 1,
    X1R5G5B5_O1R5G5B5 = 2,
    R5G6B5 = 3,
    X8R8G8B8_Z8R8G8B8 = 4,
    X8R8G8B8_O8R8G8B8 = 5,
    X1A7R8G8B8_Z1A7R8G8B8 = 6,
    X1A7R8G8B8_O1A7R8G8B8 = 7,
    A8R8G8B8 = 8,
    B8 = 9,
    G8B8 = 10,
}

impl ColorFormat {
    pub const ALL: [ColorFormat; 10] = [
        ColorFormat::X1R5G5B5_Z1R5G5B5,
        ColorFormat::X1R5G5B5_O1R5G5B5,
        ColorFormat::R5G6B5,
        ColorFormat::X8R8G8B8_Z8R8G8B8,
        ColorFormat::X8R8G8B8_O8R8G8B8,
        ColorFormat::X1A7R8G8B8_Z1A7R8G8B8,
        ColorFormat::X1A7R8G8B8_O1A7R8G8B8,
        ColorFormat::A8R8G8B8,
        ColorFormat::B8,
        ColorFormat::G8B8,
    ];

    /// Decodes the method's 4-bit field; 0 and 11-15 name no format.
    pub fn from_raw(raw: u32) -> Option<ColorFormat> {
        ColorFormat::ALL
            .get((raw as usize).wrapping_sub(1))
            .copied()
    }

    pub fn bytes_per_pixel(self) -> u32 {
        match self {
            ColorFormat::B8 => 1,
            ColorFormat::X1R5G5B5_Z1R5G5B5
            | ColorFormat::X1R5G5B5_O1R5G5B5
            | ColorFormat::R5G6B5
            | ColorFormat::G8B8 => 2,
            _ => 4,
        }
    }

    /// The pixel's stored bits (`keep`) and the padding bits every write sets (`set`).
    fn forced(self) -> (u32, u32) {
        match self {
            ColorFormat::X1R5G5B5_Z1R5G5B5 => (0x7FFF, 0),
            ColorFormat::X1R5G5B5_O1R5G5B5 => (0x7FFF, 0x8000),
            ColorFormat::R5G6B5 | ColorFormat::G8B8 => (0xFFFF, 0),
            ColorFormat::X8R8G8B8_Z8R8G8B8 => (0x00FF_FFFF, 0),
            ColorFormat::X8R8G8B8_O8R8G8B8 => (0x00FF_FFFF, 0xFF00_0000),
            ColorFormat::X1A7R8G8B8_Z1A7R8G8B8 => (0x7FFF_FFFF, 0),
            ColorFormat::X1A7R8G8B8_O1A7R8G8B8 => (0x7FFF_FFFF, 0x8000_0000),
            ColorFormat::A8R8G8B8 => (0xFFFF_FFFF, 0),
            ColorFormat::B8 => (0xFF, 0),
        }
    }

    /// The bits of each channel in a pixel, as `[red, green, blue, alpha]`. Padding bits count
    /// as alpha: they are written together with the alpha channel.
    pub fn channel_masks(self) -> [u32; 4] {
        match self {
            ColorFormat::X1R5G5B5_Z1R5G5B5 | ColorFormat::X1R5G5B5_O1R5G5B5 => {
                [0x7C00, 0x03E0, 0x001F, 0x8000]
            }
            ColorFormat::R5G6B5 => [0xF800, 0x07E0, 0x001F, 0],
            ColorFormat::B8 => [0, 0, 0xFF, 0],
            ColorFormat::G8B8 => [0, 0xFF00, 0x00FF, 0],
            _ => [0x00FF_0000, 0x0000_FF00, 0x0000_00FF, 0xFF00_0000],
        }
    }

    /// The pixel bits written by a colour write with the given channel enables
    /// (CLEAR_SURFACE bits 4-7: red, green, blue, alpha).
    pub fn write_mask(self, red: bool, green: bool, blue: bool, alpha: bool) -> u32 {
        let [r, g, b, a] = self.channel_masks();
        [(red, r), (green, g), (blue, b), (alpha, a)]
            .iter()
            .filter(|(on, _)| *on)
            .fold(0, |mask, (_, bits)| mask | bits)
    }
}

/// A zeta (depth and stencil) surface format (SET_SURFACE_FORMAT bits 4-7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZetaFormat {
    /// 16 bits of depth, no stencil.
    Z16 = 1,
    /// 24 bits of depth above 8 bits of stencil.
    Z24S8 = 2,
}

impl ZetaFormat {
    pub fn from_raw(raw: u32) -> Option<ZetaFormat> {
        match raw {
            1 => Some(ZetaFormat::Z16),
            2 => Some(ZetaFormat::Z24S8),
            _ => None,
        }
    }

    pub fn bytes_per_pixel(self) -> u32 {
        match self {
            ZetaFormat::Z16 => 2,
            ZetaFormat::Z24S8 => 4,
        }
    }

    /// The bits a zeta write covers with depth and/or stencil enabled. Z16 has no stencil.
    pub fn write_mask(self, depth: bool, stencil: bool) -> u32 {
        match self {
            ZetaFormat::Z16 => {
                if depth {
                    0xFFFF
                } else {
                    0
                }
            }
            ZetaFormat::Z24S8 => {
                (if depth { 0xFFFF_FF00 } else { 0 }) | (if stencil { 0xFF } else { 0 })
            }
        }
    }
}

/// The multisample layout (SET_SURFACE_FORMAT bits 12-15): a surface stores `factor()` samples
/// per pixel, so coordinates scale by it in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AntiAliasing {
    Center1,
    /// Two samples side by side: twice as wide.
    CenterCorner2,
    /// Four samples in a square: twice as wide and twice as high.
    SquareOffset4,
}

impl AntiAliasing {
    /// Decodes the field; undefined values act as one sample.
    pub fn from_raw(raw: u32) -> AntiAliasing {
        match raw {
            1 => AntiAliasing::CenterCorner2,
            2 => AntiAliasing::SquareOffset4,
            _ => AntiAliasing::Center1,
        }
    }

    /// The horizontal and vertical scale.
    pub fn factor(self) -> (u32, u32) {
        match self {
            AntiAliasing::Center1 => (1, 1),
            AntiAliasing::CenterCorner2 => (2, 1),
            AntiAliasing::SquareOffset4 => (2, 2),
        }
    }
}

/// A pixel as bytes in memory (little-endian, `len` of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PixelBytes {
    bytes: [u8; 4],
    len: usize,
}

impl PixelBytes {
    pub fn new(value: u32, len: u32) -> PixelBytes {
        PixelBytes {
            bytes: value.to_le_bytes(),
            len: (len as usize).min(4),
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The pixel CLEAR_SURFACE writes for a SET_COLOR_CLEAR_VALUE: its low bits, padding forced.
pub fn clear_pixel(format: ColorFormat, clear_value: u32) -> u32 {
    let (keep, set) = format.forced();
    clear_value & keep | set
}

/// [`clear_pixel`] as the bytes stored.
pub fn clear_value_bytes(format: ColorFormat, clear_value: u32) -> PixelBytes {
    PixelBytes::new(clear_pixel(format, clear_value), format.bytes_per_pixel())
}

/// Converts an A8R8G8B8 colour to the surface's pixel: components truncated to the format's
/// widths (5-bit from the top 5 bits, and so on), padding forced. B8 keeps blue; G8B8 keeps
/// green above blue.
pub fn argb_to_pixel(format: ColorFormat, argb: u32) -> u32 {
    let a = argb >> 24;
    let r = argb >> 16 & 0xFF;
    let g = argb >> 8 & 0xFF;
    let b = argb & 0xFF;
    let packed = match format {
        ColorFormat::X1R5G5B5_Z1R5G5B5 | ColorFormat::X1R5G5B5_O1R5G5B5 => {
            (r >> 3) << 10 | (g >> 3) << 5 | b >> 3
        }
        ColorFormat::R5G6B5 => (r >> 3) << 11 | (g >> 2) << 5 | b >> 3,
        ColorFormat::X1A7R8G8B8_Z1A7R8G8B8 | ColorFormat::X1A7R8G8B8_O1A7R8G8B8 => {
            (a >> 1) << 24 | argb & 0x00FF_FFFF
        }
        ColorFormat::B8 => b,
        ColorFormat::G8B8 => g << 8 | b,
        _ => argb,
    };
    clear_pixel(format, packed)
}

/// [`argb_to_pixel`] as the bytes stored: what a clear of that colour leaves in memory once
/// the driver has packed it for the surface.
pub fn argb_to_bytes(format: ColorFormat, argb: u32) -> PixelBytes {
    PixelBytes::new(argb_to_pixel(format, argb), format.bytes_per_pixel())
}

/// The index of pixel (x, y) in a swizzled surface of 2^log_w by 2^log_h pixels.
pub fn swizzle_offset(x: u32, y: u32, log_w: u32, log_h: u32) -> u32 {
    let (log_w, log_h) = (log_w.min(16), log_h.min(16));
    let mut index = 0u32;
    let mut out = 0;
    for bit in 0..log_w.max(log_h) {
        if bit < log_w {
            index |= (x >> bit & 1) << out;
            out += 1;
        }
        if bit < log_h {
            index |= (y >> bit & 1) << out;
            out += 1;
        }
    }
    index
}

/// Expands an n-bit component to 8 bits by repeating its bits from the top.
pub(crate) fn expand(value: u32, bits: u32) -> u32 {
    if bits == 0 {
        return 0;
    }
    let bits = bits.min(8);
    let v = value & ((1 << bits) - 1);
    let (mut out, mut filled) = (0u32, 0);
    while filled < 8 {
        out = out << bits | v;
        filled += bits;
    }
    out >> (filled - 8) & 0xFF
}
