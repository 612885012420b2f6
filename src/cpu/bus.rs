//! What the CPU sees of the machine around it: physical memory, I/O ports and the interrupt
//! line. The Xbox board and the bare-metal test machine each implement it.

/// The mask of an access of `size` bytes (1, 2 or 4): also what a read nothing answers
/// returns on the bus.
pub fn size_mask(size: usize) -> u32 {
    match size {
        1 => 0xFF,
        2 => 0xFFFF,
        _ => u32::MAX,
    }
}

/// The CPU's view of the machine. Sizes are 1, 2 or 4 bytes; accesses never cross a 4 KiB
/// page (the CPU splits those), so a device sees each of its registers whole.
pub trait Bus {
    /// Plain RAM mapped from physical address 0. The CPU reads and writes it directly; every
    /// physical address at or above its length goes through `read`/`write`.
    fn ram(&mut self) -> &mut [u8];

    /// Reads `size` bytes (little-endian) from a physical address outside RAM.
    fn read(&mut self, addr: u32, size: usize) -> u32;

    /// Writes `size` bytes (little-endian) to a physical address outside RAM.
    fn write(&mut self, addr: u32, size: usize, value: u32);

    fn io_read(&mut self, port: u16, size: usize) -> u32;

    fn io_write(&mut self, port: u16, size: usize, value: u32);

    /// Tells the machine the time (the CPU's cycle count) just before a device access (an
    /// I/O port, or memory outside RAM), so devices see accesses at their emulated times.
    fn sync(&mut self, _now: u64) {}

    /// The cycle at which the machine next needs control back (its next event). The CPU
    /// checks it after every block, so a device access that schedules an earlier event ends
    /// the current run there.
    fn next_event(&self) -> u64 {
        u64::MAX
    }

    /// Whether the interrupt controller asserts INTR.
    fn interrupt_pending(&self) -> bool {
        false
    }

    /// The interrupt acknowledge cycle: the vector of the interrupt being taken. Called only
    /// when `interrupt_pending` is true and the CPU accepts the interrupt.
    fn acknowledge_interrupt(&mut self) -> u8 {
        0
    }
}
