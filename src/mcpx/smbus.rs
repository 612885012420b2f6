//! The MCPX's SMBus host controller (I/O BAR1, 32 bytes, register-compatible with the AMD-756's)
//! and the devices on the Xbox's bus: the SMC, the EEPROM, one video encoder and, except on the
//! Xcalibur board, the ADM1032 temperature sensor.
//!
//! A transaction runs for the time its bits take on a 100 kHz bus; the devices act, and the
//! status and data registers change, when it completes.

use super::adm1032::Adm1032;
use super::eeprom::Eeprom;
use super::smc::{AvPack, PowerRequest, Smc};
use super::video_encoder::{Encoder, VideoEncoder};
use crate::machine::clock;
use crate::machine::state::{Snapshot, State};

/// The bus clock.
const BUS_HZ: u64 = 100_000;

// Register offsets within the BAR.
const STATUS: u32 = 0x00;
const CONTROL: u32 = 0x02;
const ADDRESS: u32 = 0x04;
const DATA0: u32 = 0x06;
const DATA1: u32 = 0x07;
const COMMAND: u32 = 0x08;
const BLOCK_DATA: u32 = 0x09;

// Status bits. All but BUSY are cleared by writing them back as ones.
const ST_ABORTED: u8 = 0x01;
const ST_COLLISION: u8 = 0x02;
/// Also what an unacknowledged address reports (the AMD-756's "no response").
const ST_PROTOCOL_ERROR: u8 = 0x04;
const ST_BUSY: u8 = 0x08;
const ST_DONE: u8 = 0x10;
const ST_TIMEOUT: u8 = 0x20;
const ST_CLEARABLE: u8 = ST_ABORTED | ST_COLLISION | ST_PROTOCOL_ERROR | ST_DONE | ST_TIMEOUT;

// Control bits.
const CT_PROTOCOL: u8 = 0x07;
const CT_START: u8 = 0x08;
const CT_IRQ_ENABLE: u8 = 0x10;
const CT_ABORT: u8 = 0x20;

// The protocols (the control register's low three bits) the Xbox uses.
const QUICK: u8 = 0;
const BYTE: u8 = 1;
const BYTE_DATA: u8 = 2;
const WORD_DATA: u8 = 3;
const BLOCK: u8 = 5;

const BLOCK_SIZE: usize = 32;

/// A device on the bus. Each is a file of byte registers behind a register pointer; the
/// provided methods are the SMBus protocols in terms of those.
pub trait SmbusDevice {
    /// Reads one register (with whatever side effect reading it has).
    fn read_register(&mut self, register: u8) -> u8;
    fn write_register(&mut self, register: u8, value: u8);
    /// The register pointer: set by a command byte, advanced by each data byte.
    fn pointer(&mut self) -> &mut u8;

    /// Receive byte: the register at the pointer.
    fn receive_byte(&mut self) -> u8 {
        let register = *self.pointer();
        *self.pointer() = register.wrapping_add(1);
        self.read_register(register)
    }

    /// Send byte: a lone command byte, which sets the pointer.
    fn send_byte(&mut self, value: u8) {
        *self.pointer() = value;
    }

    fn read_byte(&mut self, command: u8) -> u8 {
        self.send_byte(command);
        self.receive_byte()
    }

    fn write_byte(&mut self, command: u8, value: u8) {
        self.send_byte(command);
        self.write_next(value);
    }

    /// Word data: the register at `command` is the low byte, the next one the high byte.
    fn read_word(&mut self, command: u8) -> u16 {
        let low = self.read_byte(command);
        u16::from_le_bytes([low, self.receive_byte()])
    }

    fn write_word(&mut self, command: u8, value: u16) {
        let [low, high] = value.to_le_bytes();
        self.write_byte(command, low);
        self.write_next(high);
    }

    /// Writes the register at the pointer and advances it.
    fn write_next(&mut self, value: u8) {
        let register = *self.pointer();
        *self.pointer() = register.wrapping_add(1);
        self.write_register(register, value);
    }
}

