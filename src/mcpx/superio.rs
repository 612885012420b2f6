//! Small LPC devices that only ever talk to the host's log:
//! - [`SuperIo`]: the SMSC LPC47M157 on debug kits' LPC daughterboard, with its configuration
//!   ports at 0x2E/0x2F and its two 16550 UARTs;
//! - [`DebugConsole`]: port 0xE9, the Bochs/QEMU debug console homebrew prints to;
//! - [`PostCode`]: the port 0x80 POST code latch.
//!
//! Output is instant: a byte written to a UART is on the wire at once, so the transmitter is
//! always empty. Text goes to a [`LineBuffer`], which the board drains into the host's log.
//! What a guest printed is host output, not machine state, so save states leave it out.

use crate::machine::state::{Snapshot, State};
use std::collections::VecDeque;

/// Completed lines kept for the host before the oldest are dropped.
const MAX_PENDING_LINES: usize = 1024;
/// A line that never ends is cut here.
const MAX_LINE: usize = 4096;

/// Collects printed bytes into lines.
#[derive(Clone, Default)]
pub struct LineBuffer {
    partial: Vec<u8>,
    lines: VecDeque<String>,
}

impl LineBuffer {
    pub fn push(&mut self, byte: u8) {
        match byte {
            b'\n' => self.finish(),
            // Carriage returns only end lines alongside a line feed.
            b'\r' => {}
            _ => {
                self.partial.push(byte);
                if self.partial.len() >= MAX_LINE {
                    self.finish();
                }
            }
        }
    }

    fn finish(&mut self) {
        if self.lines.len() == MAX_PENDING_LINES {
            self.lines.pop_front();
        }
        self.lines
            .push_back(String::from_utf8_lossy(&self.partial).into_owned());
        self.partial.clear();
    }

    /// The lines completed since the last call.
    pub fn take_lines(&mut self) -> Vec<String> {
        self.lines.drain(..).collect()
    }
}

const IER_RX: u8 = 0x01;
const IER_THRE: u8 = 0x02;
const IER_LINE: u8 = 0x04;
const IER_MODEM: u8 = 0x08;
const LCR_DLAB: u8 = 0x80;
const MCR_OUT2: u8 = 0x08;
const MCR_LOOP: u8 = 0x10;
const LSR_DR: u8 = 0x01;
const LSR_OE: u8 = 0x02;
/// The transmitter holding register and the shift register are empty.
const LSR_THRE_TEMT: u8 = 0x60;
const FCR_ENABLE: u8 = 0x01;
const FIFO_SIZE: usize = 16;

/// A 16550A. Without loopback the far end is a terminal that asserts CTS, DSR and DCD and
/// never sends; with loopback the transmitter feeds the receiver and the modem outputs the
/// modem inputs, which is how drivers probe for the chip.
#[derive(Clone, Default)]
struct Uart {
    ier: u8,
    lcr: u8,
    mcr: u8,
    scr: u8,
    divisor: u16,
    /// FCR's FIFO enable and receive trigger bits.
    fcr: u8,
    rx: [u8; FIFO_SIZE],
    rx_len: usize,
    overrun: bool,
    /// MSR's delta bits, cleared when the MSR is read.
    msr_delta: u8,
    /// The transmitter-empty interrupt is due (cleared by reading it from the IIR or by a
    /// write to the THR, and due again the moment that byte has left).
    thre_pending: bool,
    out: LineBuffer,
}

impl Uart {
    /// MSR's CTS, DSR, RI and DCD for a given MCR.
    fn modem_inputs(mcr: u8) -> u8 {
        if mcr & MCR_LOOP != 0 {
            // RTS to CTS, DTR to DSR, OUT1 to RI, OUT2 to DCD.
            (mcr & 0x02) << 3 | (mcr & 0x01) << 5 | (mcr & 0x04) << 4 | (mcr & 0x08) << 4
        } else {
            0xB0
        }
    }

    fn fifo_enabled(&self) -> bool {
        self.fcr & FCR_ENABLE != 0
    }

