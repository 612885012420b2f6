//! The test program's host, rebuilt on our NV2A: what nxdk's pbkit and nxdk_pgraph_tests'
//! `TestHost`/`TestSuite` do around each test, as NV2A methods through
//! [`oxbox::nv2a::driver::Driver`].
//!
//! - `pb_init`: DMA objects under pbkit's handles (3: all of RAM, 9: the colour buffer,
//!   10: the depth buffer, 11: the colour buffer for blits), KELVIN, IMAGE_BLIT and
//!   CONTEXT_SURFACES_2D on pbkit's subchannels 0, 2 and 3, the blit wired to the 2D surfaces
//!   (source DMA 3, destination DMA 11), and KELVIN's surfaces set to the 640x480 back buffer
//!   (`set_draw_buffer`).
//! - `TestSuite::Initialize`: the surface pitch and clip, all colour channels writable, depth
//!   and stencil tests off; the surface format A8R8G8B8 with Z16 (committed by `PrepareDraw`).
//! - `PrepareDraw(argb)`: commits the surface format, SET_CONTROL0, `pb_fill` of the whole
//!   screen with `argb` (a CLEAR_SURFACE of colour), a depth/stencil clear, and erases the text.
//! - `pb_print`/`pb_printat`/`pb_draw_text_screen`: the text screen (16 rows of 60 columns) is
//!   kept as pbkit keeps it, and drawn as pbkit draws it, with `pb_fill` clears of colour
//!   0xFFFFFF at (20 + 10 * column, 25 + 25 * row). pbkit's 8x8 font (each line drawn two
//!   pixels high) is not reproduced: each character becomes a clear of its whole 8x16 cell,
//!   and the cells are masked from the comparison. The surface clip applies to those clears as
//!   to any other, so text the test expects to be clipped away is not masked.
//! - `FinishDraw`: waits for the GPU and reads the back buffer, A8R8G8B8, from RAM.
//!
//! The 3D pipeline does not exist yet: draws are sent (so PGRAPH sees the same method stream)
//! but leave no pixels; tests whose result depends on them are skipped by their suites.

use oxbox::bootrom::nv2a::{
    self as rom, FRAMEBUFFER, IMAGE_BLIT, KELVIN, Object, SET_OBJECT, SURFACES_2D, ZETA,
};
use oxbox::nv2a::driver::Driver;
use oxbox::nv2a::pgraph::kelvin as nv097;

pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 480;
pub const PITCH: u32 = WIDTH * 4;
/// pbkit's MAXRAM: the limit of its whole-RAM DMA objects.
pub const MAXRAM: u32 = 0x03FF_AFFF;
/// Where tests put source images and render targets (the test host's texture memory).
pub const TEXTURE_MEMORY: u32 = 0x0100_0000;

/// pbkit's subchannels.
pub const SUBCH_3D: u32 = 0;
pub const SUBCH_9F: u32 = 2;
pub const SUBCH_62: u32 = 3;

/// pbkit's DMA handles (its "channel" numbers).
pub const DMA_A: u32 = 3;
pub const DMA_COLOR: u32 = 9;
pub const DMA_ZETA: u32 = 10;
pub const DMA_BITBLT_IMAGES: u32 = 11;

// KELVIN methods the host and tests send beyond the ones our PGRAPH names.
pub const NV097_SET_DEPTH_TEST_ENABLE: u32 = 0x030C;
pub const NV097_SET_STENCIL_TEST_ENABLE: u32 = 0x032C;
pub const NV097_SET_DEPTH_MASK: u32 = 0x035C;
pub const NV097_SET_STENCIL_MASK: u32 = 0x0360;
pub const NV097_SET_CLIP_MIN: u32 = 0x0394;
pub const NV097_SET_CLIP_MAX: u32 = 0x0398;
pub const NV097_SET_VERTEX3F: u32 = 0x1500;
pub const NV097_SET_DIFFUSE_COLOR4F: u32 = 0x1550;
pub const NV097_SET_BEGIN_END: u32 = 0x17FC;
pub const BEGIN_END_END: u32 = 0;
pub const PRIMITIVE_TRIANGLES: u32 = 5;
/// SET_COLOR_MASK with every channel writable.
pub const COLOR_MASK_ALL: u32 = 0x0101_0101;
/// CLEAR_SURFACE: depth, stencil, and the colour channels.
pub const CLEAR_Z: u32 = 1 << 0;
pub const CLEAR_STENCIL: u32 = 1 << 1;
pub const CLEAR_COLOR: u32 = 0xF0;

