//! Instruction execution: one handler per instruction group, dispatched on the mnemonic.
//!
//! Handlers perform every access that can fault before they change any register, so a fault
//! leaves the instruction restartable; `Cpu::step` puts EIP back on the faulting instruction.

mod control;
mod data;
mod integer;
mod operand;
mod sse;
mod string;
mod system;
mod x87;

use super::Cpu;
use super::bus::Bus;
use super::fault::{Fault, Result};
use super::state::flag;
use iced_x86::{ConditionCode, Instruction, Mnemonic};

/// Whether condition `cc` holds for `flags` (Jcc, SETcc, CMOVcc).
pub fn condition(cc: ConditionCode, flags: u32) -> bool {
    let set = |f| flags & f != 0;
    let less = set(flag::SF) != set(flag::OF);
    match cc {
        ConditionCode::o => set(flag::OF),
        ConditionCode::no => !set(flag::OF),
        ConditionCode::b => set(flag::CF),
        ConditionCode::ae => !set(flag::CF),
        ConditionCode::e => set(flag::ZF),
        ConditionCode::ne => !set(flag::ZF),
        ConditionCode::be => set(flag::CF) || set(flag::ZF),
        ConditionCode::a => !set(flag::CF) && !set(flag::ZF),
        ConditionCode::s => set(flag::SF),
        ConditionCode::ns => !set(flag::SF),
        ConditionCode::p => set(flag::PF),
        ConditionCode::np => !set(flag::PF),
        ConditionCode::l => less,
        ConditionCode::ge => !less,
        ConditionCode::le => less || set(flag::ZF),
        ConditionCode::g => !less && !set(flag::ZF),
        ConditionCode::None => true,
    }
}

impl Cpu {
    /// Executes `ins` with EIP already past it.
    pub(super) fn execute(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        let next = self.eip.wrapping_add(ins.len() as u32);
        self.eip = if self.code32() { next } else { next & 0xFFFF };
        if ins.has_lock_prefix() && !lockable(ins) {
            return Err(Fault::ud());
        }
        use Mnemonic as M;
        match ins.mnemonic() {
            // 0F 0D is AMD's prefetch opcode, #UD here; the hint space 0F 18..0F 1F is NOP.
            M::Reservednop
                if matches!(
                    ins.code(),
                    iced_x86::Code::Reservednop_rm16_r16_0F0D
                        | iced_x86::Code::Reservednop_rm32_r32_0F0D
                ) =>
            {
                Err(Fault::ud())
            }
            M::Nop
            | M::Reservednop
            | M::Endbr32
            | M::Endbr64
            | M::Pause
            | M::Prefetchnta
            | M::Prefetcht0
            | M::Prefetcht1
            | M::Prefetcht2
            | M::Sfence => Ok(()),
            m if data::handles(m) => self.execute_data(bus, ins),
            m if control::handles(m) => self.execute_control(bus, ins),
            m if string::handles(m) => self.execute_string(bus, ins),
            m if system::handles(m) => self.execute_system(bus, ins),
            m if integer::handles(m) => self.execute_integer(bus, ins),
            m if x87::handles(m) => self.execute_x87(bus, ins),
            m if sse::handles(m) => self.execute_sse(bus, ins),
            _ => Err(Fault::ud()),
        }
    }
}

/// LOCK is allowed only on read-modify-write instructions with a memory destination.
fn lockable(ins: &Instruction) -> bool {
    use Mnemonic as M;
    ins.op0_kind() == iced_x86::OpKind::Memory
        && matches!(
            ins.mnemonic(),
            M::Add
                | M::Adc
                | M::And
                | M::Btc
                | M::Btr
                | M::Bts
                | M::Cmpxchg
                | M::Cmpxchg8b
                | M::Dec
                | M::Inc
                | M::Neg
                | M::Not
                | M::Or
                | M::Sbb
                | M::Sub
                | M::Xor
                | M::Xadd
                | M::Xchg
        )
}
