//! The video encoder: a Conexant CX25871 (boards 1.0-1.3), a Focus FS454 (1.4-1.5) or the
//! Xcalibur (1.6). Each is a file of 256 byte registers that keep what the kernel writes; the
//! kernel tells them apart only by which address answers. The Focus also identifies itself
//! in its read-only part-number register.

use super::smbus::SmbusDevice;
use crate::machine::state::{Snapshot, State};

/// The FS454's part-number register (a little-endian word) and what it reads.
const FOCUS_ID: u8 = 0x32;
const FOCUS_ID_VALUE: [u8; 2] = 0xFE05u16.to_le_bytes();

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoder {
    Conexant,
    Focus,
    Xcalibur,
}

impl Encoder {
    const ALL: [Encoder; 3] = [Encoder::Conexant, Encoder::Focus, Encoder::Xcalibur];

    /// The 7-bit SMBus address it answers.
    pub fn address(self) -> u8 {
        match self {
            Encoder::Conexant => 0x45,
            Encoder::Focus => 0x6A,
            Encoder::Xcalibur => 0x70,
        }
    }

    /// Whether the board carries the separate ADM1032 (the Xcalibur board does not).
    pub fn has_temperature_sensor(self) -> bool {
        self != Encoder::Xcalibur
    }
}

pub struct VideoEncoder {
    kind: Encoder,
    registers: [u8; 256],
    pointer: u8,
}

impl VideoEncoder {
    pub fn new(kind: Encoder) -> VideoEncoder {
        VideoEncoder {
            kind,
            registers: [0; 256],
            pointer: 0,
        }
    }

    pub fn kind(&self) -> Encoder {
        self.kind
    }

    /// The Focus's identification byte at `register`, if that is one.
    fn id_byte(&self, register: u8) -> Option<u8> {
        let offset = register.wrapping_sub(FOCUS_ID);
        (self.kind == Encoder::Focus)
            .then(|| FOCUS_ID_VALUE.get(usize::from(offset)).copied())
            .flatten()
    }
}

impl SmbusDevice for VideoEncoder {
    fn read_register(&mut self, register: u8) -> u8 {
        self.id_byte(register)
            .unwrap_or(self.registers[usize::from(register)])
    }

    fn write_register(&mut self, register: u8, value: u8) {
        if self.id_byte(register).is_none() {
            self.registers[usize::from(register)] = value;
        }
    }

    fn pointer(&mut self) -> &mut u8 {
        &mut self.pointer
    }
}

impl Snapshot for VideoEncoder {
    fn state(&mut self, s: &mut State) {
        let mut kind = Encoder::ALL
            .iter()
            .position(|&k| k == self.kind)
            .unwrap_or(0);
        s.index(&mut kind, Encoder::ALL.len());
        self.kind = Encoder::ALL[kind];
        s.bytes(&mut self.registers);
        s.u8(&mut self.pointer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_sensor() {
        let addresses = Encoder::ALL.map(Encoder::address);
        assert_eq!(addresses, [0x45, 0x6A, 0x70]);
        assert!(Encoder::Conexant.has_temperature_sensor());
        assert!(Encoder::Focus.has_temperature_sensor());
        assert!(!Encoder::Xcalibur.has_temperature_sensor());
    }

    #[test]
    fn registers_keep_values_and_the_focus_id_is_read_only() {
        for kind in Encoder::ALL {
            let mut e = VideoEncoder::new(kind);
            e.write_word(0x10, 0xBEEF);
            assert_eq!(e.read_word(0x10), 0xBEEF);
            e.write_byte(0xFF, 0x5A);
            assert_eq!(e.read_byte(0xFF), 0x5A);
            e.write_word(FOCUS_ID, 0x1234);
            let id = e.read_word(FOCUS_ID);
            assert_eq!(
                id,
                if kind == Encoder::Focus {
                    0xFE05
                } else {
                    0x1234
                }
            );
        }
    }

    #[test]
    fn save_and_load() {
        let mut a = VideoEncoder::new(Encoder::Focus);
        a.write_byte(0x01, 0x77);
        let mut bytes = Vec::new();
        a.state(&mut State::saving(&mut bytes));
        let mut b = VideoEncoder::new(Encoder::Conexant);
        b.state(&mut State::loading(&bytes));
        assert_eq!(b.kind(), Encoder::Focus);
        assert_eq!(b.read_byte(0x01), 0x77);
        let mut c = VideoEncoder::new(Encoder::Conexant);
        c.state(&mut State::loading(&[0xFF; 300]));
        assert_eq!(c.kind(), Encoder::Xcalibur);
    }
}
