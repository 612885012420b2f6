//! Scan-out: what the CRTC shows, derived from the VGA CRTC, PCRTC and PRAMDAC registers, and
//! [`Display`], the display-side blocks of BAR0 together (PTIMER, PCRTC, PRMCIO/PRMVIO/PRMDIO,
//! PRAMDAC, PVIDEO, PFB) with the couplings between them.
//!
//! The mode (as xemu's display code derives it, from the registers the kernel and Cromwell
//! program; see `vga.rs` for the bit positions):
//! - width: the CRTC horizontal display end, `(end + 1) * 8`;
//! - height: the CRTC vertical display end plus 1, doubled when CR39 says interlaced (1080i's
//!   CRTC counts the lines of one field);
//! - pitch: the CRTC offset, in units of 8 bytes;
//! - format: CR28's depth: 2 is 16-bit, X1R5G5B5 or, with PRAMDAC general control's
//!   ALT_MODE_SEL, R5G6B5; 3 is X8R8G8B8. Depths 0 (VGA) and 1 (8-bit indexed) are not shown;
//! - start: PCRTC START, a RAM address (the VGA start address in CR0C/CR0D only counts in VGA
//!   modes).
//!
//! The picture is the guest's memory as it is: rows of `width` pixels `pitch` bytes apart from
//! `start`, in the guest's format, left for the presenter to convert. An interlaced frame is
//! shown whole, both fields woven as they lie in memory. Bytes past the end of RAM read 0.
//! The palette/gamma table (PRMDIO) is not applied: the kernel and nxdk load an identity ramp,
//! and xemu shows the frame buffer without it too.

use super::pcrtc::{Pcrtc, Timing};
use super::pfb::Pfb;
use super::pramdac::{self, Pramdac};
use super::ptimer::Ptimer;
use super::pvideo::{self, Filter, Pvideo};
use super::vga::Vga;
use crate::frame::{PixelFormat, RawFrame};
use crate::machine::state::{Snapshot, State};

/// The part of a 32-bit register that a `size`-byte access (1, 2 or 4; others clamped) at
/// `offset` covers, as a mask in the register's bit positions, and the shift of its low byte.
/// Bytes beyond the register's end are not covered.
pub(super) fn lane(offset: u32, size: usize) -> (u32, u32) {
    let shift = (offset & 3) * 8;
    let bits = 8 * size.clamp(1, 4) as u32;
    let mask = if bits == 32 {
        u32::MAX
    } else {
        (1 << bits) - 1
    };
    (mask << shift, shift)
}

/// What a `size`-byte read at `offset` returns of a register holding `value`.
pub(super) fn read_lane(value: u32, offset: u32, size: usize) -> u32 {
    let (mask, shift) = lane(offset, size);
    (value & mask) >> shift
}

/// A register holding `old` after a `size`-byte write of `value` at `offset`.
pub(super) fn write_lane(old: u32, offset: u32, size: usize, value: u32) -> u32 {
    let (mask, shift) = lane(offset, size);
    old & !mask | value << shift & mask
}

/// The largest picture shown: beyond every Xbox mode, within what the CRTC can describe.
pub const MAX_WIDTH: u32 = 2048;
pub const MAX_HEIGHT: u32 = 2048;

/// The displayed mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scanout {
    pub width: u32,
    /// Lines of the whole frame (both fields when interlaced).
    pub height: u32,
    /// Bytes from one line's start to the next in memory.
    pub pitch: u32,
    pub format: PixelFormat,
    /// The first pixel's RAM address.
    pub start: u32,
    pub interlaced: bool,
    /// The sequencer blanks the screen (SR01 bit 5): the picture is black.
    pub blank: bool,
}

impl Scanout {
    /// The mode the registers describe, if it is one this shows: a 16- or 32-bit picture no
    /// larger than [`MAX_WIDTH`] x [`MAX_HEIGHT`].
    pub fn derive(vga: &Vga, pcrtc: &Pcrtc, pramdac: &Pramdac) -> Option<Scanout> {
        let format = match vga.pixel_depth() {
            2 if pramdac.alt_mode() => PixelFormat::R5G6B5,
            2 => PixelFormat::X1R5G5B5,
            3 => PixelFormat::X8R8G8B8,
            _ => return None,
        };
        let interlaced = vga.interlaced();
        let height = vga.display_height() * if interlaced { 2 } else { 1 };
        let width = vga.display_width();
        (width <= MAX_WIDTH && height <= MAX_HEIGHT).then_some(Scanout {
            width,
            height,
            pitch: vga.pitch(),
            format,
            start: pcrtc.start(),
            interlaced,
            blank: vga.screen_off(),
        })
    }

