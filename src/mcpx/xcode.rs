//! The X-code interpreter of the MCPX boot ROM, as the real ROM runs it.
//!
//! The ROM reads 9-byte instructions from flash, starting at [`START`]: an opcode byte and two
//! little-endian dwords. It keeps its state in CPU registers, which [`Interpreter`] mirrors:
//! ESI holds the X-code pointer, EBX and ECX the operands, EDI the result ("accumulator") and
//! EBP the scratch register. Sources: the xboxdevwiki pages "Boot Process" (the interpreter in
//! C) and "The Hidden Boot Code of the Xbox" (its checks in assembly), and the handler map of
//! the MCPX 1.0 ROM in JayFoxRox/xbox-tools `mcpx-tool/disassemble-mcpx.sh`.
//!
//! The ROM dispatches by comparing the opcode with each handler in turn; an opcode no handler
//! takes falls through to the next X-code, so unknown opcodes do nothing. The 0x07 prefix
//! handler comes first and falls through into the others with the opcode taken from the first
//! operand, the first operand from the second and the second from the result, so a prefixed
//! 0x07 does nothing either.
//!
//! An X-code can hide the ROM under the running interpreter: POKEPCI only masks the hide bit
//! when the config address is exactly 0x80000880, and the southbridge ignores the address's
//! reserved bits (the "MIST" hack); five OUTBs to 0xCF8-0xCFC do the same. The interpreter asks
//! the board after each I/O write whether the ROM is gone, and stops there: the CPU then runs
//! on in flash after the ROM's `out` instruction.

use crate::cpu::{Bus, Cpu, state::reg};
use crate::machine::state::{Snapshot, State};

/// Where the ROM starts interpreting: flash offset 0x80.
pub const START: u32 = 0xFF00_0080;
/// Bytes per X-code.
const LENGTH: u32 = 9;

const PEEK: u8 = 0x02;
const POKE: u8 = 0x03;
const POKE_PCI: u8 = 0x04;
const PEEK_PCI: u8 = 0x05;
const AND_OR: u8 = 0x06;
const PREFIX: u8 = 0x07;
const BNE: u8 = 0x08;
const BRA: u8 = 0x09;
const SCRATCH: u8 = 0x10;
const OUTB: u8 = 0x11;
const INB: u8 = 0x12;
const EXIT: u8 = 0xEE;

/// PEEK reaches only the low 256 MiB, so X-codes cannot read the ROM at the top of memory.
const PEEK_MASK: u32 = 0x0FFF_FFFF;
/// LPC bridge (bus 0, device 1, function 0) register 0x80: bit 1 hides the ROM. POKEPCI clears
/// that bit when, and only when, the address is exactly this value.
const ROM_CONTROL: u32 = 0x8000_0880;
const ROM_HIDE: u32 = 1 << 1;
const CONFIG_ADDRESS: u16 = 0xCF8;
const CONFIG_DATA: u16 = 0xCFC;

/// Where the CPU goes on in flash when the ROM vanishes under it: the address after the `out`
/// that hid it. POKEPCI's data `out` ends at 0xFFFFFE62 (Cromwell's boot code says execution
/// picks up there); OUTB's `out` ends at 0xFFFFFEA0 (its handler spans 0xFFFFFE97-0xFFFFFEA1:
/// cmp, jnz, mov edx,ebx, mov al,cl, out, jmp short). The CPU may have fetched a few bytes
/// ahead, which is why flash images fill these 512 bytes with NOPs.
const FALL_AFTER_POKE_PCI: u32 = 0xFFFF_FE62;
const FALL_AFTER_OUTB: u32 = 0xFFFF_FEA0;

/// Cycles per X-code, charged as the CPU's cost model (`cpu::timing`) would charge the ROM's
/// own instructions: about 20 simple ones (fetch, the compare chain, the handler, the loop) at
/// one cycle each, plus 30 per port access. Uncached flash reads cost nothing extra, as they
/// don't for the CPU either.
const STEP_CYCLES: u64 = 20;
const PORT_CYCLES: u64 = 30;

