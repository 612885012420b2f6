//! The MC146818-compatible real-time clock and CMOS RAM: index at 0x70 (bit 7 masks NMI),
//! data at 0x71, and the upper 128 bytes through 0x72/0x73 as on the nForce family's
//! southbridges (QEMU's RTC, which xemu uses, decodes the same pair). The Xbox keeps the
//! century at CMOS 0x7F.
//!
//! The time is a count of seconds since 2000-01-01 00:00:00 plus the phase of the 32.768 kHz
//! divider chain, both advanced by emulated time, never the host's. While the clock runs, the
//! time registers are computed from that count in the format register B asks for; while SET
//! or the divider reset stops updates, they are plain bytes the guest may rewrite, and
//! leaving that state starts the count again from them.
//!
//! Interrupt flags are raised lazily: each access first accounts for the periodic ticks,
//! updates and alarm matches since the previous one. DSE (daylight saving) is kept but does
//! nothing: the Xbox keeps its time zone in software.

use crate::machine::clock::{cycles, ticks};
use crate::machine::state::{Snapshot, State};

/// The divider chain's input.
const RTC_HZ: u64 = 32_768;
const DAY: i64 = 86_400;
/// UIP rises 244 µs (8 time-base ticks) before each update.
const UIP_TICKS: u64 = 8;

const SECONDS: usize = 0x00;
const SECONDS_ALARM: usize = 0x01;
const MINUTES: usize = 0x02;
const MINUTES_ALARM: usize = 0x03;
const HOURS: usize = 0x04;
const HOURS_ALARM: usize = 0x05;
const WEEKDAY: usize = 0x06;
const DAY_OF_MONTH: usize = 0x07;
const MONTH: usize = 0x08;
const YEAR: usize = 0x09;
const REG_A: usize = 0x0A;
const REG_B: usize = 0x0B;
const REG_C: usize = 0x0C;
const REG_D: usize = 0x0D;
/// The Xbox's century byte.
const CENTURY: usize = 0x7F;

const B_SET: u8 = 0x80;
const B_PIE: u8 = 0x40;
const B_AIE: u8 = 0x20;
const B_UIE: u8 = 0x10;
const B_BINARY: u8 = 0x04;
const B_24H: u8 = 0x02;
/// PIE, AIE, UIE line up with C's PF, AF, UF.
const INTERRUPT_BITS: u8 = 0x70;
const C_IRQF: u8 = 0x80;
const C_PF: u8 = 0x40;
const C_AF: u8 = 0x20;
const C_UF: u8 = 0x10;
/// Register D: the battery is good.
const D_VRT: u8 = 0x80;

/// Days from 0000-03-01 to 2000-01-01.
const EPOCH_DAYS: i64 = 730_425;

/// Days since 2000-01-01 of a proleptic Gregorian date; out-of-range days carry over.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Years start in March here, so the leap day is the last day of a year.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let march_month = (month + 9) % 12;
    let day_of_year = (153 * march_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - EPOCH_DAYS
}

/// The date (year, month, day) of a day count since 2000-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + EPOCH_DAYS;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * march_month + 2) / 5 + 1;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// One field of the alarm.
#[derive(Clone, Copy)]
enum AlarmField {
    /// A "don't care" code (0xC0-0xFF): every value matches.
    Any,
    At(i64),
    /// A value the time never takes.
    Never,
}

impl AlarmField {
    fn rejects(self, value: i64) -> bool {
        match self {
            AlarmField::Any => false,
            AlarmField::At(v) => v != value,
            AlarmField::Never => true,
        }
    }
}

#[derive(Clone)]
pub struct Rtc {
    cmos: [u8; 256],
    /// Port 0x70's register select.
    index: u8,
    /// Port 0x72's register select within the upper bank.
    upper_index: u8,
    nmi_masked: bool,
    /// Register C's PF, AF and UF.
    flags: u8,
    /// A time-base tick on which an update happens; they repeat every second from it.
    update_at: u64,
    /// The time, in seconds since 2000, from the update at `update_at` on.
    secs_at_update: i64,
    /// The weekday register counts on its own: its offset from the day count.
    weekday_offset: u8,
    /// The time-base tick up to which the interrupt flags have been accounted.
    seen: u64,
}