    /// The bytes of one line's pixels.
    pub fn row_bytes(&self) -> usize {
        self.width as usize * self.format.bytes_per_pixel()
    }

    /// The picture from guest RAM: the rows at the guest's pitch when that is between one and
    /// two rows' length (else packed), bytes past RAM's end 0, all 0 when blanked.
    pub fn picture(&self, ram: &[u8]) -> RawFrame {
        let (width, height) = (self.width as usize, self.height as usize);
        let row = self.row_bytes();
        let guest_pitch = self.pitch as usize;
        let pitch = if (row..=2 * row).contains(&guest_pitch) {
            guest_pitch
        } else {
            row
        };
        let mut bytes = vec![0; pitch * (height - 1) + row];
        if !self.blank {
            for y in 0..height {
                let from = u64::from(self.start) + (y * guest_pitch) as u64;
                let Ok(from) = usize::try_from(from) else {
                    continue;
                };
                let copy = if pitch == guest_pitch && y + 1 < height {
                    pitch
                } else {
                    row
                };
                let dst = &mut bytes[y * pitch..y * pitch + copy];
                if let Some(src) = ram.get(from..) {
                    let n = copy.min(src.len());
                    dst[..n].copy_from_slice(&src[..n]);
                }
            }
        }
        RawFrame {
            width,
            height,
            pitch,
            format: self.format,
            bytes,
        }
    }
}

/// A mode for [`mode_set_writes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModeRequest {
    pub width: u32,
    /// Lines of the whole frame.
    pub height: u32,
    pub format: PixelFormat,
    pub interlaced: bool,
    /// The frame buffer's RAM address.
    pub start: u32,
    /// Pixels per line and lines per frame, blanking included.
    pub htotal: u32,
    pub vtotal: u32,
}

