//! PCI configuration space: the configuration mechanism at ports 0xCF8/0xCFC and the
//! configuration registers of every function on the board.
//!
//! Each function starts from the registers dumped from real hardware (`pci_config.txt`, from
//! the Xbox development wiki): identity, class, revision, header type and the chipset
//! registers keep those values; BARs start unassigned and the command register cleared, as
//! after reset, so the guest (X-codes, then the kernel) assigns and enables them. BARs take
//! only the address bits their size allows. The LPC bridge's register 0x80 bit 1 hides the
//! MCPX boot ROM until the next reset.

use crate::cpu::bus::size_mask;
use crate::machine::state::{Snapshot, State};

/// The functions on the board, in the order of `pci_config.txt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    HostBridge,
    MemoryController,
    Lpc,
    Smbus,
    Usb0,
    Usb1,
    Nic,
    Apu,
    Aci,
    PciBridge,
    Ide,
    AgpBridge,
    Nv2a,
}

impl Function {
    pub const ALL: [Function; 13] = [
        Function::HostBridge,
        Function::MemoryController,
        Function::Lpc,
        Function::Smbus,
        Function::Usb0,
        Function::Usb1,
        Function::Nic,
        Function::Apu,
        Function::Aci,
        Function::PciBridge,
        Function::Ide,
        Function::AgpBridge,
        Function::Nv2a,
    ];
}

/// Configuration registers of the LPC bridge the board acts on.
pub mod lpc {
    /// Routing of the ACPI SCI (byte 0) and the SMBus interrupt (byte 1) to PIC lines.
    pub const ACPI_IRQ_ROUTING: usize = 0x64;
    /// PIRQA-D routing, one PIC line per byte (the AGP slot's NV2A is on PIRQC).
    pub const PIRQ_ROUTING: usize = 0x68;
    /// Internal devices' routing, a nibble each: USB0, USB1, NIC, APU, ACI, -, IDE, -.
    pub const INTERNAL_IRQ_ROUTING: usize = 0x6C;
    /// Bit 1 written here hides the MCPX boot ROM.
    pub const ROM_CONTROL: usize = 0x80;
}

const COMMAND: usize = 0x04;
const COMMAND_IO: u32 = 1 << 0;
const COMMAND_MEMORY: u32 = 1 << 1;
/// Command bits software may change: I/O, memory, bus master, special cycles, MWI, palette
/// snoop, parity, wait stepping, SERR, fast back-to-back, interrupt disable.
const COMMAND_WRITABLE: u32 = 0x07FF;
const BAR0: usize = 0x10;
const HEADER_TYPE: usize = 0x0E;
const SECONDARY_BUS: usize = 0x19;

struct Layout {
    bus: u8,
    device: u8,
    function: u8,
    bar_masks: [u32; 6],
    config: [u8; 256],
    /// Rows of 8 dwords read so far.
    rows: usize,
}

/// Parses the hardware dump. The file is part of the source, so a malformed line is a bug
/// the unit tests catch.
fn layouts() -> Vec<Layout> {
    let hex = |w: &str| u32::from_str_radix(w, 16).expect("pci_config.txt: hex");
    let mut out: Vec<Layout> = Vec::new();
    for line in include_str!("pci_config.txt").lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if line.starts_with('#') || words.is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            let bdf: Vec<u8> = words[0].split('.').map(|w| hex(w) as u8).collect();
            let mut bar_masks = [0; 6];
            for (mask, w) in bar_masks.iter_mut().zip(&words[1..]) {
                *mask = hex(w);
            }
            out.push(Layout {
                bus: bdf[0],
                device: bdf[1],
                function: bdf[2],
                bar_masks,
                config: [0; 256],
                rows: 0,
            });
        } else {
            let layout = out
                .last_mut()
                .expect("pci_config.txt: data before a function");
            for (i, w) in words.iter().enumerate() {
                let at = layout.rows * 32 + i * 4;
                layout.config[at..at + 4].copy_from_slice(&hex(w).to_le_bytes());
            }
            layout.rows += 1;
        }
    }
    out
}

struct Device {
    bus: u8,
    device: u8,
    function: u8,
    bar_masks: [u32; 6],
    /// The value each byte has after reset.
    reset: [u8; 256],
    config: [u8; 256],
}