/// What the board is built with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmbusConfig {
    /// The SMC's version string ("P01" on a 1.0 board).
    pub smc_version: [u8; 3],
    pub av_pack: AvPack,
    pub encoder: Encoder,
    /// Sets the SMC's scratch bit that makes the kernel skip the boot animation.
    pub short_animation: bool,
    /// The EEPROM's contents (the user's file, or one from [`super::eeprom::generate`]).
    pub eeprom: [u8; 256],
}

impl SmbusConfig {
    /// A 1.0 board with an HDTV pack and the given EEPROM.
    pub fn new(eeprom: [u8; 256]) -> SmbusConfig {
        SmbusConfig {
            smc_version: *b"P01",
            av_pack: AvPack::Hdtv,
            encoder: Encoder::Conexant,
            short_animation: false,
            eeprom,
        }
    }
}

/// The devices, apart from the host's registers so a transaction can borrow both.
struct Devices {
    smc: Smc,
    eeprom: Eeprom,
    encoder: VideoEncoder,
    sensor: Adm1032,
}

impl Devices {
    fn get(&mut self, address: u8) -> Option<&mut dyn SmbusDevice> {
        let encoder = self.encoder.kind();
        match address {
            Smc::ADDRESS => Some(&mut self.smc),
            Eeprom::ADDRESS => Some(&mut self.eeprom),
            Adm1032::ADDRESS if encoder.has_temperature_sensor() => Some(&mut self.sensor),
            a if a == encoder.address() => Some(&mut self.encoder),
            _ => None,
        }
    }
}

pub struct Smbus {
    status: u8,
    /// The protocol and interrupt-enable bits (start and abort do not stay set).
    control: u8,
    /// The 7-bit device address shifted left, with the read bit at bit 0.
    address: u8,
    command: u8,
    data: [u8; 2],
    block: [u8; BLOCK_SIZE],
    block_index: usize,
    /// When the transaction in progress completes.
    done_at: Option<u64>,
    devices: Devices,
}

impl Smbus {
    pub fn new(config: SmbusConfig) -> Smbus {
        Smbus {
            status: 0,
            control: 0,
            address: 0,
            command: 0,
            data: [0; 2],
            block: [0; BLOCK_SIZE],
            block_index: 0,
            done_at: None,
            devices: Devices {
                smc: Smc::new(config.smc_version, config.av_pack, config.short_animation),
                eeprom: Eeprom::new(config.eeprom),
                encoder: VideoEncoder::new(config.encoder),
                sensor: Adm1032::default(),
            },
        }
    }

    /// Reads `size` bytes (little-endian) at `offset` within the BAR.
    pub fn read(&mut self, now: u64, offset: u32, size: usize) -> u32 {
        self.tick(now);
        (0..size.min(4)).fold(0, |value, i| {
            value | u32::from(self.read_byte(offset.wrapping_add(i as u32))) << (8 * i)
        })
    }

    pub fn write(&mut self, now: u64, offset: u32, size: usize, value: u32) {
        self.tick(now);
        for i in 0..size.min(4) {
            self.write_byte(now, offset.wrapping_add(i as u32), (value >> (8 * i)) as u8);
        }
    }

    /// The interrupt output: a transaction ended (or failed) with interrupts enabled, until
    /// the guest clears the status.
    pub fn irq(&self) -> bool {
        self.control & CT_IRQ_ENABLE != 0 && self.status & ST_CLEARABLE != 0
    }

    /// When the transaction in progress completes.
    pub fn next_event(&self) -> Option<u64> {
        self.done_at
    }

    pub fn tick(&mut self, now: u64) {
        if self.done_at.is_some_and(|at| at <= now) {
            self.done_at = None;
            self.complete();
        }
    }

    /// A reset, power cycle or power off the guest asked the SMC for since the last call.
    pub fn take_power_request(&mut self) -> Option<PowerRequest> {
        self.devices.smc.take_power_request()
    }

