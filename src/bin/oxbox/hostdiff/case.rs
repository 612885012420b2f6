//! Test cases: an instruction built from a form with random operands, and the machine state it
//! starts from.
//!
//! Instructions are made the systematic way: the form's `OpCodeInfo` lists its operand kinds;
//! each gets a random register of its class, a random immediate or a memory operand, set on an
//! iced `Instruction` that the 32-bit `Encoder` turns into bytes. Decoding the bytes again must
//! give the same form back.
//!
//! Memory operands address a scratch buffer at a fixed linear address, the same on both sides:
//! a target offset is picked first, then a random addressing shape (base, index with scale,
//! no/8-bit/32-bit displacement, or an absolute address), then register values that make the
//! effective address land on the target. Only 32-bit addressing is generated: 16-bit addresses
//! are below 64 KiB, where Linux maps nothing. Registers with an implicit role get values that
//! keep every access inside the buffer: ESP (and EBP for ENTER/LEAVE) for stack instructions,
//! ESI/EDI (and a small ECX under REP) for string instructions, EBX and AL for XLAT, the bit
//! offset of BT/BTS/BTR/BTC with a memory operand. LDMXCSR loads values that every processor
//! accepts or rejects alike (see `Builder::bias`).

use super::forms::{Form, Rm, register_or_memory};
use super::fx;
use super::rng::Rng;
use iced_x86::{
    Code, Decoder, DecoderOptions, Encoder, Instruction, Mnemonic, OpCodeOperandKind, OpKind,
    Register,
};

/// The scratch buffer's linear address and size, and where the instruction runs.
pub const SCRATCH_ADDR: u32 = 0x2000_0000;
pub const SCRATCH_SIZE: usize = 256;
pub const CODE_ADDR: u32 = 0x3000_0000;

/// Registers (EAX..EDI), arithmetic flags and DF, scratch memory, and FPU/SSE state.
#[derive(Clone, PartialEq, Eq)]
pub struct State {
    pub regs: [u32; 8],
    pub eflags: u32,
    pub memory: [u8; SCRATCH_SIZE],
    pub fx: Option<Box<fx::Image>>,
}

pub struct Case {
    pub bytes: Vec<u8>,
    /// The bytes decoded again, for the text and for operand values.
    pub instruction: Instruction,
    pub input: State,
}

/// EFLAGS bits a case sets: the six arithmetic flags and DF; bit 1 always reads 1.
pub const CASE_FLAGS: u32 = 0x0CD5;

impl State {
    /// A general-purpose register of any size (AH..BH included).
    pub fn register(&self, register: Register) -> u32 {
        let n = register.number();
        if register.is_gpr8() {
            if n < 4 {
                self.regs[n] & 0xFF
            } else {
                (self.regs[n - 4] >> 8) & 0xFF
            }
        } else if register.is_gpr16() {
            self.regs[n] & 0xFFFF
        } else {
            self.regs[n]
        }
    }

    fn set_register(&mut self, register: Register, value: u32) {
        let n = register.number();
        if register.is_gpr8() {
            let (n, shift) = if n < 4 { (n, 0) } else { (n - 4, 8) };
            self.regs[n] = (self.regs[n] & !(0xFF << shift)) | ((value & 0xFF) << shift);
        } else if register.is_gpr16() {
            self.regs[n] = (self.regs[n] & !0xFFFF) | (value & 0xFFFF);
        } else {
            self.regs[n] = value;
        }
    }

    /// `size` bytes (at most 4) of scratch memory at `offset`, little-endian; None outside.
    pub fn memory_at(&self, offset: u32, size: usize) -> Option<u32> {
        let bytes = self.memory.get(offset as usize..offset as usize + size)?;
        Some(bytes.iter().rev().fold(0, |v, &b| (v << 8) | u32::from(b)))
    }

    fn set_memory_at(&mut self, offset: u32, size: usize, value: u32) {
        if let Some(bytes) = self.memory.get_mut(offset as usize..offset as usize + size) {
            bytes.copy_from_slice(&value.to_le_bytes()[..size]);
        }
    }

    /// The scratch offset of the instruction's memory operand with these registers.
    pub fn memory_offset(&self, ins: &Instruction) -> u32 {
        let mut address = ins.memory_displacement32();
        if ins.memory_base() != Register::None {
            address = address.wrapping_add(self.register(ins.memory_base()));
        }
        if ins.memory_index() != Register::None {
            let index = self.register(ins.memory_index());
            address = address.wrapping_add(index.wrapping_mul(ins.memory_index_scale()));
        }
        address.wrapping_sub(SCRATCH_ADDR)
    }

