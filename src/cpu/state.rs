//! The architectural registers of the Pentium III, other than x87/MMX/SSE (see `fpu` and `sse`).

/// General-purpose register numbers, in the encoding's order.
pub mod reg {
    pub const EAX: usize = 0;
    pub const ECX: usize = 1;
    pub const EDX: usize = 2;
    pub const EBX: usize = 3;
    pub const ESP: usize = 4;
    pub const EBP: usize = 5;
    pub const ESI: usize = 6;
    pub const EDI: usize = 7;
}

/// EFLAGS bits.
pub mod flag {
    pub const CF: u32 = 1 << 0;
    /// Bit 1 always reads as 1.
    pub const FIXED: u32 = 1 << 1;
    pub const PF: u32 = 1 << 2;
    pub const AF: u32 = 1 << 4;
    pub const ZF: u32 = 1 << 6;
    pub const SF: u32 = 1 << 7;
    pub const TF: u32 = 1 << 8;
    pub const IF: u32 = 1 << 9;
    pub const DF: u32 = 1 << 10;
    pub const OF: u32 = 1 << 11;
    pub const IOPL: u32 = 3 << 12;
    pub const NT: u32 = 1 << 14;
    pub const RF: u32 = 1 << 16;
    pub const VM: u32 = 1 << 17;
    pub const AC: u32 = 1 << 18;
    pub const VIF: u32 = 1 << 19;
    pub const VIP: u32 = 1 << 20;
    pub const ID: u32 = 1 << 21;
    /// The six flags arithmetic instructions write.
    pub const ARITH: u32 = CF | PF | AF | ZF | SF | OF;
    /// Every bit software can change on a Pentium III.
    pub const WRITABLE: u32 = ARITH | TF | IF | DF | IOPL | NT | RF | VM | AC | VIF | VIP | ID;
}

/// Control register bits the emulation acts on.
pub mod cr0 {
    pub const PE: u32 = 1 << 0;
    pub const MP: u32 = 1 << 1;
    pub const EM: u32 = 1 << 2;
    pub const TS: u32 = 1 << 3;
    pub const ET: u32 = 1 << 4;
    pub const NE: u32 = 1 << 5;
    pub const WP: u32 = 1 << 16;
    pub const AM: u32 = 1 << 18;
    pub const NW: u32 = 1 << 29;
    pub const CD: u32 = 1 << 30;
    pub const PG: u32 = 1 << 31;
}

pub mod cr4 {
    pub const VME: u32 = 1 << 0;
    pub const PVI: u32 = 1 << 1;
    pub const TSD: u32 = 1 << 2;
    pub const DE: u32 = 1 << 3;
    pub const PSE: u32 = 1 << 4;
    pub const PAE: u32 = 1 << 5;
    pub const MCE: u32 = 1 << 6;
    pub const PGE: u32 = 1 << 7;
    pub const PCE: u32 = 1 << 8;
    pub const OSFXSR: u32 = 1 << 9;
    pub const OSXMMEXCPT: u32 = 1 << 10;
    /// The bits a Pentium III implements; setting any other raises #GP.
    pub const VALID: u32 = VME | PVI | TSD | DE | PSE | PAE | MCE | PGE | PCE | OSFXSR | OSXMMEXCPT;
}

/// Segment register numbers, in the encoding's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seg {
    Es = 0,
    Cs = 1,
    Ss = 2,
    Ds = 3,
    Fs = 4,
    Gs = 5,
}

impl Seg {
    pub const ALL: [Seg; 6] = [Seg::Es, Seg::Cs, Seg::Ss, Seg::Ds, Seg::Fs, Seg::Gs];
}

/// A segment register: the visible selector and the hidden descriptor cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    pub selector: u16,
    pub base: u32,
    /// The limit in bytes (already scaled by the granularity bit).
    pub limit: u32,
    /// Descriptor bits 40..=55: type, S, DPL, P (low byte) and AVL, D/B, G (bits 12..=15).
    pub attrs: u16,
}

/// Descriptor attribute bits, as stored in [`Segment::attrs`].
pub mod attr {
    pub const ACCESSED: u16 = 1 << 0;
    /// Writable (data) or readable (code).
    pub const RW: u16 = 1 << 1;
    /// Expand-down (data) or conforming (code).
    pub const DC: u16 = 1 << 2;
    pub const CODE: u16 = 1 << 3;
    /// Code or data, as opposed to a system descriptor.
    pub const S: u16 = 1 << 4;
    pub const DPL_SHIFT: u16 = 5;
    pub const PRESENT: u16 = 1 << 7;
    /// Default operation size 32 bits (code), big stack (data).
    pub const DB: u16 = 1 << 14;
    pub const G: u16 = 1 << 15;
}

impl Segment {
    /// A real-mode segment: base = selector * 16, 64 KiB limit, writable data.
    pub fn real(selector: u16) -> Segment {
        Segment {
            selector,
            base: u32::from(selector) << 4,
            limit: 0xFFFF,
            attrs: attr::PRESENT | attr::S | attr::RW | attr::ACCESSED,
        }
    }

    pub fn dpl(&self) -> u8 {
        ((self.attrs >> attr::DPL_SHIFT) & 3) as u8
    }

    /// 32-bit code (CS) or a 32-bit stack pointer (SS).
    pub fn big(&self) -> bool {
        self.attrs & attr::DB != 0
    }
}

/// GDTR and IDTR.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableReg {
    pub base: u32,
    pub limit: u16,
}
