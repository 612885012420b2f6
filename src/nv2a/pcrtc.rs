//! PCRTC (BAR0 0x600000): the CRTC's NVIDIA side: the scan-out start address, the vertical
//! blank interrupt and the raster position.
//!
//! Registers (offsets in the block; sources: xemu `nv2a_regs.h` and `pcrtc.c`, the NV register
//! reference names of nv2a register dumps (`NV_PCRTC_RASTER_*`), nxdk's `video.c`):
//! - 0x100 INTR_0: bit 0 VBLANK, set at the start of each field's vertical blanking whether or
//!   not enabled; write 1 to clear. 0x140 INTR_EN_0: bit 0 puts it on PMC's PCRTC line.
//! - 0x800 START: the scan-out start address in RAM (bits 31-2; bits 1-0 read 0).
//! - 0x804 CONFIG: storage (bits 2-0 the start-address source, bit 31 endianness).
//! - 0x808 RASTER, read-only: bits 10-0 the line being scanned in the current field, bit 16
//!   VERT_BLANK while that line is past the visible ones, bit 20 FIELD, the field's parity in
//!   interlaced modes.
//! - everything else (cursor, GPIO, ...) is storage.
//!
//! Timing comes from emulated time, never the host's. The fields follow one another at the
//! field rate: on the Xbox the CRTC is slaved to the TV encoder (CR28 bit 7), whose rate the
//! NV2A's registers do not hold, so the machine sets it from its video standard with
//! [`Pcrtc::set_field_rate`]: NTSC and PAL-60 60000/1001 Hz (the default; 480p, 720p and 1080i
//! run at it too), PAL 50 Hz. Within a field the raster moves evenly through the field's
//! total lines, and vertical blanking starts after the visible ones; both come from the mode
//! (see [`Timing`]). A change of timing or rate starts a new field at that moment.

use super::scanout::{lane, read_lane, write_lane};
use crate::cpu::CLOCK_HZ;
use crate::machine::state::{Snapshot, State};

pub const INTR_0: u32 = 0x100;
pub const INTR_EN_0: u32 = 0x140;
pub const START: u32 = 0x800;
pub const CONFIG: u32 = 0x804;
pub const RASTER: u32 = 0x808;

/// INTR_0 / INTR_EN_0: vertical blanking began.
pub const INTR_VBLANK: u32 = 1 << 0;
/// RASTER fields.
pub const RASTER_POSITION: u32 = 0x7FF;
pub const RASTER_VERT_BLANK: u32 = 1 << 16;
pub const RASTER_FIELD: u32 = 1 << 20;

/// NTSC's field rate, 60000/1001 Hz.
pub const NTSC_FIELD_RATE: (u64, u64) = (60_000, 1_001);
/// PAL's, 50 Hz.
pub const PAL_FIELD_RATE: (u64, u64) = (50, 1);

const REGISTERS: usize = 0x1000 / 4;

/// The vertical shape of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Lines per field, blanking included (at least `visible_lines + 1`).
    pub total_lines: u32,
    /// Lines shown per field before vertical blanking.
    pub visible_lines: u32,
    pub interlaced: bool,
}

impl Timing {
    /// NTSC's 525-line frame with 480 lines shown: what the raster runs on before any mode.
    pub const DEFAULT: Timing = Timing {
        total_lines: 525,
        visible_lines: 480,
        interlaced: false,
    };

