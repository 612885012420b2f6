//! The 8254 programmable interval timer at 0x40-0x43, clocked at 1.125 MHz on the Xbox, and
//! the system control port at 0x61 (channel 2's gate, the speaker enable, OUT2 and the
//! refresh toggle).
//!
//! Nothing is stepped per clock: a channel remembers the PIT tick on which its counting
//! element was loaded, and its count and OUT level at any time are computed from that. The
//! 1.125 MHz clock is the real one; xemu's 1,125,001 Hz only works around QEMU's arithmetic.
//!
//! Timing follows the datasheet: a count written between clock pulses is loaded on the next
//! pulse and counts down on the ones after (so in mode 0 OUT rises N+1 pulses after the
//! write). Two simplifications: before that first pulse the counter reads as the new count,
//! and a count written to a running mode 3 channel takes effect at the end of the whole
//! period rather than of the current half.

use crate::machine::clock::{cycles, ticks};
use crate::machine::state::{Snapshot, State};

/// The PIT's input clock.
pub const PIT_HZ: u64 = 1_125_000;
/// Port 0x61's refresh bit toggles about every 15 µs (17 PIT clocks are 15.1 µs).
const REFRESH_TICKS: u64 = 17;

/// What a channel's counting element is doing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Run {
    /// Nothing loaded: no count yet, a one-shot waiting for its trigger, or a mode 2/3
    /// channel held by a low gate.
    Idle,
    /// Loaded on PIT tick `from` and counting on every tick since.
    Counting { from: u64 },
    /// Counting suspended by a low gate (modes 0 and 4) after `elapsed` ticks.
    Held { elapsed: u64 },
}

#[derive(Clone)]
struct Channel {
    /// The control word's low six bits: access mode, counter mode, BCD.
    control: u8,
    /// The count register as last written.
    cr: u16,
    /// The low byte of a two-byte count, until its high byte arrives.
    lsb: u8,
    write_msb: bool,
    read_msb: bool,
    latch: Option<u16>,
    status: Option<u8>,
    /// A complete count was written since the control word.
    armed: bool,
    /// The count the counting element runs with (1 to 65536, or to 10000 in BCD).
    n: u32,
    run: Run,
    /// Modes 2 and 3: the tick at which a newly written count replaces `n`.
    reload_at: Option<u64>,
    gate: bool,
}

/// OUT after `e` ticks of counting from a load of `n`.
fn out_after(mode: u8, n: u64, e: u64) -> bool {
    match mode {
        0 | 1 => e >= n,
        2 => e % n != n - 1,
        3 => e % n < n.div_ceil(2),
        _ => e != n,
    }
}

/// The first tick count after `e` at which [`out_after`] changes.
fn next_change(mode: u8, n: u64, e: u64) -> Option<u64> {
    let period_start = e - e % n;
    match mode {
        0 | 1 => (e < n).then_some(n),
        2 if n == 1 => None,
        2 if e % n < n - 1 => Some(period_start + n - 1),
        2 => Some(period_start + n),
        3 => {
            let high = n.div_ceil(2);
            if high == n {
                None
            } else if e % n < high {
                Some(period_start + high)
            } else {
                Some(period_start + n)
            }
        }
        _ if e < n => Some(n),
        _ => (e == n).then_some(n + 1),
    }
}

fn bcd_to_binary(value: u16) -> u32 {
    (0..4).fold(0, |acc, digit| {
        acc * 10 + u32::from(value >> (12 - 4 * digit) & 0xF)
    })
}

fn binary_to_bcd(value: u32) -> u16 {
    (0..4).fold(0, |acc, digit| {
        acc | ((value / 10u32.pow(digit) % 10) as u16) << (4 * digit)
    })
}

impl Channel {
    fn new(gate: bool) -> Channel {
        Channel {
            // Access LSB then MSB, mode 3: what PC firmware leaves, and OUT idles high.
            control: 0x36,
            cr: 0,
            lsb: 0,
            write_msb: false,
            read_msb: false,
            latch: None,
            status: None,
            armed: false,
            n: 65536,
            run: Run::Idle,
            reload_at: None,
            gate,
        }
    }

