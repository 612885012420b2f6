//! MMX and SSE instructions: operand access and exception rules here, the lane arithmetic in
//! `cpu::simd` and `cpu::softfloat::sse`.
//!
//! MMX is #UD with CR0.EM and #NM with CR0.TS, and reports pending x87 exceptions. SSE is
//! #UD unless CR4.OSFXSR is set (and with CR0.EM), #NM with CR0.TS; an unmasked SIMD
//! exception leaves the destination alone and raises #XF (CR4.OSXMMEXCPT) or #UD. SSE
//! instructions with an MMX register operand (CVTPI2PS, CVT(T)PS2PI) follow both sets.

use crate::cpu::Cpu;
use crate::cpu::bus::Bus;
use crate::cpu::fault::{Fault, Result};
use crate::cpu::fpu::{mxcsr, sw};
use crate::cpu::simd::{Xmm, mmx, mmx_ext, reciprocal, sse_move};
use crate::cpu::softfloat::sse::{self as fp, CmpPredicate, SseControl};
use crate::cpu::softfloat::{Flags, Relation};
use crate::cpu::state::{cr0, cr4, flag, reg};
use iced_x86::{Instruction, Mnemonic as M, OpKind};

/// Every MMX instruction that combines two 64-bit operands into the first.
fn mmx_binary(m: M) -> Option<fn(u64, u64) -> u64> {
    Some(match m {
        M::Paddb => mmx::paddb,
        M::Paddw => mmx::paddw,
        M::Paddd => mmx::paddd,
        M::Paddsb => mmx::paddsb,
        M::Paddsw => mmx::paddsw,
        M::Paddusb => mmx::paddusb,
        M::Paddusw => mmx::paddusw,
        M::Psubb => mmx::psubb,
        M::Psubw => mmx::psubw,
        M::Psubd => mmx::psubd,
        M::Psubsb => mmx::psubsb,
        M::Psubsw => mmx::psubsw,
        M::Psubusb => mmx::psubusb,
        M::Psubusw => mmx::psubusw,
        M::Pcmpeqb => mmx::pcmpeqb,
        M::Pcmpeqw => mmx::pcmpeqw,
        M::Pcmpeqd => mmx::pcmpeqd,
        M::Pcmpgtb => mmx::pcmpgtb,
        M::Pcmpgtw => mmx::pcmpgtw,
        M::Pcmpgtd => mmx::pcmpgtd,
        M::Pmullw => mmx::pmullw,
        M::Pmulhw => mmx::pmulhw,
        M::Pmaddwd => mmx::pmaddwd,
        M::Pand => mmx::pand,
        M::Pandn => mmx::pandn,
        M::Por => mmx::por,
        M::Pxor => mmx::pxor,
        M::Packsswb => mmx::packsswb,
        M::Packssdw => mmx::packssdw,
        M::Packuswb => mmx::packuswb,
        M::Punpckhbw => mmx::punpckhbw,
        M::Punpckhwd => mmx::punpckhwd,
        M::Punpckhdq => mmx::punpckhdq,
        M::Punpcklbw => mmx::punpcklbw,
        M::Punpcklwd => mmx::punpcklwd,
        M::Punpckldq => mmx::punpckldq,
        M::Psllw => mmx::psllw,
        M::Pslld => mmx::pslld,
        M::Psllq => mmx::psllq,
        M::Psrlw => mmx::psrlw,
        M::Psrld => mmx::psrld,
        M::Psrlq => mmx::psrlq,
        M::Psraw => mmx::psraw,
        M::Psrad => mmx::psrad,
        M::Pavgb => mmx_ext::pavgb,
        M::Pavgw => mmx_ext::pavgw,
        M::Pmaxsw => mmx_ext::pmaxsw,
        M::Pmaxub => mmx_ext::pmaxub,
        M::Pminsw => mmx_ext::pminsw,
        M::Pminub => mmx_ext::pminub,
        M::Pmulhuw => mmx_ext::pmulhuw,
        M::Psadbw => mmx_ext::psadbw,
        _ => return None,
    })
}

