//! Drives the NV2A from the host, as a driver on the console would: register sequences go
//! through BAR0 (the boot ROM's [`Op`] lists: mode set and channel set-up, as pbkit does it),
//! methods go into a pushbuffer in guest RAM, and the channel's DMA_PUT sends them. Tools
//! (`oxbox nv2a-golden`) and tests use it to exercise the GPU without an x86 program.

use super::Nv2a;
use crate::bootrom::nv2a::{
    self as rom, Object, Op, PRAMIN, PUSHBUFFER, PUSHBUFFER_SIZE, RAMHT, USER_DMA_GET, USER_DMA_PUT,
};

/// Where the objects a tool adds go in PRAMIN (byte offset), after the boot ROM's tables and
/// objects; each takes 16 bytes.
const EXTRA_OBJECTS: u32 = 0x1_3000;
/// The end of the space for them (the RAMHT entries they need run out long before).
const EXTRA_OBJECTS_END: u32 = 0x2_0000;

/// An NV2A with its own RAM, channel 0 set up in DMA mode on the boot ROM's pushbuffer.
pub struct Driver {
    pub ram: Vec<u8>,
    pub gpu: Nv2a,
    /// Where the next pushbuffer word goes, as an offset in the pushbuffer.
    put: u32,
    /// The next free object instance (16-byte units of PRAMIN).
    next_instance: u32,
}

impl Driver {
    /// A console with `ram_mib` of RAM, 640x480 X8R8G8B8 scanning out of the boot ROM's
    /// framebuffer, and the channel ready.
    pub fn new(ram_mib: u32) -> Driver {
        let mut driver = Driver {
            ram: vec![0; (ram_mib as usize) << 20],
            gpu: Nv2a::new(ram_mib << 20),
            put: 0,
            next_instance: EXTRA_OBJECTS >> 4,
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

    /// Adds a DMA object over `limit + 1` bytes of RAM from `base`, reachable from channel 0 as
    /// `handle` (pbkit's `pb_create_dma_ctx` and `pb_bind_channel`).
    pub fn create_dma(&mut self, handle: u32, base: u32, limit: u32) -> Object {
        let object = self.new_object(handle);
        self.apply(&rom::dma_object(object.instance, base, limit));
        self.apply(&rom::ramht_entry(object, false));
        object
    }

    /// Adds a graphics object of `class` (the 2D context objects, the NULL object 0x30, a
    /// second KELVIN...), reachable from channel 0 as `handle` (pbkit's `pb_create_gr_ctx`).
    pub fn create_graphics(&mut self, handle: u32, class: u32) -> Object {
        let object = self.new_object(handle);
        self.apply(&[rom::graphics_object(object.instance, class)]);
        self.apply(&rom::ramht_entry(object, true));
        object
    }

    /// Points an existing DMA object at another window (the test programs'
    /// `pb_set_dma_address`). PGRAPH reads a DMA object when a method names it, so the new
    /// window applies from the next such method.
    pub fn set_dma_window(&mut self, object: Object, base: u32, limit: u32) {
        self.apply(&rom::dma_object(object.instance, base, limit));
    }

    /// Reserves an instance for `handle` after checking that its RAMHT slot is free (handles
    /// below 512 hash to themselves in channel 0, so distinct handles never collide).
    fn new_object(&mut self, handle: u32) -> Object {
        assert!(
            handle < 512,
            "handle {handle:#x}: only handles below 512 are supported"
        );
        let slot = PRAMIN + RAMHT + 8 * rom::ramht_hash(handle, 0);
        assert_eq!(self.read(slot + 4), 0, "handle {handle:#x} is taken");
        assert!(
            (self.next_instance + 1) << 4 <= EXTRA_OBJECTS_END,
            "no room for more objects"
        );
        let object = Object {
            handle,
            instance: self.next_instance,
        };
        self.next_instance += 1;
        object
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
    fn added_objects_are_found_by_handle_and_dma_windows_move() {
        let mut d = Driver::new(64);
        let window = d.create_dma(0x20, 0x0100_0000, 0xFFF);
        let clip = d.create_graphics(0x21, 0x19);
        assert_ne!(window.instance, clip.instance);
        d.push(SUB_3D, SET_OBJECT, &[KELVIN.handle]);
        d.push(SUB_3D, NV097_SET_CONTEXT_DMA_COLOR, &[window.handle]);
        d.push(5, SET_OBJECT, &[clip.handle]);
        assert!(d.kick());
        assert_eq!(
            d.gpu.pgraph().binding(0, 5),
            Some((clip.instance << 4, 0x19))
        );
        let surface = d.gpu.pgraph().color_surface();
        assert_eq!((surface.dma.base, surface.dma.limit), (0x0100_0000, 0xFFF));
        d.set_dma_window(window, 0x0200_0000, 0x1FFF);
        d.push(SUB_3D, NV097_SET_CONTEXT_DMA_COLOR, &[window.handle]);
        assert!(d.kick());
        let surface = d.gpu.pgraph().color_surface();
        assert_eq!((surface.dma.base, surface.dma.limit), (0x0200_0000, 0x1FFF));
    }

    #[test]
    #[should_panic(expected = "is taken")]
    fn a_handle_can_be_added_once() {
        let mut d = Driver::new(64);
        d.create_graphics(0x21, 0x19);
        d.create_graphics(0x21, 0x12);
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