/// The register writes (BAR0 offset, size, value) that set `mode` up the way the Xbox's
/// software does: the PRAMDAC general control and flat-panel timing, the CRTC registers through
/// PRMCIO's index and data ports one byte at a time (extended registers unlocked first, CR11's
/// protection off), the sequencer's screen-on and PCRTC START. The layout of the values
/// follows Cromwell's `SetGPURegister` and nouveau's NV04 mode setting. For tests, and for
/// anything that sets a mode on the guest's behalf. Meant for widths that are multiples of 8
/// and totals larger than the visible sizes; other values give registers that wrap, never a
/// panic.
pub fn mode_set_writes(mode: &ModeRequest) -> Vec<(u32, usize, u32)> {
    let mut writes = Vec::new();
    let bytes_per_pixel = mode.format.bytes_per_pixel() as u32;
    let lines = if mode.interlaced {
        mode.height / 2
    } else {
        mode.height
    };
    let field_total = if mode.interlaced {
        mode.vtotal / 2
    } else {
        mode.vtotal
    };
    let (depth, alt) = match mode.format {
        PixelFormat::X1R5G5B5 => (2, 0),
        PixelFormat::R5G6B5 => (2, pramdac::GENERAL_CONTROL_ALT_MODE_SEL),
        PixelFormat::X8R8G8B8 => (3, 0),
    };
    let ramdac = |writes: &mut Vec<(u32, usize, u32)>, offset: u32, value: u32| {
        writes.push((PRAMDAC_BASE + offset, 4, value));
    };
    ramdac(
        &mut writes,
        pramdac::GENERAL_CONTROL,
        pramdac::GENERAL_CONTROL_BPC_8BITS | 0x30 | alt,
    );
    for (offset, value) in [
        (pramdac::FP_VDISPLAY_END, lines.wrapping_sub(1)),
        (pramdac::FP_VTOTAL, field_total.wrapping_sub(1)),
        (pramdac::FP_VCRTC, lines.wrapping_sub(1)),
        (pramdac::FP_VSYNC_START, lines.wrapping_add(3)),
        (pramdac::FP_VSYNC_END, lines.wrapping_add(6)),
        (pramdac::FP_VVALID_START, 0),
        (pramdac::FP_VVALID_END, lines.wrapping_sub(1)),
        (pramdac::FP_HDISPLAY_END, mode.width.wrapping_sub(1)),
        (pramdac::FP_HTOTAL, mode.htotal.wrapping_sub(1)),
        (pramdac::FP_HCRTC, mode.width.wrapping_sub(1)),
        (pramdac::FP_HSYNC_START, mode.width.wrapping_add(16)),
        (pramdac::FP_HSYNC_END, mode.width.wrapping_add(48)),
        (pramdac::FP_HVALID_START, 0),
        (pramdac::FP_HVALID_END, mode.width.wrapping_sub(1)),
    ] {
        ramdac(&mut writes, offset, value);
    }
    let hde = (mode.width / 8).wrapping_sub(1);
    let ht = (mode.htotal / 8).wrapping_sub(5);
    let vde = lines.wrapping_sub(1);
    let vt = field_total.wrapping_sub(2);
    let offset = mode.width.wrapping_mul(bytes_per_pixel) / 8;
    let bit = |value: u32, from: u32, to: u32| (value >> from & 1) << to;
    let crtc = [
        (0x1F, 0x57),
        (0x11, 0x00),
        (0x00, ht & 0xFF),
        (0x01, hde & 0xFF),
        (0x02, hde & 0xFF),
        (0x06, vt & 0xFF),
        (
            0x07,
            bit(vt, 8, 0) | bit(vde, 8, 1) | 0x10 | bit(vt, 9, 5) | bit(vde, 9, 6),
        ),
        (0x12, vde & 0xFF),
        (0x13, offset & 0xFF),
        (0x15, vde & 0xFF),
        (0x19, (offset >> 8 & 7) << 5),
        (0x25, bit(vt, 10, 0) | bit(vde, 10, 1) | bit(offset, 11, 5)),
        (0x28, 0x80 | depth),
        (0x2D, bit(ht, 8, 0) | bit(hde, 8, 1)),
        (
            0x39,
            if mode.interlaced {
                mode.htotal / 16
            } else {
                0xFF
            },
        ),
        (0x41, bit(vt, 11, 0) | bit(vde, 11, 2)),
    ];
    for (index, value) in crtc {
        writes.push((PRMCIO_BASE + super::vga::CRX_COLOR, 1, index));
        writes.push((PRMCIO_BASE + super::vga::CR_COLOR, 1, value & 0xFF));
    }
    writes.push((PRMVIO_BASE + super::vga::SR_INDEX, 1, 1));
    writes.push((PRMVIO_BASE + super::vga::SR_DATA, 1, 1));
    writes.push((PCRTC_BASE + super::pcrtc::START, 4, mode.start));
    writes
}

/// Where each block sits in BAR0, and its size.
pub const PVIDEO_BASE: u32 = 0x0000_8000;
pub const PTIMER_BASE: u32 = 0x0000_9000;
pub const PRMVIO_BASE: u32 = 0x000C_0000;
pub const PFB_BASE: u32 = 0x0010_0000;
pub const PCRTC_BASE: u32 = 0x0060_0000;
pub const PRMCIO_BASE: u32 = 0x0060_1000;
pub const PRAMDAC_BASE: u32 = 0x0068_0000;
pub const PRMDIO_BASE: u32 = 0x0068_1000;
const BLOCK_SIZE: u32 = 0x1000;

/// PMC INTR_0's lines for these blocks (xemu `nv2a_regs.h` for PCRTC; envytools `ptimer.rst`
/// for PTIMER; nouveau's NV04 interrupt map for PVIDEO, half of its 0x01010000 display pair).
pub const PMC_INTR_PVIDEO: u32 = 1 << 16;
pub const PMC_INTR_PTIMER: u32 = 1 << 20;
pub const PMC_INTR_PCRTC: u32 = 1 << 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    Pvideo,
    Ptimer,
    Prmvio,
    Pfb,
    Pcrtc,
    Prmcio,
    Pramdac,
    Prmdio,
}

