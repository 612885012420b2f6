//! The NV2A side: register offsets and methods with their sources, where things go in RAM and
//! PRAMIN, and the register sequences the x86 code replays (mode set, PFIFO channel set-up,
//! vblank interrupt).
//!
//! Sources: register and method names and offsets from xemu `hw/xbox/nv2a/nv2a_regs.h` (which
//! follows envytools' rnndb), their use from nxdk `lib/pbkit/pbkit.c` (`pb_init`,
//! `pb_create_dma_ctx`, `pb_bind_channel`), the mode set from the retail kernel's
//! AvSetDisplayMode as logged under xemu in Ryzee119/XboxDoomBIOS `lib/xbox/video.c` and
//! Cromwell `drivers/video/BootVgaInitialization.c` / `VideoInitialization.c`, register meanings
//! from nouveau `dispnv04/nvreg.h`.

use super::xcodes::NV2A_BAR0;

// PMC: identity, enables, interrupt aggregation.
pub const PMC_BOOT_0: u32 = 0x00_0000;
/// What PMC_BOOT_0 reads on any NV2A, less its stepping byte (A1, A2 and A3 exist).
pub const PMC_BOOT_0_NV2A: u32 = 0x02A0_0000;
pub const PMC_INTR_EN_0: u32 = 0x00_0140;
const PMC_INTR_EN_0_HARDWARE: u32 = 1;
pub const PMC_ENABLE: u32 = 0x00_0200;
const PMC_ENABLE_PFIFO: u32 = 1 << 8;
const PMC_ENABLE_PGRAPH: u32 = 1 << 12;

// PFIFO (block at 0x2000).
const PFIFO_INTR_0: u32 = 0x00_2100;
const PFIFO_INTR_EN_0: u32 = 0x00_2140;
const PFIFO_RAMHT: u32 = 0x00_2210;
const PFIFO_RAMFC: u32 = 0x00_2214;
const PFIFO_RAMRO: u32 = 0x00_2218;
const PFIFO_CACHES: u32 = 0x00_2500;
const PFIFO_MODE: u32 = 0x00_2504;
const PFIFO_DMA: u32 = 0x00_2508;
const CACHE1_PUSH0: u32 = 0x00_3200;
const CACHE1_PUSH1: u32 = 0x00_3204;
const CACHE1_PUSH1_MODE_DMA: u32 = 1 << 8;
const CACHE1_DMA_PUSH: u32 = 0x00_3220;
const CACHE1_DMA_FETCH: u32 = 0x00_3224;
const CACHE1_DMA_STATE: u32 = 0x00_3228;
const CACHE1_DMA_INSTANCE: u32 = 0x00_322C;
const CACHE1_DMA_PUT: u32 = 0x00_3240;
const CACHE1_DMA_GET: u32 = 0x00_3244;
const CACHE1_PULL0: u32 = 0x00_3250;
const CACHE1_ENGINE: u32 = 0x00_3280;

// PFB: memory configuration; CSTATUS reads the RAM size in bytes (xemu `pfb.c`).
const PFB_CFG0: u32 = 0x10_0200;
pub const PFB_CSTATUS: u32 = 0x10_020C;

// PGRAPH (block at 0x400000).
const PGRAPH_INTR: u32 = 0x40_0100;
const PGRAPH_CTX_CONTROL: u32 = 0x40_0144;
const PGRAPH_CTX_CONTROL_DEVICE: u32 = 1 << 28;
const PGRAPH_FIFO: u32 = 0x40_0720;
const PGRAPH_FIFO_ACCESS: u32 = 1;

// PCRTC: scan-out start and the vblank interrupt.
pub const PCRTC_INTR_0: u32 = 0x60_0100;
const PCRTC_INTR_EN_0: u32 = 0x60_0140;
const PCRTC_INTR_VBLANK: u32 = 1;
pub const PCRTC_START: u32 = 0x60_0800;

