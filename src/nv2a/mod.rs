//! The NV2A: the Xbox's GPU and northbridge, as the CPU reaches it through BAR0 (16 MiB of
//! registers) and as it reaches guest RAM.
//!
//! BAR0 is divided into blocks (offsets from BAR0): PMC 0x000000 (identity, interrupt
//! aggregation), PBUS 0x001000, PFIFO 0x002000 (the command FIFO), PVIDEO 0x008000 (the
//! overlay), PTIMER 0x009000, PFB 0x100000 (memory configuration), PGRAPH 0x400000 (the
//! graphics engine), PCRTC 0x600000 (scan-out timing), PRMCIO 0x601000 (VGA CRTC), PRAMDAC
//! 0x680000 (PLLs and pixel formats), PRMVIO 0x0C0000 (VGA sequencer and graphics controller),
//! PRAMIN 0x700000 (1 MiB of instance memory: RAMHT, RAMFC, RAMRO and objects) and USER
//! 0x800000 (each channel's PUT/GET).
//!
//! Conventions of the blocks here, like the MCPX devices': registers through
//! `read(offset, size)`/`write(offset, size, value)` with offsets relative to the block; time
//! in CPU cycles where a block needs it; interrupt state through `pending()` (the block's
//! enabled interrupt bits, which PMC aggregates); state through
//! [`crate::machine::state::Snapshot`]. Guest memory is reached only through [`Memory`], which
//! checks every access, so no guest value can reach host memory outside RAM and PRAMIN.

pub mod dma;
pub mod driver;
pub mod pcrtc;
pub mod pfb;
pub mod pfifo;
pub mod pgraph;
pub mod pmc;
pub mod pramdac;
pub mod ptimer;
pub mod pvideo;
pub mod ramht;
pub mod scanout;
pub mod vga;

/// PRAMIN, the NV2A's instance memory: 1 MiB.
pub const PRAMIN_SIZE: usize = 1 << 20;

/// The memory the GPU reaches: guest RAM and its own instance memory.
pub struct Memory<'a> {
    pub ram: &'a mut [u8],
    pub pramin: &'a mut [u8],
}

/// Reads a little-endian dword; out of range reads 0.
pub fn read_u32(bytes: &[u8], offset: usize) -> u32 {
    bytes
        .get(offset..offset.wrapping_add(4))
        .map_or(0, |b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
}

/// Writes a little-endian dword; out of range writes are dropped.
pub fn write_u32(bytes: &mut [u8], offset: usize, value: u32) {
    if let Some(b) = bytes.get_mut(offset..offset.wrapping_add(4)) {
        b.copy_from_slice(&value.to_le_bytes());
    }
}

/// One method as the puller hands it to an engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Method {
    pub channel: u32,
    pub subchannel: u32,
    /// The method's byte offset within the object (0x0000-0x1FFC).
    pub method: u32,
    pub param: u32,
}

/// Why an engine refused a method: the puller stops and raises the matching interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// The object's class has no such method.
    InvalidMethod,
    /// A parameter out of range, or a DMA object access beyond its limit.
    InvalidData,
    /// The subchannel has no object bound.
    NoObject,
}

/// What the FIFO's puller drives: the graphics engine (PGRAPH) in the NV2A.
pub trait Engine {
    /// Binds the object at PRAMIN offset `instance` to a subchannel of a channel (method 0
    /// after its RAMHT lookup).
    fn bind(&mut self, mem: &mut Memory, channel: u32, subchannel: u32, instance: u32);
    /// Executes one method on the object bound to its subchannel.
    fn method(&mut self, mem: &mut Memory, method: Method) -> Result<(), EngineError>;
    /// Whether the engine is still busy with earlier work (the puller waits).
    fn busy(&self) -> bool {
        false
    }
}

use crate::machine::state::{Snapshot, State};
use pfifo::Pfifo;
use pgraph::Pgraph;
use pmc::Pmc;
use scanout::Display;

/// BAR0's blocks that live here (the display blocks route themselves, see [`Display`]).
mod bar0 {
    pub const PMC: std::ops::Range<u32> = 0x00_0000..0x00_1000;
    pub const PBUS: std::ops::Range<u32> = 0x00_1000..0x00_2000;
    pub const PFIFO: std::ops::Range<u32> = 0x00_2000..0x00_4000;
    pub const PSTRAPS: std::ops::Range<u32> = 0x10_1000..0x10_2000;
    pub const PGRAPH: std::ops::Range<u32> = 0x40_0000..0x40_2000;
    pub const PRAMIN: std::ops::Range<u32> = 0x70_0000..0x80_0000;
    pub const USER: std::ops::Range<u32> = 0x80_0000..0x100_0000;
}

/// How much FIFO work (pushbuffer words, methods) runs at a time: enough for a whole frame of
/// 2D work, bounded so a guest pushbuffer that jumps to itself cannot hold the host.
const FIFO_BUDGET: u32 = 1 << 20;

/// How often, in CPU cycles, a puller waiting on a semaphore acquire looks at memory again
/// (about 90 us: a CPU store that releases it is seen that soon; often enough for a frame's
/// synchronisation, rare enough not to slow the CPU down while it waits).
const ACQUIRE_POLL: u64 = 1 << 16;

/// The NV2A's strap value: the board's configuration pins (a fixed 0x7, as on retail
/// consoles' crystal and RAM settings).
const STRAPS: u32 = 0x0000_0007;

