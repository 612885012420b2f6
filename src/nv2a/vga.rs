//! The NV2A's VGA core as BAR0 aliases it: PRMCIO (0x601000: the CRTC and attribute
//! controller), PRMVIO (0x0C0000: the sequencer, graphics controller and miscellaneous output
//! register) and PRMDIO (0x681000: the palette DAC). Each alias puts a port at its VGA I/O
//! address as the offset in the block: PRMCIO 0x3D4 is the CRTC index, 0x3D5 its data.
//!
//! Ports (sources: the VGA register set as documented in envytools `nv_vga.xml`, xemu's
//! `prmcio.c`/`prmvio.c`/`prmdio.c` and `nv2a_regs.h`, nouveau's `nvreg.h`):
//! - PRMCIO: 0x3D4/0x3D5 CRTC index/data (0x3B4/0x3B5 alias them), 0x3C0 attribute index and
//!   data on alternate writes, 0x3C1 attribute data read, 0x3DA (and 0x3BA) input status 1 on
//!   read (bit 3 vertical retrace, bit 0 display disabled; reading resets the attribute
//!   flip-flop) and feature control on write, 0x3C2 input status 0 (reads 0).
//! - PRMVIO: 0x3C2 miscellaneous output write, 0x3CC its read, 0x3CA feature control read,
//!   0x3C3 VGA enable, 0x3C4/0x3C5 sequencer index/data, 0x3CE/0x3CF graphics index/data.
//! - PRMDIO: 0x3C6 pixel mask, 0x3C7 palette read index (write) and DAC state (read), 0x3C8
//!   palette write index, 0x3C9 palette data (red, green, blue in turn, then the next entry).
//!   The palette starts as a grey ramp, as in xemu. The scan-out here does not apply it (see
//!   `scanout.rs`).
//!
//! The CRTC registers that make the mode, standard and NVIDIA-extended (bit positions as xemu's
//! display code and nouveau's mode setting use them, Cromwell writes them):
//! - horizontal display end: CR01, bit 8 in CR2D bit 1; width = (end + 1) * 8 pixels;
//! - vertical display end: CR12, bit 8 in CR07 bit 1, bit 9 in CR07 bit 6, bit 10 in CR25 bit 1,
//!   bit 11 in CR41 bit 2; lines = end + 1 (per field when interlaced);
//! - vertical total: CR06, bit 8 in CR07 bit 0, bit 9 in CR07 bit 5, bit 10 in CR25 bit 0, bit
//!   11 in CR41 bit 0; total = value + 2;
//! - the offset (pitch): CR13, bits 10-8 in CR19 bits 7-5, bit 11 in CR25 bit 5; in units of 8
//!   bytes;
//! - CR28 pixel depth in bits 1-0 (0 VGA, 1 8-bit, 2 16-bit, 3 32-bit), bit 7 set when the CRTC
//!   is slaved to the TV encoder's timing;
//! - CR39 interlace: 0xFF is progressive, anything else interlaced (xemu: "used only in 1080i");
//! - CR1F the extended-register lock (0x57 unlocks, 0x99 locks), kept but not enforced.
//!
//! CR11 bit 7 write-protects CR00-CR07 (except CR07 bit 4), as on any VGA. Reset: every
//! register 0 except CR39 = 0xFF (progressive) and the palette ramp.

use crate::machine::state::{Snapshot, State};

/// CRTC index registers (and their data ports' offsets) in PRMCIO.
pub const CRX_COLOR: u32 = 0x3D4;
pub const CR_COLOR: u32 = 0x3D5;
pub const CRX_MONO: u32 = 0x3B4;
pub const CR_MONO: u32 = 0x3B5;
pub const AR_INDEX: u32 = 0x3C0;
pub const AR_READ: u32 = 0x3C1;
pub const INPUT_STATUS_0: u32 = 0x3C2;
pub const INPUT_STATUS_1_COLOR: u32 = 0x3DA;
pub const INPUT_STATUS_1_MONO: u32 = 0x3BA;
/// PRMVIO ports.
pub const MISC_WRITE: u32 = 0x3C2;
pub const VGA_ENABLE: u32 = 0x3C3;
pub const SR_INDEX: u32 = 0x3C4;
pub const SR_DATA: u32 = 0x3C5;
pub const FEATURE_READ: u32 = 0x3CA;
pub const MISC_READ: u32 = 0x3CC;
pub const GR_INDEX: u32 = 0x3CE;
pub const GR_DATA: u32 = 0x3CF;
/// PRMDIO ports.
pub const DAC_MASK: u32 = 0x3C6;
pub const DAC_READ_INDEX: u32 = 0x3C7;
pub const DAC_WRITE_INDEX: u32 = 0x3C8;
pub const DAC_DATA: u32 = 0x3C9;

