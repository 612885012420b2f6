//! The X-code table: what the MCPX ROM interprets from flash offset 0x80 before anything
//! else runs (opcodes and semantics in `mcpx::xcode`; xboxdevwiki "Boot Process").
//!
//! Like a real flash, it assigns the PCI resources the x86 code needs: the AGP bridge's
//! windows and the NV2A's BARs (retail X-codes put BAR0 at 0xFD000000 and BAR1 at 0xF0000000),
//! the LPC bridge's ACPI I/O block at 0x8000 and the SMBus host at 0xC000, each with its decode
//! enabled. It ends like open firmware using the visor path: it stores
//! `mov eax, CODE; jmp eax` at RAM address 0 and exits; without the 2BL key the ROM's check
//! fails, the ROM hides itself and the CPU wraps to address 0.

use super::CODE;

const POKE: u8 = 0x03;
const POKE_PCI: u8 = 0x04;
const EXIT: u8 = 0xEE;

/// MTRRdefType for EXIT: MTRRs on, write-back by default (what retail and Cromwell use).
const MTRR_DEF_TYPE: u32 = 0x806;

/// A PCI configuration address (mechanism #1).
pub const fn config_address(bus: u32, device: u32, function: u32, reg: u32) -> u32 {
    0x8000_0000 | bus << 16 | device << 11 | function << 8 | reg
}

/// Where the NV2A's registers (BAR0, 16 MiB) and its window onto RAM (BAR1) go.
pub const NV2A_BAR0: u32 = 0xFD00_0000;
pub const NV2A_BAR1: u32 = 0xF000_0000;
/// The MCPX's ACPI power-management block (LPC BAR0) and SMBus host (SMBus BAR1).
pub const ACPI_BASE: u16 = 0x8000;
pub const SMBUS_BASE: u16 = 0xC000;

const COMMAND: u32 = 0x04;
const BAR0: u32 = 0x10;
const BAR1: u32 = 0x14;
const IO_SPACE: u32 = 1 << 0;
const MEMORY_SPACE: u32 = 1 << 1;
const BUS_MASTER: u32 = 1 << 2;

/// The BARs assigned: (configuration address, value): the NV2A's BAR0 and BAR1, the LPC
/// bridge's BAR0 and the SMBus host's BAR1 (I/O BARs with bit 0 set).
pub const BARS: [(u32, u32); 4] = [
    (config_address(1, 0, 0, BAR0), NV2A_BAR0),
    (config_address(1, 0, 0, BAR1), NV2A_BAR1),
    (config_address(0, 1, 0, BAR0), ACPI_BASE as u32 | 1),
    (config_address(0, 1, 1, BAR1), SMBUS_BASE as u32 | 1),
];

/// The PCI writes, in order: (configuration address, value).
pub fn pci_writes() -> Vec<(u32, u32)> {
    let [nv2a_bar0, nv2a_bar1, lpc_bar0, smbus_bar1] = BARS;
    let nv2a = |reg| config_address(1, 0, 0, reg);
    let agp = |reg| config_address(0, 0x1E, 0, reg);
    let lpc = |reg| config_address(0, 1, 0, reg);
    let smbus = |reg| config_address(0, 1, 1, reg);
    vec![
        // The AGP bridge forwards the NV2A's ranges: memory 0xFD000000-0xFE7FFFFF and
        // prefetchable 0xF0000000-0xF3FFFFFF (base/limit words as on a running console,
        // src/mcpx/pci_config.txt).
        (agp(0x20), 0xFE70_FD00),
        (agp(0x24), 0xF3F0_F000),
        (agp(COMMAND), IO_SPACE | MEMORY_SPACE | BUS_MASTER),
        nv2a_bar0,
        nv2a_bar1,
        (nv2a(COMMAND), MEMORY_SPACE | BUS_MASTER),
        lpc_bar0,
        (lpc(COMMAND), IO_SPACE),
        smbus_bar1,
        (smbus(COMMAND), IO_SPACE),
    ]
}

/// The encoded table: 9-byte X-codes (opcode, two little-endian dwords).
pub fn table() -> Vec<u8> {
    let mut codes: Vec<(u8, u32, u32)> = pci_writes()
        .into_iter()
        .map(|(address, value)| (POKE_PCI, address, value))
        .collect();
    // mov eax, CODE (B8 imm32); jmp eax (FF E0); a NOP to fill the second dword.
    let mut jump = [0x90u8; 8];
    jump[0] = 0xB8;
    jump[1..5].copy_from_slice(&CODE.to_le_bytes());
    jump[5..7].copy_from_slice(&[0xFF, 0xE0]);
    let [a, b, c, d, e, f, g, h] = jump;
    codes.push((POKE, 0, u32::from_le_bytes([a, b, c, d])));
    codes.push((POKE, 4, u32::from_le_bytes([e, f, g, h])));
    codes.push((EXIT, MTRR_DEF_TYPE, 0));
    codes
        .into_iter()
        .flat_map(|(op, a, b)| {
            let mut code = vec![op];
            code.extend_from_slice(&a.to_le_bytes());
            code.extend_from_slice(&b.to_le_bytes());
            code
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_ends_with_the_visor_jump_and_exit() {
        let t = table();
        assert_eq!(t.len() % 9, 0);
        let n = t.len() / 9;
        assert_eq!(t[(n - 1) * 9], EXIT);
        assert_eq!(t[(n - 3) * 9], POKE);
        // mov eax, 0xFF001000
        assert_eq!(
            &t[(n - 3) * 9 + 5..(n - 3) * 9 + 9],
            &[0xB8, 0x00, 0x10, 0x00]
        );
        assert_eq!(config_address(1, 0, 0, 0x10), 0x8001_0010);
        assert_eq!(config_address(0, 1, 1, 0x14), 0x8000_0914);
    }
}
