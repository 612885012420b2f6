//! System instructions: I/O, interrupt flag, HLT, descriptor tables, control and debug
//! registers, CPUID, time stamp, MSRs, SYSENTER/SYSEXIT, protection queries.

use crate::cpu::bus::Bus;
use crate::cpu::fault::{Fault, Result};
use crate::cpu::mmu::Access;
use crate::cpu::segment::{decode_descriptor, selector_code};
use crate::cpu::state::{Seg, Segment, TableReg, attr, cr0, cr4, flag, reg};
use crate::cpu::{Cpu, SIGNATURE};
use iced_x86::{Instruction, Mnemonic as M, OpKind, Register};

pub fn handles(m: M) -> bool {
    matches!(
        m,
        M::In
            | M::Out
            | M::Cli
            | M::Sti
            | M::Hlt
            | M::Lgdt
            | M::Lidt
            | M::Sgdt
            | M::Sidt
            | M::Lldt
            | M::Sldt
            | M::Ltr
            | M::Str
            | M::Lmsw
            | M::Smsw
            | M::Clts
            | M::Invlpg
            | M::Invd
            | M::Wbinvd
            | M::Cpuid
            | M::Rdtsc
            | M::Rdmsr
            | M::Wrmsr
            | M::Rdpmc
            | M::Ud2
            | M::Ud1
            | M::Ud0
            | M::Lar
            | M::Lsl
            | M::Verr
            | M::Verw
            | M::Arpl
            | M::Sysenter
            | M::Sysexit
            | M::Rsm
    )
}

/// CPUID leaf 1 EDX of the Xbox CPU: FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE
/// MCA CMOV PAT PSE36 MMX FXSR SSE.
const FEATURES: u32 = 0x0383_FBFF;

/// MSR numbers.
mod msr {
    pub const TSC: u32 = 0x10;
    pub const APIC_BASE: u32 = 0x1B;
    pub const MTRR_CAP: u32 = 0xFE;
    pub const SYSENTER_CS: u32 = 0x174;
    pub const SYSENTER_ESP: u32 = 0x175;
    pub const SYSENTER_EIP: u32 = 0x176;
    pub const MTRR_VARIABLE: u32 = 0x200;
    pub const MTRR_FIX64K: u32 = 0x250;
    pub const MTRR_FIX16K: u32 = 0x258;
    pub const MTRR_FIX4K: u32 = 0x268;
    pub const PAT: u32 = 0x277;
    pub const MTRR_DEF_TYPE: u32 = 0x2FF;
}

