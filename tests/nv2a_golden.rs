//! `oxbox nv2a-golden` against the hardware captures in ../shared/golden/nv2a: the tests whose
//! equivalents we can reproduce (pure clears, 2D blits and 2D lines) must be within tolerance.

use std::path::Path;
use std::process::Command;

/// The suites run, and the tests in them that must pass.
const SUITES: [&str; 8] = [
    "Clear",
    "Image_blit",
    "Surface_clip",
    "Surface_format",
    "Surface_pitch",
    "2D_Lines",
    "Null_surface",
    "Color_Zeta_Disable",
];

const REPRODUCED: [&str; 34] = [
    // The full-screen clear with each colour mask, with and without depth writes.
    "Clear/C00000000_Depth_n",
    "Clear/C00000000_Depth_y",
    "Clear/C00000001_Depth_n",
    "Clear/C00000001_Depth_y",
    "Clear/C00000100_Depth_n",
    "Clear/C00000100_Depth_y",
    "Clear/C00010000_Depth_n",
    "Clear/C00010000_Depth_y",
    "Clear/C01000000_Depth_n",
    "Clear/C01000000_Depth_y",
    "Clear/C01010101_Depth_n",
    "Clear/C01010101_Depth_y",
    // A blit through each clip rectangle (the picture's pixels masked).
    "Image_blit/ImgBlt_Clip_0_0_640_480",
    "Image_blit/ImgBlt_Clip_300_200_16_24",
    "Image_blit/ImgBlt_Clip_320_240_0_0",
    "Image_blit/ImgBlt_Clip_320_240_0_10",
    "Image_blit/ImgBlt_Clip_320_240_1_1",
    "Image_blit/ImgBlt_Clip_320_240_640_480",
    "Image_blit/ImgBlt_Clip_320_240_64_40",
    // Clears under a surface clip.
    "Surface_clip/DebugTextShouldClip",
    "Surface_clip/XemuBug420",
    // One solid line each (class 0x5C into a class 0x42 surface), the caption masked.
    "2D_Lines/2DLine-15-C000003E0-400_200-400_400",
    "2D_Lines/2DLine-16-C000007E0-400_200-400_400",
    "2D_Lines/2DLine-24-C00000000-400_200-400_400",
    "2D_Lines/2DLine-24-C0000FF00-400_200-400_400",
    "2D_Lines/2DLine-24-C0000FF00-444_222-444_444",
    "2D_Lines/2DLine-24-C00FF0000-400_200-400_400",
    "2D_Lines/2DLine-24-C00FFFFFF-0_0-639_479",
    "2D_Lines/2DLine-24-C00FFFFFF-222_222-222_222",
    "2D_Lines/2DLine-24-C00FFFFFF-400_0-400_479",
    "2D_Lines/2DLine-24-C00FFFFFF-400_300-400_301",
    "2D_Lines/2DLine-24-C00FFFFFF-400_300-401_300",
    "2D_Lines/2DLine-24-C00FFFFFF-639_479-0_0",
    "2D_Lines/2DLine-24-CFFFFFFFF-100_100-100_400",
];

#[test]
fn the_reproducible_tests_match_the_hardware_captures() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/golden/nv2a");
    if !golden.is_dir() {
        eprintln!(
            "skipped: no golden images at {} (the shared folder beside the repository)",
            golden.display()
        );
        return;
    }
    let output = Command::new(env!("CARGO_BIN_EXE_oxbox"))
        .arg("nv2a-golden")
        .arg("--golden")
        .arg(&golden)
        .args(SUITES)
        .output()
        .expect("oxbox runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    for test in REPRODUCED {
        let prefix = format!("PASS {test}: ");
        assert!(
            lines.iter().any(|line| line.starts_with(&prefix)),
            "{test} did not pass:\n{stdout}"
        );
    }
    let summary = lines.last().copied().unwrap_or_default();
    let counts = summary
        .strip_prefix("nv2a-golden: ")
        .and_then(|rest| rest.strip_suffix(" within tolerance"))
        .and_then(|counts| counts.split_once('/'))
        .and_then(|(p, t)| Some((p.parse::<usize>().ok()?, t.parse::<usize>().ok()?)));
    let (passed, total) = counts.unwrap_or_else(|| panic!("no summary line:\n{stdout}"));
    assert!(passed >= REPRODUCED.len() && passed <= total, "{summary}");
    // Every test of the suites is reported, each on one line.
    let reported = lines
        .iter()
        .filter(|l| ["PASS ", "FAIL ", "SKIP "].iter().any(|p| l.starts_with(p)))
        .count();
    assert_eq!(reported, total, "{stdout}");
}
