//! The chipset from inside the guest: the SMBus and every device on it, the MCPX ROM's hide
//! bit from a test ROM at the reset vector, the NV2A's window onto RAM, the flash mirrors of a
//! 1 MiB image; and from the host: the generated EEPROM file and a flash that needs the real
//! MCPX ROM.
//!
//! Expected values come from the Xbox development wiki (SMBus, PIC, EEPROM, PCI, MCPX ROM pages,
//! in /work/shared/reference/xboxdevwiki) and the ADM1032 data sheet, never from the emulator.

use crate::harness::*;
use oxbox::asm::{self, Asm, Cc, Label, Result};
use oxbox::machine::{Config, EepromSettings, Machine};
use oxbox::mcpx::eeprom::{self, Region, Revision, VideoStandard};
use oxbox::mcpx::smc::AvPack;
use oxbox::mcpx::video_encoder::Encoder;

// ---------------------------------------------------------------------------------------------
// SMBus

/// Where the guest puts the SMBus host (function 00:01.1, BAR1 at 0x14): the wiki's port.
const SMBUS: u16 = 0xC000;
/// The host's registers (wiki "SMBus", as the AMD-756's).
const SMB_STATUS: u16 = SMBUS;
const SMB_CONTROL: u16 = SMBUS + 2;
const SMB_ADDRESS: u16 = SMBUS + 4;
const SMB_DATA: u16 = SMBUS + 6;
const SMB_COMMAND: u16 = SMBUS + 8;
/// Status bits: protocol error (what an address nobody acknowledges reports), busy, cycle
/// complete; bits 0-5 are the documented ones.
const ST_ERROR: u32 = 0x04;
const ST_BUSY: u8 = 0x08;
const ST_DONE: u32 = 0x10;
const ST_DOCUMENTED: u32 = 0x3F;
/// Control: start, with the cycle type in bits 0-2 (2 byte data, 3 word data).
const BYTE_DATA: u8 = 0x08 | 2;

/// The 7-bit SMBus addresses (wiki "SMBus"; the Focus and Xcalibur encoders from
/// "Video Encoder" and xbox-hardware.md).
const SMC: u8 = 0x10;
const CONEXANT: u8 = 0x45;
const FOCUS: u8 = 0x6A;
const XCALIBUR: u8 = 0x70;
const ADM1032: u8 = 0x4C;
const EEPROM: u8 = 0x54;
const NOBODY: u8 = 0x33;

/// Where the guest copies the EEPROM.
const EEPROM_COPY: u32 = 0x0000_3000;

/// Maps the SMBus host's BAR1 at [`SMBUS`] and enables its I/O decoding (clobbers EAX, EDX).
fn smbus_enable(a: &mut Asm) -> Result {
    let bar1 = config_address(0, 1, 1, 0x14);
    pci_write(a, bar1, u32::from(SMBUS) | 1)?;
    pci_read(a, bar1)?;
    a.check_eq(eax, u32::from(SMBUS) | 1, "SMBus BAR1 reads back 0xC001")?;
    // Assigned but not enabled: nothing answers at the port yet.
    inb(a, SMB_STATUS)?;
    a.check_eq(al, 0xFF, "SMBus ports before I/O decoding is enabled")?;
    pci_write(a, config_address(0, 1, 1, 0x04), 1)
}

/// The guest's SMBus transaction, a subroutine at `entry`: BL = the address byte (the 7-bit
/// address shifted left, bit 0 set to read), BH = the command, CL = data 0, CH = the control
/// byte. Clears the status as the wiki's routines do, starts the cycle and polls until the
/// host is not busy. Returns EDI = the status (documented bits), EAX = data 0; clobbers EDX.
fn smbus_routine(a: &mut Asm, entry: Label) -> Result {
    a.bind(entry)?;
    for (port, value) in [(SMB_ADDRESS, bl), (SMB_COMMAND, bh), (SMB_DATA, cl)] {
        a.mov(dx, u32::from(port))?;
        a.mov(al, value)?;
        a.out(dx, al)?;
    }
    a.mov(dx, u32::from(SMB_STATUS))?;
    a.in_(ax, dx)?;
    a.out(dx, ax)?;
    a.mov(dx, u32::from(SMB_CONTROL))?;
    a.mov(al, ch)?;
    a.out(dx, al)?;
    a.mov(dx, u32::from(SMB_STATUS))?;
    let poll = a.here()?;
    a.in_(al, dx)?;
    a.test(al, u32::from(ST_BUSY))?;
    a.jnz(poll)?;
    a.movzx(edi, al)?;
    a.and(edi, ST_DOCUMENTED)?;
    a.mov(dx, u32::from(SMB_DATA))?;
    a.in_(al, dx)?;
    a.movzx(eax, al)?;
    a.ret()?;
    Ok(())
}

