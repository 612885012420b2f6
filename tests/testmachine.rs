//! Test programs on the bare-metal test machine, assembled here by hand: ROM images started at
//! the reset vector (real mode, then protected mode), multiboot kernels (ELF and flat), and the
//! ways a run ends. Then the `oxbox testmachine` command on the same programs, and loaders fed
//! broken files.

use oxbox::testmachine::{Config, Error, MAX_ROM, Outcome, Stop, TestMachine};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

/// How a label is referred to.
#[derive(Clone, Copy)]
enum Ref {
    /// Signed displacement from the end of the field (short jumps).
    Rel8,
    /// Near jumps in 16-bit code.
    Rel16,
    /// An offset in a real-mode segment whose base has zero low 16 bits.
    Abs16,
    Abs32,
}

/// Just enough of an assembler for the programs below: bytes, labels and references to them.
/// The instructions are written as bytes with their assembly in comments.
struct Asm {
    origin: u32,
    code: Vec<u8>,
    labels: HashMap<String, u32>,
    references: Vec<(usize, String, Ref)>,
}

impl Asm {
    fn new(origin: u32) -> Asm {
        Asm {
            origin,
            code: Vec::new(),
            labels: HashMap::new(),
            references: Vec::new(),
        }
    }

    fn emit(&mut self, bytes: &[u8]) -> &mut Asm {
        self.code.extend_from_slice(bytes);
        self
    }

    fn label(&mut self, name: &str) -> &mut Asm {
        let here = self.origin + self.code.len() as u32;
        assert!(
            self.labels.insert(name.into(), here).is_none(),
            "{name} twice"
        );
        self
    }

    /// A label outside the code: an address computed by the test.
    fn label_at(&mut self, name: &str, address: u32) -> &mut Asm {
        assert!(
            self.labels.insert(name.into(), address).is_none(),
            "{name} twice"
        );
        self
    }

    fn refer(&mut self, name: &str, kind: Ref) -> &mut Asm {
        self.references.push((self.code.len(), name.into(), kind));
        let width = match kind {
            Ref::Rel8 => 1,
            Ref::Rel16 | Ref::Abs16 => 2,
            Ref::Abs32 => 4,
        };
        self.code.extend(std::iter::repeat_n(0, width));
        self
    }

    fn align(&mut self, to: usize) -> &mut Asm {
        while !self.code.len().is_multiple_of(to) {
            self.code.push(0x90);
        }
        self
    }

    fn assemble(&self) -> Vec<u8> {
        let mut code = self.code.clone();
        for &(at, ref name, kind) in &self.references {
            let target = self.labels[name];
            let after = |width: u32| self.origin + at as u32 + width;
            match kind {
                Ref::Rel8 => {
                    let rel = target.wrapping_sub(after(1)) as i32;
                    code[at] = i8::try_from(rel).expect("short jump in range") as u8;
                }
                Ref::Rel16 => {
                    let rel = (target.wrapping_sub(after(2)) as u16).to_le_bytes();
                    code[at..at + 2].copy_from_slice(&rel);
                }
                Ref::Abs16 => code[at..at + 2].copy_from_slice(&(target as u16).to_le_bytes()),
                Ref::Abs32 => code[at..at + 4].copy_from_slice(&target.to_le_bytes()),
            }
        }
        code
    }

    /// 32-bit code: writes the NUL-terminated string at label `text` to the console.
    fn print32(&mut self, text: &str) -> &mut Asm {
        self.emit(&[0xBE]).refer(text, Ref::Abs32); // mov esi, text
        let (next, done) = (format!("{text}.next"), format!("{text}.done"));
        self.label(&next)
            .emit(&[0xAC]) // lodsb
            .emit(&[0x84, 0xC0]) // test al, al
            .emit(&[0x74])
            .refer(&done, Ref::Rel8) // jz done
            .emit(&[0xE6, 0xE9]) // out 0xE9, al
            .emit(&[0xEB])
            .refer(&next, Ref::Rel8) // jmp next
            .label(&done)
    }
}

// ---- ROM images ----

const ROM_SIZE: usize = 4096;
/// The ROM's first byte, as the reset vector sees it (CS base 0xFFFF0000, IP 0xF000).
const ROM_START: u32 = 0u32.wrapping_sub(ROM_SIZE as u32);

