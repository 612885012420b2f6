//! MEMORY_TO_MEMORY_FORMAT (class 0x39): copies lines of bytes from one DMA window to
//! another (envytools rnndb nv_m2mf.xml, NV3_M2MF):
//!
//! - 0x184 DMA_BUFFER_IN, 0x188 DMA_BUFFER_OUT: the two windows;
//! - 0x30C OFFSET_IN, 0x310 OFFSET_OUT: where the first line starts in each;
//! - 0x314 PITCH_IN, 0x318 PITCH_OUT: signed distances between lines;
//! - 0x31C LINE_LENGTH_IN (bytes), 0x320 LINE_COUNT;
//! - 0x324 FORMAT: input increment in bits 0-7, output increment in bits 8-15 (1, 2 or 4);
//! - 0x328 BUF_NOTIFY: starts the copy; when it is done the M2MF notifier (16 bytes at 0x10
//!   in the notify window, envytools docs/hw/graph/intro.rst) is written, and a parameter of
//!   1 (WRITE_THEN_AWAKEN) also raises the BUFFER_NOTIFY interrupt.

use crate::machine::state::State;
use crate::nv2a::dma::DmaObject;

use super::soft::CopyJob;

#[derive(Clone, Debug)]
pub struct M2mf {
    pub dma_in_instance: u32,
    pub dma_out_instance: u32,
    pub dma_in: DmaObject,
    pub dma_out: DmaObject,
    pub offset_in: u32,
    pub offset_out: u32,
    pub pitch_in: u32,
    pub pitch_out: u32,
    pub line_length: u32,
    pub line_count: u32,
    pub format: u32,
}

impl Default for M2mf {
    fn default() -> M2mf {
        M2mf {
            dma_in_instance: 0,
            dma_out_instance: 0,
            dma_in: DmaObject::default(),
            dma_out: DmaObject::default(),
            offset_in: 0,
            offset_out: 0,
            pitch_in: 0,
            pitch_out: 0,
            line_length: 0,
            line_count: 0,
            format: 0x101,
        }
    }
}

/// The method that starts a transfer.
pub const BUF_NOTIFY: u32 = 0x328;

fn increment(raw: u32) -> Option<u32> {
    matches!(raw, 1 | 2 | 4).then_some(raw)
}

impl M2mf {
    /// Stores a state method; false for one the class does not define (BUF_NOTIFY included,
    /// which the engine handles).
    pub fn method(&mut self, method: u32, param: u32, dma: impl Fn(u32) -> DmaObject) -> bool {
        match method {
            0x184 => {
                self.dma_in_instance = param;
                self.dma_in = dma(param);
            }
            0x188 => {
                self.dma_out_instance = param;
                self.dma_out = dma(param);
            }
            0x30C => self.offset_in = param,
            0x310 => self.offset_out = param,
            0x314 => self.pitch_in = param,
            0x318 => self.pitch_out = param,
            0x31C => self.line_length = param,
            0x320 => self.line_count = param,
            0x324 => self.format = param,
            _ => return false,
        }
        true
    }

    /// The copy the state describes; None when FORMAT holds an increment other than 1, 2, 4.
    pub fn job(&self) -> Option<CopyJob> {
        Some(CopyJob {
            src: self.dma_in,
            dst: self.dma_out,
            src_offset: self.offset_in,
            dst_offset: self.offset_out,
            src_pitch: self.pitch_in as i32,
            dst_pitch: self.pitch_out as i32,
            line_length: self.line_length,
            line_count: self.line_count,
            src_step: increment(self.format & 0xFF)?,
            dst_step: increment(self.format >> 8 & 0xFF)?,
        })
    }

    pub fn state(&mut self, s: &mut State) {
        s.u32(&mut self.dma_in_instance);
        s.u32(&mut self.dma_out_instance);
        super::dma_state(s, &mut self.dma_in);
        super::dma_state(s, &mut self.dma_out);
        s.u32(&mut self.offset_in);
        s.u32(&mut self.offset_out);
        s.u32(&mut self.pitch_in);
        s.u32(&mut self.pitch_out);
        s.u32(&mut self.line_length);
        s.u32(&mut self.line_count);
        s.u32(&mut self.format);
    }
}
