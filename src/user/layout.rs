//! The guest's address space and the harness's own structures in it.
//!
//! Paging is on. User space is the low 3 GiB, as on a native i386 kernel; the harness's ring-0
//! area (GDT, TSS, IDT, stubs, ring-0 stack, LDT, page directory) occupies the first physical
//! frames and is mapped supervisor-only at [`KERNEL_BASE`], so the guest cannot touch it.
//! Everything else is a pool of 4 KiB frames that user pages are allocated from.

pub const PAGE: u32 = 4096;
/// The end of user space and the start of the ring-0 area.
pub const USER_TOP: u32 = 0xC000_0000;
pub const KERNEL_BASE: u32 = USER_TOP;

/// The main thread's stack: its top, and the 8 MiB (RLIMIT_STACK) mapped below it.
pub const STACK_TOP: u32 = USER_TOP;
pub const STACK_SIZE: u32 = 8 << 20;
/// Anonymous mappings are placed top-down from here (Linux leaves a 128 MiB gap below the
/// stack).
pub const MMAP_BASE: u32 = STACK_TOP - STACK_SIZE - (128 << 20);
/// Nothing is mapped below 64 KiB unless asked for at a fixed address (Linux's
/// vm.mmap_min_addr), so null-pointer accesses fault.
pub const MMAP_MIN: u32 = 0x1_0000;

/// Offsets of the ring-0 structures, both physical addresses and from `KERNEL_BASE`.
pub mod ring0 {
    pub const GDT: u32 = 0x0000;
    /// Linux's GDT has 32 entries.
    pub const GDT_ENTRIES: u32 = 32;
    pub const TSS: u32 = 0x0100;
    pub const TSS_LIMIT: u32 = 0x67;
    /// Boot and return-to-user code.
    pub const CODE: u32 = 0x0200;
    pub const IDT: u32 = 0x0800;
    /// One 8-byte entry stub per vector.
    pub const VECTORS: u32 = 0x1000;
    pub const VECTOR_STUB: u32 = 8;
    /// FPU state for signal frames: an FXSAVE image (16-byte aligned), the initial one, and
    /// an FNSAVE image.
    pub const FPU_IMAGE: u32 = 0x1800;
    pub const FPU_INIT: u32 = 0x1A00;
    pub const FPU_LEGACY: u32 = 0x1C00;
    /// The ring-0 stack (the TSS's ESP0 is its top).
    pub const STACK: u32 = 0x2000;
    pub const STACK_TOP: u32 = 0x4000;
    pub const PAGE_DIRECTORY: u32 = 0x4000;
    /// The page table that maps this area.
    pub const PAGE_TABLE: u32 = 0x5000;
    pub const LDT: u32 = 0x1_0000;
    pub const LDT_ENTRIES: u32 = 8192;
    /// The size of the area; user frames start here.
    pub const SIZE: u32 = LDT + LDT_ENTRIES * 8;
}

/// GDT selectors, at Linux i386's positions so the guest sees the selectors it would natively.
pub mod selector {
    /// set_thread_area slots: GDT entries 6, 7 and 8.
    pub const TLS_FIRST: u32 = 6;
    pub const TLS_COUNT: u32 = 3;
    pub const KERNEL_CS: u16 = 12 << 3;
    pub const KERNEL_DS: u16 = 13 << 3;
    pub const USER_CS: u16 = (14 << 3) | 3;
    pub const USER_DS: u16 = (15 << 3) | 3;
    pub const TSS: u16 = 16 << 3;
    pub const LDT: u16 = 17 << 3;
}

pub fn page_down(address: u32) -> u32 {
    address & !(PAGE - 1)
}

/// `address` rounded up to a page boundary, or None past 4 GiB.
pub fn page_up(address: u32) -> Option<u32> {
    address.checked_add(PAGE - 1).map(page_down)
}
