//! The MCPX power-management I/O block: 256 bytes at the LPC bridge's BAR0 (0x8000 once the
//! firmware has programmed it).
//!
//! Layout, as xemu's `acpi_xbox.c` and the Xbox Linux drivers use it:
//! - 0x00 PM1 status (write 1 to clear), 0x02 PM1 enable, 0x04 PM1 control;
//! - 0x08 the PM timer, 32 bits wide at 3.375 MHz (not ACPI's 24 bits at 3.58 MHz); its
//!   status bit 0 rises each time bit 31 toggles;
//! - 0x20 general-purpose event status (write 1 to clear) and 0x22 its enable, where bit 1 is
//!   EXTSMI#, the SMC's interrupt (power and eject buttons, A/V pack changes);
//! - 0xC0 the GPIO block (26 bytes): bit 5 of GPIO 0 is the video encoder's field pin, and
//!   the firmware writes 5 to 0xD6 for widescreen.
//!
//! Every other byte is plain storage, so the firmware's read-modify-writes of registers
//! nothing here models come back as written.
//!
//! The SCI follows xemu, which boots the retail kernel: enabled PM1 or GPE status raises it,
//! without looking at SCI_EN.

use crate::machine::clock::{cycles, ticks};
use crate::machine::state::{Snapshot, State};

/// The PM timer's rate on the Xbox.
pub const ACPI_TIMER_HZ: u64 = 3_375_000;
/// The field pin toggles at the NTSC field rate, 60000/1001 Hz.
const FIELD_RATE_NUMERATOR: u64 = 60_000;
const FIELD_RATE_DENOMINATOR: u64 = 1001;

const PM1_STATUS: u16 = 0x00;
const PM1_ENABLE: u16 = 0x02;
const PM1_CONTROL: u16 = 0x04;
const PM_TIMER: u16 = 0x08;
const GPE_STATUS: u16 = 0x20;
const GPE_ENABLE: u16 = 0x22;
const GPIO0: u16 = 0xC0;
/// The GPIO byte the firmware sets to 5 for a widescreen picture.
const WIDESCREEN: u16 = 0xD6;

const TMR_STS: u16 = 1 << 0;
/// The PM1 events that raise the SCI: timer, global lock, power button, RTC alarm.
const PM1_SCI_EVENTS: u16 = 1 << 0 | 1 << 5 | 1 << 8 | 1 << 10;
/// SLP_EN and GBL_RLS are write-only: they read as 0.
const PM1_CONTROL_WRITE_ONLY: u16 = 1 << 13 | 1 << 2;
const GPE_EXTSMI: u16 = 1 << 1;

#[derive(Clone)]
pub struct Acpi {
    /// Storage for every byte without a behaviour of its own.
    regs: [u8; 256],
    pm1_status: u16,
    pm1_enable: u16,
    pm1_control: u16,
    gpe_status: u16,
    gpe_enable: u16,
    /// The PM timer count up to which bit-31 toggles are accounted in TMR_STS.
    timer_seen: u64,
}

impl Default for Acpi {
    fn default() -> Acpi {
        Acpi {
            regs: [0; 256],
            pm1_status: 0,
            pm1_enable: 0,
            pm1_control: 0,
            gpe_status: 0,
            gpe_enable: 0,
            timer_seen: 0,
        }
    }
}

impl Acpi {
    /// Reads `size` bytes (1, 2 or 4; others are clamped into that range) at `offset`,
    /// little-endian; offsets wrap within the block.
    pub fn read(&mut self, now: u64, offset: u16, size: usize) -> u32 {
        self.catch_up(now);
        (0..size.clamp(1, 4) as u16).fold(0, |value, k| {
            value | u32::from(self.read_byte(now, offset.wrapping_add(k) & 0xFF)) << (8 * k)
        })
    }

    pub fn write(&mut self, now: u64, offset: u16, size: usize, value: u32) {
        self.catch_up(now);
        for k in 0..size.clamp(1, 4) as u16 {
            self.write_byte(offset.wrapping_add(k) & 0xFF, (value >> (8 * k)) as u8);
        }
    }

    /// The SMC's EXTSMI# input: raises the GPE status bit the kernel's handler checks.
    pub fn raise_extsmi(&mut self) {
        self.gpe_status |= GPE_EXTSMI;
    }