    /// The access mode: 1 LSB only, 2 MSB only, 3 LSB then MSB.
    fn access(&self) -> u8 {
        match self.control >> 4 & 3 {
            0 => 3,
            access => access,
        }
    }

    fn mode(&self) -> u8 {
        let mode = self.control >> 1 & 7;
        if mode & 2 != 0 { mode & 3 } else { mode }
    }

    fn bcd(&self) -> bool {
        self.control & 1 != 0
    }

    fn modulus(&self) -> u64 {
        if self.bcd() { 10_000 } else { 65_536 }
    }

    /// The count register as a count (0 means the maximum).
    fn decoded(&self) -> u32 {
        let value = if self.bcd() {
            bcd_to_binary(self.cr) % 10_000
        } else {
            u32::from(self.cr)
        };
        if value == 0 {
            self.modulus() as u32
        } else {
            value
        }
    }

    /// The count and run state in force at tick `t` (a pending reload may have happened).
    fn effective(&self, t: u64) -> (u64, Run) {
        match self.reload_at {
            Some(at) if t >= at => (u64::from(self.decoded()), Run::Counting { from: at }),
            _ => (u64::from(self.n), self.run),
        }
    }

    fn settle(&mut self, t: u64) {
        if self.reload_at.is_some_and(|at| t >= at) {
            let (n, run) = self.effective(t);
            self.n = n as u32;
            self.run = run;
            self.reload_at = None;
        }
    }

    fn out(&self, t: u64) -> bool {
        let mode = self.mode();
        if !self.armed {
            return mode != 0;
        }
        let (n, run) = self.effective(t);
        match run {
            Run::Idle => true,
            Run::Counting { from } if t < from => mode != 0,
            Run::Counting { from } => out_after(mode, n, t - from),
            Run::Held { elapsed } => out_after(mode, n, elapsed),
        }
    }

    /// The first PIT tick after `t` at which OUT changes (None while it cannot).
    fn next_out_change(&self, t: u64) -> Option<u64> {
        let mode = self.mode();
        let Run::Counting { from } = self.run else {
            return None;
        };
        if !self.armed {
            return None;
        }
        let n = u64::from(self.n);
        // Before the load OUT holds its pre-count level (low only in mode 0).
        let change = |n: u64, from: u64, t: u64, before: bool| {
            if t < from {
                if out_after(mode, n, 0) != before {
                    Some(from)
                } else {
                    next_change(mode, n, 0).map(|e| from.saturating_add(e))
                }
            } else {
                next_change(mode, n, t - from).map(|e| from.saturating_add(e))
            }
        };
        let old = change(n, from, t, mode != 0);
        match self.reload_at {
            Some(at) if old.is_none_or(|c| c >= at) => {
                let before = out_after(mode, n, at.saturating_sub(1).saturating_sub(from));
                change(u64::from(self.decoded()), at, at.saturating_sub(1), before)
            }
            _ => old,
        }
    }

    /// The counting element's value at tick `t`, as the guest reads it.
    fn count(&self, t: u64) -> u16 {
        let (n, run) = self.effective(t);
        let elapsed = match run {
            Run::Counting { from } if t >= from => Some(t - from),
            Run::Held { elapsed } => Some(elapsed),
            _ => None,
        };
        let value = match (elapsed, self.mode()) {
            (None, _) => n,
            (Some(e), 2) => n - e % n,
            (Some(e), 3) => {
                // Counts down by two through each half; odd counts run from n - 1.
                let high = n.div_ceil(2);
                let position = e % n;
                let k = if position < high {
                    position
                } else {
                    position - high
                };
                (n & !1) - 2 * k
            }
            (Some(e), _) => {
                let m = self.modulus();
                (n + m - e % m) % m
            }
        };
        if self.bcd() {
            binary_to_bcd((value % 10_000) as u32)
        } else {
            value as u16
        }
    }

    /// NULL COUNT: a count was written that the counting element has not loaded yet.
    fn null_count(&self, t: u64) -> bool {
        !self.armed
            || self.reload_at.is_some_and(|at| t < at)
            || match self.run {
                Run::Idle => true,
                Run::Counting { from } => t < from,
                Run::Held { .. } => false,
            }
    }