fn block(bar0_offset: u32) -> Option<(Block, u32)> {
    let block = match bar0_offset & !(BLOCK_SIZE - 1) {
        PVIDEO_BASE => Block::Pvideo,
        PTIMER_BASE => Block::Ptimer,
        PRMVIO_BASE => Block::Prmvio,
        PFB_BASE => Block::Pfb,
        PCRTC_BASE => Block::Pcrtc,
        PRMCIO_BASE => Block::Prmcio,
        PRAMDAC_BASE => Block::Pramdac,
        PRMDIO_BASE => Block::Prmdio,
        _ => return None,
    };
    Some((block, bar0_offset & (BLOCK_SIZE - 1)))
}

/// The display-side blocks of the NV2A. Offsets here are BAR0 offsets; the blocks' own
/// `read`/`write` take offsets within each block.
///
/// Couplings: a PRAMDAC NVPLL write re-clocks PTIMER; CRTC and PRAMDAC writes give PCRTC the
/// mode's vertical timing; PRMCIO's input status reads PCRTC's vertical blank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Display {
    pub ptimer: Ptimer,
    pub pcrtc: Pcrtc,
    pub vga: Vga,
    pub pramdac: Pramdac,
    pub pvideo: Pvideo,
    pub pfb: Pfb,
    /// How the overlay is scaled in [`Display::picture`] (not part of the saved state).
    pub overlay_filter: Filter,
}

impl Display {
    /// The blocks at power-on, in a machine with `ram_size` bytes of RAM.
    pub fn new(ram_size: u32) -> Display {
        let pramdac = Pramdac::default();
        Display {
            ptimer: Ptimer::new(pramdac.core_clock()),
            pcrtc: Pcrtc::default(),
            vga: Vga::default(),
            pramdac,
            pvideo: Pvideo::default(),
            pfb: Pfb::new(ram_size),
            overlay_filter: Filter::Bilinear,
        }
    }

    /// Whether BAR0 offset `bar0_offset` lies in one of these blocks.
    pub fn claims(bar0_offset: u32) -> bool {
        block(bar0_offset).is_some()
    }

    /// Reads `size` bytes at BAR0 offset `bar0_offset` (0 outside these blocks).
    pub fn read(&mut self, now: u64, bar0_offset: u32, size: usize) -> u32 {
        let Some((block, offset)) = block(bar0_offset) else {
            return 0;
        };
        match block {
            Block::Pvideo => self.pvideo.read(offset, size),
            Block::Ptimer => self.ptimer.read(now, offset, size),
            Block::Prmvio => self.vga.read_vio(offset, size),
            Block::Pfb => self.pfb.read(offset, size),
            Block::Pcrtc => self.pcrtc.read(now, offset, size),
            Block::Prmcio => {
                let vblank = self.pcrtc.in_vblank(now);
                self.vga.read_cio(offset, size, vblank)
            }
            Block::Pramdac => self.pramdac.read(offset, size),
            Block::Prmdio => self.vga.read_dio(offset, size),
        }
    }

    /// Writes `size` bytes at BAR0 offset `bar0_offset` (dropped outside these blocks).
    pub fn write(&mut self, now: u64, bar0_offset: u32, size: usize, value: u32) {
        let Some((block, offset)) = block(bar0_offset) else {
            return;
        };
        match block {
            Block::Pvideo => self.pvideo.write(offset, size, value),
            Block::Ptimer => self.ptimer.write(now, offset, size, value),
            Block::Prmvio => self.vga.write_vio(offset, size, value),
            Block::Pfb => self.pfb.write(offset, size, value),
            Block::Pcrtc => self.pcrtc.write(now, offset, size, value),
            Block::Prmcio => {
                self.vga.write_cio(offset, size, value);
                self.update_timing(now);
            }
            Block::Pramdac => {
                let clock = self.pramdac.core_clock();
                self.pramdac.write(offset, size, value);
                if self.pramdac.core_clock() != clock {
                    self.ptimer.set_source(now, self.pramdac.core_clock());
                }
                self.update_timing(now);
            }
            Block::Prmdio => self.vga.write_dio(offset, size, value),
        }
    }

    /// PMC INTR_0's bits for these blocks' pending, enabled interrupts.
    pub fn pending(&self) -> u32 {
        let line = |pending: u32, bit: u32| if pending != 0 { bit } else { 0 };
        line(self.pvideo.pending(), PMC_INTR_PVIDEO)
            | line(self.ptimer.pending(), PMC_INTR_PTIMER)
            | line(self.pcrtc.pending(), PMC_INTR_PCRTC)
    }