    /// Operand `i` of `ins`: a general-purpose register, memory (at most 4 bytes) or an
    /// immediate. None for other operands.
    pub fn operand(&self, ins: &Instruction, i: u32) -> Option<u32> {
        match ins.op_kind(i) {
            OpKind::Register if ins.op_register(i).is_gpr() => {
                Some(self.register(ins.op_register(i)))
            }
            OpKind::Memory => {
                let size = ins.memory_size().size().min(4);
                self.memory_at(self.memory_offset(ins), size)
            }
            OpKind::Register => None,
            _ => ins.try_immediate(i).ok().map(|v| v as u32),
        }
    }
}

/// A case of `form`. Some operand choices encode as another form (XCHG AX, AX is a NOP),
/// so a few attempts are made.
pub fn generate(form: &Form, rng: &mut Rng) -> Result<Case, String> {
    let mut result = attempt(form, rng);
    for _ in 0..16 {
        if result.is_ok() {
            break;
        }
        result = attempt(form, rng);
    }
    result
}

fn attempt(form: &Form, rng: &mut Rng) -> Result<Case, String> {
    let mut memory = [0u8; SCRATCH_SIZE];
    memory.iter_mut().for_each(|b| *b = rng.value() as u8);
    let mut builder = Builder {
        rng,
        ins: Instruction::default(),
        state: State {
            regs: [0; 8],
            eflags: 0,
            memory,
            fx: None,
        },
        pinned: [false; 8],
    };
    let b = &mut builder;
    for r in 0..8 {
        b.state.regs[r] = b.rng.value();
    }
    b.state.eflags = 2 | (b.rng.next_u32() & CASE_FLAGS);
    b.ins.set_code(form.code);
    if form.fp {
        b.state.fx = Some(fx::random(b.rng));
    }
    b.implicit_registers(form);
    b.operands(form)?;
    b.bias(form.code);
    // LOCK with a memory destination (with a register, iced does not decode it).
    let lockable = form.code.op_code().can_use_lock_prefix() && b.ins.op0_kind() == OpKind::Memory;
    if lockable && b.rng.one_in(4) {
        b.ins.set_has_lock_prefix(true);
    }
    let bytes = encode(&b.ins)?;
    let instruction =
        Decoder::with_ip(32, &bytes, u64::from(CODE_ADDR), DecoderOptions::NONE).decode();
    if instruction.code() != form.code || instruction.len() != bytes.len() {
        return Err(format!(
            "{:02X?} decodes as {:?}, not {:?}",
            bytes,
            instruction.code(),
            form.code
        ));
    }
    Ok(Case {
        bytes,
        instruction,
        input: builder.state,
    })
}

fn encode(ins: &Instruction) -> Result<Vec<u8>, String> {
    let mut encoder = Encoder::new(32);
    encoder
        .encode(ins, u64::from(CODE_ADDR))
        .map_err(|e| format!("cannot encode {:?}: {e}", ins.code()))?;
    Ok(encoder.take_buffer())
}

struct Builder<'a> {
    rng: &'a mut Rng,
    ins: Instruction,
    state: State,
    /// Registers whose values an address or count depends on; later choices keep them.
    pinned: [bool; 8],
}

const ESP: usize = 4;
const EBP: usize = 5;

