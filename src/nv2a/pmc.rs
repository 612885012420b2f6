//! PMC, the NV2A's master control: its identity, which units are enabled, and the one
//! interrupt line every unit's interrupt goes through (to PCI INTA, routed by the LPC bridge).

use crate::machine::state::{Snapshot, State};

/// Chip NV2A, stepping A3 (the value read on retail consoles).
pub const BOOT_0_VALUE: u32 = 0x02A0_00A3;

const BOOT_0: u32 = 0x000;
const INTR_0: u32 = 0x100;
const INTR_EN_0: u32 = 0x140;
const ENABLE: u32 = 0x200;

/// The units' bits in INTR_0.
pub mod unit {
    pub const PFIFO: u32 = 1 << 8;
    pub const PGRAPH: u32 = 1 << 12;
    pub const PVIDEO: u32 = 1 << 16;
    pub const PTIMER: u32 = 1 << 20;
    pub const PCRTC: u32 = 1 << 24;
    pub const SOFTWARE: u32 = 1 << 31;
}

/// INTR_EN_0 values: the hardware interrupt and the software one.
const EN_HARDWARE: u32 = 1;
const EN_SOFTWARE: u32 = 2;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pmc {
    /// The units' pending bits, as last aggregated.
    units: u32,
    /// The software interrupt, set and cleared by writes to INTR_0 bit 31.
    software: bool,
    intr_en: u32,
    enable: u32,
}

impl Pmc {
    /// Takes the units' pending state (each unit's enabled interrupts, as `unit` bits).
    pub fn set_units(&mut self, units: u32) {
        self.units = units & !unit::SOFTWARE;
    }

    fn intr(&self) -> u32 {
        self.units | if self.software { unit::SOFTWARE } else { 0 }
    }

    /// The PCI interrupt line's level.
    pub fn irq(&self) -> bool {
        (self.units != 0 && self.intr_en & EN_HARDWARE != 0)
            || (self.software && self.intr_en & EN_SOFTWARE != 0)
    }

    pub fn read(&self, offset: u32) -> u32 {
        match offset {
            BOOT_0 => BOOT_0_VALUE,
            INTR_0 => self.intr(),
            INTR_EN_0 => self.intr_en,
            ENABLE => self.enable,
            _ => 0,
        }
    }

    pub fn write(&mut self, offset: u32, value: u32) {
        match offset {
            // The units' bits clear at their own blocks; only the software bit lives here.
            INTR_0 => self.software = value & unit::SOFTWARE != 0,
            INTR_EN_0 => self.intr_en = value & (EN_HARDWARE | EN_SOFTWARE),
            ENABLE => self.enable = value,
            _ => {}
        }
    }
}

impl Snapshot for Pmc {
    fn state(&mut self, s: &mut State) {
        s.u32(&mut self.units);
        s.bool(&mut self.software);
        s.u32(&mut self.intr_en);
        s.u32(&mut self.enable);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_reach_the_line_only_when_enabled() {
        let mut pmc = Pmc::default();
        assert_eq!(pmc.read(BOOT_0), 0x02A0_00A3);
        pmc.set_units(unit::PCRTC);
        assert_eq!(pmc.read(INTR_0), unit::PCRTC);
        assert!(!pmc.irq());
        pmc.write(INTR_EN_0, EN_HARDWARE);
        assert!(pmc.irq());
        pmc.set_units(0);
        assert!(!pmc.irq());
        pmc.write(INTR_0, unit::SOFTWARE);
        assert!(!pmc.irq(), "the software interrupt needs its own enable");
        pmc.write(INTR_EN_0, EN_SOFTWARE);
        assert!(pmc.irq());
    }
}
