//! The Xbox motherboard as the CPU sees it: the physical memory map, the I/O port map, the
//! interrupt wiring and the event queue that drives the devices.
//!
//! Memory: RAM from 0 (64 or 128 MiB); above it the PCI hole, where devices decode wherever
//! the guest programmed their BARs (NV2A BAR1 is a window onto all of RAM); flash mirrored
//! across 0xFF000000-0xFFFFFFFF; and, until the LPC bridge hides it, the MCPX boot ROM over
//! the top 512 bytes. While that ROM is visible the top flash window is writable, as it is
//! on hardware with the CPU cache in write-back mode (retail 1.1 kernels store there once);
//! hiding the ROM drops those writes.
//!
//! Interrupts: every device output is a level; after each access and each event the board
//! recomputes the sixteen PIC inputs from them, through the LPC bridge's routing registers
//! for the ACPI SCI and the SMBus.

use super::clock::{Event, Events};
use super::state::{Snapshot, State};
use crate::cpu::Bus;
use crate::cpu::bus::size_mask;
use crate::mcpx::acpi::Acpi;
use crate::mcpx::pci::{self, Function, Pci};
use crate::mcpx::pic::Pic;
use crate::mcpx::pit::Pit;
use crate::mcpx::rtc::Rtc;
use crate::mcpx::smbus::{Smbus, SmbusConfig};
use crate::mcpx::smc::PowerRequest;
use crate::mcpx::superio::{DebugConsole, PostCode, SuperIo};
use crate::nv2a::Nv2a;

/// Where flash is mirrored.
pub const FLASH_WINDOW: u32 = 0xFF00_0000;
/// Where the MCPX boot ROM overlays the top of the address space.
pub const MCPX_BASE: u32 = 0xFFFF_FE00;
pub const MCPX_SIZE: usize = 512;

/// Everything a board is built from.
#[derive(Clone, Debug)]
pub struct BoardConfig {
    pub ram_mib: u32,
    /// The flash image (a multiple of 64 KiB, at most 16 MiB).
    pub flash: Vec<u8>,
    /// The MCPX boot ROM, when the real one (or a test ROM) runs from the reset vector.
    pub mcpx: Option<[u8; MCPX_SIZE]>,
    pub smbus: SmbusConfig,
    /// The RTC's time at power-on, in seconds since 2000-01-01 00:00:00.
    pub rtc_start: u64,
}

pub struct Board {
    pub ram: Vec<u8>,
    flash: Vec<u8>,
    mcpx: Option<[u8; MCPX_SIZE]>,
    /// The writable top flash window while the MCPX ROM is visible (see the module notes).
    shadow: Option<Vec<u8>>,
    pub pci: Pci,
    pub pic: Pic,
    pub pit: Pit,
    pub rtc: Rtc,
    pub acpi: Acpi,
    pub smbus: Smbus,
    pub superio: SuperIo,
    pub debug_console: DebugConsole,
    pub post: PostCode,
    pub nv2a: Nv2a,
    pub events: Events,
    /// The time of the access being made (set by `sync`) or of the event being handled.
    now: u64,
    /// The ROM's visibility last seen, to notice the hide (code from there must be dropped).
    rom_was_hidden: bool,
    /// Lines the guest printed (UART, debug console), for the host's log.
    log: Vec<String>,
}

impl Board {
    pub fn new(config: BoardConfig) -> Board {
        let mut board = Board {
            ram: vec![0; (config.ram_mib as usize) << 20],
            shadow: None,
            pci: Pci::new(),
            pic: Pic::default(),
            pit: Pit::default(),
            rtc: Rtc::new(config.rtc_start),
            acpi: Acpi::default(),
            smbus: Smbus::new(config.smbus),
            superio: SuperIo::default(),
            debug_console: DebugConsole::default(),
            post: PostCode::default(),
            nv2a: Nv2a::new(config.ram_mib << 20),
            events: Events::default(),
            now: 0,
            rom_was_hidden: false,
            log: Vec::new(),
            flash: config.flash,
            mcpx: config.mcpx,
        };
        board.reset_rom_overlay();
        board.schedule();
        board
    }

