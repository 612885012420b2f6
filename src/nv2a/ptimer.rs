//! PTIMER (BAR0 0x009000): the NV2A's 56-bit time counter and its alarm interrupt.
//!
//! The counter counts a clock made from the core clock (NVCLK, from PRAMDAC's NVPLL) by a
//! counter-based converter: `NVCLK * DENOMINATOR / NUMERATOR` (envytools calls the registers
//! CLOCK_MUL and CLOCK_DIV; a multiplier of 0 stops the counter, and one above the divider,
//! which envytools says makes the converter misbehave, is taken as equal to it). It is read
//! through TIME_0, whose bits 31-5 are the counter's low 27 bits (bits 4-0 read 0), and TIME_1,
//! whose bits 28-0 are its high 29: so TIME counts in 1/32 of a tick, and a 31.25 MHz tick rate
//! makes it count nanoseconds. The alarm raises INTR_0 bit 0 when the counter's low 27 bits
//! reach ALARM_0's bits 31-5; the bit shows in INTR_0 whether or not INTR_EN_0 enables it.
//!
//! Registers (offsets in the block; sources: envytools `rnndb/bus/ptimer.xml` and
//! `docs/hw/bus/ptimer.rst`, xemu `nv2a_regs.h`):
//! - 0x100 INTR_0 (bit 0 ALARM; write 1 to clear), 0x140 INTR_EN_0;
//! - 0x200 NUMERATOR and 0x210 DENOMINATOR (16 bits each);
//! - 0x400 TIME_0 and 0x410 TIME_1 (writable: a write sets that half of the counter);
//! - 0x420 ALARM_0.
//!
//! Time is emulated: the counter is computed from the CPU cycle of each access, never from the
//! host's clock. The values before anything writes the ratio are not known; this starts at
//! 112/15, which makes TIME count nanoseconds at the default 233.33 MHz core clock.

use super::pramdac::Clock;
use super::scanout::{lane, read_lane, write_lane};
use crate::cpu::CLOCK_HZ;
use crate::machine::state::{Snapshot, State};

pub const INTR_0: u32 = 0x100;
pub const INTR_EN_0: u32 = 0x140;
pub const NUMERATOR: u32 = 0x200;
pub const DENOMINATOR: u32 = 0x210;
pub const TIME_0: u32 = 0x400;
pub const TIME_1: u32 = 0x410;
pub const ALARM_0: u32 = 0x420;

/// INTR_0 / INTR_EN_0: the alarm.
pub const INTR_ALARM: u32 = 1 << 0;

/// The counter is 56 bits wide.
const COUNTER_MASK: u64 = (1 << 56) - 1;
/// The alarm compares the counter's low 27 bits.
const LOW_BITS: u32 = 27;
const LOW_MASK: u64 = (1 << LOW_BITS) - 1;
const HIGH_MASK: u32 = (1 << 29) - 1;

/// The reset ratio (see the module documentation).
const DEFAULT_NUMERATOR: u32 = 112;
const DEFAULT_DENOMINATOR: u32 = 15;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ptimer {
    intr: u32,
    intr_en: u32,
    numerator: u32,
    denominator: u32,
    alarm: u32,
    /// NVCLK, the clock the converter divides.
    source: Clock,
    /// The counter was `base_count` at CPU cycle `base_cycle`; it has run at the current rate
    /// since.
    base_cycle: u64,
    base_count: u64,
    /// When the alarm next raises its interrupt (None: stopped, or the bit is already set).
    alarm_at: Option<u64>,
}

impl Ptimer {
    /// A timer counting from 0 at cycle 0, its converter fed by `source`.
    pub fn new(source: Clock) -> Ptimer {
        Ptimer {
            intr: 0,
            intr_en: 0,
            numerator: DEFAULT_NUMERATOR,
            denominator: DEFAULT_DENOMINATOR,
            alarm: 0,
            source,
            base_cycle: 0,
            base_count: 0,
            alarm_at: None,
        }
    }