/// A 4 KiB ROM: `program` from its first byte, 0xF4 (HLT) after it, and at the reset vector a
/// near jump back to the program.
fn rom(program: &Asm) -> Vec<u8> {
    assert_eq!(program.origin, ROM_START);
    let mut image = program.assemble();
    assert!(image.len() <= ROM_SIZE - 16);
    image.resize(ROM_SIZE, 0xF4);
    let mut reset = Asm::new(0xFFFF_FFF0);
    reset.emit(&[0xE9]).refer("start", Ref::Rel16); // jmp near start
    reset.label_at("start", ROM_START);
    let jump = reset.assemble();
    image[ROM_SIZE - 16..][..jump.len()].copy_from_slice(&jump);
    image
}

fn machine() -> TestMachine {
    TestMachine::new(&Config::default()).unwrap()
}

fn run_rom(program: &Asm, limit: u64) -> Outcome {
    let mut machine = machine();
    let mut cpu = machine.boot_rom(&rom(program)).unwrap();
    machine.run(&mut cpu, limit, &mut |_| {})
}

/// Real mode from the reset vector: "OK" on the console, POST code 0x42, exit 0.
fn hello_rom() -> Asm {
    let mut a = Asm::new(ROM_START);
    a.emit(&[0xFA]) // cli
        .emit(&[0xB0, b'O']) // mov al, 'O'
        .emit(&[0xE6, 0xE9]) // out 0xE9, al
        .emit(&[0xB0, b'K']) // mov al, 'K'
        .emit(&[0xE6, 0xE9]) // out 0xE9, al
        .emit(&[0xB0, 0x42]) // mov al, 0x42
        .emit(&[0xE6, 0x80]) // out 0x80, al
        .emit(&[0xB0, 0x00]) // mov al, 0
        .emit(&[0xE6, 0xF4]) // out 0xF4, al
        .emit(&[0xF4]); // hlt
    a
}

#[test]
fn rom_prints_posts_and_exits_from_real_mode() {
    let outcome = run_rom(&hello_rom(), 1000);
    assert_eq!(outcome.stop, Stop::Exit(0));
    assert_eq!(outcome.console, b"OK");
    assert_eq!(outcome.post, Some(0x42));
    assert!(
        (10..=11).contains(&outcome.instructions),
        "the jump, nine instructions to the exit and perhaps the HLT: {}",
        outcome.instructions
    );
}

#[test]
fn console_output_streams_as_it_is_written() {
    let mut machine = machine();
    let mut cpu = machine.boot_rom(&rom(&hello_rom())).unwrap();
    let mut streamed = Vec::new();
    let outcome = machine.run(&mut cpu, 1000, &mut |bytes| {
        streamed.extend_from_slice(bytes)
    });
    assert_eq!(streamed, outcome.console);
}

#[test]
fn rom_is_also_seen_below_1_mib() {
    // Far jump from the copy at 4 GiB to the one below 1 MiB (F000:xxxx), then print there.
    let mut a = Asm::new(ROM_START);
    a.emit(&[0xEA]) // jmp far 0xF000:low
        .refer("low", Ref::Abs16)
        .emit(&[0x00, 0xF0])
        .label("low")
        .emit(&[0x8C, 0xC8]) // mov ax, cs
        .emit(&[0xE6, 0xE9]) // out 0xE9, al
        .emit(&[0x88, 0xE0]) // mov al, ah
        .emit(&[0xE6, 0xE9]) // out 0xE9, al
        .emit(&[0xE6, 0xF4]); // out 0xF4, al
    let outcome = run_rom(&a, 1000);
    assert_eq!(outcome.console, [0x00, 0xF0], "CS is 0xF000");
    assert_eq!(outcome.stop, Stop::Exit(0xF0));
}

