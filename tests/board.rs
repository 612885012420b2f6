//! The Xbox board, checked from inside the guest: programs assembled here boot from a test
//! flash image through the high-level MCPX and test the hardware themselves, printing PASS
//! or the check that failed on the debug console.

#[path = "board/harness.rs"]
mod harness;

use harness::*;
use oxbox::cputest::asm::Cc;
use oxbox::machine::Config;

/// The documented PCI functions: (bus, device, function, vendor/device ID, revision).
const PCI_TABLE: [(u32, u32, u32, u32, u32); 10] = [
    (0, 0, 0, 0x02A5_10DE, 0xA1),
    (0, 1, 0, 0x01B2_10DE, 0xB2),
    (0, 1, 1, 0x01B4_10DE, 0xB1),
    (0, 2, 0, 0x01C2_10DE, 0xB1),
    (0, 3, 0, 0x01C2_10DE, 0xB1),
    (0, 4, 0, 0x01C3_10DE, 0xB1),
    (0, 5, 0, 0x01B0_10DE, 0xB1),
    (0, 6, 0, 0x01B1_10DE, 0xB1),
    (0, 9, 0, 0x01BC_10DE, 0xB1),
    (0, 0x1E, 0, 0x01B7_10DE, 0xA1),
];

#[test]
fn pci_enumeration_finds_the_documented_functions() {
    expect_pass("pci", Config::default(), 10, |a| {
        for (bus, device, function, id, revision) in PCI_TABLE {
            let what = format!("{bus:02x}:{device:02x}.{function}");
            pci_read(a, config_address(bus, device, function, 0))?;
            a.check_eq(eax, id, &format!("{what} vendor/device"))?;
            pci_read(a, config_address(bus, device, function, 8))?;
            a.and(eax, 0xFF)?;
            a.check_eq(eax, revision, &format!("{what} revision"))?;
        }
        // The NV2A sits behind the AGP bridge on bus 1.
        pci_read(a, config_address(1, 0, 0, 0))?;
        a.check_eq(eax, 0x02A0_10DE, "01:00.0 NV2A")?;
        // Nothing at device 7 or on bus 2.
        pci_read(a, config_address(0, 7, 0, 0))?;
        a.check_eq(eax, -1, "00:07.0 absent")?;
        pci_read(a, config_address(2, 0, 0, 0))?;
        a.check_eq(eax, -1, "bus 2 absent")?;
        pass(a)
    });
}

#[test]
fn flash_is_mirrored_across_the_top_16_mib() {
    expect_pass("flash-mirror", Config::default(), 10, |a| {
        let marker = 0xFF00_1000u32; // this program's first bytes
        a.mov(eax, dword_ptr(marker))?;
        for mirror in [0xFF04_1000u32, 0xFF80_1000, 0xFFFC_1000] {
            a.cmp(eax, dword_ptr(mirror))?;
            a.check(Cc::E, &format!("flash mirror at {mirror:#X}"))?;
        }
        pass(a)
    });
}

#[test]
fn ram_ends_at_64_mib_and_128_mib_as_configured() {
    for mib in [64u32, 128] {
        let config = Config {
            ram_mib: mib,
            ..Config::default()
        };
        expect_pass(&format!("ram-{mib}"), config, 10, |a| {
            let last = (mib << 20) - 4;
            a.mov(dword_ptr(last), 0x1234_5678u32)?;
            a.mov(eax, dword_ptr(last))?;
            a.check_eq(eax, 0x1234_5678, "last dword of RAM")?;
            // Past the end is the PCI hole: nothing answers there.
            a.mov(dword_ptr(last + 4), 0x1234_5678u32)?;
            a.mov(eax, dword_ptr(last + 4))?;
            a.check_eq(eax, -1, "first dword after RAM")?;
            pass(a)
        });
    }
}
