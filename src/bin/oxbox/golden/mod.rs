//! `oxbox nv2a-golden`: our equivalents of abaire/nxdk_pgraph_tests' tests, compared with the
//! captures of the real thing on an Xbox 1.0 (shared/golden/nv2a, see its README).
//!
//! Each equivalent issues the NV2A methods the test program issues, through our own host code
//! ([`host`], standing in for nxdk's pbkit and the test program's `TestHost`), on our emulated
//! NV2A; then it reads the 640x480 back buffer from guest RAM and compares it with
//! `<Suite>/<Test>.png` ([`compare`]: RGB only, regions it cannot reproduce masked, a documented
//! tolerance). Every pixel we compare comes from our emulation; nothing is taken from the
//! captures but the comparison.
//!
//! The tests of a suite are the captures in its folder. Each suite module (one file per suite)
//! says for each test name how to run its equivalent, or why it is skipped: most tests draw
//! with the 3D pipeline (triangles, textures, combiners), which does not exist yet, and a few
//! need something else the emulation lacks; suites without a module are skipped whole.

mod clear;
mod color_zeta_disable;
mod compare;
mod host;
mod image_blit;
mod lines_2d;
mod null_surface;
mod surface_clip;
mod surface_format;
mod surface_pitch;

use std::path::{Path, PathBuf};

use host::Rendered;

pub const USAGE: &str = "\
usage: oxbox nv2a-golden [--golden DIR] [--out DIR] SUITE...

Runs Oxbox's equivalents of the nxdk_pgraph_tests tests in each SUITE (a folder of DIR, e.g.
Clear, Image_blit, Surface_clip, Surface_format, Surface_pitch) on the emulated NV2A and
compares each 640x480 result with the capture DIR/SUITE/TEST.png made on an Xbox 1.0: RGB only,
the regions named in the report left out (the test program's caption text, whose font is not
reproduced, and anything else a test cannot reproduce). A pixel differs when a channel is more
than 2 counts off; a test passes when at most 0.5% of the compared pixels differ. One line per
test:
  PASS|FAIL SUITE/TEST: N pixels differ (max delta D), masked: ...
  SKIP SUITE/TEST: why it cannot be reproduced yet
and at the end
  nv2a-golden: P/T within tolerance
where T counts every test of the suites asked for (a skipped test is not within tolerance).
The exit status is 0 once the report is made, whatever it says.

options:
  --golden DIR   the captures (default: shared/golden/nv2a beside the repository, found from
                 the current directory or from this executable)
  --out DIR      also write each frame we rendered as DIR/SUITE/TEST.png
";

/// What a test's equivalent does.
pub enum Case {
    /// Renders the frame to compare.
    Run(Box<dyn FnOnce() -> Result<Rendered, String>>),
    /// Cannot be reproduced yet, and why.
    Skip(String),
}

impl Case {
    pub fn run(f: impl FnOnce() -> Result<Rendered, String> + 'static) -> Case {
        Case::Run(Box::new(f))
    }

    pub fn skip(why: impl Into<String>) -> Case {
        Case::Skip(why.into())
    }
}

/// The equivalent of one test of a suite.
fn case(suite: &str, test: &str) -> Case {
    match suite {
        "Clear" => clear::case(test),
        "Image_blit" => image_blit::case(test),
        "Surface_clip" => surface_clip::case(test),
        "Surface_format" => surface_format::case(test),
        "Surface_pitch" => surface_pitch::case(test),
        "2D_Lines" => lines_2d::case(test),
        "Null_surface" => null_surface::case(test),
        "Color_Zeta_Disable" => color_zeta_disable::case(test),
        _ => Case::skip("this suite has no equivalent in oxbox yet"),
    }
}

/// The skip reason for a test name a suite module does not know.
pub fn unknown(test: &str) -> Case {
    Case::skip(format!(
        "no equivalent of {test} here (not a test of the suite's source as read)"
    ))
}

