//! The "2D_Lines" suite (nxdk_pgraph_tests `src/tests/two_d_line_tests.cpp`).
//!
//! `2DLine-<bits>-C<colour>-<x0>_<y0>-<x1>_<y1>` (`TwoDLineTests::Test`): `PrepareDraw(0xFF440011)`,
//! then NV04_CONTEXT_SURFACES_2D (class 0x42, on the subchannel after the suite's line object)
//! gets the back buffer's DMA object (pbkit's DMA_CHANNEL_PIXEL_RENDERER, 9) as destination,
//! the back buffer's pitch and format A8R8G8B8; NV04_SOLID_LINE (class 0x5C, subchannel
//! `kNextSubchannel`) gets SRCCOPY, the colour, the surfaces object, the colour format (24:
//! X8R8G8B8, 16: X16R5G6B5, 15: X17R5G5B5) and one LINE_START_XY/LINE_END_XY pair. Then the
//! caption ("2D Line: (x0, y0) - (x1, y1)", "Color: <format> - <colour>", rows 0-1).
//!
//! Reproduced: all of them, with the same methods; the caption is masked. What they check:
//! the line covers its start pixel and leaves out its end pixel (so the 222,222 lin of no
//! length draws nothing), the colour formats widen to the surface's, and the line is walked
//! in the direction of increasing minor coordinate whichever end is given first.

use super::host::*;
use super::{Case, unknown};
use oxbox::bootrom::nv2a::SET_OBJECT;

/// The subchannels the suite binds its objects to (`kNextSubchannel` onwards).
const SUBCH_5C: u32 = 5;
const SUBCH_42: u32 = 6;

const CLASS_SOLID_LINE: u32 = 0x5C;
const CLASS_SURFACES_2D_NV04: u32 = 0x42;

const NV042_SET_DMA_IMAGE_DST: u32 = 0x0188;
const NV042_SET_COLOR_FORMAT: u32 = 0x0300;
const NV042_SET_PITCH: u32 = 0x0304;
const NV042_SET_COLOR_FORMAT_LE_A8R8G8B8: u32 = 0x0A;

const NV05C_SURFACE: u32 = 0x0198;
const NV05C_OPERATION: u32 = 0x02FC;
const NV05C_COLOR_FORMAT: u32 = 0x0300;
const NV05C_COLOR: u32 = 0x0304;
const NV05C_START: u32 = 0x0400;
const NV05C_END: u32 = 0x0404;
const NV09F_SET_OPERATION_SRCCOPY: u32 = 3;

const X16R5G6B5: u32 = 1;
const X17R5G5B5: u32 = 2;
const X8R8G8B8: u32 = 3;

/// One test: colour, colour format, start and end.
type Line = (u32, u32, (u32, u32), (u32, u32));

/// The suite's tests (`kTests`).
const TESTS: [Line; 14] = [
    (0xFFFF_FFFF, X8R8G8B8, (100, 100), (100, 400)),
    (0xFF_FFFF, X8R8G8B8, (222, 222), (222, 222)),
    (0x00_0000, X8R8G8B8, (400, 200), (400, 400)),
    (0xFF_0000, X8R8G8B8, (400, 200), (400, 400)),
    (0x00_FF00, X8R8G8B8, (400, 200), (400, 400)),
    (0x00_07E0, X16R5G6B5, (400, 200), (400, 400)),
    (0x00_03E0, X17R5G5B5, (400, 200), (400, 400)),
    (0x00_FF00, X8R8G8B8, (444, 222), (444, 444)),
    (0xFF_FFFF, X8R8G8B8, (0, 0), (639, 479)),
    (0xFF_FFFF, X8R8G8B8, (639, 479), (0, 0)),
    (0xFF_FFFF, X8R8G8B8, (400, 0), (400, 479)),
    (0xFF_FFFF, X8R8G8B8, (400, 300), (401, 300)),
    (0xFF_FFFF, X8R8G8B8, (400, 300), (400, 301)),
    (0xFF_FFFF, X8R8G8B8, (639, 479), (0, 0)),
];