/// SSE instructions that combine two XMM values lane-wise without floating point.
fn sse_bitwise(m: M) -> Option<fn(Xmm, Xmm) -> Xmm> {
    Some(match m {
        M::Andps => sse_move::andps,
        M::Andnps => sse_move::andnps,
        M::Orps => sse_move::orps,
        M::Xorps => sse_move::xorps,
        M::Unpckhps => sse_move::unpckhps,
        M::Unpcklps => sse_move::unpcklps,
        M::Movhlps => sse_move::movhlps,
        M::Movlhps => sse_move::movlhps,
        _ => return None,
    })
}

/// One f32 lane of an SSE arithmetic instruction: (a, b) -> (result, flags).
type LaneOp = fn(u32, u32, SseControl) -> (u32, Flags);

/// SSE arithmetic, and whether it is the scalar (SS) form, which computes lane 0 only.
fn sse_arith(m: M) -> Option<(LaneOp, bool)> {
    Some(match m {
        M::Addps => (fp::f32_add, false),
        M::Addss => (fp::f32_add, true),
        M::Subps => (fp::f32_sub, false),
        M::Subss => (fp::f32_sub, true),
        M::Mulps => (fp::f32_mul, false),
        M::Mulss => (fp::f32_mul, true),
        M::Divps => (fp::f32_div, false),
        M::Divss => (fp::f32_div, true),
        M::Minps => (|a, b, _| fp::f32_min(a, b), false),
        M::Minss => (|a, b, _| fp::f32_min(a, b), true),
        M::Maxps => (|a, b, _| fp::f32_max(a, b), false),
        M::Maxss => (|a, b, _| fp::f32_max(a, b), true),
        M::Sqrtps => (|_, b, ctl| fp::f32_sqrt(b, ctl), false),
        M::Sqrtss => (|_, b, ctl| fp::f32_sqrt(b, ctl), true),
        M::Rcpps => (|_, b, _| (reciprocal::rcpss(b), Flags::NONE), false),
        M::Rcpss => (|_, b, _| (reciprocal::rcpss(b), Flags::NONE), true),
        M::Rsqrtps => (|_, b, _| (reciprocal::rsqrtss(b), Flags::NONE), false),
        M::Rsqrtss => (|_, b, _| (reciprocal::rsqrtss(b), Flags::NONE), true),
        _ => return None,
    })
}

pub fn handles(m: M) -> bool {
    mmx_binary(m).is_some()
        || sse_bitwise(m).is_some()
        || sse_arith(m).is_some()
        || matches!(
            m,
            M::Movd
                | M::Movq
                | M::Emms
                | M::Pextrw
                | M::Pinsrw
                | M::Pmovmskb
                | M::Pshufw
                | M::Movntq
                | M::Maskmovq
                | M::Movaps
                | M::Movups
                | M::Movntps
                | M::Movss
                | M::Movlps
                | M::Movhps
                | M::Movmskps
                | M::Shufps
                | M::Cmpps
                | M::Cmpss
                | M::Comiss
                | M::Ucomiss
                | M::Cvtpi2ps
                | M::Cvtps2pi
                | M::Cvttps2pi
                | M::Cvtsi2ss
                | M::Cvtss2si
                | M::Cvttss2si
                | M::Ldmxcsr
                | M::Stmxcsr
                | M::Fxsave
                | M::Fxrstor
        )
}

/// Whether an instruction uses the SSE state, XMM registers or MXCSR: it needs CR4.OSFXSR.
/// The conversions to integers name no XMM register in their memory forms.
fn uses_sse_state(ins: &Instruction) -> bool {
    (0..ins.op_count()).any(|i| ins.op_kind(i) == OpKind::Register && ins.op_register(i).is_xmm())
        || matches!(
            ins.mnemonic(),
            M::Ldmxcsr | M::Stmxcsr | M::Cvtps2pi | M::Cvttps2pi | M::Cvtss2si | M::Cvttss2si
        )
}