impl Device {
    fn dword(&self, reg: usize) -> u32 {
        u32::from_le_bytes(self.config[reg..reg + 4].try_into().expect("4 bytes"))
    }

    fn is_bridge(&self) -> bool {
        self.reset[HEADER_TYPE] & 0x7F == 1
    }

    /// Which bits of the dword at `reg` software may write.
    fn writable(&self, reg: usize) -> u32 {
        match reg {
            0x00 | 0x08 => 0,
            COMMAND => COMMAND_WRITABLE,
            // Cache line size, latency timer.
            0x0C => 0x0000_FFFF,
            0x10..=0x24 if !self.is_bridge() => self.bar_masks[(reg - BAR0) / 4] & !0xF,
            // A bridge's bus numbers, windows and limits.
            0x18..=0x2C if self.is_bridge() => 0xFFFF_FFFF,
            0x28..=0x38 => 0,
            // The interrupt line; the pin is fixed.
            0x3C => 0x0000_00FF,
            _ => 0xFFFF_FFFF,
        }
    }
}

/// The configuration mechanism and every function's registers.
pub struct Pci {
    /// The last dword written to 0xCF8.
    address: u32,
    devices: Vec<Device>,
    /// The MCPX ROM has been hidden since the last reset.
    rom_hidden: bool,
}

impl Default for Pci {
    fn default() -> Pci {
        Pci::new()
    }
}

impl Pci {
    pub fn new() -> Pci {
        let devices = layouts()
            .into_iter()
            .map(|layout| {
                let mut reset = layout.config;
                let bridge = reset[HEADER_TYPE] & 0x7F == 1;
                // Unassigned BARs keep only their type bits; nothing decodes yet.
                for (i, mask) in layout.bar_masks.iter().enumerate() {
                    if !bridge {
                        let at = BAR0 + i * 4;
                        let value = u32::from_le_bytes(reset[at..at + 4].try_into().unwrap());
                        let kept = if *mask == 0 {
                            0
                        } else {
                            value & 0xF & !(mask & !0xF)
                        };
                        reset[at..at + 4].copy_from_slice(&kept.to_le_bytes());
                    }
                }
                reset[COMMAND] = 0;
                reset[COMMAND + 1] = 0;
                Device {
                    bus: layout.bus,
                    device: layout.device,
                    function: layout.function,
                    bar_masks: layout.bar_masks,
                    reset,
                    config: reset,
                }
            })
            .collect();
        Pci {
            address: 0,
            devices,
            rom_hidden: false,
        }
    }

    /// Power-on or reset: every register back to its reset value, the ROM visible again.
    pub fn reset(&mut self) {
        self.address = 0;
        self.rom_hidden = false;
        for d in &mut self.devices {
            d.config = d.reset;
        }
    }

    pub fn rom_hidden(&self) -> bool {
        self.rom_hidden
    }

    /// Ports 0xCF8-0xCFF.
    pub fn io_read(&mut self, port: u16, size: usize) -> u32 {
        match port {
            0xCF8..=0xCFB => {
                let shift = 8 * (port - 0xCF8) as usize;
                (self.address >> shift) & size_mask(size)
            }
            0xCFC..=0xCFF => {
                if self.address & 0x8000_0000 == 0 {
                    return size_mask(size);
                }
                let byte = (port - 0xCFC) as usize;
                let (bus, device, function, reg) = decode(self.address);
                self.read(bus, device, function, reg + byte, size)
            }
            _ => size_mask(size),
        }
    }

    /// Ports 0xCF8-0xCFF.
    pub fn io_write(&mut self, port: u16, size: usize, value: u32) {
        match port {
            // Only a whole dword at 0xCF8 sets the address (the mechanism #1 rule).
            0xCF8 if size == 4 => self.address = value & 0x80FF_FFFC,
            0xCFC..=0xCFF if self.address & 0x8000_0000 != 0 => {
                let byte = (port - 0xCFC) as usize;
                let (bus, device, function, reg) = decode(self.address);
                self.write(bus, device, function, reg + byte, size, value);
            }
            _ => {}
        }
    }