impl Builder<'_> {
    fn pin(&mut self, n: usize, value: u32) {
        self.state.regs[n] = value;
        self.pinned[n] = true;
    }

    /// A scratch address with `room` bytes below and above it.
    fn inside(&mut self, room: u32) -> u32 {
        SCRATCH_ADDR + room + self.rng.below(SCRATCH_SIZE as u32 - 2 * room)
    }

    /// Values for registers the instruction uses as addresses or counts without naming them.
    fn implicit_registers(&mut self, form: &Form) {
        let code = form.code;
        let kinds = code.op_code().op_kinds();
        if code.mnemonic() == Mnemonic::Enter {
            // Room below for the display (up to 9 pushes) and the frame (see `operand_other`):
            // ENTER probes the final stack pointer with a write.
            let esp = SCRATCH_ADDR + 160 + self.rng.below(32);
            self.pin(ESP, esp);
        } else if code.is_stack_instruction() {
            // Room for PUSHAD/POPAD (32 bytes).
            let esp = self.inside(96);
            self.pin(ESP, esp);
        }
        if matches!(code.mnemonic(), Mnemonic::Enter | Mnemonic::Leave) {
            let ebp = self.inside(64);
            self.pin(EBP, ebp);
        }
        use OpCodeOperandKind as K;
        if kinds.contains(&K::seg_rSI) || kinds.contains(&K::es_rDI) {
            let repeat = self.rng.below(3);
            let compares = code.op_code().can_use_repne_prefix();
            match repeat {
                1 => self.ins.set_has_rep_prefix(true),
                2 if compares => self.ins.set_has_repne_prefix(true),
                _ => {}
            }
            // Up to 16 elements of 4 bytes either way (DF is random).
            let (esi, edi) = (self.inside(68), self.inside(68));
            self.pin(6, esi);
            self.pin(7, edi);
            if self.ins.has_rep_prefix() || self.ins.has_repne_prefix() {
                let count = self.rng.below(17);
                self.pin(1, count);
            }
        }
        if kinds.contains(&K::seg_rDI) {
            let edi = SCRATCH_ADDR + self.rng.below(SCRATCH_SIZE as u32 - 8);
            self.pin(7, edi);
        }
        if kinds.contains(&K::seg_rBX_al) {
            // XLAT reads [EBX + AL].
            let offset = self.rng.below(32);
            self.pin(3, SCRATCH_ADDR + offset);
            let al = self.rng.below(SCRATCH_SIZE as u32 - offset);
            let eax = (self.state.regs[0] & !0xFF) | al;
            self.pin(0, eax);
        }
    }

    /// Fills in every operand; the memory operand last, once the registers it must avoid are
    /// pinned.
    fn operands(&mut self, form: &Form) -> Result<(), String> {
        let kinds = form.code.op_code().op_kinds();
        let mut memory = None;
        for (i, &kind) in kinds.iter().enumerate() {
            let i = i as u32;
            use OpCodeOperandKind as K;
            let register = |base: Register, rng: &mut Rng| base + rng.below(8);
            let reg = match kind {
                _ if register_or_memory(kind) && form.rm == Rm::Memory => None,
                K::mem | K::mem_offs => None,
                K::r8_or_mem | K::r8_reg | K::r8_opcode => Some(register(Register::AL, self.rng)),
                K::r16_or_mem | K::r16_reg | K::r16_rm | K::r16_opcode => {
                    Some(register(Register::AX, self.rng))
                }
                K::r32_or_mem | K::r32_reg | K::r32_rm | K::r32_opcode => {
                    Some(register(Register::EAX, self.rng))
                }
                K::mm_or_mem | K::mm_reg | K::mm_rm => Some(register(Register::MM0, self.rng)),
                K::xmm_or_mem | K::xmm_reg | K::xmm_rm => Some(register(Register::XMM0, self.rng)),
                K::sti_opcode => Some(register(Register::ST0, self.rng)),
                K::st0 => Some(Register::ST0),
                K::al => Some(Register::AL),
                K::cl => Some(Register::CL),
                K::ax => Some(Register::AX),
                K::eax => Some(Register::EAX),
                _ => {
                    self.operand_other(i, kind, form.code)?;
                    continue;
                }
            };
            match reg {
                Some(reg) => {
                    self.set_kind(i, OpKind::Register)?;
                    self.ins
                        .try_set_op_register(i, reg)
                        .map_err(|e| e.to_string())?;
                }
                None => memory = Some((i, kind)),
            }
        }
        if let Some((i, kind)) = memory {
            self.memory_operand(i, kind == OpCodeOperandKind::mem_offs)?;
        }
        Ok(())
    }

    fn set_kind(&mut self, i: u32, kind: OpKind) -> Result<(), String> {
        self.ins.try_set_op_kind(i, kind).map_err(|e| e.to_string())
    }

    /// Immediates and the implicit string and XLAT memory operands.
    fn operand_other(&mut self, i: u32, kind: OpCodeOperandKind, code: Code) -> Result<(), String> {
        use OpCodeOperandKind as K;
        let (op_kind, value) = match kind {
            K::seg_rSI => return self.set_kind(i, OpKind::MemorySegESI),
            K::es_rDI => return self.set_kind(i, OpKind::MemoryESEDI),
            K::seg_rDI => return self.set_kind(i, OpKind::MemorySegEDI),
            K::seg_rBX_al => {
                self.ins.set_memory_base(Register::EBX);
                self.ins.set_memory_index(Register::AL);
                self.ins.set_memory_index_scale(1);
                return self.set_kind(i, OpKind::Memory);
            }
            K::imm8_const_1 => (OpKind::Immediate8, 1),
            // ENTER's nesting level, masked to 5 bits; more than 8 would leave the buffer.
            K::imm8 if i > 0 && code.mnemonic() == Mnemonic::Enter => (
                OpKind::Immediate8_2nd,
                self.rng.pick(&[0, 1, 2, 3, 4, 8, 32, 33, 40]),
            ),
            K::imm8 => (OpKind::Immediate8, self.imm8(code)),
            K::imm16 if code.mnemonic() == Mnemonic::Enter => {
                (OpKind::Immediate16, self.rng.below(97))
            }
            K::imm8sex16 => (OpKind::Immediate8to16, self.rng.value() & 0xFF),
            K::imm8sex32 => (OpKind::Immediate8to32, self.rng.value() & 0xFF),
            K::imm16 => (OpKind::Immediate16, self.rng.value() & 0xFFFF),
            K::imm32 => (OpKind::Immediate32, self.rng.value()),
            _ => return Err(format!("operand kind {kind:?} is not generated")),
        };
        self.set_kind(i, op_kind)?;
        self.ins
            .try_set_immediate_u32(i, value)
            .map_err(|e| e.to_string())
    }

    fn imm8(&mut self, code: Code) -> u32 {
        use Mnemonic as M;
        match code.mnemonic() {
            m if is_shift(m) => self.count(),
            M::Aam | M::Aad if self.rng.one_in(2) => self.rng.pick(&[0, 10, 16]),
            _ => self.rng.value() & 0xFF,
        }
    }

    /// A shift or rotate count: mostly around the operand widths, sometimes any byte.
    fn count(&mut self) -> u32 {
        if self.rng.one_in(4) {
            self.rng.below(256)
        } else {
            self.rng.below(34)
        }
    }

    /// A memory operand whose effective address lands on a random target in the buffer.
    fn memory_operand(&mut self, i: u32, absolute: bool) -> Result<(), String> {
        self.set_kind(i, OpKind::Memory)?;
        let size = (self.ins.memory_size().size() as u32).max(1);
        // BT/BTS/BTR/BTC address bits beyond the operand through their register offset.
        if self.ins.op_count() > 1 && self.ins.op1_kind() == OpKind::Register && bit_test(&self.ins)
        {
            return self.bit_test_operand(size);
        }
        let mut target = SCRATCH_ADDR + 16 + self.rng.below(SCRATCH_SIZE as u32 - 32 - size);
        if size.is_power_of_two() && self.rng.one_in(2) {
            target &= !(size - 1);
        }
        self.address(target, absolute);
        Ok(())
    }

    /// Picks an addressing shape and the register values that make it address `target`.
    fn address(&mut self, target: u32, absolute: bool) {
        let free: Vec<usize> = (0..8).filter(|&r| !self.pinned[r]).collect();
        let base = if absolute || free.is_empty() || self.rng.one_in(6) {
            None
        } else {
            Some(self.rng.pick(&free))
        };
        let indexes: Vec<usize> = free
            .iter()
            .copied()
            .filter(|&r| r != ESP && Some(r) != base)
            .collect();
        let index = if absolute || indexes.is_empty() || self.rng.one_in(2) {
            None
        } else {
            Some(self.rng.pick(&indexes))
        };
        let scale = self.rng.pick(&[1u32, 2, 4, 8]);
        let mut offset = target;
        if let Some(index) = index {
            let value = self.rng.value();
            self.pin(index, value);
            offset = offset.wrapping_sub(value.wrapping_mul(scale));
            self.ins.set_memory_index(Register::EAX + index as u32);
            self.ins.set_memory_index_scale(scale);
        }
        let (displacement, displ_size) = match base {
            None => (offset, 4),
            Some(base) => {
                let (displacement, size) = match self.rng.below(3) {
                    0 => (0, 0),
                    1 => (self.rng.below(256) as i8 as u32, 1),
                    _ => (self.rng.value(), 4),
                };
                self.pin(base, offset.wrapping_sub(displacement));
                self.ins.set_memory_base(Register::EAX + base as u32);
                (displacement, size)
            }
        };
        self.ins.set_memory_displacement32(displacement);
        self.ins.set_memory_displ_size(displ_size);
    }

    /// BTx mem, reg: the register's bit offset picks an operand anywhere in the buffer,
    /// above or below the effective address.
    fn bit_test_operand(&mut self, size: u32) -> Result<(), String> {
        let offset_register = self.ins.op1_register();
        let n = offset_register.number();
        self.pinned[n] = true;
        let target = 16 + self.rng.below(SCRATCH_SIZE as u32 - 32 - size);
        let slots = (SCRATCH_SIZE as u32 - size) / size;
        let lowest = -((target / size) as i32);
        let slot = lowest + self.rng.below(slots) as i32;
        let bits = 8 * size as i32;
        let bit_offset = slot * bits + self.rng.below(bits as u32) as i32;
        self.state.set_register(offset_register, bit_offset as u32);
        self.address(SCRATCH_ADDR + target, false);
        Ok(())
    }

    /// Operand values that reach the interesting paths more often than chance would.
    fn bias(&mut self, code: Code) {
        use Mnemonic as M;
        let ins = self.ins;
        let size = operand_size(&ins);
        match code.mnemonic() {
            // Shift counts in CL.
            m if is_shift(m) && !self.pinned[1] => {
                let count = self.count();
                self.state.set_register(Register::CL, count);
            }
            // A dividend whose quotient fits, half of the time.
            M::Div | M::Idiv if ins.op_count() == 1 && self.rng.one_in(2) => {
                let (low, high) = match size {
                    1 => (Register::AL, Register::AH),
                    2 => (Register::AX, Register::DX),
                    _ => (Register::EAX, Register::EDX),
                };
                let divisor_is_accumulator = ins.op0_kind() == OpKind::Register
                    && [0, 2].contains(&(ins.op0_register().full_register32().number()));
                if divisor_is_accumulator || self.pinned[high.full_register32().number()] {
                    return;
                }
                let mask = u32::MAX >> (32 - 8 * size);
                let divisor = self.state.operand(&ins, 0).unwrap_or(0) & mask;
                let high_value = if code.mnemonic() == M::Div {
                    self.rng.below(divisor)
                } else {
                    let sign = (self.state.register(low) >> (8 * size - 1)) & 1;
                    sign.wrapping_neg() & mask
                };
                self.state.set_register(high, high_value);
            }
            // An accumulator equal to the destination, half of the time.
            M::Cmpxchg if self.rng.one_in(2) => {
                let accumulator = self.state.regs[0];
                match ins.op0_kind() {
                    OpKind::Register => self.state.set_register(ins.op0_register(), accumulator),
                    _ => {
                        let offset = self.state.memory_offset(&ins);
                        self.state.set_memory_at(offset, size as usize, accumulator);
                    }
                }
            }
            M::Cmpxchg8b if self.rng.one_in(2) => {
                let offset = self.state.memory_offset(&ins);
                let (eax, edx) = (self.state.regs[0], self.state.regs[2]);
                self.state.set_memory_at(offset, 4, eax);
                self.state.set_memory_at(offset.wrapping_add(4), 4, edx);
            }
            // A value the Pentium III accepts, or one with a bit no processor implements: the
            // bits in between, DAZ (6) and AMD's MM (17), #GP on the P3 but not on every host.
            M::Ldmxcsr => {
                let value = self.rng.value();
                let value = if self.rng.one_in(2) {
                    value & oxbox::cpu::fpu::mxcsr::WRITABLE
                } else {
                    value | 1 << (18 + self.rng.below(14))
                };
                let offset = self.state.memory_offset(&ins);
                self.state.set_memory_at(offset, 4, value);
            }
            // Long runs of equal elements for REPE CMPS/SCAS.
            M::Cmpsb | M::Cmpsw | M::Cmpsd | M::Scasb | M::Scasw | M::Scasd
                if self.rng.one_in(2) =>
            {
                let byte = self.rng.below(256) as u8;
                self.state.memory = [byte; SCRATCH_SIZE];
                self.state.regs[0] = u32::from_le_bytes([byte; 4]);
            }
            _ => {}
        }
    }
}

fn bit_test(ins: &Instruction) -> bool {
    matches!(
        ins.mnemonic(),
        Mnemonic::Bt | Mnemonic::Bts | Mnemonic::Btr | Mnemonic::Btc
    )
}

/// The size in bytes of operand 0 (1, 2 or 4).
pub fn operand_size(ins: &Instruction) -> u32 {
    let bytes = match ins.op0_kind() {
        OpKind::Register => ins.op0_register().size(),
        OpKind::Memory => ins.memory_size().size(),
        _ => 4,
    };
    bytes.clamp(1, 4) as u32
}

/// Shifts, rotates and double shifts: their counts are biased to the interesting values.
fn is_shift(m: Mnemonic) -> bool {
    use Mnemonic as M;
    matches!(
        m,
        M::Shl | M::Sal | M::Shr | M::Sar | M::Rol | M::Ror | M::Rcl | M::Rcr | M::Shld | M::Shrd
    )
}
