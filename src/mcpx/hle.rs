//! A high-level stand-in for the MCPX 1.0 boot ROM, for users who have a flash image but no
//! dump of the ROM.
//!
//! The real ROM switches to flat 32-bit protected mode, runs the flash's X-codes
//! ([`super::xcode`]), sets up the MTRRs, turns on caching and RC4-decrypts the second-stage
//! loader (2BL) with a secret key. We do not have that key. Open flash images (Cromwell and
//! other xbox-linux-era firmware) never needed it; they take over in one of two ways:
//! - MIST: an X-code hides the ROM under the running interpreter, and the CPU falls into the
//!   flash's top 512 bytes, which they fill with NOPs and a jump;
//! - visor: the X-codes store a jump at RAM address 0 and let the decryption fail. The ROM's
//!   failure path hides the ROM with its last instruction at 0xFFFFFFFE and expected the
//!   instruction pointer's wrap to fault, but a Pentium III wraps silently and runs the jump.
//!
//! [`BootRom`] models both exactly. A flash that does neither (a retail BIOS) has an
//! encrypted 2BL that only the real ROM can run, so it stops with [`Outcome::NeedsMcpxRom`].
//!
//! Sources: xboxdevwiki "MCPX ROM", "Boot Process", "The Hidden Boot Code of the Xbox" and "17
//! Mistakes Microsoft Made in the Xbox Security System"; the ROM's layout in JayFoxRox/xbox-tools
//! `mcpx-tool/disassemble-mcpx.sh`; the GDT/IDT contents in xqemu's MCPX ROM HLE
//! (`hw/xbox/mcpx_rom.c`) and Cromwell's copy of them at the top of its flash.

use super::xcode::{Interpreter, Progress};
use crate::cpu::state::{Segment, TableReg, attr, cr0, reg};
use crate::cpu::{Bus, Cpu};
use crate::machine::state::{Snapshot, State};

/// What the user sees when the flash needs the real ROM.
pub const NEEDS_MCPX_ROM: &str = "This flash image needs the MCPX boot ROM: its second-stage \
    loader is encrypted with a key only the real ROM holds. Place mcpx_1.0.bin (the 512-byte \
    dump of an MCPX 1.0) in the frontend's system directory or its xbox/ folder.";

/// The ROM's GDT sits in its own last bytes, and the ROM loads IDTR from the same pointer
/// (0xFFFFFFF4), limit 0x18 (sic) included: null, code 0x08 and data 0x10, all flat 4 GiB.
const DESCRIPTOR_TABLE: TableReg = TableReg {
    base: 0xFFFF_FFD8,
    limit: 0x18,
};
const CODE_SELECTOR: u16 = 0x08;
const DATA_SELECTOR: u16 = 0x10;

/// The failure path's ROM hide: `mov eax, 0x80000880; out 0xCF8, eax` before the far jump to
/// 0xFFFFFFFA, then `add dl, 4; mov al, 2; out dx, al` as the last instruction in the address
/// space.
const ROM_CONTROL: u32 = 0x8000_0880;
const ROM_HIDE: u32 = 2;

/// Cycles from the EXIT X-code to the wrap to 0, charged as the CPU's cost model would charge
/// the ROM's code: the MTRR set-up (17 WRMSRs at 30), the RC4 key schedule (256 rounds of about
/// 16 instructions) and its output loop (0x6000 bytes of about 14 instructions).
const DECRYPT_CYCLES: u64 = 17 * 30 + 256 * 16 + 0x6000 * 14;

/// How the boot ROM stand-in has ended, if it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Still in the ROM: step again.
    Running,
    /// An X-code hid the ROM (MIST): the CPU goes on in the flash's top 512 bytes.
    FellIntoFlash,
    /// The X-codes ended and, without the key, the 2BL check failed: the ROM hid itself and the
    /// CPU wrapped to address 0, where the X-codes stored a jump (visor).
    WrappedToZero,
    /// The flash relies on the real ROM; the CPU is halted. The message says what to do.
    NeedsMcpxRom(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Power-on: the CPU is still in real mode.
    Reset,
    Xcodes,
    /// MTRRs and RC4: done at this cycle.
    Decrypting(u64),
    InFlash,
    AtZero,
    Stopped,
}

/// The boot sequence the board steps each slice until it is done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootRom {
    phase: Phase,
    xcodes: Interpreter,
}

impl Default for BootRom {
    fn default() -> BootRom {
        BootRom::new()
    }
}

impl BootRom {
    /// The ROM at power-on.
    pub fn new() -> BootRom {
        BootRom {
            phase: Phase::Reset,
            xcodes: Interpreter::new(),
        }
    }

