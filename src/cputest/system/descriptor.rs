//! Descriptor encodings (SDM Vol. 3, 3.4.5 and 6.11): segments, TSSs and gates, as the test
//! programs put them in their tables.

/// Access byte bits (descriptor bits 40..=47).
pub mod access {
    pub const ACCESSED: u8 = 0x01;
    /// Readable (code) or writable (data).
    pub const RW: u8 = 0x02;
    /// Conforming (code) or expand-down (data).
    pub const DC: u8 = 0x04;
    pub const CODE: u8 = 0x08;
    /// A code or data segment (not a system descriptor).
    pub const S: u8 = 0x10;
    pub const DPL3: u8 = 0x60;
    pub const PRESENT: u8 = 0x80;
    /// Present, readable code.
    pub const CODE_R: u8 = PRESENT | S | CODE | RW;
    /// Present, writable data.
    pub const DATA_W: u8 = PRESENT | S | RW;
    /// System types.
    pub const LDT: u8 = PRESENT | 0x02;
    pub const TASK_GATE: u8 = PRESENT | 0x05;
    pub const TSS32: u8 = PRESENT | 0x09;
    pub const TSS32_BUSY: u8 = PRESENT | 0x0B;
    pub const CALL_GATE32: u8 = PRESENT | 0x0C;
    pub const INTERRUPT_GATE32: u8 = PRESENT | 0x0E;
    pub const TRAP_GATE32: u8 = PRESENT | 0x0F;
}

/// Flag nibble (descriptor bits 52..=55).
pub mod flags {
    /// 32-bit code, or a 32-bit stack / 4 GiB expand-down bound.
    pub const DB: u8 = 0x4;
    /// Limit in 4 KiB units.
    pub const G: u8 = 0x8;
    /// A flat 4 GiB 32-bit segment.
    pub const FLAT: u8 = G | DB;
}

/// A segment (or TSS, LDT) descriptor: base, limit (20 bits, in bytes or pages by `G`),
/// access byte and flag nibble.
pub const fn segment(base: u32, limit: u32, access: u8, flags: u8) -> u64 {
    (limit as u64 & 0xFFFF)
        | (base as u64 & 0xFF_FFFF) << 16
        | (access as u64) << 40
        | ((limit as u64 >> 16) & 0xF) << 48
        | (flags as u64 & 0xF) << 52
        | ((base >> 24) as u64) << 56
}

/// A flat 4 GiB segment with this access byte.
pub const fn flat(access: u8) -> u64 {
    segment(0, 0xF_FFFF, access, flags::FLAT)
}

/// A gate (call, interrupt, trap or task): target selector and offset, access byte, and the
/// number of stack parameters a call gate copies.
pub const fn gate(selector: u16, offset: u32, access: u8, parameters: u8) -> u64 {
    (offset as u64 & 0xFFFF)
        | (selector as u64) << 16
        | (parameters as u64 & 0x1F) << 32
        | (access as u64) << 40
        | ((offset >> 16) as u64) << 48
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_match_the_usual_constants() {
        assert_eq!(
            flat(access::CODE_R | access::ACCESSED),
            0x00CF_9B00_0000_FFFF
        );
        assert_eq!(flat(access::DATA_W | access::DPL3), 0x00CF_F200_0000_FFFF);
        assert_eq!(
            segment(0x1234_5678, 0x6_7FFF, 0x89, 0),
            0x1206_8934_5678_7FFF
        );
        assert_eq!(
            gate(0x08, 0x1234_5678, access::INTERRUPT_GATE32, 0),
            0x1234_8E00_0008_5678
        );
        assert_eq!(
            gate(0x08, 0x0000_4321, access::CALL_GATE32 | access::DPL3, 2),
            0x0000_EC02_0008_4321
        );
    }
}
