//! The NV2A as a whole, through its top level (`Nv2a`: BAR0 reads and writes, guest RAM,
//! `next_event`/`tick`, PMC's interrupt line and the scan-out picture) and on the whole
//! machine: the FIFO end to end, the timers in emulated time, scan-out of every mode, and
//! hostile input. The units' own tests live beside them in `src/nv2a`; these check that the
//! blocks work together as the documentation says (each module names its sources).

#[path = "nv2a/display.rs"]
mod display;
#[path = "nv2a/fifo.rs"]
mod fifo;
#[path = "nv2a/fuzz.rs"]
mod fuzz;
#[path = "board/harness.rs"]
mod harness;
#[path = "nv2a/rig.rs"]
mod rig;
#[path = "nv2a/timers.rs"]
mod timers;