impl Cpu {
    pub(super) fn execute_system(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        match ins.mnemonic() {
            M::In => {
                let size = ins.op0_register().size();
                let port = self.read_operand(bus, ins, 1)? as u16;
                self.check_io(bus, port, size)?;
                let value = self.port_in(bus, port, size);
                self.set_reg(ins.op0_register(), value);
                Ok(())
            }
            M::Out => {
                let size = ins.op1_register().size();
                let port = self.read_operand(bus, ins, 0)? as u16;
                self.check_io(bus, port, size)?;
                let value = self.reg(ins.op1_register());
                self.port_out(bus, port, size, value);
                Ok(())
            }
            M::Cli | M::Sti => {
                if self.protected_mode() && self.cpl > self.iopl()
                    || self.v86_mode() && self.iopl() < 3
                {
                    return Err(Fault::gp(0));
                }
                if ins.mnemonic() == M::Cli {
                    self.eflags &= !flag::IF;
                } else if self.eflags & flag::IF == 0 {
                    self.eflags |= flag::IF;
                    // STI enables interrupts after the next instruction.
                    self.hold_interrupts();
                }
                Ok(())
            }
            M::Hlt => {
                self.require_ring0()?;
                self.halted = true;
                Ok(())
            }
            M::Lgdt | M::Lidt => {
                self.require_ring0()?;
                let limit = self.read_memory_at(bus, ins, 0, 2)? as u16;
                let mut base = self.read_memory_at(bus, ins, 2, 4)?;
                if ins.code() == iced_x86::Code::Lgdt_m1632_16
                    || ins.code() == iced_x86::Code::Lidt_m1632_16
                {
                    base &= 0x00FF_FFFF;
                }
                let table = TableReg { base, limit };
                if ins.mnemonic() == M::Lgdt {
                    self.gdtr = table;
                } else {
                    self.idtr = table;
                }
                Ok(())
            }
            M::Sgdt | M::Sidt => {
                let table = if ins.mnemonic() == M::Sgdt {
                    self.gdtr
                } else {
                    self.idtr
                };
                self.write_memory_at(bus, ins, 0, 2, u32::from(table.limit))?;
                self.write_memory_at(bus, ins, 2, 4, table.base)
            }
            M::Sldt | M::Str => {
                self.require_protected()?;
                let selector = if ins.mnemonic() == M::Sldt {
                    self.ldtr.selector
                } else {
                    self.tr.selector
                };
                // A register destination receives the selector zero-extended.
                let value = u32::from(selector);
                if ins.op0_kind() == OpKind::Memory {
                    self.write_memory_at(bus, ins, 0, 2, value)
                } else {
                    self.write_operand(bus, ins, 0, value)
                }
            }
            M::Lldt => {
                self.require_protected()?;
                self.require_ring0()?;
                let selector = self.read_operand(bus, ins, 0)? as u16;
                self.load_ldt(bus, selector)
            }
            M::Ltr => {
                self.require_protected()?;
                self.require_ring0()?;
                let selector = self.read_operand(bus, ins, 0)? as u16;
                self.load_task_register(bus, selector)
            }
            M::Lmsw => {
                self.require_ring0()?;
                let value = self.read_operand(bus, ins, 0)?;
                // LMSW sets PE but cannot clear it, and touches only MP, EM and TS besides.
                let keep = self.cr0 & cr0::PE;
                self.cr0 = (self.cr0 & !0xF) | (value & 0xF) | keep;
                Ok(())
            }
            M::Smsw => {
                let value = self.cr0 & 0xFFFF;
                if ins.op0_kind() == OpKind::Memory {
                    self.write_memory_at(bus, ins, 0, 2, value)
                } else {
                    let value = if ins.op0_register().size() == 4 {
                        self.cr0
                    } else {
                        value
                    };
                    self.write_operand(bus, ins, 0, value)
                }
            }
            M::Clts => {
                self.require_ring0()?;
                self.cr0 &= !cr0::TS;
                Ok(())
            }
            M::Invlpg => {
                self.require_ring0()?;
                let linear = self.seg[Cpu::memory_segment(ins) as usize]
                    .base
                    .wrapping_add(self.effective_address(ins));
                self.tlb.invalidate(linear);
                Ok(())
            }
            M::Invd | M::Wbinvd => self.require_ring0(),
            M::Cpuid => {
                self.cpuid();
                Ok(())
            }
            M::Rdtsc => {
                if self.cr4 & cr4::TSD != 0 && self.cpl > 0 && self.protected_mode() {
                    return Err(Fault::gp(0));
                }
                let tsc = self.tsc();
                self.regs[reg::EAX] = tsc as u32;
                self.regs[reg::EDX] = (tsc >> 32) as u32;
                Ok(())
            }
            M::Rdpmc => {
                if self.cr4 & cr4::PCE == 0 && self.cpl > 0 && self.protected_mode()
                    || self.regs[reg::ECX] > 1
                {
                    return Err(Fault::gp(0));
                }
                // The performance counters are not modelled: they read as zero.
                self.regs[reg::EAX] = 0;
                self.regs[reg::EDX] = 0;
                Ok(())
            }
            M::Rdmsr => {
                self.require_ring0()?;
                let value = self.read_msr(self.regs[reg::ECX])?;
                self.regs[reg::EAX] = value as u32;
                self.regs[reg::EDX] = (value >> 32) as u32;
                Ok(())
            }
            M::Wrmsr => {
                self.require_ring0()?;
                let value = u64::from(self.regs[reg::EDX]) << 32 | u64::from(self.regs[reg::EAX]);
                self.write_msr(self.regs[reg::ECX], value)
            }
            M::Lar | M::Lsl => self.access_query(bus, ins),
            M::Verr | M::Verw => {
                self.require_protected()?;
                let selector = self.read_operand(bus, ins, 0)? as u16;
                let ok = self.verify(bus, selector, ins.mnemonic() == M::Verw)?;
                self.eflags = if ok {
                    self.eflags | flag::ZF
                } else {
                    self.eflags & !flag::ZF
                };
                Ok(())
            }
            M::Arpl => {
                self.require_protected()?;
                let destination = self.read_operand(bus, ins, 0)?;
                let source = self.read_operand(bus, ins, 1)?;
                if destination & 3 < source & 3 {
                    self.write_operand(bus, ins, 0, (destination & !3) | (source & 3))?;
                    self.eflags |= flag::ZF;
                } else {
                    self.eflags &= !flag::ZF;
                }
                Ok(())
            }
            M::Sysenter => self.sysenter(),
            M::Sysexit => self.sysexit(),
            _ => Err(Fault::ud()),
        }
    }