    /// Keeps the numbers in range: 1-2047 visible lines, more lines in total, up to 4095.
    fn sane(self) -> Timing {
        let visible_lines = self.visible_lines.clamp(1, 2047);
        Timing {
            total_lines: self.total_lines.clamp(visible_lines + 1, 4095),
            visible_lines,
            interlaced: self.interlaced,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pcrtc {
    regs: Box<[u32; REGISTERS]>,
    intr: u32,
    intr_en: u32,
    start: u32,
    timing: Timing,
    /// Fields per second, `rate.0 / rate.1`.
    rate: (u64, u64),
    /// The CPU cycle at which field number `fields_before` began; fields have run at the
    /// current timing and rate since.
    epoch: u64,
    fields_before: u64,
    /// Vertical blanks since `epoch` already latched into INTR_0.
    vblanks_seen: u64,
}

impl Default for Pcrtc {
    fn default() -> Pcrtc {
        Pcrtc {
            regs: Box::new([0; REGISTERS]),
            intr: 0,
            intr_en: 0,
            start: 0,
            timing: Timing::DEFAULT,
            rate: NTSC_FIELD_RATE,
            epoch: 0,
            fields_before: 0,
            vblanks_seen: 0,
        }
    }
}

impl Pcrtc {
    /// Reads `size` bytes (1, 2 or 4) at `offset`.
    pub fn read(&mut self, now: u64, offset: u32, size: usize) -> u32 {
        self.tick(now);
        let value = match offset & 0xFFC {
            INTR_0 => self.intr,
            INTR_EN_0 => self.intr_en,
            START => self.start,
            RASTER => self.raster(now),
            register => self.regs[register as usize / 4],
        };
        read_lane(value, offset, size)
    }

    pub fn write(&mut self, now: u64, offset: u32, size: usize, value: u32) {
        self.tick(now);
        match offset & 0xFFC {
            INTR_0 => {
                let (mask, shift) = lane(offset, size);
                self.intr &= !(value << shift & mask);
            }
            INTR_EN_0 => self.intr_en = write_lane(self.intr_en, offset, size, value),
            START => self.start = write_lane(self.start, offset, size, value) & !3,
            RASTER => {}
            register => {
                let slot = &mut self.regs[register as usize / 4];
                *slot = write_lane(*slot, offset, size, value);
            }
        }
    }

    /// The enabled interrupts that are pending (PMC's PCRTC line while non-zero).
    pub fn pending(&self) -> u32 {
        self.intr & self.intr_en
    }

    /// The CPU cycle of the next vertical blank, while that would raise the interrupt line.
    pub fn next_event(&self) -> Option<u64> {
        (self.intr_en & INTR_VBLANK != 0 && self.intr & INTR_VBLANK == 0)
            .then(|| self.vblank_cycle(self.vblanks_seen))
            .flatten()
    }

    /// Latches the vertical blanks that have begun by `now`.
    pub fn tick(&mut self, now: u64) {
        let count = self.vblanks_by(now);
        if count > self.vblanks_seen {
            self.intr |= INTR_VBLANK;
            self.vblanks_seen = count;
        }
    }

    /// The scan-out start address.
    pub fn start(&self) -> u32 {
        self.start
    }

    pub fn timing(&self) -> Timing {
        self.timing
    }

    pub fn field_rate(&self) -> (u64, u64) {
        self.rate
    }

    /// The mode's vertical timing changed: a new field begins at `now` if it differs.
    pub fn set_timing(&mut self, now: u64, timing: Timing) {
        let timing = timing.sane();
        if timing != self.timing {
            self.rebase(now);
            self.timing = timing;
        }
    }

    /// Sets the field rate to `num / den` Hz (both non-zero); a new field begins at `now` if
    /// it differs.
    pub fn set_field_rate(&mut self, now: u64, num: u64, den: u64) {
        let rate = (num.max(1), den.max(1));
        if rate != self.rate {
            self.rebase(now);
            self.rate = rate;
        }
    }

    /// Fields begun since power-on, counting the one under way.
    pub fn fields(&self, now: u64) -> u64 {
        self.fields_before + self.field_index(now) + 1
    }

    /// Whether the raster is in vertical blanking at `now`.
    pub fn in_vblank(&self, now: u64) -> bool {
        self.line(now) >= self.timing.visible_lines
    }

    /// RASTER's value at `now`.
    pub fn raster(&self, now: u64) -> u32 {
        let line = self.line(now);
        let mut value = line & RASTER_POSITION;
        if line >= self.timing.visible_lines {
            value |= RASTER_VERT_BLANK;
        }
        if self.timing.interlaced && (self.fields(now) - 1) & 1 == 1 {
            value |= RASTER_FIELD;
        }
        value
    }

    /// CPU cycles times the rate's numerator since the epoch: the field clock, in units where
    /// a field is `CLOCK_HZ * rate.1`.
    fn phase(&self, now: u64) -> u128 {
        u128::from(now.saturating_sub(self.epoch)) * u128::from(self.rate.0)
    }

    fn field_length(&self) -> u128 {
        u128::from(CLOCK_HZ) * u128::from(self.rate.1)
    }

    fn field_index(&self, now: u64) -> u64 {
        (self.phase(now) / self.field_length()) as u64
    }

    /// The line of the current field being scanned.
    fn line(&self, now: u64) -> u32 {
        let within = self.phase(now) % self.field_length();
        (within * u128::from(self.timing.total_lines) / self.field_length()) as u32
    }

    /// Vertical blanks begun from the epoch up to and including `now`: field n's starts at
    /// line `visible_lines` of it.
    fn vblanks_by(&self, now: u64) -> u64 {
        let total = u128::from(self.timing.total_lines);
        let scaled = self.phase(now) * total;
        let first = u128::from(self.timing.visible_lines) * self.field_length();
        if scaled < first {
            0
        } else {
            ((scaled - first) / (self.field_length() * total) + 1) as u64
        }
    }

    /// The CPU cycle at which vertical blank number `n` (from the epoch) begins.
    fn vblank_cycle(&self, n: u64) -> Option<u64> {
        let total = u128::from(self.timing.total_lines);
        let lines = u128::from(n) * total + u128::from(self.timing.visible_lines);
        let cycles = (lines * self.field_length()).div_ceil(u128::from(self.rate.0) * total);
        u64::try_from(cycles)
            .ok()
            .and_then(|c| self.epoch.checked_add(c))
    }

    /// Ends the field under way at `now` (latching what happened before) and starts the next.
    fn rebase(&mut self, now: u64) {
        let now = now.max(self.epoch);
        self.tick(now);
        self.fields_before += self.field_index(now) + 1;
        self.epoch = now;
        self.vblanks_seen = 0;
    }
}

impl Snapshot for Pcrtc {
    fn state(&mut self, s: &mut State) {
        s.u32s(&mut self.regs[..]);
        s.u32(&mut self.intr);
        s.u32(&mut self.intr_en);
        s.u32(&mut self.start);
        s.u32(&mut self.timing.total_lines);
        s.u32(&mut self.timing.visible_lines);
        s.bool(&mut self.timing.interlaced);
        s.u64(&mut self.rate.0);
        s.u64(&mut self.rate.1);
        s.u64(&mut self.epoch);
        s.u64(&mut self.fields_before);
        s.u64(&mut self.vblanks_seen);
        if s.is_loading() {
            self.timing = self.timing.sane();
            self.rate = (self.rate.0.max(1), self.rate.1.max(1));
            self.start &= !3;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the interrupt the way the board would: to each event, acknowledging as a driver
    /// does, and counts the vertical blanks up to `end`.
    fn count_vblanks(p: &mut Pcrtc, end: u64) -> (u64, Vec<u64>) {
        p.write(0, INTR_EN_0, 4, INTR_VBLANK);
        let (mut count, mut times) = (0, Vec::new());
        while let Some(at) = p.next_event().filter(|&at| at < end) {
            p.tick(at);
            assert_eq!(p.pending(), INTR_VBLANK);
            p.write(at, INTR_0, 4, INTR_VBLANK);
            count += 1;
            if times.len() < 3 {
                times.push(at);
            }
        }
        (count, times)
    }

    #[test]
    fn vblanks_come_at_the_ntsc_field_rate() {
        let mut p = Pcrtc::default();
        // 1001 emulated seconds hold exactly 60000 fields, and so 60000 vertical blanks.
        let (count, times) = count_vblanks(&mut p, 1001 * CLOCK_HZ);
        assert_eq!(count, 60_000);
        // The first at line 480 of 525: 733,333,333 * 1001 / 60000 * 480 / 525 cycles.
        let first = (u128::from(CLOCK_HZ) * 1001 * 480).div_ceil(60_000 * 525) as u64;
        assert_eq!(times[0], first);
        assert_eq!(
            times[1],
            (u128::from(CLOCK_HZ) * 1001 * (525 + 480)).div_ceil(60_000 * 525) as u64
        );
        assert_eq!(p.fields(1001 * CLOCK_HZ - 1), 60_000);
    }

    #[test]
    fn pal_runs_fifty_fields_a_second() {
        let mut p = Pcrtc::default();
        p.set_field_rate(0, PAL_FIELD_RATE.0, PAL_FIELD_RATE.1);
        p.set_timing(
            0,
            Timing {
                total_lines: 625,
                visible_lines: 576,
                interlaced: false,
            },
        );
        assert_eq!(count_vblanks(&mut p, 10 * CLOCK_HZ).0, 500);
    }

    #[test]
    fn the_raster_walks_the_field() {
        let mut p = Pcrtc::default();
        // Line l of the first field begins at cycle ceil(l * CLOCK_HZ * 1001 / (60000 * 525)).
        let at_line =
            |line: u128| (line * u128::from(CLOCK_HZ) * 1001).div_ceil(60_000 * 525) as u64;
        let field = u128::from(CLOCK_HZ) * 1001 / 60_000;
        assert_eq!(p.read(0, RASTER, 4), 0);
        assert_eq!(p.read(at_line(100), RASTER, 4), 100);
        assert_eq!(p.read(at_line(100) - 1, RASTER, 4), 99);
        assert_eq!(p.read(at_line(479), RASTER, 4), 479);
        assert!(!p.in_vblank(at_line(479)));
        assert_eq!(p.read(at_line(480), RASTER, 4), 480 | RASTER_VERT_BLANK);
        assert_eq!(p.read(at_line(524), RASTER, 4), 524 | RASTER_VERT_BLANK);
        assert_eq!(p.read(at_line(525), RASTER, 4), 0);
        // Its vertical blank was latched even with the interrupt disabled.
        assert_eq!(p.read(at_line(525), INTR_0, 4), INTR_VBLANK);
        assert_eq!(p.pending(), 0);
        // Interlaced: the field bit alternates.
        p.set_timing(
            at_line(525),
            Timing {
                total_lines: 562,
                visible_lines: 540,
                interlaced: true,
            },
        );
        let base = at_line(525);
        let field_bit = |p: &mut Pcrtc, n: u128| {
            p.read(base + (field * n) as u64 + 10, RASTER, 4) & RASTER_FIELD
        };
        assert_ne!(field_bit(&mut p, 0), field_bit(&mut p, 1));
        assert_eq!(field_bit(&mut p, 0), field_bit(&mut p, 2));
    }

    #[test]
    fn a_mode_change_starts_a_field() {
        let mut p = Pcrtc::default();
        let now = 5_000_000;
        p.set_timing(
            now,
            Timing {
                total_lines: 750,
                visible_lines: 720,
                interlaced: false,
            },
        );
        assert_eq!(p.read(now, RASTER, 4), 0);
        assert_eq!(p.fields(now), 2);
        // Setting the same timing again changes nothing.
        p.set_timing(now + 100_000, p.timing());
        assert_eq!(p.fields(now + 100_000), 2);
        // 100,000 cycles is 6.1 of 720p's lines.
        assert_eq!(p.raster(now + 100_000), 6);
    }

    #[test]
    fn start_and_storage_registers() {
        let mut p = Pcrtc::default();
        p.write(0, START, 4, 0x03FF_F003);
        assert_eq!(p.read(0, START, 4), 0x03FF_F000);
        p.write(0, START + 2, 2, 0x0123);
        assert_eq!(p.start(), 0x0123_F000);
        p.write(0, CONFIG, 4, 0x8000_0001);
        assert_eq!(p.read(0, CONFIG + 3, 1), 0x80);
        p.write(0, RASTER, 4, 0xFFFF_FFFF);
        assert_eq!(p.read(0, RASTER, 4), 0);
    }

    #[test]
    fn state_round_trips() {
        let mut p = Pcrtc::default();
        p.write(100, START, 4, 0x1000);
        p.set_timing(
            200,
            Timing {
                total_lines: 1125,
                visible_lines: 1080,
                interlaced: false,
            },
        );
        p.tick(50_000_000);
        let mut bytes = Vec::new();
        p.state(&mut State::saving(&mut bytes));
        let mut q = Pcrtc::default();
        q.state(&mut State::loading(&bytes));
        assert_eq!(q, p);
    }
}
