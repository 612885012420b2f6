//! The "Image_blit" suite (nxdk_pgraph_tests `src/tests/image_blit_tests.cpp`).
//!
//! Most tests blit the test program's own picture, `TestImage.png`, which it loads from its
//! disc into RAM with the CPU: that file is not available here (and no capture may stand in for
//! it), so its pixels cannot be reproduced.
//!
//! Reproduced: `ImgBlt_Clip_<x>_<y>_<w>_<h>` (`TestWithClipRectangle`): `PrepareDraw(0xF0440011)`,
//! then a SRCCOPY blit in A8R8G8B8 of 128x128 pixels from (8, 8) of the picture to (256, 176) of
//! the back buffer through a CLIP object (class 0x19) of the given rectangle, then the caption
//! (the test's name and "BufFmt: ARGB", rows 0-1). Our source is a placeholder picture the
//! same way in RAM; what the clip lets through (the blit rectangle within the clip) would be
//! the picture's pixels and is masked; everything else must be the background, which checks
//! that the blit lands where it should and that the clip holds (the 0x0 and 0x10 clips let
//! nothing through, the 1x1 clip a single pixel).
//!
//! Skipped: `ImgBlt_<op>_<format>_B<beta>` (blends and copies of the picture: its pixels are
//! the result), `OverlapFIFO` (the picture, blitted over the pushbuffer), `Overlap_*`,
//! `DirtyOverlappedDestSurf` and `BlitRenderBlit` (3D rendering into the blit's surfaces, and
//! the picture), `BlitBeyondWidth` (blits through a PFB tile: tile-swizzled memory and the
//! tile's limit, which are not emulated).

use super::host::*;
use super::{Case, unknown};
use oxbox::bootrom::nv2a::{NV09F_OPERATION_SRCCOPY, NV09F_SET_OPERATION, Object, SET_OBJECT};

/// The subchannels the suite binds its context objects to (`kNextSubchannel` onwards).
const SUBCH_19: u32 = 5;
const SUBCH_12: u32 = 6;
const SUBCH_72: u32 = 7;

const CLASS_NULL: u32 = 0x30;
const CLASS_CLIP: u32 = 0x19;
const CLASS_BETA: u32 = 0x12;
const CLASS_BETA4: u32 = 0x72;

const NV09F_OPERATION_BLEND_AND: u32 = 2;
const NV09F_OPERATION_SRCCOPY_PREMULT: u32 = 4;
const NV09F_OPERATION_BLEND_PREMULT: u32 = 5;
const NV04_SURFACE_2D_FORMAT_A8R8G8B8: u32 = 0x0A;

/// The picture's rectangle that the suite blits, and where to.
const SOURCE: (u32, u32) = (8, 8);
const SIZE: (u32, u32) = (128, 128);
const DESTINATION: (u32, u32) = (256, 176);

/// Our stand-in for the picture: 256x256 A8R8G8B8 in the test host's texture memory (the
/// real one's size does not matter: only the pixels the clip lets through come from it, and
/// those are masked).
const PICTURE_WIDTH: u32 = 256;
const PICTURE_PITCH: u32 = PICTURE_WIDTH * 4;
const PICTURE_BYTES: u32 = PICTURE_PITCH * 256;

/// The suite's clip rectangles (`kClipRegionTests`).
const CLIPS: [(u32, u32, u32, u32); 7] = [
    (0, 0, 640, 480),
    (320, 240, 64, 40),
    (320, 240, 640, 480),
    (300, 200, 16, 24),
    (320, 240, 0, 0),
    (320, 240, 1, 1),
    (320, 240, 0, 10),
];

pub fn case(test: &str) -> Case {
    if let Some(clip) = parse_clip(test) {
        return if CLIPS.contains(&clip) {
            Case::run(move || clip_test(clip))
        } else {
            unknown(test)
        };
    }
    const PICTURE: &str = "the test program's TestImage.png (loaded from its disc), which \
                           is not available here";
    let why = if test.starts_with("ImgBlt_") {
        format!("the result is the blitted pixels of {PICTURE}")
    } else if test == "OverlapFIFO" {
        format!("blits {PICTURE} over the pushbuffer and then to the screen")
    } else if test.starts_with("Overlap_")
        || test == "DirtyOverlappedDestSurf"
        || test == "BlitRenderBlit"
    {
        format!("renders quads with the 3D pipeline (not emulated yet) and blits {PICTURE}")
    } else if test == "BlitBeyondWidth" {
        "blits through a PFB tile (pb_assign_tile): the tile's memory layout and limit are not \
         emulated"
            .to_string()
    } else {
        return unknown(test);
    };
    Case::skip(why)
}