    /// Reads `size` bytes (1, 2 or 4) at `offset`; unknown registers read 0.
    pub fn read(&mut self, now: u64, offset: u32, size: usize) -> u32 {
        self.tick(now);
        let value = match offset & !3 {
            INTR_0 => self.intr,
            INTR_EN_0 => self.intr_en,
            NUMERATOR => self.numerator,
            DENOMINATOR => self.denominator,
            TIME_0 => ((self.count(now) & LOW_MASK) << 5) as u32,
            TIME_1 => (self.count(now) >> LOW_BITS) as u32 & HIGH_MASK,
            ALARM_0 => self.alarm,
            _ => 0,
        };
        read_lane(value, offset, size)
    }

    pub fn write(&mut self, now: u64, offset: u32, size: usize, value: u32) {
        self.tick(now);
        let register = offset & !3;
        if register == INTR_0 {
            let (mask, shift) = lane(offset, size);
            self.intr &= !(value << shift & mask);
            self.schedule(now);
            return;
        }
        let old = match register {
            INTR_EN_0 => self.intr_en,
            NUMERATOR => self.numerator,
            DENOMINATOR => self.denominator,
            TIME_0 => ((self.count(now) & LOW_MASK) << 5) as u32,
            TIME_1 => (self.count(now) >> LOW_BITS) as u32 & HIGH_MASK,
            ALARM_0 => self.alarm,
            _ => return,
        };
        let value = write_lane(old, offset, size, value);
        match register {
            INTR_EN_0 => self.intr_en = value,
            NUMERATOR | DENOMINATOR => {
                self.rebase(now);
                if register == NUMERATOR {
                    self.numerator = value & 0xFFFF;
                } else {
                    self.denominator = value & 0xFFFF;
                }
            }
            TIME_0 => {
                let count = self.count(now);
                self.set_count(now, count & !LOW_MASK | u64::from(value >> 5) & LOW_MASK);
            }
            TIME_1 => {
                let count = self.count(now);
                self.set_count(
                    now,
                    u64::from(value & HIGH_MASK) << LOW_BITS | count & LOW_MASK,
                );
            }
            _ => self.alarm = value & !0x1F,
        }
        self.schedule(now);
    }

    /// The enabled interrupts that are pending (PMC's PTIMER line while non-zero).
    pub fn pending(&self) -> u32 {
        self.intr & self.intr_en
    }

    /// The CPU cycle at which the alarm next raises its interrupt.
    pub fn next_event(&self) -> Option<u64> {
        self.alarm_at
    }

    /// Raises the alarm's interrupt if the counter has reached it by `now`.
    pub fn tick(&mut self, now: u64) {
        if self.alarm_at.is_some_and(|at| at <= now) {
            self.intr |= INTR_ALARM;
            self.alarm_at = None;
        }
    }

    /// The core clock changed (a PRAMDAC NVPLL write): the counter keeps its value at `now`
    /// and runs at the new rate from there.
    pub fn set_source(&mut self, now: u64, source: Clock) {
        self.tick(now);
        self.rebase(now);
        self.source = source;
        self.schedule(now);
    }

    /// The 56-bit counter at `now`.
    pub fn count(&self, now: u64) -> u64 {
        (self.absolute(now) & u128::from(COUNTER_MASK)) as u64
    }

    /// The counter's rate as ticks per CPU cycle, a fraction (0/1 when stopped).
    fn rate(&self) -> (u128, u128) {
        let multiplier = self.denominator.min(self.numerator);
        let p = u128::from(self.source.num) * u128::from(multiplier);
        let q = u128::from(self.source.den) * u128::from(self.numerator) * u128::from(CLOCK_HZ);
        if p == 0 || q == 0 { (0, 1) } else { (p, q) }
    }

    /// The counter at `now` without wrapping at 56 bits.
    fn absolute(&self, now: u64) -> u128 {
        let (p, q) = self.rate();
        let elapsed = u128::from(now.saturating_sub(self.base_cycle));
        u128::from(self.base_count) + elapsed * p / q
    }

    /// Makes `now` (never earlier than the current base) the new base.
    fn rebase(&mut self, now: u64) {
        self.base_count = self.count(now);
        self.base_cycle = self.base_cycle.max(now);
    }

