//! The FXSAVE image that carries x87, MMX and SSE state between the sides (32-bit layout of
//! the SDM's FXSAVE table): random initial images, and the fields that are compared.

use super::rng::Rng;
use iced_x86::{Code, CpuidFeature, Instruction, Mnemonic, OpKind, Register};

pub const SIZE: usize = 512;
pub type Image = [u8; SIZE];

const FCW: usize = 0;
pub const FSW_OFFSET: usize = 2;
const FSW: usize = FSW_OFFSET;
const FTW: usize = 4;
const FOP: usize = 6;
const FIP: usize = 8;
const FDP: usize = 16;
const MXCSR: usize = 24;
const ST0: usize = 32;
const XMM0: usize = 160;

/// FSW condition-code bits C0, C1, C2, C3.
const C0: u16 = 1 << 8;
const C1: u16 = 1 << 9;
const C2: u16 = 1 << 10;
const C3: u16 = 1 << 14;

/// A random state: every rounding and precision control, usually masked exceptions, any stack
/// top and tags, and register values from every class (normals, zeros, denormals, infinities,
/// NaNs, unsupported encodings). MXCSR has no DAZ, which a Pentium III lacks.
pub fn random(rng: &mut Rng) -> Box<Image> {
    let mut image = Box::new([0u8; SIZE]);
    let unmasked = if rng.one_in(8) { rng.below(64) } else { 0 };
    // FCW: exception masks, precision control (bits 8-9), rounding control (bits 10-11).
    let fcw = (0x037F & !(unmasked as u16)) | ((rng.below(16) as u16) << 8);
    // FSW: TOP (bits 11-13) and sometimes pending exception flags.
    let exceptions = if rng.one_in(4) { rng.below(64) } else { 0 };
    let fsw = ((rng.below(8) as u16) << 11) | exceptions as u16;
    let ftw = if rng.one_in(2) {
        0xFF
    } else {
        rng.below(256) as u8
    };
    // MXCSR: masks (bits 7-12), rounding control (bits 13-14), flush to zero (bit 15).
    let mxcsr = (0x1F80 & !(unmasked << 7)) | (rng.below(4) << 13) | (rng.below(2) << 15);
    image[FCW..FCW + 2].copy_from_slice(&fcw.to_le_bytes());
    image[FSW..FSW + 2].copy_from_slice(&fsw.to_le_bytes());
    image[FTW] = ftw;
    image[MXCSR..MXCSR + 4].copy_from_slice(&mxcsr.to_le_bytes());
    for i in 0..8 {
        let (mantissa, exponent) = extended(rng);
        let slot = ST0 + 16 * i;
        image[slot..slot + 8].copy_from_slice(&mantissa.to_le_bytes());
        image[slot + 8..slot + 10].copy_from_slice(&exponent.to_le_bytes());
    }
    for i in 0..32 {
        let lane = XMM0 + 4 * i;
        image[lane..lane + 4].copy_from_slice(&single(rng).to_le_bytes());
    }
    image
}

/// An 80-bit value as (significand, sign and exponent).
fn extended(rng: &mut Rng) -> (u64, u16) {
    let sign = (rng.below(2) as u16) << 15;
    let random = rng.next_u64();
    match rng.below(8) {
        0 => (0, sign),
        1 => (random >> 1, sign),
        2 => (1 << 63, sign | 0x7FFF),
        3 => (random | 1 << 63 | 1, sign | 0x7FFF),
        4 => (random, rng.below(0x8000) as u16),
        _ => (
            random | 1 << 63,
            sign | (0x3FFF - 64 + rng.below(128)) as u16,
        ),
    }
}

/// A 32-bit float's bits, from every class.
fn single(rng: &mut Rng) -> u32 {
    let sign = rng.below(2) << 31;
    let random = rng.next_u32();
    match rng.below(8) {
        0 => sign,
        1 => sign | (random & 0x007F_FFFF),
        2 => sign | 0x7F80_0000,
        3 => sign | 0x7F80_0000 | (random & 0x007F_FFFF) | 1,
        4 => random,
        _ => sign | (127 - 20 + rng.below(40)) << 23 | (random & 0x007F_FFFF),
    }
}

/// The input image as text: the control and status words, the abridged tags (one bit per
/// physical register), the registers in FXSAVE's stack order (slot i is ST(i), which is
/// MM((TOP + i) mod 8)) and the XMM registers.
pub fn describe(image: &Image) -> Vec<String> {
    let word = |at: usize| u16::from_le_bytes([image[at], image[at + 1]]);
    let hex = |bytes: &[u8]| -> String { bytes.iter().rev().map(|b| format!("{b:02X}")).collect() };
    let slots = |base: usize, len: usize| -> String {
        (0..8)
            .map(|i| hex(&image[base + 16 * i..base + 16 * i + len]))
            .collect::<Vec<_>>()
            .join(" ")
    };
    vec![
        format!(
            "FCW={:04X} FSW={:04X} FTW={:02X} MXCSR={}",
            word(FCW),
            word(FSW),
            image[FTW],
            hex(&image[MXCSR..MXCSR + 4])
        ),
        format!("ST0..7: {}", slots(ST0, 10)),
        format!("XMM0..7: {}", slots(XMM0, 16)),
    ]
}