/// Whether an instruction uses the MMX registers: it reports pending x87 exceptions (#MF),
/// as every MMX instruction does, even an SSE one (CVTPI2PS from a register, CVTPS2PI).
fn uses_mmx_state(ins: &Instruction) -> bool {
    !uses_sse_state(ins)
        || (0..ins.op_count())
            .any(|i| ins.op_kind(i) == OpKind::Register && ins.op_register(i).is_mm())
}

impl Cpu {
    pub(super) fn execute_sse(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        let m = ins.mnemonic();
        if matches!(m, M::Fxsave | M::Fxrstor) {
            if self.cr0 & (cr0::EM | cr0::TS) != 0 {
                return Err(Fault::nm());
            }
            return if m == M::Fxsave {
                self.fxsave(bus, ins)
            } else {
                self.fxrstor(bus, ins)
            };
        }
        let sse = uses_sse_state(ins);
        if self.cr0 & cr0::EM != 0 || (sse && self.cr4 & cr4::OSFXSR == 0) {
            return Err(Fault::ud());
        }
        if self.cr0 & cr0::TS != 0 {
            return Err(Fault::nm());
        }
        if uses_mmx_state(ins) && self.fpu.status & sw::ES != 0 {
            return Err(Fault::mf());
        }
        if sse {
            self.execute_xmm(bus, ins)
        } else {
            self.execute_mmx(bus, ins)
        }
    }

    fn execute_mmx(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        let m = ins.mnemonic();
        if m == M::Emms {
            self.fpu.emms();
            return Ok(());
        }
        if let Some(op) = mmx_binary(m) {
            let a = self.fpu.mm(ins.op0_register().number());
            let b = self.read_mm(bus, ins, 1)?;
            self.fpu.set_mm(ins.op0_register().number(), op(a, b));
            return Ok(());
        }
        match m {
            M::Movd | M::Movq => {
                let value = self.read_mm(bus, ins, 1)?;
                self.write_mm(bus, ins, 0, value)
            }
            M::Movntq => {
                let value = self.read_mm(bus, ins, 1)?;
                self.write_mm(bus, ins, 0, value)
            }
            M::Pextrw => {
                let value =
                    mmx_ext::pextrw(self.fpu.mm(ins.op1_register().number()), ins.immediate8());
                self.fpu.enter_mmx();
                self.set_reg(ins.op0_register(), value);
                Ok(())
            }
            M::Pinsrw => {
                let word = self.read_operand(bus, ins, 1)? as u16;
                let i = ins.op0_register().number();
                self.fpu
                    .set_mm(i, mmx_ext::pinsrw(self.fpu.mm(i), word, ins.immediate8()));
                Ok(())
            }
            M::Pmovmskb => {
                let value = mmx_ext::pmovmskb(self.fpu.mm(ins.op1_register().number()));
                self.fpu.enter_mmx();
                self.set_reg(ins.op0_register(), value);
                Ok(())
            }
            M::Pshufw => {
                let source = self.read_mm(bus, ins, 1)?;
                self.fpu.set_mm(
                    ins.op0_register().number(),
                    mmx_ext::pshufw(source, ins.immediate8()),
                );
                Ok(())
            }
            M::Maskmovq => {
                // MASKMOVQ [DS:(E)DI], data, mask: only the selected bytes are written (the
                // others may be device memory).
                let data = self.fpu.mm(ins.op1_register().number());
                let select = mmx_ext::maskmovq_select(self.fpu.mm(ins.op2_register().number()));
                let width = if ins.op0_kind() == OpKind::MemorySegDI {
                    0xFFFF
                } else {
                    u32::MAX
                };
                let base = self.regs[reg::EDI];
                for i in 0..8 {
                    if select >> i & 1 != 0 {
                        let address = base.wrapping_add(i) & width;
                        let byte = (data >> (8 * i)) as u32 & 0xFF;
                        self.write(bus, Cpu::memory_segment(ins), address, 1, byte)?;
                    }
                }
                self.fpu.enter_mmx();
                Ok(())
            }
            _ => Err(Fault::ud()),
        }
    }