// The VGA ports, memory-mapped: CRTC index/data through PRMCIO, sequencer, graphics
// controller and miscellaneous output through PRMVIO.
const CRTC_INDEX: u32 = 0x60_13D4;
const CRTC_DATA: u32 = 0x60_13D5;
const VGA_MISC_OUT: u32 = 0x0C_03C2;
const VGA_ENABLE: u32 = 0x0C_03C3;
const SEQ_INDEX: u32 = 0x0C_03C4;
const SEQ_DATA: u32 = 0x0C_03C5;
const GR_INDEX: u32 = 0x0C_03CE;
const GR_DATA: u32 = 0x0C_03CF;

// PRAMDAC: PLLs, pixel pipe and the flat-panel timing generator the Xbox's CRTC uses.
const PRAMDAC_VPLL_COEFF: u32 = 0x68_0508;
const PRAMDAC_PLL_COEFF_SELECT: u32 = 0x68_050C;
const PRAMDAC_GENERAL_CONTROL: u32 = 0x68_0600;
const PRAMDAC_FP_VDISPLAY_END: u32 = 0x68_0800;
const PRAMDAC_FP_TG_CONTROL: u32 = 0x68_0848;

/// PRAMIN, the instance memory, seen through BAR0.
pub const PRAMIN: u32 = 0x70_0000;
/// Channel 0's USER area: DMA_PUT and DMA_GET.
pub const USER_DMA_PUT: u32 = 0x80_0040;
pub const USER_DMA_GET: u32 = 0x80_0044;

/// Where things go in RAM.
pub const PUSHBUFFER: u32 = 0x0010_0000;
pub const PUSHBUFFER_SIZE: u32 = 0x0004_0000;
/// The glyph atlas: one 16-line strip per palette colour, 95 glyphs of 8 pixels across.
pub const ATLAS: u32 = 0x0020_0000;
pub const ATLAS_PITCH: u32 = 4096;
/// The framebuffer, 4 MiB below the top of a 64 MiB console (as Cromwell places it), and the
/// depth buffer Kelvin's surface names after it (never written: only colour is cleared).
pub const FRAMEBUFFER: u32 = 0x03C0_0000;
pub const ZETA: u32 = FRAMEBUFFER + 0x0020_0000;
pub const PITCH: u32 = MODE.width * 4;

/// The display timing for 640x480 NTSC (the kernel's CRTC table 1 for mode 0x04010101): the
/// flat-panel timing generator's registers, each a pixel or line index.
pub struct Timing {
    pub width: u32,
    pub height: u32,
    pub vdisplay_end: u32,
    pub vtotal: u32,
    pub vcrtc: u32,
    pub vsync_start: u32,
    pub vsync_end: u32,
    pub vvalid_start: u32,
    pub vvalid_end: u32,
    pub hdisplay_end: u32,
    pub htotal: u32,
    pub hcrtc: u32,
    pub hsync_start: u32,
    pub hsync_end: u32,
    pub hvalid_start: u32,
    pub hvalid_end: u32,
}

pub const MODE: Timing = Timing {
    width: 640,
    height: 480,
    vdisplay_end: 0x1DF,
    vtotal: 0x20C,
    vcrtc: 0x1DF,
    vsync_start: 0x1E7,
    vsync_end: 0x1E9,
    vvalid_start: 0,
    vvalid_end: 0x1DF,
    hdisplay_end: 0x27F,
    htotal: 0x30B,
    hcrtc: 0x257,
    hsync_start: 0x2AB,
    hsync_end: 0x2AD,
    hvalid_start: 0,
    hvalid_end: 0x27F,
};

/// The VPLL for the mode's pixel clock, 780 x 525 x 29.97 Hz = 12.27 MHz, from the 16.667 MHz
/// crystal: MDIV 9, NDIV 106, PDIV 4 (16.667 * 106 / 9 / 2^4 = 12.27 MHz). On a TV mode the
/// encoder supplies the pixel clock (PLL_COEFF_SELECT below); the VPLL matters for VGA.
pub const VPLL: u32 = 4 << 16 | 106 << 8 | 9;
/// The kernel's value: VCLK_RATIO_DB, pixel clock from the TV encoder (TV_PCLK1).
const PLL_COEFF_SELECT_TV: u32 = 0x1002_0000;
/// 8 bits per component, pixel mixing on (the kernel's value for 32-bit modes).
const GENERAL_CONTROL_32BPP: u32 = 0x0010_0030;
/// Sync polarities and modes of the flat-panel timing generator (the kernel's value).
const FP_TG_CONTROL: u32 = 0x1010_0111;

