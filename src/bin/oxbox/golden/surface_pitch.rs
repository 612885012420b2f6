//! The "Surface_pitch" suite (nxdk_pgraph_tests `src/tests/surface_pitch_tests.cpp`).
//!
//! Its one test, `Swizzle`, fills four 128x128 surfaces with solid quads, draws a swizzled
//! checkerboard texture into each through swizzled surfaces of two sizes and two pitches, and
//! shows the four as textured quads: the 3D pipeline throughout. Skipped until it exists.

use super::Case;

pub fn case(test: &str) -> Case {
    if test == "Swizzle" {
        Case::skip(
            "draws solid and textured quads into swizzled surfaces and shows them as \
             textures: needs the 3D pipeline, not emulated yet",
        )
    } else {
        super::unknown(test)
    }
}