    /// The SCI level: an enabled status bit is set.
    pub fn sci(&self) -> bool {
        self.pm1_status & self.pm1_enable & PM1_SCI_EVENTS != 0
            || self.gpe_status & self.gpe_enable != 0
    }

    /// Whether the firmware asked for a widescreen picture.
    pub fn widescreen(&self) -> bool {
        self.regs[usize::from(WIDESCREEN)] == 5
    }

    /// When bit 31 of the timer next toggles, while that would raise the SCI.
    pub fn next_event(&self) -> Option<u64> {
        (self.pm1_enable & TMR_STS != 0 && self.pm1_status & TMR_STS == 0).then(|| {
            let toggle = ((self.timer_seen >> 31) + 1) << 31;
            cycles(toggle, ACPI_TIMER_HZ)
        })
    }

    pub fn tick(&mut self, now: u64) {
        self.catch_up(now);
    }

    fn catch_up(&mut self, now: u64) {
        let count = ticks(now, ACPI_TIMER_HZ);
        if count >> 31 != self.timer_seen >> 31 {
            self.pm1_status |= TMR_STS;
        }
        self.timer_seen = self.timer_seen.max(count);
    }

    fn read_byte(&self, now: u64, offset: u16) -> u8 {
        let half = |word: u16, base: u16| (word >> (8 * (offset - base))) as u8;
        match offset {
            0x00..=0x01 => half(self.pm1_status, PM1_STATUS),
            0x02..=0x03 => half(self.pm1_enable, PM1_ENABLE),
            0x04..=0x05 => half(self.pm1_control, PM1_CONTROL),
            0x08..=0x0B => {
                let timer = ticks(now, ACPI_TIMER_HZ) as u32;
                (timer >> (8 * (offset - PM_TIMER))) as u8
            }
            0x20..=0x21 => half(self.gpe_status, GPE_STATUS),
            0x22..=0x23 => half(self.gpe_enable, GPE_ENABLE),
            GPIO0 => {
                let field = ticks(now, FIELD_RATE_NUMERATOR) / FIELD_RATE_DENOMINATOR;
                ((field & 1) as u8) << 5
            }
            _ => self.regs[usize::from(offset)],
        }
    }

    fn write_byte(&mut self, offset: u16, value: u8) {
        let shift = 8 * (offset & 1);
        let bits = u16::from(value) << shift;
        let keep = !(0xFF << shift);
        match offset {
            0x00..=0x01 => self.pm1_status &= !bits,
            0x02..=0x03 => self.pm1_enable = self.pm1_enable & keep | bits,
            0x04..=0x05 => {
                self.pm1_control = (self.pm1_control & keep | bits) & !PM1_CONTROL_WRITE_ONLY;
            }
            // The timer is read-only.
            0x08..=0x0B => {}
            0x20..=0x21 => self.gpe_status &= !bits,
            0x22..=0x23 => self.gpe_enable = self.gpe_enable & keep | bits,
            _ => self.regs[usize::from(offset)] = value,
        }
    }
}