/// CRTC register numbers.
pub const CR_HDISPLAY_END: u8 = 0x01;
pub const CR_VTOTAL: u8 = 0x06;
pub const CR_OVERFLOW: u8 = 0x07;
pub const CR_VRETRACE_END: u8 = 0x11;
pub const CR_VDISPLAY_END: u8 = 0x12;
pub const CR_OFFSET: u8 = 0x13;
pub const CR_REPAINT0: u8 = 0x19;
pub const CR_LOCK: u8 = 0x1F;
pub const CR_EXTRA_VERTICAL: u8 = 0x25;
pub const CR_ATTRIBUTE_INDEX: u8 = 0x26;
pub const CR_PIXEL: u8 = 0x28;
pub const CR_EXTRA_HORIZONTAL: u8 = 0x2D;
pub const CR_INTERLACE: u8 = 0x39;
pub const CR_EXTRA_VERTICAL_2: u8 = 0x41;

/// CR39's value for a progressive picture.
pub const INTERLACE_OFF: u8 = 0xFF;
/// SR01 bit 5: screen off.
const SR01_SCREEN_OFF: u8 = 1 << 5;
/// Input status 1: display disabled (blanking) and vertical retrace.
const STATUS1_BLANK: u8 = 1 << 0;
const STATUS1_RETRACE: u8 = 1 << 3;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vga {
    cr: [u8; 256],
    cr_index: u8,
    sr: [u8; 256],
    sr_index: u8,
    gr: [u8; 256],
    gr_index: u8,
    ar: [u8; 32],
    ar_index: u8,
    /// The attribute controller's next write to 0x3C0 is data (else an index).
    ar_data_next: bool,
    misc: u8,
    feature: u8,
    enable: u8,
    palette: [u8; 768],
    pixel_mask: u8,
    dac_write_index: u8,
    dac_read_index: u8,
    /// Which of red, green, blue the next data access is.
    dac_component: u8,
    /// The last index written was the read index (DAC state 3) rather than the write index.
    dac_reading: bool,
}

impl Default for Vga {
    fn default() -> Vga {
        let mut cr = [0; 256];
        cr[usize::from(CR_INTERLACE)] = INTERLACE_OFF;
        let mut palette = [0; 768];
        for (i, entry) in palette.chunks_exact_mut(3).enumerate() {
            entry.fill(i as u8);
        }
        Vga {
            cr,
            cr_index: 0,
            sr: [0; 256],
            sr_index: 0,
            gr: [0; 256],
            gr_index: 0,
            ar: [0; 32],
            ar_index: 0,
            ar_data_next: false,
            misc: 0,
            feature: 0,
            enable: 0,
            palette,
            pixel_mask: 0xFF,
            dac_write_index: 0,
            dac_read_index: 0,
            dac_component: 0,
            dac_reading: false,
        }
    }
}

/// Splits a `size`-byte access at `offset` into byte ports.
fn bytes(offset: u32, size: usize) -> impl Iterator<Item = (u32, u32)> {
    (0..size.clamp(1, 4) as u32).map(move |k| (offset.wrapping_add(k), 8 * k))
}

impl Vga {
    /// Reads PRMCIO; `vblank` is whether the CRTC is in vertical blanking now.
    pub fn read_cio(&mut self, offset: u32, size: usize, vblank: bool) -> u32 {
        bytes(offset, size).fold(0, |value, (port, shift)| {
            value | u32::from(self.read_cio_byte(port & 0xFFF, vblank)) << shift
        })
    }

    pub fn write_cio(&mut self, offset: u32, size: usize, value: u32) {
        for (port, shift) in bytes(offset, size) {
            self.write_cio_byte(port & 0xFFF, (value >> shift) as u8);
        }
    }

    pub fn read_vio(&mut self, offset: u32, size: usize) -> u32 {
        bytes(offset, size).fold(0, |value, (port, shift)| {
            value | u32::from(self.read_vio_byte(port & 0xFFF)) << shift
        })
    }

    pub fn write_vio(&mut self, offset: u32, size: usize, value: u32) {
        for (port, shift) in bytes(offset, size) {
            self.write_vio_byte(port & 0xFFF, (value >> shift) as u8);
        }
    }

