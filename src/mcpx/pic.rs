//! The two cascaded 8259A interrupt controllers (master at 0x20/0x21, slave at 0xA0/0xA1,
//! its INT output wired to the master's IR2) and the edge/level control registers at
//! 0x4D0/0x4D1.
//!
//! Every input is modelled as a level. An edge-triggered line latches its request on the
//! rising edge, and, as on a real 8259A (and as xemu does for the Xbox), loses it again if the
//! line falls before the acknowledge. A level-triggered line requests for as long as it is
//! high, so it asks again after the EOI if the device still holds it.
//!
//! Power-on leaves both masks set, so nothing is delivered before the firmware initialises
//! the pair (ICW1 clears the mask).

use crate::machine::state::{Snapshot, State};

/// The master input the slave's INT output drives.
const CASCADE: u8 = 2;

/// Where the next write to the odd port goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Ready,
    Icw2,
    Icw3,
    Icw4,
}

impl Step {
    fn code(self) -> u8 {
        match self {
            Step::Ready => 0,
            Step::Icw2 => 2,
            Step::Icw3 => 3,
            Step::Icw4 => 4,
        }
    }

    fn from_code(code: u8) -> Step {
        match code {
            2 => Step::Icw2,
            3 => Step::Icw3,
            4 => Step::Icw4,
            _ => Step::Ready,
        }
    }
}

/// One 8259A.
#[derive(Clone)]
struct Chip {
    step: Step,
    /// ICW1: no ICW3 follows (a lone controller).
    single: bool,
    /// ICW1: an ICW4 follows.
    needs_icw4: bool,
    /// ICW1 LTIM: every input is level-triggered, whatever the ELCR says.
    level_all: bool,
    /// ICW2: the vector base (its low three bits are the input number).
    base: u8,
    /// ICW3: on the master the inputs with a slave, on a slave its own cascade ID.
    cascade: u8,
    auto_eoi: bool,
    special_fully_nested: bool,
    /// OCW2: automatic rotation on automatic EOI.
    rotate_on_auto_eoi: bool,
    imr: u8,
    isr: u8,
    /// Requests latched by rising edges (edge-triggered inputs only).
    edge_requests: u8,
    /// The input levels.
    lines: u8,
    /// The input with the lowest priority; the one after it has the highest.
    lowest: u8,
    /// OCW3: the even port reads the ISR instead of the IRR.
    read_isr: bool,
    /// OCW3: the next read returns the poll word.
    poll: bool,
    special_mask: bool,
    /// The ELCR: set bits make their inputs level-triggered.
    elcr: u8,
}

impl Chip {
    fn new() -> Chip {
        Chip {
            step: Step::Ready,
            single: false,
            needs_icw4: false,
            level_all: false,
            base: 0,
            cascade: 0,
            auto_eoi: false,
            special_fully_nested: false,
            rotate_on_auto_eoi: false,
            imr: 0xFF,
            isr: 0,
            edge_requests: 0,
            lines: 0,
            lowest: 7,
            read_isr: false,
            poll: false,
            special_mask: false,
            elcr: 0,
        }
    }

    fn level_mask(&self) -> u8 {
        if self.level_all { 0xFF } else { self.elcr }
    }

    /// The interrupt request register as the guest reads it.
    fn irr(&self) -> u8 {
        let level = self.level_mask();
        (self.edge_requests & !level) | (self.lines & level)
    }

    fn set_line(&mut self, input: u8, level: bool) {
        let bit = 1 << input;
        if level && self.lines & bit == 0 {
            self.edge_requests |= bit;
        } else if !level {
            // A request that goes away before the acknowledge is lost.
            self.edge_requests &= !bit;
        }
        if level {
            self.lines |= bit;
        } else {
            self.lines &= !bit;
        }
    }

    /// The position (0 = highest) of the highest-priority set bit of `mask`.
    fn priority(&self, mask: u8) -> Option<u8> {
        (0..8).find(|p| mask & 1 << ((self.lowest + 1 + p) & 7) != 0)
    }

    fn input_at(&self, priority: u8) -> u8 {
        (self.lowest + 1 + priority) & 7
    }