#[test]
fn rom_switches_to_protected_mode_and_prints_from_32_bit_code() {
    let mut a = Asm::new(ROM_START);
    a.emit(&[0xFA]) // cli
        .emit(&[0x2E, 0x66, 0x0F, 0x01, 0x16]) // o32 lgdt cs:[gdt_pointer]
        .refer("gdt_pointer", Ref::Abs16)
        .emit(&[0x0F, 0x20, 0xC0]) // mov eax, cr0
        .emit(&[0x0C, 0x01]) // or al, 1 (PE)
        .emit(&[0x0F, 0x22, 0xC0]) // mov cr0, eax
        .emit(&[0x66, 0xEA]) // jmp dword 0x08:protected
        .refer("protected", Ref::Abs32)
        .emit(&[0x08, 0x00])
        .label("protected")
        .emit(&[0x66, 0xB8, 0x10, 0x00]) // mov ax, 0x10
        .emit(&[0x8E, 0xD8]) // mov ds, ax
        .emit(&[0x8E, 0xC0]) // mov es, ax
        .emit(&[0x8E, 0xD0]) // mov ss, ax
        .emit(&[0xBC, 0x00, 0x00, 0x01, 0x00]) // mov esp, 0x10000
        .emit(&[0x68, 0x78, 0x56, 0x34, 0x12]) // push 0x12345678
        .emit(&[0x5B]) // pop ebx
        .print32("message")
        .emit(&[0x89, 0xD8]) // mov eax, ebx
        .emit(&[0xE7, 0xF4]) // out 0xF4, eax
        .emit(&[0xF4]) // hlt
        .align(8)
        .label("gdt")
        .emit(&0u64.to_le_bytes())
        .emit(&0x00CF_9A00_0000_FFFFu64.to_le_bytes()) // flat ring-0 code
        .emit(&0x00CF_9200_0000_FFFFu64.to_le_bytes()) // flat ring-0 data
        .label("gdt_pointer")
        .emit(&[23, 0])
        .refer("gdt", Ref::Abs32)
        .label("message")
        .emit(b"32-bit protected mode\n\0");
    let outcome = run_rom(&a, 10_000);
    assert_eq!(outcome.console, b"32-bit protected mode\n");
    assert_eq!(outcome.stop, Stop::Exit(0x1234_5678), "a 32-bit exit value");
}

#[test]
fn triple_fault_shuts_down() {
    // An empty IVT: INT3 cannot be delivered, nor the #GP that raises, nor the double fault.
    let mut a = Asm::new(ROM_START);
    a.emit(&[0x2E, 0x0F, 0x01, 0x1E]) // lidt cs:[empty]
        .refer("empty", Ref::Abs16)
        .emit(&[0xCC]) // int3
        .label("empty")
        .emit(&[0, 0, 0, 0, 0, 0]);
    let outcome = run_rom(&a, 1000);
    assert_eq!(outcome.stop, Stop::Shutdown);
}

#[test]
fn hlt_with_interrupts_disabled_halts() {
    let mut a = Asm::new(ROM_START);
    a.emit(&[0xFA, 0xF4]); // cli; hlt
    let outcome = run_rom(&a, 1000);
    assert_eq!(
        outcome.stop,
        Stop::Halted {
            interrupts_enabled: false
        }
    );
    assert_eq!(outcome.instructions, 3);
}

#[test]
fn hlt_with_interrupts_enabled_halts_too() {
    let mut a = Asm::new(ROM_START);
    a.emit(&[0xFB, 0xF4]); // sti; hlt
    let outcome = run_rom(&a, 1000);
    assert_eq!(
        outcome.stop,
        Stop::Halted {
            interrupts_enabled: true
        }
    );
}

#[test]
fn instruction_limit_is_exact() {
    let mut a = Asm::new(ROM_START);
    a.label("again")
        .emit(&[0xE6, 0x80]) // out 0x80, al (dearer than one cycle)
        .emit(&[0xEB])
        .refer("again", Ref::Rel8); // jmp again
    for limit in [1, 2, 1001, 100_000] {
        let outcome = run_rom(&a, limit);
        assert_eq!(outcome.stop, Stop::Limit);
        assert_eq!(outcome.instructions, limit);
    }
}

#[test]
fn an_exception_loop_that_retires_nothing_still_ends_at_the_limit() {
    // The #UD vector points at the UD2 itself: every execution faults, none retires. The
    // stack, which the faults fill, wraps inside its own segment, clear of the vectors.
    let mut a = Asm::new(ROM_START);
    a.emit(&[0xB8, 0x00, 0x10]) // mov ax, 0x1000
        .emit(&[0x8E, 0xD0]) // mov ss, ax
        .emit(&[0xC7, 0x06, 0x18, 0x00]) // mov word [6 * 4], ud2
        .refer("ud2", Ref::Abs16)
        .emit(&[0xC7, 0x06, 0x1A, 0x00, 0x00, 0xF0]) // mov word [6 * 4 + 2], 0xF000
        .label("ud2")
        .emit(&[0x0F, 0x0B]); // ud2
    let outcome = run_rom(&a, 100);
    assert_eq!(outcome.stop, Stop::Limit);
    assert_eq!(
        outcome.instructions, 5,
        "the jump and the four instructions before UD2"
    );
}