    /// Operand `i` of an MMX instruction: an MMX register, a 32-bit register (MOVD), or memory
    /// of the operand's size.
    fn read_mm(&mut self, bus: &mut dyn Bus, ins: &Instruction, i: u32) -> Result<u64> {
        match ins.op_kind(i) {
            OpKind::Register if ins.op_register(i).is_mm() => {
                Ok(self.fpu.mm(ins.op_register(i).number()))
            }
            OpKind::Register => Ok(u64::from(self.reg(ins.op_register(i)))),
            OpKind::Memory if ins.memory_size().size() == 4 => {
                Ok(u64::from(self.read_memory_at(bus, ins, 0, 4)?))
            }
            OpKind::Memory => self.read_u64(bus, ins, 0),
            OpKind::Immediate8 => Ok(u64::from(ins.immediate8())),
            _ => Err(Fault::ud()),
        }
    }

    fn write_mm(&mut self, bus: &mut dyn Bus, ins: &Instruction, i: u32, value: u64) -> Result<()> {
        match ins.op_kind(i) {
            OpKind::Register if ins.op_register(i).is_mm() => {
                // MOVD to an MMX register zero-extends.
                let value = if ins.mnemonic() == M::Movd {
                    value & 0xFFFF_FFFF
                } else {
                    value
                };
                self.fpu.set_mm(ins.op_register(i).number(), value);
            }
            OpKind::Register => {
                self.set_reg(ins.op_register(i), value as u32);
                self.fpu.enter_mmx();
            }
            OpKind::Memory if ins.memory_size().size() == 4 => {
                self.write_memory_at(bus, ins, 0, 4, value as u32)?;
                self.fpu.enter_mmx();
            }
            OpKind::Memory => {
                self.write_u64(bus, ins, 0, value)?;
                self.fpu.enter_mmx();
            }
            _ => return Err(Fault::ud()),
        }
        Ok(())
    }

    fn read_u64(&mut self, bus: &mut dyn Bus, ins: &Instruction, offset: u32) -> Result<u64> {
        let low = self.read_memory_at(bus, ins, offset, 4)?;
        let high = self.read_memory_at(bus, ins, offset + 4, 4)?;
        Ok(u64::from(low) | u64::from(high) << 32)
    }

    fn write_u64(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        offset: u32,
        value: u64,
    ) -> Result<()> {
        // High half first: a fault on the far page leaves memory unchanged.
        self.write_memory_at(bus, ins, offset + 4, 4, (value >> 32) as u32)?;
        self.write_memory_at(bus, ins, offset, 4, value as u32)
    }