    /// The input that would interrupt now: the highest unmasked request above everything in
    /// service. `master` lets special fully nested mode look through the cascade input.
    fn pending(&self, master: bool) -> Option<u8> {
        let request = self.priority(self.irr() & !self.imr)?;
        let mut in_service = self.isr;
        if self.special_mask {
            in_service &= !self.imr;
        }
        if master && self.special_fully_nested {
            in_service &= !(1 << CASCADE);
        }
        match self.priority(in_service) {
            Some(serving) if serving <= request => None,
            _ => Some(self.input_at(request)),
        }
    }

    /// The first INTA cycle (or a poll): the request moves into service.
    fn accept(&mut self, input: u8) {
        let bit = 1 << input;
        self.edge_requests &= !bit;
        if self.auto_eoi {
            if self.rotate_on_auto_eoi {
                self.lowest = input;
            }
        } else {
            self.isr |= bit;
        }
    }

    fn vector(&self, input: u8) -> u8 {
        self.base | input
    }

    /// The poll word: bit 7 set and the input number when a request was pending.
    fn poll_word(&mut self, master: bool) -> u8 {
        self.poll = false;
        match self.pending(master) {
            Some(input) => {
                self.accept(input);
                0x80 | input
            }
            None => 0,
        }
    }

    fn read(&mut self, odd: bool, master: bool) -> u8 {
        if self.poll {
            self.poll_word(master)
        } else if odd {
            self.imr
        } else if self.read_isr {
            self.isr
        } else {
            self.irr()
        }
    }

    fn write(&mut self, odd: bool, value: u8) {
        if !odd {
            if value & 0x10 != 0 {
                self.icw1(value);
            } else if value & 0x08 != 0 {
                self.ocw3(value);
            } else {
                self.ocw2(value);
            }
            return;
        }
        match self.step {
            Step::Ready => self.imr = value,
            Step::Icw2 => {
                self.base = value & 0xF8;
                self.step = if !self.single {
                    Step::Icw3
                } else if self.needs_icw4 {
                    Step::Icw4
                } else {
                    Step::Ready
                };
            }
            Step::Icw3 => {
                self.cascade = value;
                self.step = if self.needs_icw4 {
                    Step::Icw4
                } else {
                    Step::Ready
                };
            }
            Step::Icw4 => {
                // The 8080/8086 choice, buffered mode and M/S only matter to the bus wiring.
                self.auto_eoi = value & 0x02 != 0;
                self.special_fully_nested = value & 0x10 != 0;
                self.step = Step::Ready;
            }
        }
    }

    fn icw1(&mut self, value: u8) {
        // The datasheet's initialisation: edge sense reset (a line already high must fall and
        // rise again), mask cleared, IR7 lowest, status read on the IRR, special mask off,
        // slave address 7, and the ICW4 functions off until an ICW4 says otherwise. The ISR
        // is cleared too (the datasheet is silent; QEMU does so), so a re-initialisation
        // cannot leave an input blocked forever.
        self.needs_icw4 = value & 0x01 != 0;
        self.single = value & 0x02 != 0;
        self.level_all = value & 0x08 != 0;
        self.step = Step::Icw2;
        self.imr = 0;
        self.isr = 0;
        self.edge_requests = 0;
        self.lowest = 7;
        self.cascade = 7;
        self.read_isr = false;
        self.poll = false;
        self.special_mask = false;
        self.rotate_on_auto_eoi = false;
        self.auto_eoi = false;
        self.special_fully_nested = false;
    }

    fn ocw2(&mut self, value: u8) {
        let level = value & 7;
        let highest_in_service = || {
            let isr = if self.special_mask {
                self.isr & !self.imr
            } else {
                self.isr
            };
            self.priority(isr).map(|p| self.input_at(p))
        };
        match value >> 5 {
            0b001 => {
                if let Some(input) = highest_in_service() {
                    self.isr &= !(1 << input);
                }
            }
            0b011 => self.isr &= !(1 << level),
            0b101 => {
                if let Some(input) = highest_in_service() {
                    self.isr &= !(1 << input);
                    self.lowest = input;
                }
            }
            0b100 => self.rotate_on_auto_eoi = true,
            0b000 => self.rotate_on_auto_eoi = false,
            0b111 => {
                self.isr &= !(1 << level);
                self.lowest = level;
            }
            0b110 => self.lowest = level,
            _ => {}
        }
    }

