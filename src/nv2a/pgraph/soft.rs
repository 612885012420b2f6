//! The software backend: PGRAPH's drawing done by the CPU straight into guest RAM.
//!
//! Everything here works from plain descriptions (windows, rectangles, pixel values) that the
//! state side has already decoded, so another backend can take the same requests. Every
//! access is checked twice over: against its DMA object's limit and against the RAM slice.
//! A region is checked whole before anything is written, so a request either lands entirely
//! or not at all.
//!
//! Requests are capped in size ([`MAX_PIXELS`], [`MAX_COPY_BYTES`]): the largest real
//! surfaces are 4096x4096, and a guest asking for more (a 65535x65535 blit with a pitch of 0
//! stays inside a small window) would otherwise stall the emulator for minutes. Larger
//! requests are refused as [`SoftError::TooLarge`].

use std::ops::Range;

use crate::nv2a::dma::{CLASS_FROM_MEMORY, CLASS_IN_MEMORY, CLASS_TO_MEMORY, DmaObject};

use super::context::PatternShape;
use super::surf2d::Format2d;
use super::surface::swizzle_offset;

/// The most pixels one drawing request may touch (4096x4096).
pub const MAX_PIXELS: u64 = 1 << 24;
/// The most bytes one memory-to-memory copy may move.
pub const MAX_COPY_BYTES: u64 = 1 << 28;

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SoftError {
    /// A read outside its DMA window or RAM.
    ReadOutside,
    /// A write outside its DMA window or RAM.
    WriteOutside,
    /// More work than [`MAX_PIXELS`] or [`MAX_COPY_BYTES`].
    TooLarge,
}

/// Whether an object is a DMA object at all (classes 0x02, 0x03, 0x3D).
pub fn is_dma(dma: &DmaObject) -> bool {
    matches!(
        dma.class,
        CLASS_FROM_MEMORY | CLASS_TO_MEMORY | CLASS_IN_MEMORY
    )
}

/// The RAM range of `len` bytes at `offset` in a DMA window, if all of them lie within both
/// the window's limit and RAM.
pub fn span(dma: &DmaObject, ram_len: usize, offset: u64, len: u64) -> Option<Range<usize>> {
    if !is_dma(dma) {
        return None;
    }
    let start = u64::from(dma.base).checked_add(offset)?;
    if len == 0 {
        let at = usize::try_from(start).ok()?.min(ram_len);
        return Some(at..at);
    }
    let last = offset.checked_add(len - 1)?;
    if last > u64::from(dma.limit) {
        return None;
    }
    let end = start.checked_add(len)?;
    if end > ram_len as u64 {
        return None;
    }
    Some(start as usize..end as usize)
}

/// Writes bytes through a DMA window.
pub fn write_bytes(ram: &mut [u8], dma: &DmaObject, offset: u64, bytes: &[u8]) -> bool {
    match span(dma, ram.len(), offset, bytes.len() as u64) {
        Some(range) => match ram.get_mut(range) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                true
            }
            None => false,
        },
        None => false,
    }
}

/// A rectangle of pixels, right and bottom edges exclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rect {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl Rect {
    /// The rectangle at (x, y) of the given size (edges saturate).
    pub fn new(x: u32, y: u32, width: u32, height: u32) -> Rect {
        Rect {
            x0: x,
            y0: y,
            x1: x.saturating_add(width),
            y1: y.saturating_add(height),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.x0 >= self.x1 || self.y0 >= self.y1
    }

    pub fn width(&self) -> u32 {
        self.x1.saturating_sub(self.x0)
    }

    pub fn height(&self) -> u32 {
        self.y1.saturating_sub(self.y0)
    }

    pub fn area(&self) -> u64 {
        u64::from(self.width()) * u64::from(self.height())
    }

    pub fn intersect(&self, other: &Rect) -> Rect {
        Rect {
            x0: self.x0.max(other.x0),
            y0: self.y0.max(other.y0),
            x1: self.x1.min(other.x1),
            y1: self.y1.min(other.y1),
        }
    }
}

