//! Comparing the two sides' results, with what the SDM leaves undefined masked (the table is
//! in the module docs of `hostdiff`), and the approximations compared against their documented
//! bound (see [`Approximation`]).

use super::case::{CASE_FLAGS, Case, State, operand_size};
use super::fx;
use super::ours::{End, Outcome};
use iced_x86::{Instruction, Mnemonic, OpKind, Register};

const CF: u32 = 1 << 0;
const PF: u32 = 1 << 2;
const AF: u32 = 1 << 4;
const ZF: u32 = 1 << 6;
const SF: u32 = 1 << 7;
const OF: u32 = 1 << 11;
const STATUS: u32 = CF | PF | AF | ZF | SF | OF;

/// What the SDM leaves undefined for one execution.
#[derive(Default)]
struct Undefined {
    flags: u32,
    /// The destination, when its value is undefined.
    result: Option<Place>,
}

enum Place {
    Register(Register),
    Memory { offset: u32, size: u32 },
}

fn flags(flags: u32) -> Undefined {
    Undefined {
        flags,
        result: None,
    }
}

/// The undefined flags and results of `ins` for this input, per the module table.
fn undefined(ins: &Instruction, input: &State) -> Undefined {
    use Mnemonic as M;
    let bits = 8 * operand_size(ins);
    // Shift and rotate counts are the last operand (CL or an immediate), masked to 5 bits.
    let count = || {
        let last = ins.op_count().saturating_sub(1);
        input.operand(ins, last).unwrap_or(0) & 31
    };
    let destination = || match ins.op0_kind() {
        OpKind::Register => Place::Register(ins.op0_register()),
        _ => Place::Memory {
            offset: input.memory_offset(ins),
            size: bits / 8,
        },
    };
    match ins.mnemonic() {
        M::And | M::Or | M::Xor | M::Test => flags(AF),
        M::Shl | M::Sal | M::Shr | M::Sar => match count() {
            0 => flags(0),
            n => {
                let cf = n >= bits && ins.mnemonic() != M::Sar;
                flags(AF | if n > 1 { OF } else { 0 } | if cf { CF } else { 0 })
            }
        },
        M::Rol | M::Ror | M::Rcl | M::Rcr => flags(if count() > 1 { OF } else { 0 }),
        M::Shld | M::Shrd => match count() {
            0 => flags(0),
            n if n > bits => Undefined {
                flags: STATUS,
                result: Some(destination()),
            },
            n => flags(AF | if n > 1 { OF } else { 0 }),
        },
        M::Mul | M::Imul => flags(SF | ZF | AF | PF),
        M::Div | M::Idiv => flags(STATUS),
        M::Bsf | M::Bsr => Undefined {
            flags: CF | OF | SF | AF | PF,
            result: (input.operand(ins, 1) == Some(0)).then(destination),
        },
        M::Bt | M::Bts | M::Btr | M::Btc => flags(OF | SF | AF | PF),
        M::Daa | M::Das => flags(OF),
        M::Aaa | M::Aas => flags(OF | SF | ZF | PF),
        M::Aam | M::Aad => flags(OF | AF | CF),
        M::Bswap if bits == 16 => Undefined {
            flags: 0,
            result: Some(destination()),
        },
        _ => flags(0),
    }
}

/// The bits of full register `n` that `register` covers.
fn register_mask(register: Register, n: usize) -> u32 {
    let number = register.number();
    match register.size() {
        1 if number < 4 && number == n => 0xFF,
        1 if number >= 4 && number - 4 == n => 0xFF00,
        2 if number == n => 0xFFFF,
        4 if number == n => u32::MAX,
        _ => 0,
    }
}

pub const REGISTERS: [&str; 8] = ["EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"];