/// Why [`Interpreter::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// The deadline (or the bus's next event) came first; call again to go on.
    Deadline,
    /// Opcode 0xEE. The ROM goes on to its MTRR set-up, writing the X-code's first operand to
    /// MTRRdefType (MSR 0x2FF): xqemu's ROM HLE does so, and retail and Cromwell flashes end
    /// with EXIT 0x806 (MTRRs on, write-back by default).
    Exited { mtrr_def_type: u32 },
    /// An X-code hid the ROM: the CPU continues in flash at `eip`.
    RomHidden { eip: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Running,
    Exited,
    Hidden,
}

/// The interpreter's registers and whether it has finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interpreter {
    /// ESI: the X-code being executed (after EXIT or a hide, the one that did it).
    pc: u32,
    /// AL, EBX, ECX: the last X-code's opcode and operands, after the prefix's shuffle.
    opcode: u8,
    op1: u32,
    op2: u32,
    /// EDI.
    result: u32,
    /// EBP.
    scratch: u32,
    phase: Phase,
    /// Whether a POKE wrote any of physical bytes 0..16, where open flash images leave the jump
    /// that the ROM's failure path wraps into.
    wrote_low_ram: bool,
}

impl Default for Interpreter {
    fn default() -> Interpreter {
        Interpreter::new()
    }
}

impl Interpreter {
    /// The interpreter as the ROM enters it: at [`START`], with the result and scratch zero as
    /// reset leaves EDI and EBP.
    pub fn new() -> Interpreter {
        Interpreter {
            pc: START,
            opcode: 0,
            op1: 0,
            op2: 0,
            result: 0,
            scratch: 0,
            phase: Phase::Running,
            wrote_low_ram: false,
        }
    }

    /// Runs X-codes until one exits or hides the ROM, or until `*clock` reaches `deadline` or
    /// the bus's next event. Each X-code advances `*clock` by its cost; devices see its accesses
    /// at the clock's value when it started. `rom_hidden` says whether the board has unmapped
    /// the MCPX ROM; it is asked after each X-code that writes an I/O port. Once finished, every
    /// call returns the same answer.
    pub fn run<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        rom_hidden: impl Fn(&B) -> bool,
        clock: &mut u64,
        deadline: u64,
    ) -> Progress {
        while self.phase == Phase::Running && *clock < deadline.min(bus.next_event()) {
            *clock += self.step(bus, &rom_hidden, *clock);
        }
        match self.phase {
            Phase::Running => Progress::Deadline,
            Phase::Exited => Progress::Exited {
                mtrr_def_type: self.op1,
            },
            Phase::Hidden => Progress::RomHidden {
                eip: if self.opcode == OUTB {
                    FALL_AFTER_OUTB
                } else {
                    FALL_AFTER_POKE_PCI
                },
            },
        }
    }

    /// Whether a POKE wrote any of physical bytes 0..16.
    pub fn wrote_low_ram(&self) -> bool {
        self.wrote_low_ram
    }

    /// The X-code pointer (ESI).
    pub fn pc(&self) -> u32 {
        self.pc
    }

    /// The result register (EDI).
    pub fn result(&self) -> u32 {
        self.result
    }

    /// The scratch register (EBP).
    pub fn scratch(&self) -> u32 {
        self.scratch
    }

    /// Puts the interpreter's registers where the ROM keeps them. EAX and EDX, which hold the
    /// last port access's values, are not modelled.
    pub fn load_registers(&self, cpu: &mut Cpu) {
        cpu.regs[reg::ESI] = self.pc;
        cpu.regs[reg::EBX] = self.op1;
        cpu.regs[reg::ECX] = self.op2;
        cpu.regs[reg::EDI] = self.result;
        cpu.regs[reg::EBP] = self.scratch;
    }

    /// Executes one X-code at time `now`; returns its cost in cycles.
    fn step<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        rom_hidden: impl Fn(&B) -> bool,
        now: u64,
    ) -> u64 {
        let mut opcode = read_u8(bus, now, self.pc);
        let mut op1 = read_u32(bus, now, self.pc.wrapping_add(1));
        let mut op2 = read_u32(bus, now, self.pc.wrapping_add(5));
        if opcode == PREFIX {
            opcode = op1 as u8;
            op1 = op2;
            op2 = self.result;
        }
        let mut branch = 0;
        let mut ports = 0;
        match opcode {
            PEEK => self.result = read_u32(bus, now, op1 & PEEK_MASK),
            POKE => {
                write_u32(bus, now, op1, op2);
                self.wrote_low_ram |= (0..4).any(|i| op1.wrapping_add(i) < 16);
            }
            POKE_PCI => {
                if op1 == ROM_CONTROL {
                    op2 &= !ROM_HIDE;
                }
                bus.sync(now);
                bus.io_write(CONFIG_ADDRESS, 4, op1);
                bus.io_write(CONFIG_DATA, 4, op2);
                ports = 2;
            }
            PEEK_PCI => {
                bus.sync(now);
                bus.io_write(CONFIG_ADDRESS, 4, op1);
                self.result = bus.io_read(CONFIG_DATA, 4);
                ports = 2;
            }
            AND_OR => self.result = self.result & op1 | op2,
            BNE if self.result != op1 => branch = op2,
            BRA => branch = op2,
            SCRATCH => {
                self.scratch = self.scratch & op1 | op2;
                self.result = self.scratch;
            }
            OUTB => {
                bus.sync(now);
                bus.io_write(op1 as u16, 1, op2 & 0xFF);
                ports = 1;
            }
            INB => {
                bus.sync(now);
                self.result = bus.io_read(op1 as u16, 1) & 0xFF;
                ports = 1;
            }
            EXIT => self.phase = Phase::Exited,
            _ => {}
        }
        (self.opcode, self.op1, self.op2) = (opcode, op1, op2);
        if matches!(opcode, POKE_PCI | OUTB) && rom_hidden(bus) {
            self.phase = Phase::Hidden;
        }
        if self.phase == Phase::Running {
            self.pc = self.pc.wrapping_add(branch).wrapping_add(LENGTH);
        }
        STEP_CYCLES + PORT_CYCLES * ports
    }
}