/// SET_SURFACE_FORMAT fields.
pub const COLOR_A8R8G8B8: u32 = 8;
pub const COLOR_R5G6B5: u32 = 3;
pub const ZETA_Z16: u32 = 1;
pub const ZETA_Z24S8: u32 = 2;
const SURFACE_TYPE_PITCH: u32 = 1;
/// SET_CONTROL0: stencil writes on, fixed-point depth.
const CONTROL0_STENCIL_WRITE_ENABLE: u32 = 1;

/// pbkit's text screen.
const TEXT_ROWS: usize = 16;
const TEXT_COLS: usize = 60;

// PGRAPH registers read to report an error (BAR0 offsets).
const PGRAPH_INTR: u32 = 0x40_0100;
const PGRAPH_NSOURCE: u32 = 0x40_0108;
const PGRAPH_TRAPPED_ADDR: u32 = 0x40_0704;
const PGRAPH_TRAPPED_DATA: u32 = 0x40_0708;
const PGRAPH_INTR_ERROR: u32 = 1 << 20;

pub use oxbox::nv2a::pgraph::soft::Rect;

/// A region left out of the comparison, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mask {
    pub what: String,
    pub rects: Vec<Rect>,
}

/// A test's result: our 640x480 frame as RGB rows, and what to leave out when comparing.
pub struct Rendered {
    pub rgb: Vec<u8>,
    pub masks: Vec<Mask>,
}

/// The surface state the test host keeps (`SetSurfaceFormat`) and commits.
#[derive(Clone, Copy, Debug)]
struct SurfaceFormat {
    color: u32,
    zeta: u32,
    width: u32,
    height: u32,
    /// The clip: x, y, width, height (a width or height of 0 means the surface's).
    clip: (u32, u32, u32, u32),
}

/// The console, pbkit and the test host, ready for a test.
pub struct Host {
    driver: Driver,
    format: SurfaceFormat,
    /// The clip last committed, in screen pixels (for the text mask).
    clip: Rect,
    text: [[u8; TEXT_COLS]; TEXT_ROWS],
    text_row: usize,
    text_col: usize,
    /// The text cells drawn, clipped as the GPU clips their clears.
    text_cells: Vec<(usize, Rect)>,
    masks: Vec<Mask>,
    next_handle: u32,
}

fn f32_bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