    fn require_ring0(&self) -> Result<()> {
        if (self.protected_mode() && self.cpl > 0) || self.v86_mode() {
            Err(Fault::gp(0))
        } else {
            Ok(())
        }
    }

    fn require_protected(&self) -> Result<()> {
        if !self.protected_mode() || self.v86_mode() {
            Err(Fault::ud())
        } else {
            Ok(())
        }
    }

    /// The I/O permission check: above IOPL (or in virtual-8086 mode) every byte of the access
    /// must be allowed by the TSS's I/O bitmap.
    pub(crate) fn check_io(&mut self, bus: &mut dyn Bus, port: u16, size: usize) -> Result<()> {
        if !self.protected_mode() || (!self.v86_mode() && self.cpl <= self.iopl()) {
            return Ok(());
        }
        if self.tr.limit < 0x67 {
            return Err(Fault::gp(0));
        }
        let map = self.linear_read(bus, self.tr.base.wrapping_add(0x66), 2, Access::Read, false)?;
        let byte = map + u32::from(port / 8);
        if byte + 1 > self.tr.limit {
            return Err(Fault::gp(0));
        }
        let bits =
            self.linear_read(bus, self.tr.base.wrapping_add(byte), 2, Access::Read, false)?;
        let wanted = ((1u32 << size) - 1) << (port % 8);
        if bits & wanted != 0 {
            Err(Fault::gp(0))
        } else {
            Ok(())
        }
    }

    /// MOV to or from a control or debug register.
    pub(crate) fn mov_control(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        self.require_ring0()?;
        let (destination, source) = (ins.op0_register(), ins.op1_register());
        if source.is_cr() || source.is_dr() {
            let value = match source {
                Register::CR0 => self.cr0,
                Register::CR2 => self.cr2,
                Register::CR3 => self.cr3,
                Register::CR4 => self.cr4,
                r if r.is_dr() => self.debug_register(r.number())?,
                _ => return Err(Fault::ud()),
            };
            self.set_reg(destination, value);
            return Ok(());
        }
        let value = self.reg(source);
        match destination {
            Register::CR0 => {
                self.set_cr0(value)?;
                self.load_pdptes(bus);
                Ok(())
            }
            Register::CR2 => {
                self.cr2 = value;
                Ok(())
            }
            Register::CR3 => {
                self.cr3 = value & 0xFFFF_FFF8;
                self.tlb.flush(true);
                self.load_pdptes(bus);
                Ok(())
            }
            Register::CR4 => {
                if value & !cr4::VALID != 0 {
                    return Err(Fault::gp(0));
                }
                if (value ^ self.cr4) & (cr4::PSE | cr4::PGE | cr4::PAE) != 0 {
                    self.tlb.flush(false);
                }
                self.cr4 = value;
                self.load_pdptes(bus);
                Ok(())
            }
            r if r.is_dr() => {
                let n = r.number();
                if n == 4 || n == 5 {
                    self.check_debug_alias()?;
                }
                match n {
                    0..=3 => self.dr[n] = value,
                    4 | 6 => self.dr[6] = value | 0xFFFF_0FF0,
                    5 | 7 => self.dr[7] = (value | 0x400) & !0x0000_D000,
                    _ => return Err(Fault::ud()),
                }
                Ok(())
            }
            _ => Err(Fault::ud()),
        }
    }