/// Every difference between the host's and our result, as text; empty when they agree.
pub fn differences(case: &Case, host: &Outcome, ours: &Outcome) -> Vec<String> {
    if host.end != ours.end {
        return vec![format!(
            "end: host {}, ours {}",
            end_text(&host.end),
            end_text(&ours.end)
        )];
    }
    if host.end != End::Next {
        return Vec::new();
    }
    let ins = &case.instruction;
    let undefined = undefined(ins, &case.input);
    let (h, o) = (&host.state, &ours.state);
    let mut out = Vec::new();
    for (n, name) in REGISTERS.iter().enumerate() {
        let mask = match undefined.result {
            Some(Place::Register(register)) => !register_mask(register, n),
            _ => u32::MAX,
        };
        if (h.regs[n] ^ o.regs[n]) & mask != 0 {
            out.push(format!(
                "{name}: host {:08X}, ours {:08X}",
                h.regs[n], o.regs[n]
            ));
        }
    }
    let compared = CASE_FLAGS & !undefined.flags;
    let flag_diff = (h.eflags ^ o.eflags) & compared;
    if flag_diff != 0 {
        out.push(format!(
            "EFLAGS: host {:08X}, ours {:08X} ({}; undefined here: {})",
            h.eflags & CASE_FLAGS,
            o.eflags & CASE_FLAGS,
            flag_names(flag_diff),
            flag_names(undefined.flags)
        ));
    }
    let skipped = match undefined.result {
        Some(Place::Memory { offset, size }) => offset as usize..(offset + size) as usize,
        _ => 0..0,
    };
    for (i, (a, b)) in h.memory.iter().zip(&o.memory).enumerate() {
        if a != b && !skipped.contains(&i) {
            out.push(format!("memory +{i:#04x}: host {a:02X}, ours {b:02X}"));
        }
    }
    if let (Some(hf), Some(of)) = (&h.fx, &o.fx) {
        let approximation = Approximation::of(case);
        let transcendental = is_transcendental(ins.mnemonic());
        let fields = fx::fields(ins.code())
            .into_iter()
            .chain(fx::pointers(ins, hf));
        for field in fields {
            let bytes = field.offset..field.offset + field.len;
            let (a, b) = (&hf[bytes.clone()], &of[bytes]);
            let differs = if let Some(approx) = approximation.filter(|x| x.field == field.offset) {
                !approx.agrees(a, b)
            } else if transcendental && field.len == 10 {
                !within_one_ulp(a, b)
            } else if transcendental && field.offset == fx::FSW_OFFSET {
                let word = |x: &[u8]| u16::from_le_bytes([x[0], x[1]]) & field.mask & !C1;
                word(a) != word(b)
            } else if field.len == 2 {
                let word = |x: &[u8]| u16::from_le_bytes([x[0], x[1]]) & field.mask;
                word(a) != word(b)
            } else {
                a != b
            };
            if differs {
                out.push(format!("{}: host {}, ours {}", field.name, hex(a), hex(b)));
            }
        }
    }
    out
}

/// RCPPS, RCPSS, RSQRTPS and RSQRTSS approximate 1/x and 1/sqrt(x): the SDM promises a
/// relative error of at most 1.5 * 2^-12 and exact special cases, and the bits differ between
/// processors. A result lane agrees when it equals the host's, or when the source is a positive
/// normal (RCP: any normal) and both results are normals of the exact value's sign within the
/// bound of it. RCP results that would be tiny are flushed to a zero of the source's sign: for
/// |x| >= 1.00000000000110000000001b * 2^126 that zero is required, and from
/// 1.1111111111010b * 2^125 up it is allowed. Zeros, denormals (read as zeros), infinities,
/// NaNs and RSQRT's negative sources give exact results, compared bit for bit.
#[derive(Clone, Copy)]
struct Approximation {
    /// The FXSAVE offset of the destination register.
    field: usize,
    /// The source lanes; only `lanes` of them are approximated, the others are kept.
    source: [u32; 4],
    lanes: usize,
    rsqrt: bool,
}

impl Approximation {
    fn of(case: &Case) -> Option<Approximation> {
        let ins = &case.instruction;
        let (lanes, rsqrt) = match ins.mnemonic() {
            Mnemonic::Rcpps => (4, false),
            Mnemonic::Rcpss => (1, false),
            Mnemonic::Rsqrtps => (4, true),
            Mnemonic::Rsqrtss => (1, true),
            _ => return None,
        };
        let input = &case.input;
        let mut source = [0; 4];
        for (lane, value) in source.iter_mut().enumerate().take(lanes) {
            *value = match ins.op1_kind() {
                OpKind::Register => fx::xmm_lane(input.fx.as_deref()?, ins.op1_register(), lane),
                _ => input.memory_at(input.memory_offset(ins) + 4 * lane as u32, 4)?,
            };
        }
        Some(Approximation {
            field: fx::xmm_offset(ins.op0_register()),
            source,
            lanes,
            rsqrt,
        })
    }

    /// Whether the destination registers (16 bytes each) agree.
    fn agrees(&self, host: &[u8], ours: &[u8]) -> bool {
        let lane = |bytes: &[u8], i: usize| {
            u32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().expect("four bytes"))
        };
        (0..4).all(|i| {
            let (h, o) = (lane(host, i), lane(ours, i));
            h == o
                || (i < self.lanes
                    && self.acceptable(self.source[i], h)
                    && self.acceptable(self.source[i], o))
        })
    }

    /// Whether `result` is a correct approximation for the normal source `x`.
    fn acceptable(&self, x: u32, result: u32) -> bool {
        let normal = |v: u32| (1..0xFF).contains(&(v >> 23 & 0xFF));
        if !normal(x) || (self.rsqrt && x >> 31 == 1) {
            return false;
        }
        let magnitude = x & 0x7FFF_FFFF;
        // 1.1111111111010b * 2^125 and 1.00000000000110000000001b * 2^126.
        let (may_flush, must_flush) = (0x7E7F_E800, 0x7E80_0C01);
        let flushed = result == x & 0x8000_0000;
        if !self.rsqrt && magnitude >= must_flush {
            return flushed;
        }
        if !self.rsqrt && magnitude >= may_flush && flushed {
            return true;
        }
        let x = f64::from(f32::from_bits(x));
        let exact = if self.rsqrt { 1.0 / x.sqrt() } else { 1.0 / x };
        let value = f64::from(f32::from_bits(result));
        normal(result)
            && value.is_sign_negative() == exact.is_sign_negative()
            && ((value - exact) / exact).abs() <= 1.5 / 4096.0
    }
}