impl Snapshot for Acpi {
    fn state(&mut self, s: &mut State) {
        s.bytes(&mut self.regs);
        s.u16(&mut self.pm1_status);
        s.u16(&mut self.pm1_enable);
        s.u16(&mut self.pm1_control);
        s.u16(&mut self.gpe_status);
        s.u16(&mut self.gpe_enable);
        s.u64(&mut self.timer_seen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::CLOCK_HZ;

    #[test]
    fn timer_runs_at_3_375_mhz_and_wraps_at_32_bits() {
        let mut acpi = Acpi::default();
        assert_eq!(acpi.read(0, 0x08, 4), 0);
        assert_eq!(acpi.read(CLOCK_HZ, 0x08, 4), 3_375_000);
        assert_eq!(acpi.read(10 * CLOCK_HZ, 0x08, 4), 33_750_000);
        // Byte and word reads see the same count.
        let now = 7 * CLOCK_HZ + 12_345;
        let whole = acpi.read(now, 0x08, 4);
        assert_eq!(acpi.read(now, 0x0A, 2), whole >> 16);
        assert_eq!(acpi.read(now, 0x09, 1), whole >> 8 & 0xFF);
        // 2^32 ticks later the count is back where it was.
        let wrap = cycles(1 << 32, ACPI_TIMER_HZ);
        assert_eq!(acpi.read(wrap, 0x08, 4), 0);
        assert_eq!(acpi.read(wrap + CLOCK_HZ, 0x08, 4), 3_375_000);
        acpi.write(wrap, 0x08, 4, 0x1234);
        assert_eq!(acpi.read(wrap + CLOCK_HZ, 0x08, 4), 3_375_000);
    }

    #[test]
    fn overflow_status_and_sci() {
        let mut acpi = Acpi::default();
        acpi.write(0, 0x02, 2, 1); // TMR_EN
        let toggle = cycles(1 << 31, ACPI_TIMER_HZ);
        assert_eq!(acpi.next_event(), Some(toggle));
        acpi.tick(toggle - 1);
        assert!(!acpi.sci());
        acpi.tick(toggle);
        assert!(acpi.sci());
        assert_eq!(acpi.read(toggle, 0x00, 2), 1);
        assert_eq!(acpi.next_event(), None);
        // Write 1 to clear; the next toggle is bit 31 falling.
        acpi.write(toggle, 0x00, 2, 1);
        assert!(!acpi.sci());
        assert_eq!(acpi.next_event(), Some(cycles(1 << 32, ACPI_TIMER_HZ)));
        // The status rises without TMR_EN too, but raises no SCI.
        acpi.write(toggle, 0x02, 2, 0);
        acpi.tick(cycles(1 << 32, ACPI_TIMER_HZ));
        assert_eq!(acpi.read(cycles(1 << 32, ACPI_TIMER_HZ), 0x00, 1), 1);
        assert!(!acpi.sci());
    }

    #[test]
    fn extsmi_through_the_gpe_block() {
        let mut acpi = Acpi::default();
        acpi.raise_extsmi();
        assert!(!acpi.sci(), "not enabled yet");
        acpi.write(0, 0x22, 2, 0x0002);
        assert!(acpi.sci());
        assert_eq!(acpi.read(0, 0x20, 2), 0x0002);
        acpi.write(0, 0x20, 2, 0x0002);
        assert!(!acpi.sci());
    }

    #[test]
    fn control_field_pin_and_storage() {
        let mut acpi = Acpi::default();
        acpi.write(0, 0x04, 2, 0x2001); // SCI_EN with SLP_EN
        assert_eq!(acpi.read(0, 0x04, 2), 0x0001);
        // The field pin alternates every 1001/60000 s.
        let field = CLOCK_HZ * 1001 / 60_000;
        let pins: Vec<u32> = (0..4)
            .map(|k| acpi.read(k * field + field / 2, 0xC0, 1))
            .collect();
        assert_eq!(pins, [0x00, 0x20, 0x00, 0x20]);
        assert!(!acpi.widescreen());
        acpi.write(0, 0xD6, 1, 5);
        assert!(acpi.widescreen());
        acpi.write(0, 0xE2, 2, 0xBEEF);
        assert_eq!(acpi.read(0, 0xE2, 2), 0xBEEF);
        assert_eq!(acpi.read(0, 0xD6, 1), 5);
    }

    #[test]
    fn state_round_trip() {
        let mut acpi = Acpi::default();
        acpi.write(0, 0x02, 2, 0x0121);
        acpi.write(0, 0x22, 2, 0x0002);
        acpi.write(0, 0xD6, 1, 5);
        acpi.raise_extsmi();
        acpi.tick(5 * CLOCK_HZ);
        let mut bytes = Vec::new();
        acpi.state(&mut State::saving(&mut bytes));
        let mut copy = Acpi::default();
        copy.state(&mut State::loading(&bytes));
        let mut again = Vec::new();
        copy.state(&mut State::saving(&mut again));
        assert_eq!(bytes, again);
        assert_eq!((copy.sci(), copy.widescreen()), (true, true));
        assert_eq!(copy.next_event(), acpi.next_event());
    }

    #[test]
    fn odd_guest_values_do_not_panic() {
        let mut acpi = Acpi::default();
        for offset in [0u16, 0xFE, 0xFF, 0x100, 0xFFFF] {
            for size in [0, 1, 2, 3, 4, 5, usize::MAX] {
                acpi.write(u64::MAX, offset, size, u32::MAX);
                acpi.read(u64::MAX, offset, size);
            }
        }
        acpi.next_event();
    }
}
