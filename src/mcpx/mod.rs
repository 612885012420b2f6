//! The MCPX southbridge and the devices behind it: interrupt controllers, timers, the RTC,
//! the ACPI block, the SMBus and its devices, the SuperIO, and the MCPX boot ROM's
//! high-level stand-in.
//!
//! Every device here follows the same shape, so the board (`machine::board`) can wire them
//! all alike:
//! - registers are reached through `read(now, offset, size)` / `write(now, offset, size,
//!   value)`, where `now` is the emulated time in CPU cycles and `offset` is relative to the
//!   device's base port or address;
//! - a device that needs the clock says when through `next_event() -> Option<u64>` (a cycle
//!   time) and acts in `tick(now)`; the board keeps these times in its one event queue;
//! - interrupt outputs are levels the board reads after every access and tick;
//! - state is saved and loaded through [`crate::machine::state::Snapshot`].

pub mod acpi;
pub mod adm1032;
pub mod eeprom;
pub mod hle;
pub mod pci;
pub mod pic;
pub mod pit;
pub mod rtc;
pub mod smbus;
pub mod smc;
pub mod superio;
pub mod video_encoder;
pub mod xcode;