    fn rx_trigger(&self) -> usize {
        [1, 4, 8, 14][usize::from(self.fcr >> 6)]
    }

    /// The IIR's interrupt identification, highest priority first (bit 0 set: none).
    fn identify(&self) -> u8 {
        if self.overrun && self.ier & IER_LINE != 0 {
            0x06
        } else if self.rx_len > 0 && self.ier & IER_RX != 0 {
            // Below the trigger level the 16550 reports a character timeout after four
            // character times; output being instant, that time has always passed.
            if self.fifo_enabled() && self.rx_len < self.rx_trigger() {
                0x0C
            } else {
                0x04
            }
        } else if self.thre_pending && self.ier & IER_THRE != 0 {
            0x02
        } else if self.msr_delta != 0 && self.ier & IER_MODEM != 0 {
            0x00
        } else {
            0x01
        }
    }

    /// The interrupt output, which OUT2 gates on PC-style boards.
    fn irq(&self) -> bool {
        self.identify() & 1 == 0 && self.mcr & MCR_OUT2 != 0
    }

    fn receive(&mut self, byte: u8) {
        let capacity = if self.fifo_enabled() { FIFO_SIZE } else { 1 };
        if self.rx_len < capacity {
            self.rx[self.rx_len] = byte;
            self.rx_len += 1;
        } else {
            // Without a FIFO the new byte replaces the unread one; with it, it is lost.
            if !self.fifo_enabled() {
                self.rx[0] = byte;
            }
            self.overrun = true;
        }
    }

    fn read(&mut self, offset: u16) -> u8 {
        let dlab = self.lcr & LCR_DLAB != 0;
        match offset {
            0 if dlab => self.divisor as u8,
            0 => {
                if self.rx_len == 0 {
                    return 0;
                }
                let byte = self.rx[0];
                self.rx.copy_within(1.., 0);
                self.rx_len -= 1;
                byte
            }
            1 if dlab => (self.divisor >> 8) as u8,
            1 => self.ier,
            2 => {
                let id = self.identify();
                if id == 0x02 {
                    self.thre_pending = false;
                }
                id | if self.fifo_enabled() { 0xC0 } else { 0 }
            }
            3 => self.lcr,
            4 => self.mcr,
            5 => {
                let lsr = LSR_THRE_TEMT
                    | if self.rx_len > 0 { LSR_DR } else { 0 }
                    | if self.overrun { LSR_OE } else { 0 };
                self.overrun = false;
                lsr
            }
            6 => {
                let msr = Self::modem_inputs(self.mcr) | self.msr_delta;
                self.msr_delta = 0;
                msr
            }
            _ => self.scr,
        }
    }

    fn write(&mut self, offset: u16, value: u8) {
        let dlab = self.lcr & LCR_DLAB != 0;
        match offset {
            0 if dlab => self.divisor = self.divisor & 0xFF00 | u16::from(value),
            0 => {
                if self.mcr & MCR_LOOP != 0 {
                    self.receive(value);
                } else {
                    self.out.push(value);
                }
                self.thre_pending = true;
            }
            1 if dlab => self.divisor = self.divisor & 0x00FF | u16::from(value) << 8,
            1 => {
                // Enabling the interrupt while the THR is empty raises it at once.
                if value & IER_THRE != 0 && self.ier & IER_THRE == 0 {
                    self.thre_pending = true;
                }
                self.ier = value & 0x0F;
            }
            2 => {
                let enable = value & FCR_ENABLE;
                if enable != self.fcr & FCR_ENABLE || value & 0x02 != 0 {
                    self.rx_len = 0;
                }
                self.fcr = value & 0xC1;
            }
            3 => self.lcr = value,
            4 => {
                let value = value & 0x1F;
                let (old, new) = (Self::modem_inputs(self.mcr), Self::modem_inputs(value));
                let changed = old ^ new;
                // DCTS, DDSR and DDCD flag changes; TERI flags RI's falling edge.
                self.msr_delta |= changed >> 4 & 0x0B | (old & !new & 0x40) >> 4;
                self.mcr = value;
            }
            // The LSR and MSR are read-only.
            5 | 6 => {}
            _ => self.scr = value,
        }
    }
}