/// How a 3D surface lays its pixels out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Rows `pitch` bytes apart.
    Pitch(u32),
    /// Z order in a 2^log_w by 2^log_h square.
    Swizzle { log_w: u32, log_h: u32 },
}

/// A surface to draw into: a DMA window, the surface's offset in it, its layout and pixel size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub dma: DmaObject,
    pub offset: u32,
    pub layout: Layout,
    pub bpp: u32,
}

impl Target {
    /// The window offset of pixel (x, y).
    fn at(&self, x: u32, y: u32) -> u64 {
        let bpp = u64::from(self.bpp);
        u64::from(self.offset)
            + match self.layout {
                Layout::Pitch(pitch) => u64::from(y) * u64::from(pitch) + u64::from(x) * bpp,
                Layout::Swizzle { log_w, log_h } => {
                    u64::from(swizzle_offset(x, y, log_w, log_h)) * bpp
                }
            }
    }
}

fn read_pixel(ram: &[u8], at: usize, bpp: usize) -> u32 {
    ram.get(at..at.wrapping_add(bpp)).map_or(0, |bytes| {
        bytes
            .iter()
            .rev()
            .fold(0, |value, &b| value << 8 | u32::from(b))
    })
}

fn write_pixel(ram: &mut [u8], at: usize, bpp: usize, value: u32) {
    if let Some(bytes) = ram.get_mut(at..at.wrapping_add(bpp)) {
        bytes.copy_from_slice(&value.to_le_bytes()[..bpp]);
    }
}

/// Writes the bits of `value` selected by `mask` into every pixel of `rect` (a clear).
pub fn fill(
    ram: &mut [u8],
    target: &Target,
    rect: Rect,
    value: u32,
    mask: u32,
) -> Result<(), SoftError> {
    let bpp = target.bpp.clamp(1, 4) as usize;
    let mask = if bpp == 4 {
        mask
    } else {
        mask & ((1 << (8 * bpp)) - 1)
    };
    if rect.is_empty() || mask == 0 {
        return Ok(());
    }
    if rect.area() > MAX_PIXELS {
        return Err(SoftError::TooLarge);
    }
    // Addresses grow with x and with y in both layouts, so the corners bound the region.
    let first = target.at(rect.x0, rect.y0);
    let last = target.at(rect.x1 - 1, rect.y1 - 1) + bpp as u64;
    let region =
        span(&target.dma, ram.len(), first, last - first).ok_or(SoftError::WriteOutside)?;
    let base = region.start as u64 - first;
    // A pitch of 0 puts every row on the same bytes: one row is the whole result.
    let rows = match target.layout {
        Layout::Pitch(0) => rect.y0..rect.y0 + 1,
        _ => rect.y0..rect.y1,
    };
    let full = mask == u32::MAX >> (32 - 8 * bpp as u32);
    for y in rows {
        for x in rect.x0..rect.x1 {
            let at = (base + target.at(x, y)) as usize;
            let pixel = if full {
                value
            } else {
                read_pixel(ram, at, bpp) & !mask | value & mask
            };
            write_pixel(ram, at, bpp, pixel);
        }
    }
    Ok(())
}

/// A pitch-linear 2D surface: a DMA window, the surface's offset in it and its pitch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Plane {
    pub dma: DmaObject,
    pub offset: u32,
    pub pitch: u32,
}

impl Plane {
    fn at(&self, x: u32, y: u32, bpp: u32) -> u64 {
        u64::from(self.offset)
            + u64::from(y) * u64::from(self.pitch)
            + u64::from(x) * u64::from(bpp)
    }

    /// The RAM range holding `rows` rows of `row_bytes` from (x, y), checked whole.
    fn region(
        &self,
        ram_len: usize,
        x: u32,
        y: u32,
        bpp: u32,
        rows: u32,
        row_bytes: u64,
    ) -> Option<usize> {
        let first = self.at(x, y, bpp);
        let last = first + u64::from(rows - 1) * u64::from(self.pitch) + row_bytes;
        span(&self.dma, ram_len, first, last - first).map(|range| range.start)
    }
}