    fn find(&self, bus: u8, device: u8, function: u8) -> Option<usize> {
        // Bus 1 exists only while the AGP bridge forwards it.
        if bus != 0 && bus != self.get(Function::AgpBridge).config[SECONDARY_BUS] {
            return None;
        }
        let bus = if bus == 0 { 0 } else { 1 };
        self.devices
            .iter()
            .position(|d| d.bus == bus && d.device == device && d.function == function)
    }

    fn get(&self, f: Function) -> &Device {
        &self.devices[f as usize]
    }

    /// Reads `size` bytes of configuration space (absent functions read as all ones).
    pub fn read(&self, bus: u8, device: u8, function: u8, reg: usize, size: usize) -> u32 {
        let Some(i) = self.find(bus, device, function) else {
            return size_mask(size);
        };
        let d = &self.devices[i];
        (0..size).fold(0, |v, k| {
            v | u32::from(d.config[(reg + k) & 0xFF]) << (8 * k)
        })
    }

    /// Writes `size` bytes of configuration space through each register's writable bits.
    pub fn write(
        &mut self,
        bus: u8,
        device: u8,
        function: u8,
        reg: usize,
        size: usize,
        value: u32,
    ) {
        let Some(i) = self.find(bus, device, function) else {
            return;
        };
        let d = &mut self.devices[i];
        for k in 0..size {
            let at = (reg + k) & 0xFF;
            let dword = at & !3;
            let mask = (d.writable(dword) >> (8 * (at & 3))) as u8;
            let byte = (value >> (8 * k)) as u8;
            d.config[at] = d.config[at] & !mask | byte & mask;
        }
        if Function::ALL[i] == Function::Lpc
            && (reg..reg + size).contains(&lpc::ROM_CONTROL)
            && value >> (8 * (lpc::ROM_CONTROL - reg)) & 2 != 0
        {
            self.rom_hidden = true;
        }
    }

    /// The dword at `reg` of a function.
    pub fn config(&self, f: Function, reg: usize) -> u32 {
        self.get(f).dword(reg & 0xFC)
    }

    /// Where a memory BAR decodes now: its base and size, if assigned and enabled.
    pub fn memory_bar(&self, f: Function, bar: usize) -> Option<(u32, u32)> {
        let d = self.get(f);
        let mask = *d.bar_masks.get(bar)?;
        if mask == 0 || mask & 1 != 0 || d.dword(COMMAND) & COMMAND_MEMORY == 0 {
            return None;
        }
        let base = d.dword(BAR0 + 4 * bar) & mask & !0xF;
        (base != 0).then(|| (base, (!(mask & !0xF)).wrapping_add(1)))
    }

    /// Where an I/O BAR decodes now: its base port and size, if assigned and enabled.
    pub fn io_bar(&self, f: Function, bar: usize) -> Option<(u16, u16)> {
        let d = self.get(f);
        let mask = *d.bar_masks.get(bar)?;
        if mask & 1 == 0 || d.dword(COMMAND) & COMMAND_IO == 0 {
            return None;
        }
        let base = d.dword(BAR0 + 4 * bar) & mask & 0xFFFC;
        let size = (!(mask & !3) as u16).wrapping_add(1);
        (base != 0).then_some((base as u16, size))
    }
}

/// Splits a configuration address into bus, device, function and dword register.
fn decode(address: u32) -> (u8, u8, u8, usize) {
    (
        (address >> 16) as u8,
        (address >> 11) as u8 & 0x1F,
        (address >> 8) as u8 & 7,
        (address & 0xFC) as usize,
    )
}