impl Snapshot for Uart {
    fn state(&mut self, s: &mut State) {
        s.u8(&mut self.ier);
        self.ier &= 0x0F;
        s.u8(&mut self.lcr);
        s.u8(&mut self.mcr);
        self.mcr &= 0x1F;
        s.u8(&mut self.scr);
        s.u16(&mut self.divisor);
        s.u8(&mut self.fcr);
        self.fcr &= 0xC1;
        s.bytes(&mut self.rx);
        s.index(&mut self.rx_len, FIFO_SIZE + 1);
        s.bool(&mut self.overrun);
        s.u8(&mut self.msr_delta);
        self.msr_delta &= 0x0F;
        s.bool(&mut self.thre_pending);
    }
}

/// The configuration port pair (the SYSOPT strap on the daughterboard selects 0x2E).
const CONFIG_INDEX: u16 = 0x2E;
const CONFIG_DATA: u16 = 0x2F;
const ENTER_KEY: u8 = 0x55;
const EXIT_KEY: u8 = 0xAA;
/// Global registers below this index; the selected logical device's from it up.
const DEVICE_REGS: usize = 0x30;
const LOGICAL_DEVICE: usize = 0x07;
/// The LPC47M15x family's device ID (what superiotool and lm-sensors match on).
const DEVICE_ID: u8 = 0x60;
/// Logical devices 0 to 0x0B; serial ports 1 and 2 are 4 and 5.
const DEVICES: usize = 12;
const SERIAL1: usize = 4;
const ACTIVATE: usize = 0x30;
const BASE_HIGH: usize = 0x60;
const BASE_LOW: usize = 0x61;
const IRQ_SELECT: usize = 0x70;

/// The LPC47M157 with its two UARTs. Serial port 1 starts active at 0x3F8 on IRQ4 so that
/// code which prints without configuring the chip is heard; serial port 2 starts inactive at
/// 0x2F8 on IRQ3. The guest can move, route or switch off either.
#[derive(Clone)]
pub struct SuperIo {
    config_mode: bool,
    index: u8,
    global: [u8; DEVICE_REGS],
    /// Registers 0x30-0xFF of each logical device.
    devices: [[u8; 256 - DEVICE_REGS]; DEVICES],
    uarts: [Uart; 2],
}

impl Default for SuperIo {
    fn default() -> SuperIo {
        let mut global = [0; DEVICE_REGS];
        global[0x20] = DEVICE_ID;
        global[0x26] = CONFIG_INDEX as u8;
        let mut devices = [[0; 256 - DEVICE_REGS]; DEVICES];
        for (device, active, base, irq) in [(SERIAL1, 1, 0x3F8u16, 4), (SERIAL1 + 1, 0, 0x2F8, 3)] {
            let regs = &mut devices[device];
            regs[ACTIVATE - DEVICE_REGS] = active;
            regs[BASE_HIGH - DEVICE_REGS] = (base >> 8) as u8;
            regs[BASE_LOW - DEVICE_REGS] = base as u8;
            regs[IRQ_SELECT - DEVICE_REGS] = irq;
        }
        SuperIo {
            config_mode: false,
            index: 0,
            global,
            devices,
            uarts: Default::default(),
        }
    }
}

impl SuperIo {
    fn serial_reg(&self, port: usize, reg: usize) -> u8 {
        self.devices[SERIAL1 + port][reg - DEVICE_REGS]
    }

    fn serial_active(&self, port: usize) -> bool {
        self.serial_reg(port, ACTIVATE) & 1 != 0
    }

    /// The UART decoding `port`, and the register offset.
    fn uart_at(&self, port: u16) -> Option<(usize, u16)> {
        (0..2).find_map(|i| {
            let base = u16::from(self.serial_reg(i, BASE_HIGH)) << 8
                | u16::from(self.serial_reg(i, BASE_LOW) & 0xF8);
            (self.serial_active(i) && base != 0 && port & !7 == base).then_some((i, port & 7))
        })
    }

