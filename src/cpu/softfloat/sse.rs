//! SSE scalar arithmetic on raw `f32` bits (and `f64` bits, for conversions and as a
//! reference), with MXCSR semantics and all exceptions masked.

use super::arith::{self, Num, Operand, Outcome};
use super::round::Format;
use super::{Flags, Relation, Rounding};
use core::cmp::Ordering;

/// The MXCSR fields that shape results. The Pentium III has no denormals-are-zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SseControl {
    pub rounding: Rounding,
    /// Flush-to-zero: tiny results become zero (UE and PE raised).
    pub ftz: bool,
}

impl SseControl {
    pub const fn from_mxcsr(mxcsr: u32) -> SseControl {
        SseControl {
            rounding: Rounding::from_bits(mxcsr >> 13),
            ftz: mxcsr & 1 << 15 != 0,
        }
    }
}

/// CMPSS/CMPPS predicates, in immediate order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpPredicate {
    Eq,
    Lt,
    Le,
    Unord,
    Neq,
    Nlt,
    Nle,
    Ord,
}

impl CmpPredicate {
    pub const ALL: [CmpPredicate; 8] = {
        use CmpPredicate::*;
        [Eq, Lt, Le, Unord, Neq, Nlt, Nle, Ord]
    };

    /// Decodes the low three bits of the instruction's immediate.
    pub const fn from_imm(imm: u8) -> CmpPredicate {
        CmpPredicate::ALL[(imm & 7) as usize]
    }

    /// Lt, Le, Nlt and Nle raise IE for any NaN; the others only for SNaNs.
    const fn signaling(self) -> bool {
        matches!(
            self,
            CmpPredicate::Lt | CmpPredicate::Le | CmpPredicate::Nlt | CmpPredicate::Nle
        )
    }
}

/// ADDSS: `a + b`.
pub fn f32_add(a: u32, b: u32, ctl: SseControl) -> (u32, Flags) {
    narrow(add(a.into(), b.into(), Format::F32, ctl))
}

/// SUBSS: `a - b`.
pub fn f32_sub(a: u32, b: u32, ctl: SseControl) -> (u32, Flags) {
    narrow(sub(a.into(), b.into(), Format::F32, ctl))
}

/// MULSS: `a * b`.
pub fn f32_mul(a: u32, b: u32, ctl: SseControl) -> (u32, Flags) {
    narrow(binary(a.into(), b.into(), Format::F32, ctl, arith::mul))
}

/// DIVSS: `a / b`.
pub fn f32_div(a: u32, b: u32, ctl: SseControl) -> (u32, Flags) {
    narrow(binary(a.into(), b.into(), Format::F32, ctl, arith::div))
}

/// SQRTSS.
pub fn f32_sqrt(a: u32, ctl: SseControl) -> (u32, Flags) {
    narrow(sqrt(a.into(), Format::F32, ctl))
}

/// ADDSD: `a + b`.
pub fn f64_add(a: u64, b: u64, ctl: SseControl) -> (u64, Flags) {
    add(a, b, Format::F64, ctl)
}

/// SUBSD: `a - b`.
pub fn f64_sub(a: u64, b: u64, ctl: SseControl) -> (u64, Flags) {
    sub(a, b, Format::F64, ctl)
}

/// MULSD: `a * b`.
pub fn f64_mul(a: u64, b: u64, ctl: SseControl) -> (u64, Flags) {
    binary(a, b, Format::F64, ctl, arith::mul)
}

/// DIVSD: `a / b`.
pub fn f64_div(a: u64, b: u64, ctl: SseControl) -> (u64, Flags) {
    binary(a, b, Format::F64, ctl, arith::div)
}

/// SQRTSD.
pub fn f64_sqrt(a: u64, ctl: SseControl) -> (u64, Flags) {
    sqrt(a, Format::F64, ctl)
}

/// MINSS: `a < b ? a : b`; any NaN (IE) or two zeros give `b` unchanged.
pub fn f32_min(a: u32, b: u32) -> (u32, Flags) {
    min_max(a, b, Ordering::Less)
}

/// MAXSS: `a > b ? a : b`; any NaN (IE) or two zeros give `b` unchanged.
pub fn f32_max(a: u32, b: u32) -> (u32, Flags) {
    min_max(a, b, Ordering::Greater)
}

/// CMPSS: whether `a pred b` holds (the caller builds the all-ones mask).
pub fn f32_compare(a: u32, b: u32, pred: CmpPredicate) -> (bool, Flags) {
    let (relation, flags) = compare(a, b, pred.signaling());
    let holds = match pred {
        CmpPredicate::Eq => relation == Relation::Equal,
        CmpPredicate::Lt => relation == Relation::Less,
        CmpPredicate::Le => matches!(relation, Relation::Less | Relation::Equal),
        CmpPredicate::Unord => relation == Relation::Unordered,
        CmpPredicate::Neq => relation != Relation::Equal,
        CmpPredicate::Nlt => relation != Relation::Less,
        CmpPredicate::Nle => !matches!(relation, Relation::Less | Relation::Equal),
        CmpPredicate::Ord => relation != Relation::Unordered,
    };
    (holds, flags)
}

/// COMISS (`signaling`: any NaN raises IE) or UCOMISS (only SNaNs do).
pub fn f32_comi(a: u32, b: u32, signaling: bool) -> (Relation, Flags) {
    compare(a, b, signaling)
}