// PRAMIN layout (pbkit's): the hash table, the channels' FIFO contexts, the runout area, then
// objects, each 16 bytes (an "instance" is its offset / 16).
pub(crate) const RAMHT: u32 = 0x1_0000;
const RAMFC: u32 = 0x1_1000;
const RAMRO: u32 = 0x1_2000;
const OBJECTS: u32 = 0x1_2200;
const PRAMIN_USED_END: u32 = OBJECTS + 0x100;

/// The objects the channel uses: (handle, instance, what). Handles are pbkit's.
pub const DMA_PUSHBUFFER: Object = Object {
    handle: 0x06,
    instance: OBJECTS >> 4,
};
pub const DMA_RAM: Object = Object {
    handle: 0x02,
    instance: (OBJECTS >> 4) + 1,
};
pub const KELVIN: Object = Object {
    handle: 0x0D,
    instance: (OBJECTS >> 4) + 2,
};
pub const IMAGE_BLIT: Object = Object {
    handle: 0x10,
    instance: (OBJECTS >> 4) + 3,
};
pub const SURFACES_2D: Object = Object {
    handle: 0x11,
    instance: (OBJECTS >> 4) + 4,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Object {
    pub handle: u32,
    pub instance: u32,
}

const CLASS_DMA_IN_MEMORY: u32 = 0x3D;
const CLASS_CONTEXT_SURFACES_2D: u32 = 0x62;
const CLASS_KELVIN: u32 = 0x97;
const CLASS_IMAGE_BLIT: u32 = 0x9F;

/// Subchannels, as pbkit assigns them.
pub const SUB_3D: u32 = 0;
pub const SUB_BLIT: u32 = 2;
pub const SUB_SURFACES: u32 = 3;

// Methods. Every class: SET_OBJECT binds a subchannel to a RAMHT handle.
pub const SET_OBJECT: u32 = 0x0000;
// NV097 (Kelvin).
pub const NV097_SET_CONTEXT_DMA_COLOR: u32 = 0x0194;
pub const NV097_SET_SURFACE_CLIP_HORIZONTAL: u32 = 0x0200;
pub const NV097_SET_COLOR_CLEAR_VALUE: u32 = 0x1D90;
pub const NV097_CLEAR_SURFACE: u32 = 0x1D94;
pub const NV097_SET_CLEAR_RECT_HORIZONTAL: u32 = 0x1D98;
/// CLEAR_SURFACE: R, G, B and A (bits 4-7); Z and stencil (bits 0-1) stay.
pub const CLEAR_COLOR: u32 = 0xF0;
/// SET_SURFACE_FORMAT: colour X8R8G8B8_O8R8G8B8 (5), zeta Z24S8 (2 << 4), pitch (1 << 8).
pub const SURFACE_FORMAT: u32 = 1 << 8 | 2 << 4 | 5;
// NV062 (CONTEXT_SURFACES_2D).
pub const NV062_SET_CONTEXT_DMA_IMAGE_SOURCE: u32 = 0x0184;
pub const NV062_SET_COLOR_FORMAT: u32 = 0x0300;
/// X8R8G8B8 with the unused byte read as ones.
pub const NV062_COLOR_FORMAT_X8R8G8B8: u32 = 0x07;
// NV09F (IMAGE_BLIT).
pub const NV09F_SET_CONTEXT_SURFACES: u32 = 0x019C;
pub const NV09F_SET_OPERATION: u32 = 0x02FC;
pub const NV09F_OPERATION_SRCCOPY: u32 = 3;
pub const NV09F_CONTROL_POINT_IN: u32 = 0x0300;

/// A pushbuffer command header: `count` increasing methods from `method` on `subchannel`.
pub const fn method_header(subchannel: u32, method: u32, count: u32) -> u32 {
    count << 18 | subchannel << 13 | method
}

/// The RAMHT slot of `handle` for channel `channel`: the handle XOR-folded 9 bits at a time
/// (a 4 KiB table holds 512 8-byte entries), then the channel in the top bits (nouveau
/// `nvkm_ramht_hash`). Our handles are below 512, where xemu's folding agrees.
pub fn ramht_hash(mut handle: u32, channel: u32) -> u32 {
    const BITS: u32 = 9;
    let mut hash = 0;
    while handle != 0 {
        hash ^= handle & ((1 << BITS) - 1);
        handle >>= BITS;
    }
    hash ^ channel << (BITS - 4)
}

/// One step of a register sequence: an address in BAR0's window and what to do there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// A dword store.
    Write32(u32, u32),
    /// A byte store.
    Write8(u32, u8),
    /// `count` dword stores of the value at consecutive addresses.
    Fill(u32, u32, u32),
}