    /// Whether the chip answers at `port` (its configuration ports and active UARTs).
    pub fn decodes(&self, port: u16) -> bool {
        port == CONFIG_INDEX || port == CONFIG_DATA || self.uart_at(port).is_some()
    }

    pub fn read(&mut self, port: u16) -> u8 {
        match port {
            CONFIG_INDEX if self.config_mode => self.index,
            CONFIG_DATA if self.config_mode => self.config_read(),
            _ => match self.uart_at(port) {
                Some((i, offset)) => self.uarts[i].read(offset),
                None => 0xFF,
            },
        }
    }

    pub fn write(&mut self, port: u16, value: u8) {
        match port {
            CONFIG_INDEX => match (self.config_mode, value) {
                (false, ENTER_KEY) => self.config_mode = true,
                (false, _) => {}
                (true, EXIT_KEY) => self.config_mode = false,
                (true, _) => self.index = value,
            },
            CONFIG_DATA if self.config_mode => self.config_write(value),
            _ => {
                if let Some((i, offset)) = self.uart_at(port) {
                    self.uarts[i].write(offset, value);
                }
            }
        }
    }

    fn config_read(&self) -> u8 {
        let index = usize::from(self.index);
        if index < DEVICE_REGS {
            return self.global[index];
        }
        self.devices
            .get(usize::from(self.global[LOGICAL_DEVICE]))
            .map_or(0xFF, |regs| regs[index - DEVICE_REGS])
    }

    fn config_write(&mut self, value: u8) {
        let index = usize::from(self.index);
        match index {
            // The device ID and revision are read-only.
            0x20 | 0x21 => {}
            _ if index < DEVICE_REGS => self.global[index] = value,
            _ => {
                if let Some(regs) = self
                    .devices
                    .get_mut(usize::from(self.global[LOGICAL_DEVICE]))
                {
                    regs[index - DEVICE_REGS] = value;
                }
            }
        }
    }

    /// The ISA interrupt lines (bit n for IRQn) the active UARTs assert, per their
    /// logical devices' IRQ select registers.
    pub fn irq_lines(&self) -> u16 {
        (0..2)
            .filter(|&i| self.serial_active(i) && self.uarts[i].irq())
            .map(|i| self.serial_reg(i, IRQ_SELECT) & 0x0F)
            .filter(|&line| line != 0)
            .fold(0, |lines, line| lines | 1 << line)
    }

    /// IRQ4, where the debug kit's serial port interrupts.
    pub fn irq(&self) -> bool {
        self.irq_lines() & 1 << 4 != 0
    }

    /// The lines both UARTs sent since the last call, serial port 1's first.
    pub fn take_lines(&mut self) -> Vec<String> {
        self.uarts
            .iter_mut()
            .flat_map(|uart| uart.out.take_lines())
            .collect()
    }
}

impl Snapshot for SuperIo {
    fn state(&mut self, s: &mut State) {
        s.bool(&mut self.config_mode);
        s.u8(&mut self.index);
        s.bytes(&mut self.global);
        self.global[0x20] = DEVICE_ID;
        self.global[0x21] = 0;
        self.devices.iter_mut().for_each(|regs| s.bytes(regs));
        self.uarts.iter_mut().for_each(|uart| uart.state(s));
    }
}

/// Port 0xE9: every byte written is printed; reads return 0xE9 so software can detect it.
#[derive(Clone, Default)]
pub struct DebugConsole {
    out: LineBuffer,
}

impl DebugConsole {
    pub fn read(&self) -> u8 {
        0xE9
    }

    pub fn write(&mut self, value: u8) {
        self.out.push(value);
    }

    pub fn take_lines(&mut self) -> Vec<String> {
        self.out.take_lines()
    }
}

/// Port 0x80: the last POST code written.
#[derive(Clone, Default)]
pub struct PostCode {
    code: u8,
}

impl PostCode {
    pub fn read(&self) -> u8 {
        self.code
    }

    pub fn write(&mut self, value: u8) {
        self.code = value;
    }
}