    pub fn read_dio(&mut self, offset: u32, size: usize) -> u32 {
        bytes(offset, size).fold(0, |value, (port, shift)| {
            value | u32::from(self.read_dio_byte(port & 0xFFF)) << shift
        })
    }

    pub fn write_dio(&mut self, offset: u32, size: usize, value: u32) {
        for (port, shift) in bytes(offset, size) {
            self.write_dio_byte(port & 0xFFF, (value >> shift) as u8);
        }
    }

    fn read_cio_byte(&mut self, port: u32, vblank: bool) -> u8 {
        match port {
            CRX_COLOR | CRX_MONO => self.cr_index,
            CR_COLOR | CR_MONO => match self.cr_index {
                CR_ATTRIBUTE_INDEX => self.ar_index,
                index => self.cr[usize::from(index)],
            },
            AR_INDEX => self.ar_index,
            AR_READ => self.ar[usize::from(self.ar_index & 0x1F)],
            INPUT_STATUS_1_COLOR | INPUT_STATUS_1_MONO => {
                self.ar_data_next = false;
                if vblank {
                    STATUS1_RETRACE | STATUS1_BLANK
                } else {
                    0
                }
            }
            _ => 0,
        }
    }

    fn write_cio_byte(&mut self, port: u32, value: u8) {
        match port {
            CRX_COLOR | CRX_MONO => self.cr_index = value,
            CR_COLOR | CR_MONO => self.write_crtc(self.cr_index, value),
            AR_INDEX => {
                if self.ar_data_next {
                    self.ar[usize::from(self.ar_index & 0x1F)] = value;
                } else {
                    self.ar_index = value & 0x3F;
                }
                self.ar_data_next = !self.ar_data_next;
            }
            INPUT_STATUS_1_COLOR | INPUT_STATUS_1_MONO => self.feature = value,
            _ => {}
        }
    }

    fn read_vio_byte(&self, port: u32) -> u8 {
        match port {
            MISC_READ => self.misc,
            FEATURE_READ => self.feature,
            VGA_ENABLE => self.enable,
            SR_INDEX => self.sr_index,
            SR_DATA => self.sr[usize::from(self.sr_index)],
            GR_INDEX => self.gr_index,
            GR_DATA => self.gr[usize::from(self.gr_index)],
            _ => 0,
        }
    }

    fn write_vio_byte(&mut self, port: u32, value: u8) {
        match port {
            MISC_WRITE => self.misc = value,
            VGA_ENABLE => self.enable = value,
            SR_INDEX => self.sr_index = value,
            SR_DATA => self.sr[usize::from(self.sr_index)] = value,
            GR_INDEX => self.gr_index = value,
            GR_DATA => self.gr[usize::from(self.gr_index)] = value,
            _ => {}
        }
    }

    fn read_dio_byte(&mut self, port: u32) -> u8 {
        match port {
            DAC_MASK => self.pixel_mask,
            DAC_READ_INDEX => 3 * u8::from(self.dac_reading),
            DAC_WRITE_INDEX => self.dac_write_index,
            DAC_DATA => {
                let at = usize::from(self.dac_read_index) * 3 + usize::from(self.dac_component);
                let value = self.palette[at];
                if self.step_component() {
                    self.dac_read_index = self.dac_read_index.wrapping_add(1);
                }
                value
            }
            _ => 0,
        }
    }

    fn write_dio_byte(&mut self, port: u32, value: u8) {
        match port {
            DAC_MASK => self.pixel_mask = value,
            DAC_READ_INDEX => {
                self.dac_read_index = value;
                self.dac_component = 0;
                self.dac_reading = true;
            }
            DAC_WRITE_INDEX => {
                self.dac_write_index = value;
                self.dac_component = 0;
                self.dac_reading = false;
            }
            DAC_DATA => {
                let at = usize::from(self.dac_write_index) * 3 + usize::from(self.dac_component);
                self.palette[at] = value;
                if self.step_component() {
                    self.dac_write_index = self.dac_write_index.wrapping_add(1);
                }
            }
            _ => {}
        }
    }

    /// Moves to the next colour component; true when that wrapped to the next entry.
    fn step_component(&mut self) -> bool {
        self.dac_component += 1;
        if self.dac_component == 3 {
            self.dac_component = 0;
            true
        } else {
            false
        }
    }

    fn write_crtc(&mut self, index: u8, value: u8) {
        let protected = self.cr[usize::from(CR_VRETRACE_END)] & 0x80 != 0;
        match index {
            0x00..=0x06 if protected => {}
            CR_OVERFLOW if protected => {
                let keep = self.cr[usize::from(CR_OVERFLOW)] & !0x10;
                self.cr[usize::from(CR_OVERFLOW)] = keep | value & 0x10;
            }
            _ => self.cr[usize::from(index)] = value,
        }
    }