/// "ImgBlt_Clip_%d_%d_%d_%d".
fn parse_clip(test: &str) -> Option<(u32, u32, u32, u32)> {
    let numbers: Vec<u32> = test
        .strip_prefix("ImgBlt_Clip_")?
        .split('_')
        .map(|n| n.parse().ok())
        .collect::<Option<_>>()?;
    match numbers[..] {
        [x, y, w, h] => Some((x, y, w, h)),
        _ => None,
    }
}

/// The suite's context objects (`ImageBlitTests::Initialize`).
struct Contexts {
    image_source: Object,
    null: Object,
    clip: Object,
    beta: Object,
    beta4: Object,
}

impl Contexts {
    fn new(host: &mut Host) -> Contexts {
        let image_source = host.create_dma(0, MAXRAM);
        let null = host.create_graphics(CLASS_NULL);
        let clip = host.create_graphics(CLASS_CLIP);
        host.push(SUBCH_19, SET_OBJECT, &[clip.handle]);
        let beta = host.create_graphics(CLASS_BETA);
        host.push(SUBCH_12, SET_OBJECT, &[beta.handle]);
        let beta4 = host.create_graphics(CLASS_BETA4);
        host.push(SUBCH_72, SET_OBJECT, &[beta4.handle]);
        Contexts {
            image_source,
            null,
            clip,
            beta,
            beta4,
        }
    }
}

/// One blit (`ImageBlitWithinPushBlock`'s parameters).
struct Blit {
    operation: u32,
    beta: u32,
    source_dma: u32,
    destination_dma: u32,
    format: u32,
    source_pitch: u32,
    destination_pitch: u32,
    source_offset: u32,
    source: (u32, u32),
    destination_offset: u32,
    destination: (u32, u32),
    size: (u32, u32),
    /// x, y, width, height; None: no clip object.
    clip: Option<(u32, u32, u32, u32)>,
}

/// `ImageBlitWithinPushBlock`: the methods, in the test program's order.
fn push_blit(host: &mut Host, ctx: &Contexts, b: &Blit) {
    host.push(SUBCH_9F, NV09F_SET_OPERATION, &[b.operation]);
    host.push(SUBCH_62, 0x0184, &[b.source_dma]);
    host.push(SUBCH_62, 0x0188, &[b.destination_dma]);
    host.push(SUBCH_62, 0x0300, &[b.format]);
    host.push(
        SUBCH_62,
        0x0304,
        &[b.source_pitch | b.destination_pitch << 16],
    );
    host.push(SUBCH_62, 0x0308, &[b.source_offset]);
    host.push(SUBCH_62, 0x030C, &[b.destination_offset]);
    // COLOR_KEY, CLIP, PATTERN, ROP.
    host.push(SUBCH_9F, 0x0184, &[ctx.null.handle]);
    match b.clip {
        Some((x, y, w, h)) => {
            host.push(SUBCH_19, 0x0300, &[x | y << 16]);
            host.push(SUBCH_19, 0x0304, &[w | h << 16]);
            host.push(SUBCH_9F, 0x0188, &[ctx.clip.handle]);
        }
        None => host.push(SUBCH_9F, 0x0188, &[ctx.null.handle]),
    }
    host.push(SUBCH_9F, 0x018C, &[ctx.null.handle]);
    host.push(SUBCH_9F, 0x0190, &[ctx.null.handle]);
    // BETA and BETA4.
    if b.operation == NV09F_OPERATION_BLEND_AND {
        host.push(SUBCH_12, 0x0300, &[b.beta]);
        host.push(SUBCH_9F, 0x0194, &[ctx.beta.handle]);
    } else {
        host.push(SUBCH_9F, 0x0194, &[ctx.null.handle]);
    }
    if matches!(
        b.operation,
        NV09F_OPERATION_SRCCOPY_PREMULT | NV09F_OPERATION_BLEND_PREMULT
    ) {
        host.push(SUBCH_72, 0x0300, &[b.beta]);
        host.push(SUBCH_9F, 0x0198, &[ctx.beta4.handle]);
    } else {
        host.push(SUBCH_9F, 0x0198, &[ctx.null.handle]);
    }
    // POINT_IN, POINT_OUT, SIZE (which starts the blit).
    host.push(SUBCH_9F, 0x0300, &[b.source.0 | b.source.1 << 16]);
    host.push(SUBCH_9F, 0x0304, &[b.destination.0 | b.destination.1 << 16]);
    host.push(SUBCH_9F, 0x0308, &[b.size.0 | b.size.1 << 16]);
}

