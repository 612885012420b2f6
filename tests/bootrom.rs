//! The built-in boot ROM on the emulated console: the image is built, booted through the
//! high-level MCPX as the flash, and judged by what it prints on the debug console (each phase
//! prints a "bootrom: ..." line; wrong hardware answers print "bootrom: FAIL ...") and, once
//! the NV2A draws, by the framebuffer it leaves in RAM.

use oxbox::bootrom::layout::{self, PALETTE, Screen};
use oxbox::bootrom::{self, BootInfo, FileFinding, FileStatus, encoder, nv2a};
use oxbox::input::{Gamepad, PORTS};
use oxbox::machine::{Config, Machine};
use oxbox::mcpx::smc::AvPack;
use oxbox::mcpx::video_encoder::Encoder;
use oxbox::screen::font;
use std::path::PathBuf;

fn info(encoder: Encoder, ram_mib: u32) -> BootInfo {
    BootInfo {
        version: oxbox::VERSION.into(),
        files: vec![
            FileFinding {
                what: "MCPX boot ROM".into(),
                name: "mcpx_1.0.bin".into(),
                status: FileStatus::Missing {
                    problem: "missing".into(),
                    expected: "exactly 512 bytes".into(),
                },
            },
            FileFinding {
                what: "Flash BIOS".into(),
                name: "Complex_4627.bin".into(),
                status: FileStatus::Missing {
                    problem: "missing".into(),
                    expected: "256 KiB, 512 KiB, 768 KiB or 1 MiB".into(),
                },
            },
        ],
        searched: vec!["/home/user/retroarch/system".into()],
        ram_mib,
        encoder,
        av_pack: AvPack::Composite,
    }
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("oxbox-bootrom-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("system")).unwrap();
        std::fs::create_dir_all(dir.join("save")).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Boots the image built from `info` and runs until the ROM halts (and a few frames more for
/// the vblank), returning the machine and the ROM's lines.
fn boot(name: &str, info: &BootInfo) -> (Machine, Vec<String>, Scratch) {
    let scratch = Scratch::new(name);
    let image = bootrom::build(info);
    std::fs::write(scratch.0.join("system").join(bootrom::FILE_NAME), &image).unwrap();
    let mut machine = Machine::new(Config {
        system_dir: Some(scratch.0.join("system")),
        save_dir: Some(scratch.0.join("save")),
        flash_file: bootrom::FILE_NAME.into(),
        ram_mib: info.ram_mib,
        encoder: info.encoder,
        av_pack: info.av_pack,
        ..Config::default()
    });
    let pads = [Gamepad::default(); PORTS];
    let mut lines = Vec::new();
    let mut after_done = None;
    for _ in 0..120 {
        machine.run_frame(&pads);
        lines.extend(machine.take_guest_log());
        if after_done.is_none() && lines.iter().any(|l| l.starts_with("bootrom: done")) {
            after_done = Some(0);
        }
        if let Some(n) = &mut after_done {
            *n += 1;
            if *n > 3 {
                break;
            }
        }
    }
    (machine, lines, scratch)
}

fn has(lines: &[String], start: &str) -> bool {
    lines.iter().any(|l| l.starts_with(start))
}

fn assert_has(lines: &[String], start: &str) {
    assert!(
        has(lines, start),
        "no line starting {start:?} in:\n{}",
        lines.join("\n")
    );
}

/// The phases before the NV2A's: the X-codes' PCI set-up, the encoder, the SMC.
fn assert_board_phases(lines: &[String], info: &BootInfo) {
    assert_has(lines, "bootrom: start");
    assert_has(lines, "bootrom: PCI resources assigned");
    let writes = encoder::writes(info.encoder).len();
    assert_has(
        lines,
        &format!("bootrom: encoder programmed: {writes} writes"),
    );
    assert_has(lines, "bootrom: encoder readback ok");
    assert_has(lines, "bootrom: SMC version P01");
    let smc = lines
        .iter()
        .position(|l| l.starts_with("bootrom: SMC version"))
        .unwrap();
    assert!(
        !lines[..smc].iter().any(|l| l.starts_with("bootrom: FAIL")),
        "failures before the NV2A phases:\n{}",
        lines.join("\n")
    );
}

/// Every phase prints its line, whatever the NV2A answers.
fn assert_every_phase_ran(lines: &[String], info: &BootInfo) {
    assert_board_phases(lines, info);
    assert_has(lines, "bootrom: NV2A PMC_BOOT_0");
    assert_has(lines, &format!("bootrom: RAM {} MiB", info.ram_mib));
    assert_has(lines, "bootrom: mode set: 640x480");
    assert_has(lines, "bootrom: PFIFO channel 0 in DMA mode");
    assert_has(lines, "bootrom: glyph atlas: 6 colours");
    // The fields: "P01" and the RAM size's digits.
    let screen = Screen::new(info);
    let drawn = screen.glyph_count() + 3 + info.ram_mib.to_string().len();
    assert_has(lines, &format!("bootrom: text: {drawn} characters"));
    assert_has(lines, "bootrom: done");
}

#[test]
fn the_image_is_a_flash_with_xcodes_at_0x80_and_code_at_0x1000() {
    for encoder in [Encoder::Conexant, Encoder::Focus, Encoder::Xcalibur] {
        let image = bootrom::build(&info(encoder, 64));
        assert_eq!(image.len(), bootrom::FLASH_SIZE);
        // POKEPCI to the AGP bridge first; lgdt at the entry point.
        assert_eq!(image[0x80], 0x04);
        assert_eq!(&image[0x1000..0x1002], &[0x0F, 0x01]);
    }
}

#[test]
fn every_phase_runs_and_the_board_answers() {
    let info = info(Encoder::Conexant, 64);
    let (_machine, lines, _scratch) = boot("conexant", &info);
    assert_every_phase_ran(&lines, &info);
}

#[test]
fn the_focus_and_xcalibur_encoders_take_their_own_tables() {
    for (name, encoder) in [("focus", Encoder::Focus), ("xcalibur", Encoder::Xcalibur)] {
        let info = info(encoder, 128);
        let (_machine, lines, _scratch) = boot(name, &info);
        assert_board_phases(&lines, &info);
        assert_has(&lines, "bootrom: RAM 128 MiB");
    }
}

/// The screen as the NV2A should leave it: the rectangles, then every character copied whole
/// (glyph and background) from its colour's atlas strip.
fn expected_picture(info: &BootInfo) -> Vec<u32> {
    let screen = Screen::new(info);
    let (w, h) = (layout::WIDTH as usize, layout::HEIGHT as usize);
    let mut picture = vec![PALETTE[0]; w * h];
    for r in &screen.rects {
        for y in r.y..r.y + r.h {
            for x in r.x..r.x + r.w {
                picture[usize::from(y) * w + usize::from(x)] = r.colour;
            }
        }
    }
    let mut text = |x: u16, y: u16, colour: u8, s: &[u8]| {
        for (k, &c) in s.iter().enumerate().filter(|&(_, &c)| c != b' ') {
            for (row, bits) in font::glyph(c as char).iter().enumerate() {
                for col in 0..8 {
                    let lit = bits & (0x80 >> col) != 0;
                    let px = usize::from(x) + 8 * k + col;
                    let py = usize::from(y) + row;
                    picture[py * w + px] = if lit {
                        PALETTE[usize::from(colour)]
                    } else {
                        PALETTE[0]
                    };
                }
            }
        }
    };
    for line in &screen.lines {
        text(line.x, line.y, line.colour, &line.text);
    }
    let f = screen.smc_version;
    text(f.x, f.y, f.colour, b"P01");
    let f = screen.ram_mib;
    text(
        f.x,
        f.y,
        f.colour,
        format!("{:>3}", info.ram_mib).as_bytes(),
    );
    picture
}

#[test]
#[ignore = "needs the NV2A"]
fn the_nv2a_draws_the_screen_and_interrupts_on_vblank() {
    let info = info(Encoder::Conexant, 64);
    let (machine, lines, _scratch) = boot("nv2a", &info);
    assert_every_phase_ran(&lines, &info);
    assert!(
        !lines.iter().any(|l| l.starts_with("bootrom: FAIL")),
        "{}",
        lines.join("\n")
    );
    assert_has(&lines, "bootrom: RAM 64 MiB (NV2A PFB CSTATUS)");
    assert_has(
        &lines,
        "bootrom: pushbuffer kick 1: DMA_GET reached DMA_PUT",
    );
    assert_has(
        &lines,
        "bootrom: pushbuffer kick 2: DMA_GET reached DMA_PUT",
    );
    assert_has(&lines, "bootrom: vblank");
    let ram = &machine.console().expect("a console").board.ram;
    let expected = expected_picture(&info);
    let at = nv2a::FRAMEBUFFER as usize;
    let wrong: Vec<(usize, u32, u32)> = expected
        .iter()
        .enumerate()
        .map(|(k, &e)| {
            let b = &ram[at + 4 * k..at + 4 * k + 4];
            (
                k,
                u32::from_le_bytes([b[0], b[1], b[2], b[3]]) & 0x00FF_FFFF,
                e,
            )
        })
        .filter(|&(_, got, e)| got != e)
        .take(5)
        .collect();
    assert!(
        wrong.is_empty(),
        "pixels (index, got, expected): {wrong:x?}"
    );
}
