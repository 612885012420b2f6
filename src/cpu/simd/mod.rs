//! Data semantics of the Pentium III's packed-integer and SSE1 non-arithmetic instructions.
//!
//! Every function here is pure: it maps operand values to the result value and knows nothing of
//! registers, flags, memory or faults, so the interpreter decodes an instruction, fetches its
//! operands and calls one function. Names follow the mnemonics; for two-operand forms the first
//! argument is the destination's old value and the second the source, as in `PSUBB mm1, mm2`.
//!
//! - [`mmx`]: the MMX instruction set on 64-bit `u64` values.
//! - [`mmx_ext`]: the integer instructions SSE1 added on MMX registers.
//! - [`sse_move`]: SSE1 bitwise, shuffle and mask operations on 128-bit [`Xmm`] values.
//! - [`reciprocal`]: RCPPS/RCPSS and RSQRTPS/RSQRTSS from fixed tables (deterministic on any host).
//!
//! SSE floating-point arithmetic lives elsewhere (softfloat); the memory forms MOVSS, MOVAPS,
//! MOVUPS, MOVLPS and MOVHPS are plain copies and need nothing here.

pub mod mmx;
pub mod mmx_ext;
pub mod reciprocal;
pub mod sse_move;

/// A 128-bit XMM value as four 32-bit lanes; lane 0 holds bits 31..0.
pub type Xmm = [u32; 4];

#[cfg(all(test, target_arch = "x86_64"))]
mod tests;
