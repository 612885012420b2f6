//! The "2D_Lines" suite (nxdk_pgraph_tests `src/tests/two_d_line_tests.cpp`).
//!
//! Each test draws one line with the 2D class NV04_SOLID_LINE (0x5C) into a destination set
//! up with NV04_CONTEXT_SURFACES_2D (0x42). Our PGRAPH models neither class (it has the NV10
//! CONTEXT_SURFACES_2D, 0x62, and no line drawing), so all are skipped.

use super::Case;

pub fn case(test: &str) -> Case {
    if test.starts_with("2DLine-") {
        Case::skip(
            "draws with the 2D classes SOLID_LINE (0x5C) and CONTEXT_SURFACES_2D (0x42), \
             which are not emulated yet",
        )
    } else {
        super::unknown(test)
    }
}