/// Calls the SMBus routine for one byte-data cycle.
fn smbus_cycle(
    a: &mut Asm,
    routine: Label,
    address: u8,
    read: bool,
    command: u8,
    data: u8,
) -> Result {
    let address_byte = address << 1 | u8::from(read);
    a.mov(ebx, u32::from(command) << 8 | u32::from(address_byte))?;
    a.mov(ecx, u32::from(BYTE_DATA) << 8 | u32::from(data))?;
    a.call(routine)?;
    Ok(())
}

/// A byte-data read that must complete: EAX = the byte.
fn smbus_read(a: &mut Asm, routine: Label, address: u8, command: u8, what: &str) -> Result {
    smbus_cycle(a, routine, address, true, command, 0)?;
    a.check_eq(edi, ST_DONE, &format!("{what}: the read completes"))
}

/// A byte-data write that must complete.
fn smbus_write(
    a: &mut Asm,
    routine: Label,
    address: u8,
    command: u8,
    data: u8,
    what: &str,
) -> Result {
    smbus_cycle(a, routine, address, false, command, data)?;
    a.check_eq(edi, ST_DONE, &format!("{what}: the write completes"))
}

/// A byte-data read of `address` completes (it answers) or ends with the protocol error (no
/// one acknowledged it).
fn smbus_probe(a: &mut Asm, routine: Label, address: u8, answers: bool) -> Result {
    smbus_cycle(a, routine, address, true, 0, 0)?;
    let (status, what) = if answers {
        (ST_DONE, format!("address {address:#04x} answers"))
    } else {
        (
            ST_ERROR,
            format!("address {address:#04x} is absent (protocol error)"),
        )
    };
    a.check_eq(edi, status, &what)
}

/// Copies EEPROM bytes `range` to [`EEPROM_COPY`] + offset, one byte-data read each.
fn eeprom_to_ram(a: &mut Asm, routine: Label, range: std::ops::Range<u32>) -> Result {
    a.mov(ebp, range.start)?;
    let next = a.here()?;
    a.mov(ebx, ebp)?;
    a.shl(ebx, 8)?;
    a.or(ebx, u32::from(EEPROM << 1 | 1))?;
    a.mov(ecx, u32::from(BYTE_DATA) << 8)?;
    a.call(routine)?;
    a.check_eq(edi, ST_DONE, "an EEPROM byte read completes")?;
    a.mov(byte_ptr(ebp + EEPROM_COPY), al)?;
    a.inc(ebp)?;
    a.cmp(ebp, range.end)?;
    a.jne(next)?;
    Ok(())
}

/// The wiki's "Read Checksum Algorithm" over the copy of EEPROM bytes `range`: the 32-bit sum
/// of its words, the number of carries out of bit 31 added at the end, and one more if that
/// carries too. A kernel accepts a section whose result is 0xFFFFFFFF.
fn check_section_sum(a: &mut Asm, range: std::ops::Range<u32>, what: &str) -> Result {
    a.xor(eax, eax)?;
    a.xor(ecx, ecx)?;
    a.mov(esi, EEPROM_COPY + range.start)?;
    a.mov(edi, (range.end - range.start) / 4)?;
    let word = a.here()?;
    a.add(eax, dword_ptr(esi))?;
    a.adc(ecx, 0)?;
    a.add(esi, 4)?;
    a.dec(edi)?;
    a.jnz(word)?;
    a.add(eax, ecx)?;
    a.adc(eax, 0)?;
    a.check_eq(eax, -1, what)
}

/// What one board's SMBus should show.
struct SmbusBoard {
    /// The SMC's AV pack register (0x04), per the wiki's PIC page.
    av_pack_code: u32,
    /// The encoder address that answers; the other two must not.
    encoder: u8,
    /// Whether the ADM1032 is fitted (all boards but the 1.6's Xcalibur).
    sensor: bool,
    /// Copy the whole EEPROM to RAM and check its two sections.
    eeprom: bool,
}