impl Snapshot for Pci {
    fn state(&mut self, s: &mut State) {
        s.u32(&mut self.address);
        s.bool(&mut self.rom_hidden);
        for d in &mut self.devices {
            s.bytes(&mut d.config);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(bus: u32, device: u32, function: u32, reg: u32) -> u32 {
        0x8000_0000 | bus << 16 | device << 11 | function << 8 | reg
    }

    fn read(pci: &mut Pci, bus: u32, device: u32, function: u32, reg: u32) -> u32 {
        pci.io_write(0xCF8, 4, address(bus, device, function, reg));
        pci.io_read(0xCFC, 4)
    }

    fn write(pci: &mut Pci, bus: u32, device: u32, function: u32, reg: u32, value: u32) {
        pci.io_write(0xCF8, 4, address(bus, device, function, reg));
        pci.io_write(0xCFC, 4, value);
    }

    #[test]
    fn the_dump_parses_into_every_function() {
        let pci = Pci::new();
        assert_eq!(pci.devices.len(), Function::ALL.len());
        assert_eq!(pci.config(Function::Nv2a, 0), 0x02A0_10DE);
        assert_eq!(pci.config(Function::Lpc, 0x6C), 0x0E06_5491);
        assert_eq!(pci.config(Function::AgpBridge, 0x18), 0x0001_0100);
    }

    #[test]
    fn ids_through_the_configuration_ports() {
        let mut pci = Pci::new();
        assert_eq!(read(&mut pci, 0, 0, 0, 0), 0x02A5_10DE);
        assert_eq!(read(&mut pci, 0, 1, 1, 0), 0x01B4_10DE);
        assert_eq!(read(&mut pci, 0, 9, 0, 0), 0x01BC_10DE);
        assert_eq!(read(&mut pci, 1, 0, 0, 0), 0x02A0_10DE);
        // No device 7; bus 2 is behind nothing.
        assert_eq!(read(&mut pci, 0, 7, 0, 0), u32::MAX);
        assert_eq!(read(&mut pci, 2, 0, 0, 0), u32::MAX);
        // Byte reads at 0xCFD..0xCFF see the other bytes of the dword.
        pci.io_write(0xCF8, 4, address(0, 0, 0, 0));
        assert_eq!(pci.io_read(0xCFE, 2), 0x02A5);
    }

    #[test]
    fn bars_size_and_decode_once_enabled() {
        let mut pci = Pci::new();
        assert_eq!(pci.memory_bar(Function::Nv2a, 0), None);
        write(&mut pci, 1, 0, 0, 0x10, u32::MAX);
        assert_eq!(read(&mut pci, 1, 0, 0, 0x10), 0xFF00_0000);
        write(&mut pci, 1, 0, 0, 0x10, 0xFD00_0000);
        assert_eq!(
            pci.memory_bar(Function::Nv2a, 0),
            None,
            "memory decode is off"
        );
        write(&mut pci, 1, 0, 0, 0x04, 2);
        assert_eq!(
            pci.memory_bar(Function::Nv2a, 0),
            Some((0xFD00_0000, 0x0100_0000))
        );
        // The SMBus host's I/O BAR1: 16 ports.
        write(&mut pci, 0, 1, 1, 0x14, 0xC001);
        write(&mut pci, 0, 1, 1, 0x04, 1);
        assert_eq!(pci.io_bar(Function::Smbus, 1), Some((0xC000, 16)));
        assert_eq!(read(&mut pci, 0, 1, 1, 0x14), 0xC001);
    }

    #[test]
    fn only_bit_1_of_lpc_0x80_hides_the_rom_until_reset() {
        let mut pci = Pci::new();
        write(&mut pci, 0, 1, 0, 0x80, 0x0400_1801);
        assert!(!pci.rom_hidden());
        // An alias of the address with reserved bits set reaches the same register.
        pci.io_write(0xCF8, 4, 0x8800_0880);
        pci.io_write(0xCFC, 4, 2);
        assert!(pci.rom_hidden());
        pci.reset();
        assert!(!pci.rom_hidden());
    }

    #[test]
    fn read_only_registers_stay() {
        let mut pci = Pci::new();
        write(&mut pci, 0, 1, 0, 0, 0);
        write(&mut pci, 0, 1, 0, 8, 0);
        assert_eq!(read(&mut pci, 0, 1, 0, 0), 0x01B2_10DE);
        assert_eq!(read(&mut pci, 0, 1, 0, 8) & 0xFF, 0xB2);
    }

    #[test]
    fn state_round_trip() {
        let mut pci = Pci::new();
        write(&mut pci, 1, 0, 0, 0x10, 0xFD00_0000);
        let mut bytes = Vec::new();
        pci.state(&mut State::saving(&mut bytes));
        let mut other = Pci::new();
        other.state(&mut State::loading(&bytes));
        assert_eq!(read(&mut other, 1, 0, 0, 0x10), 0xFD00_0000);
    }
}
