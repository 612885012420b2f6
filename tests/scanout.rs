//! The scan-out path through OpenGL: for every Xbox mode and pixel format, the NV2A's registers
//! are set as the kernel sets them, the picture is taken from guest RAM, drawn by the
//! presenter into a headless EGL context (Mesa's surfaceless platform, llvmpipe) and read
//! back; it must equal the CPU reference conversion (`Pixels::to_frame`) pixel for pixel.

// The runner's headless context, shared with this test.
#[allow(dead_code)]
#[path = "../src/bin/oxbox/egl.rs"]
mod egl;

use oxbox::frame::{Frame, PixelFormat, RawFrame};
use oxbox::nv2a::pvideo;
use oxbox::nv2a::scanout::{Display, ModeRequest, PVIDEO_BASE, mode_set_writes};
use oxbox::render::{GL_VERSION, Presenter};

/// The modes: 640x480 and 720x480 (480i/p), 1280x720 (720p), 1920x1080 (1080i).
const MODES: [(u32, u32, u32, u32, bool); 4] = [
    (640, 480, 800, 525, false),
    (720, 480, 858, 525, false),
    (1280, 720, 1650, 750, false),
    (1920, 1080, 2200, 1125, true),
];

const RAM_SIZE: usize = 16 << 20;
const FRAME_BUFFER: u32 = 0x0010_0000;

/// Deterministic noise, so every bit of every pixel (unused ones included) varies.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 56) as u8
        })
        .collect()
}

/// What GL reads back for `frame`: RGBA8 rows top first, alpha opaque.
fn rgba(frame: &Frame) -> Vec<u8> {
    frame
        .pixels
        .iter()
        .flat_map(|p| {
            let [b, g, r, _] = p.to_le_bytes();
            [r, g, b, 0xFF]
        })
        .collect()
}

struct Gl {
    headless: egl::Headless,
    presenter: Presenter,
}

impl Gl {
    fn new() -> Gl {
        let headless = egl::Headless::new(GL_VERSION, 1920, 1080)
            .unwrap_or_else(|why| panic!("no headless OpenGL context: {why}"));
        let presenter = Presenter::new(&headless.gl).expect("the presenter builds");
        Gl {
            headless,
            presenter,
        }
    }

    /// Draws `raw` and checks the read-back against the CPU conversion.
    fn check(&mut self, raw: &RawFrame, what: &str) {
        let view = raw.view().expect("a consistent frame");
        let framebuffer = Some(self.headless.framebuffer);
        self.presenter
            .draw_pixels(&self.headless.gl, framebuffer, view);
        self.compare(&raw.to_frame(), what);
    }

    fn compare(&self, expected: &Frame, what: &str) {
        let got = self.headless.read_pixels(expected.width, expected.height);
        let want = rgba(expected);
        assert_eq!(got.len(), want.len(), "{what}: read-back size");
        if let Some(i) =
            (0..want.len() / 4).find(|i| got[4 * i..4 * i + 4] != want[4 * i..4 * i + 4])
        {
            panic!(
                "{what}: pixel ({}, {}) is {:?}, the CPU reference says {:?}",
                i % expected.width,
                i / expected.width,
                &got[4 * i..4 * i + 4],
                &want[4 * i..4 * i + 4]
            );
        }
    }
}

#[test]
fn the_presenter_shows_every_mode_and_format_exactly() {
    let mut gl = Gl::new();
    let ram = noise(RAM_SIZE, 1);
    for (width, height, htotal, vtotal, interlaced) in MODES {
        for format in PixelFormat::ALL {
            let mut display = Display::new(RAM_SIZE as u32);
            let mode = ModeRequest {
                width,
                height,
                format,
                interlaced,
                start: FRAME_BUFFER,
                htotal,
                vtotal,
            };
            for (offset, size, value) in mode_set_writes(&mode) {
                display.write(0, offset, size, value);
            }
            let what = format!("{width}x{height} {format:?}");
            let scanout = display.scanout().expect("a mode with a picture");
            assert_eq!((scanout.width, scanout.height), (width, height), "{what}");
            let raw = display.picture(&ram).expect("a picture");
            assert_eq!(raw.format, format, "{what}");
            assert_eq!(
                raw.pitch,
                width as usize * format.bytes_per_pixel(),
                "{what}"
            );
            let start = FRAME_BUFFER as usize;
            assert_eq!(
                raw.bytes[..],
                ram[start..start + raw.bytes.len()],
                "{what}: the guest's bytes"
            );
            gl.check(&raw, &what);
        }
    }
    gl.presenter.destroy(&gl.headless.gl);
}

