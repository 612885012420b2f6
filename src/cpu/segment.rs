//! Segmentation: descriptors, segment-register loads with their protection checks, and memory
//! accesses by segment and offset.

use super::Cpu;
use super::bus::Bus;
use super::fault::{Fault, Result};
use super::mmu::Access;
use super::state::{Seg, Segment, attr, cr0, flag};

/// Error code for a selector-related fault: the selector without its RPL bits.
pub fn selector_code(selector: u16) -> u32 {
    u32::from(selector & 0xFFFC)
}

/// The descriptor-cache form of an 8-byte segment descriptor.
pub fn decode_descriptor(selector: u16, raw: u64) -> Segment {
    let base = ((raw >> 16) & 0xFF_FFFF) as u32 | (((raw >> 56) & 0xFF) as u32) << 24;
    let attrs = ((raw >> 40) & 0xF0FF) as u16;
    let mut limit = (raw & 0xFFFF) as u32 | (((raw >> 48) & 0xF) as u32) << 16;
    if attrs & attr::G != 0 {
        limit = (limit << 12) | 0xFFF;
    }
    Segment {
        selector,
        base,
        limit,
        attrs,
    }
}

impl Segment {
    fn is_code(&self) -> bool {
        self.attrs & (attr::S | attr::CODE) == attr::S | attr::CODE
    }

    fn is_data(&self) -> bool {
        self.attrs & (attr::S | attr::CODE) == attr::S
    }

    fn present(&self) -> bool {
        self.attrs & attr::PRESENT != 0
    }

    /// Whether `offset..offset + size` lies inside the segment's limit.
    pub fn contains(&self, offset: u32, size: usize) -> bool {
        let last = u64::from(offset) + size as u64 - 1;
        if self.is_data() && self.attrs & attr::DC != 0 {
            // Expand-down: valid offsets lie above the limit, up to 64 KiB or 4 GiB.
            let top = if self.big() { 0xFFFF_FFFF } else { 0xFFFF };
            u64::from(offset) > u64::from(self.limit) && last <= top
        } else {
            last <= u64::from(self.limit)
        }
    }
}

impl Cpu {
    /// The privilege checks of a user access: CPL 3 code is subject to user/supervisor paging.
    pub(crate) fn user(&self) -> bool {
        self.cpl == 3
    }

    /// The linear address of `seg:offset` for an access of `size` bytes, after the segment's
    /// type and limit checks.
    pub(crate) fn segment_address(
        &self,
        seg: Seg,
        offset: u32,
        size: usize,
        access: Access,
    ) -> Result<u32> {
        let segment = &self.seg[seg as usize];
        let fault = || {
            if seg == Seg::Ss {
                Fault::ss(0)
            } else {
                Fault::gp(0)
            }
        };
        if self.protected_mode() && !self.v86_mode() {
            if segment.selector & 0xFFFC == 0 && seg != Seg::Cs {
                return Err(fault());
            }
            let allowed = match access {
                Access::Write => segment.is_data() && segment.attrs & attr::RW != 0,
                Access::Read => segment.is_data() || segment.attrs & attr::RW != 0,
                Access::Execute => segment.is_code(),
            };
            if !allowed {
                return Err(fault());
            }
        }
        if !segment.contains(offset, size) {
            return Err(fault());
        }
        Ok(segment.base.wrapping_add(offset))
    }

    /// Reads `size` bytes at `seg:offset`.
    pub(crate) fn read(
        &mut self,
        bus: &mut dyn Bus,
        seg: Seg,
        offset: u32,
        size: usize,
    ) -> Result<u32> {
        let linear = self.segment_address(seg, offset, size, Access::Read)?;
        self.check_alignment(linear, size)?;
        self.linear_read(bus, linear, size, Access::Read, self.user())
    }

    /// Writes `size` bytes at `seg:offset`.
    pub(crate) fn write(
        &mut self,
        bus: &mut dyn Bus,
        seg: Seg,
        offset: u32,
        size: usize,
        value: u32,
    ) -> Result<()> {
        let linear = self.segment_address(seg, offset, size, Access::Write)?;
        self.check_alignment(linear, size)?;
        self.linear_write(bus, linear, size, value, self.user())
    }

    /// #AC for a misaligned data access at CPL 3 with CR0.AM and EFLAGS.AC both set.
    fn check_alignment(&self, linear: u32, size: usize) -> Result<()> {
        let checking = self.cpl == 3 && self.cr0 & cr0::AM != 0 && self.eflags & flag::AC != 0;
        if checking && !linear.is_multiple_of(size as u32) {
            return Err(Fault::ac());
        }
        Ok(())
    }

    /// Checks that an instruction at `eip` lies inside CS.
    pub(crate) fn check_fetch(&self, eip: u32) -> Result<()> {
        if self.seg[Seg::Cs as usize].contains(eip, 1) {
            Ok(())
        } else {
            Err(Fault::gp(0))
        }
    }