    /// Whether the SMC asks for a reset or power-off (the board acts at once).
    pub fn power_request_pending(&self) -> bool {
        self.devices.smc.power_request_pending()
    }

    pub fn eeprom(&self) -> &[u8; 256] {
        self.devices.eeprom.data()
    }

    /// Whether the guest wrote the EEPROM since the last call (the file needs writing back).
    pub fn take_eeprom_dirty(&mut self) -> bool {
        self.devices.eeprom.take_dirty()
    }

    /// The SMC, for the board's tray, buttons and interrupt wiring.
    pub fn smc(&self) -> &Smc {
        &self.devices.smc
    }

    pub fn smc_mut(&mut self) -> &mut Smc {
        &mut self.devices.smc
    }

    fn busy(&self) -> bool {
        self.done_at.is_some()
    }

    fn read_byte(&mut self, offset: u32) -> u8 {
        match offset {
            STATUS => self.status | if self.busy() { ST_BUSY } else { 0 },
            CONTROL => {
                // As on the AMD-756, reading the control register rewinds the block buffer.
                self.block_index = 0;
                self.control
            }
            ADDRESS => self.address,
            DATA0 => self.data[0],
            DATA1 => self.data[1],
            COMMAND => self.command,
            BLOCK_DATA => {
                let value = self.block[self.block_index];
                self.block_index = (self.block_index + 1) % BLOCK_SIZE;
                value
            }
            _ => 0,
        }
    }

    fn write_byte(&mut self, now: u64, offset: u32, value: u8) {
        match offset {
            STATUS => self.status &= !(value & ST_CLEARABLE),
            CONTROL => self.write_control(now, value),
            // The transaction's registers hold still while it runs.
            _ if self.busy() => {}
            ADDRESS => self.address = value,
            DATA0 => self.data[0] = value,
            DATA1 => self.data[1] = value,
            COMMAND => self.command = value,
            BLOCK_DATA => {
                self.block[self.block_index] = value;
                self.block_index = (self.block_index + 1) % BLOCK_SIZE;
            }
            _ => {}
        }
    }

    fn write_control(&mut self, now: u64, value: u8) {
        if value & CT_ABORT != 0 {
            if self.done_at.take().is_some() {
                self.status |= ST_ABORTED;
            }
            return;
        }
        if self.busy() {
            return;
        }
        self.control = value & (CT_PROTOCOL | CT_IRQ_ENABLE);
        if value & CT_START != 0 {
            self.block_index = 0;
            self.done_at = Some(now.saturating_add(clock::cycles(self.wire_bits(), BUS_HZ)));
        }
    }

    /// The transaction's length on the wire in bit times: each byte is nine bits with its
    /// acknowledge, and start, repeated start and stop one each. An absent device leaves the
    /// address unacknowledged, which ends the transaction there.
    fn wire_bits(&mut self) -> u64 {
        let read = self.address & 1 != 0;
        if self.devices.get(self.address >> 1).is_none() {
            return 1 + 9 + 1;
        }
        // Bytes after the address, and whether a read turns the bus round after a command.
        let (bytes, turnaround) = match self.control & CT_PROTOCOL {
            QUICK => (0, false),
            BYTE => (1, false),
            BYTE_DATA => (2, read),
            WORD_DATA => (3, read),
            BLOCK => (2 + self.block_len() as u64, read),
            _ => (0, false),
        };
        let turnaround = if turnaround { 1 + 9 } else { 0 };
        1 + 9 + 9 * bytes + turnaround + 1
    }

    /// A block transfer's length: the data 0 register, from 1 to 32.
    fn block_len(&self) -> usize {
        usize::from(self.data[0]).clamp(1, BLOCK_SIZE)
    }