/// CVTSI2SS: rounds by the control's rounding mode.
pub fn f32_from_i32(v: i32, ctl: SseControl) -> (u32, Flags) {
    let n = Num::finite(v < 0, 63, v.unsigned_abs().into());
    narrow(finish(n.into(), Format::F32, ctl, false))
}

/// CVTSS2SI: rounds by the control's rounding mode; NaNs and values out of range give
/// the integer indefinite 0x8000_0000 with IE.
pub fn f32_to_i32(a: u32, ctl: SseControl) -> (i32, Flags) {
    to_i32(a, ctl.rounding)
}

/// CVTTSS2SI: as `f32_to_i32`, truncating.
pub fn f32_to_i32_trunc(a: u32) -> (i32, Flags) {
    to_i32(a, Rounding::Zero)
}

/// CVTSS2SD: exact; a signalling NaN is quietened (IE).
pub fn f32_to_f64(a: u32) -> (u64, Flags) {
    convert(
        a.into(),
        Format::F32,
        Format::F64,
        SseControl::from_mxcsr(0),
    )
}

/// CVTSD2SS: rounds by the control's mode, flushing tiny results when FTZ is set.
pub fn f64_to_f32(a: u64, ctl: SseControl) -> (u32, Flags) {
    narrow(convert(a, Format::F64, Format::F32, ctl))
}

/// A single's bits from the low half of the internal `u64`.
fn narrow((bits, flags): (u64, Flags)) -> (u32, Flags) {
    (bits as u32, flags)
}

fn add(a: u64, b: u64, fmt: Format, ctl: SseControl) -> (u64, Flags) {
    binary(a, b, fmt, ctl, |x, y| arith::add(x, y, ctl.rounding))
}

fn sub(a: u64, b: u64, fmt: Format, ctl: SseControl) -> (u64, Flags) {
    binary(a, b, fmt, ctl, |x, y| {
        arith::add(x, y.negate(), ctl.rounding)
    })
}

fn sqrt(a: u64, fmt: Format, ctl: SseControl) -> (u64, Flags) {
    match fmt.unpack(a) {
        (Operand::Num(x), denormal) => finish(arith::sqrt(x), fmt, ctl, denormal),
        (op, _) => nan_result(&[op], fmt),
    }
}

fn binary(
    a: u64,
    b: u64,
    fmt: Format,
    ctl: SseControl,
    op: impl FnOnce(Num, Num) -> Outcome,
) -> (u64, Flags) {
    let ((oa, da), (ob, db)) = (fmt.unpack(a), fmt.unpack(b));
    match (oa, ob) {
        (Operand::Num(x), Operand::Num(y)) => finish(op(x, y), fmt, ctl, da || db),
        _ => nan_result(&[oa, ob], fmt),
    }
}

/// The SSE NaN rule: the first NaN operand, quietened; IE if any is signalling.
fn nan_result(ops: &[Operand], fmt: Format) -> (u64, Flags) {
    let flags = Flags::INVALID.when(ops.iter().any(|o| o.is_signaling()));
    match ops.iter().find_map(|o| match *o {
        Operand::Nan { sign, sig } => Some(fmt.quiet_nan(sign, sig)),
        _ => None,
    }) {
        Some(nan) => (nan, flags),
        None => (fmt.default_nan(), Flags::INVALID),
    }
}

fn finish(o: Outcome, fmt: Format, ctl: SseControl, denormal: bool) -> (u64, Flags) {
    match o.round(fmt, ctl.rounding, ctl.ftz) {
        Some(p) => (fmt.pack(p), p.flags.with_denormal(denormal)),
        None => (fmt.default_nan(), Flags::INVALID),
    }
}

fn convert(a: u64, from: Format, to: Format, ctl: SseControl) -> (u64, Flags) {
    match from.unpack(a) {
        (Operand::Num(x), denormal) => finish(x.into(), to, ctl, denormal),
        (op, _) => nan_result(&[op], to),
    }
}

fn min_max(a: u32, b: u32, want: Ordering) -> (u32, Flags) {
    let fmt = Format::F32;
    match (fmt.unpack(a as u64), fmt.unpack(b as u64)) {
        ((Operand::Num(x), da), (Operand::Num(y), db)) => {
            let pick = if x.compare(y) == want { a } else { b };
            (pick, Flags::DENORMAL.when(da || db))
        }
        _ => (b, Flags::INVALID),
    }
}

fn compare(a: u32, b: u32, signaling: bool) -> (Relation, Flags) {
    let fmt = Format::F32;
    match (fmt.unpack(a as u64), fmt.unpack(b as u64)) {
        ((Operand::Num(x), da), (Operand::Num(y), db)) => {
            (x.compare(y).into(), Flags::DENORMAL.when(da || db))
        }
        ((oa, _), (ob, _)) => {
            let raise = signaling || oa.is_signaling() || ob.is_signaling();
            (Relation::Unordered, Flags::INVALID.when(raise))
        }
    }
}

fn to_i32(a: u32, rc: Rounding) -> (i32, Flags) {
    match Format::F32.unpack(a as u64) {
        (Operand::Num(n), _) => match n.to_int(rc, i32::MIN.into(), i32::MAX.into()) {
            Some((v, inexact, _)) => (v as i32, Flags::INEXACT.when(inexact)),
            None => (i32::MIN, Flags::INVALID),
        },
        _ => (i32::MIN, Flags::INVALID),
    }
}