    /// Reads a descriptor from the GDT or LDT (by the selector's TI bit), as a supervisor.
    /// `fault` is the exception for a selector outside its table.
    pub(crate) fn read_descriptor(
        &mut self,
        bus: &mut dyn Bus,
        selector: u16,
        fault: fn(u32) -> Fault,
    ) -> Result<u64> {
        let (base, limit) = if selector & 4 != 0 {
            if self.ldtr.selector & 0xFFFC == 0 {
                return Err(fault(selector_code(selector)));
            }
            (self.ldtr.base, self.ldtr.limit)
        } else {
            (self.gdtr.base, u32::from(self.gdtr.limit))
        };
        let index = u32::from(selector & 0xFFF8);
        if index + 7 > limit {
            return Err(fault(selector_code(selector)));
        }
        let address = base.wrapping_add(index);
        let low = self.linear_read(bus, address, 4, Access::Read, false)?;
        let high = self.linear_read(bus, address.wrapping_add(4), 4, Access::Read, false)?;
        Ok(u64::from(low) | u64::from(high) << 32)
    }

    /// Sets a descriptor's accessed bit in memory, as loading it does.
    pub(crate) fn mark_accessed(
        &mut self,
        bus: &mut dyn Bus,
        selector: u16,
        raw: u64,
    ) -> Result<()> {
        if raw & (1 << 40) != 0 {
            return Ok(());
        }
        let base = if selector & 4 != 0 {
            self.ldtr.base
        } else {
            self.gdtr.base
        };
        let address = base.wrapping_add(u32::from(selector & 0xFFF8) + 5);
        let access = (raw >> 40) as u32 & 0xFF;
        self.linear_write(bus, address, 1, access | 1, false)
    }

    /// Loads a data or stack segment register (ES, SS, DS, FS, GS) with the checks of MOV,
    /// POP and LxS. CS is loaded only by control transfers.
    pub(crate) fn load_segment(
        &mut self,
        bus: &mut dyn Bus,
        seg: Seg,
        selector: u16,
    ) -> Result<()> {
        if self.v86_mode() {
            self.seg[seg as usize] = Segment {
                attrs: Segment::real(selector).attrs | 3 << attr::DPL_SHIFT,
                ..Segment::real(selector)
            };
            return Ok(());
        }
        if !self.protected_mode() {
            // Real mode changes selector and base only: a limit set in protected mode
            // survives ("unreal mode").
            let segment = &mut self.seg[seg as usize];
            segment.selector = selector;
            segment.base = u32::from(selector) << 4;
            return Ok(());
        }
        let rpl = (selector & 3) as u8;
        if selector & 0xFFFC == 0 {
            if seg == Seg::Ss {
                return Err(Fault::gp(0));
            }
            // A null selector loads fine; using it faults.
            self.seg[seg as usize] = Segment {
                selector,
                ..Segment::default()
            };
            return Ok(());
        }
        let raw = self.read_descriptor(bus, selector, Fault::gp)?;
        let segment = decode_descriptor(selector, raw);
        let code = selector_code(selector);
        if seg == Seg::Ss {
            let writable = segment.is_data() && segment.attrs & attr::RW != 0;
            if !writable || rpl != self.cpl || segment.dpl() != self.cpl {
                return Err(Fault::gp(code));
            }
            if !segment.present() {
                return Err(Fault::ss(code));
            }
        } else {
            let readable =
                segment.is_data() || (segment.is_code() && segment.attrs & attr::RW != 0);
            let conforming = segment.is_code() && segment.attrs & attr::DC != 0;
            if !readable || (!conforming && segment.dpl() < rpl.max(self.cpl)) {
                return Err(Fault::gp(code));
            }
            if !segment.present() {
                return Err(Fault::np(code));
            }
        }
        self.mark_accessed(bus, selector, raw)?;
        self.seg[seg as usize] = Segment {
            attrs: segment.attrs | attr::ACCESSED,
            ..segment
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_descriptors_decode() {
        // The usual flat 4 GiB ring-0 code and data descriptors.
        let code = decode_descriptor(8, 0x00CF_9A00_0000_FFFF);
        assert_eq!((code.base, code.limit), (0, 0xFFFF_FFFF));
        assert!(code.is_code() && code.big() && code.present() && code.dpl() == 0);
        let data = decode_descriptor(0x10, 0x00CF_F200_0000_FFFF);
        assert!(data.is_data() && data.dpl() == 3);
        let odd = decode_descriptor(0x18, 0x1240_9212_3456_0FFF);
        assert_eq!((odd.base, odd.limit), (0x1212_3456, 0x0_0FFF));
    }

    #[test]
    fn expand_down_limits() {
        let segment = Segment {
            limit: 0x0FFF,
            attrs: attr::PRESENT | attr::S | attr::RW | attr::DC,
            ..Segment::default()
        };
        assert!(!segment.contains(0x0FFF, 1));
        assert!(segment.contains(0x1000, 4));
        assert!(segment.contains(0xFFFC, 4));
        assert!(
            !segment.contains(0xFFFD, 4),
            "a 16-bit expand-down segment ends at 0xFFFF"
        );
    }
}