    fn ocw3(&mut self, value: u8) {
        if value & 0x04 != 0 {
            self.poll = true;
        }
        if value & 0x02 != 0 {
            self.read_isr = value & 0x01 != 0;
        }
        if value & 0x40 != 0 {
            self.special_mask = value & 0x20 != 0;
        }
    }
}

impl Snapshot for Chip {
    fn state(&mut self, s: &mut State) {
        let mut step = self.step.code();
        s.u8(&mut step);
        self.step = Step::from_code(step);
        s.bool(&mut self.single);
        s.bool(&mut self.needs_icw4);
        s.bool(&mut self.level_all);
        s.u8(&mut self.base);
        s.u8(&mut self.cascade);
        s.bool(&mut self.auto_eoi);
        s.bool(&mut self.special_fully_nested);
        s.bool(&mut self.rotate_on_auto_eoi);
        s.u8(&mut self.imr);
        s.u8(&mut self.isr);
        s.u8(&mut self.edge_requests);
        s.u8(&mut self.lines);
        s.u8(&mut self.lowest);
        self.lowest &= 7;
        s.bool(&mut self.read_isr);
        s.bool(&mut self.poll);
        s.bool(&mut self.special_mask);
        s.u8(&mut self.elcr);
    }
}

/// The cascaded pair and the ELCR.
#[derive(Clone)]
pub struct Pic {
    master: Chip,
    slave: Chip,
}

impl Default for Pic {
    fn default() -> Pic {
        Pic {
            master: Chip::new(),
            slave: Chip::new(),
        }
    }
}

impl Pic {
    /// Reads one of 0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1 (anything else reads 0xFF).
    pub fn read(&mut self, port: u16) -> u8 {
        let value = match port {
            0x20 | 0x21 => self.master.read(port & 1 != 0, true),
            0xA0 | 0xA1 => self.slave.read(port & 1 != 0, false),
            0x4D0 => self.master.elcr,
            0x4D1 => self.slave.elcr,
            _ => 0xFF,
        };
        // A poll may have taken a request into service.
        self.update_cascade();
        value
    }

    pub fn write(&mut self, port: u16, value: u8) {
        match port {
            0x20 | 0x21 => self.master.write(port & 1 != 0, value),
            0xA0 | 0xA1 => self.slave.write(port & 1 != 0, value),
            // xemu leaves every ELCR bit writable on the Xbox, so no bits are forced here.
            0x4D0 => self.master.elcr = value,
            0x4D1 => self.slave.elcr = value,
            _ => {}
        }
        self.update_cascade();
    }

    /// Drives ISA interrupt line `line` (0-15). IRQ2 is the cascade itself and has no pin.
    pub fn set_irq(&mut self, line: u8, level: bool) {
        match line {
            0..=7 if line != CASCADE => self.master.set_line(line, level),
            8..=15 => self.slave.set_line(line - 8, level),
            _ => return,
        }
        self.update_cascade();
    }

    /// The master's INTR output.
    pub fn interrupt_pending(&self) -> bool {
        self.master.pending(true).is_some()
    }

    /// The CPU's interrupt acknowledge: returns the vector. A request that vanished since
    /// INTR was raised gives the spurious vector of IR7 (IRQ7, or IRQ15 when the slave's
    /// request vanished, in which case the master's IR2 stays in service as on hardware).
    pub fn acknowledge(&mut self) -> u8 {
        let Some(input) = self.master.pending(true) else {
            return self.master.vector(7);
        };
        self.master.accept(input);
        let vector =
            if input == CASCADE && !self.master.single && self.master.cascade & 1 << CASCADE != 0 {
                if self.slave.single || self.slave.cascade & 7 != CASCADE {
                    // No slave answers to this cascade address: the data bus floats.
                    0xFF
                } else if let Some(slave_input) = self.slave.pending(false) {
                    self.slave.accept(slave_input);
                    self.slave.vector(slave_input)
                } else {
                    self.slave.vector(7)
                }
            } else {
                self.master.vector(input)
            };
        self.update_cascade();
        vector
    }

    /// Feeds the slave's INT output into the master's cascade input.
    fn update_cascade(&mut self) {
        let int = self.slave.pending(false).is_some();
        self.master.set_line(CASCADE, int);
    }
}

