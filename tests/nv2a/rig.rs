//! The register map the tests use (written out here from the sources named with each, not
//! taken from the emulator) and [`Rig`]: an NV2A with 64 MiB of RAM, channel 0 set up by the
//! host-side driver (pbkit's layout, the boot ROM's objects), driven through BAR0 at a chosen
//! CPU cycle.

#![allow(dead_code)]

use oxbox::bootrom::nv2a::{self as rom, PUSHBUFFER};
use oxbox::nv2a::driver::Driver;

// PMC (envytools docs/hw/bus/pmc.rst): INTR_0 aggregates the units' lines, INTR_EN_0 bit 0
// passes the hardware ones to PCI INTA.
pub const PMC_INTR_0: u32 = 0x00_0100;
pub const PMC_INTR_EN_0: u32 = 0x00_0140;
pub const PMC_EN_HARDWARE: u32 = 1;
pub const PMC_PFIFO: u32 = 1 << 8;
pub const PMC_PGRAPH: u32 = 1 << 12;
pub const PMC_PTIMER: u32 = 1 << 20;
pub const PMC_PCRTC: u32 = 1 << 24;

// PFIFO (envytools rnndb/fifo/nv04_pfifo.xml; BAR0 0x2000 + the block offset).
pub const PFIFO_INTR_0: u32 = 0x00_2100;
pub const PFIFO_INTR_EN_0: u32 = 0x00_2140;
pub const PFIFO_CACHES: u32 = 0x00_2500;
pub const PFIFO_MODE: u32 = 0x00_2504;
pub const PFIFO_RAMFC: u32 = 0x00_2214;
pub const CACHE1_PUSH1: u32 = 0x00_3204;
pub const CACHE1_DMA_PUSH: u32 = 0x00_3220;
pub const CACHE1_DMA_STATE: u32 = 0x00_3228;
pub const CACHE1_DMA_GET: u32 = 0x00_3244;
pub const CACHE1_REF: u32 = 0x00_3248;
pub const CACHE1_PULL0: u32 = 0x00_3250;
pub const CACHE1_PULL1: u32 = 0x00_3254;
pub const CACHE1_GET: u32 = 0x00_3270;
pub const CACHE1_DMA_RSVD_SHADOW: u32 = 0x00_32A8;
pub const FIFO_CACHE_ERROR: u32 = 1 << 0;
pub const FIFO_DMA_PUSHER: u32 = 1 << 12;
pub const FIFO_SEMAPHORE: u32 = 1 << 20;
pub const DMA_PUSH_SUSPENDED: u32 = 1 << 12;
pub const PULL0_ACCESS: u32 = 1 << 0;
pub const PULL0_HASH_FAILED: u32 = 1 << 4;
pub const PULL1_ACQUIRE_ACTIVE: u32 = 1 << 4;
/// DMA_STATE.ERROR (bits 29-31).
pub const ERROR_INVALID_MTHD: u32 = 2;
pub const ERROR_INVALID_CMD: u32 = 4;
pub const ERROR_MEM_FAULT: u32 = 6;

// USER: channel c's control area at 0x800000 + 0x10000 c (envytools dma-pusher.rst).
pub const fn user_dma_put(channel: u32) -> u32 {
    0x80_0040 + 0x1_0000 * channel
}
pub const fn user_dma_get(channel: u32) -> u32 {
    0x80_0044 + 0x1_0000 * channel
}
pub const fn user_ref(channel: u32) -> u32 {
    0x80_0048 + 0x1_0000 * channel
}

// PGRAPH (NV10+ layout: xemu nv2a_regs.h; INTR.ERROR is bit 20 on NV10+, envytools hwtest
// nv04_pgraph_blowup; NSOURCE bits from NVIDIA's dev_graphics names in nxdk's outer.h).
pub const PGRAPH_INTR: u32 = 0x40_0100;
pub const PGRAPH_NSTATUS: u32 = 0x40_0104;
pub const PGRAPH_NSOURCE: u32 = 0x40_0108;
pub const PGRAPH_INTR_EN: u32 = 0x40_0140;
pub const PGRAPH_TRAPPED_ADDR: u32 = 0x40_0704;
pub const PGRAPH_TRAPPED_DATA: u32 = 0x40_0708;
pub const PGRAPH_FIFO: u32 = 0x40_0720;
pub const GRAPH_NOTIFY: u32 = 1 << 0;
pub const GRAPH_ERROR: u32 = 1 << 20;
pub const NSOURCE_DATA_ERROR: u32 = 1 << 1;
pub const NSOURCE_LIMIT_COLOR: u32 = 1 << 4;
pub const NSOURCE_ILLEGAL_MTHD: u32 = 1 << 6;
pub const NSOURCE_DMA_W_PROTECTION: u32 = 1 << 8;
pub const NSOURCE_STATE_INVALID: u32 = 1 << 11;

