//! PRAMDAC (BAR0 0x680000): the PLLs that make the NV2A's clocks, the DAC's general control
//! and the timing generator's flat-panel/TV registers.
//!
//! Registers (offsets in the block; sources: xemu `nv2a_regs.h` and `pramdac.c`, envytools
//! `rnndb/display/nv3_pramdac.xml`, nouveau's `nvreg.h`, Cromwell's `SetGPURegister`):
//! - 0x500 NVPLL_COEFF (the core clock), 0x504 MPLL_COEFF (memory), 0x508 VPLL_COEFF (pixel):
//!   M in bits 7-0, N in 15-8, P in 18-16; the clock is `crystal * N / (M * 2^P)` from the
//!   16.667 MHz crystal (0 while M is 0). Reset values as xemu's: NVPLL 0x00011C01 (233.33
//!   MHz), MPLL 0, VPLL 0x0003C20D.
//! - 0x50C PLL_COEFF_SELECT (storage); 0x514 PLL_TEST_COUNTER, whose lock bits (27 VPLL2, 29
//!   NVPLL, 30 MPLL, 31 VPLL) always read 1: the emulated PLLs lock at once.
//! - 0x600 GENERAL_CONTROL: bits 5-4 PIXMIX, 8 VGA_STATE_SEL, 12 ALT_MODE_SEL (16-bit pixels
//!   are R5G6B5 rather than X1R5G5B5), 17-16 termination, 20 BPC_8BITS (an 8-bit rather than a
//!   6-bit palette DAC: 0x00100000 is this, not a pixel format), 29-28 PIPE_LONG.
//! - 0x800-0x838 the flat-panel timing generator, which drives the TV encoder's input on the
//!   Xbox: FP_VDISPLAY_END 0x800 (lines - 1), FP_VTOTAL 0x804 (total - 1), FP_VCRTC 0x808,
//!   FP_VSYNC_START 0x80C, FP_VSYNC_END 0x810, FP_VVALID_START 0x814, FP_VVALID_END 0x818, and
//!   the horizontal ones at 0x820-0x838 (HDISPLAY_END, HTOTAL, HCRTC, HSYNC_START, HSYNC_END,
//!   HVALID_START, HVALID_END). The picture's size comes from the VGA CRTC registers, as in
//!   xemu (Cromwell programs both to agree); FP_VTOTAL gives the lines per field for the raster
//!   position.
//!
//! Every other offset is storage, so read-modify-writes of what nothing models come back.

use super::scanout::{read_lane, write_lane};
use crate::machine::state::{Snapshot, State};

pub const NVPLL_COEFF: u32 = 0x500;
pub const MPLL_COEFF: u32 = 0x504;
pub const VPLL_COEFF: u32 = 0x508;
pub const PLL_COEFF_SELECT: u32 = 0x50C;
pub const PLL_TEST_COUNTER: u32 = 0x514;
pub const GENERAL_CONTROL: u32 = 0x600;
pub const FP_VDISPLAY_END: u32 = 0x800;
pub const FP_VTOTAL: u32 = 0x804;
pub const FP_VCRTC: u32 = 0x808;
pub const FP_VSYNC_START: u32 = 0x80C;
pub const FP_VSYNC_END: u32 = 0x810;
pub const FP_VVALID_START: u32 = 0x814;
pub const FP_VVALID_END: u32 = 0x818;
pub const FP_HDISPLAY_END: u32 = 0x820;
pub const FP_HTOTAL: u32 = 0x824;
pub const FP_HCRTC: u32 = 0x828;
pub const FP_HSYNC_START: u32 = 0x82C;
pub const FP_HSYNC_END: u32 = 0x830;
pub const FP_HVALID_START: u32 = 0x834;
pub const FP_HVALID_END: u32 = 0x838;

/// GENERAL_CONTROL: 16-bit pixels are R5G6B5.
pub const GENERAL_CONTROL_ALT_MODE_SEL: u32 = 1 << 12;
/// GENERAL_CONTROL: the palette DAC takes 8-bit values.
pub const GENERAL_CONTROL_BPC_8BITS: u32 = 1 << 20;
/// PLL_TEST_COUNTER: every PLL's lock flag.
const PLL_LOCKED: u32 = 1 << 27 | 1 << 29 | 1 << 30 | 1 << 31;

const REGISTERS: usize = 0x1000 / 4;

/// A frequency as a fraction, `num / den` Hz; a zero numerator or denominator is a stopped
/// clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    pub num: u64,
    pub den: u64,
}

impl Clock {
    /// The NV2A's reference crystal, 16.667 MHz (the CPU's 733.33 MHz is 44 times it).
    pub const CRYSTAL: Clock = Clock {
        num: 50_000_000,
        den: 3,
    };