/// The x87 status word's C1: after a transcendental it says the result was rounded up, and
/// processors round those results differently in the last bit.
const C1: u16 = 1 << 9;

/// FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X and FYL2XP1: the SDM promises results
/// within 1 ulp, and processor generations differ in the last bit (and so in C1). Registers
/// after them agree when they are equal or adjacent 80-bit values; flags and the other
/// status bits must match exactly.
fn is_transcendental(mnemonic: Mnemonic) -> bool {
    use Mnemonic as M;
    matches!(
        mnemonic,
        M::Fsin | M::Fcos | M::Fsincos | M::Fptan | M::Fpatan | M::F2xm1 | M::Fyl2x | M::Fyl2xp1
    )
}

/// Whether two 80-bit registers (little-endian) hold equal or adjacent values of one sign:
/// ordered by exponent and then fraction, neighbours differ by one.
fn within_one_ulp(a: &[u8], b: &[u8]) -> bool {
    let key = |x: &[u8]| {
        let mantissa = u64::from_le_bytes(x[..8].try_into().expect("eight bytes"));
        let sign_exp = u16::from_le_bytes([x[8], x[9]]);
        (
            sign_exp >> 15,
            (u128::from(sign_exp & 0x7FFF) << 63) | u128::from(mantissa & !(1 << 63)),
        )
    };
    let ((sign_a, a), (sign_b, b)) = (key(a), key(b));
    sign_a == sign_b && a.abs_diff(b) <= 1
}

/// Bytes as hex, most significant first (they are little-endian values).
fn hex(bytes: &[u8]) -> String {
    bytes.iter().rev().map(|b| format!("{b:02X}")).collect()
}

fn flag_names(flags: u32) -> String {
    let names: Vec<&str> = [
        (CF, "CF"),
        (PF, "PF"),
        (AF, "AF"),
        (ZF, "ZF"),
        (SF, "SF"),
        (1 << 10, "DF"),
        (OF, "OF"),
    ]
    .iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|&(_, name)| name)
    .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(" ")
    }
}

pub fn end_text(end: &End) -> String {
    const NAMES: [&str; 20] = [
        "DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", "09", "TS", "NP", "SS", "GP", "PF",
        "15", "MF", "AC", "MC", "XF",
    ];
    match end {
        End::Next => "completed".into(),
        End::Fault(v) => match NAMES.get(usize::from(*v)) {
            Some(name) => format!("#{name}"),
            None => format!("exception {v}"),
        },
        End::Other(why) => why.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::Approximation;

    fn approximation(rsqrt: bool) -> Approximation {
        Approximation {
            field: 0,
            source: [0; 4],
            lanes: 1,
            rsqrt,
        }
    }

    #[test]
    fn approximations_are_held_to_the_documented_bound() {
        let (rcp, rsqrt) = (approximation(false), approximation(true));
        let bits = f32::to_bits;
        let half = |error: f32| bits(0.5 * (1.0 + error));
        assert!(rcp.acceptable(bits(2.0), half(0.0)));
        assert!(rcp.acceptable(bits(2.0), half(1.4 / 4096.0)));
        assert!(!rcp.acceptable(bits(2.0), half(1.6 / 4096.0)));
        assert!(!rcp.acceptable(bits(2.0), bits(-0.5)));
        assert!(rsqrt.acceptable(bits(4.0), half(-1.4 / 4096.0)));
        assert!(!rsqrt.acceptable(bits(-4.0), bits(0.5)));
        // Specials are exact: never within a tolerance.
        assert!(!rcp.acceptable(0, 0x7F80_0000));
        assert!(!rcp.acceptable(1, 0x7F80_0000));
        // Flushing: allowed around 2^126, required from just above it.
        assert!(rcp.acceptable(0x7E80_0000, 0x0080_0000));
        assert!(rcp.acceptable(0xFE80_0000, 0x8000_0000));
        assert!(!rcp.acceptable(0x7E80_0000, 0x8000_0000));
        assert!(rcp.acceptable(0x7F00_0000, 0));
        assert!(!rcp.acceptable(0x7F00_0000, 0x0040_0000));
    }
}