impl Rtc {
    /// A clock showing `start` (seconds since 2000-01-01 00:00:00) at emulated time 0, in
    /// the 24-hour BCD format with the divider running, as the Xbox expects.
    pub fn new(start: u64) -> Rtc {
        let mut cmos = [0; 256];
        cmos[REG_A] = 0x26;
        cmos[REG_B] = B_24H;
        Rtc {
            cmos,
            index: 0,
            upper_index: 0,
            nmi_masked: false,
            flags: 0,
            update_at: RTC_HZ,
            secs_at_update: i64::try_from(start).unwrap_or(i64::MAX).saturating_add(1),
            // 2000-01-01 was a Saturday, weekday 7.
            weekday_offset: 6,
            seen: 0,
        }
    }

    /// Whether the guest masked NMI through port 0x70's bit 7.
    pub fn nmi_masked(&self) -> bool {
        self.nmi_masked
    }

    pub fn read(&mut self, now: u64, port_offset: u16) -> u8 {
        let t = self.catch_up(now);
        match port_offset {
            1 => self.read_register(t, usize::from(self.index)),
            3 => self.cmos[0x80 | usize::from(self.upper_index)],
            // The index ports read nothing.
            _ => 0xFF,
        }
    }

    pub fn write(&mut self, now: u64, port_offset: u16, value: u8) {
        let t = self.catch_up(now);
        match port_offset {
            0 => {
                self.index = value & 0x7F;
                self.nmi_masked = value & 0x80 != 0;
            }
            1 => self.write_register(t, usize::from(self.index), value),
            2 => self.upper_index = value & 0x7F,
            3 => self.cmos[0x80 | usize::from(self.upper_index)] = value,
            _ => {}
        }
    }

    /// The IRQ8 level (register C's IRQF).
    pub fn irq(&self) -> bool {
        self.flags & self.cmos[REG_B] & INTERRUPT_BITS != 0
    }

    /// When an enabled interrupt next fires (None while IRQ8 is already asserted: it stays so
    /// until register C is read).
    pub fn next_event(&self) -> Option<u64> {
        if self.irq() {
            return None;
        }
        let t = self.seen;
        let b = self.cmos[REG_B];
        let periodic = (b & B_PIE != 0).then(|| self.next_periodic(t)).flatten();
        let update = (b & B_UIE != 0 && self.updating()).then(|| self.next_update(t));
        let alarm = (b & B_AIE != 0 && self.updating())
            .then(|| {
                let delay = self.alarm_delay(self.seconds(t))?;
                let secs = u64::try_from(delay - 1).ok()?;
                Some(self.next_update(t).saturating_add(secs * RTC_HZ))
            })
            .flatten();
        [periodic, update, alarm]
            .into_iter()
            .flatten()
            .min()
            .map(|tick| cycles(tick, RTC_HZ))
    }

    pub fn tick(&mut self, now: u64) {
        self.catch_up(now);
    }

    fn divider_running(&self) -> bool {
        self.cmos[REG_A] & 0x60 != 0x60
    }

    /// Whether the time advances: the divider runs and SET is clear.
    fn updating(&self) -> bool {
        self.divider_running() && self.cmos[REG_B] & B_SET == 0
    }

    /// The time at time-base tick `t` while updating.
    fn seconds(&self, t: u64) -> i64 {
        if t < self.update_at {
            self.secs_at_update.saturating_sub(1)
        } else {
            self.secs_at_update
                .saturating_add(((t - self.update_at) / RTC_HZ) as i64)
        }
    }

    /// The first update after tick `t`.
    fn next_update(&self, t: u64) -> u64 {
        if t < self.update_at {
            self.update_at
        } else {
            let seconds = (t - self.update_at) / RTC_HZ + 1;
            self.update_at.saturating_add(seconds * RTC_HZ)
        }
    }