/// The FXSAVE offset of XMM register `register`.
pub fn xmm_offset(register: Register) -> usize {
    XMM0 + 16 * register.number()
}

/// Lane `lane` (32 bits) of XMM register `register` in `image`.
pub fn xmm_lane(image: &Image, register: Register, lane: usize) -> u32 {
    let at = xmm_offset(register) + 4 * lane;
    u32::from_le_bytes(image[at..at + 4].try_into().expect("four bytes"))
}

/// A compared field: its offset, length and, for FSW, the bits that count.
pub struct Field {
    pub name: String,
    pub offset: usize,
    pub len: usize,
    pub mask: u16,
}

/// The architecturally defined fields after `mnemonic`: FCW, FSW without the condition codes
/// the SDM calls undefined for it, the abridged tag word, MXCSR, the eight x87/MMX registers
/// (80 bits each) and the eight XMM registers. The x87 pointers are compared where
/// [`pointers`] says. Not compared: FCS and FDS (the sides' selectors differ), MXCSR_MASK
/// (model-specific) and the reserved bytes.
pub fn fields(code: Code) -> Vec<Field> {
    let field = |name: String, offset, len, mask| Field {
        name,
        offset,
        len,
        mask,
    };
    let mut fields = vec![
        field("FCW".into(), FCW, 2, 0xFFFF),
        field("FSW".into(), FSW, 2, !undefined_condition_codes(code)),
        field("FTW".into(), FTW, 1, 0xFF),
        field("MXCSR".into(), MXCSR, 4, 0xFFFF),
    ];
    fields.extend((0..8).map(|i| field(format!("ST/MM{i}"), ST0 + 16 * i, 10, 0xFFFF)));
    fields.extend((0..8).map(|i| field(format!("XMM{i}"), XMM0 + 16 * i, 16, 0xFFFF)));
    fields
}

/// The last x87 instruction's opcode (FOP) and address (FIP), and its memory operand's (FDP),
/// after an x87 instruction that records them (any but the control instructions) and raised
/// an unmasked exception, judged by the host's ES: AMD processors store the pointers only
/// then (zeros otherwise), some recent Intel ones FDP; the Pentium III always stores them.
/// FDP only when the instruction has a memory operand (the others keep the previous one).
pub fn pointers(ins: &Instruction, host: &Image) -> Vec<Field> {
    use Mnemonic as M;
    let code = ins.code();
    let control = matches!(
        code.mnemonic(),
        M::Fninit
            | M::Fnclex
            | M::Fldcw
            | M::Fnstcw
            | M::Fnstsw
            | M::Fnstenv
            | M::Fldenv
            | M::Fnsave
            | M::Frstor
            | M::Wait
    );
    let error_summary = host[FSW] & 0x80 != 0;
    if !is_x87(code) || control || !error_summary {
        return Vec::new();
    }
    let field = |name: &str, offset, len, mask| Field {
        name: name.into(),
        offset,
        len,
        mask,
    };
    let mut fields = vec![field("FOP", FOP, 2, 0x07FF), field("FIP", FIP, 4, 0xFFFF)];
    if (0..ins.op_count()).any(|i| ins.op_kind(i) == OpKind::Memory) {
        fields.push(field("FDP", FDP, 4, 0xFFFF));
    }
    fields
}

fn is_x87(code: Code) -> bool {
    code.cpuid_features().iter().any(|f| {
        matches!(
            f,
            CpuidFeature::FPU | CpuidFeature::FPU287 | CpuidFeature::FPU387
        )
    })
}

/// The FSW condition codes the SDM leaves undefined after an x87 instruction ("Flags
/// Affected"): compares, FXAM, partial remainders and FINIT define all four; FPTAN, FSIN, FCOS
/// and FSINCOS leave C0 and C3 undefined; the control and status transfers leave all four;
/// every other x87 instruction defines only C1. MMX and SSE instructions leave them alone.
fn undefined_condition_codes(code: Code) -> u16 {
    use Mnemonic as M;
    match code.mnemonic() {
        _ if !is_x87(code) => 0,
        M::Fcom
        | M::Fcomp
        | M::Fcompp
        | M::Fucom
        | M::Fucomp
        | M::Fucompp
        | M::Ficom
        | M::Ficomp
        | M::Ftst
        | M::Fxam
        | M::Fprem
        | M::Fprem1
        | M::Fninit
        | M::Finit
        | M::Fcomi
        | M::Fcomip
        | M::Fucomi
        | M::Fucomip => 0,
        M::Fptan | M::Fsin | M::Fcos | M::Fsincos => C0 | C3,
        M::Fldcw
        | M::Fnstcw
        | M::Fstcw
        | M::Fnstsw
        | M::Fstsw
        | M::Fnclex
        | M::Fclex
        | M::Fnop
        | M::Wait => C0 | C1 | C2 | C3,
        _ => C0 | C2 | C3,
    }
}
