//! The "Surface_format" suite (nxdk_pgraph_tests `src/tests/surface_format_tests.cpp`).
//!
//! Every test (`Fmt_<format>`) renders two textured quads of a generated radial test pattern
//! into a 768x768 surface of the format, then draws that surface over the screen as a texture:
//! the 3D pipeline throughout. All are skipped until it exists.

use super::Case;

pub fn case(test: &str) -> Case {
    if test.starts_with("Fmt_") {
        Case::skip(
            "renders textured quads into a surface of the format and shows it as a texture: \
             needs the 3D pipeline (textures, combiners), not emulated yet",
        )
    } else {
        super::unknown(test)
    }
}