    /// The first periodic-interrupt tick after `t`, per register A's rate select. Periods are
    /// powers of two that divide a second, aligned on the updates.
    fn next_periodic(&self, t: u64) -> Option<u64> {
        if !self.divider_running() {
            return None;
        }
        let period = match self.cmos[REG_A] & 0x0F {
            0 => return None,
            rate @ 1..=2 => 1 << (rate + 6),
            rate => 1 << (rate - 1),
        };
        let phase = self.update_at % period;
        let candidate = (t - t % period).saturating_add(phase);
        Some(if candidate <= t {
            candidate.saturating_add(period)
        } else {
            candidate
        })
    }

    fn update_in_progress(&self, t: u64) -> bool {
        self.updating() && self.next_update(t) - t <= UIP_TICKS
    }

    fn binary(&self) -> bool {
        self.cmos[REG_B] & B_BINARY != 0
    }

    fn encode(&self, value: i64) -> u8 {
        let value = value.rem_euclid(100) as u8;
        if self.binary() {
            value
        } else {
            ((value / 10) << 4) | (value % 10)
        }
    }

    fn decode(&self, byte: u8) -> i64 {
        if self.binary() {
            i64::from(byte)
        } else {
            i64::from(byte >> 4) * 10 + i64::from(byte & 0x0F)
        }
    }

    fn encode_hour(&self, hour: i64) -> u8 {
        if self.cmos[REG_B] & B_24H != 0 {
            self.encode(hour)
        } else {
            let twelve = if hour % 12 == 0 { 12 } else { hour % 12 };
            self.encode(twelve) | if hour >= 12 { 0x80 } else { 0 }
        }
    }

    fn decode_hour(&self, byte: u8) -> i64 {
        if self.cmos[REG_B] & B_24H != 0 {
            self.decode(byte)
        } else {
            self.decode(byte & 0x7F) % 12 + if byte & 0x80 != 0 { 12 } else { 0 }
        }
    }

    /// The time registers' bytes for `secs`, as (index, value) pairs.
    fn time_bytes(&self, secs: i64) -> [(usize, u8); 8] {
        // Keep to four-digit years, which is all the registers can show.
        let lowest = days_from_civil(0, 1, 1) * DAY;
        let highest = days_from_civil(10_000, 1, 1) * DAY - 1;
        let secs = secs.clamp(lowest, highest);
        let days = secs.div_euclid(DAY);
        let time = secs.rem_euclid(DAY);
        let (year, month, day) = civil_from_days(days);
        let weekday = (days + i64::from(self.weekday_offset)).rem_euclid(7) + 1;
        [
            (SECONDS, self.encode(time % 60)),
            (MINUTES, self.encode(time / 60 % 60)),
            (HOURS, self.encode_hour(time / 3600)),
            (WEEKDAY, self.encode(weekday)),
            (DAY_OF_MONTH, self.encode(day)),
            (MONTH, self.encode(month)),
            (YEAR, self.encode(year % 100)),
            (CENTURY, self.encode(year / 100)),
        ]
    }

    fn is_time_register(index: usize) -> bool {
        matches!(
            index,
            SECONDS | MINUTES | HOURS | WEEKDAY | DAY_OF_MONTH | MONTH | YEAR | CENTURY
        )
    }

    /// Stops the count: the time registers become plain bytes holding `secs`.
    fn store_time(&mut self, secs: i64) {
        for (index, value) in self.time_bytes(secs) {
            self.cmos[index] = value;
        }
    }

    /// Starts the count from the time registers' bytes, with the next update at `update_at`.
    /// Values out of range carry over (a 61st second is a minute and a second).
    fn resume(&mut self, update_at: u64) {
        let year = self.decode(self.cmos[CENTURY]) * 100 + self.decode(self.cmos[YEAR]);
        let month = self.decode(self.cmos[MONTH]).clamp(1, 12);
        let days = days_from_civil(year, month, self.decode(self.cmos[DAY_OF_MONTH]));
        let secs = days * DAY
            + self.decode_hour(self.cmos[HOURS]) * 3600
            + self.decode(self.cmos[MINUTES]) * 60
            + self.decode(self.cmos[SECONDS]);
        let weekday = self.decode(self.cmos[WEEKDAY]);
        self.weekday_offset = (weekday - 1 - days).rem_euclid(7) as u8;
        self.update_at = update_at;
        self.secs_at_update = secs + 1;
    }