#[test]
fn ports_after_the_exit_are_ignored() {
    let mut a = Asm::new(ROM_START);
    a.emit(&[0xB0, 0x07]) // mov al, 7
        .emit(&[0xE6, 0xF4]) // out 0xF4, al
        .emit(&[0xE6, 0xE9]) // out 0xE9, al
        .emit(&[0xE6, 0x80]) // out 0x80, al
        .emit(&[0xE6, 0xF4]) // out 0xF4, al
        .label("spin")
        .emit(&[0xEB])
        .refer("spin", Ref::Rel8); // jmp spin
    let outcome = run_rom(&a, 1_000_000);
    assert_eq!(outcome.stop, Stop::Exit(7));
    assert_eq!((outcome.console.len(), outcome.post), (0, None));
}

#[test]
fn ports_are_configurable() {
    let config = Config {
        console_port: 0x402,
        exit_port: 0x501,
        post_port: 0x84,
        ..Config::default()
    };
    let mut a = Asm::new(ROM_START);
    a.emit(&[0xBA, 0x02, 0x04]) // mov dx, 0x402
        .emit(&[0xB0, b'!']) // mov al, '!'
        .emit(&[0xEE]) // out dx, al
        .emit(&[0xE6, 0xE9]) // out 0xE9, al (now an unknown port)
        .emit(&[0xE6, 0x84]) // out 0x84, al
        .emit(&[0xE4, 0x80]) // in al, 0x80 (unknown: all ones)
        .emit(&[0xBA, 0x01, 0x05]) // mov dx, 0x501
        .emit(&[0xEE]); // out dx, al
    let mut machine = TestMachine::new(&config).unwrap();
    let mut cpu = machine.boot_rom(&rom(&a)).unwrap();
    let outcome = machine.run(&mut cpu, 1000, &mut |_| {});
    assert_eq!(outcome.console, b"!");
    assert_eq!(outcome.post, Some(b'!'));
    assert_eq!(outcome.stop, Stop::Exit(0xFF));
}

#[test]
fn configuration_is_checked() {
    let clash = Config {
        post_port: 0xE9,
        ..Config::default()
    };
    assert_eq!(TestMachine::new(&clash).err(), Some(Error::PortClash(0xE9)));
    for ram_mib in [0, 3073] {
        let config = Config {
            ram_mib,
            ..Config::default()
        };
        assert_eq!(
            TestMachine::new(&config).err(),
            Some(Error::RamSize(ram_mib))
        );
    }
}

#[test]
fn rom_sizes_are_checked() {
    assert_eq!(machine().boot_rom(&[]).err(), Some(Error::RomEmpty));
    assert_eq!(
        machine().boot_rom(&vec![0xF4; MAX_ROM + 1]).err(),
        Some(Error::RomTooLarge(MAX_ROM + 1))
    );
    // 17 bytes: padded at the front, so the HLT at the end is the reset vector's last byte and
    // the CLI sits at the reset vector.
    let mut image = vec![0x90; 17];
    image[1] = 0xFA; // cli
    image[16] = 0xF4; // hlt
    let mut machine = machine();
    let mut cpu = machine.boot_rom(&image).unwrap();
    let outcome = machine.run(&mut cpu, 100, &mut |_| {});
    assert_eq!(
        outcome.stop,
        Stop::Halted {
            interrupts_enabled: false
        }
    );
    assert_eq!(outcome.instructions, 16, "cli, 14 nops, hlt");
}

// ---- Multiboot kernels ----

const KERNEL_BASE: u32 = 0x0010_0000;
/// The ELF header (52 bytes), one program header (32) and the multiboot header (12).
const KERNEL_CODE: u32 = KERNEL_BASE + 96;
const MULTIBOOT_MAGIC: u32 = 0x1BAD_B002;

fn kernel_asm() -> Asm {
    Asm::new(KERNEL_CODE)
}