impl Snapshot for Interpreter {
    fn state(&mut self, s: &mut State) {
        s.u32(&mut self.pc);
        s.u8(&mut self.opcode);
        s.u32(&mut self.op1);
        s.u32(&mut self.op2);
        s.u32(&mut self.result);
        s.u32(&mut self.scratch);
        let mut phase = self.phase as u8;
        s.u8(&mut phase);
        self.phase = match phase {
            0 => Phase::Running,
            1 => Phase::Exited,
            _ => Phase::Hidden,
        };
        s.bool(&mut self.wrote_low_ram);
    }
}

/// Reads a byte at a physical address: RAM directly, anything else from the bus.
fn read_u8<B: Bus + ?Sized>(bus: &mut B, now: u64, addr: u32) -> u8 {
    if let Some(&b) = bus.ram().get(addr as usize) {
        return b;
    }
    bus.sync(now);
    bus.read(addr, 1) as u8
}

/// Reads a dword. One that straddles the end of RAM or a 4 KiB page (which the bus never sees
/// whole) goes byte by byte; addresses wrap at 4 GiB, as the ROM's flat segments do.
fn read_u32<B: Bus + ?Sized>(bus: &mut B, now: u64, addr: u32) -> u32 {
    let at = addr as usize;
    let ram = bus.ram();
    if let Some(bytes) = ram.get(at..).and_then(<[u8]>::first_chunk) {
        return u32::from_le_bytes(*bytes);
    }
    if at >= ram.len() && addr & 0xFFF <= 0xFFC {
        bus.sync(now);
        return bus.read(addr, 4);
    }
    let bytes = [0, 1, 2, 3].map(|i| read_u8(bus, now, addr.wrapping_add(i)));
    u32::from_le_bytes(bytes)
}