    fn complete(&mut self) {
        let read = self.address & 1 != 0;
        let command = self.command;
        let block_len = self.block_len();
        let Some(device) = self.devices.get(self.address >> 1) else {
            self.status |= ST_PROTOCOL_ERROR;
            return;
        };
        match (self.control & CT_PROTOCOL, read) {
            (QUICK, _) => {}
            (BYTE, true) => self.data[0] = device.receive_byte(),
            // The AMD-756 sends the data 0 register as the lone byte.
            (BYTE, false) => device.send_byte(self.data[0]),
            (BYTE_DATA, true) => self.data[0] = device.read_byte(command),
            (BYTE_DATA, false) => device.write_byte(command, self.data[0]),
            (WORD_DATA, true) => self.data = device.read_word(command).to_le_bytes(),
            (WORD_DATA, false) => device.write_word(command, u16::from_le_bytes(self.data)),
            (BLOCK, true) => {
                self.block[0] = device.read_byte(command);
                for byte in &mut self.block[1..block_len] {
                    *byte = device.receive_byte();
                }
            }
            (BLOCK, false) => {
                device.send_byte(command);
                for &byte in &self.block[..block_len] {
                    device.write_next(byte);
                }
            }
            _ => {
                self.status |= ST_PROTOCOL_ERROR;
                return;
            }
        }
        self.block_index = 0;
        self.status |= ST_DONE;
    }
}