impl Op {
    /// The table entry the x86 code walks: op, address, value, count (op 0 ends a table).
    pub fn encode(self) -> [u32; 4] {
        match self {
            Op::Write32(at, value) => [1, NV2A_BAR0 + at, value, 1],
            Op::Write8(at, value) => [2, NV2A_BAR0 + at, u32::from(value), 1],
            Op::Fill(at, value, count) => [3, NV2A_BAR0 + at, value, count],
        }
    }
}

fn crtc(index: u8, value: u8) -> [Op; 2] {
    [Op::Write8(CRTC_INDEX, index), Op::Write8(CRTC_DATA, value)]
}

/// The CRTC registers of the kernel's table 1 (640x480 TV), in the order it writes them:
/// CR00-CR18 the VGA timing, CR19 (repaint 0: offset bits 8-10 in bits 5-7), CR1A (repaint 1),
/// CR1B (FIFO control), CR20 (FIFO low-water mark), CR25 (extended vertical bits and offset
/// bit 11), CR2D (extended horizontal bits), CR33, CR39, CR41.
const CRTC_TABLE: [(u8, u8); 34] = [
    (0x00, 0x5D),
    (0x01, 0x4F),
    (0x02, 0x4F),
    (0x03, 0x9C),
    (0x04, 0x54),
    (0x05, 0x35),
    (0x06, 0x0B),
    (0x07, 0x3E),
    (0x08, 0x00),
    (0x09, 0x40),
    (0x0A, 0x00),
    (0x0B, 0x00),
    (0x0C, 0x00),
    (0x0D, 0x00),
    (0x0E, 0x00),
    (0x0F, 0x00),
    (0x10, 0xE9),
    (0x11, 0x0E),
    (0x12, 0xDF),
    (0x13, 0x00),
    (0x14, 0x00),
    (0x15, 0xDF),
    (0x16, 0x0C),
    (0x17, 0xE3),
    (0x18, 0xFF),
    (0x19, 0x00),
    (0x1A, 0x3A),
    (0x1B, 0x05),
    (0x20, 0x80),
    (0x25, 0x10),
    (0x2D, 0x00),
    (0x33, 0x11),
    (0x39, 0xFF),
    (0x41, 0x00),
];