pub fn run(args: &[String]) -> Result<(), String> {
    let mut golden = None;
    let mut out = None;
    let mut suites = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .map(PathBuf::from)
                .ok_or(format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--golden" => golden = Some(value()?),
            "--out" => out = Some(value()?),
            "--help" | "-h" => {
                print!("{USAGE}");
                return Ok(());
            }
            flag if flag.starts_with("--") => {
                return Err(format!("unknown option {flag}\n\n{USAGE}"));
            }
            suite => suites.push(suite.to_string()),
        }
    }
    if suites.is_empty() {
        return Err(format!("name at least one suite\n\n{USAGE}"));
    }
    let golden = match golden {
        Some(dir) if dir.is_dir() => dir,
        Some(dir) => {
            return Err(format!(
                "the golden images are missing: {} is not a folder",
                dir.display()
            ));
        }
        None => find_golden()?,
    };
    // Every suite must exist before anything runs.
    let mut plans = Vec::new();
    for suite in &suites {
        let dir = golden.join(suite);
        let tests = list_tests(&dir).map_err(|e| {
            format!(
                "no suite {suite} in {}: {e} (the suites are its folders)",
                golden.display()
            )
        })?;
        plans.push((suite, dir, tests));
    }
    let (mut passed, mut total) = (0, 0);
    for (suite, dir, tests) in plans {
        for test in tests {
            total += 1;
            let name = format!("{suite}/{test}");
            let rendered = match case(suite, &test) {
                Case::Skip(why) => {
                    println!("SKIP {name}: {why}");
                    continue;
                }
                Case::Run(render) => render(),
            };
            let rendered = match rendered {
                Ok(rendered) => rendered,
                Err(why) => {
                    println!("FAIL {name}: the emulation failed: {why}");
                    continue;
                }
            };
            if let Some(out) = &out {
                write_png(&out.join(suite).join(format!("{test}.png")), &rendered)?;
            }
            match judge(&dir.join(format!("{test}.png")), &rendered) {
                Ok((ok, line)) => {
                    passed += usize::from(ok);
                    println!("{} {name}: {line}", if ok { "PASS" } else { "FAIL" });
                }
                Err(why) => println!("FAIL {name}: {why}"),
            }
        }
    }
    println!("nv2a-golden: {passed}/{total} within tolerance");
    Ok(())
}

/// Compares a frame with its capture: whether it is within tolerance, and the report.
fn judge(capture: &Path, rendered: &Rendered) -> Result<(bool, String), String> {
    let (width, height, golden) = compare::load_rgb(capture)?;
    if (width, height) != (host::WIDTH, host::HEIGHT) {
        return Err(format!(
            "the capture is {width}x{height}, not {}x{}",
            host::WIDTH,
            host::HEIGHT
        ));
    }
    let covered = compare::mask_bitmap(&rendered.masks);
    let diff = compare::compare(&rendered.rgb, &golden, &covered);
    let masked = if rendered.masks.is_empty() {
        "nothing".to_string()
    } else {
        let what: Vec<&str> = rendered.masks.iter().map(|m| m.what.as_str()).collect();
        format!("{} px: {}", diff.masked, what.join("; "))
    };
    Ok((
        diff.within_tolerance(),
        format!(
            "{} pixels differ (max delta {}), masked: {masked}",
            diff.differing, diff.max_delta
        ),
    ))
}

fn write_png(path: &Path, rendered: &Rendered) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut file = std::fs::File::create(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    crate::png::write_rgb(
        &mut file,
        host::WIDTH as usize,
        host::HEIGHT as usize,
        &rendered.rgb,
    )
    .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The tests of a suite: its captures' names, sorted, without the `.png`.
fn list_tests(dir: &Path) -> Result<Vec<String>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| e.to_string())?;
    let mut tests: Vec<String> = entries
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".png").map(str::to_string)
        })
        .collect();
    tests.sort();
    Ok(tests)
}

/// The captures' default place: `shared/golden/nv2a` beside the repository, looked for from
/// the current directory and from the executable's, each folder up in turn.
fn find_golden() -> Result<PathBuf, String> {
    let mut starts = Vec::new();
    if let Ok(dir) = std::env::current_dir() {
        starts.push(dir);
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        starts.push(dir);
    }
    let found = starts
        .iter()
        .flat_map(|start| start.ancestors())
        .map(|dir| dir.join("shared").join("golden").join("nv2a"))
        .find(|dir| dir.is_dir());
    found.ok_or_else(|| {
        let from: Vec<String> = starts.iter().map(|d| d.display().to_string()).collect();
        format!(
            "the golden images are missing: no shared/golden/nv2a in or above {}; \
             pass --golden DIR",
            from.join(" or ")
        )
    })
}
