//! Focused checks for CPU bugs that QEMU's test-i386 found (run through `oxbox user`). Each
//! runs a few hand-assembled instructions in real mode on a bare RAM bus.

use oxbox::cpu::state::Segment;
use oxbox::cpu::{Bus, Cpu, Stop};

struct Ram(Vec<u8>);

impl Bus for Ram {
    fn ram(&mut self) -> &mut [u8] {
        &mut self.0
    }
    fn read(&mut self, _: u32, _: usize) -> u32 {
        u32::MAX
    }
    fn write(&mut self, _: u32, _: usize, _: u32) {}
    fn io_read(&mut self, _: u16, _: usize) -> u32 {
        u32::MAX
    }
    fn io_write(&mut self, _: u16, _: usize, _: u32) {}
}

/// A real-mode CPU at 0000:1000 with `code` there and `data` at 0x2000; the stack is at
/// 0000:8000.
fn real_mode(code: &[u8], data: &[u8]) -> (Cpu, Ram) {
    let mut ram = Ram(vec![0; 0x10000]);
    ram.0[0x1000..0x1000 + code.len()].copy_from_slice(code);
    ram.0[0x2000..0x2000 + data.len()].copy_from_slice(data);
    let mut cpu = Cpu::new();
    cpu.seg[1] = Segment::real(0);
    cpu.eip = 0x1000;
    cpu.regs[4] = 0x8000;
    (cpu, ram)
}

/// The P6 executes the whole 0F 18–0F 1F hint-NOP space as NOPs, including the encodings later
/// CPUs use for ENDBR32 (every function of CET-built i686 code starts with one), MPX and
/// CLDEMOTE.
#[test]
fn hint_nop_space_executes_as_nops() {
    let code = [
        0xF3, 0x0F, 0x1E, 0xFB, // endbr32
        0x0F, 0x1A, 0x00, //       bndldx bnd0, [bx+si] (MPX; rejected with 16-bit addressing)
        0x0F, 0x1C, 0x40, 0x12, // cldemote [bx+si+0x12]
        0x0F, 0x19, 0xC8, //       hint nop ax, cx
        0x66, 0x0F, 0x1F, 0x00, // nop dword [bx+si]
        0xF4, //                   hlt
    ];
    let (mut cpu, mut ram) = real_mode(&code, &[]);
    assert_eq!(cpu.run(&mut ram, 1000), Stop::Halted);
    assert_eq!(cpu.eip, 0x1000 + code.len() as u32);
    assert_eq!(cpu.instructions, 6);
}

/// CALL FAR and JMP FAR through an m16:16 pointer (16-bit operand size: a 4-byte operand)
/// were taken for near branches.
#[test]
fn far_branches_through_16_bit_pointers() {
    let code = [
        0xFF, 0x1E, 0x00, 0x20, // call far [0x2000]   ; to 0100:5000, linear 0x6000
        0xF4, //                   hlt
    ];
    let pointers = [
        0x00, 0x50, 0x00, 0x01, // 0100:5000
        0x04, 0x10, 0x00, 0x00, // 0000:1004
    ];
    let (mut cpu, mut ram) = real_mode(&code, &pointers);
    // At 0100:5000: jmp far [0x2004]   ; back to the HLT at 0000:1004
    ram.0[0x6000..0x6004].copy_from_slice(&[0xFF, 0x2E, 0x04, 0x20]);
    assert_eq!(cpu.run(&mut ram, 1000), Stop::Halted);
    assert_eq!((cpu.seg[1].selector, cpu.eip), (0, 0x1005));
    // The far call pushed its return address, 0000:1004.
    assert_eq!(cpu.regs[4], 0x8000 - 4);
    assert_eq!(&ram.0[0x7FFC..0x8000], &[0x04, 0x10, 0x00, 0x00]);
}

/// F3 0F BC and F3 0F BD (TZCNT and LZCNT on CPUs with BMI1/ABM) are BSF and BSR with an
/// ignored REP prefix on a P6; glibc's printf uses REP BSF for that reason.
#[test]
fn rep_bsf_and_rep_bsr_are_bsf_and_bsr() {
    let code = [
        0xF3, 0x0F, 0xBC, 0xC3, // rep bsf ax, bx
        0xF3, 0x0F, 0xBD, 0xCB, // rep bsr cx, bx
        0xF4, //                   hlt
    ];
    let (mut cpu, mut ram) = real_mode(&code, &[]);
    cpu.regs[3] = 0x0410; // BX: bits 4 and 10
    assert_eq!(cpu.run(&mut ram, 1000), Stop::Halted);
    assert_eq!(cpu.eip, 0x1000 + code.len() as u32);
    // BSR gives the bit number; LZCNT would give 5, the leading zeros of the 16-bit value.
    assert_eq!((cpu.regs[0] & 0xFFFF, cpu.regs[1] & 0xFFFF), (4, 10));
}

