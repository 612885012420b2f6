//! PFIFO (BAR0 0x002000, 8 KiB) and the USER area (BAR0 0x800000): the command FIFO that
//! feeds PGRAPH.
//!
//! A channel submits work by writing commands into a pushbuffer in RAM and moving its DMA_PUT
//! pointer (USER + channel * 0x10000 + 0x40). The DMA pusher reads the pushbuffer from DMA_GET
//! to DMA_PUT through the channel's pushbuffer DMA object, decodes the commands and queues
//! (method, parameter) pairs in CACHE1, a 128-entry queue. The puller takes them off CACHE1:
//! methods below 0x100 are PFIFO's own (object binding through RAMHT, the reference counter,
//! semaphores), the rest go to the engine bound to the subchannel. CACHE1 and the pusher and
//! puller registers hold one channel at a time; when another channel has work and the active
//! one is idle, the FIFO saves the active channel's state into its RAMFC slot in PRAMIN and
//! loads the other's.
//!
//! Facts, from envytools (rnndb fifo/nv04_pfifo.xml; docs hw/fifo/dma-pusher.rst, puller.rst,
//! intro.rst), nouveau's NV17 RAMFC layout, xemu's nv2a_regs.h and pbkit (nxdk):
//! - Commands: increasing methods `000C CCCC CCCC CC00 SSSM MMMM MMMM MM00` (count C in bits
//!   18-28, subchannel S in 13-15, method M in 2-12); non-increasing methods: the same with
//!   bit 30 set (NV10+); old jump `001J...J00` (a 29-bit target); jump `J...J01`; call
//!   `J...J10` (NV1A+; a call inside a subroutine is an error); return `0x00020000` (NV1A+;
//!   an error outside a subroutine). Anything else is an invalid command.
//! - Pusher errors raise INTR_0.DMA_PUSHER, put the error code in DMA_STATE bits 29-31 (1
//!   call in a subroutine, 2 invalid method, 3 return outside a subroutine, 4 invalid command,
//!   6 memory fault) and suspend the pusher (DMA_PUSH bit 12). DMA_GET is left at the word at
//!   fault: pbkit's handler resumes by clearing DMA_STATE and stepping DMA_GET over one word.
//!   RSVD_SHADOW holds the last command word, DATA_SHADOW the last data word.
//! - The pusher only queues methods below 0x100 that the puller knows (0x0000 OBJECT, 0x0050
//!   REF_CNT, 0x0060-0x006C the NV1A semaphores); another is an invalid method error.
//! - Puller errors (a handle missing from RAMHT, a method for the software engine) raise
//!   INTR_0.CACHE_ERROR with PULL0's HASH_FAILED (bit 4) or DEVICE_SOFTWARE (bit 8) flag and
//!   leave the entry at CACHE1_GET: nouveau's and pbkit's handlers step CACHE1_GET over it
//!   and re-enable PULL0. Here the puller also clears PULL0.ACCESS, which both handlers set
//!   again. Methods 0x0180-0x01FC take handles: the puller passes the engine the object's
//!   PRAMIN byte offset instead (the same unit as [`Engine::bind`]).
//! - RAMFC (NV17+ with RAMFC bit 16 set: 64 bytes a channel; 32 without, the NV10 layout's
//!   first eight dwords): DMA_PUT, DMA_GET, REF, DMA_INSTANCE | DCOUNT << 16, DMA_STATE,
//!   DMA_FETCH, ENGINE, PULL1, ACQUIRE_VALUE, ACQUIRE_TIMESTAMP, ACQUIRE_TIMEOUT, SEMAPHORE,
//!   DMA_SUBROUTINE. pbkit's software channel switch uses the same 13 dwords at
//!   channel * 64.
//!
//! Choices where the sources are silent:
//! - `EngineError::NoObject` is reported like a software subchannel: CACHE_ERROR with
//!   DEVICE_SOFTWARE, the puller stopped and the entry kept for the host. `InvalidMethod` and
//!   `InvalidData` consume the method: the engine raised its own interrupt and holds the
//!   puller by reporting busy until its handler is done (envytools `puller.rst`: CACHE_ERROR
//!   is for RAMHT misses and software objects only).
//! - Semaphore errors (INTR_0.SEMAPHORE, PULL0 bits 20-23: 1 invalid operand, 2 invalid
//!   state) consume the method and stop the puller. DMA_SEMAPHORE takes any DMA class; the
//!   semaphore lies at the object's page (SEMAPHORE bits 12-31) plus the offset (bits 2-11),
//!   so an object whose base is not page aligned loses its low bits. Acquires wait without a
//!   timeout.
//! - The FIFO switches channels only when the active one is idle (CACHE1 empty, DMA_PUT ==
//!   DMA_GET, no acquire waiting) and CACHES.REASSIGN is set: there is no timeslicing, so a
//!   channel that never idles keeps the FIFO (a guest hang, bounded by `run`'s budget).
//! - PIO submission (USER method writes, CACHE0, RAMRO) is not modelled: the Xbox uses DMA
//!   channels only. CACHE0's registers are plain storage.

use super::dma::{self, DmaObject};
use super::ramht::{ENGINE_GRAPHICS, Ramht};
use super::{Engine, EngineError, Memory, Method, read_u32, write_u32};
use crate::machine::state::{Snapshot, State};

