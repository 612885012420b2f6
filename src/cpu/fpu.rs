//! x87, MMX and SSE register state, and the memory images of FSTENV/FSAVE/FXSAVE.
//!
//! The eight x87 registers are kept in physical order (R0..R7); ST(i) is R((TOP + i) mod 8).
//! MMX register i aliases the significand of R i: an MMX write also sets that register's
//! exponent field to all ones, TOP to 0 and every tag to valid, as on hardware.

use super::softfloat::{F80, FxamClass};

/// Control word bits.
pub mod cw {
    /// The six exception masks (IM DM ZM OM UM PM).
    pub const MASKS: u16 = 0x3F;
    pub const PC_SHIFT: u16 = 8;
    pub const RC_SHIFT: u16 = 10;
    /// FINIT's control word: all exceptions masked, 64-bit precision, round to nearest.
    pub const DEFAULT: u16 = 0x037F;
    /// The bits a control word load keeps: masks, precision, rounding and the 287's
    /// infinity control (bit 12). Bit 6 always reads 1, the others 0.
    pub const DEFINED: u16 = 0x1F3F;
    pub const ONE: u16 = 0x0040;
}

/// Status word bits.
pub mod sw {
    pub const IE: u16 = 1 << 0;
    /// Stack fault: IE caused by stack overflow (C1 = 1) or underflow (C1 = 0).
    pub const SF: u16 = 1 << 6;
    /// Error summary: an unmasked exception is pending.
    pub const ES: u16 = 1 << 7;
    pub const C0: u16 = 1 << 8;
    pub const C1: u16 = 1 << 9;
    pub const C2: u16 = 1 << 10;
    pub const TOP_SHIFT: u16 = 11;
    pub const TOP: u16 = 7 << TOP_SHIFT;
    pub const C3: u16 = 1 << 14;
    /// Busy: mirrors ES on a 387 and later.
    pub const B: u16 = 1 << 15;
    pub const CONDITION: u16 = C0 | C1 | C2 | C3;
}

/// Tags, two bits per physical register.
pub mod tag {
    pub const VALID: u16 = 0;
    pub const ZERO: u16 = 1;
    pub const SPECIAL: u16 = 2;
    pub const EMPTY: u16 = 3;
}

/// MXCSR bits.
pub mod mxcsr {
    /// Exception masks, bits 7..=12.
    pub const MASK_SHIFT: u32 = 7;
    pub const DEFAULT: u32 = 0x1F80;
    /// Flush to zero.
    pub const FTZ: u32 = 1 << 15;
    /// The bits a Pentium III implements (no DAZ); setting others raises #GP.
    pub const WRITABLE: u32 = 0xFFBF;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fpu {
    /// R0..R7.
    pub regs: [F80; 8],
    pub control: u16,
    /// Status word with TOP in bits 11..=13.
    pub status: u16,
    /// Two bits per physical register, see [`tag`].
    pub tags: u16,
    /// Last instruction: opcode (11 bits), CS:EIP, and data pointer DS:offset.
    pub opcode: u16,
    pub ip: u32,
    pub cs: u16,
    pub dp: u32,
    pub ds: u16,
    pub xmm: [[u32; 4]; 8],
    pub mxcsr: u32,
}

impl Default for Fpu {
    fn default() -> Fpu {
        Fpu {
            regs: [F80::ZERO; 8],
            // The power-on control word; FINIT gives DEFAULT.
            control: 0x0040,
            status: 0,
            tags: 0xFFFF,
            opcode: 0,
            ip: 0,
            cs: 0,
            dp: 0,
            ds: 0,
            xmm: [[0; 4]; 8],
            mxcsr: mxcsr::DEFAULT,
        }
    }
}

impl Fpu {
    /// FNINIT: control 0x037F, status 0, all registers empty, pointers cleared.
    pub fn init(&mut self) {
        self.control = cw::DEFAULT;
        self.status = 0;
        self.tags = 0xFFFF;
        self.opcode = 0;
        self.ip = 0;
        self.cs = 0;
        self.dp = 0;
        self.ds = 0;
    }

    pub fn top(&self) -> usize {
        usize::from((self.status & sw::TOP) >> sw::TOP_SHIFT)
    }

    pub fn set_top(&mut self, top: usize) {
        self.status = (self.status & !sw::TOP) | ((top as u16 & 7) << sw::TOP_SHIFT);
    }

    /// The physical register number of ST(i).
    pub fn physical(&self, i: usize) -> usize {
        (self.top() + i) & 7
    }