impl Snapshot for Smbus {
    fn state(&mut self, s: &mut State) {
        s.u8(&mut self.status);
        s.u8(&mut self.control);
        s.u8(&mut self.address);
        s.u8(&mut self.command);
        s.bytes(&mut self.data);
        s.bytes(&mut self.block);
        s.index(&mut self.block_index, BLOCK_SIZE);
        s.option_u64(&mut self.done_at);
        self.status &= ST_CLEARABLE;
        self.control &= CT_PROTOCOL | CT_IRQ_ENABLE;
        self.devices.smc.state(s);
        self.devices.eeprom.state(s);
        self.devices.encoder.state(s);
        self.devices.sensor.state(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::state::Snapshot;

    const READ: bool = true;
    const WRITE: bool = false;

    fn config() -> SmbusConfig {
        SmbusConfig::new(std::array::from_fn(|i| i as u8))
    }

    /// Programs and starts one transaction at `now`, checks it stays busy until its due time,
    /// completes it there and returns (status, due time).
    fn run(
        bus: &mut Smbus,
        now: u64,
        (address, read): (u8, bool),
        protocol: u8,
        command: u8,
        data: u16,
    ) -> (u8, u64) {
        bus.write(now, ADDRESS, 1, u32::from(address << 1 | u8::from(read)));
        bus.write(now, COMMAND, 1, u32::from(command));
        bus.write(now, DATA0, 2, u32::from(data));
        bus.write(now, STATUS, 1, 0xFF);
        bus.write(now, CONTROL, 1, u32::from(CT_START | protocol));
        let due = bus.next_event().expect("a transaction is running");
        assert!(due > now);
        assert_eq!(bus.read(due - 1, STATUS, 1) as u8 & ST_BUSY, ST_BUSY);
        bus.tick(due);
        assert_eq!(bus.next_event(), None);
        (bus.read(due, STATUS, 1) as u8, due)
    }

    fn data(bus: &mut Smbus, now: u64) -> u16 {
        bus.read(now, DATA0, 2) as u16
    }

    #[test]
    fn byte_data_and_word_data_reach_the_smc() {
        let mut bus = Smbus::new(SmbusConfig {
            smc_version: *b"P05",
            av_pack: AvPack::Scart,
            short_animation: true,
            ..config()
        });
        let smc = (Smc::ADDRESS, READ);
        let mut version = Vec::new();
        for _ in 0..4 {
            let (status, due) = run(&mut bus, 0, smc, BYTE_DATA, 0x01, 0);
            assert_eq!(status, ST_DONE);
            version.push(data(&mut bus, due) as u8);
        }
        assert_eq!(version, b"P05P");
        run(&mut bus, 0, (Smc::ADDRESS, WRITE), BYTE_DATA, 0x01, 0);
        run(&mut bus, 0, smc, BYTE_DATA, 0x01, 0);
        assert_eq!(data(&mut bus, 0), u16::from(b'P'));
        run(&mut bus, 0, smc, BYTE_DATA, 0x04, 0);
        assert_eq!(data(&mut bus, 0), 0x00, "SCART");
        run(&mut bus, 0, smc, BYTE_DATA, 0x1B, 0);
        assert_eq!(data(&mut bus, 0), 0x04, "short animation");
        run(&mut bus, 0, smc, WORD_DATA, 0x1C, 0);
        assert_eq!(data(&mut bus, 0), 0x7252);
        // Send byte then receive byte: the pointer the first set, read by the second.
        run(&mut bus, 0, (Smc::ADDRESS, WRITE), BYTE, 0, 0x04);
        let (status, _) = run(&mut bus, 0, smc, BYTE, 0, 0);
        assert_eq!(status, ST_DONE);
        assert_eq!(data(&mut bus, 0) as u8, 0x00, "the AV pack again");
        let (status, _) = run(&mut bus, 0, smc, QUICK, 0, 0);
        assert_eq!(status, ST_DONE);
        // The LED sequence keeps its value; a power-off request reaches the board.
        run(&mut bus, 0, (Smc::ADDRESS, WRITE), BYTE_DATA, 0x08, 0xF0);
        run(&mut bus, 0, smc, BYTE_DATA, 0x08, 0);
        assert_eq!(data(&mut bus, 0), 0xF0);
        assert_eq!(bus.take_power_request(), None);
        run(&mut bus, 0, (Smc::ADDRESS, WRITE), BYTE_DATA, 0x02, 0x80);
        assert_eq!(bus.take_power_request(), Some(PowerRequest::PowerOff));
        bus.smc_mut().press_eject_button();
        run(&mut bus, 0, smc, BYTE_DATA, 0x11, 0);
        assert_eq!(data(&mut bus, 0), 0x20);
        run(&mut bus, 0, smc, BYTE_DATA, 0x11, 0);
        assert_eq!(data(&mut bus, 0), 0);
    }

    #[test]
    fn every_protocol_reaches_the_eeprom() {
        let mut bus = Smbus::new(config());
        let rom = (Eeprom::ADDRESS, READ);
        run(&mut bus, 0, rom, BYTE_DATA, 0x42, 0);
        assert_eq!(data(&mut bus, 0) as u8, 0x42);
        run(&mut bus, 0, rom, WORD_DATA, 0x10, 0);
        assert_eq!(data(&mut bus, 0), 0x1110);
        run(&mut bus, 0, rom, BYTE, 0, 0);
        assert_eq!(data(&mut bus, 0) as u8, 0x12, "receive byte reads on");
        assert!(!bus.take_eeprom_dirty());
        run(&mut bus, 0, (Eeprom::ADDRESS, WRITE), BYTE_DATA, 0x20, 0xAB);
        assert!(bus.take_eeprom_dirty());
        run(
            &mut bus,
            0,
            (Eeprom::ADDRESS, WRITE),
            WORD_DATA,
            0x30,
            0xBEEF,
        );
        assert_eq!(bus.eeprom()[0x20], 0xAB);
        assert_eq!(bus.eeprom()[0x30..0x32], [0xEF, 0xBE]);
        // A block write of 4 bytes from the buffer, then a block read of them.
        bus.read(0, CONTROL, 1);
        for b in [1, 2, 3, 4] {
            bus.write(0, BLOCK_DATA, 1, b);
        }
        run(&mut bus, 0, (Eeprom::ADDRESS, WRITE), BLOCK, 0x80, 4);
        assert_eq!(bus.eeprom()[0x7F..0x85], [0x7F, 1, 2, 3, 4, 0x84]);
        run(&mut bus, 0, rom, BLOCK, 0x7F, 6);
        let block: Vec<u32> = (0..6).map(|_| bus.read(0, BLOCK_DATA, 1)).collect();
        assert_eq!(block, [0x7F, 1, 2, 3, 4, 0x84]);
    }

    #[test]
    fn each_encoder_answers_at_its_address_and_the_sensor_where_it_exists() {
        for encoder in [Encoder::Conexant, Encoder::Focus, Encoder::Xcalibur] {
            let mut bus = Smbus::new(SmbusConfig {
                encoder,
                ..config()
            });
            for other in [Encoder::Conexant, Encoder::Focus, Encoder::Xcalibur] {
                let (status, _) = run(&mut bus, 0, (other.address(), READ), BYTE_DATA, 0, 0);
                let expected = if other == encoder {
                    ST_DONE
                } else {
                    ST_PROTOCOL_ERROR
                };
                assert_eq!(status, expected, "{encoder:?} board, {other:?} address");
            }
            let at = (encoder.address(), WRITE);
            run(&mut bus, 0, at, WORD_DATA, 0x60, 0x1234);
            run(&mut bus, 0, (encoder.address(), READ), WORD_DATA, 0x60, 0);
            assert_eq!(data(&mut bus, 0), 0x1234);
            if encoder == Encoder::Focus {
                run(&mut bus, 0, (encoder.address(), READ), WORD_DATA, 0x32, 0);
                assert_eq!(data(&mut bus, 0), 0xFE05);
            }
            let (status, _) = run(&mut bus, 0, (Adm1032::ADDRESS, READ), BYTE_DATA, 0x01, 0);
            if encoder.has_temperature_sensor() {
                assert_eq!(status, ST_DONE);
                assert_eq!(data(&mut bus, 0) as u8, super::super::adm1032::CPU_CELSIUS);
                run(&mut bus, 0, (Adm1032::ADDRESS, READ), BYTE_DATA, 0xFE, 0);
                assert_eq!(data(&mut bus, 0) as u8, 0x41);
            } else {
                assert_eq!(status, ST_PROTOCOL_ERROR);
            }
        }
    }

    #[test]
    fn every_protocol_completes_with_every_device() {
        for encoder in [Encoder::Conexant, Encoder::Xcalibur] {
            let mut bus = Smbus::new(SmbusConfig {
                encoder,
                ..config()
            });
            let mut addresses = vec![Smc::ADDRESS, Eeprom::ADDRESS, encoder.address()];
            if encoder.has_temperature_sensor() {
                addresses.push(Adm1032::ADDRESS);
            }
            for address in addresses {
                for protocol in [QUICK, BYTE, BYTE_DATA, WORD_DATA, BLOCK] {
                    for read in [READ, WRITE] {
                        // Command 0x60 stays clear of the SMC's power register.
                        let (status, _) = run(&mut bus, 0, (address, read), protocol, 0x60, 2);
                        assert_eq!(status, ST_DONE, "{address:#x} {protocol} {read}");
                    }
                }
            }
            assert_eq!(bus.take_power_request(), None);
        }
    }

    #[test]
    fn an_absent_address_fails_after_the_address_byte() {
        let mut bus = Smbus::new(config());
        let start = 1_000_000;
        let (status, due) = run(&mut bus, start, (0x33, READ), WORD_DATA, 0, 0);
        assert_eq!(status, ST_PROTOCOL_ERROR);
        assert_eq!(due - start, clock::cycles(11, BUS_HZ));
    }

    #[test]
    fn completion_takes_the_bits_on_the_wire_at_100_khz() {
        let mut bus = Smbus::new(config());
        let start = 5_000;
        // Byte data read: start, address, command, repeated start, address, data, stop.
        let (_, due) = run(&mut bus, start, (Eeprom::ADDRESS, READ), BYTE_DATA, 0, 0);
        assert_eq!(due - start, clock::cycles(39, BUS_HZ));
        // 390 µs of 733.33 MHz cycles.
        assert_eq!(due - start, 286_000);
        let (_, due) = run(&mut bus, start, (Eeprom::ADDRESS, WRITE), WORD_DATA, 0, 0);
        assert_eq!(due - start, clock::cycles(38, BUS_HZ));
        let (_, due) = run(&mut bus, start, (Eeprom::ADDRESS, READ), BLOCK, 0, 32);
        assert_eq!(
            due - start,
            clock::cycles(1 + 9 + 9 + 1 + 9 + 9 * 33 + 1, BUS_HZ)
        );
        // Nothing changes before then: the data register keeps its old value while busy.
        bus.write(0, STATUS, 1, 0xFF);
        bus.write(0, DATA0, 1, 0x99);
        bus.write(0, ADDRESS, 1, u32::from(Eeprom::ADDRESS << 1 | 1));
        bus.write(0, COMMAND, 1, 0x07);
        bus.write(0, CONTROL, 1, u32::from(CT_START | BYTE_DATA));
        let due = bus.next_event().unwrap();
        assert_eq!(bus.read(due - 1, STATUS, 1) as u8, ST_BUSY);
        assert_eq!(bus.read(due - 1, DATA0, 1), 0x99);
        // Registers written while busy are ignored, and so is a second start.
        bus.write(due - 1, COMMAND, 1, 0x55);
        bus.write(due - 1, CONTROL, 1, u32::from(CT_START | WORD_DATA));
        assert_eq!(bus.next_event(), Some(due));
        // A read at the due time completes it even before the board's tick.
        assert_eq!(bus.read(due, STATUS, 1) as u8, ST_DONE);
        assert_eq!(bus.read(due, DATA0, 1), 0x07);
    }

    #[test]
    fn status_bits_clear_by_writing_ones() {
        let mut bus = Smbus::new(config());
        run(&mut bus, 0, (0x33, READ), BYTE_DATA, 0, 0);
        run(&mut bus, 0, (Eeprom::ADDRESS, READ), BYTE_DATA, 0, 0);
        // `run` cleared the status first, so only the second transaction's bit is set.
        assert_eq!(bus.read(0, STATUS, 1) as u8, ST_DONE);
        bus.status |= ST_PROTOCOL_ERROR;
        bus.write(0, STATUS, 1, u32::from(ST_BUSY | ST_PROTOCOL_ERROR));
        assert_eq!(bus.read(0, STATUS, 1) as u8, ST_DONE);
        bus.write(0, STATUS, 2, 0);
        assert_eq!(bus.read(0, STATUS, 1) as u8, ST_DONE);
        bus.write(0, STATUS, 2, u32::from(ST_DONE));
        assert_eq!(bus.read(0, STATUS, 2), 0);
    }

    #[test]
    fn the_interrupt_follows_enable_and_status() {
        let mut bus = Smbus::new(config());
        bus.write(0, ADDRESS, 1, u32::from(Smc::ADDRESS << 1 | 1));
        bus.write(
            0,
            CONTROL,
            1,
            u32::from(CT_START | CT_IRQ_ENABLE | BYTE_DATA),
        );
        assert_eq!(bus.read(0, CONTROL, 1) as u8, CT_IRQ_ENABLE | BYTE_DATA);
        let due = bus.next_event().unwrap();
        bus.tick(due - 1);
        assert!(!bus.irq());
        bus.tick(due);
        assert!(bus.irq());
        bus.write(due, STATUS, 1, u32::from(ST_DONE));
        assert!(!bus.irq());
        // Failures interrupt too; with the enable bit clear nothing does.
        bus.write(due, ADDRESS, 1, 0x01);
        bus.write(
            due,
            CONTROL,
            1,
            u32::from(CT_START | CT_IRQ_ENABLE | BYTE_DATA),
        );
        bus.tick(u64::MAX);
        assert!(bus.irq());
        bus.write(0, STATUS, 1, 0xFF);
        let (status, _) = run(&mut bus, 0, (Smc::ADDRESS, READ), BYTE_DATA, 0, 0);
        assert_eq!(status, ST_DONE);
        assert!(!bus.irq());
    }

    #[test]
    fn abort_stops_a_transaction() {
        let mut bus = Smbus::new(config());
        bus.write(0, ADDRESS, 1, u32::from(Eeprom::ADDRESS << 1));
        bus.write(0, DATA0, 1, 0x77);
        bus.write(0, CONTROL, 1, u32::from(CT_START | BYTE_DATA));
        bus.write(10, CONTROL, 1, u32::from(CT_ABORT));
        assert_eq!(bus.next_event(), None);
        assert_eq!(bus.read(10, STATUS, 1) as u8, ST_ABORTED);
        bus.tick(u64::MAX);
        assert!(!bus.take_eeprom_dirty());
        // Aborting when idle does nothing.
        bus.write(10, STATUS, 1, 0xFF);
        bus.write(10, CONTROL, 1, u32::from(CT_ABORT));
        assert_eq!(bus.read(10, STATUS, 1), 0);
    }

    #[test]
    fn unused_protocols_fail() {
        let mut bus = Smbus::new(config());
        for protocol in [4, 6, 7] {
            let (status, _) = run(&mut bus, 0, (Smc::ADDRESS, READ), protocol, 0, 0);
            assert_eq!(status, ST_PROTOCOL_ERROR);
        }
    }

    #[test]
    fn save_and_load_mid_transaction() {
        let mut a = Smbus::new(config());
        run(&mut a, 0, (Eeprom::ADDRESS, WRITE), BYTE_DATA, 0x05, 0xEE);
        run(&mut a, 0, (Smc::ADDRESS, READ), BYTE_DATA, 0x01, 0);
        a.write(0, ADDRESS, 1, u32::from(Smc::ADDRESS << 1 | 1));
        a.write(0, COMMAND, 1, 0x01);
        a.write(
            0,
            CONTROL,
            1,
            u32::from(CT_START | CT_IRQ_ENABLE | BYTE_DATA),
        );
        let mut bytes = Vec::new();
        a.state(&mut State::saving(&mut bytes));
        let mut b = Smbus::new(SmbusConfig {
            smc_version: *b"XYZ",
            ..SmbusConfig::new([0; 256])
        });
        let mut load = State::loading(&bytes);
        b.state(&mut load);
        assert_eq!(load.remaining(), 0);
        assert!(
            b.take_eeprom_dirty(),
            "the loaded contents differ from the file's"
        );
        assert_eq!(b.next_event(), a.next_event());
        for bus in [&mut a, &mut b] {
            bus.tick(u64::MAX);
            assert!(bus.irq());
            assert_eq!(
                bus.read(0, DATA0, 1),
                u32::from(b'0'),
                "the second version character"
            );
            assert_eq!(bus.eeprom()[5], 0xEE);
        }
        // The state's size does not depend on the board.
        let mut xcalibur = Smbus::new(SmbusConfig {
            encoder: Encoder::Xcalibur,
            ..config()
        });
        let mut other = Vec::new();
        xcalibur.state(&mut State::saving(&mut other));
        assert_eq!(other.len(), bytes.len());
    }

    #[test]
    fn junk_states_and_register_writes_never_panic() {
        // A simple deterministic generator for the guest's values.
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut bus = Smbus::new(config());
        let mut now = 0;
        for _ in 0..20_000 {
            let r = next();
            let offset = (r % 40) as u32;
            let size = [1, 2, 4, 3][(r >> 8) as usize % 4];
            now += (r >> 16) % 50_000;
            if r >> 60 < 9 {
                bus.write(now, offset, size, (r >> 24) as u32);
            } else {
                bus.read(now, offset, size);
            }
            if let Some(at) = bus.next_event() {
                bus.tick(at.min(now + (r >> 32) % 400_000));
            }
            assert!(bus.block_index < BLOCK_SIZE);
        }
        for fill in [0x00, 0x7F, 0xFF] {
            let junk = vec![fill; 2000];
            let mut b = Smbus::new(config());
            b.state(&mut State::loading(&junk));
            for offset in 0..32 {
                b.write(0, offset, 1, 0xFF);
                b.read(0, offset, 4);
            }
            b.tick(u64::MAX);
        }
    }
}