// Register offsets within PFIFO.
pub const DELAY_0: u32 = 0x040;
pub const DMA_TIMESLICE: u32 = 0x044;
pub const PIO_TIMESLICE: u32 = 0x048;
pub const TIMESLICE: u32 = 0x04C;
pub const NEXT_CHANNEL: u32 = 0x050;
pub const DEBUG_0: u32 = 0x080;
pub const INTR_0: u32 = 0x100;
pub const INTR_EN_0: u32 = 0x140;
pub const RAMHT: u32 = 0x210;
pub const RAMFC: u32 = 0x214;
pub const RAMRO: u32 = 0x218;
pub const RUNOUT_STATUS: u32 = 0x400;
pub const RUNOUT_PUT: u32 = 0x410;
pub const RUNOUT_GET: u32 = 0x420;
pub const CACHES: u32 = 0x500;
pub const MODE: u32 = 0x504;
pub const DMA: u32 = 0x508;
pub const SIZE: u32 = 0x50C;
pub const CACHE0_PUSH0: u32 = 0x1000;
pub const CACHE0_PUSH1: u32 = 0x1004;
pub const CACHE0_PUT: u32 = 0x1010;
pub const CACHE0_STATUS: u32 = 0x1014;
pub const CACHE0_PULL0: u32 = 0x1050;
pub const CACHE0_PULL1: u32 = 0x1054;
pub const CACHE0_HASH: u32 = 0x1058;
pub const CACHE0_GET: u32 = 0x1070;
pub const CACHE0_ENGINE: u32 = 0x1080;
pub const CACHE0_METHOD: u32 = 0x1100;
pub const CACHE0_DATA: u32 = 0x1104;
pub const CACHE1_PUSH0: u32 = 0x1200;
pub const CACHE1_PUSH1: u32 = 0x1204;
pub const CACHE1_PUT: u32 = 0x1210;
pub const CACHE1_STATUS: u32 = 0x1214;
pub const CACHE1_DMA_PUSH: u32 = 0x1220;
pub const CACHE1_DMA_FETCH: u32 = 0x1224;
pub const CACHE1_DMA_STATE: u32 = 0x1228;
pub const CACHE1_DMA_INSTANCE: u32 = 0x122C;
pub const CACHE1_DMA_CTL: u32 = 0x1230;
pub const CACHE1_DMA_LIMIT: u32 = 0x1234;
pub const CACHE1_DMA_PUT: u32 = 0x1240;
pub const CACHE1_DMA_GET: u32 = 0x1244;
pub const CACHE1_REF: u32 = 0x1248;
pub const CACHE1_DMA_SUBROUTINE: u32 = 0x124C;
pub const CACHE1_PULL0: u32 = 0x1250;
pub const CACHE1_PULL1: u32 = 0x1254;
pub const CACHE1_HASH: u32 = 0x1258;
pub const CACHE1_ACQUIRE_TIMEOUT: u32 = 0x1260;
pub const CACHE1_ACQUIRE_TIMESTAMP: u32 = 0x1264;
pub const CACHE1_ACQUIRE_VALUE: u32 = 0x1268;
pub const CACHE1_SEMAPHORE: u32 = 0x126C;
pub const CACHE1_GET: u32 = 0x1270;
pub const CACHE1_ENGINE: u32 = 0x1280;
pub const CACHE1_DMA_DCOUNT: u32 = 0x12A0;
pub const CACHE1_DMA_GET_JMP_SHADOW: u32 = 0x12A4;
pub const CACHE1_DMA_RSVD_SHADOW: u32 = 0x12A8;
pub const CACHE1_DMA_DATA_SHADOW: u32 = 0x12AC;
/// Entry i's method word (subchannel << 13 | method | non-increasing flag); entry i + 8 bytes
/// is the next one. The 256 slots alias the 128 entries.
pub const CACHE1_METHOD: u32 = 0x1800;
/// Entry i's parameter.
pub const CACHE1_DATA: u32 = 0x1804;

// INTR_0 / INTR_EN_0 bits.
pub const INTR_CACHE_ERROR: u32 = 1 << 0;
pub const INTR_RUNOUT: u32 = 1 << 4;
pub const INTR_RUNOUT_OVERFLOW: u32 = 1 << 8;
pub const INTR_DMA_PUSHER: u32 = 1 << 12;
pub const INTR_DMA_PT: u32 = 1 << 16;
pub const INTR_SEMAPHORE: u32 = 1 << 20;
pub const INTR_ACQUIRE_TIMEOUT: u32 = 1 << 24;
const INTR_ALL: u32 = INTR_CACHE_ERROR
    | INTR_RUNOUT
    | INTR_RUNOUT_OVERFLOW
    | INTR_DMA_PUSHER
    | INTR_DMA_PT
    | INTR_SEMAPHORE
    | INTR_ACQUIRE_TIMEOUT;

// DMA_STATE.ERROR codes (bits 29-31).
pub const DMA_ERROR_CALL_SUBR_ACTIVE: u32 = 1;
pub const DMA_ERROR_INVALID_METHOD: u32 = 2;
pub const DMA_ERROR_RET_SUBR_INACTIVE: u32 = 3;
pub const DMA_ERROR_INVALID_COMMAND: u32 = 4;
pub const DMA_ERROR_MEM_FAULT: u32 = 6;

