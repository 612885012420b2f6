//! The "Clear" suite (nxdk_pgraph_tests `src/tests/clear_tests.cpp`).
//!
//! `C<mask>_Depth_<y|n>` (`TestColorMask`): after `PrepareDraw`, four quads are drawn, then
//! SET_COLOR_MASK gets `mask` (none, blue, green, red, alpha or all channels), the depth and
//! stencil write masks get y/n, and a CLEAR_SURFACE of colour, depth and stencil with the colour
//! 0x7F7F7F7F covers the whole screen (the clear rectangle `PrepareDraw`'s depth clear left).
//! The captures are grey everywhere but the caption: the hardware ignores the colour mask for
//! clears, and the clear hides the quads. Reproduced: the same methods, the quads included
//! (our PGRAPH accepts them and draws nothing, which the clear would cover anyway); the caption
//! ("C: 0x...", "D: Y|N" in rows 0-1, the description in rows 13-14) is masked.
//!
//! Skipped: the `_ZB` captures are the depth buffer's raw memory, in pbkit's Z-compressed tile
//! (tile 1, flags 0x84000001): every one reads 0xFFFFFEFF where the clear stored 0xFFFFFF00,
//! and PFB tiles and Z compression are not emulated. `SFC_*`/`SCF_*` (`TestSurfaceFmt`) clear
//! a 128x128 surface in each colour format and show it with textured quads: the 3D pipeline.

use super::host::*;
use super::{Case, unknown};
use oxbox::nv2a::pgraph::kelvin as nv097;

/// The suite's colour masks (`kColorMasks`).
const COLOR_MASKS: [u32; 6] = [
    0,
    0x0000_0001,
    0x0000_0100,
    0x0001_0000,
    0x0100_0000,
    COLOR_MASK_ALL,
];

pub fn case(test: &str) -> Case {
    if test.ends_with("_ZB") {
        return Case::skip(
            "depth-buffer capture: raw memory of pbkit's Z-compressed depth tile (0xFFFFFEFF \
             where the clear stores 0xFFFFFF00); PFB tiling and Z compression are not emulated",
        );
    }
    if test.starts_with("SFC_") || test.starts_with("SCF_") {
        return Case::skip(
            "clears a texture-memory surface per colour format, then shows it with textured \
             quads: needs the 3D pipeline (textures), not emulated yet",
        );
    }
    match parse(test) {
        Some((mask, depth)) if COLOR_MASKS.contains(&mask) => {
            Case::run(move || color_mask(mask, depth))
        }
        _ => unknown(test),
    }
}

/// "C%08X_Depth_%s" (`MakeMaskTestName`).
fn parse(test: &str) -> Option<(u32, bool)> {
    let (mask, depth) = test.strip_prefix('C')?.split_once("_Depth_")?;
    let depth = match depth {
        "y" => true,
        "n" => false,
        _ => return None,
    };
    (mask.len() == 8)
        .then(|| u32::from_str_radix(mask, 16).ok())
        .flatten()
        .map(|mask| (mask, depth))
}

/// `ClearTests::CreateGeometry`: four quads across the middle of the screen, as triangles,
/// red, green, blue and grey at their corners.
fn geometry() -> Vec<([f32; 3], [f32; 4])> {
    let (ul, ll, lr, ur) = (
        [1.0, 0.0, 0.0, 1.0],
        [0.0, 1.0, 0.0, 1.0],
        [0.0, 0.0, 1.0, 1.0],
        [0.5, 0.5, 0.5, 1.0],
    );
    let quads = 4.0;
    let width = (WIDTH as f32 / (1.0 + 2.0 * quads)).floor();
    let height = (HEIGHT as f32 / 4.0).floor();
    let (mut x, y, mut z) = (width, (HEIGHT as f32 * 0.5).floor() - height * 0.5, 10.0);
    let mut vertices = Vec::new();
    for _ in 0..4 {
        let (l, t, r, b) = (x, y, x + width, y + height);
        vertices.extend([
            ([l, t, z], ul),
            ([r, t, z], ur),
            ([r, b, z], lr),
            ([l, t, z], ul),
            ([r, b, z], lr),
            ([l, b, z], ll),
        ]);
        x += width * 2.0;
        z -= 0.5;
    }
    vertices
}

/// `TestColorMask`.
fn color_mask(color_mask: u32, depth_write: bool) -> Result<Rendered, String> {
    let mut host = Host::new();
    // ClearTests::Initialize.
    host.push(SUBCH_3D, NV097_SET_DEPTH_TEST_ENABLE, &[0]);
    host.flush()?;

    host.prepare_draw(0xFF05_0505)?;
    host.draw_triangles(&geometry());
    host.setup_control0();
    let depth = u32::from(depth_write);
    host.push(SUBCH_3D, nv097::SET_CONTEXT_DMA_COLOR, &[DMA_COLOR]);
    host.push(SUBCH_3D, nv097::SET_COLOR_MASK, &[color_mask]);
    host.push(SUBCH_3D, NV097_SET_DEPTH_MASK, &[depth]);
    host.push(SUBCH_3D, NV097_SET_STENCIL_MASK, &[depth]);
    host.push(SUBCH_3D, nv097::SET_COLOR_CLEAR_VALUE, &[0x7F7F_7F7F]);
    host.push(
        SUBCH_3D,
        nv097::CLEAR_SURFACE,
        &[CLEAR_COLOR | CLEAR_Z | CLEAR_STENCIL],
    );
    host.push(SUBCH_3D, nv097::SET_COLOR_MASK, &[COLOR_MASK_ALL]);
    host.push(SUBCH_3D, NV097_SET_DEPTH_MASK, &[1]);
    host.push(SUBCH_3D, NV097_SET_STENCIL_MASK, &[1]);
    host.flush()?;

    host.print(&format!("C: 0x{color_mask:08X}\n"));
    host.print(&format!("D: {}\n", if depth_write { "Y" } else { "N" }));
    host.print_at(13, 0, "This screen should be grey, with no hint of");
    host.print_at(14, 0, "the geometry that was rendered.");
    host.draw_text_screen();
    host.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_as_the_suite_makes_them() {
        assert_eq!(parse("C00010000_Depth_y"), Some((0x0001_0000, true)));
        assert_eq!(parse("C01010101_Depth_n"), Some((COLOR_MASK_ALL, false)));
        assert_eq!(parse("C0101_Depth_n"), None);
        assert_eq!(parse("SFC_A8R8G8B8"), None);
        assert!(matches!(case("C00000000_Depth_y_ZB"), Case::Skip(_)));
        assert!(matches!(case("C00000000_Depth_y"), Case::Run(_)));
        assert!(matches!(case("C00000002_Depth_y"), Case::Skip(_)));
    }

    #[test]
    fn the_clear_covers_everything_whatever_the_colour_mask() {
        let rendered = color_mask(0, false).unwrap();
        let covered = super::super::compare::mask_bitmap(&rendered.masks);
        for (pixel, &masked) in rendered.rgb.chunks_exact(3).zip(&covered) {
            if !masked {
                assert_eq!(pixel, [0x7F, 0x7F, 0x7F]);
            }
        }
        assert!(
            rendered.masks[0]
                .what
                .starts_with("caption rows 0-1, 13-14 ")
        );
    }
}
