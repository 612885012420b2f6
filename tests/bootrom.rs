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

/// The offset the last kick handed to DMA_PUT, from its log line.
fn last_put(lines: &[String]) -> usize {
    let line = lines
        .iter()
        .rev()
        .find(|l| l.contains("pushbuffer kick 2"))
        .expect("a second kick");
    let hex = line.rsplit(' ').next().unwrap_or_default();
    usize::from_str_radix(hex, 16).expect("DMA_PUT in hex")
}

/// Replays the pushbuffer the ROM left in RAM through a minimal interpreter of the methods it
/// uses (offsets and formats written out here from xemu's nv2a_regs.h, apart from the ROM's own
/// constants) and returns the picture that leaves at the framebuffer.
fn replay_pushbuffer(ram: &[u8], put: usize) -> Vec<u32> {
    let word = |at: usize| u32::from_le_bytes(ram[at..at + 4].try_into().unwrap());
    let (w, h) = (layout::WIDTH as usize, layout::HEIGHT as usize);
    let mut picture = vec![0u32; w * h];
    let mut bound = [0u32; 8];
    let mut kelvin = std::collections::HashMap::new();
    let mut surfaces = std::collections::HashMap::new();
    let mut blit = std::collections::HashMap::new();
    let base = nv2a::PUSHBUFFER as usize;
    let mut at = base;
    while at < base + put {
        let header = word(at);
        assert_eq!(
            header & 0xE003_0003,
            0,
            "an increasing-methods header at {at:#x}"
        );
        let (method, sub, count) = (header & 0x1FFC, (header >> 13 & 7) as usize, header >> 18);
        for k in 0..count {
            let (m, v) = (method + 4 * k, word(at + 4 + 4 * k as usize));
            if m == 0 {
                bound[sub] = v;
                continue;
            }
            match bound[sub] {
                0x0D => {
                    kelvin.insert(m, v);
                    if m == 0x1D94 {
                        // CLEAR_SURFACE of colour into the bound surface's clear rectangle.
                        assert_eq!(v & 0xF0, 0xF0);
                        assert_eq!(kelvin[&0x194], 0x02, "colour DMA: the RAM window");
                        assert_eq!(kelvin[&0x208] & 0xF, 5, "X8R8G8B8_O8R8G8B8");
                        assert_eq!(kelvin[&0x20C] & 0xFFFF, 2560);
                        assert_eq!(kelvin[&0x210], nv2a::FRAMEBUFFER);
                        let (hr, vr) = (kelvin[&0x1D98], kelvin[&0x1D9C]);
                        for y in (vr & 0xFFF)..=(vr >> 16 & 0xFFF) {
                            for x in (hr & 0xFFF)..=(hr >> 16 & 0xFFF) {
                                picture[y as usize * w + x as usize] = kelvin[&0x1D90] & 0xFF_FFFF;
                            }
                        }
                    }
                }
                0x11 => {
                    surfaces.insert(m, v);
                }
                0x10 => {
                    blit.insert(m, v);
                    if m == 0x308 {
                        // SIZE starts a copy from the source surface to the destination.
                        assert_eq!(blit[&0x19C], 0x11);
                        assert_eq!(blit[&0x2FC], 3, "SRCCOPY");
                        assert_eq!(surfaces[&0x300], 7, "X8R8G8B8");
                        assert_eq!((surfaces[&0x184], surfaces[&0x188]), (0x02, 0x02));
                        assert_eq!(surfaces[&0x30C], nv2a::FRAMEBUFFER);
                        let (src_pitch, dst_pitch) =
                            (surfaces[&0x304] & 0xFFFF, surfaces[&0x304] >> 16);
                        assert_eq!(dst_pitch, 2560);
                        let (input, out) = (blit[&0x300], blit[&0x304]);
                        for y in 0..v >> 16 {
                            for x in 0..v & 0xFFFF {
                                let src = surfaces[&0x308]
                                    + ((input >> 16) + y) * src_pitch
                                    + ((input & 0xFFFF) + x) * 4;
                                let (px, py) = ((out & 0xFFFF) + x, (out >> 16) + y);
                                picture[py as usize * w + px as usize] =
                                    word(src as usize) & 0xFF_FFFF;
                            }
                        }
                    }
                }
                handle => panic!("method {m:#x} on subchannel {sub} bound to {handle:#x}"),
            }
        }
        at += 4 + 4 * count as usize;
    }
    assert_eq!(at, base + put, "the last command ends at DMA_PUT");
    picture
}

