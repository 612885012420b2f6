//! Oxbox's built-in boot ROM: a flash image built at run time, for users without a flash BIOS
//! of their own. It boots like open firmware does and drives the hardware through the same
//! paths the real kernel uses, so it exercises the emulated board and NV2A as a guest would:
//!
//! 1. X-codes ([`xcodes`]) program the PCI BARs and leave the visor jump at RAM address 0; the
//!    MCPX (real or high-level) then enters the x86 code at [`CODE`] in flat protected mode.
//! 2. The x86 code ([`program`]) logs each phase to the debug console (port 0xE9, lines
//!    starting "bootrom: "), programs the video encoder over the SMBus ([`encoder`]), reads the
//!    SMC version, sets the NV2A to 640x480 X8R8G8B8 and sets up a PFIFO DMA channel with
//!    objects in PRAMIN ([`nv2a`]), expands the font into a glyph atlas in RAM and draws the
//!    screen ([`layout`]) by pushing Kelvin clears and 2D blits, then halts, woken by vblank.
//!
//! Where the hardware can answer, the code checks it (the SMC's version string, PMC_BOOT_0,
//! DMA_GET reaching DMA_PUT) and prints "bootrom: FAIL ..." when it does not, then carries on.
//! Every wait is bounded by the ACPI PM timer.

pub mod encoder;
pub mod layout;
pub mod nv2a;
pub mod program;
pub mod xcodes;

use crate::firmware::{FileError, Firmware};
use crate::machine::Config;
use crate::mcpx::smc::AvPack;
use crate::mcpx::video_encoder::Encoder;

/// The image's size: the smallest flash chip (mirrored across the top 16 MiB).
pub const FLASH_SIZE: usize = 256 * 1024;
/// Where the flash is seen by the CPU (its top 16 MiB mirror; offset 0 of the chip).
pub const FLASH_BASE: u32 = 0xFF00_0000;
/// The x86 entry point (flash offset 0x1000), where the visor jump lands.
pub const CODE: u32 = FLASH_BASE + 0x1000;
/// The image's own GDT (flash offset 0xF00): the MCPX's lives in its ROM, which is hidden.
pub const GDT: u32 = FLASH_BASE + 0xF00;
/// Tables the x86 code walks (flash offset 0x20000), laid out by the builder.
pub const DATA: u32 = FLASH_BASE + 0x2_0000;
/// The flash offset of the X-code table, where the MCPX starts interpreting.
pub const XCODE_OFFSET: usize = 0x80;

/// The file name under which tests and the machine hand the image to the board.
pub const FILE_NAME: &str = "oxbox_bootrom.bin";

/// What the ROM shows: who it is, what was found of the user's files and the machine's
/// configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootInfo {
    /// The core's version, shown after its name.
    pub version: String,
    /// The firmware files looked for, in order.
    pub files: Vec<FileFinding>,
    /// The folders searched for them.
    pub searched: Vec<String>,
    /// 64 or 128: used if the NV2A does not report the RAM size itself.
    pub ram_mib: u32,
    pub encoder: Encoder,
    pub av_pack: AvPack,
}

/// One user file: what it is, its name, and where it was found or why it is unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileFinding {
    /// For people: "MCPX boot ROM".
    pub what: String,
    pub name: String,
    pub status: FileStatus,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileStatus {
    /// Found at this path.
    Found(String),
    /// Not usable: a short reason ("missing") and what the file must be.
    Missing { problem: String, expected: String },
}

impl BootInfo {
    /// The findings of `firmware` and the board of `config`.
    pub fn new(config: &Config, firmware: &Firmware) -> BootInfo {
        let finding = |what: &str, result: Result<&std::path::PathBuf, &FileError>| match result {
            Ok(path) => FileFinding {
                what: what.into(),
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                status: FileStatus::Found(path.display().to_string()),
            },
            Err(e) => FileFinding {
                what: what.into(),
                name: e.name.clone(),
                status: FileStatus::Missing {
                    problem: e.short(),
                    expected: e.expected.into(),
                },
            },
        };
        BootInfo {
            version: crate::VERSION.into(),
            files: vec![
                finding(
                    "MCPX boot ROM",
                    firmware.mcpx.as_ref().map(|r| &r.path).map_err(|e| &**e),
                ),
                finding(
                    "Flash BIOS",
                    firmware.flash.as_ref().map(|f| &f.path).map_err(|e| &**e),
                ),
            ],
            searched: firmware
                .searched
                .iter()
                .map(|d| d.display().to_string())
                .collect(),
            ram_mib: if config.ram_mib == 128 { 128 } else { 64 },
            encoder: config.encoder,
            av_pack: config.av_pack,
        }
    }
}

/// The flash image: X-codes at 0x80, the GDT at 0xF00, code at 0x1000, tables at 0x20000.
pub fn build(info: &BootInfo) -> Vec<u8> {
    let screen = layout::Screen::new(info);
    let mut image = program::assemble(info, &screen)
        // The program text is fixed and its tables are bounded by the layout (see
        // `layout::MAX_*`), so assembly fails only on a bug, which the tests catch.
        .expect("the boot ROM assembles");
    let codes = xcodes::table();
    image[XCODE_OFFSET..XCODE_OFFSET + codes.len()].copy_from_slice(&codes);
    image
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firmware::DEFAULT_FLASH_FILE;

    #[test]
    fn boot_info_reports_the_findings_and_the_board() {
        let firmware = Firmware::locate(None, DEFAULT_FLASH_FILE);
        let config = Config {
            ram_mib: 128,
            encoder: Encoder::Xcalibur,
            ..Config::default()
        };
        let info = BootInfo::new(&config, &firmware);
        assert_eq!(info.ram_mib, 128);
        assert_eq!(info.encoder, Encoder::Xcalibur);
        assert!(info.searched.is_empty());
        let names: Vec<&str> = info.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["mcpx_1.0.bin", DEFAULT_FLASH_FILE]);
        assert!(info.files.iter().all(|f| matches!(
            &f.status,
            FileStatus::Missing { problem, .. } if problem == "no system directory"
        )));
        let odd = BootInfo::new(
            &Config {
                ram_mib: 100,
                ..Config::default()
            },
            &firmware,
        );
        assert_eq!(odd.ram_mib, 64);
    }
}
