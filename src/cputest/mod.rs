//! CPU test programs for the bare-metal test machine, written in Rust as assembly (iced-x86's
//! code assembler, through [`crate::asm`]).

pub mod system;