/// 640x480, X8R8G8B8, scanning out of [`FRAMEBUFFER`].
pub fn mode_set(ram_mib: u32) -> Vec<Op> {
    let mut ops = vec![
        // Memory configuration, 64 or 128 MiB (Cromwell's values).
        Op::Write32(
            PFB_CFG0,
            if ram_mib == 128 {
                0x0307_0103
            } else {
                0x0307_0003
            },
        ),
    ];
    // Unlock the extended CRTC registers; no pixel depth while the timing changes.
    ops.extend(crtc(0x1F, 0x57));
    ops.extend(crtc(0x28, 0x00));
    // Screen off (sequencer clocking mode bit 5) while reprogramming.
    ops.extend([Op::Write8(SEQ_INDEX, 0x01), Op::Write8(SEQ_DATA, 0x21)]);
    ops.extend([
        Op::Write8(VGA_ENABLE, 0x01),
        // Colour emulation, RAM enabled, clock select 3, negative syncs.
        Op::Write8(VGA_MISC_OUT, 0xE3),
        Op::Write32(PRAMDAC_VPLL_COEFF, VPLL),
        Op::Write32(PRAMDAC_PLL_COEFF_SELECT, PLL_COEFF_SELECT_TV),
        Op::Write32(PRAMDAC_GENERAL_CONTROL, GENERAL_CONTROL_32BPP),
    ]);
    // The flat-panel timing generator: VDISPLAY_END, VTOTAL, VCRTC, VSYNC_START, VSYNC_END,
    // VVALID_START, VVALID_END at 0x800-0x818, then the horizontal ones at 0x820-0x838.
    let vertical = [
        MODE.vdisplay_end,
        MODE.vtotal,
        MODE.vcrtc,
        MODE.vsync_start,
        MODE.vsync_end,
        MODE.vvalid_start,
        MODE.vvalid_end,
    ];
    let horizontal = [
        MODE.hdisplay_end,
        MODE.htotal,
        MODE.hcrtc,
        MODE.hsync_start,
        MODE.hsync_end,
        MODE.hvalid_start,
        MODE.hvalid_end,
    ];
    for (n, value) in vertical.into_iter().enumerate() {
        ops.push(Op::Write32(PRAMDAC_FP_VDISPLAY_END + 4 * n as u32, value));
    }
    for (n, value) in horizontal.into_iter().enumerate() {
        ops.push(Op::Write32(
            PRAMDAC_FP_VDISPLAY_END + 0x20 + 4 * n as u32,
            value,
        ));
    }
    ops.push(Op::Write32(PRAMDAC_FP_TG_CONTROL, FP_TG_CONTROL));
    // Sequencer: reset off, screen still off, all planes, no character map, chain-4.
    for (index, value) in [0x03, 0x21, 0x0F, 0x00, 0x06].into_iter().enumerate() {
        ops.extend([
            Op::Write8(SEQ_INDEX, index as u8),
            Op::Write8(SEQ_DATA, value),
        ]);
    }
    // Graphics controller: 256-colour shift mode, graphics at 0xA0000, all bits.
    for (index, value) in [0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF]
        .into_iter()
        .enumerate()
    {
        ops.extend([
            Op::Write8(GR_INDEX, index as u8),
            Op::Write8(GR_DATA, value),
        ]);
    }
    // CR11 bit 7 write-protects CR00-CR07: clear it, then the timing.
    ops.extend(crtc(0x11, 0x00));
    // The offset (CR13, CR19 bits 5-7, CR25 bit 5) is the pitch in 8-byte units.
    let offset = PITCH / 8;
    for (index, value) in CRTC_TABLE {
        let value = match index {
            0x13 => offset as u8,
            0x19 => value & 0x1F | ((offset >> 3) & 0xE0) as u8,
            0x25 => value & !0x20 | ((offset >> 6) & 0x20) as u8,
            _ => value,
        };
        ops.extend(crtc(index, value));
    }
    // Pixel depth 3 (32 bits), bit 7: the TV encoder's timing (slave mode).
    ops.extend(crtc(0x28, 0x83));
    ops.push(Op::Write32(PCRTC_START, FRAMEBUFFER));
    // Screen on.
    ops.extend([Op::Write8(SEQ_INDEX, 0x01), Op::Write8(SEQ_DATA, 0x01)]);
    ops
}

/// A DMA object over `limit + 1` bytes from `base` (pbkit `pb_create_dma_ctx`): class, page
/// table present and linear (0x3000), pbkit's 0x8000, target 0 (the NV2A's memory, which on
/// the Xbox is all of RAM); the limit; the page address with its present and writable bits,
/// twice.
pub(crate) fn dma_object(instance: u32, base: u32, limit: u32) -> [Op; 4] {
    let at = PRAMIN + (instance << 4);
    [
        Op::Write32(
            at,
            CLASS_DMA_IN_MEMORY | 0x3000 | 0x8000 | (base & 0xFFF) << 20,
        ),
        Op::Write32(at + 4, limit),
        Op::Write32(at + 8, base & !0xFFF | 3),
        Op::Write32(at + 12, base & !0xFFF | 3),
    ]
}

/// A graphics object: its class in the first dword (what PGRAPH loads on SET_OBJECT), no
/// notifier, no patch configuration.
pub(crate) fn graphics_object(instance: u32, class: u32) -> Op {
    Op::Write32(PRAMIN + (instance << 4), class)
}