impl Snapshot for PostCode {
    fn state(&mut self, s: &mut State) {
        s.u8(&mut self.code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(superio: &mut SuperIo, base: u16, text: &str) {
        text.bytes().for_each(|b| superio.write(base, b));
    }

    #[test]
    fn lines_out_of_com1() {
        let mut superio = SuperIo::default();
        assert!(superio.decodes(0x3F8) && !superio.decodes(0x2F8));
        print(&mut superio, 0x3F8, "hello\r\nwor");
        assert_eq!(superio.take_lines(), ["hello"]);
        print(&mut superio, 0x3F8, "ld\n\n");
        assert_eq!(superio.take_lines(), ["world", ""]);
        assert!(superio.take_lines().is_empty());
        // The transmitter is always empty.
        assert_eq!(superio.read(0x3FD), 0x60);
    }

    #[test]
    fn registers_divisor_and_scratch() {
        let mut superio = SuperIo::default();
        superio.write(0x3FB, 0x83);
        superio.write(0x3F8, 0x01);
        superio.write(0x3F9, 0x00);
        superio.write(0x3FB, 0x03);
        assert!(
            superio.take_lines().is_empty(),
            "divisor writes print nothing"
        );
        superio.write(0x3FB, 0x83);
        assert_eq!((superio.read(0x3F8), superio.read(0x3F9)), (0x01, 0x00));
        superio.write(0x3FB, 0x03);
        superio.write(0x3FF, 0x5A);
        assert_eq!(superio.read(0x3FF), 0x5A);
        assert_eq!(superio.read(0x3FA), 0x01, "no interrupt, no FIFO");
        superio.write(0x3FA, 0xC7);
        assert_eq!(superio.read(0x3FA), 0xC1);
        assert_eq!(superio.read(0x3FE) & 0xF0, 0xB0, "CTS, DSR and DCD");
    }

    #[test]
    fn transmitter_empty_interrupt() {
        let mut superio = SuperIo::default();
        superio.write(0x3FC, MCR_OUT2);
        superio.write(0x3F9, IER_THRE);
        assert!(superio.irq());
        assert_eq!(superio.irq_lines(), 1 << 4);
        assert_eq!(superio.read(0x3FA), 0x02);
        assert!(!superio.irq(), "reading the IIR clears it");
        superio.write(0x3F8, b'x');
        assert!(superio.irq(), "the byte left at once");
        // OUT2 gates the line.
        superio.write(0x3FC, 0);
        assert!(!superio.irq());
    }

    #[test]
    fn loopback_probe() {
        let mut superio = SuperIo::default();
        superio.write(0x3FC, MCR_LOOP | 0x0A); // loop, RTS, OUT2
        let msr = superio.read(0x3FE);
        assert_eq!(msr & 0xF0, 0x90, "CTS from RTS, DCD from OUT2");
        superio.write(0x3F8, 0xAE);
        assert!(superio.take_lines().is_empty());
        assert_eq!(superio.read(0x3FD) & LSR_DR, LSR_DR);
        superio.write(0x3F8, 0xAF);
        assert_eq!(superio.read(0x3FD) & LSR_OE, LSR_OE, "no FIFO: overrun");
        assert_eq!(superio.read(0x3F8), 0xAF);
        assert_eq!(superio.read(0x3FD) & (LSR_DR | LSR_OE), 0);
        // With the FIFO, bytes queue up.
        superio.write(0x3FA, 0x41); // FIFO on, trigger at 4
        superio.write(0x3F9, IER_RX);
        superio.write(0x3F8, 1);
        superio.write(0x3F8, 2);
        assert_eq!(superio.read(0x3FA), 0xCC, "below the trigger: timeout");
        assert_eq!((superio.read(0x3F8), superio.read(0x3F8)), (1, 2));
        assert_eq!(superio.read(0x3FA), 0xC1);
    }

    #[test]
    fn configuration_moves_the_ports() {
        let mut superio = SuperIo::default();
        superio.write(0x2F, 0x12);
        assert_eq!(
            superio.read(0x2F),
            0xFF,
            "locked outside configuration mode"
        );
        superio.write(0x2E, 0x55);
        superio.write(0x2E, 0x20);
        assert_eq!(superio.read(0x2F), 0x60);
        superio.write(0x2F, 0x00);
        assert_eq!(superio.read(0x2F), 0x60);
        // Serial port 2 on at 0x2F8; serial port 1 off.
        superio.write(0x2E, 0x07);
        superio.write(0x2F, 0x05);
        superio.write(0x2E, 0x30);
        superio.write(0x2F, 0x01);
        superio.write(0x2E, 0x07);
        superio.write(0x2F, 0x04);
        superio.write(0x2E, 0x30);
        assert_eq!(superio.read(0x2F), 0x01);
        superio.write(0x2F, 0x00);
        superio.write(0x2E, 0xAA);
        assert!(superio.decodes(0x2F8) && !superio.decodes(0x3F8));
        print(&mut superio, 0x2F8, "two\n");
        print(&mut superio, 0x3F8, "one\n");
        assert_eq!(superio.take_lines(), ["two"]);
        // Its interrupt goes to IRQ3.
        superio.write(0x2FC, MCR_OUT2);
        superio.write(0x2F9, IER_THRE);
        assert_eq!(superio.irq_lines(), 1 << 3);
        assert!(!superio.irq());
    }

    #[test]
    fn debug_console_and_post_codes() {
        let mut console = DebugConsole::default();
        assert_eq!(console.read(), 0xE9);
        "boot\nok".bytes().for_each(|b| console.write(b));
        assert_eq!(console.take_lines(), ["boot"]);
        let mut post = PostCode::default();
        post.write(0x42);
        assert_eq!(post.read(), 0x42);
        let mut bytes = Vec::new();
        post.state(&mut State::saving(&mut bytes));
        let mut copy = PostCode::default();
        copy.state(&mut State::loading(&bytes));
        assert_eq!(copy.read(), 0x42);
    }

    #[test]
    fn long_and_many_lines_are_bounded() {
        let mut console = DebugConsole::default();
        (0..MAX_LINE + 10).for_each(|_| console.write(b'a'));
        console.write(b'\n');
        let lines = console.take_lines();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), MAX_LINE);
        (0..MAX_PENDING_LINES + 5).for_each(|_| console.write(b'\n'));
        assert_eq!(console.take_lines().len(), MAX_PENDING_LINES);
    }