    fn execute_xmm(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        let m = ins.mnemonic();
        // Flush-to-zero applies only with underflow masked; unmasked, a tiny result faults.
        let underflow_unmasked =
            self.fpu.mxcsr & u32::from(Flags::UNDERFLOW.0) << mxcsr::MASK_SHIFT == 0;
        let ctl = SseControl {
            ftz: self.fpu.mxcsr & mxcsr::FTZ != 0 && !underflow_unmasked,
            ..SseControl::from_mxcsr(self.fpu.mxcsr)
        };
        if let Some(op) = sse_bitwise(m) {
            let a = self.fpu.xmm[ins.op0_register().number()];
            let b = self.read_xmm(bus, ins, 1, true)?;
            self.fpu.xmm[ins.op0_register().number()] = op(a, b);
            return Ok(());
        }
        if let Some((op, scalar)) = sse_arith(m) {
            let d = ins.op0_register().number();
            let a = self.fpu.xmm[d];
            let lanes = if scalar { 1 } else { 4 };
            let b = if scalar {
                [self.read_xmm_scalar(bus, ins, 1)?, 0, 0, 0]
            } else {
                self.read_xmm(bus, ins, 1, true)?
            };
            let mut result = a;
            let mut flags = Flags::NONE;
            // Unmasked underflow is reported on tininess alone: an exact denormal result of
            // a rounded operation raises UE too.
            let rounds = matches!(
                m,
                M::Addps
                    | M::Addss
                    | M::Subps
                    | M::Subss
                    | M::Mulps
                    | M::Mulss
                    | M::Divps
                    | M::Divss
            );
            for lane in 0..lanes {
                let (value, f) = op(a[lane], b[lane], ctl);
                let denormal = value & 0x7F80_0000 == 0 && value & 0x007F_FFFF != 0;
                result[lane] = value;
                flags |= f | Flags::UNDERFLOW.when(rounds && underflow_unmasked && denormal);
            }
            self.simd_flags(flags)?;
            self.fpu.xmm[d] = result;
            return Ok(());
        }
        match m {
            M::Movaps | M::Movups | M::Movntps => {
                let aligned = m != M::Movups;
                let value = self.read_xmm(bus, ins, 1, aligned)?;
                self.write_xmm(bus, ins, 0, value, aligned)
            }
            M::Movss => {
                if ins.op0_kind() == OpKind::Memory {
                    let value = self.fpu.xmm[ins.op1_register().number()][0];
                    return self.write_memory_at(bus, ins, 0, 4, value);
                }
                let d = ins.op0_register().number();
                if ins.op1_kind() == OpKind::Memory {
                    // A load clears the upper lanes; a register move keeps them.
                    self.fpu.xmm[d] = [self.read_memory_at(bus, ins, 0, 4)?, 0, 0, 0];
                } else {
                    self.fpu.xmm[d][0] = self.fpu.xmm[ins.op1_register().number()][0];
                }
                Ok(())
            }
            M::Movlps | M::Movhps => {
                let half = if m == M::Movlps { 0 } else { 2 };
                if ins.op0_kind() == OpKind::Memory {
                    let x = self.fpu.xmm[ins.op1_register().number()];
                    return self.write_u64(
                        bus,
                        ins,
                        0,
                        u64::from(x[half]) | u64::from(x[half + 1]) << 32,
                    );
                }
                let value = self.read_u64(bus, ins, 0)?;
                let d = ins.op0_register().number();
                self.fpu.xmm[d][half] = value as u32;
                self.fpu.xmm[d][half + 1] = (value >> 32) as u32;
                Ok(())
            }
            M::Movmskps => {
                let value = sse_move::movmskps(self.fpu.xmm[ins.op1_register().number()]);
                self.set_reg(ins.op0_register(), value);
                Ok(())
            }
            M::Shufps => {
                let d = ins.op0_register().number();
                let b = self.read_xmm(bus, ins, 1, true)?;
                self.fpu.xmm[d] = sse_move::shufps(self.fpu.xmm[d], b, ins.immediate8());
                Ok(())
            }
            M::Cmpps | M::Cmpss => {
                let d = ins.op0_register().number();
                let a = self.fpu.xmm[d];
                let scalar = m == M::Cmpss;
                let b = if scalar {
                    [self.read_xmm_scalar(bus, ins, 1)?, 0, 0, 0]
                } else {
                    self.read_xmm(bus, ins, 1, true)?
                };
                let predicate = CmpPredicate::from_imm(ins.immediate8());
                let mut result = a;
                let mut flags = Flags::NONE;
                for lane in 0..if scalar { 1 } else { 4 } {
                    let (holds, f) = fp::f32_compare(a[lane], b[lane], predicate);
                    result[lane] = if holds { u32::MAX } else { 0 };
                    flags |= f;
                }
                self.simd_flags(flags)?;
                self.fpu.xmm[d] = result;
                Ok(())
            }
            M::Comiss | M::Ucomiss => {
                let a = self.fpu.xmm[ins.op0_register().number()][0];
                let b = self.read_xmm_scalar(bus, ins, 1)?;
                let (relation, flags) = fp::f32_comi(a, b, m == M::Comiss);
                self.simd_flags(flags)?;
                let bits = match relation {
                    Relation::Greater => 0,
                    Relation::Less => flag::CF,
                    Relation::Equal => flag::ZF,
                    Relation::Unordered => flag::ZF | flag::PF | flag::CF,
                };
                self.eflags = (self.eflags & !flag::ARITH) | bits;
                Ok(())
            }
            M::Cvtpi2ps => {
                // The MMX source makes this an MMX instruction too: it enters MMX state.
                let source = self.read_mm(bus, ins, 1)?;
                let d = ins.op0_register().number();
                let mut result = self.fpu.xmm[d];
                let mut flags = Flags::NONE;
                for (lane, value) in [source as u32, (source >> 32) as u32]
                    .into_iter()
                    .enumerate()
                {
                    let (converted, f) = fp::f32_from_i32(value as i32, ctl);
                    result[lane] = converted;
                    flags |= f;
                }
                self.simd_flags(flags)?;
                if ins.op1_kind() == OpKind::Register {
                    self.fpu.enter_mmx();
                }
                self.fpu.xmm[d] = result;
                Ok(())
            }
            M::Cvtps2pi | M::Cvttps2pi => {
                let source = if ins.op1_kind() == OpKind::Memory {
                    let value = self.read_u64(bus, ins, 0)?;
                    [value as u32, (value >> 32) as u32]
                } else {
                    let x = self.fpu.xmm[ins.op1_register().number()];
                    [x[0], x[1]]
                };
                let mut flags = Flags::NONE;
                let mut lanes = [0u32; 2];
                for (lane, value) in source.into_iter().enumerate() {
                    let (converted, f) = if m == M::Cvtps2pi {
                        fp::f32_to_i32(value, ctl)
                    } else {
                        fp::f32_to_i32_trunc(value)
                    };
                    lanes[lane] = converted as u32;
                    flags |= f;
                }
                self.simd_flags(flags)?;
                self.fpu.set_mm(
                    ins.op0_register().number(),
                    u64::from(lanes[0]) | u64::from(lanes[1]) << 32,
                );
                Ok(())
            }
            M::Cvtsi2ss => {
                let value = self.read_operand(bus, ins, 1)?;
                let (converted, flags) = fp::f32_from_i32(value as i32, ctl);
                self.simd_flags(flags)?;
                self.fpu.xmm[ins.op0_register().number()][0] = converted;
                Ok(())
            }
            M::Cvtss2si | M::Cvttss2si => {
                let value = self.read_xmm_scalar(bus, ins, 1)?;
                let (converted, flags) = if m == M::Cvtss2si {
                    fp::f32_to_i32(value, ctl)
                } else {
                    fp::f32_to_i32_trunc(value)
                };
                self.simd_flags(flags)?;
                self.set_reg(ins.op0_register(), converted as u32);
                Ok(())
            }
            M::Ldmxcsr => {
                let value = self.read_memory_at(bus, ins, 0, 4)?;
                if value & !mxcsr::WRITABLE != 0 {
                    return Err(Fault::gp(0));
                }
                self.fpu.mxcsr = value;
                Ok(())
            }
            M::Stmxcsr => self.write_memory_at(bus, ins, 0, 4, self.fpu.mxcsr),
            _ => Err(Fault::ud()),
        }
    }