    pub fn tag(&self, physical: usize) -> u16 {
        (self.tags >> (2 * physical)) & 3
    }

    pub fn set_tag(&mut self, physical: usize, value: u16) {
        self.tags = (self.tags & !(3 << (2 * physical))) | (value << (2 * physical));
    }

    pub fn is_empty(&self, i: usize) -> bool {
        self.tag(self.physical(i)) == tag::EMPTY
    }

    pub fn st(&self, i: usize) -> F80 {
        self.regs[self.physical(i)]
    }

    /// Writes ST(i) and its tag.
    pub fn set_st(&mut self, i: usize, value: F80) {
        let physical = self.physical(i);
        self.regs[physical] = value;
        self.set_tag(physical, tag_of(value));
    }

    /// Decrements TOP and writes the new ST(0).
    pub fn push(&mut self, value: F80) {
        let top = (self.top() + 7) & 7;
        self.set_top(top);
        self.set_st(0, value);
    }

    /// Marks ST(0) empty and increments TOP.
    pub fn pop(&mut self) {
        let physical = self.physical(0);
        self.set_tag(physical, tag::EMPTY);
        self.set_top(self.top() + 1);
    }

    /// The rounding control field.
    pub fn rounding(&self) -> u32 {
        u32::from(self.control >> cw::RC_SHIFT) & 3
    }

    /// The precision control field.
    pub fn precision(&self) -> u32 {
        u32::from(self.control >> cw::PC_SHIFT) & 3
    }

    /// Records exception flags; unmasked ones set ES and B (the fault comes with the next
    /// waiting instruction).
    pub fn raise(&mut self, flags: u8) {
        self.status |= u16::from(flags);
        if u16::from(flags) & !self.control & cw::MASKS != 0 {
            self.status |= sw::ES | sw::B;
        }
    }

    /// Loads the control word (FLDCW, FLDENV, FRSTOR, FXRSTOR): only the defined bits are
    /// kept, and the new masks may unmask exceptions already flagged.
    pub fn set_control(&mut self, value: u16) {
        self.control = (value & cw::DEFINED) | cw::ONE;
        self.update_summary();
    }

    /// Recomputes ES and B from the exception flags and masks, as the FPU does whenever the
    /// status or control word is loaded (FLDCW, FLDENV, FRSTOR, FXRSTOR).
    pub fn update_summary(&mut self) {
        if self.status & !self.control & cw::MASKS != 0 {
            self.status |= sw::ES | sw::B;
        } else {
            self.status &= !(sw::ES | sw::B);
        }
    }

    /// Whether any of `flags` is unmasked.
    pub fn unmasked(&self, flags: u8) -> bool {
        u16::from(flags) & !self.control & cw::MASKS != 0
    }

    /// MMX register i.
    pub fn mm(&self, i: usize) -> u64 {
        self.regs[i].mantissa
    }

    /// Writes MMX register i, with the aliasing effects on the x87 state.
    pub fn set_mm(&mut self, i: usize, value: u64) {
        self.regs[i] = F80 {
            sign_exp: 0xFFFF,
            mantissa: value,
        };
        self.enter_mmx();
    }

    /// Any MMX instruction: TOP = 0 and all tags valid.
    pub fn enter_mmx(&mut self) {
        self.set_top(0);
        self.tags = 0;
    }

    /// EMMS: every register empty, and TOP = 0 as after any MMX instruction.
    pub fn emms(&mut self) {
        self.set_top(0);
        self.tags = 0xFFFF;
    }

    /// The abridged tag byte of FXSAVE: one bit per register, 1 = not empty.
    pub fn abridged_tags(&self) -> u8 {
        (0..8)
            .filter(|&r| self.tag(r) != tag::EMPTY)
            .fold(0, |bits, r| bits | 1 << r)
    }

    /// Restores tags from FXRSTOR's abridged form, recomputing valid/zero/special.
    pub fn set_abridged_tags(&mut self, bits: u8) {
        for r in 0..8 {
            let value = if bits >> r & 1 == 0 {
                tag::EMPTY
            } else {
                tag_of(self.regs[r])
            };
            self.set_tag(r, value);
        }
    }
}

/// The tag a value gets when it is loaded into a register.
pub fn tag_of(value: F80) -> u16 {
    match value.classify() {
        FxamClass::Zero => tag::ZERO,
        FxamClass::Normal => tag::VALID,
        _ => tag::SPECIAL,
    }
}