    /// The reset signal: the chipset's registers go back to their reset values and the MCPX
    /// ROM reappears. RAM, the RTC/CMOS and the SMBus devices keep their contents.
    pub fn reset(&mut self) {
        self.pci.reset();
        self.pic = Pic::default();
        self.pit = Pit::default();
        self.acpi = Acpi::default();
        self.superio = SuperIo::default();
        self.nv2a = Nv2a::new(self.ram.len() as u32);
        self.rom_was_hidden = false;
        self.reset_rom_overlay();
        self.schedule();
    }

    fn reset_rom_overlay(&mut self) {
        self.shadow = self.mcpx.map(|rom| {
            let window = self.flash.len().min(16 << 20);
            let mut shadow = self.flash[self.flash.len() - window..].to_vec();
            shadow[window - MCPX_SIZE..].copy_from_slice(&rom);
            shadow
        });
    }

    pub fn ram_size(&self) -> usize {
        self.ram.len()
    }

    pub fn now(&self) -> u64 {
        self.now
    }

    /// Whether the MCPX ROM was hidden since the last check (the CPU must drop code decoded
    /// from it).
    pub fn take_rom_hidden(&mut self) -> bool {
        let hidden = self.pci.rom_hidden();
        let changed = hidden && !self.rom_was_hidden;
        self.rom_was_hidden = hidden;
        if changed {
            self.shadow = None;
        }
        changed
    }

    /// Lines the guest printed since the last call.
    pub fn take_log(&mut self) -> Vec<String> {
        let mut lines = std::mem::take(&mut self.log);
        lines.extend(self.superio.take_lines());
        lines.extend(self.debug_console.take_lines());
        lines
    }

    pub fn take_power_request(&mut self) -> Option<PowerRequest> {
        self.smbus.take_power_request()
    }

    /// Handles every event due at `now`. Returns true when the field ended.
    pub fn run_events(&mut self, now: u64) -> bool {
        self.now = now;
        let mut field_ended = false;
        while let Some(event) = self.events.pop_due(now) {
            match event {
                Event::Pit => self.pit.tick(now),
                Event::Rtc => self.rtc.tick(now),
                Event::AcpiTimer => self.acpi.tick(now),
                Event::Smbus => self.smbus.tick(now),
                Event::Nv2a => self.nv2a.tick(&mut self.ram, now),
                Event::Field => field_ended = true,
            }
            self.update_interrupts();
            self.schedule();
        }
        field_ended
    }

    /// Schedules the end of the current video field.
    pub fn schedule_field_end(&mut self, at: u64) {
        self.events.schedule(Event::Field, Some(at));
    }

    /// Asks every device when it next needs the clock. A time not after now counts as the
    /// next cycle, so time always moves on between two rounds of events.
    fn schedule(&mut self) {
        let later = |at: Option<u64>| at.map(|at| at.max(self.now + 1));
        self.events
            .schedule(Event::Pit, later(self.pit.next_event()));
        self.events
            .schedule(Event::Rtc, later(self.rtc.next_event()));
        self.events
            .schedule(Event::AcpiTimer, later(self.acpi.next_event()));
        self.events
            .schedule(Event::Smbus, later(self.smbus.next_event()));
        self.events
            .schedule(Event::Nv2a, later(self.nv2a.next_event()));
    }

    /// Recomputes the PIC's inputs from the devices' interrupt outputs.
    fn update_interrupts(&mut self) {
        // The SMC holds EXTSMI# while it has an interrupt reason for the kernel; the ACPI
        // block latches it as a general-purpose event.
        if self.smbus.smc().interrupt_pending() {
            self.acpi.raise_extsmi();
        }
        let mut lines = 0u16;
        let mut raise = |line: u32, level: bool| {
            if level && line < 16 {
                lines |= 1 << line;
            }
        };
        raise(0, self.pit.out(0, self.now));
        raise(4, self.superio.irq());
        raise(8, self.rtc.irq());
        // Routed sources: a routing value of 0 leaves the source unconnected.
        let routing = self.pci.config(Function::Lpc, pci::lpc::ACPI_IRQ_ROUTING);
        // The NV2A's INTA is the AGP slot's PIRQC.
        let pirqc = self.pci.config(Function::Lpc, pci::lpc::PIRQ_ROUTING) >> 16 & 0xFF;
        for (line, level) in [
            (routing & 0xFF, self.acpi.sci()),
            (routing >> 8 & 0xFF, self.smbus.irq()),
            (pirqc, self.nv2a.irq()),
        ] {
            raise(if line == 0 { 16 } else { line }, level);
        }
        for line in 0..16 {
            self.pic.set_irq(line, lines >> line & 1 != 0);
        }
    }