    /// CRTC register `index` as last written.
    pub fn crtc(&self, index: u8) -> u8 {
        self.cr[usize::from(index)]
    }

    pub fn sequencer(&self, index: u8) -> u8 {
        self.sr[usize::from(index)]
    }

    /// Palette entry `index` as (red, green, blue).
    pub fn palette(&self, index: u8) -> [u8; 3] {
        let at = usize::from(index) * 3;
        [self.palette[at], self.palette[at + 1], self.palette[at + 2]]
    }

    /// CR28's depth: 0 VGA, 1 8-bit, 2 16-bit, 3 32-bit pixels.
    pub fn pixel_depth(&self) -> u8 {
        self.crtc(CR_PIXEL) & 3
    }

    /// CR28 bit 7: the CRTC runs on the TV encoder's timing.
    pub fn slaved_to_encoder(&self) -> bool {
        self.crtc(CR_PIXEL) & 0x80 != 0
    }

    /// The visible pixels per line.
    pub fn display_width(&self) -> u32 {
        let end = u32::from(self.crtc(CR_HDISPLAY_END))
            | u32::from(self.crtc(CR_EXTRA_HORIZONTAL) & 2) << 7;
        (end + 1) * 8
    }

    /// The visible lines per field.
    pub fn display_height(&self) -> u32 {
        let overflow = u32::from(self.crtc(CR_OVERFLOW));
        let end = u32::from(self.crtc(CR_VDISPLAY_END))
            | (overflow & 0x02) << 7
            | (overflow & 0x40) << 3
            | u32::from(self.crtc(CR_EXTRA_VERTICAL) & 0x02) << 9
            | u32::from(self.crtc(CR_EXTRA_VERTICAL_2) & 0x04) << 9;
        end + 1
    }

    /// The lines per field, blanking included.
    pub fn vertical_total(&self) -> u32 {
        let overflow = u32::from(self.crtc(CR_OVERFLOW));
        let total = u32::from(self.crtc(CR_VTOTAL))
            | (overflow & 0x01) << 8
            | (overflow & 0x20) << 4
            | u32::from(self.crtc(CR_EXTRA_VERTICAL) & 0x01) << 10
            | u32::from(self.crtc(CR_EXTRA_VERTICAL_2) & 0x01) << 11;
        total + 2
    }

    /// The bytes from one line's start to the next.
    pub fn pitch(&self) -> u32 {
        let offset = u32::from(self.crtc(CR_OFFSET))
            | u32::from(self.crtc(CR_REPAINT0) & 0xE0) << 3
            | u32::from(self.crtc(CR_EXTRA_VERTICAL) & 0x20) << 6;
        offset * 8
    }

    pub fn interlaced(&self) -> bool {
        self.crtc(CR_INTERLACE) != INTERLACE_OFF
    }

    /// SR01 bit 5: the sequencer blanks the screen.
    pub fn screen_off(&self) -> bool {
        self.sequencer(1) & SR01_SCREEN_OFF != 0
    }
}

