//! The processor's part of a save state: every architectural register, the MSRs, the clock,
//! and the TLB. Decoded code is not saved (it is a cache of memory, rebuilt on demand).

use super::Cpu;
use super::state::{Segment, TableReg};
use crate::machine::state::{Snapshot, State};

fn segment(s: &mut State, seg: &mut Segment) {
    s.u16(&mut seg.selector);
    s.u32(&mut seg.base);
    s.u32(&mut seg.limit);
    s.u16(&mut seg.attrs);
}

fn table(s: &mut State, t: &mut TableReg) {
    s.u32(&mut t.base);
    s.u16(&mut t.limit);
}

impl Snapshot for Cpu {
    fn state(&mut self, s: &mut State) {
        s.u32s(&mut self.regs);
        s.u32(&mut self.eip);
        s.u32(&mut self.eflags);
        for seg in &mut self.seg {
            segment(s, seg);
        }
        segment(s, &mut self.ldtr);
        segment(s, &mut self.tr);
        table(s, &mut self.gdtr);
        table(s, &mut self.idtr);
        for cr in [&mut self.cr0, &mut self.cr2, &mut self.cr3, &mut self.cr4] {
            s.u32(cr);
        }
        s.u32s(&mut self.dr);
        let fpu = &mut self.fpu;
        for r in &mut fpu.regs {
            s.u16(&mut r.sign_exp);
            s.u64(&mut r.mantissa);
        }
        for v in [
            &mut fpu.control,
            &mut fpu.status,
            &mut fpu.tags,
            &mut fpu.opcode,
        ] {
            s.u16(v);
        }
        s.u32(&mut fpu.ip);
        s.u16(&mut fpu.cs);
        s.u32(&mut fpu.dp);
        s.u16(&mut fpu.ds);
        for x in &mut fpu.xmm {
            s.u32s(x);
        }
        s.u32(&mut fpu.mxcsr);
        s.u8(&mut self.cpl);
        self.cpl &= 3;
        let m = &mut self.msr;
        s.u32(&mut m.sysenter_cs);
        s.u32(&mut m.sysenter_esp);
        s.u32(&mut m.sysenter_eip);
        s.u64(&mut m.apic_base);
        s.u64(&mut m.pat);
        s.u64s(&mut m.mtrr_fixed);
        s.u64s(&mut m.mtrr_variable);
        s.u64(&mut m.mtrr_def_type);
        s.u64(&mut m.tsc_offset);
        s.u64(&mut self.cycles);
        s.u64(&mut self.instructions);
        s.bool(&mut self.halted);
        s.bool(&mut self.interrupt_shadow);
        s.u64s(&mut self.pdpte);
        self.tlb.state(s);
        if s.is_loading() {
            self.code.clear();
        }
    }
}