// Register fields.
pub const CACHES_REASSIGN: u32 = 1 << 0;
pub const PUSH1_MODE_DMA: u32 = 1 << 8;
pub const DMA_PUSH_ACCESS: u32 = 1 << 0;
pub const DMA_PUSH_BUSY: u32 = 1 << 4;
pub const DMA_PUSH_BUFFER_EMPTY: u32 = 1 << 8;
pub const DMA_PUSH_SUSPENDED: u32 = 1 << 12;
pub const DMA_FETCH_BIG_ENDIAN: u32 = 1 << 31;
pub const STATUS_EMPTY: u32 = 1 << 4;
pub const STATUS_FULL: u32 = 1 << 8;
pub const PULL0_ACCESS: u32 = 1 << 0;
pub const PULL0_HASH_FAILED: u32 = 1 << 4;
pub const PULL0_DEVICE_SOFTWARE: u32 = 1 << 8;
pub const PULL0_ACQUIRE_BUSY: u32 = 1 << 16;
pub const PULL0_SEMAPHORE_INVALID_OPERAND: u32 = 1 << 20;
pub const PULL0_SEMAPHORE_INVALID_STATE: u32 = 2 << 20;
const PULL0_SEMAPHORE_ERROR: u32 = 0xF << 20;
pub const PULL1_ACQUIRE_ACTIVE: u32 = 1 << 4;
pub const HASH_VALID: u32 = 1 << 16;
pub const SUBROUTINE_ACTIVE: u32 = 1 << 0;
pub const SEMAPHORE_VALID: u32 = 1 << 0;
pub const RAMFC_LARGE: u32 = 1 << 16;

// USER offsets within a channel's 64 KiB (each subchannel's 8 KiB repeats them).
pub const USER_DMA_PUT: u32 = 0x40;
pub const USER_DMA_GET: u32 = 0x44;
pub const USER_REF: u32 = 0x48;

// PFIFO's own methods.
pub const METHOD_OBJECT: u32 = 0x0000;
pub const METHOD_REF_CNT: u32 = 0x0050;
pub const METHOD_DMA_SEMAPHORE: u32 = 0x0060;
pub const METHOD_SEMAPHORE_OFFSET: u32 = 0x0064;
pub const METHOD_SEMAPHORE_ACQUIRE: u32 = 0x0068;
pub const METHOD_SEMAPHORE_RELEASE: u32 = 0x006C;

/// Channels (USER has 32 areas of 64 KiB).
pub const CHANNELS: u32 = 32;
/// CACHE1's depth.
pub const CACHE1_ENTRIES: u32 = 128;

const BLOCK_SIZE: u32 = 0x2000;
const REGS: usize = (BLOCK_SIZE / 4) as usize;
/// CACHE1_PUT/GET hold an entry index times 4 over 256 positions, so that full (128 apart)
/// and empty (equal) differ.
const CACHE_POINTER_MASK: u32 = 0x3FC;
/// DMA_STATE: bit 0 non-increasing, 2-12 method, 13-15 subchannel, 18-28 count.
const STATE_METHOD: u32 = 0x1FFC;
const STATE_COUNT_SHIFT: u32 = 18;
const STATE_COUNT: u32 = 0x7FF << STATE_COUNT_SHIFT;
const STATE_ERROR_SHIFT: u32 = 29;
/// DCOUNT counts the current command's data words in bits 2-12.
const DCOUNT_MASK: u32 = 0x1FFC;

/// The RAMFC dwords, in their order in a slot.
const RAMFC_LAYOUT: [u32; 13] = [
    CACHE1_DMA_PUT,
    CACHE1_DMA_GET,
    CACHE1_REF,
    CACHE1_DMA_INSTANCE, // with DCOUNT in the high half
    CACHE1_DMA_STATE,
    CACHE1_DMA_FETCH,
    CACHE1_ENGINE,
    CACHE1_PULL1,
    CACHE1_ACQUIRE_VALUE,
    CACHE1_ACQUIRE_TIMESTAMP,
    CACHE1_ACQUIRE_TIMEOUT,
    CACHE1_SEMAPHORE,
    CACHE1_DMA_SUBROUTINE,
];

/// What one puller step did with the entry at CACHE1_GET.
enum Pulled {
    /// Executed or handed on: the entry is taken off the queue.
    Consumed,
    /// An error was raised and the entry stays for the host to look at.
    Kept,
    /// Nothing can happen yet (the engine is busy).
    Stalled,
}

/// Sub-dword reads: the addressed bytes of a register.
fn extract(dword: u32, offset: u32, size: usize) -> u32 {
    let shifted = dword >> ((offset & 3) * 8);
    match size {
        1 => shifted & 0xFF,
        2 => shifted & 0xFFFF,
        _ => shifted,
    }
}

/// Sub-dword writes: `value`'s bytes merged into `old` at the addressed position.
fn merge(old: u32, offset: u32, size: usize, value: u32) -> u32 {
    let shift = (offset & 3) * 8;
    let width: u64 = match size {
        1 => 0xFF,
        2 => 0xFFFF,
        _ => 0xFFFF_FFFF,
    };
    let mask = (width << shift) as u32;
    old & !mask | ((u64::from(value) << shift) as u32 & mask)
}

/// Whether the puller executes `method` itself (the pusher rejects other methods below 0x100).
fn fifo_method(method: u32) -> bool {
    matches!(
        method,
        METHOD_OBJECT
            | METHOD_REF_CNT
            | METHOD_DMA_SEMAPHORE
            | METHOD_SEMAPHORE_OFFSET
            | METHOD_SEMAPHORE_ACQUIRE
            | METHOD_SEMAPHORE_RELEASE
    )
}