impl Snapshot for Vga {
    fn state(&mut self, s: &mut State) {
        s.bytes(&mut self.cr);
        s.u8(&mut self.cr_index);
        s.bytes(&mut self.sr);
        s.u8(&mut self.sr_index);
        s.bytes(&mut self.gr);
        s.u8(&mut self.gr_index);
        s.bytes(&mut self.ar);
        s.u8(&mut self.ar_index);
        s.bool(&mut self.ar_data_next);
        s.u8(&mut self.misc);
        s.u8(&mut self.feature);
        s.u8(&mut self.enable);
        s.bytes(&mut self.palette);
        s.u8(&mut self.pixel_mask);
        s.u8(&mut self.dac_write_index);
        s.u8(&mut self.dac_read_index);
        s.u8(&mut self.dac_component);
        s.bool(&mut self.dac_reading);
        if s.is_loading() {
            self.dac_component %= 3;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_cr(vga: &mut Vga, index: u8, value: u8) {
        vga.write_cio(CRX_COLOR, 1, u32::from(index));
        vga.write_cio(CR_COLOR, 1, u32::from(value));
    }

    #[test]
    fn crtc_registers_go_through_index_and_data() {
        let mut vga = Vga::default();
        set_cr(&mut vga, 0x13, 0x40);
        assert_eq!(vga.crtc(0x13), 0x40);
        // A word write puts the index in the low byte and the data in the high one.
        vga.write_cio(CRX_COLOR, 2, 0x2019);
        assert_eq!(vga.crtc(0x19), 0x20);
        assert_eq!(vga.read_cio(CRX_COLOR, 2, false), 0x2019);
        assert_eq!(vga.pitch(), 320 * 8);
        // The monochrome ports are the same registers.
        vga.write_cio(CRX_MONO, 1, 0x13);
        assert_eq!(vga.read_cio(CR_MONO, 1, false), 0x40);
    }

    #[test]
    fn cr11_protects_the_horizontal_registers() {
        let mut vga = Vga::default();
        set_cr(&mut vga, 0x01, 79);
        set_cr(&mut vga, 0x07, 0x00);
        set_cr(&mut vga, 0x11, 0x80);
        set_cr(&mut vga, 0x01, 99);
        set_cr(&mut vga, 0x07, 0xFF);
        assert_eq!(vga.crtc(0x01), 79);
        assert_eq!(
            vga.crtc(0x07),
            0x10,
            "only the line-compare bit gets through"
        );
        set_cr(&mut vga, 0x11, 0x00);
        set_cr(&mut vga, 0x01, 99);
        assert_eq!(vga.crtc(0x01), 99);
    }

    #[test]
    fn input_status_shows_retrace_and_resets_the_attribute_flip_flop() {
        let mut vga = Vga::default();
        vga.write_cio(AR_INDEX, 1, 0x10);
        vga.write_cio(AR_INDEX, 1, 0x41);
        assert_eq!(vga.ar[0x10], 0x41);
        vga.write_cio(AR_INDEX, 1, 0x11);
        assert_eq!(vga.read_cio(INPUT_STATUS_1_COLOR, 1, true), 9);
        assert_eq!(vga.read_cio(INPUT_STATUS_1_COLOR, 1, false), 0);
        // After the status read the next 0x3C0 write is an index again.
        vga.write_cio(AR_INDEX, 1, 0x12);
        assert_eq!(vga.read_cio(AR_INDEX, 1, false), 0x12);
        vga.write_cio(AR_INDEX, 1, 0x05);
        assert_eq!(vga.read_cio(AR_READ, 1, false), 0x05);
        set_cr(&mut vga, 0x26, 0);
        vga.write_cio(CRX_COLOR, 1, 0x26);
        assert_eq!(vga.read_cio(CR_COLOR, 1, false), 0x12);
    }

    #[test]
    fn the_palette_takes_three_components_an_entry() {
        let mut vga = Vga::default();
        assert_eq!(vga.palette(0x80), [0x80; 3], "a grey ramp at reset");
        vga.write_dio(DAC_WRITE_INDEX, 1, 0xFF);
        for v in [1, 2, 3, 4, 5, 6] {
            vga.write_dio(DAC_DATA, 1, v);
        }
        assert_eq!(vga.palette(0xFF), [1, 2, 3]);
        assert_eq!(vga.palette(0x00), [4, 5, 6], "the index wraps");
        vga.write_dio(DAC_READ_INDEX, 1, 0xFF);
        assert_eq!(vga.read_dio(DAC_READ_INDEX, 1), 3);
        let read: Vec<u32> = (0..4).map(|_| vga.read_dio(DAC_DATA, 1)).collect();
        assert_eq!(read, [1, 2, 3, 4]);
    }

    #[test]
    fn sequencer_graphics_and_misc_keep_their_values() {
        let mut vga = Vga::default();
        vga.write_vio(SR_INDEX, 2, 0x2001);
        assert!(vga.screen_off());
        vga.write_vio(GR_INDEX, 1, 6);
        vga.write_vio(GR_DATA, 1, 0x05);
        vga.write_vio(MISC_WRITE, 1, 0xE3);
        assert_eq!(vga.read_vio(GR_DATA, 1), 5);
        assert_eq!(vga.read_vio(MISC_READ, 1), 0xE3);
        assert_eq!(vga.read_vio(MISC_WRITE, 1), 0, "0x3C2 reads nothing here");
    }

    #[test]
    fn state_round_trips() {
        let mut vga = Vga::default();
        set_cr(&mut vga, 0x28, 0x83);
        vga.write_dio(DAC_WRITE_INDEX, 1, 7);
        vga.write_dio(DAC_DATA, 1, 9);
        let mut bytes = Vec::new();
        vga.state(&mut State::saving(&mut bytes));
        let mut other = Vga::default();
        other.state(&mut State::loading(&bytes));
        assert_eq!(other, vga);
    }
}