/// Writes a dword, split like [`read_u32`].
fn write_u32<B: Bus + ?Sized>(bus: &mut B, now: u64, addr: u32, value: u32) {
    let at = addr as usize;
    let ram = bus.ram();
    if let Some(bytes) = ram.get_mut(at..).and_then(<[u8]>::first_chunk_mut) {
        *bytes = value.to_le_bytes();
        return;
    }
    if at >= ram.len() && addr & 0xFFF <= 0xFFC {
        bus.sync(now);
        bus.write(addr, 4, value);
        return;
    }
    for (i, b) in (0..).zip(value.to_le_bytes()) {
        let addr = addr.wrapping_add(i);
        match bus.ram().get_mut(addr as usize) {
            Some(byte) => *byte = b,
            None => {
                bus.sync(now);
                bus.write(addr, 1, u32::from(b));
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A board small enough to see everything: RAM, a flash mirrored over the top 16 MiB, a
    /// device answering elsewhere, and PCI config cycles decoded as the southbridge does.
    #[derive(Clone, Debug)]
    pub(in crate::mcpx) struct FakeBus {
        pub ram: Vec<u8>,
        pub flash: Vec<u8>,
        /// What memory outside RAM and flash reads as.
        pub device_value: u32,
        pub device_writes: Vec<(u32, usize, u32)>,
        /// Every port access: (port, size, value, is_write).
        pub io: Vec<(u16, usize, u32, bool)>,
        /// Values for port reads other than config data, in order; then 0xFF.
        pub port_reads: VecDeque<u32>,
        pub config_address: u32,
        /// Config writes as (address with the reserved bits cleared, value).
        pub config_writes: Vec<(u32, u32)>,
        pub config_value: u32,
        /// LPC config 0x80 bit 1 was written.
        pub hidden: bool,
        pub next_event: u64,
        pub last_sync: u64,
    }

    impl FakeBus {
        pub fn new(ram_size: usize) -> FakeBus {
            FakeBus {
                ram: vec![0; ram_size],
                // Erased flash reads 0xFF: an opcode no handler takes.
                flash: vec![0xFF; 256 * 1024],
                device_value: 0x5A5A_5A5A,
                device_writes: Vec::new(),
                io: Vec::new(),
                port_reads: VecDeque::new(),
                config_address: 0,
                config_writes: Vec::new(),
                config_value: 0,
                hidden: false,
                next_event: u64::MAX,
                last_sync: 0,
            }
        }

        /// A bus whose flash holds `codes` at the X-codes' start.
        pub fn with(codes: &[[u8; 9]]) -> FakeBus {
            let mut bus = FakeBus::new(1 << 20);
            bus.flash_at(START, &codes.concat());
            bus
        }

        pub fn flash_at(&mut self, addr: u32, bytes: &[u8]) {
            let at = (addr - 0xFF00_0000) as usize % self.flash.len();
            self.flash[at..at + bytes.len()].copy_from_slice(bytes);
        }

        fn config_write(&mut self, offset: u16, value: u32) {
            if self.config_address & 0x8000_0000 == 0 {
                return;
            }
            // The southbridge ignores address bits 24-30: that is the MIST hack.
            let address = self.config_address & 0x80FF_FFFC;
            let shift = 8 * u32::from(offset);
            self.config_writes.push((address, value << shift));
            if address == 0x8000_0880 && offset == 0 && value & 2 != 0 {
                self.hidden = true;
            }
        }
    }

    impl Bus for FakeBus {
        fn ram(&mut self) -> &mut [u8] {
            &mut self.ram
        }

        fn read(&mut self, addr: u32, size: usize) -> u32 {
            if addr < 0xFF00_0000 {
                return self.device_value;
            }
            (0..size).rev().fold(0, |v, i| {
                let at = (addr as usize + i - 0xFF00_0000) % self.flash.len();
                v << 8 | u32::from(self.flash[at])
            })
        }

        fn write(&mut self, addr: u32, size: usize, value: u32) {
            self.device_writes.push((addr, size, value));
        }

        fn io_read(&mut self, port: u16, size: usize) -> u32 {
            let value = if port == 0xCFC {
                self.config_value
            } else {
                self.port_reads.pop_front().unwrap_or(0xFF)
            };
            self.io.push((port, size, value, false));
            value
        }

        fn io_write(&mut self, port: u16, size: usize, value: u32) {
            self.io.push((port, size, value, true));
            match port {
                0xCF8 if size == 4 => self.config_address = value,
                // Byte writes assemble the address one byte at a time.
                0xCF8..=0xCFB => {
                    let shift = 8 * u32::from(port - 0xCF8);
                    self.config_address =
                        self.config_address & !(0xFF << shift) | (value & 0xFF) << shift;
                }
                0xCFC..=0xCFF => self.config_write(port - 0xCFC, value),
                _ => {}
            }
        }

        fn sync(&mut self, now: u64) {
            assert!(now >= self.last_sync, "time went back");
            self.last_sync = now;
        }

        fn next_event(&self) -> u64 {
            self.next_event
        }
    }

    pub fn x(opcode: u8, op1: u32, op2: u32) -> [u8; 9] {
        let mut code = [opcode, 0, 0, 0, 0, 0, 0, 0, 0];
        code[1..5].copy_from_slice(&op1.to_le_bytes());
        code[5..].copy_from_slice(&op2.to_le_bytes());
        code
    }

    /// A branch offset that lands `n` X-codes after the branch's own (negative goes back).
    pub fn skip(n: i32) -> u32 {
        (9 * (n - 1)) as u32
    }

    fn not_hidden(bus: &FakeBus) -> bool {
        bus.hidden
    }

    /// Runs to the end with a generous budget.
    fn finish(bus: &mut FakeBus) -> (Interpreter, Progress) {
        let mut xcodes = Interpreter::new();
        let mut clock = 0;
        let progress = xcodes.run(bus, not_hidden, &mut clock, 10_000_000);
        (xcodes, progress)
    }

    fn word(bus: &FakeBus, at: usize) -> u32 {
        u32::from_le_bytes(bus.ram[at..at + 4].try_into().unwrap())
    }

    const END: [u8; 9] = [EXIT, 6, 8, 0, 0, 0, 0, 0, 0];

    #[test]
    fn peek_reads_ram_and_devices_below_256_mib() {
        let mut bus = FakeBus::with(&[x(PEEK, 0xF000_0100, 0), END]);
        bus.ram[0x100..0x104].copy_from_slice(&0x1234_5678u32.to_le_bytes());
        assert_eq!(finish(&mut bus).0.result(), 0x1234_5678);

        // 0xFFFFFE00 (the ROM) masks to a device address, never the ROM or flash.
        let mut bus = FakeBus::with(&[x(PEEK, 0xFFFF_FE00, 0), END]);
        assert_eq!(finish(&mut bus).0.result(), 0x5A5A_5A5A);
    }

    #[test]
    fn poke_writes_ram_and_devices_unmasked() {
        let mut bus = FakeBus::with(&[
            x(POKE, 0x200, 0xCAFE_BABE),
            x(POKE, 0xFD00_0004, 7),
            // Half in RAM, half outside: byte by byte.
            x(POKE, 0xF_FFFE, 0x4433_2211),
            END,
        ]);
        let (xcodes, progress) = finish(&mut bus);
        assert_eq!(
            progress,
            Progress::Exited {
                mtrr_def_type: 0x806
            }
        );
        assert_eq!(word(&bus, 0x200), 0xCAFE_BABE);
        assert_eq!(bus.ram[0xF_FFFE..], [0x11, 0x22]);
        assert_eq!(
            bus.device_writes,
            [
                (0xFD00_0004, 4, 7),
                (0x10_0000, 1, 0x33),
                (0x10_0001, 1, 0x44)
            ]
        );
        assert!(!xcodes.wrote_low_ram());
    }

    #[test]
    fn pci_config_write_and_read_go_through_cf8_and_cfc() {
        let mut bus = FakeBus::with(&[
            x(POKE_PCI, 0x8000_0884, 0x8001),
            x(PEEK_PCI, 0x8000_0808, 0),
            END,
        ]);
        bus.config_value = 0xD1;
        let (xcodes, _) = finish(&mut bus);
        assert_eq!(xcodes.result(), 0xD1);
        assert_eq!(
            bus.io,
            [
                (0xCF8, 4, 0x8000_0884, true),
                (0xCFC, 4, 0x8001, true),
                (0xCF8, 4, 0x8000_0808, true),
                (0xCFC, 4, 0xD1, false),
            ]
        );
    }

    #[test]
    fn and_or_and_the_scratch_register() {
        let mut bus = FakeBus::with(&[
            x(AND_OR, 0, 0xF0F0),
            x(AND_OR, 0xFF00, 3),
            x(PREFIX, u32::from(POKE), 0x300),
            x(SCRATCH, 0, 0x55),
            x(SCRATCH, 0xF, 0x100),
            END,
        ]);
        let (xcodes, _) = finish(&mut bus);
        assert_eq!(word(&bus, 0x300), 0xF003);
        assert_eq!((xcodes.scratch(), xcodes.result()), (0x105, 0x105));
    }

    #[test]
    fn outb_writes_a_byte_and_inb_reads_one_zero_extended() {
        let mut bus = FakeBus::with(&[x(OUTB, 0x1_C200, 0x170), x(INB, 0xC000, 0), END]);
        bus.port_reads.push_back(0xAB_CD12);
        let (xcodes, _) = finish(&mut bus);
        assert_eq!(xcodes.result(), 0x12);
        assert_eq!(
            bus.io,
            [(0xC200, 1, 0x70, true), (0xC000, 1, 0xAB_CD12, false)]
        );
    }

    #[test]
    fn exit_stops_on_itself_and_stays_stopped() {
        let mut bus = FakeBus::with(&[x(AND_OR, 0, 1), END, x(POKE, 0x10, 1)]);
        let mut xcodes = Interpreter::new();
        let mut clock = 0;
        let done = Progress::Exited {
            mtrr_def_type: 0x806,
        };
        assert_eq!(xcodes.run(&mut bus, not_hidden, &mut clock, 1000), done);
        assert_eq!((xcodes.pc(), clock), (START + 9, 2 * STEP_CYCLES));
        assert_eq!(xcodes.run(&mut bus, not_hidden, &mut clock, 2000), done);
        assert_eq!(clock, 2 * STEP_CYCLES);
        assert_eq!(word(&bus, 0x10), 0);
    }

    #[test]
    fn unknown_opcodes_are_ignored() {
        let mut codes: Vec<[u8; 9]> = [0x00, 0x01, 0x0A, 0x13, 0x80, 0xED, 0xF5, 0xFF]
            .map(|op| x(op, 0x40, 0x1234))
            .into();
        // A prefix naming a prefix, or an unknown opcode, is ignored too.
        codes.push(x(PREFIX, 0x0000_0107, 0x40));
        codes.push(x(PREFIX, 0x0000_00AA, 0x40));
        codes.push(END);
        let mut bus = FakeBus::with(&codes);
        let before = bus.ram.clone();
        let (xcodes, progress) = finish(&mut bus);
        assert!(matches!(progress, Progress::Exited { .. }));
        assert_eq!(xcodes.pc(), START + 9 * 10);
        assert_eq!((xcodes.result(), xcodes.scratch()), (0, 0));
        assert!(bus.ram == before && bus.io.is_empty() && bus.device_writes.is_empty());
    }

    #[test]
    fn the_prefix_makes_the_result_the_second_operand() {
        let mut bus = FakeBus::with(&[
            x(AND_OR, 0, 0x1234),
            x(PREFIX, u32::from(POKE), 0x400),
            x(PREFIX, u32::from(POKE_PCI), 0x8000_0810),
            x(PREFIX, u32::from(OUTB), 0x80),
            // BRA by the result: 0x12 = two X-codes on.
            x(AND_OR, 0, 0x12),
            x(PREFIX, u32::from(BRA), 0),
            x(POKE, 0x404, 1),
            x(POKE, 0x408, 1),
            x(POKE, 0x40C, 1),
            END,
        ]);
        finish(&mut bus);
        assert_eq!(word(&bus, 0x400), 0x1234);
        assert_eq!(bus.config_writes, [(0x8000_0810, 0x1234)]);
        assert_eq!(bus.io.last(), Some(&(0x80, 1, 0x34, true)));
        assert_eq!([0x404, 0x408, 0x40C].map(|a| word(&bus, a)), [0, 0, 1]);
    }

    #[test]
    fn branches_go_forwards_and_backwards() {
        let mut bus = FakeBus::with(&[
            // Poll a status port until it reads 0x10, as flash images poll the SMBus.
            x(INB, 0xC000, 0),
            x(BNE, 0x10, skip(-1)),
            // Equal: not taken.
            x(BNE, 0x10, skip(2)),
            x(POKE, 0x500, 1),
            // Not equal: taken over one X-code.
            x(BNE, 0x11, skip(2)),
            x(POKE, 0x504, 1),
            x(BRA, 0, skip(2)),
            x(POKE, 0x508, 1),
            END,
        ]);
        bus.port_reads.extend([0, 3, 0x10]);
        let (xcodes, _) = finish(&mut bus);
        assert_eq!(bus.io.len(), 3);
        assert_eq!([0x500, 0x504, 0x508].map(|a| word(&bus, a)), [1, 0, 0]);
        assert_eq!(xcodes.pc(), START + 9 * 8);
    }

    #[test]
    fn pokepci_clears_the_hide_bit_only_at_the_exact_address() {
        let mut bus = FakeBus::with(&[x(POKE_PCI, ROM_CONTROL, 3), END]);
        let (_, progress) = finish(&mut bus);
        assert!(matches!(progress, Progress::Exited { .. }));
        assert_eq!(bus.config_writes, [(0x8000_0880, 1)]);
        assert!(!bus.hidden);
    }

    #[test]
    fn an_alias_of_the_address_hides_the_rom_mist() {
        let mut bus = FakeBus::with(&[x(AND_OR, 0, 7), x(POKE_PCI, 0x8800_0880, 2), END]);
        let (xcodes, progress) = finish(&mut bus);
        assert!(bus.hidden);
        assert_eq!(progress, Progress::RomHidden { eip: 0xFFFF_FE62 });
        let mut cpu = Cpu::new();
        xcodes.load_registers(&mut cpu);
        let r = |i| cpu.regs[i];
        assert_eq!(
            [r(reg::ESI), r(reg::EBX), r(reg::ECX), r(reg::EDI)],
            [START + 9, 0x8800_0880, 2, 7]
        );
    }

    #[test]
    fn byte_writes_to_the_config_ports_hide_the_rom_too() {
        let mut bus = FakeBus::with(&[
            x(OUTB, 0xCF8, 0x80),
            x(OUTB, 0xCF9, 0x08),
            x(OUTB, 0xCFA, 0x00),
            x(OUTB, 0xCFB, 0x80),
            x(OUTB, 0xCFC, 0x02),
            END,
        ]);
        let (xcodes, progress) = finish(&mut bus);
        assert_eq!(progress, Progress::RomHidden { eip: 0xFFFF_FEA0 });
        assert_eq!(xcodes.pc(), START + 9 * 4);
    }

    #[test]
    fn the_budget_stops_a_loop_and_the_next_call_resumes_it() {
        let mut bus = FakeBus::with(&[x(INB, 0xC000, 0), x(BNE, 0x10, skip(-1)), END]);
        bus.port_reads.extend([0; 100]);
        bus.port_reads.push_back(0x10);
        let mut xcodes = Interpreter::new();
        let mut clock = 0;
        let poll = 2 * STEP_CYCLES + PORT_CYCLES;
        assert_eq!(
            xcodes.run(&mut bus, not_hidden, &mut clock, 10 * poll),
            Progress::Deadline
        );
        assert_eq!((clock, bus.io.len()), (10 * poll, 10));
        // Fetching from flash syncs too: last at the start of the last X-code, a BNE.
        assert_eq!(bus.last_sync, 10 * poll - STEP_CYCLES);

        // The bus's next event ends a run early too.
        bus.next_event = 20 * poll + 1;
        assert_eq!(
            xcodes.run(&mut bus, not_hidden, &mut clock, u64::MAX),
            Progress::Deadline
        );
        assert!(clock > 20 * poll && clock < 21 * poll);
        bus.next_event = u64::MAX;

        let progress = xcodes.run(&mut bus, not_hidden, &mut clock, u64::MAX);
        assert!(matches!(progress, Progress::Exited { .. }));
        assert_eq!((bus.io.len(), clock), (101, 101 * poll + STEP_CYCLES));
    }

    #[test]
    fn an_endless_loop_ends_at_the_deadline() {
        let mut bus = FakeBus::with(&[x(BRA, 0, skip(0))]);
        let mut xcodes = Interpreter::new();
        let mut clock = 5;
        assert_eq!(
            xcodes.run(&mut bus, not_hidden, &mut clock, 100_005),
            Progress::Deadline
        );
        assert_eq!((clock, xcodes.pc()), (100_005, START));
    }

    #[test]
    fn the_pc_wraps_from_the_top_of_memory_into_ram() {
        // An X-code at 0xFFFFFFFB takes its opcode and first operand from flash and its second
        // from RAM bytes 0..4; the next one is in RAM at 4.
        let mut bus = FakeBus::with(&[x(BRA, 0, 0xFFFF_FFFBu32.wrapping_sub(START + 9))]);
        bus.flash_at(0xFFFF_FFFB, &x(POKE, 0x700, 0)[..5]);
        bus.ram[..4].copy_from_slice(&0xDEAD_BEEFu32.to_le_bytes());
        bus.ram[4] = EXIT;
        let (xcodes, progress) = finish(&mut bus);
        assert!(matches!(progress, Progress::Exited { .. }));
        assert_eq!((word(&bus, 0x700), xcodes.pc()), (0xDEAD_BEEF, 4));
    }

    #[test]
    fn no_flash_content_panics() {
        let mut seed = 0x1234_5678_9ABC_DEF0u64;
        for _ in 0..50 {
            let mut bus = FakeBus::new(64 * 1024);
            for b in &mut bus.flash {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                // Mostly real opcodes, so branches and prefixes get exercised.
                let opcodes = [PEEK, POKE, POKE_PCI, PEEK_PCI, AND_OR, PREFIX, BNE, BRA];
                *b = match seed >> 60 {
                    0..=7 => opcodes[(seed >> 60) as usize],
                    _ => (seed >> 32) as u8,
                };
            }
            let mut xcodes = Interpreter::new();
            let mut clock = 0;
            xcodes.run(&mut bus, not_hidden, &mut clock, 200_000);
        }
    }

    #[test]
    fn a_saved_state_resumes_mid_program() {
        let mut bus = FakeBus::with(&[
            x(SCRATCH, 0, 0x42),
            x(INB, 0xC000, 0),
            x(BNE, 0x10, skip(-1)),
            x(PREFIX, u32::from(POKE), 0x800),
            END,
        ]);
        bus.port_reads.extend([0; 30]);
        bus.port_reads.push_back(0x10);
        let mut xcodes = Interpreter::new();
        let mut clock = 0;
        xcodes.run(&mut bus, not_hidden, &mut clock, 1000);

        let mut saved = Vec::new();
        xcodes.state(&mut State::saving(&mut saved));
        let mut loaded = Interpreter::new();
        let mut load = State::loading(&saved);
        loaded.state(&mut load);
        assert_eq!((load.remaining(), &loaded), (0, &xcodes));

        let mut other_bus = bus.clone();
        let mut other_clock = clock;
        let a = xcodes.run(&mut bus, not_hidden, &mut clock, u64::MAX);
        let b = loaded.run(&mut other_bus, not_hidden, &mut other_clock, u64::MAX);
        assert_eq!((a, clock, &xcodes), (b, other_clock, &loaded));
        assert_eq!((word(&other_bus, 0x800), other_bus.io.len()), (0x10, 31));
    }
}