    fn status_byte(&self, t: u64) -> u8 {
        u8::from(self.out(t)) << 7 | u8::from(self.null_count(t)) << 6 | self.control
    }

    fn set_control(&mut self, value: u8) {
        self.control = value & 0x3F;
        self.armed = false;
        self.run = Run::Idle;
        self.reload_at = None;
        self.latch = None;
        self.status = None;
        self.write_msb = false;
        self.read_msb = false;
    }

    fn latch_count(&mut self, t: u64) {
        if self.latch.is_none() {
            self.latch = Some(self.count(t));
        }
    }

    fn latch_status(&mut self, t: u64) {
        if self.status.is_none() {
            self.status = Some(self.status_byte(t));
        }
    }

    fn read(&mut self, t: u64) -> u8 {
        if let Some(status) = self.status.take() {
            return status;
        }
        let [lo, hi] = self.latch.unwrap_or_else(|| self.count(t)).to_le_bytes();
        let byte = match self.access() {
            1 => lo,
            2 => hi,
            _ => {
                self.read_msb = !self.read_msb;
                if self.read_msb { lo } else { hi }
            }
        };
        if self.access() != 3 || !self.read_msb {
            self.latch = None;
        }
        byte
    }

    fn write(&mut self, t: u64, value: u8) {
        let cr = match self.access() {
            1 => u16::from(value),
            2 => u16::from(value) << 8,
            _ if !self.write_msb => {
                self.write_msb = true;
                self.lsb = value;
                if self.mode() == 0 {
                    // The first byte stops a mode 0 count and drops OUT until the second.
                    self.run = match self.run {
                        Run::Counting { from } => Run::Held {
                            elapsed: t.saturating_sub(from),
                        },
                        run => run,
                    };
                    self.armed = false;
                }
                return;
            }
            _ => {
                self.write_msb = false;
                u16::from_le_bytes([self.lsb, value])
            }
        };
        self.load(t, cr);
    }

    /// A complete count was written.
    fn load(&mut self, t: u64, cr: u16) {
        self.cr = cr;
        self.armed = true;
        match self.mode() {
            0 | 4 => {
                self.n = self.decoded();
                self.reload_at = None;
                self.run = if self.gate {
                    Run::Counting { from: t + 1 }
                } else {
                    Run::Held { elapsed: 0 }
                };
            }
            // A one-shot loads its count on the next trigger.
            1 | 5 => {
                if !matches!(self.run, Run::Counting { .. }) {
                    self.run = Run::Idle;
                }
            }
            _ => match self.run {
                // A running rate generator finishes its period first.
                Run::Counting { from } if t >= from => {
                    let n = u64::from(self.n);
                    self.reload_at = Some(from.saturating_add(((t - from) / n + 1) * n));
                }
                _ => {
                    self.n = self.decoded();
                    self.reload_at = None;
                    self.run = if self.gate {
                        Run::Counting { from: t + 1 }
                    } else {
                        Run::Idle
                    };
                }
            },
        }
    }

    fn set_gate(&mut self, t: u64, level: bool) {
        if level == self.gate {
            return;
        }
        self.gate = level;
        match (self.mode(), level) {
            // A rising gate triggers the one-shots and restarts the rate generators.
            (1 | 2 | 3 | 5, true) if self.armed => {
                self.n = self.decoded();
                self.reload_at = None;
                self.run = Run::Counting { from: t + 1 };
            }
            (2 | 3, false) => {
                if self.reload_at.take().is_some() {
                    self.n = self.decoded();
                }
                self.run = Run::Idle;
            }
            (0 | 4, true) => {
                if let Run::Held { elapsed } = self.run {
                    self.run = Run::Counting {
                        from: t.saturating_sub(elapsed),
                    };
                }
            }
            (0 | 4, false) => {
                if let Run::Counting { from } = self.run {
                    self.run = Run::Held {
                        elapsed: t.saturating_sub(from),
                    };
                }
            }
            _ => {}
        }
    }
}