impl Host {
    /// pbkit's `pb_init` and `TestSuite::Initialize`, as far as they matter outside the 3D
    /// pipeline.
    pub fn new() -> Host {
        let mut driver = Driver::new(64);
        let size = PITCH * HEIGHT;
        driver.create_dma(DMA_A, 0, MAXRAM);
        driver.create_dma(DMA_COLOR, FRAMEBUFFER, size - 1);
        driver.create_dma(DMA_ZETA, ZETA, size - 1);
        driver.create_dma(DMA_BITBLT_IMAGES, FRAMEBUFFER, size - 1);
        let mut host = Host {
            driver,
            format: SurfaceFormat {
                color: COLOR_A8R8G8B8,
                zeta: ZETA_Z16,
                width: WIDTH,
                height: HEIGHT,
                clip: (0, 0, 0, 0),
            },
            clip: Rect::new(0, 0, WIDTH, HEIGHT),
            text: [[0; TEXT_COLS]; TEXT_ROWS],
            text_row: 0,
            text_col: 0,
            text_cells: Vec::new(),
            masks: Vec::new(),
            next_handle: 0x20,
        };
        // pb_init: the objects on their subchannels, the blit wired to the 2D surfaces.
        host.push(SUBCH_9F, SET_OBJECT, &[IMAGE_BLIT.handle]);
        host.push(SUBCH_62, SET_OBJECT, &[SURFACES_2D.handle]);
        host.push(SUBCH_3D, SET_OBJECT, &[KELVIN.handle]);
        host.push(
            SUBCH_9F,
            rom::NV09F_SET_CONTEXT_SURFACES,
            &[SURFACES_2D.handle],
        );
        host.push(
            SUBCH_9F,
            rom::NV09F_SET_OPERATION,
            &[rom::NV09F_OPERATION_SRCCOPY],
        );
        host.push(SUBCH_62, 0x0184, &[DMA_A, DMA_BITBLT_IMAGES]);
        // set_draw_buffer: the back buffer and the depth buffer.
        host.push(SUBCH_3D, nv097::SET_CONTEXT_DMA_COLOR, &[DMA_COLOR]);
        host.push(SUBCH_3D, nv097::SET_CONTEXT_DMA_ZETA, &[DMA_ZETA]);
        host.push(SUBCH_3D, nv097::SET_SURFACE_PITCH, &[PITCH << 16 | PITCH]);
        host.push(
            SUBCH_3D,
            nv097::SET_SURFACE_CLIP_HORIZONTAL,
            &[WIDTH << 16, HEIGHT << 16],
        );
        host.push(SUBCH_3D, nv097::SET_CONTROL0, &[0x0011_0001]);
        host.push(
            SUBCH_3D,
            nv097::SET_SURFACE_FORMAT,
            &[SURFACE_TYPE_PITCH << 8 | ZETA_Z24S8 << 4 | COLOR_A8R8G8B8],
        );
        // TestSuite::Initialize.
        host.push(SUBCH_3D, nv097::SET_SURFACE_PITCH, &[PITCH << 16 | PITCH]);
        host.push(SUBCH_3D, nv097::SET_SURFACE_CLIP_HORIZONTAL, &[WIDTH << 16]);
        host.push(SUBCH_3D, nv097::SET_SURFACE_CLIP_VERTICAL, &[HEIGHT << 16]);
        host.push(SUBCH_3D, nv097::SET_COLOR_MASK, &[COLOR_MASK_ALL]);
        host.push(SUBCH_3D, NV097_SET_DEPTH_TEST_ENABLE, &[0]);
        host.push(SUBCH_3D, NV097_SET_DEPTH_MASK, &[1]);
        host.push(SUBCH_3D, NV097_SET_STENCIL_TEST_ENABLE, &[0]);
        host.push(SUBCH_3D, NV097_SET_STENCIL_MASK, &[1]);
        host
    }

    /// Queues methods (`Pushbuffer::Push`).
    pub fn push(&mut self, subchannel: u32, method: u32, params: &[u32]) {
        self.driver.push(subchannel, method, params);
    }

    /// Sends what was queued and waits for the GPU (`Pushbuffer::End(true)`, `pb_busy`).
    pub fn flush(&mut self) -> Result<(), String> {
        let caught_up = self.driver.kick();
        let intr = self.driver.read(PGRAPH_INTR);
        if intr & PGRAPH_INTR_ERROR != 0 {
            return Err(format!(
                "PGRAPH error: NSOURCE {:#x}, method {:#06x} = {:#010x}",
                self.driver.read(PGRAPH_NSOURCE),
                self.driver.read(PGRAPH_TRAPPED_ADDR) & 0x1FFF,
                self.driver.read(PGRAPH_TRAPPED_DATA)
            ));
        }
        if !caught_up {
            return Err("the FIFO stopped before the end of the pushbuffer".into());
        }
        Ok(())
    }

    /// Guest RAM, for what the test program writes with the CPU.
    pub fn ram(&mut self) -> &mut [u8] {
        &mut self.driver.ram
    }

    /// A handle for a test's own object (the test programs take the next free "channel").
    fn handle(&mut self) -> u32 {
        let handle = self.next_handle;
        self.next_handle += 1;
        handle
    }