fn smbus_program(bus: &SmbusBoard) -> impl Fn(&mut Asm) -> Result + '_ {
    move |a| {
        let routine = a.label();
        smbus_enable(a)?;

        // SMC version: the index moves with each read of register 0x01 and a write rewinds
        // it; the string repeats after the third character. A 1.0 board's SMC is "P01".
        smbus_read(a, routine, SMC, 0x01, "SMC version, first read")?;
        smbus_write(a, routine, SMC, 0x01, 0x00, "SMC version index reset")?;
        for (i, &c) in b"P01P".iter().enumerate() {
            smbus_read(a, routine, SMC, 0x01, "SMC version")?;
            a.check_eq(eax, u32::from(c), &format!("SMC version character {i}"))?;
        }
        smbus_read(a, routine, SMC, 0x04, "SMC AV pack")?;
        a.check_eq(eax, bus.av_pack_code, "SMC AV pack register")?;

        for address in [CONEXANT, FOCUS, XCALIBUR] {
            smbus_probe(a, routine, address, address == bus.encoder)?;
        }
        smbus_probe(a, routine, ADM1032, bus.sensor)?;
        if bus.sensor {
            smbus_read(a, routine, ADM1032, 0xFE, "ADM1032 manufacturer ID")?;
            a.check_eq(eax, 0x41, "ADM1032 manufacturer ID is Analog Devices'")?;
        }
        smbus_probe(a, routine, NOBODY, false)?;
        // After a failed cycle the next one works again.
        smbus_probe(a, routine, EEPROM, true)?;

        if bus.eeprom {
            eeprom_to_ram(a, routine, 0..256)?;
            check_section_sum(a, 0x30..0x60, "EEPROM factory section checksum")?;
            check_section_sum(a, 0x60..0xC0, "EEPROM user section checksum")?;
            // The factory section's video standard (plain text): NTSC-M by default.
            a.mov(eax, dword_ptr(EEPROM_COPY + 0x58))?;
            a.check_eq(eax, 0x0040_0100, "EEPROM video standard NTSC-M")?;
            // The MAC address starts with Microsoft's 00:50:F2.
            a.mov(eax, dword_ptr(EEPROM_COPY + 0x40))?;
            a.and(eax, 0x00FF_FFFF)?;
            a.check_eq(eax, 0x00F2_5000, "EEPROM MAC prefix 00:50:F2")?;
        }
        pass(a)?;
        smbus_routine(a, routine)
    }
}

/// The EEPROM file a machine in `scratch` uses.
fn eeprom_file(scratch: &Scratch) -> std::path::PathBuf {
    scratch.save().join("oxbox").join("eeprom.bin")
}

#[test]
fn smbus_reaches_every_device_on_a_conexant_board() {
    let bus = SmbusBoard {
        av_pack_code: 0x01, // HDTV, the default pack
        encoder: CONEXANT,
        sensor: true,
        eeprom: true,
    };
    let image = flash(smbus_program(&bus));
    let (mut machine, scratch) = machine("smbus-conexant", &image, None, Config::default());
    let lines = run_until_done(&mut machine, 20);
    assert!(
        lines.iter().any(|l| l.starts_with("PASS")),
        "the guest did not pass; it printed:\n{}",
        lines.join("\n")
    );
    // The guest's copy is the file, byte for byte.
    let file = std::fs::read(eeprom_file(&scratch)).expect("the EEPROM file exists");
    let ram = &machine.console().board.ram;
    let copy = &ram[EEPROM_COPY as usize..EEPROM_COPY as usize + 256];
    assert_eq!(
        copy,
        &file[..],
        "the EEPROM as the guest read it over the SMBus"
    );
}

#[test]
fn smbus_on_a_focus_board_with_a_composite_cable() {
    let bus = SmbusBoard {
        av_pack_code: 0x06, // "standard"
        encoder: FOCUS,
        sensor: true,
        eeprom: false,
    };
    let config = Config {
        encoder: Encoder::Focus,
        av_pack: AvPack::Composite,
        ..Config::default()
    };
    expect_pass("smbus-focus", config, 10, smbus_program(&bus));
}

#[test]
fn smbus_on_an_xcalibur_board_has_no_adm1032() {
    let bus = SmbusBoard {
        av_pack_code: 0x00, // SCART
        encoder: XCALIBUR,
        sensor: false,
        eeprom: false,
    };
    let config = Config {
        encoder: Encoder::Xcalibur,
        av_pack: AvPack::Scart,
        ..Config::default()
    };
    expect_pass("smbus-xcalibur", config, 10, smbus_program(&bus));
}