impl Snapshot for Channel {
    fn state(&mut self, s: &mut State) {
        s.u8(&mut self.control);
        self.control &= 0x3F;
        s.u16(&mut self.cr);
        s.u8(&mut self.lsb);
        s.bool(&mut self.write_msb);
        s.bool(&mut self.read_msb);
        let mut latched = self.latch.is_some();
        let mut latch = self.latch.unwrap_or(0);
        s.bool(&mut latched);
        s.u16(&mut latch);
        self.latch = latched.then_some(latch);
        let mut has_status = self.status.is_some();
        let mut status = self.status.unwrap_or(0);
        s.bool(&mut has_status);
        s.u8(&mut status);
        self.status = has_status.then_some(status);
        s.bool(&mut self.armed);
        s.u32(&mut self.n);
        self.n = self.n.clamp(1, 65_536);
        let (mut tag, mut time) = match self.run {
            Run::Idle => (0u8, 0),
            Run::Counting { from } => (1, from),
            Run::Held { elapsed } => (2, elapsed),
        };
        s.u8(&mut tag);
        s.u64(&mut time);
        self.run = match tag {
            1 => Run::Counting { from: time },
            2 => Run::Held { elapsed: time },
            _ => Run::Idle,
        };
        s.option_u64(&mut self.reload_at);
        s.bool(&mut self.gate);
    }
}

/// The three channels and port 0x61.
#[derive(Clone)]
pub struct Pit {
    channels: [Channel; 3],
    /// Port 0x61's writable bits: channel 2's gate, the speaker enable, two NMI enables.
    port61: u8,
    /// The latest time seen, which `next_event` counts from.
    now: u64,
}

impl Default for Pit {
    fn default() -> Pit {
        Pit {
            // Channels 0 and 1 have their gates tied high; channel 2's is port 0x61 bit 0.
            channels: [Channel::new(true), Channel::new(true), Channel::new(false)],
            port61: 0,
            now: 0,
        }
    }
}

impl Pit {
    fn sync(&mut self, now: u64) -> u64 {
        self.now = self.now.max(now);
        let t = ticks(self.now, PIT_HZ);
        self.channels.iter_mut().for_each(|c| c.settle(t));
        t
    }

    /// Reads port 0x40 + `port_offset`.
    pub fn read(&mut self, now: u64, port_offset: u16) -> u8 {
        let t = self.sync(now);
        match port_offset {
            0..=2 => self.channels[port_offset as usize].read(t),
            // The control register reads nothing.
            _ => 0xFF,
        }
    }

    /// Writes port 0x40 + `port_offset`.
    pub fn write(&mut self, now: u64, port_offset: u16, value: u8) {
        let t = self.sync(now);
        match port_offset {
            0..=2 => self.channels[port_offset as usize].write(t, value),
            3 => match (value >> 6, value >> 4 & 3) {
                (3, _) => {
                    // Read-back: bit 5 clear latches counts, bit 4 clear latches statuses.
                    for (i, channel) in self.channels.iter_mut().enumerate() {
                        if value & 2 << i != 0 {
                            if value & 0x20 == 0 {
                                channel.latch_count(t);
                            }
                            if value & 0x10 == 0 {
                                channel.latch_status(t);
                            }
                        }
                    }
                }
                (channel, 0) => self.channels[usize::from(channel)].latch_count(t),
                (channel, _) => self.channels[usize::from(channel)].set_control(value),
            },
            _ => {}
        }
    }

    pub fn read_61(&mut self, now: u64) -> u8 {
        let t = self.sync(now);
        let refresh = ((t / REFRESH_TICKS) & 1) as u8;
        self.port61 | refresh << 4 | u8::from(self.channels[2].out(t)) << 5
    }

    pub fn write_61(&mut self, now: u64, value: u8) {
        let t = self.sync(now);
        self.port61 = value & 0x0F;
        self.channels[2].set_gate(t, value & 1 != 0);
    }

    /// The OUT level of `channel` (0-2) at `now`; channel 0's drives IRQ0.
    pub fn out(&self, channel: usize, now: u64) -> bool {
        self.channels
            .get(channel)
            .is_some_and(|c| c.out(ticks(now, PIT_HZ)))
    }

    /// The next CPU cycle at which OUT0 changes level.
    pub fn next_event(&self) -> Option<u64> {
        let t = ticks(self.now, PIT_HZ);
        self.channels[0]
            .next_out_change(t)
            .map(|tick| cycles(tick, PIT_HZ))
    }

