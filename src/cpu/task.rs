//! Hardware task switching through task gates and TSS descriptors.

use super::Cpu;
use super::bus::Bus;
use super::fault::{Fault, Result};
use super::segment::selector_code;

impl Cpu {
    /// A task switch through an IDT task gate naming TSS `selector`.
    pub(crate) fn task_switch_gate(
        &mut self,
        bus: &mut dyn Bus,
        selector: u16,
        error_code: Option<u32>,
        external: u32,
    ) -> Result<()> {
        let _ = (bus, error_code);
        Err(Fault::ts(selector_code(selector) + external))
    }

    /// IRET with NT set: return to the task in the current TSS's back link.
    pub(crate) fn task_return(&mut self, bus: &mut dyn Bus) -> Result<()> {
        let _ = bus;
        Err(Fault::ts(selector_code(self.tr.selector)))
    }
}
