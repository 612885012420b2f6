//! A finished video frame in host memory, as the machine hands it to a presenter.

/// Pixels in XRGB8888 (one `u32` each, the top byte ignored), rows top first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u32>,
}

impl Frame {
    pub fn new(width: usize, height: usize, colour: u32) -> Frame {
        Frame {
            width,
            height,
            pixels: vec![colour; width * height],
        }
    }

    /// Paints the rectangle at (x, y) of size w x h, clipped to the frame.
    pub fn fill_rect(&mut self, x: usize, y: usize, w: usize, h: usize, colour: u32) {
        let (x1, y1) = ((x + w).min(self.width), (y + h).min(self.height));
        for row in y.min(y1)..y1 {
            self.pixels[row * self.width + x.min(x1)..row * self.width + x1].fill(colour);
        }
    }

    /// The pixel at (x, y), or `None` outside the frame.
    pub fn pixel(&self, x: usize, y: usize) -> Option<u32> {
        (x < self.width && y < self.height).then(|| self.pixels[y * self.width + x])
    }
}

#[cfg(test)]
mod tests {
    use super::Frame;

    #[test]
    fn fill_rect_clips() {
        let mut frame = Frame::new(4, 3, 0);
        frame.fill_rect(2, 1, 10, 10, 7);
        assert_eq!(frame.pixels, [0, 0, 0, 0, 0, 0, 7, 7, 0, 0, 7, 7]);
        frame.fill_rect(9, 9, 1, 1, 5);
        assert_eq!(frame.pixel(3, 2), Some(7));
        assert_eq!(frame.pixel(4, 0), None);
    }
}