/// The RAMHT entry binding `object` to channel 0: the handle, then valid (bit 31), channel,
/// engine (1: graphics; 0 for DMA objects, as pbkit does) and instance.
pub(crate) fn ramht_entry(object: Object, graphics: bool) -> [Op; 2] {
    let at = PRAMIN + RAMHT + 8 * ramht_hash(object.handle, 0);
    [
        Op::Write32(at, object.handle),
        Op::Write32(
            at + 4,
            0x8000_0000 | u32::from(graphics) << 16 | object.instance,
        ),
    ]
}

/// pbkit's CACHE1_DMA_FETCH for channel 0: trigger at 128 bytes, 128-byte fetches, up to 8
/// requests.
const DMA_FETCH: u32 = ((128 >> 3) - 1) << 3 | ((128 >> 5) - 1) << 13 | 8 << 16;

/// Channel 0 in DMA mode on the pushbuffer, with the objects the screen needs.
pub fn pfifo_setup(ram_mib: u32) -> Vec<Op> {
    let mut ops = vec![
        Op::Write32(PMC_ENABLE, PMC_ENABLE_PFIFO | PMC_ENABLE_PGRAPH),
        // Stop both caches while the tables change.
        Op::Write32(PFIFO_CACHES, 0),
        Op::Write32(CACHE1_PUSH0, 0),
        Op::Write32(CACHE1_PULL0, 0),
        Op::Write32(CACHE1_DMA_PUSH, 0),
        // RAMHT at 0x10000, 4 KiB, search 128 entries; RAMFC at 0x11000 with its second part at
        // 0x11200 (pbkit's encoding); RAMRO at 0x12000, 512 bytes.
        Op::Write32(PFIFO_RAMHT, 3 << 24 | (RAMHT >> 8) & 0x1F0),
        Op::Write32(PFIFO_RAMFC, (0x1_1200 << 7) | (RAMFC >> 8) & 0x1FC),
        Op::Write32(PFIFO_RAMRO, (RAMRO >> 8) & 0x1FE),
        Op::Fill(PRAMIN + RAMHT, 0, (PRAMIN_USED_END - RAMHT) / 4),
    ];
    let ram_limit = (ram_mib << 20) - 1;
    ops.extend(dma_object(
        DMA_PUSHBUFFER.instance,
        PUSHBUFFER,
        PUSHBUFFER_SIZE - 1,
    ));
    ops.extend(dma_object(DMA_RAM.instance, 0, ram_limit));
    ops.push(graphics_object(KELVIN.instance, CLASS_KELVIN));
    ops.push(graphics_object(IMAGE_BLIT.instance, CLASS_IMAGE_BLIT));
    ops.push(graphics_object(
        SURFACES_2D.instance,
        CLASS_CONTEXT_SURFACES_2D,
    ));
    ops.extend(ramht_entry(DMA_PUSHBUFFER, false));
    ops.extend(ramht_entry(DMA_RAM, false));
    ops.extend(ramht_entry(KELVIN, true));
    ops.extend(ramht_entry(IMAGE_BLIT, true));
    ops.extend(ramht_entry(SURFACES_2D, true));
    ops.extend([
        // Channel 0's RAMFC: its DMA instance and fetch settings (pbkit).
        Op::Write32(PRAMIN + RAMFC + 0x0C, DMA_PUSHBUFFER.instance),
        Op::Write32(PRAMIN + RAMFC + 0x14, DMA_FETCH),
        // Channel 0 in DMA mode, loaded into CACHE1, empty.
        Op::Write32(PFIFO_MODE, 1 << 0),
        Op::Write32(PFIFO_DMA, 0),
        Op::Write32(CACHE1_PUSH1, CACHE1_PUSH1_MODE_DMA),
        Op::Write32(CACHE1_DMA_PUT, 0),
        Op::Write32(CACHE1_DMA_GET, 0),
        Op::Write32(CACHE1_DMA_INSTANCE, DMA_PUSHBUFFER.instance),
        Op::Write32(CACHE1_DMA_STATE, 0),
        Op::Write32(CACHE1_ENGINE, 0),
        Op::Write32(CACHE1_DMA_FETCH, DMA_FETCH),
        // PGRAPH takes methods from the FIFO.
        Op::Write32(PGRAPH_INTR, 0xFFFF_FFFF),
        Op::Write32(PGRAPH_CTX_CONTROL, PGRAPH_CTX_CONTROL_DEVICE),
        Op::Write32(PGRAPH_FIFO, PGRAPH_FIFO_ACCESS),
        // Start the pusher and the puller.
        Op::Write32(CACHE1_DMA_PUSH, 1),
        Op::Write32(CACHE1_PULL0, 1),
        Op::Write32(CACHE1_PUSH0, 1),
        Op::Write32(PFIFO_CACHES, 1),
        // Polled, not interrupt-driven.
        Op::Write32(PFIFO_INTR_0, 0xFFFF_FFFF),
        Op::Write32(PFIFO_INTR_EN_0, 0),
    ]);
    ops
}

