//! The ADM1032 temperature sensor (SMBus address 0x4C; absent on the Xcalibur board, whose
//! encoder measures instead). It reports fixed, plausible temperatures; its limits and
//! configuration keep what the guest writes, and the alarm bits follow from them.

use super::smbus::SmbusDevice;
use crate::machine::state::{Snapshot, State};

/// The CPU (the sensor's remote diode) and the board (its own die), in °C.
pub const CPU_CELSIUS: u8 = 45;
pub const BOARD_CELSIUS: u8 = 35;

// Read-only registers.
const LOCAL_TEMPERATURE: u8 = 0x00;
const REMOTE_TEMPERATURE: u8 = 0x01;
const STATUS: u8 = 0x02;
const REMOTE_FRACTION: u8 = 0x10;
const MANUFACTURER_ID: u8 = 0xFE;
const REVISION_ID: u8 = 0xFF;

/// Analog Devices' manufacturer code, and the ADM1032's die revision.
const MANUFACTURER: u8 = 0x41;
const REVISION: u8 = 0x42;

/// The settings: (the register that reads it, the one that writes it, its power-on value).
/// Temperatures are signed °C.
const SETTINGS: [(u8, u8, u8); 14] = [
    (0x03, 0x09, 0x00), // configuration
    (0x04, 0x0A, 0x08), // conversion rate
    (0x05, 0x0B, 0x55), // local high limit (85 °C)
    (0x06, 0x0C, 0x00), // local low limit
    (0x07, 0x0D, 0x55), // remote high limit
    (0x08, 0x0E, 0x00), // remote low limit
    (0x11, 0x11, 0x00), // remote offset, high byte
    (0x12, 0x12, 0x00), // remote offset, low byte
    (0x13, 0x13, 0x00), // remote high limit, fraction
    (0x14, 0x14, 0x00), // remote low limit, fraction
    (0x19, 0x19, 0x55), // remote THERM limit
    (0x20, 0x20, 0x55), // local THERM limit
    (0x21, 0x21, 0x0A), // THERM hysteresis
    (0x22, 0x22, 0x01), // consecutive ALERT count
];

// Indices into SETTINGS of the limits the alarms compare against.
const LOCAL_HIGH: usize = 2;
const LOCAL_LOW: usize = 3;
const REMOTE_HIGH: usize = 4;
const REMOTE_LOW: usize = 5;
const REMOTE_THERM: usize = 10;
const LOCAL_THERM: usize = 11;

pub struct Adm1032 {
    settings: [u8; SETTINGS.len()],
    pointer: u8,
}

impl Default for Adm1032 {
    /// The sensor at power-on.
    fn default() -> Adm1032 {
        Adm1032 {
            settings: SETTINGS.map(|(_, _, reset)| reset),
            pointer: 0,
        }
    }
}

impl Adm1032 {
    pub const ADDRESS: u8 = 0x4C;

    /// The alarm bits: high and low limits for both sensors, and the THERM limits.
    fn status(&self) -> u8 {
        let limit = |i: usize| self.settings[i] as i8;
        let (local, remote) = (BOARD_CELSIUS as i8, CPU_CELSIUS as i8);
        [
            (local > limit(LOCAL_HIGH), 0x40),
            (local < limit(LOCAL_LOW), 0x20),
            (remote > limit(REMOTE_HIGH), 0x10),
            (remote < limit(REMOTE_LOW), 0x08),
            (remote >= limit(REMOTE_THERM), 0x02),
            (local >= limit(LOCAL_THERM), 0x01),
        ]
        .iter()
        .filter(|(alarm, _)| *alarm)
        .fold(0, |bits, (_, bit)| bits | bit)
    }
}

impl SmbusDevice for Adm1032 {
    fn read_register(&mut self, register: u8) -> u8 {
        match register {
            LOCAL_TEMPERATURE => BOARD_CELSIUS,
            REMOTE_TEMPERATURE => CPU_CELSIUS,
            STATUS => self.status(),
            REMOTE_FRACTION => 0,
            MANUFACTURER_ID => MANUFACTURER,
            REVISION_ID => REVISION,
            _ => SETTINGS
                .iter()
                .position(|&(read, _, _)| read == register)
                .map_or(0, |i| self.settings[i]),
        }
    }

    fn write_register(&mut self, register: u8, value: u8) {
        if let Some(i) = SETTINGS.iter().position(|&(_, write, _)| write == register) {
            self.settings[i] = value;
        }
    }

    fn pointer(&mut self) -> &mut u8 {
        &mut self.pointer
    }
}

impl Snapshot for Adm1032 {
    fn state(&mut self, s: &mut State) {
        s.bytes(&mut self.settings);
        s.u8(&mut self.pointer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperatures_and_identification() {
        let mut adm = Adm1032::default();
        assert_eq!(adm.read_byte(0x00), BOARD_CELSIUS);
        assert_eq!(adm.read_byte(0x01), CPU_CELSIUS);
        assert_eq!(adm.read_byte(0x02), 0, "no alarms at power-on");
        assert_eq!(adm.read_byte(0xFE), 0x41);
        assert_eq!(adm.read_byte(0xFF), 0x42);
        assert_eq!(adm.read_word(0xFE), 0x4241);
    }

    #[test]
    fn settings_write_at_one_address_and_read_at_another() {
        let mut adm = Adm1032::default();
        assert_eq!(adm.read_byte(0x04), 0x08);
        adm.write_byte(0x0A, 0x05);
        assert_eq!(adm.read_byte(0x04), 0x05);
        // Writing the read address of a split register changes nothing.
        adm.write_byte(0x04, 0x07);
        assert_eq!(adm.read_byte(0x04), 0x05);
        // A remote high limit below the CPU's temperature raises its alarm.
        adm.write_byte(0x0D, 40);
        assert_eq!(adm.read_byte(0x07), 40);
        assert_eq!(adm.read_byte(0x02), 0x10);
        adm.write_byte(0x20, 30);
        assert_eq!(adm.read_byte(0x02), 0x11);
        // Temperature registers ignore writes.
        adm.write_byte(0x00, 99);
        assert_eq!(adm.read_byte(0x00), BOARD_CELSIUS);
    }

    #[test]
    fn save_and_load() {
        let mut a = Adm1032::default();
        a.write_byte(0x09, 0x80);
        let mut bytes = Vec::new();
        a.state(&mut State::saving(&mut bytes));
        let mut b = Adm1032::default();
        b.state(&mut State::loading(&bytes));
        assert_eq!(b.read_byte(0x03), 0x80);
    }
}