#[test]
fn every_sixteen_bit_value_converts_as_on_the_cpu() {
    let mut gl = Gl::new();
    for format in [PixelFormat::X1R5G5B5, PixelFormat::R5G6B5] {
        let mut raw = RawFrame::filled(256, 256, format, 0);
        for value in 0..=0xFFFF {
            raw.set_pixel(value as usize % 256, value as usize / 256, value);
        }
        gl.check(&raw, &format!("all of {format:?}"));
    }
    gl.presenter.destroy(&gl.headless.gl);
}

#[test]
fn pitches_and_sizes_change_between_frames() {
    let mut gl = Gl::new();
    let bytes = noise(1 << 20, 2);
    let cases = [
        // A pitch with padding, a whole number of pixels.
        (PixelFormat::X8R8G8B8, 300, 200, 300 * 4 + 64),
        // A pitch that is not a whole number of pixels (packed before upload).
        (PixelFormat::X8R8G8B8, 301, 199, 301 * 4 + 2),
        (PixelFormat::R5G6B5, 333, 111, 333 * 2 + 1),
        (PixelFormat::X1R5G5B5, 640, 480, 2048),
        // Back to a size and format the texture had before.
        (PixelFormat::X8R8G8B8, 300, 200, 1200),
        (PixelFormat::R5G6B5, 1, 1, 2),
    ];
    for (format, width, height, pitch) in cases {
        let len = pitch * (height - 1) + width * format.bytes_per_pixel();
        let raw = RawFrame {
            width,
            height,
            pitch,
            format,
            bytes: bytes[..len].to_vec(),
        };
        gl.check(&raw, &format!("{width}x{height} {format:?} pitch {pitch}"));
    }
    // Oxbox's own XRGB frames go the same way.
    let mut frame = Frame::new(640, 480, 0x0010_1a12);
    frame.fill_rect(10, 20, 300, 100, 0x00FF_6A5A);
    frame.pixels[0] = 0xFF12_3456;
    gl.presenter
        .draw(&gl.headless.gl, Some(gl.headless.framebuffer), &frame);
    let mut expected = frame.clone();
    expected.pixels[0] = 0x0012_3456;
    gl.compare(&expected, "a status-screen frame");
    gl.presenter.destroy(&gl.headless.gl);
}

#[test]
fn an_overlay_frame_is_presented_exactly() {
    let mut gl = Gl::new();
    let mut ram = noise(RAM_SIZE, 3);
    let mut display = Display::new(RAM_SIZE as u32);
    let mode = ModeRequest {
        width: 640,
        height: 480,
        format: PixelFormat::R5G6B5,
        interlaced: false,
        start: FRAME_BUFFER,
        htotal: 800,
        vtotal: 525,
    };
    for (offset, size, value) in mode_set_writes(&mode) {
        display.write(0, offset, size, value);
    }
    // A 160x120 YUY2 picture of noise at 0x800000 scaled to 320x240 at (100, 50), keyed on
    // the frame buffer's black, with black painted over part of the rectangle.
    for y in 40..200 {
        let row = FRAME_BUFFER as usize + y * 1280;
        ram[row + 2 * 80..row + 2 * 500].fill(0);
    }
    for (offset, value) in [
        (pvideo::BASE, 0x0080_0000),
        (pvideo::LIMIT, 0x000F_FFFF),
        (pvideo::OFFSET, 0),
        (pvideo::LUMINANCE, 0x1000),
        (pvideo::CHROMINANCE, 0x1000),
        (pvideo::SIZE_IN, 120 << 16 | 160),
        (pvideo::POINT_IN, 0),
        (pvideo::DS_DX, pvideo::UNITY / 2),
        (pvideo::DT_DY, pvideo::UNITY / 2),
        (pvideo::POINT_OUT, 50 << 16 | 100),
        (pvideo::SIZE_OUT, 240 << 16 | 320),
        (
            pvideo::FORMAT,
            pvideo::FORMAT_COLOR_YUY2 | pvideo::FORMAT_DISPLAY_COLOR_KEY | 320,
        ),
        (pvideo::COLOR_KEY, 0),
        (pvideo::BUFFER, 1),
    ] {
        display.write(0, PVIDEO_BASE + offset, 4, value);
    }
    let raw = display.picture(&ram).expect("a picture");
    assert_eq!(raw.format, PixelFormat::X8R8G8B8);
    gl.check(&raw, "640x480 R5G6B5 with the overlay");
    gl.presenter.destroy(&gl.headless.gl);
}