    /// Runs the ROM until `deadline` (a CPU cycle), the bus's next event, or its end. Time is
    /// the CPU's cycle counter, which this advances; `rom_hidden` says whether the board has
    /// unmapped the MCPX ROM. Once done, the CPU holds the state the ROM leaves it in and every
    /// call returns the same outcome.
    pub fn step<B: Bus + ?Sized>(
        &mut self,
        cpu: &mut Cpu,
        bus: &mut B,
        rom_hidden: impl Fn(&B) -> bool,
        deadline: u64,
    ) -> Outcome {
        loop {
            match self.phase {
                Phase::Reset => {
                    enter_protected_mode(cpu);
                    self.phase = Phase::Xcodes;
                }
                Phase::Xcodes => match self.xcodes.run(bus, &rom_hidden, &mut cpu.cycles, deadline)
                {
                    Progress::Deadline => return Outcome::Running,
                    Progress::RomHidden { eip } => {
                        self.xcodes.load_registers(cpu);
                        cpu.eip = eip;
                        self.phase = Phase::InFlash;
                    }
                    Progress::Exited { mtrr_def_type } => {
                        enable_caching(cpu, mtrr_def_type);
                        self.phase = if self.xcodes.wrote_low_ram() {
                            Phase::Decrypting(cpu.cycles + DECRYPT_CYCLES)
                        } else {
                            // Without the key, running on would wrap into whatever RAM holds.
                            cpu.halted = true;
                            Phase::Stopped
                        };
                    }
                },
                Phase::Decrypting(done) => {
                    let until = done.min(deadline).min(bus.next_event());
                    cpu.cycles = cpu.cycles.max(until);
                    if cpu.cycles < done {
                        return Outcome::Running;
                    }
                    // The RC4 pass also left key-dependent bytes at 0x8F000 (its state) and
                    // 0x90000-0x95FFF (the failed 2BL); without the key they stay untouched.
                    bus.sync(cpu.cycles);
                    bus.io_write(0xCF8, 4, ROM_CONTROL);
                    bus.io_write(0xCFC, 1, ROM_HIDE);
                    // EAX and DX as the failure path leaves them; the other registers hold
                    // the RC4 loop's working values, which depend on the key.
                    cpu.regs[reg::EAX] = ROM_CONTROL & !0xFF | ROM_HIDE;
                    cpu.regs[reg::EDX] = 0xCFC;
                    cpu.eip = 0;
                    self.phase = Phase::AtZero;
                }
                Phase::InFlash => return Outcome::FellIntoFlash,
                Phase::AtZero => return Outcome::WrappedToZero,
                Phase::Stopped => return Outcome::NeedsMcpxRom(NEEDS_MCPX_ROM),
            }
        }
    }
}

impl Snapshot for BootRom {
    fn state(&mut self, s: &mut State) {
        let (mut tag, mut done) = match self.phase {
            Phase::Reset => (0u8, 0),
            Phase::Xcodes => (1, 0),
            Phase::Decrypting(done) => (2, done),
            Phase::InFlash => (3, 0),
            Phase::AtZero => (4, 0),
            Phase::Stopped => (5, 0),
        };
        s.u8(&mut tag);
        s.u64(&mut done);
        self.phase = match tag {
            0 => Phase::Reset,
            1 => Phase::Xcodes,
            2 => Phase::Decrypting(done),
            3 => Phase::InFlash,
            4 => Phase::AtZero,
            _ => Phase::Stopped,
        };
        self.xcodes.state(s);
    }
}

/// Puts the CPU in the state the ROM's start-up code leaves it in before the X-codes: protected
/// mode with its GDT and IDT, CS flat 32-bit code, DS, ES and SS flat data. FS and GS keep their
/// reset values, and caching stays off (CR0.CD and NW from reset) until the X-codes exit.
pub fn enter_protected_mode(cpu: &mut Cpu) {
    let flat = |selector, kind| Segment {
        selector,
        base: 0,
        limit: u32::MAX,
        // The ROM's descriptors come with the accessed bit set: 0x9B and 0x93, G and D/B.
        attrs: attr::PRESENT | attr::S | attr::RW | attr::ACCESSED | attr::DB | attr::G | kind,
    };
    cpu.cr0 |= cr0::PE;
    cpu.gdtr = DESCRIPTOR_TABLE;
    cpu.idtr = DESCRIPTOR_TABLE;
    let data = flat(DATA_SELECTOR, 0);
    cpu.seg = [
        data,
        flat(CODE_SELECTOR, attr::CODE),
        data,
        data,
        cpu.seg[4],
        cpu.seg[5],
    ];
    cpu.cpl = 0;
    cpu.flush_code();
}