    /// Accounts for the interrupt flags up to `now`; returns `now` in time-base ticks.
    fn catch_up(&mut self, now: u64) -> u64 {
        let t = ticks(now, RTC_HZ);
        if t <= self.seen {
            return self.seen;
        }
        let from = self.seen;
        if self.next_periodic(from).is_some_and(|p| p <= t) {
            self.flags |= C_PF;
        }
        if self.updating() {
            let first = self.next_update(from);
            if first <= t {
                self.flags |= C_UF;
                let before = self.seconds(first).saturating_sub(1);
                if self
                    .alarm_delay(before)
                    .is_some_and(|delay| before.saturating_add(delay) <= self.seconds(t))
                {
                    self.flags |= C_AF;
                }
            }
        }
        self.seen = t;
        t
    }

    fn alarm_field(&self, index: usize, limit: i64) -> AlarmField {
        let byte = self.cmos[index];
        if byte & 0xC0 == 0xC0 {
            return AlarmField::Any;
        }
        let value = if index == HOURS_ALARM {
            self.decode_hour(byte)
        } else {
            self.decode(byte)
        };
        if (0..limit).contains(&value) {
            AlarmField::At(value)
        } else {
            AlarmField::Never
        }
    }

    /// How many seconds after `secs` the time next matches the alarm (at most a day).
    fn alarm_delay(&self, secs: i64) -> Option<i64> {
        let hour = self.alarm_field(HOURS_ALARM, 24);
        let minute = self.alarm_field(MINUTES_ALARM, 60);
        let second = self.alarm_field(SECONDS_ALARM, 60);
        let time = secs.rem_euclid(DAY);
        let (now_minute, now_second) = (time / 60, time % 60);
        // Try each minute from this one on, a day around.
        (0..=24 * 60).find_map(|step| {
            let minute_of_day = (now_minute + step) % (24 * 60);
            if hour.rejects(minute_of_day / 60) || minute.rejects(minute_of_day % 60) {
                return None;
            }
            let earliest = if step == 0 { now_second + 1 } else { 0 };
            let at = match second {
                AlarmField::Any => earliest,
                AlarmField::At(s) => s,
                AlarmField::Never => return None,
            };
            (earliest..60)
                .contains(&at)
                .then_some(step * 60 + at - now_second)
        })
    }

    fn read_register(&mut self, t: u64, index: usize) -> u8 {
        match index {
            _ if Self::is_time_register(index) && self.updating() => {
                let bytes = self.time_bytes(self.seconds(t));
                bytes
                    .iter()
                    .find(|(i, _)| *i == index)
                    .map_or(0, |(_, v)| *v)
            }
            REG_A => self.cmos[REG_A] | if self.update_in_progress(t) { 0x80 } else { 0 },
            REG_C => {
                let value = self.flags | if self.irq() { C_IRQF } else { 0 };
                self.flags = 0;
                value
            }
            REG_D => D_VRT,
            _ => self.cmos[index],
        }
    }

    fn write_register(&mut self, t: u64, index: usize, value: u8) {
        let was_updating = self.updating();
        let was_dividing = self.divider_running();
        match index {
            _ if Self::is_time_register(index) => {
                if was_updating {
                    // Set one field of the running clock: the others keep their values.
                    self.store_time(self.seconds(t));
                    self.cmos[index] = value;
                    self.resume(self.next_update(t));
                } else {
                    self.cmos[index] = value;
                }
                return;
            }
            // UIP is read-only.
            REG_A => self.cmos[REG_A] = value & 0x7F,
            // SET clears UIE.
            REG_B => {
                self.cmos[REG_B] = if value & B_SET != 0 {
                    value & !B_UIE
                } else {
                    value
                }
            }
            REG_C | REG_D => return,
            _ => {
                self.cmos[index] = value;
                return;
            }
        }
        if was_updating && !self.updating() {
            self.store_time(self.seconds(t));
        }
        if !was_dividing && self.divider_running() {
            // Out of divider reset the first update comes half a second later.
            self.update_at = t + RTC_HZ / 2;
        }
        if !was_updating && self.updating() {
            self.resume(self.next_update(t));
        }
    }
}

