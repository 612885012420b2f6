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

macro_rules! binary_ops {
    ($ty:ty, $fmt:expr, $add:ident, $sub:ident, $mul:ident, $div:ident, $sqrt:ident) => {
        pub fn $add(a: $ty, b: $ty, ctl: SseControl) -> ($ty, Flags) {
            let (r, f) = binary(a as u64, b as u64, $fmt, ctl, |x, y| {
                arith::add(x, y, ctl.rounding)
            });
            (r as $ty, f)
        }

        pub fn $sub(a: $ty, b: $ty, ctl: SseControl) -> ($ty, Flags) {
            let (r, f) = binary(a as u64, b as u64, $fmt, ctl, |x, y| {
                arith::add(x, y.negate(), ctl.rounding)
            });
            (r as $ty, f)
        }

        pub fn $mul(a: $ty, b: $ty, ctl: SseControl) -> ($ty, Flags) {
            let (r, f) = binary(a as u64, b as u64, $fmt, ctl, arith::mul);
            (r as $ty, f)
        }

        pub fn $div(a: $ty, b: $ty, ctl: SseControl) -> ($ty, Flags) {
            let (r, f) = binary(a as u64, b as u64, $fmt, ctl, arith::div);
            (r as $ty, f)
        }

        pub fn $sqrt(a: $ty, ctl: SseControl) -> ($ty, Flags) {
            let (r, f) = match $fmt.unpack(a as u64) {
                (Operand::Num(x), denormal) => finish(arith::sqrt(x), $fmt, ctl, denormal),
                (op, _) => nan_result(&[op], $fmt),
            };
            (r as $ty, f)
        }
    };
}

binary_ops!(
    u32,
    Format::F32,
    f32_add,
    f32_sub,
    f32_mul,
    f32_div,
    f32_sqrt
);
binary_ops!(
    u64,
    Format::F64,
    f64_add,
    f64_sub,
    f64_mul,
    f64_div,
    f64_sqrt
);

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
    let (r, f) = finish(
        Num::finite(v < 0, 63, v.unsigned_abs().into()).into(),
        Format::F32,
        ctl,
        false,
    );
    (r as u32, f)
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
        a as u64,
        Format::F32,
        Format::F64,
        SseControl::from_mxcsr(0),
    )
}

/// CVTSD2SS: rounds by the control's mode, flushing tiny results when FTZ is set.
pub fn f64_to_f32(a: u64, ctl: SseControl) -> (u32, Flags) {
    let (r, f) = convert(a, Format::F64, Format::F32, ctl);
    (r as u32, f)
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