    /// `pb_create_dma_ctx` + `pb_bind_channel`.
    pub fn create_dma(&mut self, base: u32, limit: u32) -> Object {
        let handle = self.handle();
        self.driver.create_dma(handle, base, limit)
    }

    /// `pb_create_gr_ctx` + `pb_bind_channel`.
    pub fn create_graphics(&mut self, class: u32) -> Object {
        let handle = self.handle();
        self.driver.create_graphics(handle, class)
    }

    /// `pb_set_dma_address`.
    pub fn set_dma_window(&mut self, object: Object, base: u32, limit: u32) {
        self.driver.set_dma_window(object, base, limit);
    }

    /// `SetSurfaceFormat`: remembered, sent by [`Host::commit_surface_format`]. A clip of
    /// `None` is the whole surface.
    pub fn set_surface_format(
        &mut self,
        color: u32,
        zeta: u32,
        width: u32,
        height: u32,
        clip: Option<(u32, u32, u32, u32)>,
    ) {
        self.format = SurfaceFormat {
            color,
            zeta,
            width,
            height,
            clip: clip.unwrap_or((0, 0, 0, 0)),
        };
    }

    /// `CommitSurfaceFormat` (pitch surfaces): the format, the clip, the depth range.
    pub fn commit_surface_format(&mut self) {
        let f = self.format;
        self.push(
            SUBCH_3D,
            nv097::SET_SURFACE_FORMAT,
            &[SURFACE_TYPE_PITCH << 8 | f.zeta << 4 | f.color],
        );
        let (x, y, w, h) = f.clip;
        let width = if w != 0 { w } else { f.width };
        let height = if h != 0 { h } else { f.height };
        self.push(
            SUBCH_3D,
            nv097::SET_SURFACE_CLIP_HORIZONTAL,
            &[(width << 16) + x],
        );
        self.push(
            SUBCH_3D,
            nv097::SET_SURFACE_CLIP_VERTICAL,
            &[(height << 16) + y],
        );
        self.clip = Rect::new(x, y, width, height);
        let max_depth = if f.zeta == ZETA_Z16 {
            f32::from(u16::MAX)
        } else {
            0x00FF_FFFF as f32
        };
        self.push(SUBCH_3D, NV097_SET_CLIP_MIN, &f32_bits(&[0.0]));
        self.push(SUBCH_3D, NV097_SET_CLIP_MAX, &f32_bits(&[max_depth]));
    }

    /// `SetSurfaceFormatImmediate`.
    pub fn set_surface_format_now(
        &mut self,
        color: u32,
        zeta: u32,
        clip: Option<(u32, u32, u32, u32)>,
    ) {
        self.set_surface_format(color, zeta, WIDTH, HEIGHT, clip);
        self.commit_surface_format();
    }

    /// `SetupControl0`: stencil writes, fixed-point depth.
    pub fn setup_control0(&mut self) {
        self.push(
            SUBCH_3D,
            nv097::SET_CONTROL0,
            &[CONTROL0_STENCIL_WRITE_ENABLE],
        );
    }

    /// pbkit's `pb_fill`: a colour clear of a rectangle (the depth/stencil clear value is set
    /// to 0 on the way, as pbkit does).
    pub fn fill(&mut self, x: u32, y: u32, width: u32, height: u32, argb: u32) {
        let (x2, y2) = (x + width, y + height);
        self.push(
            SUBCH_3D,
            nv097::SET_CLEAR_RECT_HORIZONTAL,
            &[(x2 - 1) << 16 | x, (y2 - 1) << 16 | y],
        );
        self.push(
            SUBCH_3D,
            nv097::SET_ZSTENCIL_CLEAR_VALUE,
            &[0, argb, CLEAR_COLOR],
        );
    }