    /// Nothing happens on the clock by itself: this only moves the time `next_event`
    /// counts from.
    pub fn tick(&mut self, now: u64) {
        self.sync(now);
    }
}

impl Snapshot for Pit {
    fn state(&mut self, s: &mut State) {
        self.channels.iter_mut().for_each(|c| c.state(s));
        s.u8(&mut self.port61);
        self.port61 &= 0x0F;
        s.u64(&mut self.now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CPU cycle of PIT tick `t`.
    fn at(t: u64) -> u64 {
        cycles(t, PIT_HZ)
    }

    fn program(pit: &mut Pit, now: u64, channel: u16, mode: u8, count: u16) {
        pit.write(now, 3, (channel as u8) << 6 | 0x30 | mode << 1);
        pit.write(now, channel, count as u8);
        pit.write(now, channel, (count >> 8) as u8);
    }

    fn read16(pit: &mut Pit, now: u64, channel: u16) -> u16 {
        u16::from_le_bytes([pit.read(now, channel), pit.read(now, channel)])
    }

    #[test]
    fn mode0_interrupts_on_terminal_count() {
        let mut pit = Pit::default();
        program(&mut pit, at(100), 0, 0, 10);
        assert!(!pit.out(0, at(100)));
        // Loaded on tick 101, zero ten ticks later.
        assert_eq!(read16(&mut pit, at(101), 0), 10);
        assert_eq!(read16(&mut pit, at(105), 0), 6);
        assert_eq!(pit.next_event(), Some(at(111)));
        assert!(!pit.out(0, at(111) - 1));
        assert!(pit.out(0, at(111)));
        pit.tick(at(111));
        assert_eq!(pit.next_event(), None, "OUT stays high");
        assert_eq!(read16(&mut pit, at(112), 0), 0xFFFF, "the counter wraps");
    }

    #[test]
    fn mode2_rate_generator() {
        let mut pit = Pit::default();
        program(&mut pit, at(0), 0, 2, 1125);
        // Loaded on tick 1; low for the one tick when the count is 1, then reloaded.
        assert!(pit.out(0, at(1)));
        assert_eq!(pit.next_event(), Some(at(1125)));
        pit.tick(at(1125));
        assert!(!pit.out(0, at(1125)));
        assert_eq!(read16(&mut pit, at(1125), 0), 1);
        assert_eq!(pit.next_event(), Some(at(1126)));
        pit.tick(at(1126));
        assert!(pit.out(0, at(1126)));
        assert_eq!(read16(&mut pit, at(1126), 0), 1125);
        assert_eq!(pit.next_event(), Some(at(2250)));
        // One rising edge per millisecond of emulated time.
        assert_eq!(at(2251) - at(1126), crate::cpu::CLOCK_HZ / 1000);
    }

    #[test]
    fn mode2_new_count_waits_for_the_period_end() {
        let mut pit = Pit::default();
        program(&mut pit, at(0), 0, 2, 100);
        pit.write(at(50), 0, 10);
        pit.write(at(50), 0, 0);
        // The old period still ends at tick 101 (low on 100).
        assert_eq!(pit.next_event(), Some(at(100)));
        pit.tick(at(100));
        assert_eq!(pit.next_event(), Some(at(101)));
        pit.tick(at(101));
        assert!(pit.out(0, at(101)));
        assert_eq!(read16(&mut pit, at(101), 0), 10);
        assert_eq!(pit.next_event(), Some(at(110)));
    }

    #[test]
    fn mode3_square_wave() {
        let mut pit = Pit::default();
        program(&mut pit, at(0), 0, 3, 6);
        assert!(pit.out(0, at(3)));
        assert_eq!(pit.next_event(), Some(at(4)));
        assert_eq!(read16(&mut pit, at(1), 0), 6);
        assert_eq!(read16(&mut pit, at(2), 0), 4);
        assert!(!pit.out(0, at(4)));
        assert!(!pit.out(0, at(6)));
        assert!(pit.out(0, at(7)));
        // Odd counts: high one tick longer than low.
        program(&mut pit, at(10), 0, 3, 5);
        let highs = (11..16).filter(|&t| pit.out(0, at(t))).count();
        assert_eq!(highs, 3);
        assert_eq!(read16(&mut pit, at(11), 0), 4);
    }

    #[test]
    fn latch_and_read_back() {
        let mut pit = Pit::default();
        program(&mut pit, at(0), 0, 2, 1000);
        pit.write(at(101), 3, 0x00); // latch channel 0
        assert_eq!(pit.read(at(200), 0), (900u16 & 0xFF) as u8);
        pit.write(at(300), 3, 0x00); // ignored: the MSB is still unread
        assert_eq!(pit.read(at(400), 0), (900u16 >> 8) as u8);
        assert_eq!(read16(&mut pit, at(401), 0), 600, "live again");
        // Read-back of status and count: status first.
        pit.write(at(501), 3, 0xC2);
        assert_eq!(pit.read(at(600), 0), 0x80 | 0x34);
        assert_eq!(read16(&mut pit, at(700), 0), 500);
        // Status only, right after a control word: NULL COUNT and OUT low in mode 0.
        pit.write(at(800), 3, 0x30);
        pit.write(at(800), 3, 0xE2);
        assert_eq!(pit.read(at(800), 0), 0x40 | 0x30);
    }

    #[test]
    fn byte_access_modes_and_bcd() {
        let mut pit = Pit::default();
        pit.write(at(0), 3, 0x10 | 0x04 | 1); // LSB only, mode 2, BCD
        pit.write(at(0), 0, 0x50); // 50 in BCD
        assert_eq!(pit.read(at(11), 0), 0x40, "ten ticks in: 40");
        pit.write(at(20), 3, 0x20 | 0x04); // MSB only, binary
        pit.write(at(20), 0, 0x02);
        assert_eq!(pit.read(at(21), 0), 0x02);
        assert_eq!(pit.read(at(22), 0), 0x01);
    }

    #[test]
    fn channel2_gate_and_port_61() {
        let mut pit = Pit::default();
        program(&mut pit, at(0), 2, 0, 20);
        // Gate low: loaded but not counting.
        assert_eq!(read16(&mut pit, at(50), 2), 20);
        pit.write_61(at(50), 0x03);
        assert_eq!(pit.read_61(at(50)) & 0x0F, 0x03);
        assert_eq!(pit.read_61(at(69)) & 0x20, 0, "OUT2 still low");
        assert_eq!(pit.read_61(at(70)) & 0x20, 0x20);
        // The refresh bit toggles with time.
        assert_ne!(pit.read_61(at(100)) & 0x10, pit.read_61(at(117)) & 0x10);
        // Mode 1: a rising gate fires the one-shot.
        pit.write_61(at(200), 0x00);
        program(&mut pit, at(200), 2, 1, 5);
        assert!(pit.out(2, at(210)));
        pit.write_61(at(210), 0x01);
        assert!(pit.out(2, at(210)));
        assert!(!pit.out(2, at(211)));
        assert!(pit.out(2, at(216)));
    }

    #[test]
    fn state_round_trip() {
        let mut pit = Pit::default();
        program(&mut pit, at(0), 0, 2, 500);
        pit.write(at(10), 0, 7);
        pit.write(at(10), 3, 0x00);
        pit.write_61(at(10), 1);
        let mut bytes = Vec::new();
        pit.state(&mut State::saving(&mut bytes));
        let mut copy = Pit::default();
        copy.state(&mut State::loading(&bytes));
        let mut again = Vec::new();
        copy.state(&mut State::saving(&mut again));
        assert_eq!(bytes, again);
        assert_eq!(copy.next_event(), pit.next_event());
        assert_eq!(copy.read(at(20), 0), pit.read(at(20), 0));
    }

    #[test]
    fn odd_guest_values_do_not_panic() {
        let mut pit = Pit::default();
        let mut now = 0;
        for value in 0..=255u8 {
            for port in 0..6u16 {
                now += 997;
                pit.write(now, port, value);
                pit.read(now, port);
                pit.write_61(now, value);
                pit.read_61(now);
                pit.out(port as usize, now);
                pit.next_event();
            }
        }
        let junk = [0xFFu8; 128];
        pit.state(&mut State::loading(&junk));
        pit.read(now, 0);
        pit.next_event();
        pit.out(0, now);
    }
}
