//! The FPU state in a signal frame: Linux's `struct _fpstate_32` on a CPU with FXSR. It is the
//! legacy FNSAVE image (environment and eight 80-bit registers), the status word and a magic
//! of 0 (FXSR data follows), then the 512-byte FXSAVE image, which also holds MXCSR and the
//! XMM registers.

use crate::cpu::fpu::mxcsr;

/// The size of `struct _fpstate_32`.
pub const SIZE: u32 = 624;
/// Where the FXSAVE image starts in it.
pub const FXSAVE_OFFSET: usize = 112;
/// The FNSAVE image in 32-bit protected mode: seven environment words, then the registers.
pub const FNSAVE_SIZE: usize = 108;

/// The frame's bytes from the CPU's FNSAVE and FXSAVE images.
pub fn frame(fnsave: &[u8; FNSAVE_SIZE], fxsave: &[u8; 512]) -> Vec<u8> {
    let mut bytes = vec![0; SIZE as usize];
    bytes[..FNSAVE_SIZE].copy_from_slice(fnsave);
    // status: the status word; magic 0 (X86_FXSR_MAGIC).
    bytes[108..110].copy_from_slice(&fnsave[4..6]);
    bytes[FXSAVE_OFFSET..].copy_from_slice(fxsave);
    bytes
}

/// The FXSAVE image to restore from a frame a signal handler returned through. As Linux
/// does, the x87 environment and registers come from the legacy part (which is what handlers
/// edit), MXCSR and the XMM registers from the FXSAVE part, with MXCSR's reserved bits cleared
/// so FXRSTOR cannot fault.
pub fn restore(frame: &[u8; SIZE as usize]) -> [u8; 512] {
    let word =
        |at: usize| u32::from_le_bytes([frame[at], frame[at + 1], frame[at + 2], frame[at + 3]]);
    let mut image = [0u8; 512];
    image.copy_from_slice(&frame[FXSAVE_OFFSET..]);
    let (control, status, tags) = (word(0), word(4), word(8));
    let (ip, selector_opcode, dp, ds) = (word(12), word(16), word(20), word(24));
    // The abridged tag byte: a register is valid unless its full tag says empty (3).
    let abridged = (0..8).fold(0u8, |bits, i| {
        bits | u8::from((tags >> (2 * i)) & 3 != 3) << i
    });
    image[0..2].copy_from_slice(&(control as u16).to_le_bytes());
    image[2..4].copy_from_slice(&(status as u16).to_le_bytes());
    image[4] = abridged;
    image[6..8].copy_from_slice(&((selector_opcode >> 16) as u16 & 0x7FF).to_le_bytes());
    image[8..12].copy_from_slice(&ip.to_le_bytes());
    image[12..16].copy_from_slice(&(selector_opcode & 0xFFFF).to_le_bytes());
    image[16..20].copy_from_slice(&dp.to_le_bytes());
    image[20..24].copy_from_slice(&(ds & 0xFFFF).to_le_bytes());
    let mxcsr_value = u32::from_le_bytes([image[24], image[25], image[26], image[27]]);
    image[24..28].copy_from_slice(&(mxcsr_value & mxcsr::WRITABLE).to_le_bytes());
    for i in 0..8 {
        let register = &frame[28 + 10 * i..38 + 10 * i];
        image[32 + 16 * i..42 + 16 * i].copy_from_slice(register);
    }
    image
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legacy_part_wins_and_mxcsr_is_sanitised() {
        let mut fnsave = [0u8; FNSAVE_SIZE];
        fnsave[0..2].copy_from_slice(&0x037Fu16.to_le_bytes());
        fnsave[4..6].copy_from_slice(&0x3800u16.to_le_bytes()); // TOP = 7
        fnsave[8..12].copy_from_slice(&0xFFFF_3FFFu32.to_le_bytes()); // ST registers 7 in use
        fnsave[16..20].copy_from_slice(&0x01D9_0073u32.to_le_bytes()); // opcode 1D9, CS 73
        fnsave[28 + 70..38 + 70].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 0xFF, 0x3F]);
        let mut fxsave = [0u8; 512];
        fxsave[24..28].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        fxsave[160] = 0xAB; // XMM0
        let bytes: [u8; SIZE as usize] = frame(&fnsave, &fxsave).try_into().unwrap();
        assert_eq!(&bytes[108..112], &[0x00, 0x38, 0, 0]);
        let image = restore(&bytes);
        assert_eq!(&image[0..8], &[0x7F, 0x03, 0x00, 0x38, 0x80, 0, 0xD9, 0x01]);
        assert_eq!(&image[12..14], &[0x73, 0]);
        assert_eq!(
            u32::from_le_bytes(image[24..28].try_into().unwrap()),
            mxcsr::WRITABLE
        );
        assert_eq!(
            &image[32 + 112..42 + 112],
            &[1, 2, 3, 4, 5, 6, 7, 8, 0xFF, 0x3F]
        );
        assert_eq!(image[160], 0xAB);
    }
}