/// The 2D operations (the OPERATION method of the blit and GDI objects; envytools'
/// nv03_operation). The `_AND` forms would also discard source pixels of alpha 0 where the
/// source format carries alpha; that test is not modelled (xemu does not either).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    SrccopyAnd = 0,
    RopAnd = 1,
    BlendAnd = 2,
    Srccopy = 3,
    SrccopyPremult = 4,
    BlendPremult = 5,
}

impl Operation {
    pub fn from_raw(raw: u32) -> Option<Operation> {
        Some(match raw {
            0 => Operation::SrccopyAnd,
            1 => Operation::RopAnd,
            2 => Operation::BlendAnd,
            3 => Operation::Srccopy,
            4 => Operation::SrccopyPremult,
            5 => Operation::BlendPremult,
            _ => return None,
        })
    }
}

/// How source pixels combine with the destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op2d {
    pub operation: Operation,
    /// BETA1's factor as kept: 0 to 0x7F800000, of which bits 23-30 count.
    pub beta: u32,
    /// BETA4's factors (B, G, R, A bytes).
    pub beta4: u32,
    /// The ternary raster operation.
    pub rop: u8,
    pub pattern_shape: PatternShape,
    /// The pattern's 64 entries in the destination format (only ROP_AND reads them).
    pub pattern: [u32; 64],
}

impl Op2d {
    /// A plain copy.
    pub fn srccopy() -> Op2d {
        Op2d {
            operation: Operation::Srccopy,
            beta: 0,
            beta4: 0,
            rop: 0xCC,
            pattern_shape: PatternShape::Square8x8,
            pattern: [0; 64],
        }
    }

    fn copies(&self) -> bool {
        matches!(self.operation, Operation::Srccopy | Operation::SrccopyAnd)
    }
}

/// The ternary raster operation: each result bit is bit `P<<2 | S<<1 | D` of `rop` (P the
/// pattern bit, S the source bit, D the destination bit; so 0xCC copies the source, 0xF0 the
/// pattern, 0x66 is source XOR destination).
pub fn rop3(rop: u8, pattern: u32, source: u32, dest: u32) -> u32 {
    (0..8).filter(|i| rop >> i & 1 != 0).fold(0, |acc, i| {
        let p = if i & 4 != 0 { pattern } else { !pattern };
        let s = if i & 2 != 0 { source } else { !source };
        let d = if i & 1 != 0 { dest } else { !dest };
        acc | p & s & d
    })
}

fn field(value: u32, shift: u32, bits: u32) -> u64 {
    (u64::from(value) >> shift) & ((1u64 << bits) - 1)
}

fn put(acc: u32, shift: u32, bits: u32, v: u64) -> u32 {
    let mask = ((1u64 << bits) - 1) << shift;
    ((u64::from(acc) & !mask) | ((v << shift) & mask)) as u32
}

/// BLEND_AND: each colour component becomes `(s*b + d*(255-b)) / 255` with b = beta's 8
/// bits (what xemu does; beta 0x7F800000 copies the source, 0 keeps the destination). The
/// destination's alpha is kept.
fn blend(format: Format2d, src: u32, dst: u32, beta: u32) -> u32 {
    let b = u64::from(beta >> 23 & 0xFF);
    format.components().iter().fold(dst, |acc, &(shift, bits)| {
        let s = field(src, shift, bits);
        let d = field(dst, shift, bits);
        put(acc, shift, bits, (s * b + d * (255 - b)) / 255)
    })
}

