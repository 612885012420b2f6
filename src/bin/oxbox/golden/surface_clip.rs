//! The "Surface_clip" suite (nxdk_pgraph_tests `src/tests/surface_clip_tests.cpp`).
//!
//! Reproduced, both pure clears:
//! - `XemuBug420`: `PrepareDraw(0xFC111155)`, the surface switched to R5G6B5 with a 512x384
//!   clip, a depth/stencil clear of that rectangle, the surface back to A8R8G8B8; the caption
//!   (row 0) is masked. The colour buffer must keep the background.
//! - `DebugTextShouldClip`: `PrepareDraw(0xFC111155)`, a surface clip of the lower half
//!   (0, 240, 640x240), a depth/stencil clear, then text in rows 0-1 and 12-13. pbkit draws text
//!   with clears, which the surface clip confines: rows 0-1 must not appear. Only the text cells
//!   inside the clip (rows 12-13) are masked, so the upper rows are compared and check the clip.
//!
//! Skipped: every `x*y*_w*h*[_format]` and `rt_*` test draws its red, green and dark-green
//! quads with the 3D pipeline (and the `rt_` ones show the result through a texture).

use super::host::*;
use super::{Case, unknown};

const BACKGROUND: u32 = 0xFC11_1155;

pub fn case(test: &str) -> Case {
    match test {
        "XemuBug420" => Case::run(xemu_bug_420),
        "DebugTextShouldClip" => Case::run(debug_text_should_clip),
        t if t.starts_with('x') || t.starts_with("rt_") => Case::skip(
            "draws quads around and inside the clip with the 3D pipeline (not emulated yet)",
        ),
        _ => unknown(test),
    }
}

/// `TestXemuBug420`.
fn xemu_bug_420() -> Result<Rendered, String> {
    let mut host = Host::new();
    host.set_surface_format(COLOR_A8R8G8B8, ZETA_Z24S8, WIDTH, HEIGHT, None);
    host.prepare_draw(BACKGROUND)?;
    host.set_surface_format_now(COLOR_R5G6B5, ZETA_Z24S8, Some((0, 0, 512, 384)));
    host.clear_depth_stencil(0x00FF_FFFF, 0, Some(Rect::new(0, 0, 512, 384)));
    host.set_surface_format_now(COLOR_A8R8G8B8, ZETA_Z24S8, None);
    host.print("XemuBug420");
    host.draw_text_screen();
    host.finish()
}

/// `TestDebugTextIsClipped`.
fn debug_text_should_clip() -> Result<Rendered, String> {
    let mut host = Host::new();
    host.prepare_draw(BACKGROUND)?;
    host.set_surface_format_now(COLOR_A8R8G8B8, ZETA_Z24S8, Some((0, 240, 640, 240)));
    host.clear_depth_stencil(0x00FF_FFFF, 0, None);
    host.print_at(0, 0, "DebugTextShouldClip");
    host.print_at(1, 0, "This text should be clipped and invisible.");
    host.print_at(12, 0, "DebugTextShouldClip");
    host.print_at(
        13,
        0,
        "The text above midscreen should be clipped and invisible.",
    );
    host.draw_text_screen();
    host.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_outside_the_clip_is_neither_drawn_nor_masked() {
        let rendered = debug_text_should_clip().unwrap();
        assert_eq!(rendered.masks.len(), 1);
        assert!(rendered.masks[0].what.starts_with("caption rows 12-13 "));
        let upper = &rendered.rgb[..(240 * WIDTH * 3) as usize];
        assert!(upper.chunks_exact(3).all(|p| p == [0x11, 0x11, 0x55]));
    }
}