    /// After a guest access: the device may have changed its interrupt or its timing.
    fn after_access(&mut self) {
        self.update_interrupts();
        self.schedule();
    }

    /// The byte at a physical address in the top 16 MiB (flash or the ROM overlay).
    fn flash_byte(&self, addr: u32) -> u8 {
        if let Some(shadow) = &self.shadow {
            let from_top = (addr.wrapping_neg()) as usize;
            if from_top <= shadow.len() {
                return shadow[shadow.len() - from_top];
            }
        }
        if self.flash.is_empty() {
            return 0xFF;
        }
        // Copies of the image end at 4 GiB (for the power-of-two sizes of real flash chips,
        // the same as repeating it from 0xFF000000), so its last bytes are always at the top.
        let from_top = addr.wrapping_neg() as usize; // 1 for 0xFFFFFFFF
        let len = self.flash.len();
        self.flash[len - 1 - (from_top - 1) % len]
    }

    fn flash_write(&mut self, addr: u32, size: usize, value: u32) {
        if let Some(shadow) = &mut self.shadow {
            let len = shadow.len();
            for k in 0..size {
                let from_top = (addr.wrapping_add(k as u32)).wrapping_neg() as usize;
                if (1..=len).contains(&from_top) {
                    shadow[len - from_top] = (value >> (8 * k)) as u8;
                }
            }
        }
    }

    /// A read in the PCI hole: whichever BAR decodes the address, else all ones (a master
    /// abort).
    fn hole_read(&mut self, addr: u32, size: usize) -> u32 {
        if let Some(offset) = self.bar_offset(Function::Nv2a, 1, addr) {
            let ram_len = self.ram.len();
            return (0..size).fold(0, |v, k| {
                v | u32::from(self.ram[(offset as usize + k) % ram_len]) << (8 * k)
            });
        }
        if let Some(offset) = self.bar_offset(Function::Nv2a, 0, addr) {
            let now = self.now;
            let value = self.nv2a.read(now, offset, size);
            self.after_access();
            return value;
        }
        // The MCPX devices' MMIO are later parts of the machine; until then they read as zero
        // and ignore writes.
        for (f, bar) in MMIO_BARS {
            if self.bar_offset(f, bar, addr).is_some() {
                return 0;
            }
        }
        size_mask(size)
    }

    fn hole_write(&mut self, addr: u32, size: usize, value: u32) {
        if let Some(offset) = self.bar_offset(Function::Nv2a, 0, addr) {
            let now = self.now;
            self.nv2a.write(&mut self.ram, now, offset, size, value);
            self.after_access();
            return;
        }
        if let Some(offset) = self.bar_offset(Function::Nv2a, 1, addr) {
            let ram_len = self.ram.len();
            for k in 0..size {
                self.ram[(offset as usize + k) % ram_len] = (value >> (8 * k)) as u8;
            }
        }
    }

    fn bar_offset(&self, f: Function, bar: usize, addr: u32) -> Option<u32> {
        let (base, size) = self.pci.memory_bar(f, bar)?;
        let offset = addr.wrapping_sub(base);
        (offset < size).then_some(offset)
    }

    fn io_bar_offset(&self, f: Function, bar: usize, port: u16) -> Option<u16> {
        let (base, size) = self.pci.io_bar(f, bar)?;
        let offset = port.wrapping_sub(base);
        (offset < size).then_some(offset)
    }

    /// One byte from an 8-bit ISA-style device port.
    fn port_read_byte(&mut self, port: u16) -> u8 {
        let now = self.now;
        match port {
            0x20 | 0x21 | 0xA0 | 0xA1 | 0x4D0 | 0x4D1 => self.pic.read(port),
            0x40..=0x43 => self.pit.read(now, port - 0x40),
            0x61 => self.pit.read_61(now),
            0x70..=0x73 => self.rtc.read(now, port - 0x70),
            0x80 => self.post.read(),
            0xE9 => self.debug_console.read(),
            0x2E | 0x2F | 0x2F8..=0x2FF | 0x3F8..=0x3FF => self.superio.read(port),
            _ => 0xFF,
        }
    }