fn assert_same_picture(got: &[u32], expected: &[u32]) {
    let wrong: Vec<(usize, u32, u32)> = got
        .iter()
        .zip(expected)
        .enumerate()
        .filter(|&(_, (g, e))| g != e)
        .map(|(k, (&g, &e))| (k, g, e))
        .take(5)
        .collect();
    assert!(
        wrong.is_empty(),
        "pixels (index, got, expected): {wrong:x?}"
    );
}

#[test]
fn the_pushbuffer_and_atlas_in_ram_make_the_screen() {
    let info = info(Encoder::Conexant, 64);
    let (machine, lines, _scratch) = boot("replay", &info);
    let ram = &machine.console().board.ram;
    let picture = replay_pushbuffer(ram, last_put(&lines));
    assert_same_picture(&picture, &expected_picture(&info));
}

/// The ROM's mode set through the NV2A's display blocks (not yet on the board's BAR0): they
/// scan out 640x480 X8R8G8B8 from the ROM's framebuffer, and PFB reports the RAM size the ROM
/// reads.
#[test]
fn the_nv2a_display_blocks_take_the_rom_mode() {
    use oxbox::bootrom::xcodes::NV2A_BAR0;
    use oxbox::frame::PixelFormat;
    use oxbox::nv2a::scanout::{Display, Scanout};
    let mut display = Display::new(64 << 20);
    for op in nv2a::mode_set(64) {
        let [kind, at, value, count] = op.encode();
        for k in 0..count {
            let size = if kind == 2 { 1 } else { 4 };
            display.write(0, at - NV2A_BAR0 + 4 * k, size, value);
        }
    }
    assert_eq!(
        display.scanout(),
        Some(Scanout {
            width: 640,
            height: 480,
            pitch: 2560,
            format: PixelFormat::X8R8G8B8,
            start: nv2a::FRAMEBUFFER,
            interlaced: false,
            blank: false,
        })
    );
    assert_eq!(display.read(0, nv2a::PFB_CSTATUS, 4), 64 << 20);
    assert_eq!(display.read(0, nv2a::PCRTC_START, 4), nv2a::FRAMEBUFFER);
}

/// The ROM's channel set-up and the pushbuffer it left in RAM, run through the NV2A's own
/// PFIFO and PGRAPH (not yet on the board's BAR0): the same picture in RAM.
#[test]
fn the_nv2a_pfifo_and_pgraph_draw_the_rom_pushbuffer() {
    use oxbox::bootrom::xcodes::NV2A_BAR0;
    use oxbox::nv2a::{self as gpu, Memory, pfifo::Pfifo, pgraph::Pgraph};
    let info = info(Encoder::Conexant, 64);
    let (machine, lines, _scratch) = boot("gpu", &info);
    let mut ram = machine.console().board.ram.clone();
    let put = last_put(&lines) as u32;
    let mut pramin = vec![0u8; gpu::PRAMIN_SIZE];
    let (mut pfifo, mut pgraph) = (Pfifo::new(), Pgraph::new());
    for op in nv2a::pfifo_setup(info.ram_mib) {
        let [kind, at, value, count] = op.encode();
        for k in 0..count {
            let offset = at - NV2A_BAR0 + 4 * k;
            assert!(kind != 2, "PFIFO set-up is dword writes");
            match offset {
                0x00_2000..0x00_4000 => pfifo.write(offset - 0x2000, 4, value),
                0x40_0000..0x40_2000 => pgraph.write(offset - 0x40_0000, 4, value),
                0x70_0000..0x80_0000 => {
                    gpu::write_u32(&mut pramin, (offset - 0x70_0000) as usize, value)
                }
                _ => {}
            }
        }
    }
    pfifo.user_write(&mut pramin, 0x40, 4, put);
    let mut mem = Memory {
        ram: &mut ram,
        pramin: &mut pramin,
    };
    pfifo.run(&mut mem, &mut pgraph, 1_000_000);
    assert_eq!(
        pfifo.user_read(&pramin, 0x44, 4),
        put,
        "DMA_GET reached DMA_PUT"
    );
    assert_eq!(pgraph.last_ignored(), None, "every method had its effect");
    let at = nv2a::FRAMEBUFFER as usize;
    let (w, h) = (layout::WIDTH as usize, layout::HEIGHT as usize);
    let framebuffer: Vec<u32> = ram[at..at + 4 * w * h]
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) & 0x00FF_FFFF)
        .collect();
    assert_same_picture(&framebuffer, &expected_picture(&info));
}

#[test]
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
    let ram = &machine.console().board.ram;
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