    fn debug_register(&self, n: usize) -> Result<u32> {
        match n {
            0..=3 => Ok(self.dr[n]),
            4 | 5 => self.check_debug_alias().map(|_| self.dr[n + 2]),
            6 | 7 => Ok(self.dr[n]),
            _ => Err(Fault::ud()),
        }
    }

    /// DR4 and DR5 alias DR6 and DR7 unless CR4.DE makes them #UD.
    fn check_debug_alias(&self) -> Result<()> {
        if self.cr4 & cr4::DE != 0 {
            Err(Fault::ud())
        } else {
            Ok(())
        }
    }

    fn set_cr0(&mut self, value: u32) -> Result<()> {
        if (value & cr0::PG != 0 && value & cr0::PE == 0)
            || (value & cr0::NW != 0 && value & cr0::CD == 0)
        {
            return Err(Fault::gp(0));
        }
        if (value ^ self.cr0) & (cr0::PG | cr0::WP | cr0::PE) != 0 {
            self.tlb.flush(false);
        }
        // ET is hardwired to 1 on the P6.
        self.cr0 = value | cr0::ET;
        Ok(())
    }

    fn cpuid(&mut self) {
        let leaf = self.regs[reg::EAX];
        let [a, b, c, d] = match leaf {
            0 => [2, 0x756E_6547, 0x6C65_746E, 0x4965_6E69], // "GenuineIntel"
            1 => [SIGNATURE, 0, 0, FEATURES],
            // Cache and TLB descriptors of the Xbox CPU (128 KiB L2).
            2 => [0x0302_0101, 0, 0, 0x0C04_0841],
            // Leaves above the maximum return the highest basic leaf, as Intel CPUs do.
            _ => [0x0302_0101, 0, 0, 0x0C04_0841],
        };
        self.regs[reg::EAX] = a;
        self.regs[reg::EBX] = b;
        self.regs[reg::ECX] = c;
        self.regs[reg::EDX] = d;
    }

    fn read_msr(&self, index: u32) -> Result<u64> {
        let msr = &self.msr;
        Ok(match index {
            msr::TSC => self.tsc(),
            msr::APIC_BASE => msr.apic_base,
            msr::MTRR_CAP => 0x508,
            msr::SYSENTER_CS => u64::from(msr.sysenter_cs),
            msr::SYSENTER_ESP => u64::from(msr.sysenter_esp),
            msr::SYSENTER_EIP => u64::from(msr.sysenter_eip),
            msr::PAT => msr.pat,
            msr::MTRR_DEF_TYPE => msr.mtrr_def_type,
            i if (msr::MTRR_VARIABLE..msr::MTRR_VARIABLE + 16).contains(&i) => {
                msr.mtrr_variable[(i - msr::MTRR_VARIABLE) as usize]
            }
            i => msr.mtrr_fixed[fixed_mtrr(i).ok_or(Fault::gp(0))?],
        })
    }

