//! The stack: pushes and pops through SS with the stack-address size of its descriptor.

use super::Cpu;
use super::bus::Bus;
use super::fault::Result;
use super::state::{Seg, reg};

impl Cpu {
    /// ESP masked to the stack-address size (SP for a 16-bit stack segment).
    fn stack_mask(&self) -> u32 {
        if self.seg[Seg::Ss as usize].big() {
            u32::MAX
        } else {
            0xFFFF
        }
    }

    /// The stack pointer `delta` bytes from the current one, keeping the upper half of ESP
    /// when the stack is 16-bit.
    pub(crate) fn stack_pointer(&self, delta: i32) -> u32 {
        let esp = self.regs[reg::ESP];
        let mask = self.stack_mask();
        (esp & !mask) | (esp.wrapping_add(delta as u32) & mask)
    }

    /// Pushes `size` bytes (2 or 4). ESP changes only if the write succeeds.
    pub(crate) fn push(&mut self, bus: &mut dyn Bus, size: usize, value: u32) -> Result<()> {
        let esp = self.stack_pointer(-(size as i32));
        self.write(bus, Seg::Ss, esp & self.stack_mask(), size, value)?;
        self.regs[reg::ESP] = esp;
        Ok(())
    }

    /// Reads the value `offset` bytes above the top of the stack, without popping.
    pub(crate) fn peek(&mut self, bus: &mut dyn Bus, offset: u32, size: usize) -> Result<u32> {
        let address = self.stack_pointer(offset as i32) & self.stack_mask();
        self.read(bus, Seg::Ss, address, size)
    }

    /// Pops `size` bytes (2 or 4).
    pub(crate) fn pop(&mut self, bus: &mut dyn Bus, size: usize) -> Result<u32> {
        let value = self.peek(bus, 0, size)?;
        self.regs[reg::ESP] = self.stack_pointer(size as i32);
        Ok(value)
    }
}