    fn port_write_byte(&mut self, port: u16, value: u8) {
        let now = self.now;
        match port {
            0x20 | 0x21 | 0xA0 | 0xA1 | 0x4D0 | 0x4D1 => self.pic.write(port, value),
            0x40..=0x43 => self.pit.write(now, port - 0x40, value),
            0x61 => self.pit.write_61(now, value),
            0x70..=0x73 => self.rtc.write(now, port - 0x70, value),
            0x80 => self.post.write(value),
            0xE9 => self.debug_console.write(value),
            0x2E | 0x2F | 0x2F8..=0x2FF | 0x3F8..=0x3FF => self.superio.write(port, value),
            _ => {}
        }
    }
}

/// Memory BARs of devices later parts of the machine fill in.
const MMIO_BARS: [(Function, usize); 6] = [
    (Function::Apu, 0),
    (Function::Aci, 2),
    (Function::Usb0, 0),
    (Function::Usb1, 0),
    (Function::Nic, 0),
    (Function::Nv2a, 2),
];

impl Bus for Board {
    fn ram(&mut self) -> &mut [u8] {
        &mut self.ram
    }

    fn read(&mut self, addr: u32, size: usize) -> u32 {
        if addr >= FLASH_WINDOW {
            return (0..size).fold(0, |v, k| {
                v | u32::from(self.flash_byte(addr.wrapping_add(k as u32))) << (8 * k)
            });
        }
        self.hole_read(addr, size)
    }

    fn write(&mut self, addr: u32, size: usize, value: u32) {
        if addr >= FLASH_WINDOW {
            self.flash_write(addr, size, value);
        } else {
            self.hole_write(addr, size, value);
        }
    }

    fn io_read(&mut self, port: u16, size: usize) -> u32 {
        let now = self.now;
        let value = if (0xCF8..=0xCFF).contains(&port) {
            self.pci.io_read(port, size)
        } else if let Some(offset) = self.io_bar_offset(Function::Lpc, 0, port) {
            self.acpi.read(now, offset, size)
        } else if let Some(offset) = self.io_bar_offset(Function::Smbus, 1, port) {
            self.smbus.read(now, u32::from(offset), size)
        } else {
            (0..size).fold(0, |v, k| {
                v | u32::from(self.port_read_byte(port.wrapping_add(k as u16))) << (8 * k)
            })
        };
        self.after_access();
        value
    }

    fn io_write(&mut self, port: u16, size: usize, value: u32) {
        let now = self.now;
        if (0xCF8..=0xCFF).contains(&port) {
            self.pci.io_write(port, size, value);
        } else if let Some(offset) = self.io_bar_offset(Function::Lpc, 0, port) {
            self.acpi.write(now, offset, size, value);
        } else if let Some(offset) = self.io_bar_offset(Function::Smbus, 1, port) {
            self.smbus.write(now, u32::from(offset), size, value);
        } else {
            for k in 0..size {
                self.port_write_byte(port.wrapping_add(k as u16), (value >> (8 * k)) as u8);
            }
        }
        self.after_access();
    }

    fn sync(&mut self, now: u64) {
        self.now = now;
    }

    fn next_event(&self) -> u64 {
        // A hidden ROM or a power request needs the console at once (the CPU finishes the
        // block it is in, as a real one drains what it prefetched).
        if self.pci.rom_hidden() != self.rom_was_hidden || self.smbus.power_request_pending() {
            return 0;
        }
        self.events.next()
    }

    fn interrupt_pending(&self) -> bool {
        self.pic.interrupt_pending()
    }

    fn acknowledge_interrupt(&mut self) -> u8 {
        let vector = self.pic.acknowledge();
        self.update_interrupts();
        vector
    }
}