/// The ROM's code after EXIT: variable MTRRs cleared, MTRRdefType from the X-code (stored as
/// the CPU's WRMSR stores it), then caching on.
fn enable_caching(cpu: &mut Cpu, mtrr_def_type: u32) {
    cpu.msr.mtrr_variable = [0; 16];
    cpu.msr.mtrr_def_type = u64::from(mtrr_def_type);
    cpu.cr0 &= !(cr0::CD | cr0::NW);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::Stop;
    use crate::cpu::state::Seg;
    use crate::mcpx::xcode::START;
    use crate::mcpx::xcode::tests::{FakeBus, x};

    /// The ROM's GDT entries 0x08 and 0x10 (Cromwell copies them to the same place in flash).
    const ROM_CODE: u64 = 0x00CF_9B00_0000_FFFF;
    const ROM_DATA: u64 = 0x00CF_9300_0000_FFFF;

    fn hidden(bus: &FakeBus) -> bool {
        bus.hidden
    }

    /// A flash laid out as open images do: a NOP landing zone over the ROM's 512 bytes, a far
    /// jump to 0xFF001000 near the top, the ROM's GDT copied to where the ROM keeps it, and a
    /// HLT at 0xFF001000.
    fn open_flash(codes: &[[u8; 9]]) -> FakeBus {
        let mut bus = FakeBus::with(codes);
        bus.flash_at(0xFFFF_FE00, &[0x90; 512]);
        bus.flash_at(0xFFFF_FFD0, &[0xEA, 0x00, 0x10, 0x00, 0xFF, 0x08, 0x00]);
        let gdt = [0, ROM_CODE, ROM_DATA].map(u64::to_le_bytes).concat();
        bus.flash_at(0xFFFF_FFD8, &gdt);
        bus.flash_at(0xFF00_1000, &[0xF4]);
        bus
    }

    fn descriptor_attrs(raw: u64) -> u16 {
        (raw >> 40 & 0xFF | (raw >> 52 & 0xF) << 12) as u16
    }

    fn assert_rom_segments(cpu: &Cpu) {
        let code = cpu.seg[Seg::Cs as usize];
        assert_eq!(
            (code.selector, code.base, code.limit, code.attrs),
            (0x08, 0, u32::MAX, descriptor_attrs(ROM_CODE))
        );
        for seg in [Seg::Ds, Seg::Es, Seg::Ss] {
            let data = cpu.seg[seg as usize];
            assert_eq!(
                (data.selector, data.base, data.limit, data.attrs),
                (0x10, 0, u32::MAX, descriptor_attrs(ROM_DATA))
            );
        }
        assert_eq!(cpu.seg[Seg::Fs as usize], Segment::real(0));
        assert_eq!(cpu.seg[Seg::Gs as usize], Segment::real(0));
        assert_eq!(
            cpu.gdtr,
            TableReg {
                base: 0xFFFF_FFD8,
                limit: 0x18
            }
        );
        assert_eq!(cpu.idtr, cpu.gdtr);
        assert!(cpu.protected_mode() && cpu.code32());
    }

    #[test]
    fn the_rom_falls_into_flash_when_an_xcode_hides_it() {
        let mut bus = open_flash(&[x(0x06, 0, 0x99), x(0x04, 0x8800_0880, 2), x(0xEE, 0, 0)]);
        let mut cpu = Cpu::new();
        let outcome = BootRom::new().step(&mut cpu, &mut bus, hidden, 1_000_000);
        assert_eq!(outcome, Outcome::FellIntoFlash);
        assert_rom_segments(&cpu);
        // Caching stays off: the X-codes never reached the ROM's MTRR set-up.
        assert_eq!(cpu.cr0, cr0::ET | cr0::CD | cr0::NW | cr0::PE);
        assert_eq!(cpu.eip, 0xFFFF_FE62);
        assert_eq!([cpu.regs[reg::ESI], cpu.regs[reg::EDI]], [START + 9, 0x99]);
        assert!(cpu.cycles > 0 && !cpu.halted);

        // The CPU slides down the NOPs, takes the far jump and halts in flash.
        assert_eq!(cpu.run(&mut bus, cpu.cycles + 10_000), Stop::Halted);
        assert_eq!(
            (cpu.eip, cpu.seg[Seg::Cs as usize].selector),
            (0xFF00_1001, 0x08)
        );
    }

    #[test]
    fn the_rom_wraps_to_zero_when_the_xcodes_left_a_jump_there() {
        let mut bus = open_flash(&[
            // Cromwell's own: jmp far 0x08:0xFFFC1000 (flash offset 0x1000 of 256 KiB).
            x(0x03, 0, 0xFC10_00EA),
            x(0x03, 4, 0x0000_08FF),
            x(0xEE, 0x806, 0),
        ]);
        let mut cpu = Cpu::new();
        cpu.msr.mtrr_variable = [7; 16];
        let mut rom = BootRom::new();
        assert_eq!(rom.step(&mut cpu, &mut bus, hidden, 1000), Outcome::Running);
        assert_eq!(cpu.cycles, 1000);
        assert!(!bus.hidden);
        let outcome = rom.step(&mut cpu, &mut bus, hidden, u64::MAX);
        assert_eq!(outcome, Outcome::WrappedToZero);
        assert_eq!(cpu.cycles, 60 + DECRYPT_CYCLES);

        // The ROM hid itself as its failure path does, and the board saw it.
        assert!(bus.hidden);
        assert_eq!(
            bus.io[bus.io.len() - 2..],
            [(0xCF8, 4, 0x8000_0880, true), (0xCFC, 1, 2, true)]
        );
        assert_rom_segments(&cpu);
        assert_eq!(cpu.cr0, cr0::ET | cr0::PE);
        assert_eq!(
            (cpu.msr.mtrr_def_type, cpu.msr.mtrr_variable),
            (0x806, [0; 16])
        );
        assert_eq!((cpu.eip, cpu.regs[reg::EAX]), (0, 0x8000_0802));

        assert_eq!(cpu.run(&mut bus, cpu.cycles + 10_000), Stop::Halted);
        assert_eq!(cpu.eip, 0xFFFC_1001);
    }

    #[test]
    fn a_flash_that_leaves_ram_0_alone_needs_the_real_rom() {
        // A write just above the first 16 bytes does not count.
        let mut bus = open_flash(&[
            x(0x03, 0x10, 0xE9),
            x(0x04, 0x8000_0884, 0x8001),
            x(0xEE, 0x806, 0),
        ]);
        let mut cpu = Cpu::new();
        let mut rom = BootRom::new();
        let outcome = rom.step(&mut cpu, &mut bus, hidden, 1_000_000);
        assert_eq!(outcome, Outcome::NeedsMcpxRom(NEEDS_MCPX_ROM));
        assert!(NEEDS_MCPX_ROM.contains(crate::firmware::MCPX_FILE));
        assert!(cpu.halted && !bus.hidden);
        let cycles = cpu.cycles;
        assert_eq!(rom.step(&mut cpu, &mut bus, hidden, u64::MAX), outcome);
        assert_eq!(cpu.cycles, cycles);
        assert_eq!(cpu.run(&mut bus, cycles + 10_000), Stop::Halted);

        // One byte of the first 16 is enough.
        let mut bus = open_flash(&[x(0x03, 0xD, 0xE9), x(0xEE, 0x806, 0)]);
        let outcome = BootRom::new().step(&mut Cpu::new(), &mut bus, hidden, u64::MAX);
        assert_eq!(outcome, Outcome::WrappedToZero);
    }

    #[test]
    fn a_saved_state_resumes_in_the_xcodes_and_in_the_decryption() {
        let codes = [
            x(0x12, 0xC000, 0),
            x(0x08, 0x10, 0xFFFF_FFEE),
            x(0x03, 0, 0xFC10_00EA),
            x(0xEE, 0x806, 0),
        ];
        for pause in [500, 2000, 100_000] {
            let mut bus = open_flash(&codes);
            bus.port_reads.extend([0; 20]);
            bus.port_reads.push_back(0x10);
            let mut cpu = Cpu::new();
            let mut rom = BootRom::new();
            assert_eq!(
                rom.step(&mut cpu, &mut bus, hidden, pause),
                Outcome::Running
            );

            let mut saved = Vec::new();
            rom.state(&mut State::saving(&mut saved));
            let mut loaded = BootRom::new();
            let mut load = State::loading(&saved);
            loaded.state(&mut load);
            assert_eq!((load.remaining(), &loaded), (0, &rom));

            let (mut other_cpu, mut other_bus) = (Cpu::new(), bus.clone());
            other_cpu.cycles = cpu.cycles;
            enter_protected_mode(&mut other_cpu);
            let a = rom.step(&mut cpu, &mut bus, hidden, u64::MAX);
            let b = loaded.step(&mut other_cpu, &mut other_bus, hidden, u64::MAX);
            assert_eq!(
                (a, cpu.cycles, cpu.eip),
                (b, other_cpu.cycles, other_cpu.eip)
            );
            assert_eq!((a, other_bus.io.len()), (Outcome::WrappedToZero, 23));
        }
    }
}