impl Snapshot for Rtc {
    fn state(&mut self, s: &mut State) {
        s.bytes(&mut self.cmos);
        s.u8(&mut self.index);
        self.index &= 0x7F;
        s.u8(&mut self.upper_index);
        self.upper_index &= 0x7F;
        s.bool(&mut self.nmi_masked);
        s.u8(&mut self.flags);
        self.flags &= INTERRUPT_BITS;
        s.u64(&mut self.update_at);
        let mut secs = self.secs_at_update as u64;
        s.u64(&mut secs);
        self.secs_at_update = secs as i64;
        s.u8(&mut self.weekday_offset);
        self.weekday_offset %= 7;
        s.u64(&mut self.seen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::CLOCK_HZ;

    fn secs(year: i64, month: i64, day: i64, hour: i64, minute: i64, second: i64) -> u64 {
        (days_from_civil(year, month, day) * DAY + hour * 3600 + minute * 60 + second) as u64
    }

    fn reg(rtc: &mut Rtc, now: u64, index: u8) -> u8 {
        rtc.write(now, 0, index);
        rtc.read(now, 1)
    }

    fn set(rtc: &mut Rtc, now: u64, index: u8, value: u8) {
        rtc.write(now, 0, index);
        rtc.write(now, 1, value);
    }

    /// Seconds, minutes, hours, weekday, day, month, year, century.
    fn clock(rtc: &mut Rtc, now: u64) -> [u8; 8] {
        [0, 2, 4, 6, 7, 8, 9, 0x7F].map(|i| reg(rtc, now, i))
    }

    /// The CPU cycle of time-base tick `t`.
    fn at(t: u64) -> u64 {
        cycles(t, RTC_HZ)
    }

    #[test]
    fn calendar_conversions_agree() {
        assert_eq!(days_from_civil(2000, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 60);
        assert_eq!(days_from_civil(1999, 12, 31), -1);
        for days in [-800_000, -1, 0, 59, 60, 365, 366, 36_524, 36_525, 3_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }

    #[test]
    fn time_after_emulated_seconds() {
        let mut rtc = Rtc::new(secs(2024, 2, 28, 23, 59, 58));
        assert_eq!(
            clock(&mut rtc, 0),
            [0x58, 0x59, 0x23, 0x04, 0x28, 0x02, 0x24, 0x20]
        );
        assert_eq!(reg(&mut rtc, 2 * CLOCK_HZ - 1, 0), 0x59);
        // Two emulated seconds: a leap day, a Thursday.
        assert_eq!(
            clock(&mut rtc, 2 * CLOCK_HZ),
            [0x00, 0x00, 0x00, 0x05, 0x29, 0x02, 0x24, 0x20]
        );
        // A day later.
        assert_eq!(
            clock(&mut rtc, (2 + 86_400) * CLOCK_HZ),
            [0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x24, 0x20]
        );
    }

    #[test]
    fn binary_and_12_hour_formats() {
        let mut rtc = Rtc::new(secs(2010, 7, 4, 15, 30, 9));
        set(&mut rtc, 0, 0x0B, B_BINARY);
        assert_eq!(clock(&mut rtc, 0), [9, 30, 0x83, 1, 4, 7, 10, 20]);
        set(&mut rtc, 0, 0x0B, B_BINARY | B_24H);
        assert_eq!(reg(&mut rtc, 0, 4), 15);
        set(&mut rtc, 0, 0x0B, 0);
        assert_eq!(reg(&mut rtc, 0, 4), 0x83);
    }

    #[test]
    fn century_rolls_over() {
        let mut rtc = Rtc::new(secs(2099, 12, 31, 23, 59, 59));
        assert_eq!(
            clock(&mut rtc, CLOCK_HZ),
            [0x00, 0x00, 0x00, 0x06, 0x01, 0x01, 0x00, 0x21]
        );
    }

    #[test]
    fn set_freezes_and_the_guest_time_runs_on() {
        let mut rtc = Rtc::new(0);
        let t0 = CLOCK_HZ / 4;
        set(&mut rtc, t0, 0x0B, B_24H | B_SET);
        for (index, value) in [
            (0, 0x45),
            (2, 0x59),
            (4, 0x23),
            (7, 0x31),
            (8, 0x12),
            (9, 0x09),
        ] {
            set(&mut rtc, t0, index, value);
        }
        assert_eq!(reg(&mut rtc, 5 * CLOCK_HZ, 0), 0x45, "frozen while SET");
        set(&mut rtc, 5 * CLOCK_HZ, 0x0B, B_24H);
        // The divider kept its phase: the next update is at the next whole emulated second.
        assert_eq!(reg(&mut rtc, 6 * CLOCK_HZ - 1, 0), 0x45);
        assert_eq!(
            clock(&mut rtc, 21 * CLOCK_HZ),
            [0x01, 0x00, 0x00, 0x01, 0x01, 0x01, 0x10, 0x20]
        );
        // Writing one field of the running clock keeps the others.
        set(&mut rtc, 21 * CLOCK_HZ, 0x09, 0x30);
        assert_eq!(
            clock(&mut rtc, 21 * CLOCK_HZ),
            [0x01, 0x00, 0x00, 0x01, 0x01, 0x01, 0x30, 0x20]
        );
    }

    #[test]
    fn divider_reset_restarts_half_a_second_late() {
        let mut rtc = Rtc::new(0);
        set(&mut rtc, 0, 0x0A, 0x76);
        assert_eq!(reg(&mut rtc, 3 * CLOCK_HZ, 0), 0x00);
        set(&mut rtc, 3 * CLOCK_HZ, 0x0A, 0x26);
        assert_eq!(reg(&mut rtc, at(3 * RTC_HZ + RTC_HZ / 2) - 1, 0), 0x00);
        assert_eq!(reg(&mut rtc, at(3 * RTC_HZ + RTC_HZ / 2), 0), 0x01);
    }

    #[test]
    fn update_in_progress_window() {
        let mut rtc = Rtc::new(0);
        assert_eq!(reg(&mut rtc, at(RTC_HZ - 9), 0x0A), 0x26);
        assert_eq!(reg(&mut rtc, at(RTC_HZ - 8), 0x0A), 0xA6);
        assert_eq!(reg(&mut rtc, at(RTC_HZ) - 1, 0x0A), 0xA6);
        assert_eq!(reg(&mut rtc, at(RTC_HZ), 0x0A), 0x26);
        // 244 µs.
        assert_eq!(at(RTC_HZ) - at(RTC_HZ - 8), 179_036);
    }

    #[test]
    fn periodic_interrupt_rate() {
        let mut rtc = Rtc::new(0);
        set(&mut rtc, 0, 0x0B, B_24H | B_PIE); // 1024 Hz
        assert!(!rtc.irq());
        assert_eq!(rtc.next_event(), Some(at(32)));
        rtc.tick(at(32));
        assert!(rtc.irq());
        assert_eq!(rtc.next_event(), None);
        assert_eq!(reg(&mut rtc, at(40), 0x0C), 0xC0);
        assert!(!rtc.irq());
        assert_eq!(rtc.next_event(), Some(at(64)));
        // Rate 15: 2 Hz.
        set(&mut rtc, at(40), 0x0A, 0x2F);
        assert_eq!(rtc.next_event(), Some(at(RTC_HZ / 2)));
        // PF is set without PIE, but does not interrupt.
        set(&mut rtc, at(40), 0x0B, B_24H);
        assert_eq!(rtc.next_event(), None);
        assert_eq!(reg(&mut rtc, at(RTC_HZ) - 1, 0x0C), 0x40);
    }

    #[test]
    fn update_ended_interrupt() {
        let mut rtc = Rtc::new(0);
        set(&mut rtc, 0, 0x0B, B_24H | B_UIE);
        assert_eq!(rtc.next_event(), Some(CLOCK_HZ));
        rtc.tick(CLOCK_HZ);
        assert!(rtc.irq());
        // PF rises at its rate whether or not PIE is set.
        assert_eq!(reg(&mut rtc, CLOCK_HZ, 0x0C), 0xD0);
        assert_eq!(rtc.next_event(), Some(2 * CLOCK_HZ));
    }

    #[test]
    fn alarm_with_dont_care_fields() {
        let mut rtc = Rtc::new(secs(2001, 1, 1, 10, 0, 0));
        // Any hour, minute 00, second 30: 30 s from now.
        set(&mut rtc, 0, 0x05, 0xC0);
        set(&mut rtc, 0, 0x03, 0x00);
        set(&mut rtc, 0, 0x01, 0x30);
        set(&mut rtc, 0, 0x0B, B_24H | B_AIE);
        assert_eq!(rtc.next_event(), Some(30 * CLOCK_HZ));
        rtc.tick(29 * CLOCK_HZ);
        assert!(!rtc.irq());
        rtc.tick(30 * CLOCK_HZ);
        assert!(rtc.irq());
        assert_eq!(reg(&mut rtc, 30 * CLOCK_HZ, 0x0C), 0xF0);
        // Next match: 11:00:30.
        assert_eq!(rtc.next_event(), Some(3630 * CLOCK_HZ));
        // AF rises without AIE too, seen on a later read.
        set(&mut rtc, 31 * CLOCK_HZ, 0x0B, B_24H);
        assert_eq!(reg(&mut rtc, 5000 * CLOCK_HZ, 0x0C) & C_AF, C_AF);
        // A value the clock never shows never matches.
        set(&mut rtc, 5000 * CLOCK_HZ, 0x01, 0x75);
        assert_eq!(reg(&mut rtc, 100_000 * CLOCK_HZ, 0x0C) & C_AF, 0);
    }

    #[test]
    fn cmos_banks_and_fixed_registers() {
        let mut rtc = Rtc::new(0);
        set(&mut rtc, 0, 0x20, 0x5A);
        rtc.write(0, 2, 0x20);
        rtc.write(0, 3, 0xA5);
        assert_eq!(reg(&mut rtc, 0, 0x20), 0x5A);
        assert_eq!(rtc.read(0, 3), 0xA5);
        assert_eq!(reg(&mut rtc, 0, 0x0D), 0x80);
        set(&mut rtc, 0, 0x0D, 0);
        assert_eq!(reg(&mut rtc, 0, 0x0D), 0x80);
        rtc.write(0, 0, 0x8F);
        assert!(rtc.nmi_masked());
        assert_eq!(rtc.read(0, 0), 0xFF);
    }

    #[test]
    fn state_round_trip() {
        let mut rtc = Rtc::new(secs(2005, 5, 5, 5, 5, 5));
        set(&mut rtc, 100, 0x0B, B_24H | B_PIE);
        set(&mut rtc, 100, 0x40, 0x77);
        rtc.tick(CLOCK_HZ / 3);
        let mut bytes = Vec::new();
        rtc.state(&mut State::saving(&mut bytes));
        let mut copy = Rtc::new(0);
        copy.state(&mut State::loading(&bytes));
        let mut again = Vec::new();
        copy.state(&mut State::saving(&mut again));
        assert_eq!(bytes, again);
        assert_eq!(copy.next_event(), rtc.next_event());
        assert_eq!(
            clock(&mut copy, 7 * CLOCK_HZ),
            clock(&mut rtc, 7 * CLOCK_HZ)
        );
    }

    #[test]
    fn odd_guest_values_do_not_panic() {
        let mut rtc = Rtc::new(u64::MAX);
        let mut now = 0;
        for value in 0..=255u8 {
            for index in 0..=0x7F {
                now += 1_000_003;
                set(&mut rtc, now, index, value);
                reg(&mut rtc, now, index);
                rtc.write(now, 2, value);
                rtc.write(now, 3, value);
                rtc.read(now, 3);
                rtc.read(now, 9);
                rtc.next_event();
            }
        }
        let junk = [0xFFu8; 512];
        rtc.state(&mut State::loading(&junk));
        clock(&mut rtc, now);
        rtc.next_event();
        rtc.tick(u64::MAX);
        clock(&mut rtc, u64::MAX);
    }
}