/// The vblank interrupt on: PCRTC's pending bit cleared, its enable set, PMC passing hardware
/// interrupts to the INTA line (PCI PIRQC, IRQ 3).
pub fn vblank_on() -> Vec<Op> {
    vec![
        Op::Write32(PCRTC_INTR_0, PCRTC_INTR_VBLANK),
        Op::Write32(PCRTC_INTR_EN_0, PCRTC_INTR_VBLANK),
        Op::Write32(PMC_INTR_EN_0, PMC_INTR_EN_0_HARDWARE),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vpll_makes_the_ntsc_pixel_clock() {
        let (m, n, p) = (VPLL & 0xFF, VPLL >> 8 & 0xFF, VPLL >> 16 & 7);
        let hz = 16_666_667.0 * f64::from(n) / f64::from(m) / f64::from(1 << p);
        let wanted = f64::from(MODE.htotal + 1) * f64::from(MODE.vtotal + 1) * 30_000.0 / 1001.0;
        assert!((hz / wanted - 1.0).abs() < 0.001, "{hz} vs {wanted}");
    }

    #[test]
    fn handles_hash_to_themselves_and_objects_fit_before_the_end() {
        for object in [DMA_PUSHBUFFER, DMA_RAM, KELVIN, IMAGE_BLIT, SURFACES_2D] {
            assert!(object.handle < 512);
            assert_eq!(ramht_hash(object.handle, 0), object.handle);
            assert!((object.instance + 1) << 4 <= PRAMIN_USED_END);
        }
        // Folded 9 bits at a time; the channel lands at bit 5.
        assert_eq!(ramht_hash(0x200 | 3, 0), 1 ^ 3);
        assert_eq!(ramht_hash(5, 1), 5 ^ 1 << 5);
    }

    #[test]
    fn the_sequences_stay_in_bar0_and_set_what_pbkit_and_the_kernel_set() {
        let pfifo = pfifo_setup(64);
        assert!(pfifo.contains(&Op::Write32(PFIFO_RAMHT, 0x0300_0100)));
        assert!(pfifo.contains(&Op::Write32(PFIFO_RAMFC, 0x0089_0110)));
        assert!(pfifo.contains(&Op::Write32(CACHE1_DMA_FETCH, 0x0008_6078)));
        let mode = mode_set(64);
        assert!(mode.contains(&Op::Write32(PCRTC_START, FRAMEBUFFER)));
        // CR13: 2560 / 8 = 320 = 0x140; CR19 carries bit 8 in bit 5.
        let crtc_pairs: Vec<(u8, u8)> = mode
            .windows(2)
            .filter_map(|w| match w {
                [Op::Write8(CRTC_INDEX, i), Op::Write8(CRTC_DATA, v)] => Some((*i, *v)),
                _ => None,
            })
            .collect();
        assert!(crtc_pairs.contains(&(0x13, 0x40)));
        assert!(crtc_pairs.contains(&(0x19, 0x20)));
        assert_eq!(crtc_pairs.last(), Some(&(0x28, 0x83)));
        for op in pfifo.iter().chain(&mode).chain(&vblank_on()) {
            let [kind, at, _, count] = op.encode();
            assert!((1..=3).contains(&kind));
            assert!(at >= NV2A_BAR0 && at + 4 * count <= NV2A_BAR0 + 0x0100_0000);
        }
    }
}