/// The PREMULT operations scale each source component by its BETA4 byte. Nothing documents
/// them (envytools leaves BETA4 as "figure it out"); this is the plain reading, unverified.
fn premult(format: Format2d, src: u32, dst: u32, beta4: u32, blend: bool) -> u32 {
    let factor = |i: usize| u64::from(beta4 >> (8 * i.min(3)) & 0xFF);
    let alpha = format.alpha();
    let src_alpha = alpha.map_or(255, |(shift, bits)| {
        let max = (1u64 << bits) - 1;
        field(src, shift, bits) * 255 / max
    });
    let coverage = src_alpha * factor(3) / 255;
    let mut components: Vec<(u32, u32, usize)> = format
        .components()
        .iter()
        .enumerate()
        .map(|(i, &(shift, bits))| (shift, bits, i))
        .collect();
    if let Some((shift, bits)) = alpha {
        components.push((shift, bits, 3));
    }
    components.into_iter().fold(dst, |acc, (shift, bits, i)| {
        let max = (1u64 << bits) - 1;
        let s = field(src, shift, bits) * factor(i) / 255;
        let v = if blend {
            (s + field(dst, shift, bits) * (255 - coverage) / 255).min(max)
        } else {
            s
        };
        put(acc, shift, bits, v)
    })
}

/// One destination pixel of a 2D operation at (x, y), padding forced.
pub fn combine(format: Format2d, op: &Op2d, src: u32, dst: u32, x: u32, y: u32) -> u32 {
    let value = match op.operation {
        Operation::Srccopy | Operation::SrccopyAnd => src,
        Operation::RopAnd => {
            let pattern = op.pattern[op.pattern_shape.index(x, y)];
            rop3(op.rop, pattern, src, dst)
        }
        Operation::BlendAnd => blend(format, src, dst, op.beta),
        Operation::SrccopyPremult => premult(format, src, dst, op.beta4, false),
        Operation::BlendPremult => premult(format, src, dst, op.beta4, true),
    };
    let (keep, set) = format.forced();
    value & keep | set
}

/// An IMAGE_BLIT request: copy `dst`'s rectangle from the source starting at `src_origin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlitJob {
    pub format: Format2d,
    pub src: Plane,
    pub dst: Plane,
    pub src_origin: (u32, u32),
    pub rect: Rect,
    pub op: Op2d,
}

/// Performs a blit. Overlapping source and destination come out as if the source had been
/// read whole first: rows go bottom-up when the destination lies after the source, and each
/// row is moved as a unit.
pub fn blit(ram: &mut [u8], job: &BlitJob) -> Result<(), SoftError> {
    let rect = job.rect;
    if rect.is_empty() {
        return Ok(());
    }
    if rect.area() > MAX_PIXELS {
        return Err(SoftError::TooLarge);
    }
    let bpp = job.format.bytes_per_pixel();
    let (w, h) = (rect.width(), rect.height());
    let row_bytes = u64::from(w) * u64::from(bpp);
    let (sx, sy) = job.src_origin;
    let src_base = job
        .src
        .region(ram.len(), sx, sy, bpp, h, row_bytes)
        .ok_or(SoftError::ReadOutside)?;
    let dst_base = job
        .dst
        .region(ram.len(), rect.x0, rect.y0, bpp, h, row_bytes)
        .ok_or(SoftError::WriteOutside)?;
    let row = row_bytes as usize;
    let bottom_up = dst_base > src_base;
    let mut line = vec![0u8; row];
    let plain = job.op.copies() && job.format.forced() == (u32::MAX >> (32 - 8 * bpp), 0);
    for i in 0..h {
        let i = if bottom_up { h - 1 - i } else { i };
        let s = src_base + i as usize * job.src.pitch as usize;
        let d = dst_base + i as usize * job.dst.pitch as usize;
        if s + row > ram.len() || d + row > ram.len() {
            return Err(SoftError::WriteOutside);
        }
        if plain {
            ram.copy_within(s..s + row, d);
            continue;
        }
        line.copy_from_slice(&ram[s..s + row]);
        let bpp = bpp as usize;
        for x in 0..w as usize {
            let src = read_pixel(&line, x * bpp, bpp);
            let at = d + x * bpp;
            let dst = read_pixel(ram, at, bpp);
            let value = combine(
                job.format,
                &job.op,
                src,
                dst,
                rect.x0 + x as u32,
                rect.y0 + i,
            );
            write_pixel(ram, at, bpp, value);
        }
    }
    Ok(())
}