/// PFIFO's register block with CACHE1's queue; all of its state.
pub struct Pfifo {
    regs: Vec<u32>,
}

impl Default for Pfifo {
    fn default() -> Self {
        Self::new()
    }
}

impl Pfifo {
    pub fn new() -> Pfifo {
        Pfifo {
            regs: vec![0; REGS],
        }
    }

    pub fn reset(&mut self) {
        self.regs.fill(0);
    }

    /// The storage slot of a register, folding CACHE1's aliased upper half onto the lower.
    fn slot(offset: u32) -> usize {
        let offset = if offset >= CACHE1_METHOD {
            CACHE1_METHOD + ((offset - CACHE1_METHOD) & 0x3FF)
        } else {
            offset
        };
        (offset as usize >> 2) & (REGS - 1)
    }

    fn r(&self, offset: u32) -> u32 {
        self.regs[Self::slot(offset)]
    }

    fn w(&mut self, offset: u32, value: u32) {
        self.regs[Self::slot(offset)] = value;
    }

    fn set_bits(&mut self, offset: u32, bits: u32) {
        self.w(offset, self.r(offset) | bits);
    }

    fn raise(&mut self, bits: u32) {
        self.set_bits(INTR_0, bits);
    }

    /// The interrupt line: an enabled INTR_0 bit is set.
    pub fn pending(&self) -> bool {
        self.r(INTR_0) & self.r(INTR_EN_0) != 0
    }

    /// The channel CACHE1 holds.
    pub fn active_channel(&self) -> u32 {
        self.r(CACHE1_PUSH1) & 0x1F
    }

    fn cache_count(&self) -> u32 {
        (self.r(CACHE1_PUT).wrapping_sub(self.r(CACHE1_GET)) & CACHE_POINTER_MASK) >> 2
    }

    fn cache_full(&self) -> bool {
        self.cache_count() >= CACHE1_ENTRIES
    }

    fn cache_entry(pointer: u32) -> u32 {
        ((pointer >> 2) & (CACHE1_ENTRIES - 1)) * 8
    }

    /// The value a register reads as.
    fn register(&self, offset: u32) -> u32 {
        match offset {
            // No PIO runout: the runout queue is always empty.
            RUNOUT_STATUS => STATUS_EMPTY,
            CACHE0_STATUS => {
                if self.r(CACHE0_PUT) == self.r(CACHE0_GET) {
                    STATUS_EMPTY
                } else {
                    STATUS_FULL
                }
            }
            CACHE1_STATUS => {
                let count = self.cache_count();
                let empty = if count == 0 { STATUS_EMPTY } else { 0 };
                let full = if count >= CACHE1_ENTRIES {
                    STATUS_FULL
                } else {
                    0
                };
                empty | full
            }
            // DMA_SUSPEND_BUSY never reads set: a suspension takes effect at once.
            CACHES => self.r(CACHES) & CACHES_REASSIGN,
            CACHE1_DMA_PUSH => {
                let push = self.r(CACHE1_DMA_PUSH);
                let empty = self.r(CACHE1_DMA_PUT) == self.r(CACHE1_DMA_GET);
                let busy = if self.pusher_ready() {
                    DMA_PUSH_BUSY
                } else {
                    0
                };
                push | busy | if empty { DMA_PUSH_BUFFER_EMPTY } else { 0 }
            }
            CACHE1_PULL0 => {
                let acquiring = self.r(CACHE1_PULL1) & PULL1_ACQUIRE_ACTIVE != 0;
                self.r(CACHE1_PULL0) | if acquiring { PULL0_ACQUIRE_BUSY } else { 0 }
            }
            _ => self.r(offset),
        }
    }

    /// Reads the register block (offsets from BAR0 0x002000).
    pub fn read(&self, offset: u32, size: usize) -> u32 {
        if offset >= BLOCK_SIZE {
            return 0;
        }
        extract(self.register(offset & !3), offset, size)
    }

    /// Writes the register block.
    pub fn write(&mut self, offset: u32, size: usize, value: u32) {
        if offset >= BLOCK_SIZE {
            return;
        }
        let reg = offset & !3;
        // INTR_0 is write-one-to-clear: bytes not written must not clear anything.
        let old = if reg == INTR_0 { 0 } else { self.r(reg) };
        let value = merge(old, offset, size, value);
        match reg {
            INTR_0 => self.w(INTR_0, self.r(INTR_0) & !value),
            INTR_EN_0 => self.w(INTR_EN_0, value & INTR_ALL),
            RUNOUT_STATUS | CACHE0_STATUS | CACHE1_STATUS => {}
            CACHES => self.w(CACHES, value & CACHES_REASSIGN),
            CACHE1_PUT | CACHE1_GET => self.w(reg, value & CACHE_POINTER_MASK),
            CACHE1_DMA_PUT | CACHE1_DMA_GET => self.w(reg, value & !3),
            CACHE1_DMA_PUSH => self.w(reg, value & (DMA_PUSH_ACCESS | DMA_PUSH_SUSPENDED)),
            CACHE1_PULL0 => self.w(
                reg,
                value
                    & (PULL0_ACCESS
                        | PULL0_HASH_FAILED
                        | PULL0_DEVICE_SOFTWARE
                        | PULL0_SEMAPHORE_ERROR),
            ),
            _ => self.w(reg, value),
        }
    }

