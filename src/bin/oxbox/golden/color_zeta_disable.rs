//! The "Color_Zeta_Disable" suite (nxdk_pgraph_tests `src/tests/color_zeta_disable_tests.cpp`).
//!
//! Its one capture, `MaskOff_ZB`, is the depth buffer after a textured checkerboard and a quad
//! drawn with every colour channel masked off: the 3D pipeline, read back from pbkit's
//! Z-compressed depth tile. Skipped.

use super::Case;

pub fn case(test: &str) -> Case {
    if test == "MaskOff_ZB" {
        Case::skip(
            "depth-buffer capture of quads drawn with the 3D pipeline (not emulated yet), \
             from pbkit's Z-compressed tile (not emulated)",
        )
    } else {
        super::unknown(test)
    }
}