    #[test]
    fn state_round_trip() {
        let mut superio = SuperIo::default();
        superio.write(0x3FC, MCR_LOOP | MCR_OUT2);
        superio.write(0x3FA, 0x01);
        superio.write(0x3F8, 7);
        superio.write(0x3F9, IER_RX | IER_THRE);
        superio.write(0x2E, 0x55);
        superio.write(0x2E, 0x07);
        let mut bytes = Vec::new();
        superio.state(&mut State::saving(&mut bytes));
        let mut copy = SuperIo::default();
        copy.state(&mut State::loading(&bytes));
        let mut again = Vec::new();
        copy.state(&mut State::saving(&mut again));
        assert_eq!(bytes, again);
        assert_eq!(copy.irq(), superio.irq());
        assert_eq!(copy.read(0x2F), 0x00);
        assert_eq!(copy.read(0x3F8), 7);
    }

    #[test]
    fn odd_guest_values_do_not_panic() {
        let mut superio = SuperIo::default();
        for value in 0..=255u8 {
            for port in [
                0x2E, 0x2F, 0x3F8, 0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF,
            ] {
                superio.write(0x2E, 0x55);
                superio.write(0x2E, 0x07);
                superio.write(0x2F, value);
                superio.write(0x2E, value);
                superio.write(port, value);
                superio.read(port);
                superio.write(0x2E, 0xAA);
                superio.write(port, value);
                superio.read(port);
                superio.irq_lines();
            }
        }
        let junk = [0xFFu8; 4096];
        superio.state(&mut State::loading(&junk));
        superio.read(0x3FF);
        superio.irq();
    }
}