    fn set_count(&mut self, now: u64, count: u64) {
        self.base_cycle = self.base_cycle.max(now);
        self.base_count = count & COUNTER_MASK;
    }

    /// Finds when the counter next moves onto the alarm's value, counting from `now`: an alarm
    /// equal to the counter as it is fires only after the counter wraps its low 27 bits.
    fn schedule(&mut self, now: u64) {
        self.alarm_at = None;
        let (p, q) = self.rate();
        if self.intr & INTR_ALARM != 0 || p == 0 {
            return;
        }
        let current = self.absolute(now);
        let target = u128::from(self.alarm >> 5);
        let mut hit = current & !u128::from(LOW_MASK) | target;
        if hit <= current {
            hit += 1 << LOW_BITS;
        }
        // The first cycle c with base + floor((c - base_cycle) * p / q) >= hit.
        let ticks = hit - u128::from(self.base_count);
        let cycles = (ticks * q).div_ceil(p);
        self.alarm_at = u64::try_from(cycles)
            .ok()
            .and_then(|c| self.base_cycle.checked_add(c));
    }
}

impl Snapshot for Ptimer {
    fn state(&mut self, s: &mut State) {
        s.u32(&mut self.intr);
        s.u32(&mut self.intr_en);
        s.u32(&mut self.numerator);
        s.u32(&mut self.denominator);
        s.u32(&mut self.alarm);
        s.u64(&mut self.source.num);
        s.u64(&mut self.source.den);
        s.u64(&mut self.base_cycle);
        s.u64(&mut self.base_count);
        s.option_u64(&mut self.alarm_at);
        if s.is_loading() {
            self.numerator &= 0xFFFF;
            self.denominator &= 0xFFFF;
            self.base_count &= COUNTER_MASK;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NVCLK at the NVPLL's reset value: 16.667 MHz * 28 / 2.
    fn nvclk() -> Clock {
        Clock {
            num: 1_400_000_000,
            den: 6,
        }
    }

    fn time(t: &mut Ptimer, now: u64) -> u64 {
        u64::from(t.read(now, TIME_1, 4)) << 32 | u64::from(t.read(now, TIME_0, 4))
    }

    #[test]
    fn the_counter_runs_at_nvclk_times_denominator_over_numerator() {
        let mut t = Ptimer::new(nvclk());
        // 233.33 MHz * 3 / 28 = 25 MHz exactly: one emulated second is 25,000,000 ticks.
        t.write(0, NUMERATOR, 4, 28);
        t.write(0, DENOMINATOR, 4, 3);
        assert_eq!(t.count(CLOCK_HZ), 25_000_000);
        assert_eq!(time(&mut t, CLOCK_HZ), 25_000_000 << 5);
        assert_eq!(t.count(10 * CLOCK_HZ), 250_000_000);
        // The reset ratio, 15/112, makes TIME count nanoseconds.
        let mut t = Ptimer::new(nvclk());
        assert_eq!(time(&mut t, CLOCK_HZ), 1_000_000_000);
        assert_eq!(time(&mut t, 3 * CLOCK_HZ), 3_000_000_000);
        assert_eq!(t.read(CLOCK_HZ, TIME_0, 4) & 0x1F, 0);
    }

    #[test]
    fn a_ratio_change_keeps_the_count_and_changes_the_rate() {
        let mut t = Ptimer::new(nvclk());
        t.write(0, NUMERATOR, 4, 28);
        t.write(0, DENOMINATOR, 4, 3);
        t.write(CLOCK_HZ, DENOMINATOR, 4, 6);
        assert_eq!(t.count(CLOCK_HZ), 25_000_000);
        assert_eq!(t.count(2 * CLOCK_HZ), 75_000_000);
        // A multiplier of 0 stops it; one above the divider runs at NVCLK.
        t.write(2 * CLOCK_HZ, DENOMINATOR, 4, 0);
        assert_eq!(t.count(5 * CLOCK_HZ), 75_000_000);
        t.write(5 * CLOCK_HZ, DENOMINATOR, 4, 40);
        assert_eq!(t.count(6 * CLOCK_HZ), 75_000_000 + 233_333_333);
        // A new core clock: 116.67 MHz * 40/28 clamped to 1.
        t.set_source(
            6 * CLOCK_HZ,
            Clock {
                num: 700_000_000,
                den: 6,
            },
        );
        assert_eq!(
            t.count(7 * CLOCK_HZ),
            75_000_000 + 233_333_333 + 116_666_666
        );
    }

    #[test]
    fn time_writes_set_each_half() {
        let mut t = Ptimer::new(nvclk());
        t.write(100, TIME_1, 4, 0x1234_5678);
        t.write(100, TIME_0, 4, 0xFFFF_FFFF);
        assert_eq!(t.read(100, TIME_1, 4), 0x1234_5678 & HIGH_MASK);
        assert_eq!(t.read(100, TIME_0, 4), 0xFFFF_FFE0);
        // One tick later (31.25 MHz: 23.47 cycles a tick) the low half carries into the high.
        assert_eq!(t.read(124, TIME_0, 4), 0);
        assert_eq!(t.read(124, TIME_1, 4), (0x1234_5678 & HIGH_MASK) + 1);
        // Byte writes merge into the register.
        let mut t = Ptimer::new(nvclk());
        t.write(0, NUMERATOR + 1, 1, 0x01);
        assert_eq!(t.read(0, NUMERATOR, 4), 0x170);
        assert_eq!(t.read(0, NUMERATOR + 1, 1), 0x01);
    }

    #[test]
    fn the_alarm_fires_when_the_low_bits_come_round() {
        let mut t = Ptimer::new(nvclk());
        t.write(0, NUMERATOR, 4, 28);
        t.write(0, DENOMINATOR, 4, 3);
        t.write(0, INTR_EN_0, 4, INTR_ALARM);
        // 1,000 ticks at 25 MHz is 40 us: 29,333.33 cycles, so cycle 29,334.
        t.write(0, ALARM_0, 4, 1000 << 5);
        assert_eq!(t.next_event(), Some(29_334));
        t.tick(29_333);
        assert_eq!(t.pending(), 0);
        t.tick(29_334);
        assert_eq!(t.pending(), INTR_ALARM);
        assert_eq!(t.next_event(), None, "nothing more while it is pending");
        // Cleared, the next match is 2^27 ticks on.
        t.write(40_000, INTR_0, 4, INTR_ALARM);
        assert_eq!(t.pending(), 0);
        let next = t.next_event().unwrap();
        assert_eq!(t.count(next), 1000 + (1 << 27));
        assert_eq!(t.count(next - 1), 1000 + (1 << 27) - 1);
        // Masked, it still shows in INTR_0 but not on the line.
        t.write(next, INTR_EN_0, 4, 0);
        t.tick(next);
        assert_eq!(t.read(next, INTR_0, 4), INTR_ALARM);
        assert_eq!(t.pending(), 0);
    }

    #[test]
    fn an_alarm_at_the_current_count_waits_for_the_wrap() {
        let mut t = Ptimer::new(nvclk());
        t.write(0, NUMERATOR, 4, 28);
        t.write(0, DENOMINATOR, 4, 3);
        let now = 29_334;
        assert_eq!(t.count(now), 1000);
        t.write(now, ALARM_0, 4, 1000 << 5);
        assert_eq!(t.count(t.next_event().unwrap()), 1000 + (1 << 27));
        // A stopped counter never reaches its alarm.
        t.write(now, DENOMINATOR, 4, 0);
        assert_eq!(t.next_event(), None);
    }

    #[test]
    fn state_round_trips() {
        let mut t = Ptimer::new(nvclk());
        t.write(10, ALARM_0, 4, 0x4000);
        t.write(10, INTR_EN_0, 4, 1);
        t.write(20, TIME_1, 4, 7);
        let mut bytes = Vec::new();
        t.state(&mut State::saving(&mut bytes));
        let mut u = Ptimer::new(Clock { num: 1, den: 1 });
        u.state(&mut State::loading(&bytes));
        assert_eq!(u, t);
    }
}