    fn write_msr(&mut self, index: u32, value: u64) -> Result<()> {
        let msr = &mut self.msr;
        match index {
            // A P6 writes the low half of the counter and clears the high half.
            msr::TSC => msr.tsc_offset = (value & 0xFFFF_FFFF).wrapping_sub(self.cycles),
            msr::APIC_BASE => msr.apic_base = value,
            msr::SYSENTER_CS => msr.sysenter_cs = value as u32,
            msr::SYSENTER_ESP => msr.sysenter_esp = value as u32,
            msr::SYSENTER_EIP => msr.sysenter_eip = value as u32,
            msr::PAT => msr.pat = value,
            msr::MTRR_DEF_TYPE => msr.mtrr_def_type = value,
            i if (msr::MTRR_VARIABLE..msr::MTRR_VARIABLE + 16).contains(&i) => {
                msr.mtrr_variable[(i - msr::MTRR_VARIABLE) as usize] = value;
            }
            i => msr.mtrr_fixed[fixed_mtrr(i).ok_or(Fault::gp(0))?] = value,
        }
        Ok(())
    }

    fn load_ldt(&mut self, bus: &mut dyn Bus, selector: u16) -> Result<()> {
        if selector & 0xFFFC == 0 {
            self.ldtr = Segment {
                selector,
                ..Segment::default()
            };
            return Ok(());
        }
        if selector & 4 != 0 {
            return Err(Fault::gp(selector_code(selector)));
        }
        let raw = self.read_descriptor(bus, selector, Fault::gp)?;
        let segment = decode_descriptor(selector, raw);
        if segment.attrs & 0x1F != 0x02 {
            return Err(Fault::gp(selector_code(selector)));
        }
        if segment.attrs & attr::PRESENT == 0 {
            return Err(Fault::np(selector_code(selector)));
        }
        self.ldtr = segment;
        Ok(())
    }

    fn load_task_register(&mut self, bus: &mut dyn Bus, selector: u16) -> Result<()> {
        if selector & 0xFFFC == 0 || selector & 4 != 0 {
            return Err(Fault::gp(selector_code(selector)));
        }
        let raw = self.read_descriptor(bus, selector, Fault::gp)?;
        let segment = decode_descriptor(selector, raw);
        // An available TSS (16- or 32-bit) becomes busy.
        if !matches!(segment.attrs & 0x1F, 0x01 | 0x09) {
            return Err(Fault::gp(selector_code(selector)));
        }
        if segment.attrs & attr::PRESENT == 0 {
            return Err(Fault::np(selector_code(selector)));
        }
        let address = self
            .gdtr
            .base
            .wrapping_add(u32::from(selector & 0xFFF8) + 5);
        let access = (segment.attrs & 0xFF) as u32 | 0x02;
        self.linear_write(bus, address, 1, access, false)?;
        self.tr = Segment {
            attrs: segment.attrs | 0x02,
            ..segment
        };
        Ok(())
    }