impl Snapshot for Board {
    fn state(&mut self, s: &mut State) {
        s.bytes(&mut self.ram);
        // The ROM-time flash shadow exists only on consoles with an MCPX ROM (the state's
        // header pins which), and its size is the flash window's.
        if self.mcpx.is_some() {
            let mut shadowed = self.shadow.is_some();
            s.bool(&mut shadowed);
            let window = self.flash.len().min(16 << 20);
            let mut shadow = self.shadow.take().unwrap_or_else(|| vec![0; window]);
            shadow.resize(window, 0);
            s.bytes(&mut shadow);
            self.shadow = shadowed.then_some(shadow);
        }
        self.pci.state(s);
        self.pic.state(s);
        self.pit.state(s);
        self.rtc.state(s);
        self.acpi.state(s);
        self.smbus.state(s);
        self.superio.state(s);
        self.post.state(s);
        self.nv2a.state(s);
        self.events.state(s);
        s.u64(&mut self.now);
        s.bool(&mut self.rom_was_hidden);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcpx::eeprom::{self, Params, Revision};

    fn config(mcpx: bool) -> BoardConfig {
        BoardConfig {
            ram_mib: 64,
            flash: (0..256 * 1024).map(|i| i as u8).collect(),
            mcpx: mcpx.then_some([0xA5; MCPX_SIZE]),
            smbus: SmbusConfig::new(eeprom::generate(&Params::from_seed(Revision::Retail10, 1))),
            rtc_start: 0,
        }
    }

    fn board(mcpx: bool) -> Board {
        Board::new(config(mcpx))
    }

    #[test]
    fn the_rom_overlays_the_top_512_bytes_until_hidden() {
        let mut b = board(true);
        assert_eq!(b.read(MCPX_BASE, 4), 0xA5A5_A5A5);
        assert_eq!(
            b.read(MCPX_BASE - 4, 4),
            0xFFFE_FDFC,
            "flash just below the ROM"
        );
        // The ROM-time shadow is writable, as with the cache in write-back mode.
        b.write(0xFFFF_D52C, 4, 0x1234_5678);
        assert_eq!(b.read(0xFFFF_D52C, 4), 0x1234_5678);
        b.io_write(0xCF8, 4, 0x8000_0880);
        b.io_write(0xCFC, 4, 2);
        assert_eq!(
            b.next_event(),
            0,
            "the console must act on the hide at once"
        );
        assert!(b.take_rom_hidden());
        assert_eq!(b.read(MCPX_BASE, 4), 0x0302_0100, "flash from the top");
        assert_eq!(
            b.read(0xFFFF_D52C, 4),
            0x2F2E_2D2C,
            "the write is gone with the shadow"
        );
    }

    #[test]
    fn a_768_kib_image_ends_at_4_gib_with_or_without_the_rom() {
        let image: Vec<u8> = (0..768 * 1024).map(|i| (i / 1024) as u8).collect();
        for mcpx in [false, true] {
            let mut b = Board::new(BoardConfig {
                flash: image.clone(),
                ..config(mcpx)
            });
            b.io_write(0xCF8, 4, 0x8000_0880);
            b.io_write(0xCFC, 4, 2);
            b.take_rom_hidden();
            assert_eq!(b.read(0xFFFF_FC00, 1), 767 % 256, "last KiB at the top");
            assert_eq!(
                b.read(0xFFF4_0000, 1),
                0,
                "the copy below starts 768 KiB lower"
            );
        }
    }

    /// Every port and every address outside RAM, with any size and value, in any order:
    /// nothing panics and RAM is reached only inside its bounds.
    #[test]
    fn hostile_accesses_never_panic() {
        let mut b = board(true);
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut now = 0;
        for _ in 0..200_000 {
            let r = next();
            let size = [1, 2, 4][(r % 3) as usize];
            let value = (r >> 32) as u32;
            now += r >> 60;
            b.sync(now);
            match (r >> 8) % 5 {
                0 => {
                    b.io_read((r >> 16) as u16, size);
                }
                1 => b.io_write((r >> 16) as u16, size, value),
                // Ports where the devices live, so their registers get hit often.
                2 => {
                    let ports = [
                        0x20, 0x21, 0xA0, 0xA1, 0x40, 0x43, 0x61, 0x70, 0x71, 0xCF8, 0xCFC,
                    ];
                    let port = ports[(r >> 16) as usize % ports.len()];
                    b.io_write(port, size, value);
                }
                3 => {
                    let addr = (value | 0x0400_0000) & !3;
                    b.read(addr, size);
                    b.write(addr, size, value);
                }
                _ => {
                    if b.interrupt_pending() {
                        b.acknowledge_interrupt();
                    }
                    b.run_events(now);
                }
            }
        }
        let mut bytes = Vec::new();
        b.state(&mut State::saving(&mut bytes));
        let mut other = board(true);
        other.state(&mut State::loading(&bytes));
        let mut again = Vec::new();
        other.state(&mut State::saving(&mut again));
        assert!(bytes == again, "a loaded board saves the same state");
    }
}
