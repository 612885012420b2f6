//! PGRAPH's register block (BAR0 0x400000-0x401FFF). Offsets and fields are xemu's
//! nv2a_regs.h for the NV2A; NSTATUS and NSOURCE bits follow NVIDIA's dev_graphics names as
//! nxdk's outer.h lists them.
//!
//! - 0x100 INTR: pending interrupts, write 1 to clear. 0x140 INTR_EN enables them.
//! - 0x104 NSTATUS, 0x108 NSOURCE (read-only): why ERROR was raised. NSOURCE clears when
//!   ERROR is acknowledged.
//! - 0x144 CTX_CONTROL, 0x148 CTX_USER (channel in bits 24-28, subchannel in 13-15),
//!   0x14C-0x15C CTX_SWITCH1-5 (the current object's four PRAMIN words and its instance),
//!   0x160/0x180/0x1A0/0x1C0/0x1E0 CTX_CACHE1-5 (the same per subchannel).
//! - 0x700 STATUS: 0, idle (every request completes within its method).
//! - 0x704 TRAPPED_ADDR (method 0-12, subchannel 16-18, channel 20-24), 0x708 TRAPPED_DATA.
//! - 0x710 SURFACE: the flip counters (write 20-22, read 24-26, modulo 28-30).
//! - 0x71C INCREMENT: writing bit 1 advances the read counter.
//! - 0x720 FIFO: bit 0 lets the FIFO deliver methods.
//! - 0x780/0x784/0x788 CHANNEL_CTX_TABLE/POINTER/TRIGGER: kept; the trigger reads 0.
//!
//! Everything else reads back what was written.

use super::Pgraph;

pub const BLOCK_SIZE: u32 = 0x2000;
pub const WORDS: usize = (BLOCK_SIZE / 4) as usize;

pub const INTR: u32 = 0x100;
pub const NSTATUS: u32 = 0x104;
pub const NSOURCE: u32 = 0x108;
pub const INTR_EN: u32 = 0x140;
pub const CTX_CONTROL: u32 = 0x144;
pub const CTX_USER: u32 = 0x148;
pub const CTX_SWITCH1: u32 = 0x14C;
pub const CTX_CACHE1: u32 = 0x160;
pub const STATUS: u32 = 0x700;
pub const TRAPPED_ADDR: u32 = 0x704;
pub const TRAPPED_DATA_LOW: u32 = 0x708;
pub const SURFACE: u32 = 0x710;
pub const INCREMENT: u32 = 0x71C;
pub const FIFO: u32 = 0x720;
pub const CHANNEL_CTX_TABLE: u32 = 0x780;
pub const CHANNEL_CTX_POINTER: u32 = 0x784;
pub const CHANNEL_CTX_TRIGGER: u32 = 0x788;

pub const INTR_NOTIFY: u32 = 1 << 0;
pub const INTR_MISSING_HW: u32 = 1 << 4;
pub const INTR_CONTEXT_SWITCH: u32 = 1 << 12;
pub const INTR_BUFFER_NOTIFY: u32 = 1 << 16;
pub const INTR_ERROR: u32 = 1 << 20;
pub const INTR_SINGLE_STEP: u32 = 1 << 24;

/// NSTATUS at its NV10-family positions (nouveau `NV10_PGRAPH_NSTATUS_*`).
pub const NSTATUS_INVALID_STATE: u32 = 1 << 24;
pub const NSTATUS_BAD_ARGUMENT: u32 = 1 << 25;
pub const NSTATUS_PROTECTION_FAULT: u32 = 1 << 26;
/// The last method of the Kelvin class.
pub const KELVIN_LAST_METHOD: u32 = 0x1EA4;

pub const NSOURCE_NOTIFICATION: u32 = 1 << 0;
pub const NSOURCE_DATA_ERROR: u32 = 1 << 1;
pub const NSOURCE_LIMIT_COLOR: u32 = 1 << 4;
pub const NSOURCE_LIMIT_ZETA: u32 = 1 << 5;
pub const NSOURCE_ILLEGAL_MTHD: u32 = 1 << 6;
pub const NSOURCE_DMA_R_PROTECTION: u32 = 1 << 7;
pub const NSOURCE_DMA_W_PROTECTION: u32 = 1 << 8;
pub const NSOURCE_FORMAT_EXCEPTION: u32 = 1 << 9;
pub const NSOURCE_STATE_INVALID: u32 = 1 << 11;
pub const NSOURCE_DOUBLE_NOTIFY: u32 = 1 << 12;

pub const FIFO_ACCESS: u32 = 1 << 0;
pub const INCREMENT_READ_3D: u32 = 1 << 1;
pub const CTX_CONTROL_CHID_VALID: u32 = 1 << 16;