    /// The next CPU cycle at which one of these blocks raises an interrupt.
    pub fn next_event(&self) -> Option<u64> {
        [self.ptimer.next_event(), self.pcrtc.next_event()]
            .into_iter()
            .flatten()
            .min()
    }

    pub fn tick(&mut self, now: u64) {
        self.ptimer.tick(now);
        self.pcrtc.tick(now);
    }

    /// The displayed mode, if it is one that can be shown.
    pub fn scanout(&self) -> Option<Scanout> {
        Scanout::derive(&self.vga, &self.pcrtc, &self.pramdac)
    }

    /// The picture the CRTC shows now, from `ram`: the guest's pixels in the guest's format,
    /// or, while the overlay is on, the frame converted to X8R8G8B8 with the overlay over it.
    pub fn picture(&self, ram: &[u8]) -> Option<RawFrame> {
        let scanout = self.scanout()?;
        let raw = scanout.picture(ram);
        match self.pvideo.overlay() {
            Some(overlay) if !scanout.blank => {
                let frame = pvideo::composite(raw.view()?, ram, &overlay, self.overlay_filter);
                Some(frame.to_raw())
            }
            _ => Some(raw),
        }
    }

    /// The vertical timing of the mode as PCRTC runs it: the CRTC's visible lines per field,
    /// and the total from PRAMDAC's FP_VTOTAL, else the CRTC's vertical total, else NTSC's
    /// proportion.
    pub fn timing(&self) -> Timing {
        let visible = self.vga.display_height();
        let fp_total = self.pramdac.reg(pramdac::FP_VTOTAL) & 0xFFF;
        let total = if fp_total + 1 > visible {
            fp_total + 1
        } else if self.vga.vertical_total() > visible {
            self.vga.vertical_total()
        } else {
            visible * 525 / 480 + 1
        };
        Timing {
            total_lines: total,
            visible_lines: visible,
            interlaced: self.vga.interlaced(),
        }
    }

    fn update_timing(&mut self, now: u64) {
        let timing = self.timing();
        self.pcrtc.set_timing(now, timing);
    }
}