    /// Records SIMD exception flags in MXCSR; an unmasked one raises #XF (or #UD without
    /// CR4.OSXMMEXCPT) and the instruction writes nothing.
    fn simd_flags(&mut self, flags: Flags) -> Result<()> {
        let raised = u32::from(flags.0);
        self.fpu.mxcsr |= raised;
        let masks = (self.fpu.mxcsr >> mxcsr::MASK_SHIFT) & 0x3F;
        if raised & !masks != 0 {
            return Err(if self.cr4 & cr4::OSXMMEXCPT != 0 {
                Fault::xf()
            } else {
                Fault::ud()
            });
        }
        Ok(())
    }

    /// Whether the memory operand's linear address is not 16-byte aligned.
    fn misaligned16(&self, ins: &Instruction) -> bool {
        let base = self.seg[Cpu::memory_segment(ins) as usize].base;
        !base
            .wrapping_add(self.effective_address(ins))
            .is_multiple_of(16)
    }

    /// A 128-bit operand; memory must be 16-byte aligned for the aligned forms (#GP).
    fn read_xmm(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        i: u32,
        aligned: bool,
    ) -> Result<Xmm> {
        if ins.op_kind(i) == OpKind::Register {
            return Ok(self.fpu.xmm[ins.op_register(i).number()]);
        }
        if aligned && self.misaligned16(ins) {
            return Err(Fault::gp(0));
        }
        let mut value = [0u32; 4];
        for (lane, slot) in value.iter_mut().enumerate() {
            *slot = self.read_memory_at(bus, ins, 4 * lane as u32, 4)?;
        }
        Ok(value)
    }