// ---------------------------------------------------------------------------------------------
// The MCPX ROM and its hide bit

/// The first byte of the test ROM (`mov al, imm8`, from its first print).
const ROM_FIRST_BYTE: u32 = 0xB0;
/// A flash byte just under the ROM (at 0xFFFFFDF0), which the ROM never covers.
const BELOW_ROM: u8 = 0x5A;
/// NOPs the ROM leaves after its hide, the same bytes as the flash under them, for the
/// instructions the CPU fetched before the hide took effect (open flash images leave a NOP
/// landing zone for the same reason). The emulator finishes the decoded block it is in: up to
/// 31 instructions after the OUT still come from the hidden ROM.
const PREFETCH_ALLOWANCE: usize = 64;

/// A 512-byte MCPX ROM stand-in, 16-bit real mode from the reset vector: prints "ROM", checks
/// it reads itself (CS base 0xFFFF0000: IP 0xFE00 is 0xFFFFFE00) and the flash under it, keeps
/// its first byte in BL, then hides itself through the LPC bridge's register 0x80 as the real
/// ROM does. Whatever still runs from the ROM after that says so.
fn test_rom() -> Vec<u8> {
    asm::assemble(512, 0xF4, |a| {
        a.section(16, 0xFE00, 0)?;
        let start = a.here()?;
        a.print("ROM\n")?;
        a.mov(al, byte_ptr(0xFDF0u32).cs())?;
        a.check_eq(al, u32::from(BELOW_ROM), "below ROM")?;
        a.mov(al, byte_ptr(0xFE00u32).cs())?;
        a.check_eq(al, ROM_FIRST_BYTE, "ROM byte")?;
        a.mov(bl, al)?;
        let hide = a.label();
        a.jmp(hide)?;
        a.bind(hide)?;
        a.mov(eax, 0x8000_0880u32)?;
        a.mov(dx, 0xCF8u32)?;
        a.out(dx, eax)?;
        a.mov(eax, 2u32)?;
        a.mov(dx, 0xCFCu32)?;
        a.out(dx, eax)?;
        a.db(&[0x90; PREFETCH_ALLOWANCE])?;
        // (The ROM has room for short messages only.)
        a.print("check 0 failed: ROM runs\n")?;
        let spin = a.here()?;
        a.hlt()?;
        a.jmp(spin)?;
        let start = a.addr(start);
        a.section(16, 0xFFF0, 0x1F0)?;
        a.jmp(u64::from(start))?;
        Ok(())
    })
    .unwrap_or_else(|e| panic!("test ROM: {e}"))
}

/// A flash whose top 512 bytes are NOPs ending in a jump to 16-bit code at IP 0x8000, which
/// checks that 0xFFFFFE00 now reads the flash and prints PASS.
fn flash_under_test_rom() -> Vec<u8> {
    asm::assemble(FLASH_SIZE, 0xFF, |a| {
        a.section(16, 0xFDF0, FLASH_SIZE - 0x210)?;
        a.db(&[BELOW_ROM])?;
        let check = a.label();
        a.section(16, 0xFE00, FLASH_SIZE - 0x200)?;
        a.db(&[0x90; 0x1F0])?;
        let check_ip = a.addr(check);
        a.jmp(u64::from(check_ip))?;
        a.section(16, 0x8000, FLASH_SIZE - 0x8000)?;
        a.bind(check)?;
        a.check_eq(bl, ROM_FIRST_BYTE, "the ROM's byte, read before the hide")?;
        a.mov(al, byte_ptr(0xFE00u32).cs())?;
        a.check_eq(al, 0x90, "0xFFFFFE00 reads the flash after the hide")?;
        // All of the ROM's 512 bytes are the flash's now: the NOPs, then the jump here.
        a.mov(si, 0xFE00u32)?;
        let next = a.here()?;
        a.mov(al, byte_ptr(si).cs())?;
        a.check_eq(al, 0x90, "the flash's NOPs after the hide")?;
        a.inc(si)?;
        a.cmp(si, 0xFFF0u32)?;
        a.jne(next)?;
        a.mov(ax, word_ptr(0xFFF1u32).cs())?;
        a.check_eq(
            ax,
            check_ip.wrapping_sub(0xFFF3) & 0xFFFF,
            "the flash's jump after the hide",
        )?;
        a.print("PASS\n")?;
        a.cli()?;
        let spin = a.here()?;
        a.hlt()?;
        a.jmp(spin)?;
        Ok(())
    })
    .unwrap_or_else(|e| panic!("flash: {e}"))
}

