//! Comparing our frame with a capture: RGB only, masked regions left out, within a tolerance.
//!
//! The tolerance: a pixel differs when any of its red, green or blue values is more than
//! [`CHANNEL_TOLERANCE`] (2) counts from the capture's; a test is within tolerance when at most
//! [`PIXEL_FRACTION`] (0.5%) of the compared pixels differ. Why these numbers: what these tests
//! draw (clears and blits) stores exact values, so an equivalent test matches bit for bit, and
//! the slack is for later tests whose pixels go through format conversions (5- and 6-bit
//! channels expanded to 8 bits, blends rounded) where hardware and emulation may round a count
//! or two apart; 0.5% of 640x480 is 1,536 pixels, a few lines' worth, small enough that a
//! misplaced rectangle, a wrong colour or a missing clear still fails, while a single
//! off-by-one edge of a large shape does not. The report always gives the exact count and the
//! largest difference, so a test that passes with differences shows them.
//!
//! Alpha is ignored: the captures record it, but the console sends only RGB to the screen.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use super::host::{HEIGHT, Mask, WIDTH};

/// The largest per-channel difference that still counts as the same.
pub const CHANNEL_TOLERANCE: u8 = 2;
/// The largest fraction of compared pixels that may differ.
pub const PIXEL_FRACTION: f64 = 0.005;

/// Reads a PNG as 8-bit RGB rows: (width, height, pixels).
pub fn load_rgb(path: &Path) -> Result<(u32, u32, Vec<u8>), String> {
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut decoder = ::png::Decoder::new(BufReader::new(file));
    decoder.set_transformations(::png::Transformations::normalize_to_color8());
    let bad = |e: ::png::DecodingError| format!("cannot decode {}: {e}", path.display());
    let mut reader = decoder.read_info().map_err(bad)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| format!("{}: image too large", path.display()))?;
    let mut buf = vec![0; size];
    let info = reader.next_frame(&mut buf).map_err(bad)?;
    buf.truncate(info.buffer_size());
    let rgb = match info.color_type {
        ::png::ColorType::Rgb => buf,
        ::png::ColorType::Rgba => buf
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        ::png::ColorType::Grayscale => buf.iter().flat_map(|&g| [g, g, g]).collect(),
        ::png::ColorType::GrayscaleAlpha => buf
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0]])
            .collect(),
        ::png::ColorType::Indexed => {
            return Err(format!("{}: palette not expanded", path.display()));
        }
    };
    Ok((info.width, info.height, rgb))
}

/// The result of a comparison.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Pixels compared (not masked).
    pub compared: u64,
    /// Pixels left out.
    pub masked: u64,
    /// Compared pixels with a channel more than [`CHANNEL_TOLERANCE`] away.
    pub differing: u64,
    /// The largest channel difference among the compared pixels.
    pub max_delta: u8,
}

impl Diff {
    pub fn within_tolerance(&self) -> bool {
        self.differing as f64 <= self.compared as f64 * PIXEL_FRACTION
    }
}

/// Which pixels of a 640x480 frame the masks cover.
pub fn mask_bitmap(masks: &[Mask]) -> Vec<bool> {
    let mut covered = vec![false; (WIDTH * HEIGHT) as usize];
    for rect in masks.iter().flat_map(|m| &m.rects) {
        for y in rect.y0..rect.y1.min(HEIGHT) {
            for x in rect.x0..rect.x1.min(WIDTH) {
                covered[(y * WIDTH + x) as usize] = true;
            }
        }
    }
    covered
}

/// Compares two RGB frames of the same size, leaving out the covered pixels.
pub fn compare(ours: &[u8], golden: &[u8], covered: &[bool]) -> Diff {
    let mut diff = Diff::default();
    for ((a, b), &skip) in ours
        .chunks_exact(3)
        .zip(golden.chunks_exact(3))
        .zip(covered)
    {
        if skip {
            diff.masked += 1;
            continue;
        }
        diff.compared += 1;
        let delta = a
            .iter()
            .zip(b)
            .map(|(x, y)| x.abs_diff(*y))
            .max()
            .unwrap_or(0);
        diff.max_delta = diff.max_delta.max(delta);
        if delta > CHANNEL_TOLERANCE {
            diff.differing += 1;
        }
    }
    diff
}

#[cfg(test)]
mod tests {
    use super::super::host::Rect;
    use super::*;

    #[test]
    fn small_differences_and_masked_pixels_do_not_count() {
        let n = (WIDTH * HEIGHT) as usize;
        let ours = vec![10u8; n * 3];
        let mut golden = ours.clone();
        golden[0] = 12; // 2 counts: the same
        golden[3] = 13; // 3 counts: differs
        golden[(WIDTH as usize) * 3] = 200; // masked below
        let masks = [Mask {
            what: "first pixel of row 1".into(),
            rects: vec![Rect::new(0, 1, 1, 1)],
        }];
        let diff = compare(&ours, &golden, &mask_bitmap(&masks));
        assert_eq!(diff.masked, 1);
        assert_eq!(diff.compared, n as u64 - 1);
        assert_eq!(diff.differing, 1);
        assert_eq!(diff.max_delta, 3);
        assert!(diff.within_tolerance());
        let many = Diff {
            compared: 1000,
            differing: 6,
            ..Diff::default()
        };
        assert!(!many.within_tolerance());
    }

    #[test]
    fn our_png_writer_reads_back() {
        let dir = std::env::temp_dir().join(format!("oxbox-golden-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.png");
        let rgb: Vec<u8> = (0..4 * 3 * 3).map(|v| v as u8).collect();
        let mut file = File::create(&path).unwrap();
        crate::png::write_rgb(&mut file, 4, 3, &rgb).unwrap();
        drop(file);
        assert_eq!(load_rgb(&path).unwrap(), (4, 3, rgb));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
