//! The "Null_surface" suite (nxdk_pgraph_tests `src/tests/null_surface_tests.cpp`).
//!
//! Its one test, `XemuBug893`, draws quads with the colour and zeta surfaces overlapping and
//! then a final quad over the cleared screen: the 3D pipeline. Skipped until it exists.

use super::Case;

pub fn case(test: &str) -> Case {
    if test == "XemuBug893" {
        Case::skip("draws quads with the 3D pipeline (not emulated yet)")
    } else {
        super::unknown(test)
    }
}