impl Snapshot for Display {
    fn state(&mut self, s: &mut State) {
        self.ptimer.state(s);
        self.pcrtc.state(s);
        self.vga.state(s);
        self.pramdac.state(s);
        self.pvideo.state(s);
        self.pfb.state(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::CLOCK_HZ;
    use crate::nv2a::{pcrtc, ptimer, pvideo, vga};

    fn mode(width: u32, height: u32, format: PixelFormat) -> ModeRequest {
        let (htotal, vtotal, interlaced) = match (width, height) {
            (640, 480) => (800, 525, false),
            (720, 480) => (858, 525, false),
            (1280, 720) => (1650, 750, false),
            _ => (2200, 1125, true),
        };
        ModeRequest {
            width,
            height,
            format,
            interlaced,
            start: 0x0300_0000,
            htotal,
            vtotal,
        }
    }

    fn program(display: &mut Display, now: u64, mode: &ModeRequest) {
        for (offset, size, value) in mode_set_writes(mode) {
            display.write(now, offset, size, value);
        }
    }

    pub const MODES: [(u32, u32); 4] = [(640, 480), (720, 480), (1280, 720), (1920, 1080)];

    #[test]
    fn lanes_cover_the_bytes_accessed() {
        assert_eq!(lane(0x100, 4), (u32::MAX, 0));
        assert_eq!(lane(0x101, 1), (0xFF00, 8));
        assert_eq!(lane(0x102, 2), (0xFFFF_0000, 16));
        assert_eq!(
            lane(0x103, 2),
            (0xFF00_0000, 24),
            "bytes past the register drop"
        );
        assert_eq!(read_lane(0x1234_5678, 0x101, 2), 0x3456);
        assert_eq!(write_lane(0x1234_5678, 0x102, 1, 0xAB), 0x12AB_5678);
        assert_eq!(write_lane(0, 0, 0, 0xFFFF), 0xFF, "size 0 is one byte");
    }

    #[test]
    fn each_mode_is_derived_from_its_register_writes() {
        for (width, height) in MODES {
            for format in PixelFormat::ALL {
                let mut d = Display::new(64 << 20);
                let m = mode(width, height, format);
                program(&mut d, 1000, &m);
                let s = d.scanout().expect("a picture");
                let pitch = width * format.bytes_per_pixel() as u32;
                assert_eq!(
                    s,
                    Scanout {
                        width,
                        height,
                        pitch,
                        format,
                        start: 0x0300_0000,
                        interlaced: height == 1080,
                        blank: false,
                    },
                    "{width}x{height} {format:?}"
                );
                let t = d.pcrtc.timing();
                let fields = if height == 1080 { 2 } else { 1 };
                assert_eq!(t.visible_lines, height / fields);
                assert_eq!(t.total_lines, m.vtotal / fields);
            }
        }
    }

    #[test]
    fn odd_mode_requests_do_not_panic() {
        for (width, height, htotal, vtotal) in
            [(0, 0, 0, 0), (u32::MAX, u32::MAX, 1, 1), (7, 1, 3, 2)]
        {
            for interlaced in [false, true] {
                let mut d = Display::new(1 << 16);
                let request = ModeRequest {
                    width,
                    height,
                    format: PixelFormat::R5G6B5,
                    interlaced,
                    start: u32::MAX,
                    htotal,
                    vtotal,
                };
                program(&mut d, 0, &request);
                d.picture(&[0; 1 << 16]);
                d.tick(u64::from(u32::MAX));
            }
        }
    }

    #[test]
    fn the_depth_and_alt_mode_pick_the_format() {
        let mut d = Display::new(64 << 20);
        assert_eq!(d.scanout(), None, "VGA at power-on");
        program(&mut d, 0, &mode(640, 480, PixelFormat::R5G6B5));
        assert_eq!(d.scanout().unwrap().format, PixelFormat::R5G6B5);
        d.write(0, PRAMDAC_BASE + pramdac::GENERAL_CONTROL, 4, 0x0010_0030);
        assert_eq!(d.scanout().unwrap().format, PixelFormat::X1R5G5B5);
        for (depth, format) in [(0, None), (1, None), (3, Some(PixelFormat::X8R8G8B8))] {
            d.write(
                0,
                PRMCIO_BASE + vga::CRX_COLOR,
                2,
                0x28 | (0x80 | depth) << 8,
            );
            assert_eq!(d.scanout().map(|s| s.format), format);
        }
    }

    #[test]
    fn the_picture_is_guest_memory_at_the_pitch() {
        let mut ram = vec![0u8; 1 << 20];
        for (i, byte) in ram.iter_mut().enumerate() {
            *byte = (i * 7 + i / 251) as u8;
        }
        let s = Scanout {
            width: 16,
            height: 4,
            pitch: 40,
            format: PixelFormat::R5G6B5,
            start: 0x1000,
            interlaced: false,
            blank: false,
        };
        let raw = s.picture(&ram);
        assert_eq!((raw.width, raw.height, raw.pitch), (16, 4, 40));
        for y in 0..4 {
            for x in 0..16 {
                let at = 0x1000 + y * 40 + x * 2;
                let word = u32::from(ram[at]) | u32::from(ram[at + 1]) << 8;
                assert_eq!(raw.pixel(x, y), Some(word));
            }
        }
        // A pitch wider than two rows is packed; past RAM reads 0; blanking is black.
        let wide = Scanout { pitch: 4096, ..s }.picture(&ram);
        assert_eq!(wide.pitch, 32);
        assert_eq!(
            wide.pixel(3, 2),
            Scanout { pitch: 4096, ..s }.picture(&ram).pixel(3, 2)
        );
        assert_eq!(
            wide.pixel(3, 2).unwrap(),
            u32::from(ram[0x1000 + 8192 + 6]) | u32::from(ram[0x1000 + 8192 + 7]) << 8
        );
        let edge = Scanout {
            start: (1 << 20) - 40,
            ..s
        }
        .picture(&ram);
        assert_ne!(edge.pixel(0, 0), Some(0));
        assert_eq!(edge.pixel(0, 1), Some(0));
        let blank = Scanout { blank: true, ..s }.picture(&ram);
        assert!(blank.bytes.iter().all(|&b| b == 0));
    }

    #[test]
    fn the_overlay_turns_the_picture_into_x8r8g8b8() {
        let mut ram = vec![0u8; 4 << 20];
        let mut d = Display::new(4 << 20);
        program(
            &mut d,
            0,
            &ModeRequest {
                start: 0x10_0000,
                ..mode(640, 480, PixelFormat::R5G6B5)
            },
        );
        assert_eq!(d.picture(&ram).unwrap().format, PixelFormat::R5G6B5);
        // A 4x2 white YUY2 picture at 0x1000, shown at (8, 8).
        for i in 0..4 {
            ram[0x1000 + 4 * i..][..4].copy_from_slice(&[235, 128, 235, 128]);
        }
        for (offset, value) in [
            (pvideo::LIMIT, 0x003F_FFFF),
            (pvideo::OFFSET, 0x1000),
            (pvideo::LUMINANCE, 0x1000),
            (pvideo::CHROMINANCE, 0x1000),
            (pvideo::SIZE_IN, 2 << 16 | 4),
            (pvideo::DS_DX, pvideo::UNITY),
            (pvideo::DT_DY, pvideo::UNITY),
            (pvideo::POINT_OUT, 8 << 16 | 8),
            (pvideo::SIZE_OUT, 2 << 16 | 4),
            (pvideo::FORMAT, pvideo::FORMAT_COLOR_YUY2 | 8),
            (pvideo::BUFFER, 1),
        ] {
            d.write(0, PVIDEO_BASE + offset, 4, value);
        }
        let picture = d.picture(&ram).unwrap();
        assert_eq!(picture.format, PixelFormat::X8R8G8B8);
        assert_eq!(picture.pixel(8, 8), Some(0x00FF_FFFF));
        assert_eq!(picture.pixel(7, 8), Some(0));
        d.write(0, PVIDEO_BASE + pvideo::STOP, 4, 1);
        assert_eq!(d.picture(&ram).unwrap().format, PixelFormat::R5G6B5);
    }

    #[test]
    fn vblank_reaches_pmc_and_input_status() {
        let mut d = Display::new(64 << 20);
        program(&mut d, 0, &mode(720, 480, PixelFormat::X8R8G8B8));
        d.write(0, PCRTC_BASE + pcrtc::INTR_EN_0, 4, 1);
        let at = d.next_event().unwrap();
        d.tick(at - 1);
        assert_eq!(d.pending(), 0);
        assert_eq!(
            d.read(at - 1, PRMCIO_BASE + vga::INPUT_STATUS_1_COLOR, 1),
            0
        );
        d.tick(at);
        assert_eq!(d.pending(), PMC_INTR_PCRTC);
        assert_eq!(d.read(at, PRMCIO_BASE + vga::INPUT_STATUS_1_COLOR, 1), 9);
        assert_eq!(d.read(at, PCRTC_BASE + pcrtc::RASTER, 4) & 0x7FF, 480);
        d.write(at, PCRTC_BASE + pcrtc::INTR_0, 4, 1);
        assert_eq!(d.pending(), 0);
        // 720p: 60000/1001 fields of 750 lines, blanking from line 720.
        program(&mut d, at, &mode(1280, 720, PixelFormat::X8R8G8B8));
        let next = d.next_event().unwrap();
        let expected = at + (u128::from(CLOCK_HZ) * 1001 * 720).div_ceil(60_000 * 750) as u64;
        assert_eq!(next, expected);
    }

    #[test]
    fn an_nvpll_write_reclocks_ptimer() {
        let mut d = Display::new(64 << 20);
        // Half the core clock (P = 2): TIME now runs at half speed from cycle CLOCK_HZ.
        d.write(
            CLOCK_HZ,
            PRAMDAC_BASE + pramdac::NVPLL_COEFF,
            4,
            0x0002_1C01,
        );
        let time = |d: &mut Display, now| {
            u64::from(d.read(now, PTIMER_BASE + ptimer::TIME_1, 4)) << 32
                | u64::from(d.read(now, PTIMER_BASE + ptimer::TIME_0, 4))
        };
        assert_eq!(time(&mut d, CLOCK_HZ), 1_000_000_000);
        assert_eq!(time(&mut d, 3 * CLOCK_HZ), 2_000_000_000);
    }

    #[test]
    fn the_ram_size_and_unclaimed_offsets() {
        let mut d = Display::new(128 << 20);
        assert_eq!(
            d.read(0, PFB_BASE + crate::nv2a::pfb::CSTATUS, 4),
            128 << 20
        );
        assert!(!Display::claims(0x40_0000));
        assert!(Display::claims(PRMDIO_BASE + 0x3C9));
        assert_eq!(d.read(0, 0x40_0000, 4), 0);
        d.write(0, 0x40_0000, 4, 1);
    }

    /// A small deterministic generator for the fuzz test.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u32 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) as u32
        }
    }