// PTIMER (envytools docs/hw/bus/ptimer.rst): 0x200 CLOCK_DIV ("NUMERATOR" in nouveau and
// xemu), 0x210 CLOCK_MUL ("DENOMINATOR"), TIME_LOW/HIGH, ALARM; INTR bit 0 ALARM.
pub const PTIMER_INTR_0: u32 = 0x00_9100;
pub const PTIMER_INTR_EN_0: u32 = 0x00_9140;
pub const PTIMER_NUMERATOR: u32 = 0x00_9200;
pub const PTIMER_DENOMINATOR: u32 = 0x00_9210;
pub const PTIMER_TIME_0: u32 = 0x00_9400;
pub const PTIMER_TIME_1: u32 = 0x00_9410;
pub const PTIMER_ALARM_0: u32 = 0x00_9420;

// PCRTC (xemu nv2a_regs.h): INTR_0 bit 0 VBLANK, INTR_EN_0, START, RASTER.
pub const PCRTC_INTR_0: u32 = 0x60_0100;
pub const PCRTC_INTR_EN_0: u32 = 0x60_0140;
pub const PCRTC_START: u32 = 0x60_0800;
pub const PCRTC_RASTER: u32 = 0x60_0808;

// PRAMDAC's core-clock PLL (nouveau nvreg.h NV_PRAMDAC_NVPLL_COEFF): M 7-0, N 15-8, P 18-16.
pub const PRAMDAC_NVPLL_COEFF: u32 = 0x68_0500;

/// PRAMIN through BAR0.
pub const PRAMIN: u32 = 0x70_0000;
/// Where pbkit (and the boot ROM's set-up) put RAMHT and RAMFC in PRAMIN, and the RAMFC slot
/// size with RAMFC.LARGE set (nouveau's NV17 layout: 64 bytes a channel).
pub const RAMHT: u32 = 0x1_0000;
pub const RAMFC: u32 = 0x1_1000;
pub const RAMFC_SLOT: u32 = 64;
/// Where the tests put their own objects in PRAMIN (past everything the set-up uses).
const OBJECTS: u32 = 0x1_3000;

// Kelvin methods (xemu nv2a_regs.h NV097_*; envytools hwtest pgraph_class_kelvin.cc).
pub const NV097_NO_OPERATION: u32 = 0x0100;
pub const NV097_NOTIFY: u32 = 0x0104;
pub const NV097_SET_CONTEXT_DMA_NOTIFIES: u32 = 0x0180;
pub const NV097_SET_CONTEXT_DMA_COLOR: u32 = 0x0194;
pub const NV097_SET_CONTEXT_DMA_SEMAPHORE: u32 = 0x01A4;
pub const NV097_SET_SURFACE_CLIP_HORIZONTAL: u32 = 0x0200;
pub const NV097_SET_SURFACE_FORMAT: u32 = 0x0208;
pub const NV097_SET_ALPHA_FUNC_REF: u32 = 0x0340;
pub const NV097_SET_SEMAPHORE_OFFSET: u32 = 0x1D6C;
pub const NV097_BACK_END_WRITE_SEMAPHORE_RELEASE: u32 = 0x1D70;
pub const NV097_SET_COLOR_CLEAR_VALUE: u32 = 0x1D90;
pub const NV097_CLEAR_SURFACE: u32 = 0x1D94;
pub const NV097_SET_CLEAR_RECT_HORIZONTAL: u32 = 0x1D98;

// PFIFO's own methods (envytools docs/hw/fifo/puller.rst).
pub const METHOD_OBJECT: u32 = 0x0000;
pub const METHOD_REF_CNT: u32 = 0x0050;
pub const METHOD_DMA_SEMAPHORE: u32 = 0x0060;
pub const METHOD_SEMAPHORE_OFFSET: u32 = 0x0064;
pub const METHOD_SEMAPHORE_ACQUIRE: u32 = 0x0068;
pub const METHOD_SEMAPHORE_RELEASE: u32 = 0x006C;

// The command words (envytools docs/hw/fifo/dma-pusher.rst, "The commands").
pub const fn inc(subchannel: u32, method: u32, count: u32) -> u32 {
    count << 18 | subchannel << 13 | method
}
pub const fn non_inc(subchannel: u32, method: u32, count: u32) -> u32 {
    0x4000_0000 | inc(subchannel, method, count)
}
pub const fn old_jump(target: u32) -> u32 {
    0x2000_0000 | target
}
pub const fn jump(target: u32) -> u32 {
    target | 1
}
pub const fn call(target: u32) -> u32 {
    target | 2
}
pub const RETURN: u32 = 0x0002_0000;

/// DMA object classes (envytools docs/hw/graph/intro.rst).
pub const CLASS_DMA_FROM_MEMORY: u32 = 0x02;
pub const CLASS_DMA_IN_MEMORY: u32 = 0x3D;
/// RAMHT engines (envytools rnndb nv04_pfifo_engine).
pub const ENGINE_SOFTWARE: u32 = 0;
pub const ENGINE_GRAPHICS: u32 = 1;

/// 64 MiB of RAM and channel 0 on the boot ROM's pushbuffer.
pub struct Rig {
    pub d: Driver,
    /// Where the next pushbuffer word goes: an offset in channel 0's pushbuffer window.
    pub put: u32,
    /// The CPU cycle BAR0 accesses are made at.
    pub now: u64,
    next_object: u32,
}

