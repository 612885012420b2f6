//! Oxbox's own screens, drawn in software into a [`Frame`] with the built-in font.

pub mod font;
pub mod status;

use crate::frame::Frame;
use font::{GLYPH_HEIGHT, GLYPH_WIDTH};

/// Draws `text` with its top-left corner at (x, y), each font pixel `scale` x `scale` screen
/// pixels, clipped to the frame. Returns the width drawn in pixels.
pub fn draw_text(
    frame: &mut Frame,
    x: usize,
    y: usize,
    text: &str,
    colour: u32,
    scale: usize,
) -> usize {
    let mut pen = x;
    for c in text.chars() {
        for (row, bits) in font::glyph(c).iter().enumerate() {
            for col in 0..GLYPH_WIDTH {
                if bits & (0x80 >> col) != 0 {
                    frame.fill_rect(pen + col * scale, y + row * scale, scale, scale, colour);
                }
            }
        }
        pen += GLYPH_WIDTH * scale;
    }
    pen - x
}

/// A text console over a frame: a grid of 8x16 cells.
pub struct Console<'a> {
    pub frame: &'a mut Frame,
}

impl Console<'_> {
    /// Columns that fit across the frame.
    pub fn columns(&self) -> usize {
        self.frame.width / GLYPH_WIDTH
    }

    /// Writes `text` at cell (col, row), clipped to the screen's width.
    pub fn put(&mut self, col: usize, row: usize, text: &str, colour: u32) {
        let room = self.columns().saturating_sub(col);
        let clipped: String = text.chars().take(room).collect();
        draw_text(
            self.frame,
            col * GLYPH_WIDTH,
            row * GLYPH_HEIGHT,
            &clipped,
            colour,
            1,
        );
    }
}

/// `text` cut to at most `width` characters, keeping its end (the informative part of a path)
/// and marking the cut with "...".
pub fn keep_end(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_string();
    }
    let keep = width.saturating_sub(3);
    let tail: String = text.chars().skip(count - keep).collect();
    format!("{}{tail}", &"..."[..width.min(3)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lands_where_the_glyph_says() {
        let mut frame = Frame::new(40, 40, 0);
        let width = draw_text(&mut frame, 3, 5, "L_", 9, 2);
        assert_eq!(width, 32);
        let lit: Vec<(usize, usize)> = (0..40)
            .flat_map(|y| (0..40).map(move |x| (x, y)))
            .filter(|&(x, y)| frame.pixel(x, y) == Some(9))
            .collect();
        let mut expected = Vec::new();
        for (index, c) in "L_".chars().enumerate() {
            for (row, bits) in font::glyph(c).iter().enumerate() {
                for col in 0..8 {
                    if bits & (0x80 >> col) != 0 {
                        for dy in 0..2 {
                            for dx in 0..2 {
                                let x = 3 + index * 16 + col * 2 + dx;
                                let y = 5 + row * 2 + dy;
                                if x < 40 && y < 40 {
                                    expected.push((x, y));
                                }
                            }
                        }
                    }
                }
            }
        }
        expected.sort_by_key(|&(x, y)| (y, x));
        assert_eq!(lit, expected);
    }

    #[test]
    fn keep_end_cuts_from_the_front() {
        assert_eq!(keep_end("/a/b/c", 10), "/a/b/c");
        assert_eq!(
            keep_end("/very/long/path/mcpx_1.0.bin", 15),
            "...mcpx_1.0.bin"
        );
        assert_eq!(keep_end("abcdef", 2), "..");
    }
}