    /// LAR and LSL: the access rights or limit of a descriptor the current privilege may see.
    fn access_query(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<()> {
        self.require_protected()?;
        let selector = self.read_operand(bus, ins, 1)? as u16;
        let visible = self.visible_descriptor(bus, selector, ins.mnemonic() == M::Lar)?;
        let Some(raw) = visible else {
            self.eflags &= !flag::ZF;
            return Ok(());
        };
        let value = if ins.mnemonic() == M::Lar {
            (raw >> 32) as u32 & 0x00F0_FF00
        } else {
            decode_descriptor(selector, raw).limit
        };
        self.set_reg(ins.op0_register(), value);
        self.eflags |= flag::ZF;
        Ok(())
    }

    /// The descriptor for LAR/LSL if its type is valid for the query and its DPL allows it.
    fn visible_descriptor(
        &mut self,
        bus: &mut dyn Bus,
        selector: u16,
        lar: bool,
    ) -> Result<Option<u64>> {
        if selector & 0xFFFC == 0 {
            return Ok(None);
        }
        let Ok(raw) = self.read_descriptor(bus, selector, Fault::gp) else {
            return Ok(None);
        };
        let segment = decode_descriptor(selector, raw);
        let system_type = segment.attrs & 0x1F;
        if segment.attrs & attr::S == 0 {
            // TSSs and LDTs for both; call and task gates for LAR only.
            let valid = matches!(system_type, 0x01 | 0x02 | 0x03 | 0x09 | 0x0B)
                || (lar && matches!(system_type, 0x04 | 0x05 | 0x0C));
            if !valid {
                return Ok(None);
            }
        }
        let conforming =
            segment.attrs & (attr::S | attr::CODE | attr::DC) == attr::S | attr::CODE | attr::DC;
        let rpl = (selector & 3) as u8;
        if !conforming && segment.dpl() < self.cpl.max(rpl) {
            return Ok(None);
        }
        Ok(Some(raw))
    }

    /// VERR/VERW: whether the segment is readable/writable at the current privilege.
    fn verify(&mut self, bus: &mut dyn Bus, selector: u16, write: bool) -> Result<bool> {
        if selector & 0xFFFC == 0 {
            return Ok(false);
        }
        let Ok(raw) = self.read_descriptor(bus, selector, Fault::gp) else {
            return Ok(false);
        };
        let segment = decode_descriptor(selector, raw);
        if segment.attrs & attr::S == 0 {
            return Ok(false);
        }
        let code = segment.attrs & attr::CODE != 0;
        let conforming = code && segment.attrs & attr::DC != 0;
        let rpl = (selector & 3) as u8;
        if !conforming && segment.dpl() < self.cpl.max(rpl) {
            return Ok(false);
        }
        Ok(if write {
            !code && segment.attrs & attr::RW != 0
        } else {
            !code || segment.attrs & attr::RW != 0
        })
    }

    /// SYSENTER: to ring 0 at SYSENTER_CS:SYSENTER_EIP with flat segments.
    fn sysenter(&mut self) -> Result<()> {
        if !self.protected_mode() || self.msr.sysenter_cs & 0xFFFC == 0 {
            return Err(Fault::gp(0));
        }
        self.eflags &= !(flag::VM | flag::IF | flag::RF);
        let cs = (self.msr.sysenter_cs & 0xFFFC) as u16;
        self.seg[Seg::Cs as usize] = flat(cs, 0, attr::CODE | attr::RW);
        self.seg[Seg::Ss as usize] = flat(cs + 8, 0, attr::RW);
        self.cpl = 0;
        self.regs[reg::ESP] = self.msr.sysenter_esp;
        self.eip = self.msr.sysenter_eip;
        Ok(())
    }

    /// SYSEXIT: to ring 3 at SYSENTER_CS+16:EDX with stack SYSENTER_CS+24:ECX.
    fn sysexit(&mut self) -> Result<()> {
        if !self.protected_mode() || self.msr.sysenter_cs & 0xFFFC == 0 || self.cpl != 0 {
            return Err(Fault::gp(0));
        }
        let cs = (self.msr.sysenter_cs & 0xFFFC) as u16;
        self.seg[Seg::Cs as usize] = flat(cs + 16 + 3, 3, attr::CODE | attr::RW);
        self.seg[Seg::Ss as usize] = flat(cs + 24 + 3, 3, attr::RW);
        self.cpl = 3;
        self.regs[reg::ESP] = self.regs[reg::ECX];
        self.eip = self.regs[reg::EDX];
        Ok(())
    }
}

/// A flat 4 GiB 32-bit segment of the given privilege and type bits.
fn flat(selector: u16, dpl: u16, kind: u16) -> Segment {
    Segment {
        selector,
        base: 0,
        limit: 0xFFFF_FFFF,
        attrs: attr::PRESENT
            | attr::S
            | attr::ACCESSED
            | attr::DB
            | attr::G
            | dpl << attr::DPL_SHIFT
            | kind,
    }
}

/// The index into `Msrs::mtrr_fixed` of a fixed-range MTRR number.
fn fixed_mtrr(index: u32) -> Option<usize> {
    match index {
        msr::MTRR_FIX64K => Some(0),
        msr::MTRR_FIX16K | 0x259 => Some(1 + (index - msr::MTRR_FIX16K) as usize),
        msr::MTRR_FIX4K..=0x26F => Some(3 + (index - msr::MTRR_FIX4K) as usize),
        _ => None,
    }
}
