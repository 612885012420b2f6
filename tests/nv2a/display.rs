//! Scan-out through the whole NV2A: each Xbox mode in each pixel format, set through BAR0 as
//! the kernel does it (scanout::mode_set_writes), shows the framebuffer as it lies in RAM; and
//! on the whole machine the built-in boot ROM's screen reaches the frame output.
//!
//! Sources: the modes' sizes and totals from CEA-861 (640x480 and 720x480 at 525 lines, 720p
//! 1650x750, 1080i 2200x1125 with 540 lines a field); pixel layouts: X1R5G5B5 and R5G6B5 as
//! 16-bit little-endian words, X8R8G8B8 as 32-bit ones (CR28 depth 2/3 and PRAMDAC
//! GENERAL_CONTROL ALT_MODE_SEL, nouveau nvreg.h); the scan-out start from PCRTC START (xemu
//! nv2a_regs.h); the boot ROM's mode (640x480 X8R8G8B8 at its FRAMEBUFFER, pitch 2560).

use super::rig::{PCRTC_START, Rig};
use oxbox::bootrom::nv2a::FRAMEBUFFER;
use oxbox::frame::PixelFormat;
use oxbox::input::{Gamepad, PORTS};
use oxbox::machine::{Config, Machine};
use oxbox::nv2a::Nv2a;
use oxbox::nv2a::scanout::{ModeRequest, mode_set_writes};

const RAM: usize = 32 << 20;
const START: u32 = 0x0100_0000;

fn mode(width: u32, height: u32, format: PixelFormat) -> ModeRequest {
    let (htotal, vtotal, interlaced) = match (width, height) {
        (640, 480) => (800, 525, false),
        (720, 480) => (858, 525, false),
        (1280, 720) => (1650, 750, false),
        _ => (2200, 1125, true),
    };
    ModeRequest {
        width,
        height,
        format,
        interlaced,
        start: START,
        htotal,
        vtotal,
    }
}

/// The test pattern: a value for every pixel that differs between neighbours, in the
/// format's width (X1R5G5B5's unused bit 15 included: scan-out hands the stored word on).
fn pattern(x: u32, y: u32, format: PixelFormat) -> u32 {
    let v = (x.wrapping_mul(0x9E37) ^ y.wrapping_mul(0x7F4A_7C15)).rotate_left(x % 7) ^ y << 8;
    match format {
        PixelFormat::X8R8G8B8 => v,
        _ => v & 0xFFFF,
    }
}

/// Stores the pattern as the guest would: rows `pitch` bytes apart from `start`.
fn fill(ram: &mut [u8], start: u32, width: u32, height: u32, format: PixelFormat) -> u32 {
    let bpp = format.bytes_per_pixel() as u32;
    let pitch = width * bpp;
    for y in 0..height {
        for x in 0..width {
            let at = (start + y * pitch + x * bpp) as usize;
            let bytes = pattern(x, y, format).to_le_bytes();
            ram[at..at + bpp as usize].copy_from_slice(&bytes[..bpp as usize]);
        }
    }
    pitch
}

#[test]
fn every_mode_and_format_scans_out_the_framebuffer() {
    let mut ram = vec![0u8; RAM];
    for (width, height) in [(640, 480), (720, 480), (1280, 720), (1920, 1080)] {
        for format in PixelFormat::ALL {
            let what = format!("{width}x{height} {format:?}");
            let mut gpu = Nv2a::new(RAM as u32);
            assert!(gpu.picture(&ram).is_none(), "{what}: nothing before a mode");
            for (offset, size, value) in mode_set_writes(&mode(width, height, format)) {
                gpu.write(&mut ram, 0, offset, size, value);
            }
            let pitch = fill(&mut ram, START, width, height, format);
            let picture = gpu.picture(&ram).expect("a mode is set");
            assert_eq!(
                (picture.width, picture.height, picture.pitch, picture.format),
                (width as usize, height as usize, pitch as usize, format),
                "{what}"
            );
            for y in 0..height {
                let row = &picture.bytes[(y * pitch) as usize..][..pitch as usize];
                let at = (START + y * pitch) as usize;
                assert_eq!(row, &ram[at..at + pitch as usize], "{what}: row {y}");
            }
            for (x, y) in [
                (0, 0),
                (1, 0),
                (width - 1, 0),
                (0, 1),
                (width / 2, height / 2),
            ]
            .into_iter()
            .chain([(width - 1, height - 1), (3, height - 2)])
            {
                assert_eq!(
                    picture.pixel(x as usize, y as usize),
                    Some(pattern(x, y, format)),
                    "{what}: pixel ({x}, {y})"
                );
            }
        }
    }
}

/// A page flip: PCRTC START moved to a second buffer is what scans out from then on.
#[test]
fn a_new_start_address_flips_the_picture() {
    let mut g = Rig::new();
    let second = FRAMEBUFFER - 0x0020_0000;
    for y in 0..480 {
        for x in 0..640 {
            g.set_ram32(FRAMEBUFFER + 4 * (y * 640 + x), 0x0011_2233);
            g.set_ram32(second + 4 * (y * 640 + x), 0x0044_5566);
        }
    }
    let picture = g.d.gpu.picture(&g.d.ram).expect("the driver sets 640x480");
    assert_eq!(picture.pixel(17, 300), Some(0x0011_2233));
    g.w(PCRTC_START, second);
    let picture = g.d.gpu.picture(&g.d.ram).unwrap();
    assert_eq!(picture.pixel(17, 300), Some(0x0044_5566));
    assert_eq!(picture.pixel(639, 479), Some(0x0044_5566));
}

/// With no flash the machine boots its own ROM, which sets 640x480 X8R8G8B8 and draws its
/// screen at FRAMEBUFFER; from then on each frame's video is that memory as the NV2A scans
/// it out.
#[test]
fn the_machine_shows_the_boot_rom_screen_scanned_out_by_the_nv2a() {
    let mut machine = Machine::new(Config::default());
    let pads = [Gamepad::default(); PORTS];
    let mut done = None;
    for frame in 0..120 {
        machine.run_frame(&pads);
        let lines = machine.take_guest_log();
        if lines.iter().any(|l| l.starts_with("bootrom: done")) {
            done = Some(frame);
            break;
        }
    }
    assert!(done.is_some(), "the boot ROM finished");
    let out = machine.run_frame(&pads);
    let video = out.video;
    let (width, height, pitch, format) =
        (video.width(), video.height(), video.pitch(), video.format());
    let bytes = video.bytes()[..pitch * height].to_vec();
    assert_eq!(
        (width, height, pitch, format),
        (640, 480, 2560, PixelFormat::X8R8G8B8)
    );
    let ram = &machine.console().board.ram;
    let at = FRAMEBUFFER as usize;
    assert!(
        bytes == ram[at..at + 2560 * 480],
        "the frame is the framebuffer"
    );
    assert!(
        bytes.chunks(4).any(|p| p[..3] != bytes[..3]),
        "the screen has something drawn on it"
    );
}
