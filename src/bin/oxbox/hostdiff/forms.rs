//! Which instruction forms are tested: every iced-x86 `Code` that a Pentium III executes in
//! 32-bit code and that is a user-mode data instruction.

use iced_x86::{
    Code, CpuidFeature, DecoderOptions, EncodingKind, FlowControl, Mnemonic, OpCodeOperandKind,
};
use oxbox::cpu::decode::pentium_iii_executes;

/// One tested form: an opcode, and for an r/m operand whether it is a register or memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Form {
    pub code: Code,
    pub rm: Rm,
    /// The instruction reads or writes x87, MMX or SSE state: cases carry an FXSAVE image.
    pub fp: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rm {
    /// No r/m operand that could be either.
    Fixed,
    Register,
    Memory,
}

impl Form {
    pub fn name(&self) -> String {
        match self.rm {
            Rm::Fixed => format!("{:?}", self.code),
            Rm::Register => format!("{:?}/reg", self.code),
            Rm::Memory => format!("{:?}/mem", self.code),
        }
    }
}

/// Every tested form, in `Code` order.
pub fn all() -> Vec<Form> {
    let mut forms = Vec::new();
    for code in Code::values().filter(|&code| tested(code)) {
        let fp = touches_fp_state(code);
        if code
            .op_code()
            .op_kinds()
            .iter()
            .any(|&kind| register_or_memory(kind))
        {
            forms.push(Form {
                code,
                rm: Rm::Register,
                fp,
            });
            if !PREFETCH_ALIASES.contains(&code) {
                forms.push(Form {
                    code,
                    rm: Rm::Memory,
                    fp,
                });
            }
        } else {
            forms.push(Form {
                code,
                rm: Rm::Fixed,
                fp,
            });
        }
    }
    forms
}

/// Reserved NOPs whose memory forms iced decodes as prefetch hints (PREFETCHh, PREFETCHW);
/// the register forms are tested.
const PREFETCH_ALIASES: [Code; 4] = [
    Code::Reservednop_rm16_r16_0F0D,
    Code::Reservednop_rm32_r32_0F0D,
    Code::Reservednop_rm16_r16_0F18,
    Code::Reservednop_rm32_r32_0F18,
];

/// Instructions left out although a user-mode program can run them: their results depend on
/// the environment (privilege level, segment selectors, descriptor tables, time, the model),
/// they load segment registers or far pointers, or they save and restore the whole FPU state
/// (the harness uses FXSAVE/FXRSTOR itself, and the FSAVE/FSTENV images hold instruction and
/// data pointers that recent CPUs no longer store).
const LEFT_OUT: &[Mnemonic] = &[
    Mnemonic::Cpuid,
    Mnemonic::Rdtsc,
    Mnemonic::Rdpmc,
    Mnemonic::Smsw,
    Mnemonic::Sgdt,
    Mnemonic::Sidt,
    Mnemonic::Sldt,
    Mnemonic::Str,
    Mnemonic::Lar,
    Mnemonic::Lsl,
    Mnemonic::Verr,
    Mnemonic::Verw,
    Mnemonic::Arpl,
    Mnemonic::Cli,
    Mnemonic::Sti,
    Mnemonic::Pushf,
    Mnemonic::Pushfd,
    Mnemonic::Popf,
    Mnemonic::Popfd,
    Mnemonic::Lds,
    Mnemonic::Les,
    Mnemonic::Lfs,
    Mnemonic::Lgs,
    Mnemonic::Lss,
    Mnemonic::Fxsave,
    Mnemonic::Fxrstor,
    Mnemonic::Fldenv,
    Mnemonic::Fnstenv,
    Mnemonic::Fstenv,
    Mnemonic::Fnsave,
    Mnemonic::Fsave,
    Mnemonic::Frstor,
];

fn tested(code: Code) -> bool {
    let info = code.op_code();
    info.is_instruction()
        && info.encoding() == EncodingKind::Legacy
        && info.mode32()
        // Opcodes that need a decoder option exist only on other CPUs (486 A-step CMPXCHG,
        // test registers, UMOV, ...).
        && info.decoder_option() == DecoderOptions::NONE
        // FSTCW and the like are WAIT followed by FNSTCW: two instructions, each tested.
        && !info.fwait()
        && pentium_iii_executes(code)
        && code.flow_control() == FlowControl::Next
        && !code.is_privileged()
        && !info.is_input_output()
        && !LEFT_OUT.contains(&code.mnemonic())
        && info.op_kinds().iter().all(|&kind| generated(kind))
}

/// Operand kinds the case generator fills in. The others are segment registers, control,
/// debug and test registers, far pointers, branch targets and I/O ports.
fn generated(kind: OpCodeOperandKind) -> bool {
    use OpCodeOperandKind as K;
    matches!(
        kind,
        K::mem
            | K::mem_offs
            | K::r8_or_mem
            | K::r16_or_mem
            | K::r32_or_mem
            | K::mm_or_mem
            | K::xmm_or_mem
            | K::r8_reg
            | K::r8_opcode
            | K::r16_reg
            | K::r16_rm
            | K::r16_opcode
            | K::r32_reg
            | K::r32_rm
            | K::r32_opcode
            | K::mm_reg
            | K::mm_rm
            | K::xmm_reg
            | K::xmm_rm
            | K::al
            | K::cl
            | K::ax
            | K::eax
            | K::st0
            | K::sti_opcode
            | K::imm8
            | K::imm8_const_1
            | K::imm8sex16
            | K::imm8sex32
            | K::imm16
            | K::imm32
            | K::seg_rSI
            | K::es_rDI
            | K::seg_rDI
            | K::seg_rBX_al
    )
}

pub fn register_or_memory(kind: OpCodeOperandKind) -> bool {
    use OpCodeOperandKind as K;
    matches!(
        kind,
        K::r8_or_mem | K::r16_or_mem | K::r32_or_mem | K::mm_or_mem | K::xmm_or_mem
    )
}

/// x87 and MMX instructions, anything with an MMX or XMM operand, and the MXCSR transfers.
/// (PREFETCHh and SFENCE are SSE but touch no such state.)
fn touches_fp_state(code: Code) -> bool {
    use OpCodeOperandKind as K;
    code.cpuid_features().iter().any(|f| {
        matches!(
            f,
            CpuidFeature::FPU | CpuidFeature::FPU287 | CpuidFeature::FPU387 | CpuidFeature::MMX
        )
    }) || code.op_code().op_kinds().iter().any(|&kind| {
        matches!(
            kind,
            K::mm_or_mem | K::mm_reg | K::mm_rm | K::xmm_or_mem | K::xmm_reg | K::xmm_rm
        )
    }) || matches!(code.mnemonic(), Mnemonic::Ldmxcsr | Mnemonic::Stmxcsr)
}
