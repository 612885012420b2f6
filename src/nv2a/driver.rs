//! Drives the NV2A from the host, as a driver on the console would: register sequences go
//! through BAR0 (the boot ROM's [`Op`] lists: mode set and channel set-up, as pbkit does it),
//! methods go into a pushbuffer in guest RAM, and the channel's DMA_PUT sends them. Tools
//! (`oxbox nv2a-golden`) and tests use it to exercise the GPU without an x86 program.

use super::Nv2a;
use crate::bootrom::nv2a::{
    self as rom, Op, PUSHBUFFER, PUSHBUFFER_SIZE, USER_DMA_GET, USER_DMA_PUT,
};

/// An NV2A with its own RAM, channel 0 set up in DMA mode on the boot ROM's pushbuffer.
pub struct Driver {
    pub ram: Vec<u8>,
    pub gpu: Nv2a,
    /// Where the next pushbuffer word goes, as an offset in the pushbuffer.
    put: u32,
}

impl Driver {
    /// A console with `ram_mib` of RAM, 640x480 X8R8G8B8 scanning out of the boot ROM's
    /// framebuffer, and the channel ready.
    pub fn new(ram_mib: u32) -> Driver {
        let mut driver = Driver {
            ram: vec![0; (ram_mib as usize) << 20],
            gpu: Nv2a::new(ram_mib << 20),
            put: 0,
        };
        driver.apply(&rom::mode_set(ram_mib));
        driver.apply(&rom::pfifo_setup(ram_mib));
        driver
    }

    /// Performs register writes in BAR0.
    pub fn apply(&mut self, ops: &[Op]) {
        for &op in ops {
            match op {
                Op::Write32(at, value) => self.write(at, value),
                Op::Write8(at, value) => self.gpu.write(&mut self.ram, 0, at, 1, u32::from(value)),
                Op::Fill(at, value, count) => {
                    for k in 0..count {
                        self.write(at + 4 * k, value);
                    }
                }
            }
        }
    }

    /// A dword write in BAR0.
    pub fn write(&mut self, offset: u32, value: u32) {
        self.gpu.write(&mut self.ram, 0, offset, 4, value);
    }

    /// A dword read in BAR0.
    pub fn read(&mut self, offset: u32) -> u32 {
        self.gpu.read(0, offset, 4)
    }

    /// Queues `params.len()` increasing methods from `method` on `subchannel` (not sent until
    /// [`Driver::kick`]).
    pub fn push(&mut self, subchannel: u32, method: u32, params: &[u32]) {
        // Commands carry at most 2047 parameters; longer runs are split.
        for (k, chunk) in params.chunks(2047).enumerate() {
            let words = 1 + chunk.len() as u32;
            if 4 * (self.put + words + 1) > PUSHBUFFER_SIZE {
                self.wrap();
            }
            let first = method + 4 * 2047 * k as u32;
            self.word(rom::method_header(subchannel, first, chunk.len() as u32));
            for &param in chunk {
                self.word(param);
            }
        }
    }

    /// Sends what was queued and lets the GPU run it; true if the FIFO caught up.
    pub fn kick(&mut self) -> bool {
        self.write(USER_DMA_PUT, 4 * self.put);
        self.read(USER_DMA_GET) == 4 * self.put
    }

    fn word(&mut self, value: u32) {
        let at = (PUSHBUFFER + 4 * self.put) as usize;
        if let Some(bytes) = self.ram.get_mut(at..at + 4) {
            bytes.copy_from_slice(&value.to_le_bytes());
        }
        self.put += 1;
    }

    /// Ends the queued words with a jump back to the pushbuffer's start and sends them all.
    fn wrap(&mut self) {
        // Send the queue first: with PUT back at 0 and GET still there, the FIFO would see
        // nothing to do.
        self.kick();
        self.word(0x2000_0000); // old-style jump to offset 0
        self.put = 0;
        self.kick();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootrom::nv2a::*;

    #[test]
    fn a_kelvin_clear_reaches_the_framebuffer_through_the_fifo() {
        let mut d = Driver::new(64);
        d.push(SUB_3D, SET_OBJECT, &[KELVIN.handle]);
        d.push(SUB_3D, NV097_SET_CONTEXT_DMA_COLOR, &[DMA_RAM.handle]);
        d.push(
            SUB_3D,
            NV097_SET_SURFACE_CLIP_HORIZONTAL,
            &[640 << 16, 480 << 16],
        );
        d.push(SUB_3D, 0x0208, &[SURFACE_FORMAT, PITCH, FRAMEBUFFER]);
        d.push(
            SUB_3D,
            NV097_SET_CLEAR_RECT_HORIZONTAL,
            &[639 << 16, 479 << 16],
        );
        d.push(SUB_3D, NV097_SET_COLOR_CLEAR_VALUE, &[0x0012_3456]);
        d.push(SUB_3D, NV097_CLEAR_SURFACE, &[CLEAR_COLOR]);
        assert!(d.kick());
        let at = (FRAMEBUFFER + 4 * (640 * 479 + 639)) as usize;
        let pixel = u32::from_le_bytes(d.ram[at..at + 4].try_into().unwrap());
        assert_eq!(pixel & 0x00FF_FFFF, 0x0012_3456);
        let picture = d.gpu.picture(&d.ram).expect("the mode is set");
        assert_eq!((picture.width, picture.height), (640, 480));
    }

    #[test]
    fn a_long_stream_wraps_the_pushbuffer() {
        let mut d = Driver::new(64);
        d.push(SUB_3D, SET_OBJECT, &[KELVIN.handle]);
        for value in 0..PUSHBUFFER_SIZE / 4 {
            d.push(SUB_3D, NV097_SET_COLOR_CLEAR_VALUE, &[value]);
        }
        assert!(d.kick());
        assert_eq!(
            d.gpu.pgraph().kelvin_param(NV097_SET_COLOR_CLEAR_VALUE),
            PUSHBUFFER_SIZE / 4 - 1
        );
    }
}