    /// The clock a PLL makes from the crystal with coefficient register value `coeff`.
    pub fn from_pll(coeff: u32) -> Clock {
        let m = u64::from(coeff & 0xFF);
        let n = u64::from(coeff >> 8 & 0xFF);
        let p = coeff >> 16 & 7;
        Clock {
            num: Clock::CRYSTAL.num * n,
            den: (Clock::CRYSTAL.den * m) << p,
        }
    }

    /// The whole hertz (0 when stopped).
    pub fn hz(self) -> u64 {
        self.num.checked_div(self.den).unwrap_or(0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pramdac {
    regs: Box<[u32; REGISTERS]>,
}

impl Default for Pramdac {
    fn default() -> Pramdac {
        let mut regs = Box::new([0; REGISTERS]);
        regs[(NVPLL_COEFF / 4) as usize] = 0x0001_1C01;
        regs[(VPLL_COEFF / 4) as usize] = 0x0003_C20D;
        Pramdac { regs }
    }
}

impl Pramdac {
    /// Reads `size` bytes (1, 2 or 4) at `offset` (within the 4 KiB block).
    pub fn read(&self, offset: u32, size: usize) -> u32 {
        let mut value = self.reg(offset);
        if offset & 0xFFC == PLL_TEST_COUNTER {
            value |= PLL_LOCKED;
        }
        read_lane(value, offset, size)
    }

    pub fn write(&mut self, offset: u32, size: usize, value: u32) {
        let index = (offset & 0xFFC) as usize / 4;
        self.regs[index] = write_lane(self.regs[index], offset, size, value);
    }

    /// The register at `offset` as last written.
    pub fn reg(&self, offset: u32) -> u32 {
        self.regs[(offset & 0xFFC) as usize / 4]
    }

    /// NVCLK, which PTIMER and the graphics engine run from.
    pub fn core_clock(&self) -> Clock {
        Clock::from_pll(self.reg(NVPLL_COEFF))
    }

    pub fn memory_clock(&self) -> Clock {
        Clock::from_pll(self.reg(MPLL_COEFF))
    }

    /// The pixel clock the VPLL makes (the TV encoder supplies the Xbox's own, see PCRTC).
    pub fn video_clock(&self) -> Clock {
        Clock::from_pll(self.reg(VPLL_COEFF))
    }

    pub fn general_control(&self) -> u32 {
        self.reg(GENERAL_CONTROL)
    }

    /// Whether 16-bit pixels are R5G6B5 (else X1R5G5B5).
    pub fn alt_mode(&self) -> bool {
        self.general_control() & GENERAL_CONTROL_ALT_MODE_SEL != 0
    }
}

impl Snapshot for Pramdac {
    fn state(&mut self, s: &mut State) {
        s.u32s(&mut self.regs[..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plls_make_their_clocks_from_the_crystal() {
        let p = Pramdac::default();
        // 16.667 MHz * 28 / (1 * 2) = 233.33 MHz.
        assert_eq!(p.core_clock().hz(), 233_333_333);
        assert_eq!(
            p.core_clock(),
            Clock {
                num: 1_400_000_000,
                den: 6
            }
        );
        // 0x3C20D: M = 13, N = 0xC2, P = 3: 16.667 * 194 / 104 = 31.09 MHz.
        assert_eq!(p.video_clock().hz(), 31_089_743);
        assert_eq!(p.memory_clock().hz(), 0, "M = 0 stops it");
        assert_eq!(Clock::from_pll(0x0001_1C01).hz() * 44 / 14, 733_333_332);
    }

    #[test]
    fn registers_keep_what_is_written_and_plls_read_locked() {
        let mut p = Pramdac::default();
        p.write(GENERAL_CONTROL, 4, 0x0010_1130);
        assert!(p.alt_mode());
        assert_eq!(p.read(GENERAL_CONTROL + 2, 1), 0x10);
        p.write(FP_VTOTAL + 1, 1, 0x02);
        assert_eq!(p.read(FP_VTOTAL, 4), 0x200);
        assert_eq!(p.read(PLL_TEST_COUNTER, 4), PLL_LOCKED);
        assert_eq!(p.read(PLL_TEST_COUNTER + 3, 1), 0xE8);
        p.write(0xFFF, 1, 0xAB);
        assert_eq!(p.read(0xFFC, 4), 0xAB00_0000);
    }

    #[test]
    fn state_round_trips() {
        let mut p = Pramdac::default();
        p.write(FP_HCRTC, 4, 639);
        let mut bytes = Vec::new();
        p.state(&mut State::saving(&mut bytes));
        let mut q = Pramdac::default();
        q.state(&mut State::loading(&bytes));
        assert_eq!(q, p);
    }
}