/// Fills a rectangle of a 2D surface with one source colour through a 2D operation (the GDI
/// object's rectangles).
pub fn fill_2d(
    ram: &mut [u8],
    format: Format2d,
    dst: &Plane,
    rect: Rect,
    color: u32,
    op: &Op2d,
) -> Result<(), SoftError> {
    if rect.is_empty() {
        return Ok(());
    }
    if rect.area() > MAX_PIXELS {
        return Err(SoftError::TooLarge);
    }
    let bpp = format.bytes_per_pixel();
    let row_bytes = u64::from(rect.width()) * u64::from(bpp);
    let base = dst
        .region(ram.len(), rect.x0, rect.y0, bpp, rect.height(), row_bytes)
        .ok_or(SoftError::WriteOutside)?;
    let bpp = bpp as usize;
    for i in 0..rect.height() {
        let d = base + i as usize * dst.pitch as usize;
        for x in 0..rect.width() {
            let at = d + x as usize * bpp;
            let old = read_pixel(ram, at, bpp);
            let value = combine(format, op, color, old, rect.x0 + x, rect.y0 + i);
            write_pixel(ram, at, bpp, value);
        }
    }
    Ok(())
}

/// A MEMORY_TO_MEMORY_FORMAT request: `line_count` lines of `line_length` bytes, each line
/// `pitch` bytes after the last (pitches are signed). Byte k of a line is read at k times the
/// input increment and written at k times the output increment (both 1 for a plain copy;
/// what 2 and 4 do is not documented, this is the literal reading).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyJob {
    pub src: DmaObject,
    pub dst: DmaObject,
    pub src_offset: u32,
    pub dst_offset: u32,
    pub src_pitch: i32,
    pub dst_pitch: i32,
    pub line_length: u32,
    pub line_count: u32,
    pub src_step: u32,
    pub dst_step: u32,
}

/// The window offsets of a line's first byte and its extent, for lines `first` and `last`.
fn line_bounds(offset: u32, pitch: i32, count: u32, extent: u64) -> Option<(u64, u64)> {
    let start = i64::from(offset);
    let end = start + i64::from(count - 1) * i64::from(pitch);
    let lo = start.min(end);
    let hi = start.max(end);
    if lo < 0 {
        return None;
    }
    Some((lo as u64, hi as u64 - lo as u64 + extent))
}

/// Performs a memory-to-memory copy, lines in order.
pub fn copy_lines(ram: &mut [u8], job: &CopyJob) -> Result<(), SoftError> {
    if job.line_length == 0 || job.line_count == 0 {
        return Ok(());
    }
    if u64::from(job.line_length) * u64::from(job.line_count) > MAX_COPY_BYTES {
        return Err(SoftError::TooLarge);
    }
    let len = u64::from(job.line_length);
    let src_extent = (len - 1) * u64::from(job.src_step) + 1;
    let dst_extent = (len - 1) * u64::from(job.dst_step) + 1;
    let (src_lo, src_len) = line_bounds(job.src_offset, job.src_pitch, job.line_count, src_extent)
        .ok_or(SoftError::ReadOutside)?;
    let (dst_lo, dst_len) = line_bounds(job.dst_offset, job.dst_pitch, job.line_count, dst_extent)
        .ok_or(SoftError::WriteOutside)?;
    let src_region = span(&job.src, ram.len(), src_lo, src_len).ok_or(SoftError::ReadOutside)?;
    let dst_region = span(&job.dst, ram.len(), dst_lo, dst_len).ok_or(SoftError::WriteOutside)?;
    // RAM addresses of line 0.
    let src0 = src_region.start as i64 + (i64::from(job.src_offset) - src_lo as i64);
    let dst0 = dst_region.start as i64 + (i64::from(job.dst_offset) - dst_lo as i64);
    let length = job.line_length as usize;
    for line in 0..i64::from(job.line_count) {
        let s = (src0 + line * i64::from(job.src_pitch)) as usize;
        let d = (dst0 + line * i64::from(job.dst_pitch)) as usize;
        if job.src_step == 1 && job.dst_step == 1 {
            if s + length > ram.len() || d + length > ram.len() {
                return Err(SoftError::WriteOutside);
            }
            ram.copy_within(s..s + length, d);
        } else {
            for k in 0..length {
                let byte = ram.get(s + k * job.src_step as usize).copied().unwrap_or(0);
                if let Some(out) = ram.get_mut(d + k * job.dst_step as usize) {
                    *out = byte;
                }
            }
        }
    }
    Ok(())
}