    fn write_xmm(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        i: u32,
        value: Xmm,
        aligned: bool,
    ) -> Result<()> {
        if ins.op_kind(i) == OpKind::Register {
            self.fpu.xmm[ins.op_register(i).number()] = value;
            return Ok(());
        }
        if aligned && self.misaligned16(ins) {
            return Err(Fault::gp(0));
        }
        for lane in (0..4).rev() {
            self.write_memory_at(bus, ins, 4 * lane as u32, 4, value[lane])?;
        }
        Ok(())
    }

    /// A scalar single: lane 0 of a register, or 32 bits of memory.
    fn read_xmm_scalar(&mut self, bus: &mut dyn Bus, ins: &Instruction, i: u32) -> Result<u32> {
        if ins.op_kind(i) == OpKind::Register {
            Ok(self.fpu.xmm[ins.op_register(i).number()][0])
        } else {
            self.read_memory_at(bus, ins, 0, 4)
        }
    }

    /// FXSAVE: the 512-byte image (16-byte aligned). XMM registers are saved only with
    /// CR4.OSFXSR, as on the Pentium III.
    fn fxsave(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        if self.misaligned16(ins) {
            return Err(Fault::gp(0));
        }
        let fpu = self.fpu.clone();
        let words = [
            u32::from(fpu.control) | u32::from(fpu.status) << 16,
            u32::from(fpu.abridged_tags()) | u32::from(fpu.opcode) << 16,
            fpu.ip,
            u32::from(fpu.cs),
            fpu.dp,
            u32::from(fpu.ds),
            fpu.mxcsr,
            mxcsr::WRITABLE,
        ];
        for (i, word) in words.into_iter().enumerate() {
            self.write_memory_at(bus, ins, 4 * i as u32, 4, word)?;
        }
        for i in 0..8 {
            let bytes = fpu.regs[fpu.physical(i)].to_le_bytes();
            let mut padded = [0u8; 16];
            padded[..10].copy_from_slice(&bytes);
            for (j, chunk) in padded.chunks(4).enumerate() {
                let word = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                self.write_memory_at(bus, ins, 32 + 16 * i as u32 + 4 * j as u32, 4, word)?;
            }
        }
        if self.cr4 & cr4::OSFXSR != 0 {
            for (i, x) in fpu.xmm.iter().enumerate() {
                for (lane, word) in x.iter().enumerate() {
                    self.write_memory_at(
                        bus,
                        ins,
                        160 + 16 * i as u32 + 4 * lane as u32,
                        4,
                        *word,
                    )?;
                }
            }
        }
        Ok(())
    }