    /// The PRAMIN offset of a channel's RAMFC slot and the number of dwords in it.
    fn ramfc_slot(&self, channel: u32) -> (usize, usize) {
        let reg = self.r(RAMFC);
        let base = ((reg & 0x1FC) << 8) as usize;
        let (stride, words) = if reg & RAMFC_LARGE != 0 {
            (64, 13)
        } else {
            (32, 8)
        };
        (base + (channel & 0x1F) as usize * stride, words)
    }

    /// A channel's DMA_PUT, DMA_GET and REF: CACHE1's for the active channel, RAMFC's for
    /// the others.
    fn channel_pointer(&self, pramin: &[u8], channel: u32, reg: u32) -> u32 {
        if channel == self.active_channel() {
            return self.r(reg);
        }
        let (slot, _) = self.ramfc_slot(channel);
        let index = RAMFC_LAYOUT.iter().position(|&r| r == reg).unwrap_or(0);
        read_u32(pramin, slot + index * 4)
    }

    /// Reads USER (offsets from BAR0 0x800000): channel c's area is at c * 0x10000 and has
    /// DMA_PUT at 0x40, DMA_GET at 0x44 and REF at 0x48 (repeated in each 8 KiB subchannel
    /// window). The inactive channels' values come from their RAMFC slots.
    pub fn user_read(&self, pramin: &[u8], offset: u32, size: usize) -> u32 {
        let channel = offset >> 16;
        if channel >= CHANNELS {
            return 0;
        }
        let reg = match offset & 0x1FFC {
            USER_DMA_PUT => CACHE1_DMA_PUT,
            USER_DMA_GET => CACHE1_DMA_GET,
            USER_REF => CACHE1_REF,
            _ => return 0,
        };
        extract(self.channel_pointer(pramin, channel, reg), offset, size)
    }

    /// Writes USER. Only DMA_PUT is writable, and only for channels in DMA mode (MODE): the
    /// active channel's goes to CACHE1; another's goes to its RAMFC slot and marks it pending
    /// (the DMA register) so that [`Pfifo::run`] switches to it.
    pub fn user_write(&mut self, pramin: &mut [u8], offset: u32, size: usize, value: u32) {
        let channel = offset >> 16;
        if channel >= CHANNELS
            || offset & 0x1FFC != USER_DMA_PUT
            || self.r(MODE) & 1 << channel == 0
        {
            return;
        }
        let put = merge(
            self.channel_pointer(pramin, channel, CACHE1_DMA_PUT),
            offset,
            size,
            value,
        ) & !3;
        if channel == self.active_channel() {
            self.w(CACHE1_DMA_PUT, put);
            return;
        }
        let (slot, _) = self.ramfc_slot(channel);
        write_u32(pramin, slot, put);
        let get = read_u32(pramin, slot + 4);
        let pending = self.r(DMA) & !(1 << channel);
        self.w(DMA, pending | u32::from(put != get) << channel);
    }

    /// Whether the pusher may read a word: the active channel is in DMA mode, pushing is
    /// enabled and not suspended, and the pushbuffer is not empty.
    fn pusher_ready(&self) -> bool {
        let push = self.r(CACHE1_DMA_PUSH);
        self.r(CACHE1_PUSH0) & 1 != 0
            && self.r(CACHE1_PUSH1) & PUSH1_MODE_DMA != 0
            && push & DMA_PUSH_ACCESS != 0
            && push & DMA_PUSH_SUSPENDED == 0
            && self.r(CACHE1_DMA_PUT) != self.r(CACHE1_DMA_GET)
    }

    /// Whether the puller waits for a semaphore acquire: only memory can release it, so the
    /// board has to let it look again now and then.
    pub fn acquiring(&self) -> bool {
        self.r(CACHE1_PULL0) & PULL0_ACCESS != 0 && self.r(CACHE1_PULL1) & PULL1_ACQUIRE_ACTIVE != 0
    }

    /// Whether `run` could do anything now (without looking at memory or the engine): the
    /// board may skip calling it otherwise.
    pub fn has_work(&self) -> bool {
        let pulling = self.r(CACHE1_PULL0) & PULL0_ACCESS != 0
            && (self.cache_count() != 0 || self.r(CACHE1_PULL1) & PULL1_ACQUIRE_ACTIVE != 0);
        let switching = self.r(CACHES) & CACHES_REASSIGN != 0
            && self.r(DMA) & !(1 << self.active_channel()) != 0;
        pulling || self.pusher_ready() || switching
    }

    /// Runs the pusher, the puller and channel switches for up to `budget` steps (a
    /// pushbuffer word read, a method pulled, a switch) and returns how many were done: less
    /// than `budget` only when nothing more can happen until the guest or the engine acts.
    pub fn run(&mut self, mem: &mut Memory, engine: &mut dyn Engine, budget: u32) -> u32 {
        let mut done = 0;
        while done < budget {
            if !(self.pull(mem, engine) || self.push(mem) || self.switch_channel(mem)) {
                break;
            }
            done += 1;
        }
        done
    }

    fn pusher_error(&mut self, code: u32) {
        let state = self.r(CACHE1_DMA_STATE) & !(7 << STATE_ERROR_SHIFT);
        self.w(CACHE1_DMA_STATE, state | code << STATE_ERROR_SHIFT);
        self.set_bits(CACHE1_DMA_PUSH, DMA_PUSH_SUSPENDED);
        self.raise(INTR_DMA_PUSHER);
    }

