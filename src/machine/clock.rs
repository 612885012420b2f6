//! The virtual clock: emulated time is the CPU's cycle count (733.33 MHz), and one queue of
//! events in those cycles drives every device. The CPU runs until the next event; the board
//! then lets the due devices act. No host clock is read anywhere.
//!
//! The queue has one slot per kind of event, so its size (and the save state's) is fixed and
//! the order of simultaneous events is the slots' order, the same on every run.

use super::state::{Snapshot, State};
use crate::cpu::CLOCK_HZ;

/// Converts a count of CPU cycles into ticks of a clock running at `hz` (rounding down).
pub fn ticks(cycles: u64, hz: u64) -> u64 {
    (u128::from(cycles) * u128::from(hz) / u128::from(CLOCK_HZ)) as u64
}

/// The first CPU cycle at which a clock at `hz` has counted `ticks` ticks (the inverse of
/// [`ticks`], rounding up).
pub fn cycles(ticks: u64, hz: u64) -> u64 {
    let c = (u128::from(ticks) * u128::from(CLOCK_HZ)).div_ceil(u128::from(hz));
    u64::try_from(c).unwrap_or(u64::MAX)
}

/// The kinds of events, in the order simultaneous ones are handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The 8254's counter 0 reaches terminal count (IRQ 0).
    Pit,
    /// The RTC's periodic, alarm or update interrupt.
    Rtc,
    /// The ACPI timer's carry into bit 31 (its overflow status).
    AcpiTimer,
    /// An SMBus transaction completes.
    Smbus,
    /// The NV2A's PTIMER alarm or PCRTC vertical blank.
    Nv2a,
    /// The end of a video field: one `retro_run` ends here.
    Field,
}

impl Event {
    pub const ALL: [Event; 6] = [
        Event::Pit,
        Event::Rtc,
        Event::AcpiTimer,
        Event::Smbus,
        Event::Nv2a,
        Event::Field,
    ];
}

/// When each kind of event is next due, in CPU cycles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Events {
    due: [Option<u64>; Event::ALL.len()],
}

impl Events {
    pub fn schedule(&mut self, event: Event, at: Option<u64>) {
        self.due[event as usize] = at;
    }

    pub fn due(&self, event: Event) -> Option<u64> {
        self.due[event as usize]
    }

    /// The earliest scheduled time (u64::MAX when nothing is).
    pub fn next(&self) -> u64 {
        self.due.iter().flatten().copied().min().unwrap_or(u64::MAX)
    }

    /// Takes the first event due at or before `now`, unscheduling it.
    pub fn pop_due(&mut self, now: u64) -> Option<Event> {
        let event = Event::ALL
            .into_iter()
            .filter(|e| self.due[*e as usize].is_some_and(|at| at <= now))
            .min_by_key(|e| self.due[*e as usize])?;
        self.due[event as usize] = None;
        Some(event)
    }
}

impl Snapshot for Events {
    fn state(&mut self, s: &mut State) {
        self.due.iter_mut().for_each(|d| s.option_u64(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_conversions_invert() {
        for hz in [1_125_000, 3_375_000, 32_768, 48_000] {
            for t in [0, 1, 2, 1000, 123_456_789] {
                let c = cycles(t, hz);
                assert_eq!(ticks(c, hz), t);
                assert!(c == 0 || ticks(c - 1, hz) < t);
            }
        }
        // One emulated second is 3,375,000 ACPI ticks exactly.
        assert_eq!(ticks(CLOCK_HZ, 3_375_000), 3_375_000);
    }

    #[test]
    fn events_come_out_in_time_order_then_slot_order() {
        let mut e = Events::default();
        e.schedule(Event::Field, Some(10));
        e.schedule(Event::Pit, Some(10));
        e.schedule(Event::Smbus, Some(5));
        assert_eq!(e.next(), 5);
        assert_eq!(e.pop_due(4), None);
        assert_eq!(e.pop_due(10), Some(Event::Smbus));
        assert_eq!(e.pop_due(10), Some(Event::Pit));
        assert_eq!(e.pop_due(10), Some(Event::Field));
        assert_eq!(e.next(), u64::MAX);
    }
}
