//! The debug I/O ports test programs talk through, after the conventions of Bochs and QEMU:
//! a console (QEMU's `debugcon`, port 0xE9 by default), an exit device (QEMU's
//! `isa-debug-exit`, 0xF4) and a POST code latch (the PC's port 0x80).
//!
//! Only the port an access starts at counts: a 16- or 32-bit access to the console writes all
//! its bytes there. Once a program has written the exit port the machine is off, and later
//! writes to any of the three change nothing.

use crate::cpu::bus::size_mask;

/// The console reads back this value (QEMU's default `readback`) so programs can detect it.
const CONSOLE_READBACK: u32 = 0xE9;

pub struct DebugPorts {
    console_port: u16,
    exit_port: u16,
    post_port: u16,
    /// Everything written to the console.
    pub console: Vec<u8>,
    /// How much of `console` has been handed on already.
    streamed: usize,
    /// The last POST code; the port is 8 bits wide, so wider writes keep their low byte.
    pub post: Option<u8>,
    /// The value written to the exit port, zero-extended from the access size.
    pub exit: Option<u32>,
}

impl DebugPorts {
    pub fn new(console_port: u16, exit_port: u16, post_port: u16) -> DebugPorts {
        DebugPorts {
            console_port,
            exit_port,
            post_port,
            console: Vec::new(),
            streamed: 0,
            post: None,
            exit: None,
        }
    }

    /// Unknown ports float high.
    pub fn read(&self, port: u16, size: usize) -> u32 {
        if port == self.console_port {
            CONSOLE_READBACK & size_mask(size)
        } else {
            size_mask(size)
        }
    }

    pub fn write(&mut self, port: u16, size: usize, value: u32) {
        if self.exit.is_some() {
            return;
        }
        if port == self.console_port {
            self.console
                .extend_from_slice(&value.to_le_bytes()[..size.clamp(1, 4)]);
        } else if port == self.exit_port {
            self.exit = Some(value & size_mask(size));
        } else if port == self.post_port {
            self.post = Some(value as u8);
        }
    }

    /// The console output not yet handed on.
    pub fn unstreamed(&mut self) -> &[u8] {
        let new = &self.console[self.streamed..];
        self.streamed = self.console.len();
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_collects_bytes_and_streams_each_once() {
        let mut ports = DebugPorts::new(0xE9, 0xF4, 0x80);
        ports.write(0xE9, 1, u32::from(b'O'));
        assert_eq!(ports.unstreamed(), b"O");
        ports.write(0xE9, 2, u32::from_le_bytes(*b"K\n\0\0"));
        assert_eq!(ports.unstreamed(), b"K\n");
        assert_eq!(ports.unstreamed(), b"");
        assert_eq!(ports.console, b"OK\n");
        assert_eq!(ports.read(0xE9, 1), 0xE9);
    }

    #[test]
    fn exit_and_post_latch_values() {
        let mut ports = DebugPorts::new(0x402, 0x501, 0x80);
        ports.write(0x80, 2, 0x1234);
        assert_eq!(ports.post, Some(0x34));
        ports.write(0x501, 1, 0x1FF);
        assert_eq!(ports.exit, Some(0xFF), "a byte write carries one byte");
        ports.write(0x501, 4, 7);
        ports.write(0x402, 1, u32::from(b'x'));
        ports.write(0x80, 1, 0x55);
        assert_eq!(
            (ports.exit, ports.post, ports.console.len()),
            (Some(0xFF), Some(0x34), 0),
            "a machine that has exited ignores its ports"
        );
    }

    #[test]
    fn unknown_ports_read_as_ones() {
        let ports = DebugPorts::new(0xE9, 0xF4, 0x80);
        assert_eq!(ports.read(0x60, 1), 0xFF);
        assert_eq!(ports.read(0xF4, 2), 0xFFFF);
        assert_eq!(ports.read(0x80, 4), 0xFFFF_FFFF);
    }
}