/// The whole GPU: its register blocks, its instance memory, and the drawing engine.
pub struct Nv2a {
    pmc: Pmc,
    /// PBUS is storage (the PCI mirror and debug registers the kernel sets up).
    pbus: Vec<u32>,
    pfifo: Pfifo,
    pgraph: Pgraph,
    display: Display,
    pramin: Vec<u8>,
    /// The time of the last access or event, for scheduling the acquire poll.
    now: u64,
}

impl Nv2a {
    pub fn new(ram_size: u32) -> Nv2a {
        Nv2a {
            pmc: Pmc::default(),
            pbus: vec![0; 0x400],
            pfifo: Pfifo::new(),
            pgraph: Pgraph::new(),
            display: Display::new(ram_size),
            pramin: vec![0; PRAMIN_SIZE],
            now: 0,
        }
    }

    /// A BAR0 read of `size` bytes at `offset`.
    pub fn read(&mut self, now: u64, offset: u32, size: usize) -> u32 {
        self.sync_time(now);
        let value = match offset {
            o if bar0::PMC.contains(&o) => self.pmc.read(o & !3),
            o if bar0::PBUS.contains(&o) => self.pbus[(o as usize & 0xFFF) >> 2],
            o if bar0::PFIFO.contains(&o) => self.pfifo.read(o - bar0::PFIFO.start, size),
            o if bar0::PSTRAPS.contains(&o) => STRAPS,
            o if bar0::PGRAPH.contains(&o) => self.pgraph.read(o - bar0::PGRAPH.start, size),
            o if bar0::PRAMIN.contains(&o) => {
                let at = (o - bar0::PRAMIN.start) as usize;
                (0..size).fold(0, |v, k| {
                    v | u32::from(self.pramin.get(at + k).copied().unwrap_or(0)) << (8 * k)
                })
            }
            o if bar0::USER.contains(&o) => {
                self.pfifo
                    .user_read(&self.pramin, o - bar0::USER.start, size)
            }
            o if Display::claims(o) => self.display.read(now, o, size),
            _ => 0,
        };
        // Reading RASTER or TIME can latch a vblank or an alarm.
        self.update_interrupts();
        value
    }

    /// A BAR0 write of `size` bytes at `offset`. A write that gives the FIFO work (a channel's
    /// PUT, the FIFO's or PGRAPH's enables) runs it at once: the GPU is fast next to us.
    pub fn write(&mut self, ram: &mut [u8], now: u64, offset: u32, size: usize, value: u32) {
        self.sync_time(now);
        match offset {
            o if bar0::PMC.contains(&o) => self.pmc.write(o & !3, value),
            o if bar0::PBUS.contains(&o) => self.pbus[(o as usize & 0xFFF) >> 2] = value,
            o if bar0::PFIFO.contains(&o) => self.pfifo.write(o - bar0::PFIFO.start, size, value),
            o if bar0::PGRAPH.contains(&o) => {
                self.pgraph.write(o - bar0::PGRAPH.start, size, value)
            }
            o if bar0::PRAMIN.contains(&o) => {
                let at = (o - bar0::PRAMIN.start) as usize;
                for k in 0..size {
                    if let Some(b) = self.pramin.get_mut(at + k) {
                        *b = (value >> (8 * k)) as u8;
                    }
                }
            }
            o if bar0::USER.contains(&o) => {
                self.pfifo
                    .user_write(&mut self.pramin, o - bar0::USER.start, size, value)
            }
            o if Display::claims(o) => self.display.write(now, o, size, value),
            _ => {}
        }
        self.run_fifo(ram);
    }

    /// Runs whatever the FIFO can do now.
    pub fn run_fifo(&mut self, ram: &mut [u8]) {
        if self.pfifo.has_work() {
            let mut mem = Memory {
                ram,
                pramin: &mut self.pramin,
            };
            self.pfifo.run(&mut mem, &mut self.pgraph, FIFO_BUDGET);
        }
        self.update_interrupts();
    }

    /// PGRAPH's notifier timestamps follow PTIMER.
    fn sync_time(&mut self, now: u64) {
        self.now = now;
        // TIME_1:TIME_0 is the counter shifted left by 5 (its low bits read as zero).
        self.pgraph.set_time(self.display.ptimer.count(now) << 5);
    }

    fn update_interrupts(&mut self) {
        let mut units = self.display.pending();
        if self.pfifo.pending() {
            units |= pmc::unit::PFIFO;
        }
        if self.pgraph.pending() {
            units |= pmc::unit::PGRAPH;
        }
        self.pmc.set_units(units);
    }

    /// The PCI interrupt line.
    pub fn irq(&self) -> bool {
        self.pmc.irq()
    }

    pub fn next_event(&self) -> Option<u64> {
        let acquire = self
            .pfifo
            .acquiring()
            .then(|| self.now.saturating_add(ACQUIRE_POLL));
        [self.display.next_event(), acquire]
            .into_iter()
            .flatten()
            .min()
    }

    pub fn tick(&mut self, ram: &mut [u8], now: u64) {
        self.sync_time(now);
        self.display.tick(now);
        self.run_fifo(ram);
    }

    /// The picture being scanned out, if the display is set up.
    pub fn picture(&self, ram: &[u8]) -> Option<crate::frame::RawFrame> {
        self.display.picture(ram)
    }

    /// The graphics engine, for tests and tools that inspect its state.
    pub fn pgraph(&self) -> &Pgraph {
        &self.pgraph
    }
}

impl Snapshot for Nv2a {
    fn state(&mut self, s: &mut State) {
        self.pmc.state(s);
        s.u32s(&mut self.pbus);
        self.pfifo.state(s);
        self.pgraph.state(s);
        self.display.state(s);
        s.bytes(&mut self.pramin);
        s.u64(&mut self.now);
    }
}