fn put32(file: &mut [u8], at: usize, value: u32) {
    file[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn multiboot_header(flags: u32) -> Vec<u8> {
    [
        MULTIBOOT_MAGIC,
        flags,
        MULTIBOOT_MAGIC.wrapping_add(flags).wrapping_neg(),
    ]
    .iter()
    .flat_map(|v| v.to_le_bytes())
    .collect()
}

/// An ELF multiboot kernel: one PT_LOAD segment that maps the whole file at 1 MiB, with 4 KiB
/// of bss after it; the code follows the headers and is the entry point.
fn elf_kernel(program: &Asm) -> Vec<u8> {
    assert_eq!(program.origin, KERNEL_CODE);
    let mut file = vec![0; 52 + 32];
    file[..16].copy_from_slice(b"\x7FELF\x01\x01\x01\0\0\0\0\0\0\0\0\0");
    file[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    file[18..20].copy_from_slice(&3u16.to_le_bytes()); // EM_386
    put32(&mut file, 20, 1); // version
    put32(&mut file, 24, KERNEL_CODE); // entry
    put32(&mut file, 28, 52); // program headers
    file[40..42].copy_from_slice(&52u16.to_le_bytes());
    file[42..44].copy_from_slice(&32u16.to_le_bytes());
    file[44..46].copy_from_slice(&1u16.to_le_bytes());
    file.extend(multiboot_header(0b11));
    file.extend(program.assemble());
    let size = file.len() as u32;
    for (field, value) in [1, 0, KERNEL_BASE, KERNEL_BASE, size, size + 4096, 7, 0x1000]
        .into_iter()
        .enumerate()
    {
        put32(&mut file, 52 + 4 * field, value); // type PT_LOAD, offset, vaddr, paddr, ...
    }
    file
}

fn run_kernel(kernel: &[u8], cmdline: &str, config: &Config) -> Outcome {
    let mut machine = TestMachine::new(config).unwrap();
    let mut cpu = machine.boot_multiboot(kernel, cmdline).unwrap();
    machine.run(&mut cpu, 100_000, &mut |_| {})
}

/// Checks the entry state, then prints the command line and exits 0; exits 1 if EAX is wrong,
/// 2 if the boot information has no command line.
fn cmdline_kernel() -> Asm {
    let mut a = kernel_asm();
    a.emit(&[0x3D, 0x02, 0xB0, 0xAD, 0x2B]) // cmp eax, 0x2BADB002
        .emit(&[0xB0, 0x01]) // mov al, 1
        .emit(&[0x75])
        .refer("fail", Ref::Rel8) // jne fail
        .emit(&[0xF6, 0x03, 0x04]) // test byte [ebx], 4 (command line present)
        .emit(&[0xB0, 0x02]) // mov al, 2
        .emit(&[0x74])
        .refer("fail", Ref::Rel8) // jz fail
        .emit(&[0x8B, 0x73, 0x10]) // mov esi, [ebx + 16]
        .label("next")
        .emit(&[0xAC]) // lodsb
        .emit(&[0x84, 0xC0]) // test al, al
        .emit(&[0x74])
        .refer("fail", Ref::Rel8) // jz fail (with al = 0: success)
        .emit(&[0xE6, 0xE9]) // out 0xE9, al
        .emit(&[0xEB])
        .refer("next", Ref::Rel8) // jmp next
        .label("fail")
        .emit(&[0xE6, 0xF4]) // out 0xF4, al
        .emit(&[0xF4]); // hlt
    a
}

#[test]
fn multiboot_kernel_prints_its_command_line() {
    let kernel = elf_kernel(&cmdline_kernel());
    let outcome = run_kernel(&kernel, "console=e9 quiet", &Config::default());
    assert_eq!(outcome.stop, Stop::Exit(0));
    assert_eq!(outcome.console, b"console=e9 quiet");
}

#[test]
fn higher_half_elf_kernel_loads_at_physical_addresses() {
    // Linked at 3 GiB + 1 MiB, loaded at 1 MiB: the entry point is translated through its
    // segment, and the position-independent code runs there.
    let mut kernel = elf_kernel(&cmdline_kernel());
    put32(&mut kernel, 24, 0xC000_0000 + KERNEL_CODE); // entry
    put32(&mut kernel, 60, 0xC000_0000 + KERNEL_BASE); // vaddr
    let outcome = run_kernel(&kernel, "high", &Config::default());
    assert_eq!(
        (outcome.stop, outcome.console.as_slice()),
        (Stop::Exit(0), &b"high"[..])
    );
}

#[test]
fn multiboot_boot_information_describes_memory() {
    // mem_lower, mem_upper, then the first memory-map entry's length and type, in bytes.
    let mut a = kernel_asm();
    a.emit(&[0x8B, 0x43, 0x04]) // mov eax, [ebx + 4]
        .emit(&[0xE7, 0xE9]) // out 0xE9, eax
        .emit(&[0x8B, 0x43, 0x08]) // mov eax, [ebx + 8]
        .emit(&[0xE7, 0xE9]) // out 0xE9, eax
        .emit(&[0x8B, 0x43, 0x2C]) // mov eax, [ebx + 44] (mmap_length)
        .emit(&[0xE7, 0xE9]) // out 0xE9, eax
        .emit(&[0x8B, 0x73, 0x30]) // mov esi, [ebx + 48] (mmap_addr)
        .emit(&[0x8B, 0x46, 0x0C]) // mov eax, [esi + 12] (length, low half)
        .emit(&[0xE7, 0xE9]) // out 0xE9, eax
        .emit(&[0x8B, 0x46, 0x14]) // mov eax, [esi + 20] (type)
        .emit(&[0xE7, 0xE9]) // out 0xE9, eax
        .emit(&[0x8B, 0x03]) // mov eax, [ebx] (flags)
        .emit(&[0xE7, 0xF4]) // out 0xF4, eax
        .emit(&[0xF4]); // hlt
    let config = Config {
        ram_mib: 32,
        ..Config::default()
    };
    let outcome = run_kernel(&elf_kernel(&a), "", &config);
    let words: Vec<u32> = outcome
        .console
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
        .collect();
    assert_eq!(words, [640, 31 * 1024, 24, 32 << 20, 1]);
    let Stop::Exit(flags) = outcome.stop else {
        panic!("{:?}", outcome.stop)
    };
    assert_eq!(
        flags & 0x245,
        0x245,
        "memory, cmdline, memory map, loader name"
    );
}

#[test]
fn multiboot_kernel_may_reload_the_loaders_segments() {
    // The GDT the loader left is valid: reload CS (far jump) and the data segments from it.
    let mut a = kernel_asm();
    a.emit(&[0xEA]) // jmp far 0x08:reloaded
        .refer("reloaded", Ref::Abs32)
        .emit(&[0x08, 0x00])
        .label("reloaded")
        .emit(&[0x66, 0xB8, 0x10, 0x00]) // mov ax, 0x10
        .emit(&[0x8E, 0xD8]) // mov ds, ax
        .emit(&[0x8E, 0xD0]) // mov ss, ax
        .emit(&[0xBC, 0x00, 0x00, 0x20, 0x00]) // mov esp, 0x200000
        .emit(&[0x6A, 0x2A]) // push 42
        .emit(&[0x58]) // pop eax
        .emit(&[0xE6, 0xF4]); // out 0xF4, al
    let outcome = run_kernel(&elf_kernel(&a), "", &Config::default());
    assert_eq!(outcome.stop, Stop::Exit(42));
}

#[test]
fn multiboot_exception_without_an_idt_shuts_down() {
    let mut a = kernel_asm();
    a.emit(&[0x0F, 0x0B]); // ud2
    let outcome = run_kernel(&elf_kernel(&a), "", &Config::default());
    assert_eq!(outcome.stop, Stop::Shutdown);
}

#[test]
fn flat_multiboot_kernel_loads_at_its_header_addresses() {
    // No ELF: the header's address fields (flags bit 16) place the file at 2 MiB.
    const BASE: u32 = 0x0020_0000;
    let mut a = Asm::new(BASE + 32);
    a.print32("text")
        .emit(&[0xA1]) // mov eax, [bss_end - 4] (zeroed bss)
        .refer("bss_last", Ref::Abs32)
        .emit(&[0xE7, 0xF4]) // out 0xF4, eax
        .label("text")
        .emit(b"flat\0");
    let bss_end = BASE + 32 + a.code.len() as u32 + 64;
    a.label_at("bss_last", bss_end - 4);
    let code = a.assemble();
    let mut file = multiboot_header(1 << 16);
    for value in [BASE, BASE, 0, bss_end, BASE + 32] {
        file.extend(value.to_le_bytes()); // header, load, load end (file end), bss end, entry
    }
    file.extend(code);
    let outcome = run_kernel(&file, "", &Config::default());
    assert_eq!(outcome.console, b"flat");
    assert_eq!(outcome.stop, Stop::Exit(0));
}

// ---- Broken kernels ----

fn boot(kernel: &[u8]) -> Result<(), Error> {
    machine().boot_multiboot(kernel, "").map(|_| ())
}

#[test]
fn malformed_elf_files_are_refused() {
    let good = elf_kernel(&cmdline_kernel());
    assert_eq!(boot(&good), Ok(()));
    let broken = |patch: &dyn Fn(&mut Vec<u8>)| {
        let mut file = good.clone();
        patch(&mut file);
        boot(&file).unwrap_err()
    };
    let segment = |problem| Error::ElfSegment { index: 0, problem };
    assert_eq!(broken(&|f| f[1] = b'X'), Error::NotElf);
    assert_eq!(broken(&|f| f[4] = 2), Error::ElfClass(2));
    assert_eq!(broken(&|f| f[5] = 2), Error::ElfByteOrder(2));
    assert_eq!(broken(&|f| f[6] = 0), Error::ElfVersion);
    assert_eq!(broken(&|f| put32(f, 20, 2)), Error::ElfVersion);
    assert_eq!(broken(&|f| f[16] = 3), Error::ElfType(3));
    assert_eq!(broken(&|f| f[18] = 62), Error::ElfMachine(62));
    assert_eq!(broken(&|f| f[42] = 40), Error::ElfProgramHeaderSize(40));
    assert_eq!(
        broken(&|f| put32(f, 28, u32::MAX - 8)),
        Error::ElfProgramHeadersOutsideFile
    );
    assert_eq!(
        broken(&|f| f[44] = 0xFF),
        Error::ElfProgramHeadersOutsideFile
    );
    assert_eq!(broken(&|f| f[44] = 0), Error::NoLoadableSegments);
    assert_eq!(broken(&|f| put32(f, 52, 4)), Error::NoLoadableSegments);
    assert_eq!(
        broken(&|f| put32(f, 56, u32::MAX)),
        segment("segment data lies outside the file")
    );
    assert_eq!(
        broken(&|f| put32(f, 68, 0x10_0000)),
        segment("file size exceeds memory size")
    );
    assert_eq!(
        broken(&|f| put32(f, 64, 0xFFFF_FF00)),
        segment("segment wraps around the end of the address space")
    );
    assert_eq!(
        broken(&|f| put32(f, 64, 0x0400_0000)),
        Error::OutsideRam {
            start: 0x0400_0000,
            end: 0x0400_0000 + u64::from(u32::from_le_bytes(good[72..76].try_into().unwrap())),
            ram: 64 << 20,
        }
    );
    assert_eq!(
        broken(&|f| put32(f, 24, 0x0800_0000)),
        Error::EntryOutsideImage(0x0800_0000)
    );
    assert_eq!(boot(&good[..90]), Err(Error::NoMultibootHeader));
    let tiny = [b"\x7FELF".as_slice(), &multiboot_header(0)].concat();
    assert_eq!(boot(&tiny), Err(Error::ElfTooShort(16)));
    assert_eq!(boot(&multiboot_header(0)), Err(Error::NotElf));
    assert_eq!(
        boot(&multiboot_header(1 << 3)),
        Err(Error::MultibootFlags(1 << 3))
    );
    assert_eq!(
        machine().boot_multiboot(&good, "a\0b").err(),
        Some(Error::CommandLineNul)
    );
}

#[test]
fn malformed_load_addresses_are_refused() {
    // The header, then 16 bytes of code.
    let flat = |fields: [u32; 5]| {
        let mut file = multiboot_header(1 << 16);
        for value in fields {
            file.extend(value.to_le_bytes());
        }
        file.resize(48, 0xF4);
        boot(&file).map_err(|e| e.to_string())
    };
    let base = 0x0010_0000;
    assert_eq!(flat([base, base, 0, 0, base + 32]), Ok(()));
    for (fields, problem) in [
        (
            [base, base + 4, 0, 0, base],
            "load_addr lies above header_addr",
        ),
        ([base + 4, base, 0, 0, base], "before the start of the file"),
        (
            [base, base, base + 100, 0, base],
            "beyond the end of the file",
        ),
        (
            [base, base, base - 1, 0, base],
            "load_end_addr lies below load_addr",
        ),
        ([base, base, 0, base + 8, base], "bss_end_addr lies below"),
        ([base, base, base, 0, base], "load nothing"),
        ([u32::MAX - 4, u32::MAX - 4, 0, 0, u32::MAX], "wraps around"),
        ([base, base, 0, 0, base + 48], "entry point"),
        ([0x0400_0000, 0x0400_0000, 0, 0, 0x0400_0000], "outside RAM"),
    ] {
        let error = flat(fields).unwrap_err();
        assert!(error.contains(problem), "{error:?} should say {problem:?}");
    }
    let cut = multiboot_header(1 << 16);
    assert!(boot(&cut).unwrap_err().to_string().contains("ends before"));
}

#[test]
fn loaders_survive_arbitrary_damage() {
    // Flip random bytes of a good kernel (headers included) many times: every result is a
    // boot or an error, never a panic.
    let good = elf_kernel(&cmdline_kernel());
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut refused = 0;
    for _ in 0..3000 {
        let mut file = good.clone();
        for _ in 0..1 + random() % 4 {
            let at = (random() % 100) as usize;
            file[at] = random() as u8;
        }
        if random() % 8 == 0 {
            file.truncate((random() % file.len() as u64) as usize);
        }
        refused += usize::from(boot(&file).is_err());
    }
    assert!(refused > 100, "the damage was noticed: {refused}");
}

// ---- The command ----

/// Writes `bytes` to a file of its own for this test and returns the path.
fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("oxbox-testmachine-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs `oxbox testmachine ARGS`: exit code, stdout, stderr.
fn oxbox(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_oxbox"))
        .arg("testmachine")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn command_runs_a_rom() {
    let path = temp_file("hello.rom", &rom(&hello_rom()));
    let (status, stdout, _) = oxbox(&["--rom", path.to_str().unwrap()]);
    let last = stdout.lines().last().unwrap();
    assert_eq!(
        stdout.lines().next(),
        Some("OK"),
        "console, then a new line"
    );
    assert!(
        last.starts_with("testmachine: stop=exit exit=0x0 post=0x42 instructions="),
        "{last}"
    );
    assert_eq!(status, 0);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn command_runs_a_multiboot_kernel() {
    let path = temp_file("cmdline.elf", &elf_kernel(&cmdline_kernel()));
    let (status, stdout, _) = oxbox(&[
        "--multiboot",
        path.to_str().unwrap(),
        "--cmdline",
        "hello kernel",
        "--ram",
        "16",
    ]);
    assert!(stdout.starts_with("hello kernel\ntestmachine: stop=exit exit=0x0 post=-"));
    assert_eq!(status, 0);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn command_exit_status_tells_how_the_program_stopped() {
    let mut exit3 = Asm::new(ROM_START);
    exit3.emit(&[0xB0, 3, 0xE6, 0xF4]); // mov al, 3; out 0xF4, al
    let mut halt = Asm::new(ROM_START);
    halt.emit(&[0xFA, 0xF4]); // cli; hlt
    let mut spin = Asm::new(ROM_START);
    spin.label("spin").emit(&[0xEB]).refer("spin", Ref::Rel8); // jmp spin
    for (name, program, limit, status, summary, note) in [
        ("exit3", exit3, "1000", 7, "stop=exit exit=0x3 post=-", ""),
        (
            "halt",
            halt,
            "1000",
            2,
            "stop=halt exit=-",
            "HLT with interrupts disabled",
        ),
        (
            "spin",
            spin,
            "500",
            2,
            "stop=limit exit=- post=- instructions=500 cycles=500",
            "instruction limit reached at F000:0000F000",
        ),
    ] {
        let path = temp_file(name, &rom(&program));
        let (code, stdout, stderr) = oxbox(&["--rom", path.to_str().unwrap(), "--limit", limit]);
        assert!(stdout.contains(summary), "{name}: {stdout}");
        assert!(stderr.contains(note), "{name}: {stderr}");
        assert_eq!(code, status, "{name}");
        std::fs::remove_file(path).unwrap();
    }
}

#[test]
fn command_refuses_bad_input_clearly() {
    let big = temp_file("big.rom", &vec![0; MAX_ROM + 16]);
    let empty = temp_file("empty.rom", &[]);
    let (big_arg, empty_arg) = (big.to_str().unwrap(), empty.to_str().unwrap());
    for (args, message) in [
        (vec!["--rom", big_arg], "is 1048592 bytes; at most 1048576"),
        (vec!["--rom", empty_arg], "the ROM image is empty"),
        (vec!["--multiboot", empty_arg], "no multiboot header"),
        (
            vec!["--rom", "/nonexistent/rom"],
            "cannot read /nonexistent/rom",
        ),
        (vec![], "needs --rom FILE or --multiboot FILE"),
        (vec!["--rom", big_arg, "--multiboot", big_arg], "give one"),
        (
            vec!["--rom", big_arg, "--cmdline", "x"],
            "--cmdline goes with --multiboot",
        ),
        (
            vec!["--rom", big_arg, "--exit-port", "0x10000"],
            "not a port number",
        ),
        (vec!["--rom", big_arg, "--ram", "0"], "RAM size 0 MiB"),
        (
            vec!["--rom", big_arg, "--frames", "1"],
            "unexpected argument --frames",
        ),
        (vec!["--rom"], "--rom needs a value"),
    ] {
        let (status, stdout, stderr) = oxbox(&args);
        assert_eq!((status, stdout.as_str()), (1, ""), "{args:?}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    std::fs::remove_file(big).unwrap();
    std::fs::remove_file(empty).unwrap();
}