impl Default for Rig {
    fn default() -> Rig {
        Rig::new()
    }
}

impl Rig {
    pub fn new() -> Rig {
        Rig {
            d: Driver::new(64),
            put: 0,
            now: 0,
            next_object: OBJECTS,
        }
    }

    /// A dword read in BAR0.
    pub fn r(&mut self, offset: u32) -> u32 {
        self.d.gpu.read(self.now, offset, 4)
    }

    /// A dword write in BAR0.
    pub fn w(&mut self, offset: u32, value: u32) {
        self.d
            .gpu
            .write(&mut self.d.ram, self.now, offset, 4, value);
    }

    pub fn ram32(&self, at: u32) -> u32 {
        let at = at as usize;
        u32::from_le_bytes(self.d.ram[at..at + 4].try_into().unwrap())
    }

    pub fn set_ram32(&mut self, at: u32, value: u32) {
        let at = at as usize;
        self.d.ram[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    /// Stores words in channel 0's pushbuffer at window offset `at`.
    pub fn place(&mut self, at: u32, words: &[u32]) {
        for (k, &word) in words.iter().enumerate() {
            self.set_ram32(PUSHBUFFER + at + 4 * k as u32, word);
        }
    }

    /// Appends words at [`Rig::put`].
    pub fn emit(&mut self, words: &[u32]) {
        self.place(self.put, words);
        self.put += 4 * words.len() as u32;
    }

    /// Appends increasing methods.
    pub fn methods(&mut self, subchannel: u32, method: u32, params: &[u32]) {
        self.emit(&[inc(subchannel, method, params.len() as u32)]);
        self.emit(params);
    }

    /// Hands the pushbuffer up to [`Rig::put`] to the GPU (channel 0's DMA_PUT).
    pub fn kick(&mut self) {
        self.w(user_dma_put(0), self.put);
    }

    pub fn get(&mut self) -> u32 {
        self.r(user_dma_get(0))
    }

    /// KELVIN's last parameter for a method.
    pub fn kelvin(&self, method: u32) -> u32 {
        self.d.gpu.pgraph().kelvin_param(method)
    }

    fn alloc(&mut self) -> u32 {
        let at = self.next_object;
        self.next_object += 16;
        at
    }

    /// A DMA object over `limit + 1` bytes of RAM from `base` (pbkit's `pb_create_dma_ctx`
    /// layout: class, page table present and linear, the low 12 bits of the base at 20-31;
    /// the limit; the page with its present and writable bits). Returns its PRAMIN offset.
    pub fn dma_object(&mut self, class: u32, base: u32, limit: u32) -> u32 {
        let at = self.alloc();
        self.w(PRAMIN + at, class | 0x3000 | 0x8000 | (base & 0xFFF) << 20);
        self.w(PRAMIN + at + 4, limit);
        self.w(PRAMIN + at + 8, base & !0xFFF | 3);
        self.w(PRAMIN + at + 12, base & !0xFFF | 3);
        at
    }

    /// A graphics object of `class` (pbkit: the class in the first word). Returns its PRAMIN
    /// offset.
    pub fn graph_object(&mut self, class: u32) -> u32 {
        let at = self.alloc();
        self.w(PRAMIN + at, class);
        for k in 1..4 {
            self.w(PRAMIN + at + 4 * k, 0);
        }
        at
    }

    /// Binds `handle` to the object at PRAMIN offset `object` for `channel`, in the slot the
    /// RAMHT hash gives (nouveau's NV04 hash and context layout: valid bit 31, channel 24-28,
    /// engine 16-17, instance in 16-byte units).
    pub fn ramht(&mut self, handle: u32, channel: u32, object: u32, engine: u32) {
        let slot = RAMHT + 8 * rom::ramht_hash(handle, channel);
        self.w(PRAMIN + slot, handle);
        self.w(
            PRAMIN + slot + 4,
            0x8000_0000 | channel << 24 | engine << 16 | object >> 4,
        );
    }

    /// Interrupts on everywhere: every PFIFO and PGRAPH source, and PMC's hardware line.
    pub fn enable_interrupts(&mut self) {
        self.w(PFIFO_INTR_EN_0, 0xFFFF_FFFF);
        self.w(PGRAPH_INTR_EN, 0xFFFF_FFFF);
        self.w(PMC_INTR_EN_0, PMC_EN_HARDWARE);
    }

    /// The DMA pusher's error code (DMA_STATE bits 29-31).
    pub fn pusher_error(&mut self) -> u32 {
        self.r(CACHE1_DMA_STATE) >> 29
    }

    /// What pbkit's DMA_PUSHER handler does: clear the error, step DMA_GET over the word at
    /// fault, resume the pusher, acknowledge the interrupt.
    pub fn skip_pusher_error(&mut self) {
        let get = self.r(CACHE1_DMA_GET);
        self.w(CACHE1_DMA_STATE, 0);
        self.w(CACHE1_DMA_GET, get + 4);
        self.w(PFIFO_INTR_0, FIFO_DMA_PUSHER);
        self.w(CACHE1_DMA_PUSH, 1);
    }
}