/// `TestWithClipRectangle` with the suite's SRCCOPY A8R8G8B8 set-up.
fn clip_test((x, y, w, h): (u32, u32, u32, u32)) -> Result<Rendered, String> {
    let mut host = Host::new();
    let ctx = Contexts::new(&mut host);
    // The stand-in picture, written by the CPU: mid grey, opaque.
    let at = TEXTURE_MEMORY as usize;
    for pixel in host.ram()[at..at + PICTURE_BYTES as usize].chunks_exact_mut(4) {
        pixel.copy_from_slice(&0xFF80_8080u32.to_le_bytes());
    }
    host.flush()?;

    host.prepare_draw(0xF044_0011)?;
    host.set_dma_window(ctx.image_source, TEXTURE_MEMORY, PICTURE_BYTES - 1);
    push_blit(
        &mut host,
        &ctx,
        &Blit {
            operation: NV09F_OPERATION_SRCCOPY,
            beta: 0,
            source_dma: ctx.image_source.handle,
            destination_dma: DMA_BITBLT_IMAGES,
            format: NV04_SURFACE_2D_FORMAT_A8R8G8B8,
            source_pitch: PICTURE_PITCH,
            destination_pitch: PITCH,
            source_offset: 0,
            source: SOURCE,
            destination_offset: 0,
            destination: DESTINATION,
            size: SIZE,
            clip: Some((x, y, w, h)),
        },
    );
    host.flush()?;

    host.print(&format!("ImgBlt_Clip_{x}_{y}_{w}_{h}\n"));
    host.print("BufFmt: ARGB\n");
    host.draw_text_screen();
    let through =
        Rect::new(DESTINATION.0, DESTINATION.1, SIZE.0, SIZE.1).intersect(&Rect::new(x, y, w, h));
    if !through.is_empty() {
        host.mask(
            format!(
                "blit within the clip, {}x{} at ({}, {}) (TestImage.png's pixels, not \
                 available)",
                through.x1 - through.x0,
                through.y1 - through.y0,
                through.x0,
                through.y0
            ),
            through,
        );
    }
    host.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_names_parse() {
        assert_eq!(
            parse_clip("ImgBlt_Clip_320_240_64_40"),
            Some((320, 240, 64, 40))
        );
        assert_eq!(parse_clip("ImgBlt_Clip_320_240_64"), None);
        assert_eq!(parse_clip("ImgBlt_SRCCOPY_ARGB_B00000000"), None);
        assert!(matches!(case("ImgBlt_Clip_1_2_3_4"), Case::Skip(_)));
        assert!(matches!(case("BlitBeyondWidth"), Case::Skip(_)));
    }

    #[test]
    fn the_clip_lets_through_only_its_rectangle() {
        let rendered = clip_test((320, 240, 1, 1)).unwrap();
        let background = [0x44, 0x00, 0x11];
        let pixel = |x: u32, y: u32| {
            let at = ((y * WIDTH + x) * 3) as usize;
            [rendered.rgb[at], rendered.rgb[at + 1], rendered.rgb[at + 2]]
        };
        assert_eq!(pixel(320, 240), [0x80, 0x80, 0x80]);
        assert_eq!(pixel(321, 240), background);
        assert_eq!(pixel(320, 241), background);
        assert_eq!(pixel(256, 176), background);
        assert_eq!(rendered.masks[1].rects, vec![Rect::new(320, 240, 1, 1)]);
    }
}