/// The flip counters' fields in SURFACE.
const FLIP_WRITE_SHIFT: u32 = 20;
const FLIP_READ_SHIFT: u32 = 24;
const FLIP_MODULO_SHIFT: u32 = 28;

fn index(offset: u32) -> usize {
    ((offset & (BLOCK_SIZE - 1)) / 4) as usize
}

impl Pgraph {
    pub(super) fn reg(&self, offset: u32) -> u32 {
        self.regs.get(index(offset)).copied().unwrap_or(0)
    }

    pub(super) fn set_reg(&mut self, offset: u32, value: u32) {
        if let Some(r) = self.regs.get_mut(index(offset)) {
            *r = value;
        }
    }

    /// Reads `size` bytes (1, 2 or 4) at `offset` in the block.
    pub fn read(&self, offset: u32, size: usize) -> u32 {
        (0..size.clamp(1, 4) as u32).fold(0, |value, k| {
            let at = offset.wrapping_add(k) & (BLOCK_SIZE - 1);
            let word = match at & !3 {
                STATUS | CHANNEL_CTX_TRIGGER => 0,
                aligned => self.reg(aligned),
            };
            value | (word >> (8 * (at & 3)) & 0xFF) << (8 * k)
        })
    }

    /// Writes `size` bytes (1, 2 or 4) at `offset` in the block.
    pub fn write(&mut self, offset: u32, size: usize, value: u32) {
        for k in 0..size.clamp(1, 4) as u32 {
            let at = offset.wrapping_add(k) & (BLOCK_SIZE - 1);
            let shift = 8 * (at & 3);
            let byte = (value >> (8 * k) & 0xFF) << shift;
            self.write_masked(at & !3, byte, 0xFF << shift);
        }
    }

    /// Writes the `mask` bits of a register.
    fn write_masked(&mut self, offset: u32, bits: u32, mask: u32) {
        let bits = bits & mask;
        match offset {
            INTR => {
                let intr = self.reg(INTR) & !bits;
                self.set_reg(INTR, intr);
                if intr & INTR_ERROR == 0 {
                    self.set_reg(NSOURCE, 0);
                }
            }
            NSOURCE | STATUS | CHANNEL_CTX_TRIGGER => {}
            INCREMENT => {
                if bits & INCREMENT_READ_3D != 0 {
                    let (read, _, modulo) = self.flip_counters();
                    self.set_flip_field(FLIP_READ_SHIFT, advance(read, modulo));
                }
            }
            _ => {
                let old = self.reg(offset);
                self.set_reg(offset, old & !mask | bits);
            }
        }
    }

    /// Whether an enabled interrupt is pending.
    pub fn pending(&self) -> bool {
        self.reg(INTR) & self.reg(INTR_EN) != 0
    }

    /// The flip counters: (read, write, modulo).
    pub fn flip_counters(&self) -> (u32, u32, u32) {
        let s = self.reg(SURFACE);
        (
            s >> FLIP_READ_SHIFT & 7,
            s >> FLIP_WRITE_SHIFT & 7,
            s >> FLIP_MODULO_SHIFT & 7,
        )
    }

    fn set_flip_field(&mut self, shift: u32, value: u32) {
        let s = self.reg(SURFACE) & !(7 << shift) | (value & 7) << shift;
        self.set_reg(SURFACE, s);
    }

    /// The flip methods (KELVIN and IMAGE_BLIT 0x120-0x130); false for another method.
    pub(super) fn flip_method(&mut self, method: u32, param: u32) -> bool {
        match method {
            0x120 => self.set_flip_field(FLIP_READ_SHIFT, param),
            0x124 => self.set_flip_field(FLIP_WRITE_SHIFT, param),
            0x128 => self.set_flip_field(FLIP_MODULO_SHIFT, param),
            0x12C => {
                let (_, write, modulo) = self.flip_counters();
                self.set_flip_field(FLIP_WRITE_SHIFT, advance(write, modulo));
            }
            // FLIP_STALL: the FIFO waits while the read counter equals the write counter
            // (xemu's pfifo_stall_for_flip).
            0x130 => self.flip_stall = true,
            _ => return false,
        }
        true
    }

    /// Whether a flip stall still holds the FIFO.
    pub(super) fn flip_stalled(&self) -> bool {
        let (read, write, _) = self.flip_counters();
        self.flip_stall && read == write
    }
}

/// A flip counter's next value: it counts modulo MODULO (a modulo of 0 keeps it at 0).
fn advance(value: u32, modulo: u32) -> u32 {
    if modulo == 0 { 0 } else { (value + 1) % modulo }
}
