//! The test machine's physical address space: RAM from address 0, and an optional ROM seen
//! twice, ending at 1 MiB (where PC firmware lives) and at 4 GiB (so the reset vector at
//! 0xFFFFFFF0 fetches its last 16 bytes). The ROM's low copy hides the RAM under it; writes to
//! either copy are dropped. Addresses with nothing behind them read as 0xFF bytes, like an
//! undriven bus.

use super::error::Error;

/// The largest ROM image: the whole first megabyte.
pub const MAX_ROM: usize = 1 << 20;
/// Where the ROM's low copy ends.
const LOW_ROM_END: u32 = 1 << 20;

pub struct Memory {
    ram: Vec<u8>,
    /// Empty when no ROM is mapped.
    rom: Vec<u8>,
}

impl Memory {
    pub fn new(ram_bytes: usize) -> Memory {
        Memory {
            ram: vec![0; ram_bytes],
            rom: Vec::new(),
        }
    }

    /// Maps a ROM image. One whose size is not a multiple of 16 bytes is padded at the front
    /// with 0xFF (erased flash), so that its last bytes stay at the top, where the reset vector
    /// and the code beside it are.
    pub fn map_rom(&mut self, image: &[u8]) -> Result<(), Error> {
        if image.is_empty() {
            return Err(Error::RomEmpty);
        }
        if image.len() > MAX_ROM {
            return Err(Error::RomTooLarge(image.len()));
        }
        let padding = image.len().next_multiple_of(16) - image.len();
        self.rom = vec![0xFF; padding];
        self.rom.extend_from_slice(image);
        Ok(())
    }

    /// All of RAM, as loaders fill it.
    pub fn ram(&mut self) -> &mut [u8] {
        &mut self.ram
    }

    /// The RAM the CPU may access directly: all of it below the ROM's low copy. RAM above that
    /// copy goes through `read` and `write` (slower, but only ROM boots have it).
    pub fn direct(&mut self) -> &mut [u8] {
        let end = if self.rom.is_empty() {
            self.ram.len()
        } else {
            self.ram.len().min((LOW_ROM_END as usize) - self.rom.len())
        };
        &mut self.ram[..end]
    }

    /// The offset into the ROM that a physical address hits, if any.
    fn rom_offset(&self, addr: u32) -> Option<usize> {
        let len = self.rom.len() as u32;
        let low = addr.wrapping_sub(LOW_ROM_END - len);
        let high = addr.wrapping_add(len);
        if low < len {
            Some(low as usize)
        } else if high < len {
            Some(high as usize)
        } else {
            None
        }
    }

    fn read_byte(&self, addr: u32) -> u8 {
        match self.rom_offset(addr) {
            Some(offset) => self.rom[offset],
            None => self.ram.get(addr as usize).copied().unwrap_or(0xFF),
        }
    }

    /// Reads `size` bytes, little-endian, byte by byte: an access may straddle ROM and RAM.
    pub fn read(&self, addr: u32, size: usize) -> u32 {
        (0..size).fold(0, |value, i| {
            value | u32::from(self.read_byte(addr.wrapping_add(i as u32))) << (8 * i)
        })
    }

    pub fn write(&mut self, addr: u32, size: usize, value: u32) {
        for i in 0..size {
            let addr = addr.wrapping_add(i as u32);
            if self.rom_offset(addr).is_none()
                && let Some(byte) = self.ram.get_mut(addr as usize)
            {
                *byte = (value >> (8 * i)) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    fn with_rom(image: &[u8]) -> Memory {
        let mut memory = Memory::new(2 * MIB);
        memory.map_rom(image).unwrap();
        memory
    }

    #[test]
    fn rom_is_seen_below_1_mib_and_below_4_gib() {
        let image: Vec<u8> = (0..32).collect();
        let memory = with_rom(&image);
        assert_eq!(
            memory.read(0xFFFF_FFF0, 4),
            0x1312_1110,
            "reset vector: last 16 bytes"
        );
        assert_eq!(memory.read(0xFFFF_FFE0, 1), 0);
        assert_eq!(memory.read(0x000F_FFE0, 4), 0x0302_0100);
        assert_eq!(memory.read(0x000F_FFFC, 4), 0x1F1E_1D1C);
    }

    #[test]
    fn rom_writes_are_dropped_and_hide_no_ram_beside_them() {
        let mut memory = with_rom(&[0xAA; 16]);
        memory.write(0x000F_FFEE, 4, 0x4433_2211);
        memory.write(0xFFFF_FFF0, 4, 0);
        assert_eq!(
            memory.read(0x000F_FFEE, 4),
            0xAAAA_2211,
            "RAM below the ROM keeps its bytes; the ROM keeps its own"
        );
        assert_eq!(memory.read(0xFFFF_FFF0, 4), 0xAAAA_AAAA);
        assert_eq!(memory.direct().len(), 0x000F_FFF0);
        memory.write(0x0010_0000, 2, 0xBEEF);
        assert_eq!(memory.read(0x0010_0000, 2), 0xBEEF, "RAM above the ROM");
    }

    #[test]
    fn unmapped_addresses_read_as_ones() {
        let mut memory = Memory::new(MIB);
        assert_eq!(memory.read(MIB as u32, 4), 0xFFFF_FFFF);
        assert_eq!(memory.read(MIB as u32 - 2, 4), 0xFFFF_0000);
        assert_eq!(memory.read(0xFFFF_FFF0, 4), 0xFFFF_FFFF, "no ROM mapped");
        memory.write(MIB as u32, 4, 0);
        assert_eq!(memory.direct().len(), MIB);
    }

    #[test]
    fn odd_sized_roms_are_padded_at_the_front() {
        let memory = with_rom(&[1, 2, 3]);
        assert_eq!(memory.read(0xFFFF_FFF0, 4), 0xFFFF_FFFF);
        assert_eq!(memory.read(0xFFFF_FFFC, 4), 0x0302_01FF);
    }

    #[test]
    fn rom_sizes_are_checked() {
        let mut memory = Memory::new(MIB);
        assert_eq!(memory.map_rom(&[]), Err(Error::RomEmpty));
        assert_eq!(
            memory.map_rom(&vec![0; MAX_ROM + 1]),
            Err(Error::RomTooLarge(MAX_ROM + 1))
        );
        memory.map_rom(&vec![0x5A; MAX_ROM]).unwrap();
        assert_eq!(
            memory.direct().len(),
            0,
            "a 1 MiB ROM covers all of low memory"
        );
        assert_eq!(memory.read(0, 1), 0x5A);
        assert_eq!(memory.read(0xFFF0_0000, 1), 0x5A);
    }
}
