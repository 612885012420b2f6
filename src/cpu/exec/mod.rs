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
            | M::Pause
            | M::Prefetchnta
            | M::Prefetcht0
            | M::Prefetcht1
            | M::Prefetcht2
            | M::Sfence => Ok(()),
            m => match group(m) {
                Group::Data => self.execute_data(bus, ins),
                Group::Control => self.execute_control(bus, ins),
                Group::String => self.execute_string(bus, ins),
                Group::System => self.execute_system(bus, ins),
                Group::Integer => self.execute_integer(bus, ins),
                Group::X87 => self.execute_x87(bus, ins),
                Group::Sse => self.execute_sse(bus, ins),
                Group::None => Err(Fault::ud()),
            },
        }
    }
}

/// The handler module of each mnemonic, looked up in a table built once so that dispatch
/// costs one load rather than a chain of membership tests.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    None,
    Data,
    Control,
    String,
    System,
    Integer,
    X87,
    Sse,
}

/// A handler module's test of whether it executes a mnemonic.
type Membership = fn(Mnemonic) -> bool;

fn group(m: Mnemonic) -> Group {
    static TABLE: std::sync::OnceLock<Vec<Group>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        Mnemonic::values()
            .map(|m| {
                let handlers: [(Membership, Group); 7] = [
                    (data::handles, Group::Data),
                    (control::handles, Group::Control),
                    (string::handles, Group::String),
                    (system::handles, Group::System),
                    (integer::handles, Group::Integer),
                    (x87::handles, Group::X87),
                    (sse::handles, Group::Sse),
                ];
                handlers
                    .iter()
                    .find(|(handles, _)| handles(m))
                    .map_or(Group::None, |h| h.1)
            })
            .collect()
    });
    table.get(m as usize).copied().unwrap_or(Group::None)
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