    #[test]
    fn random_register_traffic_never_panics() {
        let bases = [
            PVIDEO_BASE,
            PTIMER_BASE,
            PRMVIO_BASE,
            PFB_BASE,
            PCRTC_BASE,
            PRMCIO_BASE,
            PRAMDAC_BASE,
            PRMDIO_BASE,
        ];
        let ram = vec![0x5Au8; 1 << 16];
        let mut rng = Lcg(1);
        let mut d = Display::new(1 << 16);
        let mut now = 0u64;
        for i in 0..200_000 {
            now += u64::from(rng.next() % 5000);
            let base = bases[rng.next() as usize % bases.len()];
            // Mostly the registers that matter, sometimes anywhere in the block.
            let offset = if rng.next().is_multiple_of(4) {
                rng.next() & 0xFFF
            } else {
                [
                    0x100, 0x140, 0x200, 0x210, 0x400, 0x410, 0x420, 0x500, 0x600, 0x700, 0x704,
                    0x800, 0x804, 0x808, 0x900, 0x928, 0x938, 0x950, 0x958, 0x3C0, 0x3C4, 0x3C5,
                    0x3C8, 0x3C9, 0x3D4, 0x3D5, 0x3DA,
                ][rng.next() as usize % 27]
                    + rng.next() % 2
            };
            let size = [1, 2, 4][rng.next() as usize % 3];
            let value = match rng.next() % 4 {
                0 => 0,
                1 => u32::MAX,
                _ => rng.next() ^ rng.next() << 16,
            };
            if rng.next().is_multiple_of(2) {
                d.write(now, base + offset, size, value);
            } else {
                d.read(now, base + offset, size);
            }
            if let Some(at) = d.next_event().filter(|&at| at <= now) {
                d.tick(at);
            }
            if i % 5000 == 0 {
                d.picture(&ram);
            }
        }
        // The far end of time and the largest values.
        d.tick(u64::MAX);
        d.read(u64::MAX, PTIMER_BASE + ptimer::TIME_0, 4);
        d.read(u64::MAX, PCRTC_BASE + pcrtc::RASTER, 4);
        d.picture(&ram);
    }