    /// `set_depth_stencil_buffer_region`: a depth and stencil clear of a rectangle (the whole
    /// screen for a width or height of 0).
    pub fn clear_depth_stencil(&mut self, depth: u32, stencil: u8, rect: Option<Rect>) {
        let rect = rect.unwrap_or(Rect::new(0, 0, WIDTH, HEIGHT));
        self.push(
            SUBCH_3D,
            nv097::SET_CLEAR_RECT_HORIZONTAL,
            &[(rect.x1 - 1) << 16 | rect.x0, (rect.y1 - 1) << 16 | rect.y0],
        );
        let value = if self.format.zeta == ZETA_Z16 {
            depth & 0xFFFF
        } else {
            (depth & 0x00FF_FFFF) << 8 | u32::from(stencil)
        };
        self.push(SUBCH_3D, nv097::SET_ZSTENCIL_CLEAR_VALUE, &[value]);
        self.push(SUBCH_3D, nv097::CLEAR_SURFACE, &[CLEAR_Z | CLEAR_STENCIL]);
    }

    /// `TestHost::PrepareDraw(argb)` with its default depth (0xFFFFFFFF) and stencil (0).
    pub fn prepare_draw(&mut self, argb: u32) -> Result<(), String> {
        self.commit_surface_format();
        self.setup_control0();
        self.fill(0, 0, WIDTH, HEIGHT, argb);
        self.clear_depth_stencil(0xFFFF_FFFF, 0, None);
        self.erase_text();
        self.flush()
    }

    /// Draws triangles with a colour per vertex, in immediate mode (`Begin`, `SetDiffuse`,
    /// `SetVertex`, `End`). Our PGRAPH does not rasterise yet: the methods are accepted and
    /// leave no pixels.
    pub fn draw_triangles(&mut self, vertices: &[([f32; 3], [f32; 4])]) {
        self.push(SUBCH_3D, NV097_SET_BEGIN_END, &[PRIMITIVE_TRIANGLES]);
        for (position, color) in vertices {
            self.push(SUBCH_3D, NV097_SET_DIFFUSE_COLOR4F, &f32_bits(color));
            self.push(SUBCH_3D, NV097_SET_VERTEX3F, &f32_bits(position));
        }
        self.push(SUBCH_3D, NV097_SET_BEGIN_END, &[BEGIN_END_END]);
    }

    /// `pb_erase_text_screen`.
    pub fn erase_text(&mut self) {
        self.text = [[0; TEXT_COLS]; TEXT_ROWS];
        self.text_row = 0;
        self.text_col = 0;
    }

    fn next_row(&mut self) {
        self.text_row += 1;
        if self.text_row >= TEXT_ROWS {
            self.text_row = TEXT_ROWS - 1;
            self.text.copy_within(1.., 0);
            self.text[TEXT_ROWS - 1] = [0; TEXT_COLS];
        }
        self.text_col = 0;
    }

    /// `pb_print`: characters at the cursor, `\n` starting a new row, wrapping at 60 columns.
    pub fn print(&mut self, text: &str) {
        for c in text.bytes() {
            match c {
                b'\n' => self.next_row(),
                b'\r' => self.text_col = 0,
                8 => self.text_col = self.text_col.saturating_sub(1),
                c if c >= 32 => {
                    self.text[self.text_row][self.text_col] = c;
                    self.text_col += 1;
                    if self.text_col >= TEXT_COLS {
                        self.next_row();
                    }
                }
                _ => {}
            }
        }
    }

    /// `pb_printat`.
    pub fn print_at(&mut self, row: usize, col: usize, text: &str) {
        if row < TEXT_ROWS {
            self.text_row = row;
        }
        if col < TEXT_COLS {
            self.text_col = col;
        }
        self.print(text);
    }

    /// `pb_draw_text_screen`, each character a clear of its whole 8x16 cell (see the module
    /// notes). The cells the surface clip leaves visible are masked.
    pub fn draw_text_screen(&mut self) {
        for row in 0..TEXT_ROWS {
            for col in 0..TEXT_COLS {
                let c = self.text[row][col];
                if c == 0 || c == b' ' || c == b'\t' {
                    continue;
                }
                let (x, y) = (20 + 10 * col as u32, 25 + 25 * row as u32);
                self.fill(x, y, 8, 16, 0x00FF_FFFF);
                let visible = Rect::new(x, y, 8, 16).intersect(&self.clip);
                if !visible.is_empty() {
                    self.text_cells.push((row, visible));
                }
            }
        }
    }