/// With TF set, a repeated string instruction traps after every iteration (EIP still on it
/// until the count runs out), not once per instruction.
#[test]
fn single_step_traps_after_each_string_iteration() {
    let code = [
        0xB9, 0x03, 0x00, //       mov cx, 3            ; trap 1
        0xF3, 0xA4, //             rep movsb            ; traps 2, 3, 4
        0x9C, //                   pushf                ; trap 5
        0x58, //                   pop ax               ; trap 6
        0x25, 0xFF, 0xFE, //       and ax, ~0x100       ; trap 7
        0x50, //                   push ax              ; trap 8
        0x9D, //                   popf                 ; clears TF; trap 9
        0xF4, //                   hlt
    ];
    let (mut cpu, mut ram) = real_mode(&code, b"abc");
    // The #DB handler at 0000:1100 counts: inc word [0x3000]; iret
    ram.0[4..8].copy_from_slice(&[0x00, 0x11, 0x00, 0x00]);
    ram.0[0x1100..0x1105].copy_from_slice(&[0xFF, 0x06, 0x00, 0x30, 0xCF]);
    cpu.regs[6] = 0x2000; // SI
    cpu.regs[7] = 0x2100; // DI
    cpu.eflags |= 1 << 8; // TF
    assert_eq!(cpu.run(&mut ram, 10_000), Stop::Halted);
    assert_eq!(&ram.0[0x2100..0x2103], b"abc");
    assert_eq!(ram.0[0x3000], 9, "single-step traps");
}

/// Single-step traps after POPF even when it clears TF (TF was set when it began), and not
/// right after MOV SS, whose trap waits for the next instruction.
#[test]
fn single_step_around_mov_ss_and_popf() {
    let code = [
        0x8C, 0xD0, //             mov ax, ss           ; trap at 1002
        0x8E, 0xD0, //             mov ss, ax           ; none at 1004
        0x43, //                   inc bx               ; trap at 1005
        0x9C, //                   pushf                ; trap at 1006
        0x58, //                   pop ax               ; trap at 1007
        0x25, 0xFF, 0xFE, //       and ax, ~0x100       ; trap at 100a
        0x50, //                   push ax              ; trap at 100b
        0x9D, //                   popf                 ; clears TF; trap at 100c
        0xF4, //                   hlt
    ];
    // The #DB handler at 0000:1100 logs the return IP of each trap: the count at 0x3000, the
    // IPs from 0x3002.
    let handler = [
        0x56, //                   push si
        0x8B, 0x36, 0x00, 0x30, // mov si, [0x3000]
        0xD1, 0xE6, //             shl si, 1
        0x55, //                   push bp
        0x89, 0xE5, //             mov bp, sp
        0x8B, 0x6E, 0x04, //       mov bp, [bp + 4]     ; the return IP
        0x89, 0xAC, 0x02, 0x30, // mov [si + 0x3002], bp
        0x5D, //                   pop bp
        0xFF, 0x06, 0x00, 0x30, // inc word [0x3000]
        0x5E, //                   pop si
        0xCF, //                   iret
    ];
    let (mut cpu, mut ram) = real_mode(&code, &[]);
    ram.0[4..8].copy_from_slice(&[0x00, 0x11, 0x00, 0x00]);
    ram.0[0x1100..0x1100 + handler.len()].copy_from_slice(&handler);
    cpu.eflags |= 1 << 8; // TF
    assert_eq!(cpu.run(&mut ram, 10_000), Stop::Halted);
    let word = |at: usize| u16::from_le_bytes([ram.0[at], ram.0[at + 1]]);
    let traps: Vec<u16> = (0..word(0x3000) as usize)
        .map(|i| word(0x3002 + 2 * i))
        .collect();
    assert_eq!(
        traps,
        [0x1002, 0x1005, 0x1006, 0x1007, 0x100A, 0x100B, 0x100C]
    );
}