    fn cache_push(&mut self, method: u32, data: u32) {
        let put = self.r(CACHE1_PUT);
        let entry = Self::cache_entry(put);
        self.w(CACHE1_METHOD + entry, method);
        self.w(CACHE1_DATA + entry, data);
        self.w(CACHE1_PUT, put.wrapping_add(4) & CACHE_POINTER_MASK);
    }

    /// One pusher step: reads the word at DMA_GET and acts on it. Returns whether anything
    /// happened.
    fn push(&mut self, mem: &Memory) -> bool {
        if !self.pusher_ready() {
            return false;
        }
        let state = self.r(CACHE1_DMA_STATE);
        let count = (state & STATE_COUNT) >> STATE_COUNT_SHIFT;
        if count != 0 && self.cache_full() {
            return false;
        }
        let get = self.r(CACHE1_DMA_GET);
        let pushbuffer = DmaObject::load(mem.pramin, (self.r(CACHE1_DMA_INSTANCE) & 0xFFFF) << 4);
        let bytes = pushbuffer.address(get, 4).and_then(|address| {
            let at = address as usize;
            mem.ram.get(at..at.checked_add(4)?)
        });
        let Some(bytes) = bytes else {
            self.pusher_error(DMA_ERROR_MEM_FAULT);
            return true;
        };
        let mut word = u32::from_le_bytes(bytes.try_into().expect("4 bytes"));
        if self.r(CACHE1_DMA_FETCH) & DMA_FETCH_BIG_ENDIAN != 0 {
            word = word.swap_bytes();
        }
        let next = get.wrapping_add(4);

        if count != 0 {
            // A data word of the current command.
            self.w(CACHE1_DMA_DATA_SHADOW, word);
            let method = state & STATE_METHOD;
            if method < 0x100 && !fifo_method(method) {
                self.pusher_error(DMA_ERROR_INVALID_METHOD);
                return true;
            }
            let non_increasing = state & 1;
            self.cache_push(state & 0xFFFF, word);
            let method = if non_increasing != 0 {
                method
            } else {
                (method + 4) & STATE_METHOD
            };
            let state =
                state & !(STATE_METHOD | STATE_COUNT) | method | (count - 1) << STATE_COUNT_SHIFT;
            self.w(CACHE1_DMA_STATE, state);
            let dcount = self.r(CACHE1_DMA_DCOUNT).wrapping_add(4) & DCOUNT_MASK;
            self.w(CACHE1_DMA_DCOUNT, dcount);
            self.w(CACHE1_DMA_GET, next);
            return true;
        }

        // The first word of a command.
        self.w(CACHE1_DMA_RSVD_SHADOW, word);
        let subroutine = self.r(CACHE1_DMA_SUBROUTINE);
        let target = word & !3;
        if word & 0xE000_0003 == 0x2000_0000 {
            // Old jump: a 29-bit target.
            self.w(CACHE1_DMA_GET_JMP_SHADOW, next);
            self.w(CACHE1_DMA_GET, word & 0x1FFF_FFFC);
        } else if word & 3 == 1 {
            self.w(CACHE1_DMA_GET_JMP_SHADOW, next);
            self.w(CACHE1_DMA_GET, target);
        } else if word & 3 == 2 {
            if subroutine & SUBROUTINE_ACTIVE != 0 {
                self.pusher_error(DMA_ERROR_CALL_SUBR_ACTIVE);
                return true;
            }
            self.w(CACHE1_DMA_SUBROUTINE, next & !3 | SUBROUTINE_ACTIVE);
            self.w(CACHE1_DMA_GET, target);
        } else if word == 0x0002_0000 {
            if subroutine & SUBROUTINE_ACTIVE == 0 {
                self.pusher_error(DMA_ERROR_RET_SUBR_INACTIVE);
                return true;
            }
            self.w(CACHE1_DMA_SUBROUTINE, subroutine & !SUBROUTINE_ACTIVE);
            self.w(CACHE1_DMA_GET, subroutine & !3);
        } else if word & 0xE003_0003 == 0 || word & 0xE003_0003 == 0x4000_0000 {
            // Methods: the state takes the header's method, subchannel and count; bit 0 says
            // whether they are non-increasing.
            let non_increasing = word >> 30 & 1;
            self.w(CACHE1_DMA_STATE, word & 0x1FFF_FFFC | non_increasing);
            self.w(CACHE1_DMA_DCOUNT, 0);
            self.w(CACHE1_DMA_GET, next);
        } else {
            self.pusher_error(DMA_ERROR_INVALID_COMMAND);
        }
        true
    }

    /// Stops the puller with CACHE_ERROR and the given PULL0 flags.
    fn cache_error(&mut self, flags: u32) {
        let pull0 = self.r(CACHE1_PULL0) & !PULL0_ACCESS;
        self.w(CACHE1_PULL0, pull0 | flags);
        self.raise(INTR_CACHE_ERROR);
    }

    /// Stops the puller with a SEMAPHORE error of the given PULL0 code.
    fn semaphore_error(&mut self, code: u32) {
        let pull0 = self.r(CACHE1_PULL0) & !(PULL0_ACCESS | PULL0_SEMAPHORE_ERROR);
        self.w(CACHE1_PULL0, pull0 | code);
        self.raise(INTR_SEMAPHORE);
    }