    /// Leaves a region out of the comparison.
    pub fn mask(&mut self, what: impl Into<String>, rect: Rect) {
        let rect = rect.intersect(&Rect::new(0, 0, WIDTH, HEIGHT));
        if !rect.is_empty() {
            self.masks.push(Mask {
                what: what.into(),
                rects: vec![rect],
            });
        }
    }

    /// `FinishDraw`: waits for the GPU and reads the back buffer.
    pub fn finish(mut self) -> Result<Rendered, String> {
        self.flush()?;
        let mut rgb = Vec::with_capacity((WIDTH * HEIGHT * 3) as usize);
        for y in 0..HEIGHT {
            let row = (FRAMEBUFFER + y * PITCH) as usize;
            for pixel in self.driver.ram[row..row + PITCH as usize].chunks_exact(4) {
                // A8R8G8B8 in memory: blue, green, red, alpha.
                rgb.extend_from_slice(&[pixel[2], pixel[1], pixel[0]]);
            }
        }
        let mut masks = Vec::new();
        if !self.text_cells.is_empty() {
            let mut rows: Vec<usize> = self.text_cells.iter().map(|&(row, _)| row).collect();
            rows.sort_unstable();
            rows.dedup();
            masks.push(Mask {
                what: format!(
                    "caption {} {} (the test's pb_print text; pbkit's font is not reproduced)",
                    if rows.len() == 1 { "row" } else { "rows" },
                    ranges(&rows)
                ),
                rects: self.text_cells.iter().map(|&(_, rect)| rect).collect(),
            });
        }
        masks.append(&mut self.masks);
        Ok(Rendered { rgb, masks })
    }
}

/// "0-1, 13-14" for rows 0, 1, 13 and 14 (sorted).
fn ranges(rows: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut k = 0;
    while k < rows.len() {
        let start = rows[k];
        let mut end = start;
        while k + 1 < rows.len() && rows[k + 1] == end + 1 {
            k += 1;
            end = rows[k];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        k += 1;
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_print_as_ranges() {
        assert_eq!(ranges(&[0, 1, 13, 14]), "0-1, 13-14");
        assert_eq!(ranges(&[3]), "3");
        assert_eq!(ranges(&[0, 2, 3]), "0, 2-3");
    }

    #[test]
    fn text_wraps_and_scrolls_like_pbkit() {
        let mut host = Host::new();
        host.print(&"x".repeat(61));
        assert_eq!(host.text[0][59], b'x');
        assert_eq!(host.text[1][0], b'x');
        assert_eq!((host.text_row, host.text_col), (1, 1));
        host.print_at(15, 0, "a\nb");
        assert_eq!(host.text[14][0], b'a');
        assert_eq!(host.text[15][0], b'b');
    }

    #[test]
    fn prepare_draw_fills_the_back_buffer_and_text_is_masked_where_visible() {
        let mut host = Host::new();
        host.prepare_draw(0xFF12_3456).unwrap();
        host.print("ab\n");
        host.set_surface_format_now(COLOR_A8R8G8B8, ZETA_Z24S8, Some((0, 240, 640, 240)));
        host.print_at(12, 0, "c");
        host.draw_text_screen();
        let rendered = host.finish().unwrap();
        assert_eq!(&rendered.rgb[..3], &[0x12, 0x34, 0x56]);
        // Row 0 is above the clip: only row 12's cell is masked, and it was cleared white.
        assert_eq!(rendered.masks.len(), 1);
        assert_eq!(rendered.masks[0].rects, vec![Rect::new(20, 325, 8, 16)]);
        assert!(rendered.masks[0].what.starts_with("caption row 12 "));
        let at = ((325 * WIDTH + 20) * 3) as usize;
        assert_eq!(&rendered.rgb[at..at + 3], &[0xFF, 0xFF, 0xFF]);
        let row0 = ((25 * WIDTH + 20) * 3) as usize;
        assert_eq!(&rendered.rgb[row0..row0 + 3], &[0x12, 0x34, 0x56]);
    }
}