/// `ColorFormatName`: the short name in test names, the long one in the caption.
fn format_name(format: u32, short: bool) -> String {
    match (format, short) {
        (X16R5G6B5, true) => "16".into(),
        (X16R5G6B5, false) => "R5G6B5".into(),
        (X17R5G5B5, true) => "15".into(),
        (X17R5G5B5, false) => "R5G5B5".into(),
        (X8R8G8B8, true) => "24".into(),
        (X8R8G8B8, false) => "R8G8B8".into(),
        _ => format!("{format:X}"),
    }
}

/// "2DLine-%s-C%08X-%lu_%lu-%lu_%lu" (`MakeTestName`).
fn name(&(color, format, start, end): &Line) -> String {
    format!(
        "2DLine-{}-C{color:08X}-{}_{}-{}_{}",
        format_name(format, true),
        start.0,
        start.1,
        end.0,
        end.1
    )
}

pub fn case(test: &str) -> Case {
    match TESTS.iter().find(|line| name(line) == test) {
        Some(&line) => Case::run(move || draw(line)),
        None => unknown(test),
    }
}

/// `TwoDLineTests::Initialize` and `Test`.
fn draw((color, format, start, end): Line) -> Result<Rendered, String> {
    let mut host = Host::new();
    let line = host.create_graphics(CLASS_SOLID_LINE);
    host.push(SUBCH_5C, SET_OBJECT, &[line.handle]);
    let surfaces = host.create_graphics(CLASS_SURFACES_2D_NV04);
    host.push(SUBCH_42, SET_OBJECT, &[surfaces.handle]);
    host.flush()?;

    host.prepare_draw(0xFF44_0011)?;
    host.push(SUBCH_42, NV042_SET_DMA_IMAGE_DST, &[DMA_COLOR]);
    host.push(SUBCH_42, NV042_SET_PITCH, &[PITCH << 16 | PITCH]);
    host.push(
        SUBCH_42,
        NV042_SET_COLOR_FORMAT,
        &[NV042_SET_COLOR_FORMAT_LE_A8R8G8B8],
    );
    host.push(SUBCH_5C, NV05C_OPERATION, &[NV09F_SET_OPERATION_SRCCOPY]);
    host.push(SUBCH_5C, NV05C_COLOR, &[color]);
    host.push(SUBCH_5C, NV05C_SURFACE, &[surfaces.handle]);
    host.push(SUBCH_5C, NV05C_COLOR_FORMAT, &[format]);
    host.push(SUBCH_5C, NV05C_START, &[start.1 << 16 | start.0]);
    host.push(SUBCH_5C, NV05C_END, &[end.1 << 16 | end.0]);
    host.flush()?;

    host.print(&format!(
        "2D Line: ({}, {}) - ({}, {})\n",
        start.0, start.1, end.0, end.1
    ));
    host.print(&format!(
        "Color: {} - {color:08X}\n",
        format_name(format, false)
    ));
    host.draw_text_screen();
    host.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_as_the_suite_makes_them() {
        assert_eq!(name(&TESTS[0]), "2DLine-24-CFFFFFFFF-100_100-100_400");
        assert_eq!(name(&TESTS[5]), "2DLine-16-C000007E0-400_200-400_400");
        assert_eq!(name(&TESTS[6]), "2DLine-15-C000003E0-400_200-400_400");
        assert!(matches!(
            case("2DLine-24-C00FFFFFF-0_0-639_479"),
            Case::Run(_)
        ));
        assert!(matches!(case("2DLine-24-C00FFFFFF-0_0-1_1"), Case::Skip(_)));
    }

    #[test]
    fn a_line_leaves_out_its_end_pixel() {
        let rendered = draw(TESTS[11]).unwrap();
        let at = |x: usize, y: usize| &rendered.rgb[(y * WIDTH as usize + x) * 3..][..3];
        assert_eq!(at(400, 300), [0xFF, 0xFF, 0xFF]);
        assert_eq!(at(401, 300), [0x44, 0x00, 0x11]);
    }
}