    fn fxrstor(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        if self.misaligned16(ins) {
            return Err(Fault::gp(0));
        }
        let mut words = [0u32; 8];
        for (i, word) in words.iter_mut().enumerate() {
            *word = self.read_memory_at(bus, ins, 4 * i as u32, 4)?;
        }
        if words[6] & !mxcsr::WRITABLE != 0 {
            return Err(Fault::gp(0));
        }
        let mut regs = [crate::cpu::softfloat::F80::ZERO; 8];
        for (i, reg) in regs.iter_mut().enumerate() {
            let mut bytes = [0u8; 10];
            for (j, byte) in bytes.iter_mut().enumerate() {
                *byte = self.read_memory_at(bus, ins, 32 + 16 * i as u32 + j as u32, 1)? as u8;
            }
            *reg = crate::cpu::softfloat::F80::from_le_bytes(bytes);
        }
        let mut xmm = self.fpu.xmm;
        if self.cr4 & cr4::OSFXSR != 0 {
            for (i, x) in xmm.iter_mut().enumerate() {
                for (lane, word) in x.iter_mut().enumerate() {
                    *word =
                        self.read_memory_at(bus, ins, 160 + 16 * i as u32 + 4 * lane as u32, 4)?;
                }
            }
        }
        let fpu = &mut self.fpu;
        fpu.status = (words[0] >> 16) as u16;
        fpu.opcode = (words[1] >> 16) as u16 & 0x7FF;
        fpu.ip = words[2];
        fpu.cs = words[3] as u16;
        fpu.dp = words[4];
        fpu.ds = words[5] as u16;
        fpu.mxcsr = words[6];
        for (i, value) in regs.into_iter().enumerate() {
            let physical = fpu.physical(i);
            fpu.regs[physical] = value;
        }
        fpu.set_abridged_tags(words[1] as u8);
        fpu.set_control(words[0] as u16);
        fpu.xmm = xmm;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::x87::tests::{DATA, run};
    use crate::cpu::fault::vector;
    use crate::cpu::fpu::{cw, sw};
    use crate::cpu::state::{cr4, reg};

    #[test]
    fn emms_empties_every_register_and_resets_top() {
        let (cpu, _, _) = run(&[0x0F, 0x77], |cpu, _| cpu.fpu.set_top(3));
        assert_eq!((cpu.fpu.top(), cpu.fpu.tags), (0, 0xFFFF));
    }

    #[test]
    fn maskmovq_stores_the_bytes_its_mask_selects_at_di() {
        // MASKMOVQ MM0, MM1: data MM0, mask MM1 (bytes 0, 2, 5 and 7).
        let (_, ram, fault) = run(&[0x0F, 0xF7, 0xC1], |cpu, ram| {
            cpu.fpu.set_mm(0, 0x8877_6655_4433_2211);
            cpu.fpu.set_mm(1, 0x8000_8000_0080_0080);
            cpu.regs[reg::EDI] = DATA as u32;
            ram[DATA..DATA + 8].fill(0xAA);
        });
        assert_eq!(fault, None);
        let stored = [0x11, 0xAA, 0x33, 0xAA, 0xAA, 0x66, 0xAA, 0x88];
        assert_eq!(ram[DATA..DATA + 8], stored);
    }

    #[test]
    fn conversions_to_integers_take_memory_operands() {
        // CVTTSS2SI EAX, dword [0600] of 3.75.
        let (cpu, _, fault) = run(&[0xF3, 0x0F, 0x2C, 0x06, 0x00, 0x06], |cpu, ram| {
            cpu.cr4 |= cr4::OSFXSR;
            ram[DATA..DATA + 4].copy_from_slice(&3.75f32.to_bits().to_le_bytes());
        });
        assert_eq!((fault, cpu.regs[reg::EAX]), (None, 3));
    }

    #[test]
    fn only_mmx_register_operands_report_pending_x87_exceptions() {
        // CVTPI2PS XMM0, MM0 raises #MF; CVTPI2PS XMM0, [0600] does not.
        for (code, expected) in [
            (&[0x0F, 0x2A, 0xC0][..], Some(vector::MF)),
            (&[0x0F, 0x2A, 0x06, 0x00, 0x06], None),
        ] {
            let (_, _, fault) = run(code, |cpu, _| {
                cpu.cr4 |= cr4::OSFXSR;
                cpu.fpu.status |= sw::IE;
                cpu.fpu.set_control(cw::DEFAULT & !1);
            });
            assert_eq!(fault, expected, "{code:02X?}");
        }
    }

    #[test]
    fn unmasked_underflow_faults_on_exact_tiny_results() {
        // ADDSS XMM0, XMM1: the smallest denormal plus zero, exact, with UM clear.
        let (cpu, _, fault) = run(&[0xF3, 0x0F, 0x58, 0xC1], |cpu, _| {
            cpu.cr4 |= cr4::OSFXSR | cr4::OSXMMEXCPT;
            cpu.fpu.mxcsr &= !(1 << 11);
            cpu.fpu.xmm[0][0] = 1;
        });
        assert_eq!(fault, Some(vector::XF));
        // UE, and DE for the denormal operand.
        assert_eq!(cpu.fpu.mxcsr & 0x3F, 1 << 4 | 1 << 1);
        assert_eq!(cpu.fpu.xmm[0][0], 1);
    }
}