    #[test]
    fn state_round_trips_and_runs_on_the_same() {
        let mut d = Display::new(64 << 20);
        program(&mut d, 1000, &mode(1920, 1080, PixelFormat::X8R8G8B8));
        d.write(2000, PCRTC_BASE + pcrtc::INTR_EN_0, 4, 1);
        d.write(2000, PTIMER_BASE + ptimer::ALARM_0, 4, 0x10_0000);
        d.write(2000, PTIMER_BASE + ptimer::INTR_EN_0, 4, 1);
        d.write(2000, PRMDIO_BASE + vga::DAC_WRITE_INDEX, 1, 3);
        d.write(2000, PRMDIO_BASE + vga::DAC_DATA, 1, 0x77);
        d.tick(40_000_000);
        let mut bytes = Vec::new();
        d.state(&mut State::saving(&mut bytes));
        let mut e = Display::new(0);
        let mut load = State::loading(&bytes);
        e.state(&mut load);
        assert_eq!(load.remaining(), 0);
        assert_eq!(e, d);
        for now in [50_000_000, 60_000_000, 123_456_789] {
            assert_eq!(e.next_event(), d.next_event());
            e.tick(now);
            d.tick(now);
            assert_eq!(
                e.read(now, PCRTC_BASE + pcrtc::RASTER, 4),
                d.read(now, PCRTC_BASE + pcrtc::RASTER, 4)
            );
            assert_eq!(e.pending(), d.pending());
        }
        // A hand-made state with wild values loads without panicking and stays usable.
        let junk: Vec<u8> = (0..bytes.len()).map(|i| (i * 131 + 17) as u8).collect();
        let mut f = Display::new(0);
        f.state(&mut State::loading(&junk));
        f.tick(1 << 40);
        f.read(1 << 40, PCRTC_BASE + pcrtc::RASTER, 4);
        f.read(1 << 40, PTIMER_BASE + ptimer::TIME_0, 4);
        f.picture(&[0u8; 4096]);
    }
}