impl Snapshot for Pic {
    fn state(&mut self, s: &mut State) {
        self.master.state(s);
        self.slave.state(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PC/Xbox initialisation: vectors 0x30 and 0x38, slave on IR2, 8086 mode.
    fn initialised() -> Pic {
        let mut pic = Pic::default();
        for (port, value) in [
            (0x20, 0x11),
            (0x21, 0x30),
            (0x21, 0x04),
            (0x21, 0x01),
            (0xA0, 0x11),
            (0xA1, 0x38),
            (0xA1, 0x02),
            (0xA1, 0x01),
            (0x21, 0x00),
            (0xA1, 0x00),
        ] {
            pic.write(port, value);
        }
        pic
    }

    fn eoi(pic: &mut Pic, master_only: bool) {
        if !master_only {
            pic.write(0xA0, 0x20);
        }
        pic.write(0x20, 0x20);
    }

    #[test]
    fn nothing_before_initialisation() {
        let mut pic = Pic::default();
        pic.set_irq(0, true);
        assert!(!pic.interrupt_pending());
    }

    #[test]
    fn init_mask_and_eoi() {
        let mut pic = initialised();
        pic.write(0x21, 0x01);
        pic.set_irq(0, true);
        assert!(!pic.interrupt_pending(), "IRQ0 is masked");
        assert_eq!(pic.read(0x20), 0x01, "but requested in the IRR");
        assert_eq!(pic.read(0x21), 0x01);
        pic.write(0x21, 0x00);
        assert!(pic.interrupt_pending());
        assert_eq!(pic.acknowledge(), 0x30);
        assert!(!pic.interrupt_pending());
        pic.write(0x20, 0x0B); // read the ISR
        assert_eq!(pic.read(0x20), 0x01);
        eoi(&mut pic, true);
        assert_eq!(pic.read(0x20), 0x00);
        // The line is still high but an edge-triggered input needs a new edge.
        assert!(!pic.interrupt_pending());
        pic.set_irq(0, false);
        pic.set_irq(0, true);
        assert!(pic.interrupt_pending());
    }

    #[test]
    fn priorities_and_nesting() {
        let mut pic = initialised();
        pic.set_irq(5, true);
        pic.set_irq(3, true);
        assert_eq!(pic.acknowledge(), 0x33);
        // IRQ5 waits while IRQ3 is in service; IRQ1 preempts it.
        assert!(!pic.interrupt_pending());
        pic.set_irq(1, true);
        assert_eq!(pic.acknowledge(), 0x31);
        eoi(&mut pic, true); // ends IRQ1, the highest in service
        assert!(!pic.interrupt_pending());
        eoi(&mut pic, true);
        assert_eq!(pic.acknowledge(), 0x35);
    }

    #[test]
    fn cascade_through_the_slave() {
        let mut pic = initialised();
        pic.set_irq(14, true);
        assert!(pic.interrupt_pending());
        assert_eq!(pic.acknowledge(), 0x3E);
        pic.write(0x20, 0x0B);
        pic.write(0xA0, 0x0B);
        assert_eq!((pic.read(0x20), pic.read(0xA0)), (0x04, 0x40));
        // Slave masking hides the request from the master too.
        eoi(&mut pic, false);
        pic.write(0xA1, 0x40);
        pic.set_irq(14, false);
        pic.set_irq(14, true);
        assert!(!pic.interrupt_pending());
        pic.write(0xA1, 0x00);
        assert!(pic.interrupt_pending());
        assert_eq!(pic.acknowledge(), 0x3E);
    }

    #[test]
    fn an_edge_request_dropped_before_inta_is_lost() {
        let mut pic = initialised();
        pic.set_irq(4, true);
        assert!(pic.interrupt_pending());
        pic.set_irq(4, false);
        assert!(!pic.interrupt_pending());
        assert_eq!(pic.read(0x20), 0x00);
        // The acknowledge of a request that vanished is spurious: IR7, nothing in service.
        assert_eq!(pic.acknowledge(), 0x37);
        pic.write(0x20, 0x0B);
        assert_eq!(pic.read(0x20), 0x00);
    }

    #[test]
    fn a_level_request_asks_again_after_eoi() {
        let mut pic = initialised();
        pic.write(0x4D1, 0x08); // IRQ11 level-triggered
        assert_eq!(pic.read(0x4D1), 0x08);
        pic.set_irq(11, true);
        assert_eq!(pic.acknowledge(), 0x3B);
        assert!(!pic.interrupt_pending());
        eoi(&mut pic, false);
        assert!(pic.interrupt_pending(), "the line is still high");
        assert_eq!(pic.acknowledge(), 0x3B);
        eoi(&mut pic, false);
        pic.set_irq(11, false);
        assert!(!pic.interrupt_pending());
    }

    #[test]
    fn spurious_irq15_leaves_the_cascade_in_service() {
        let mut pic = initialised();
        pic.set_irq(12, true);
        assert!(pic.interrupt_pending());
        // The slave's request vanishes between INTR and the acknowledge, while the master's
        // cascade input is still latched (set the slave's mask behind the cascade's back).
        pic.slave.imr = 0x10;
        assert_eq!(pic.acknowledge(), 0x3F, "spurious IRQ15");
        pic.write(0x20, 0x0B);
        pic.write(0xA0, 0x0B);
        assert_eq!((pic.read(0x20), pic.read(0xA0)), (0x04, 0x00));
    }

    #[test]
    fn rotation() {
        let mut pic = initialised();
        // Rotate on non-specific EOI: the serviced input becomes the lowest.
        pic.set_irq(0, true);
        assert_eq!(pic.acknowledge(), 0x30);
        pic.write(0x20, 0xA0);
        pic.set_irq(0, false);
        pic.set_irq(0, true);
        pic.set_irq(1, true);
        assert_eq!(pic.acknowledge(), 0x31, "IRQ0 now has the lowest priority");
        // Set priority: IR4 lowest, so IR5 is highest.
        pic.write(0x20, 0xC4);
        pic.write(0x20, 0x61); // specific EOI for IR1
        pic.set_irq(5, true);
        assert_eq!(pic.acknowledge(), 0x35);
        pic.write(0x20, 0xE5); // rotate on specific EOI of IR5: IR6 highest
        pic.set_irq(7, true);
        assert_eq!(pic.acknowledge(), 0x37);
    }

    #[test]
    fn auto_eoi_and_poll() {
        let mut pic = Pic::default();
        for (port, value) in [(0x20, 0x13), (0x21, 0x40), (0x21, 0x03)] {
            pic.write(port, value);
        }
        pic.set_irq(3, true);
        assert_eq!(pic.acknowledge(), 0x43);
        pic.write(0x20, 0x0B);
        assert_eq!(
            pic.read(0x20),
            0x00,
            "automatic EOI leaves nothing in service"
        );
        // Poll: the read returns the request and takes it into service.
        pic.set_irq(6, true);
        pic.write(0x20, 0x0C);
        assert_eq!(pic.read(0x20), 0x86);
        pic.write(0x20, 0x0C);
        assert_eq!(pic.read(0x21), 0x00, "nothing left to poll");
    }

    #[test]
    fn special_mask_mode_lets_lower_priorities_through() {
        let mut pic = initialised();
        pic.set_irq(1, true);
        assert_eq!(pic.acknowledge(), 0x31);
        pic.set_irq(6, true);
        assert!(!pic.interrupt_pending());
        pic.write(0x21, 0x02);
        pic.write(0x20, 0x68); // set special mask mode
        assert!(pic.interrupt_pending());
        assert_eq!(pic.acknowledge(), 0x36);
    }

    #[test]
    fn state_round_trip() {
        let mut pic = initialised();
        pic.write(0x4D0, 0x20);
        pic.set_irq(5, true);
        pic.set_irq(9, true);
        pic.acknowledge();
        let mut bytes = Vec::new();
        pic.state(&mut State::saving(&mut bytes));
        let mut copy = Pic::default();
        copy.state(&mut State::loading(&bytes));
        let mut again = Vec::new();
        copy.state(&mut State::saving(&mut again));
        assert_eq!(bytes, again);
        assert_eq!(copy.acknowledge(), pic.acknowledge());
    }

    #[test]
    fn odd_guest_values_do_not_panic() {
        let mut pic = Pic::default();
        for port in [0x20u16, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1, 0x22, 0xFFFF] {
            for value in 0..=255u8 {
                pic.write(port, value);
                pic.read(port);
                pic.set_irq(value, value & 1 != 0);
                if pic.interrupt_pending() {
                    pic.acknowledge();
                }
            }
        }
        let junk = [0xFFu8; 64];
        pic.state(&mut State::loading(&junk));
        pic.acknowledge();
        pic.read(0x20);
    }
}