    /// Looks `handle` up in RAMHT for the active channel, recording the result in CACHE1_HASH;
    /// a miss raises CACHE_ERROR with HASH_FAILED.
    fn lookup(&mut self, pramin: &[u8], handle: u32) -> Option<super::ramht::Entry> {
        let table = Ramht::from_register(self.r(RAMHT));
        let found = table.lookup(pramin, self.active_channel(), handle);
        match found {
            Some(entry) => self.w(CACHE1_HASH, (entry.instance >> 4) & 0xFFFF | HASH_VALID),
            None => {
                self.w(CACHE1_HASH, 0);
                self.cache_error(PULL0_HASH_FAILED);
            }
        }
        found
    }

    fn semaphore_address(&self) -> usize {
        (self.r(CACHE1_SEMAPHORE) & !3) as usize
    }

    fn big_endian(&self) -> bool {
        self.r(CACHE1_DMA_FETCH) & DMA_FETCH_BIG_ENDIAN != 0
    }

    fn read_semaphore(&self, ram: &[u8]) -> u32 {
        let value = read_u32(ram, self.semaphore_address());
        if self.big_endian() {
            value.swap_bytes()
        } else {
            value
        }
    }

    /// One puller step. Returns whether anything happened.
    fn pull(&mut self, mem: &mut Memory, engine: &mut dyn Engine) -> bool {
        if self.r(CACHE1_PULL0) & PULL0_ACCESS == 0 {
            return false;
        }
        if self.r(CACHE1_PULL1) & PULL1_ACQUIRE_ACTIVE != 0 {
            // A semaphore acquire holds the puller until memory has the value.
            if self.read_semaphore(mem.ram) != self.r(CACHE1_ACQUIRE_VALUE) {
                return false;
            }
            let pull1 = self.r(CACHE1_PULL1) & !PULL1_ACQUIRE_ACTIVE;
            self.w(CACHE1_PULL1, pull1);
            return true;
        }
        if self.cache_count() == 0 {
            return false;
        }
        let get = self.r(CACHE1_GET);
        let entry = Self::cache_entry(get);
        let method_word = self.r(CACHE1_METHOD + entry);
        let data = self.r(CACHE1_DATA + entry);
        let method = method_word & STATE_METHOD;
        let subchannel = method_word >> 13 & 7;
        let outcome = match method {
            METHOD_OBJECT => self.bind(mem, engine, subchannel, data),
            METHOD_REF_CNT => {
                // The reference counter is written once earlier work is done.
                if engine.busy() {
                    Pulled::Stalled
                } else {
                    self.w(CACHE1_REF, data);
                    Pulled::Consumed
                }
            }
            METHOD_DMA_SEMAPHORE => match self.lookup(mem.pramin, data) {
                None => Pulled::Kept,
                Some(found) => {
                    let object = DmaObject::load(mem.pramin, found.instance);
                    if matches!(
                        object.class,
                        dma::CLASS_FROM_MEMORY | dma::CLASS_TO_MEMORY | dma::CLASS_IN_MEMORY
                    ) {
                        let offset = self.r(CACHE1_SEMAPHORE) & 0xFFC;
                        let page = object.base & 0xFFFF_F000;
                        self.w(CACHE1_SEMAPHORE, page | offset | SEMAPHORE_VALID);
                    } else {
                        self.semaphore_error(PULL0_SEMAPHORE_INVALID_OPERAND);
                    }
                    Pulled::Consumed
                }
            },
            METHOD_SEMAPHORE_OFFSET => {
                if data & !0xFFC != 0 {
                    self.semaphore_error(PULL0_SEMAPHORE_INVALID_OPERAND);
                } else {
                    let semaphore = self.r(CACHE1_SEMAPHORE) & !0xFFC;
                    self.w(CACHE1_SEMAPHORE, semaphore | data);
                }
                Pulled::Consumed
            }
            METHOD_SEMAPHORE_ACQUIRE | METHOD_SEMAPHORE_RELEASE => {
                if self.r(CACHE1_SEMAPHORE) & SEMAPHORE_VALID == 0 {
                    self.semaphore_error(PULL0_SEMAPHORE_INVALID_STATE);
                } else if method == METHOD_SEMAPHORE_RELEASE {
                    let value = if self.big_endian() {
                        data.swap_bytes()
                    } else {
                        data
                    };
                    write_u32(mem.ram, self.semaphore_address(), value);
                } else {
                    self.w(CACHE1_ACQUIRE_VALUE, data);
                    if self.read_semaphore(mem.ram) != data {
                        self.set_bits(CACHE1_PULL1, PULL1_ACQUIRE_ACTIVE);
                    }
                }
                Pulled::Consumed
            }
            _ if method < 0x100 => {
                // Only reachable through guest writes to CACHE1: the pusher filters these.
                self.cache_error(0);
                Pulled::Kept
            }
            _ => self.forward(mem, engine, subchannel, method, data),
        };
        match outcome {
            Pulled::Stalled => false,
            Pulled::Kept => true,
            Pulled::Consumed => {
                self.w(CACHE1_GET, get.wrapping_add(4) & CACHE_POINTER_MASK);
                true
            }
        }
    }

