//! PFB (BAR0 0x100000): the memory interface's configuration.
//!
//! Registers (offsets in the block; sources: xemu `nv2a_regs.h` and `pfb.c`, Cromwell's video
//! set-up, the Cxbx-Reloaded trace of the kernel's miniport start-up):
//! - 0x200 CFG0: storage, reset 3 (xemu: "3-4 memory partitions; the debug BIOS checks
//!   this"; Cromwell writes 0x03070003, or 0x03070103 with 128 MiB);
//! - 0x204 CFG1: storage;
//! - 0x20C CSTATUS: read-only, the RAM size in bytes (what the kernel's miniport reads);
//! - 0x240 + 0x10 i, i = 0-7: TILE (base address and flags, bit 0 valid), TLIMIT (0x244),
//!   TSIZE (0x248, the pitch), TSTATUS (0x24C): storage, see [`Pfb::tile`];
//! - 0x300-0x320 ZCOMP, 0x324 ZCOMP_OFFSET and the timing and arbitration registers: storage;
//! - 0x410 WBC: a write-back flush (bit 16) completes at once, so the bit always reads 0.

use super::scanout::{read_lane, write_lane};
use crate::machine::state::{Snapshot, State};

pub const CFG0: u32 = 0x200;
pub const CFG1: u32 = 0x204;
pub const CSTATUS: u32 = 0x20C;
pub const TILE: u32 = 0x240;
pub const TLIMIT: u32 = 0x244;
pub const TSIZE: u32 = 0x248;
pub const TSTATUS: u32 = 0x24C;
pub const WBC: u32 = 0x410;
pub const WBC_FLUSH: u32 = 1 << 16;
/// How many tile regions there are.
pub const TILES: usize = 8;

const REGISTERS: usize = 0x1000 / 4;

/// One tile region's registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    /// Base address and flags (bit 0: valid).
    pub tile: u32,
    /// The region's last address.
    pub limit: u32,
    /// The region's pitch.
    pub size: u32,
    pub status: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pfb {
    regs: Box<[u32; REGISTERS]>,
    ram_size: u32,
}

impl Pfb {
    /// The block of a machine with `ram_size` bytes of RAM.
    pub fn new(ram_size: u32) -> Pfb {
        let mut regs = Box::new([0; REGISTERS]);
        regs[(CFG0 / 4) as usize] = 3;
        Pfb { regs, ram_size }
    }

    pub fn read(&self, offset: u32, size: usize) -> u32 {
        let value = match offset & 0xFFC {
            CSTATUS => self.ram_size,
            WBC => self.reg(WBC) & !WBC_FLUSH,
            register => self.reg(register),
        };
        read_lane(value, offset, size)
    }

    pub fn write(&mut self, offset: u32, size: usize, value: u32) {
        let register = offset & 0xFFC;
        if register != CSTATUS {
            let slot = &mut self.regs[register as usize / 4];
            *slot = write_lane(*slot, offset, size, value);
        }
    }

    /// The register at `offset` as last written.
    pub fn reg(&self, offset: u32) -> u32 {
        self.regs[(offset & 0xFFC) as usize / 4]
    }

    pub fn ram_size(&self) -> u32 {
        self.ram_size
    }

    /// Tile region `index` (0-7; others are clamped).
    pub fn tile(&self, index: usize) -> Tile {
        let base = 0x10 * index.min(TILES - 1) as u32;
        Tile {
            tile: self.reg(TILE + base),
            limit: self.reg(TLIMIT + base),
            size: self.reg(TSIZE + base),
            status: self.reg(TSTATUS + base),
        }
    }
}

impl Snapshot for Pfb {
    fn state(&mut self, s: &mut State) {
        s.u32s(&mut self.regs[..]);
        s.u32(&mut self.ram_size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cstatus_is_the_ram_size_and_the_rest_is_storage() {
        let mut pfb = Pfb::new(64 << 20);
        assert_eq!(pfb.read(CSTATUS, 4), 0x0400_0000);
        pfb.write(CSTATUS, 4, 5);
        assert_eq!(pfb.read(CSTATUS, 4), 0x0400_0000);
        assert_eq!(Pfb::new(128 << 20).read(CSTATUS + 3, 1), 0x08);
        assert_eq!(pfb.read(CFG0, 4), 3);
        pfb.write(CFG0, 4, 0x0307_0003);
        assert_eq!(pfb.read(CFG0, 4), 0x0307_0003);
        pfb.write(TILE + 0x20, 4, 0x0010_0001);
        pfb.write(TLIMIT + 0x20, 4, 0x001F_FFFF);
        pfb.write(TSIZE + 0x20, 4, 0x0A00);
        assert_eq!(
            pfb.tile(2),
            Tile {
                tile: 0x0010_0001,
                limit: 0x001F_FFFF,
                size: 0x0A00,
                status: 0
            }
        );
    }

    #[test]
    fn a_write_back_flush_is_done_at_once() {
        let mut pfb = Pfb::new(64 << 20);
        pfb.write(WBC, 4, WBC_FLUSH | 1);
        assert_eq!(pfb.read(WBC, 4), 1);
    }

    #[test]
    fn state_round_trips() {
        let mut pfb = Pfb::new(64 << 20);
        pfb.write(0x300, 4, 0x1234);
        let mut bytes = Vec::new();
        pfb.state(&mut State::saving(&mut bytes));
        let mut other = Pfb::new(0);
        other.state(&mut State::loading(&bytes));
        assert_eq!(other, pfb);
    }
}