/// The pixels a lin (a half-open line) from `from` to `to` covers, in the order they are
/// rasterised: envytools' rule for the 2D engine's lines (docs/hw/graph/2d/solid.rst), a
/// Bresenham walk along the major axis (x when |dx| > |dy|, else y) in the direction of
/// increasing minor coordinate, stepping the minor coordinate once the scaled error reaches
/// the major delta (ties step), the end point itself left out. A lin of no length covers
/// nothing. `None` when it would cover more than [`MAX_PIXELS`].
pub fn lin_pixels(from: (i32, i32), to: (i32, i32)) -> Option<Vec<(i64, i64)>> {
    let (x0, y0) = (i64::from(from.0), i64::from(from.1));
    let (x1, y1) = (i64::from(to.0), i64::from(to.1));
    let xmajor = (x0 - x1).abs() > (y0 - y1).abs();
    let (mut maj0, mut maj1, mut min0, mut min1) = if xmajor {
        (x0, x1, y0, y1)
    } else {
        (y0, y1, x0, x1)
    };
    if min1 < min0 {
        std::mem::swap(&mut min0, &mut min1);
        std::mem::swap(&mut maj0, &mut maj1);
    }
    let dmin = min1 - min0;
    let dmaj = (maj1 - maj0).abs();
    if dmaj as u64 + 1 > MAX_PIXELS {
        return None;
    }
    if dmaj == 0 {
        // Both deltas are 0: the only pixel is the end point.
        return Some(Vec::new());
    }
    let step = if maj1 > maj0 { 1 } else { -1 };
    let mut pixels = Vec::with_capacity(dmaj as usize + 1);
    let (mut min, mut err) = (min0, 0i64);
    let mut maj = maj0;
    loop {
        if err >= dmaj {
            min += 1;
            err -= dmaj * 2;
        }
        let (x, y) = if xmajor { (maj, min) } else { (min, maj) };
        if (x, y) != (x1, y1) {
            pixels.push((x, y));
        }
        err += dmin * 2;
        if maj == maj1 {
            break;
        }
        maj += step;
    }
    Some(pixels)
}

/// Draws a solid lin into a 2D surface through a 2D operation: each covered pixel inside the
/// clip rectangle (and at non-negative coordinates) is combined with `color`. A pixel outside
/// the destination's DMA window fails the request, as the fills do; pixels before it are
/// drawn.
pub fn draw_lin(
    ram: &mut [u8],
    format: Format2d,
    dst: &Plane,
    clip: Rect,
    (from, to): ((i32, i32), (i32, i32)),
    color: u32,
    op: &Op2d,
) -> Result<(), SoftError> {
    let pixels = lin_pixels(from, to).ok_or(SoftError::TooLarge)?;
    let bpp = format.bytes_per_pixel();
    for (x, y) in pixels {
        let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) else {
            continue;
        };
        if x < clip.x0 || x >= clip.x1 || y < clip.y0 || y >= clip.y1 {
            continue;
        }
        let at = span(&dst.dma, ram.len(), dst.at(x, y, bpp), u64::from(bpp))
            .ok_or(SoftError::WriteOutside)?
            .start;
        let bpp = bpp as usize;
        let old = read_pixel(ram, at, bpp);
        write_pixel(ram, at, bpp, combine(format, op, color, old, x, y));
    }
    Ok(())
}