    /// Method 0: binds the object `handle` names to a subchannel.
    fn bind(
        &mut self,
        mem: &mut Memory,
        engine: &mut dyn Engine,
        subchannel: u32,
        handle: u32,
    ) -> Pulled {
        let Some(found) = self.lookup(mem.pramin, handle) else {
            return Pulled::Kept;
        };
        let shift = subchannel * 4;
        let engines = self.r(CACHE1_ENGINE) & !(0xF << shift);
        self.w(CACHE1_ENGINE, engines | found.engine << shift);
        if found.engine != ENGINE_GRAPHICS {
            // The software engine (or one the NV2A lacks): the host handles it.
            self.cache_error(PULL0_DEVICE_SOFTWARE);
            return Pulled::Kept;
        }
        if engine.busy() {
            return Pulled::Stalled;
        }
        self.set_engine(found.engine);
        engine.bind(mem, self.active_channel(), subchannel, found.instance);
        Pulled::Consumed
    }

    fn set_engine(&mut self, id: u32) {
        let pull1 = self.r(CACHE1_PULL1) & !0xF;
        self.w(CACHE1_PULL1, pull1 | id);
    }

    /// Methods 0x100 and up: handed to the engine bound to the subchannel.
    fn forward(
        &mut self,
        mem: &mut Memory,
        engine: &mut dyn Engine,
        subchannel: u32,
        method: u32,
        data: u32,
    ) -> Pulled {
        let id = self.r(CACHE1_ENGINE) >> (subchannel * 4) & 0xF;
        if id != ENGINE_GRAPHICS {
            self.cache_error(PULL0_DEVICE_SOFTWARE);
            return Pulled::Kept;
        }
        let param = if (0x180..0x200).contains(&method) {
            match self.lookup(mem.pramin, data) {
                Some(found) => found.instance,
                None => return Pulled::Kept,
            }
        } else {
            data
        };
        if engine.busy() {
            return Pulled::Stalled;
        }
        self.set_engine(id);
        let call = Method {
            channel: self.active_channel(),
            subchannel,
            method,
            param,
        };
        match engine.method(mem, call) {
            Ok(()) => Pulled::Consumed,
            Err(EngineError::NoObject) => {
                self.cache_error(PULL0_DEVICE_SOFTWARE);
                Pulled::Kept
            }
            // The engine raises its own interrupt and stops taking methods (it reports busy)
            // until its handler is done; the puller is not at fault.
            Err(EngineError::InvalidMethod | EngineError::InvalidData) => Pulled::Consumed,
        }
    }

    /// Saves CACHE1's channel state into the active channel's RAMFC slot.
    fn save_context(&mut self, pramin: &mut [u8]) {
        let (slot, words) = self.ramfc_slot(self.active_channel());
        for (i, &reg) in RAMFC_LAYOUT.iter().enumerate().take(words) {
            let value = if reg == CACHE1_DMA_INSTANCE {
                self.r(reg) & 0xFFFF | (self.r(CACHE1_DMA_DCOUNT) & 0xFFFF) << 16
            } else {
                self.r(reg)
            };
            write_u32(pramin, slot + i * 4, value);
        }
    }

    /// Loads a channel's state from its RAMFC slot into CACHE1.
    fn load_context(&mut self, pramin: &[u8], channel: u32) {
        let mode = if self.r(MODE) & 1 << channel != 0 {
            PUSH1_MODE_DMA
        } else {
            0
        };
        let push1 = self.r(CACHE1_PUSH1) & !(0x1F | PUSH1_MODE_DMA);
        self.w(CACHE1_PUSH1, push1 | channel | mode);
        let (slot, words) = self.ramfc_slot(channel);
        for (i, &reg) in RAMFC_LAYOUT.iter().enumerate().take(words) {
            let value = read_u32(pramin, slot + i * 4);
            match reg {
                CACHE1_DMA_INSTANCE => {
                    self.w(reg, value & 0xFFFF);
                    self.w(CACHE1_DMA_DCOUNT, value >> 16 & DCOUNT_MASK);
                }
                CACHE1_DMA_PUT | CACHE1_DMA_GET => self.w(reg, value & !3),
                _ => self.w(reg, value),
            }
        }
    }

    /// Switches CACHE1 to the next pending channel when the active one is idle. Returns
    /// whether it did.
    fn switch_channel(&mut self, mem: &mut Memory) -> bool {
        let active = self.active_channel();
        let others = self.r(DMA) & !(1 << active);
        if self.r(CACHES) & CACHES_REASSIGN == 0 || others == 0 {
            return false;
        }
        let pushing = self.r(CACHE1_PUSH1) & PUSH1_MODE_DMA != 0
            && self.r(CACHE1_DMA_PUT) != self.r(CACHE1_DMA_GET);
        let acquiring = self.r(CACHE1_PULL1) & PULL1_ACQUIRE_ACTIVE != 0;
        if self.cache_count() != 0 || pushing || acquiring {
            return false;
        }
        // Round robin from the channel after the active one.
        let next = (1..=CHANNELS)
            .map(|k| (active + k) % CHANNELS)
            .find(|&c| others & 1 << c != 0)
            .unwrap_or(active);
        self.save_context(mem.pramin);
        self.load_context(mem.pramin, next);
        self.w(DMA, others & !(1 << next));
        true
    }
}

impl Snapshot for Pfifo {
    fn state(&mut self, s: &mut State) {
        s.u32s(&mut self.regs);
    }
}

#[cfg(test)]
mod tests;
