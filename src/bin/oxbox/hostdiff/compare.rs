//! Comparing the two sides' results, with what the SDM leaves undefined masked (the table is
//! in the module docs of `hostdiff`).

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
        for field in fx::fields(ins.code()) {
            let bytes = field.offset..field.offset + field.len;
            let (a, b) = (&hf[bytes.clone()], &of[bytes]);
            let differs = if field.len == 2 {
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
