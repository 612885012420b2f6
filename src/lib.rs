//! Oxbox: an emulator of the original Microsoft Xbox, shipped as a libretro core.
//!
//! `machine` is the console and knows nothing of libretro; `libretro` adapts it to the
//! frontend; `render` presents its frames through OpenGL. See `docs/architecture.md`.

pub mod asm;
pub mod bootrom;
pub mod cpu;
pub mod cputest;
pub mod firmware;
pub mod frame;
pub mod input;
pub mod libretro;
pub mod machine;
pub mod mcpx;
pub mod md5;
pub mod nv2a;
pub mod render;
pub mod screen;
pub mod testmachine;
pub mod user;

/// The core's name as users see it.
pub const NAME: &str = "Oxbox";
/// The core's version (Cargo's package version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