#[test]
fn a_test_rom_at_the_reset_vector_hides_itself_and_the_cpu_runs_on_in_flash() {
    let rom = test_rom();
    assert_eq!(u32::from(rom[0]), ROM_FIRST_BYTE);
    assert_eq!(rom[0x1F0], 0xE9, "the reset vector's near jump");
    let image = flash_under_test_rom();
    assert_eq!(image[FLASH_SIZE - 0x10], 0xE9, "the flash's near jump");
    let (mut machine, _scratch) = machine("mcpx-hide", &image, Some(&rom), Config::default());
    let lines = run_until_done(&mut machine, 5);
    assert_eq!(
        lines,
        ["ROM", "PASS"],
        "the ROM ran, hid itself and the CPU went on in flash"
    );
}

// ---------------------------------------------------------------------------------------------
// NV2A BAR1: all of RAM again, in a 128 MiB window

#[test]
fn nv2a_bar1_is_a_128_mib_window_onto_ram() {
    for mib in [64u32, 128] {
        let config = Config {
            ram_mib: mib,
            ..Config::default()
        };
        expect_pass(&format!("nv2a-bar1-{mib}"), config, 10, |a| {
            let alias = 0xF000_0000u32;
            let bar1 = config_address(1, 0, 0, 0x14);
            let command = config_address(1, 0, 0, 0x04);
            let ram_end = mib << 20;
            a.mov(dword_ptr(0x0012_3450u32), 0x1234_5678u32)?;
            a.mov(dword_ptr(ram_end - 4), 0x0BAD_CAFEu32)?;
            if mib == 128 {
                a.mov(dword_ptr(0x0412_3450u32), 0x5566_7788u32)?;
            }
            pci_write(a, bar1, alias)?;
            pci_read(a, bar1)?;
            // The wiki's dump: a prefetchable 32-bit memory BAR.
            a.check_eq(eax, 0xF000_0008u32, "NV2A BAR1 reads back")?;
            a.mov(eax, dword_ptr(alias + 0x0012_3450))?;
            a.check_eq(eax, -1, "BAR1 before memory decoding is enabled")?;
            pci_write(a, command, 2)?;

            a.mov(eax, dword_ptr(alias + 0x0012_3450))?;
            a.check_eq(eax, 0x1234_5678, "RAM read through BAR1")?;
            a.mov(al, byte_ptr(alias + 0x0012_3451))?;
            a.check_eq(al, 0x56, "a byte of RAM through BAR1")?;
            a.mov(dword_ptr(alias + 0x0012_3454), 0x9ABC_DEF0u32)?;
            a.mov(eax, dword_ptr(0x0012_3454u32))?;
            a.check_eq(eax, 0x9ABC_DEF0u32, "RAM written through BAR1")?;
            // Past 64 MiB: the wrap on a retail console, the second half on a 128 MiB one.
            a.mov(eax, dword_ptr(alias + 0x0412_3450))?;
            let expected = if mib == 64 {
                0x1234_5678u32
            } else {
                0x5566_7788
            };
            a.check_eq(eax, expected, "BAR1 + 64 MiB + 0x123450")?;
            a.mov(eax, dword_ptr(alias + 0x07FF_FFFC))?;
            a.check_eq(eax, 0x0BAD_CAFE, "the last dword of the window")?;
            a.mov(eax, dword_ptr(alias + 0x0800_0000))?;
            a.check_eq(eax, -1, "past the 128 MiB window")?;

            pci_write(a, command, 0)?;
            a.mov(eax, dword_ptr(alias + 0x0012_3450))?;
            a.check_eq(eax, -1, "BAR1 after memory decoding is disabled")?;
            pass(a)
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Flash mirrors of a 1 MiB image

#[test]
fn a_1_mib_flash_is_mirrored_every_mib() {
    const MIB: usize = 1 << 20;
    // Marks at the start of each 256 KiB quarter and at the very end.
    let marks: [(usize, u32); 4] = [
        (0x4_0010, 0x1111_1111),
        (0x8_0020, 0x2222_2222),
        (0xC_0030, 0x3333_3333),
        (MIB - 16, 0x4444_4444),
    ];
    let program = |a: &mut Asm| -> Result {
        for &(offset, value) in &marks {
            let offset = offset as u32;
            for base in [0xFF00_0000u32, 0xFF10_0000, 0xFF80_0000, 0xFFF0_0000] {
                a.mov(eax, dword_ptr(base + offset))?;
                a.check_eq(
                    eax,
                    value,
                    &format!("flash offset {offset:#x} at {:#x}", base + offset),
                )?;
            }
        }
        // The program's own first bytes, in every mirror.
        a.mov(eax, dword_ptr(CODE))?;
        for mirror in [0xFF10_1000u32, 0xFFF0_1000] {
            a.cmp(eax, dword_ptr(mirror))?;
            a.check(Cc::E, &format!("flash mirror at {mirror:#X}"))?;
        }
        // A 1 MiB image is not a 256 KiB one repeated.
        a.cmp(eax, dword_ptr(CODE + 0x4_0000))?;
        a.check(Cc::Ne, "0xFF041000 is not a mirror of 0xFF001000")?;
        pass(a)
    };
    let mut image = flash(program);
    image.resize(MIB, 0xC3);
    for (offset, value) in marks {
        image[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
    }
    let (mut machine, _scratch) = machine("flash-1mib", &image, None, Config::default());
    let lines = run_until_done(&mut machine, 10);
    assert!(
        lines.iter().any(|l| l.starts_with("PASS")),
        "the guest did not pass; it printed:\n{}",
        lines.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The EEPROM file

/// The wiki's "Read Checksum Algorithm", written out again here.
fn wiki_section_checksum(section: &[u8]) -> u32 {
    let mut checksum = 0u64;
    let mut carry_count = 0u64;
    for word in section.chunks_exact(4) {
        checksum += u64::from(u32::from_le_bytes(word.try_into().unwrap()));
        if checksum > 0xFFFF_FFFF {
            carry_count += 1;
            checksum &= 0xFFFF_FFFF;
        }
    }
    checksum += carry_count;
    if checksum > 0xFFFF_FFFF {
        checksum += 1;
    }
    checksum as u32
}

#[test]
fn a_new_eeprom_file_is_valid_for_its_revision_only() {
    // Region codes and video standards as the wiki's EEPROM page lists them.
    let cases = [
        (
            Revision::Debug,
            Region::Japan,
            0x02,
            VideoStandard::NtscJ,
            0x0040_0200,
        ),
        (
            Revision::Retail10,
            Region::NorthAmerica,
            0x01,
            VideoStandard::NtscM,
            0x0040_0100,
        ),
        (
            Revision::Retail11,
            Region::Europe,
            0x04,
            VideoStandard::PalI,
            0x0080_0300,
        ),
        (
            Revision::Retail16,
            Region::NorthAmerica,
            0x01,
            VideoStandard::PalM,
            0x0040_0400,
        ),
    ];
    let image = flash(pass);
    for (revision, region, region_code, standard, standard_code) in cases {
        let config = Config {
            eeprom: EepromSettings {
                revision,
                region,
                video_standard: standard,
                ..EepromSettings::default()
            },
            ..Config::default()
        };
        let (_machine, scratch) = machine(&format!("eeprom-{revision:?}"), &image, None, config);
        let path = eeprom_file(&scratch);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{revision:?}: {e}"));
        let bytes: [u8; 256] = bytes.try_into().expect("the file is 256 bytes");
        let decoded = eeprom::verify(&bytes, revision)
            .unwrap_or_else(|e| panic!("{revision:?} rejects its own EEPROM: {e}"));
        assert_eq!(decoded.region, region_code, "{revision:?} region");
        assert_eq!(
            decoded.video_standard, standard_code,
            "{revision:?} video standard"
        );
        assert_eq!(
            bytes[0x58..0x5C],
            standard_code.to_le_bytes(),
            "{revision:?}: the video standard is stored in plain text"
        );
        assert_eq!(
            bytes[0x40..0x43],
            [0x00, 0x50, 0xF2],
            "{revision:?} MAC prefix"
        );
        assert!(
            bytes[0x34..0x40].iter().all(u8::is_ascii_digit),
            "{revision:?}: the serial number is ASCII digits"
        );
        assert_eq!(
            wiki_section_checksum(&bytes[0x30..0x60]),
            0xFFFF_FFFF,
            "{revision:?} factory"
        );
        assert_eq!(
            wiki_section_checksum(&bytes[0x60..0xC0]),
            0xFFFF_FFFF,
            "{revision:?} user"
        );
        for other in Revision::ALL.into_iter().filter(|&r| r != revision) {
            assert!(
                eeprom::verify(&bytes, other).is_err(),
                "the {other:?} key accepts a {revision:?} EEPROM"
            );
        }
    }
}

/// Writes EEPROM byte 0xF0 (outside both checked sections) over the SMBus, reads the factory
/// section back and checks it.
fn eeprom_writer(a: &mut Asm) -> Result {
    let routine = a.label();
    smbus_enable(a)?;
    smbus_write(a, routine, EEPROM, 0xF0, 0xA5, "EEPROM byte 0xF0")?;
    smbus_read(a, routine, EEPROM, 0xF0, "EEPROM byte 0xF0")?;
    a.check_eq(eax, 0xA5, "EEPROM byte 0xF0 reads back")?;
    eeprom_to_ram(a, routine, 0x30..0x60)?;
    check_section_sum(a, 0x30..0x60, "EEPROM factory section checksum")?;
    pass(a)?;
    smbus_routine(a, routine)
}

#[test]
fn the_guest_s_eeprom_write_reaches_the_file() {
    let (mut machine, scratch) = machine(
        "eeprom-write",
        &flash(eeprom_writer),
        None,
        Config::default(),
    );
    let before = std::fs::read(eeprom_file(&scratch)).expect("the EEPROM file exists");
    let lines = run_until_done(&mut machine, 10);
    assert!(lines.iter().any(|l| l.starts_with("PASS")), "{lines:?}");
    let after = std::fs::read(eeprom_file(&scratch)).expect("the EEPROM file exists");
    let mut expected = before;
    expected[0xF0] = 0xA5;
    assert_eq!(after, expected, "the file after the guest's write");
}

#[test]
fn an_eeprom_file_of_the_wrong_size_is_left_alone() {
    let scratch = Scratch::new("eeprom-wrong-size");
    scratch.put(FLASH_FILE, &flash(eeprom_writer));
    let path = eeprom_file(&scratch);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let odd: Vec<u8> = (0..100u8).collect();
    std::fs::write(&path, &odd).unwrap();
    let mut machine = Machine::new(Config {
        system_dir: Some(scratch.system()),
        save_dir: Some(scratch.save()),
        flash_file: FLASH_FILE.into(),
        ..Config::default()
    });
    let notices = machine.take_notices();
    assert!(
        notices.iter().any(|n| n.contains("eeprom.bin")),
        "a notice names the file: {notices:?}"
    );
    // The machine runs on a generated EEPROM, and the guest's write does not reach the file.
    let lines = run_until_done(&mut machine, 10);
    assert!(lines.iter().any(|l| l.starts_with("PASS")), "{lines:?}");
    assert_eq!(std::fs::read(&path).unwrap(), odd, "the file is untouched");
}

// ---------------------------------------------------------------------------------------------
// A retail-style flash without the real ROM

#[test]
fn a_flash_without_the_visor_jump_needs_the_mcpx_rom() {
    let cases = [
        ("exit only", Xcodes::default().op(xcode::EXIT, 0, 0)),
        (
            "a POKE above the first 16 bytes",
            Xcodes::default()
                .op(xcode::POKE, 0x1000, 0x9090_9090)
                .op(xcode::EXIT, 0, 0),
        ),
    ];
    for (what, xcodes) in cases {
        let image = flash_with(xcodes, |a| {
            a.print("RAN\n")?;
            pass(a)
        });
        let (mut machine, _scratch) = machine("retail", &image, None, Config::default());
        let lines = run_until_done(&mut machine, 5);
        // The console's log carries the message too; the guest itself never ran.
        let guest: Vec<&String> = lines
            .iter()
            .filter(|l| !l.contains("needs the MCPX boot ROM"))
            .collect();
        assert!(guest.is_empty(), "{what}: the guest printed {guest:?}");
        let notices = machine.take_notices();
        assert!(
            notices
                .iter()
                .any(|n| n.contains("needs the MCPX boot ROM")),
            "{what}: {notices:?}"
        );
    }
}
