//! The frame every multiboot test kernel is built in: its memory map, GDT, IDT and TSS, an
//! exception handler that records what it caught and resumes where the test asked, the way
//! to ring 3 and back, and the exits.
//!
//! A kernel is a flat multiboot image loaded at 1 MiB. It reloads its own flat segments, then
//! runs the test body at CPL 0 with paging off and interrupts disabled, and exits 0 when the
//! body falls off its end. FS always holds the flat ring-3 data segment `DATA3`: the runtime's
//! variables are addressed through it, so they stay reachable whatever DS, ES, GS and SS a
//! test loads, at any privilege level (test bodies leave FS alone).

use super::descriptor::{access, flat, gate, segment};
use crate::asm::code_asm::*;
use crate::asm::{Asm, CONSOLE, Cc, EXIT, Emitted, Error, Label, Result, assemble};
use std::collections::BTreeMap;

/// Where the image loads; its multiboot header comes first, the code after it.
pub const KERNEL: u32 = 0x0010_0000;
const ENTRY: u32 = KERNEL + 0x20;
/// The data section: the tables at fixed places, then the tests' own data.
pub const DATA: u32 = 0x0011_0000;
pub const GDT: u32 = DATA;
const GDT_POINTER: u32 = DATA + 0x200;
const IDT_POINTER: u32 = DATA + 0x208;
pub const IDT: u32 = DATA + 0x400;
/// The TSS of the kernel's task, with an I/O bitmap for ports 0 to 0x3FF.
pub const TSS: u32 = DATA + 0x800;
const TSS_END: u32 = TSS + 0x68 + IO_BITMAP_BYTES + 1;
const IO_BITMAP_BYTES: u32 = 0x80;
const EXTRA_DATA: u32 = DATA + 0x1000;
/// The runtime's variables (zeroed RAM outside the image), addressed through FS.
pub const VARS: u32 = 0x0013_0000;
/// Top of the stack the body runs on.
const STACK0: u32 = 0x0015_0000;
/// Top of the ring-0 stack the TSS gives interrupts from ring 3.
pub const ISTACK: u32 = 0x0016_0000;
/// Top of the ring-3 stack.
pub const STACK3: u32 = 0x0017_0000;
/// From here on, RAM is the tests' own (page tables, pages, stacks of other tasks).
pub const FREE: u32 = 0x0020_0000;

/// Selectors of the fixed GDT entries; the ring-3 ones carry RPL 3.
pub const CODE0: u16 = 0x08;
pub const DATA0: u16 = 0x10;
pub const CODE3: u16 = 0x18 | 3;
pub const DATA3: u16 = 0x20 | 3;
pub const TSS0: u16 = 0x28;
/// The first selector `Kernel::descriptor` hands out.
const FIRST_EXTRA: u16 = 0x30;
const GDT_ENTRIES: usize = 64;

/// Vectors the IDT holds: the exceptions, and a few for software interrupts.
pub const VECTORS: u8 = 0x50;
/// `INT 0x30` from ring 3 continues at ring 0 after the INT (see `Kernel::to_ring0`).
pub const TO_RING0: u8 = 0x30;

/// The runtime's variables.
pub mod var {
    use super::VARS;
    /// The last exception the handler caught: vector, error code (0 if none), and the
    /// interrupted CS, EIP and EFLAGS.
    pub const VECTOR: u32 = VARS;
    pub const ERROR: u32 = VARS + 4;
    pub const EIP: u32 = VARS + 8;
    pub const CS: u32 = VARS + 12;
    pub const EFLAGS: u32 = VARS + 16;
    /// The interrupted SS:ESP, meaningful when it came from ring 3.
    pub const ESP: u32 = VARS + 20;
    pub const SS: u32 = VARS + 24;
    /// Exceptions caught so far.
    pub const COUNT: u32 = VARS + 28;
    /// Where the handler resumes the interrupted code (once); 0: the exception is unexpected.
    pub const RESUME: u32 = VARS + 32;
    /// The ring-0 ESP `to_ring3` left, which `to_ring0` returns to.
    pub const SAVED_ESP: u32 = VARS + 36;
    pub(super) const TO_RING0_RETURN: u32 = VARS + 40;
    pub(super) const NO_FAULT_COUNT: u32 = VARS + 44;
    /// Free for the tests.
    pub const SCRATCH: u32 = VARS + 0x100;
}

/// An IDT entry other than the runtime's default (a DPL 0 interrupt gate to the recording
/// handler).
#[derive(Clone, Copy, Debug)]
pub enum Gate {
    Interrupt {
        handler: Label,
        dpl3: bool,
    },
    Trap {
        handler: Label,
        dpl3: bool,
    },
    Task(u16),
    /// The default handler through a gate of another kind, DPL or presence.
    Default {
        access: u8,
    },
    /// Any descriptor.
    Raw(u64),
}

/// Where an expected exception leaves the saved EIP.
enum Saved {
    Start,
    After,
    At(u32),
    Undefined,
}

/// Exceptions that push an error code.
fn has_error_code(vector: u8) -> bool {
    matches!(vector, 8 | 10..=14 | 17)
}

/// A 32-bit TSS image: what a task starts with. Segment registers are the flat ring-0 ones
/// (FS the ring-3 data segment, as everywhere).
#[derive(Clone, Copy, Debug)]
pub struct Tss {
    pub cr3: u32,
    pub eip: u32,
    pub eflags: u32,
    pub eax: u32,
    pub esp: u32,
}

impl Tss {
    pub fn new(eip: u32, stack: u32) -> Tss {
        Tss {
            cr3: 0,
            eip,
            eflags: 0x2,
            eax: 0,
            esp: stack,
        }
    }

    fn words(&self) -> [u32; 26] {
        let mut words = [0; 26];
        words[1] = ISTACK;
        words[2] = u32::from(DATA0);
        words[7] = self.cr3;
        words[8] = self.eip;
        words[9] = self.eflags;
        words[10] = self.eax;
        words[14] = self.esp;
        // ES, CS, SS, DS, FS, GS.
        let selectors = [DATA0, CODE0, DATA0, DATA0, DATA3, DATA0];
        for (i, selector) in selectors.into_iter().enumerate() {
            words[18 + i] = u32::from(selector);
        }
        // No I/O bitmap: its offset lies beyond the limit.
        words[25] = 0x68 << 16;
        words
    }
}

/// TSS field offsets the tests inspect.
pub mod tss {
    pub const LINK: u32 = 0;
    pub const CR3: u32 = 28;
    pub const EIP: u32 = 32;
    pub const EFLAGS: u32 = 36;
    pub const EAX: u32 = 40;
    pub const ESP: u32 = 56;
}

/// A test kernel being written: the assembler, plus the tables the runtime emits at the end.
pub struct Kernel<'a> {
    asm: &'a mut Asm,
    code: usize,
    data: usize,
    descriptors: Vec<u64>,
    gates: BTreeMap<u8, Gate>,
    extra_data: Vec<(Label, Vec<u32>)>,
}

impl std::ops::Deref for Kernel<'_> {
    type Target = Asm;
    fn deref(&self) -> &Asm {
        self.asm
    }
}

impl std::ops::DerefMut for Kernel<'_> {
    fn deref_mut(&mut self) -> &mut Asm {
        self.asm
    }
}

/// Builds the multiboot image of a kernel running `body`.
pub fn build(body: fn(&mut Kernel) -> Result) -> Result<Vec<u8>> {
    assemble(0, 0, |asm| {
        let mut k = Kernel::new(asm)?;
        k.prologue()?;
        body(&mut k)?;
        k.exit(0)?;
        let idt = k.runtime()?;
        k.tables(&idt)
    })
}

impl<'a> Kernel<'a> {
    fn new(asm: &'a mut Asm) -> Result<Kernel<'a>> {
        // The multiboot header with load addresses (flags bit 16): the whole file at KERNEL,
        // entered just after the header.
        const MAGIC: u32 = 0x1BAD_B002;
        const FLAGS: u32 = 1 << 16;
        asm.section(32, KERNEL, 0)?;
        asm.dd(&[
            MAGIC,
            FLAGS,
            MAGIC.wrapping_add(FLAGS).wrapping_neg(),
            KERNEL,
            KERNEL,
            0,
            0,
            ENTRY,
        ])?;
        let data = asm.section(32, DATA, (DATA - KERNEL) as usize)?;
        let code = asm.section(32, ENTRY, (ENTRY - KERNEL) as usize)?;
        Ok(Kernel {
            asm,
            code,
            data,
            descriptors: Vec::new(),
            gates: BTreeMap::new(),
            extra_data: Vec::new(),
        })
    }

    /// Own flat segments, the IDT and the task register.
    fn prologue(&mut self) -> Result {
        self.cli()?;
        self.mov(esp, STACK0)?;
        self.lgdt(ptr(GDT_POINTER))?;
        let reload = self.label();
        let target = self.addr(reload);
        self.jmp_far(CODE0, target)?;
        self.bind(reload)?;
        self.mov(ax, u32::from(DATA0))?;
        for segment in [ds, es, gs, ss] {
            self.mov(segment, ax)?;
        }
        self.mov(ax, u32::from(DATA3))?;
        self.mov(fs, ax)?;
        self.lidt(ptr(IDT_POINTER))?;
        self.mov(ax, u32::from(TSS0))?;
        self.ltr(ax)?;
        Ok(())
    }

    /// Adds a GDT entry; returns its selector (RPL 0).
    pub fn descriptor(&mut self, raw: u64) -> u16 {
        self.descriptors.push(raw);
        FIRST_EXTRA + 8 * (self.descriptors.len() as u16 - 1)
    }

    /// Replaces the default IDT entry for `vector`.
    pub fn gate(&mut self, vector: u8, gate: Gate) {
        self.gates.insert(vector, gate);
    }

    /// Adds a TSS to the data section; returns its address.
    pub fn tss(&mut self, tss: Tss) -> u32 {
        self.data_words(tss.words().to_vec())
    }

    /// Adds words to the data section; returns their address.
    pub fn data_words(&mut self, words: Vec<u32>) -> u32 {
        let label = self.label();
        self.extra_data.push((label, words));
        self.addr(label)
    }

    /// Emits `body` out of line (jumped over) and returns where it starts: a handler or a
    /// routine that other code reaches by a gate, a call or a task switch.
    pub fn routine(&mut self, body: impl FnOnce(&mut Kernel) -> Result) -> Result<Label> {
        let (start, over) = (self.label(), self.label());
        self.jmp(over)?;
        self.bind(start)?;
        body(self)?;
        self.bind(over)?;
        Ok(start)
    }

    /// Emits `body` in a section of its own at `origin` (inside the kernel's 64 KiB of code,
    /// above what the code uses), then goes on in the code section.
    pub fn place_at(&mut self, origin: u32, body: impl FnOnce(&mut Kernel) -> Result) -> Result {
        let code = self.code;
        let offset = origin
            .checked_sub(KERNEL)
            .ok_or(Error(format!("{origin:#X} lies below the kernel")))?;
        self.section(32, origin, offset as usize)?;
        body(self)?;
        self.switch_to(code);
        Ok(())
    }

    /// The current address in the code (for a saved EIP), as a new label.
    pub fn position(&mut self) -> Result<u32> {
        let label = self.here()?;
        Ok(self.addr(label))
    }

    /// Runs `body` (one instruction) expecting the fault `vector` with `error` (if it has one)
    /// and the saved EIP on that instruction; then goes on after it.
    pub fn expect_fault<R: Emitted>(
        &mut self,
        what: &str,
        vector: u8,
        error: Option<u32>,
        body: impl FnOnce(&mut Kernel) -> R,
    ) -> Result {
        self.expect(what, vector, error, Saved::Start, body)
    }

    /// Like `expect_fault`, for a trap: the saved EIP is just past `body`.
    pub fn expect_trap<R: Emitted>(
        &mut self,
        what: &str,
        vector: u8,
        body: impl FnOnce(&mut Kernel) -> R,
    ) -> Result {
        self.expect(what, vector, None, Saved::After, body)
    }

    /// Like `expect_fault`, for a fault at `eip` elsewhere (the target of a branch).
    pub fn expect_fault_at<R: Emitted>(
        &mut self,
        what: &str,
        vector: u8,
        error: Option<u32>,
        eip: u32,
        body: impl FnOnce(&mut Kernel) -> R,
    ) -> Result {
        self.expect(what, vector, error, Saved::At(eip), body)
    }

    /// Like `expect_fault`, for an abort (a double fault), whose saved EIP is undefined.
    pub fn expect_abort<R: Emitted>(
        &mut self,
        what: &str,
        vector: u8,
        error: Option<u32>,
        body: impl FnOnce(&mut Kernel) -> R,
    ) -> Result {
        self.expect(what, vector, error, Saved::Undefined, body)
    }

    fn expect<R: Emitted>(
        &mut self,
        what: &str,
        vector: u8,
        error: Option<u32>,
        saved: Saved,
        body: impl FnOnce(&mut Kernel) -> R,
    ) -> Result {
        let (start, after, resume) = (self.label(), self.label(), self.label());
        let resume_at = self.addr(resume);
        self.mov(dword_ptr(var::RESUME).fs(), resume_at)?;
        self.mov(dword_ptr(var::VECTOR).fs(), u32::MAX)?;
        self.bind(start)?;
        body(self).emitted()?;
        self.bind(after)?;
        self.fail(&format!("{what}: no exception"))?;
        self.bind(resume)?;
        self.check_eq(
            dword_ptr(var::VECTOR).fs(),
            u32::from(vector),
            &format!("{what}: vector"),
        )?;
        if let Some(code) = error {
            self.check_eq(
                dword_ptr(var::ERROR).fs(),
                code,
                &format!("{what}: error code"),
            )?;
        }
        let eip = match saved {
            Saved::Start => self.addr(start),
            Saved::After => self.addr(after),
            Saved::At(eip) => eip,
            Saved::Undefined => return Ok(()),
        };
        self.check_eq(dword_ptr(var::EIP).fs(), eip, &format!("{what}: saved EIP"))
    }

    /// Runs `body` expecting no exception at all. Changes no register itself.
    pub fn expect_no_fault<R: Emitted>(
        &mut self,
        what: &str,
        body: impl FnOnce(&mut Kernel) -> R,
    ) -> Result {
        self.push(dword_ptr(var::COUNT).fs())?;
        self.pop(dword_ptr(var::NO_FAULT_COUNT).fs())?;
        body(self).emitted()?;
        self.push(eax)?;
        self.mov(eax, dword_ptr(var::COUNT).fs())?;
        self.cmp(eax, dword_ptr(var::NO_FAULT_COUNT).fs())?;
        self.pop(eax)?;
        self.check(Cc::E, what)
    }

    /// Continues at CPL 3 (flat ring-3 code and stack, DS and ES the ring-3 data segment),
    /// with EFLAGS `eflags`.
    pub fn to_ring3(&mut self, eflags: u32) -> Result {
        let ring3 = self.label();
        self.mov(dword_ptr(var::SAVED_ESP).fs(), esp)?;
        self.push(eax)?;
        self.mov(ax, u32::from(DATA3))?;
        self.mov(ds, ax)?;
        self.mov(es, ax)?;
        self.pop(eax)?;
        self.push(u32::from(DATA3))?;
        self.push(STACK3)?;
        self.push(eflags)?;
        self.push(u32::from(CODE3))?;
        let target = self.addr(ring3);
        self.push(target)?;
        self.iretd()?;
        self.bind(ring3)
    }

    /// From CPL 3 back to CPL 0, on the stack `to_ring3` left, with DS and ES the ring-0
    /// data segment. Registers other than ESP are kept.
    pub fn to_ring0(&mut self) -> Result {
        self.int(u32::from(TO_RING0))?;
        self.push(eax)?;
        self.mov(ax, u32::from(DATA0))?;
        self.mov(ds, ax)?;
        self.mov(es, ax)?;
        self.pop(eax)?;
        Ok(())
    }

    /// Reads a GDT entry's access byte into AL.
    pub fn access_byte(&mut self, selector: u16) -> Result {
        self.mov(al, byte_ptr(GDT + u32::from(selector & !7) + 5).fs())?;
        Ok(())
    }

    /// EFLAGS into EAX.
    pub fn flags_to_eax(&mut self) -> Result {
        self.pushfd()?;
        self.pop(eax)?;
        Ok(())
    }

    /// The exception handler and its stubs, the ring-0 return gate and the failure report;
    /// returns the IDT.
    fn runtime(&mut self) -> Result<Vec<u64>> {
        let common = self.label();
        let mut stubs = Vec::new();
        for vector in 0..VECTORS {
            stubs.push(self.here()?);
            if !has_error_code(vector) {
                self.push(0)?;
            }
            self.push(u32::from(vector))?;
            self.jmp(common)?;
        }
        self.bind(common)?;
        self.exception_handler()?;

        let to_ring0 = self.here()?;
        self.pop(dword_ptr(var::TO_RING0_RETURN).ss())?;
        self.mov(esp, dword_ptr(var::SAVED_ESP).ss())?;
        self.jmp(dword_ptr(var::TO_RING0_RETURN).ss())?;

        let report = self.here()?;
        self.report()?;
        self.set_report(report);

        let mut idt = Vec::new();
        for (vector, stub) in (0..VECTORS).zip(stubs) {
            let default = if vector == TO_RING0 {
                Gate::Interrupt {
                    handler: to_ring0,
                    dpl3: true,
                }
            } else {
                Gate::Default {
                    access: access::INTERRUPT_GATE32,
                }
            };
            let dpl = |dpl3| if dpl3 { access::DPL3 } else { 0 };
            idt.push(match self.gates.get(&vector).copied().unwrap_or(default) {
                Gate::Interrupt { handler, dpl3 } => {
                    let offset = self.addr(handler);
                    gate(CODE0, offset, access::INTERRUPT_GATE32 | dpl(dpl3), 0)
                }
                Gate::Trap { handler, dpl3 } => {
                    let offset = self.addr(handler);
                    gate(CODE0, offset, access::TRAP_GATE32 | dpl(dpl3), 0)
                }
                Gate::Task(selector) => gate(selector, 0, access::TASK_GATE, 0),
                Gate::Default { access } => {
                    let offset = self.addr(stub);
                    gate(CODE0, offset, access, 0)
                }
                Gate::Raw(raw) => raw,
            });
        }
        Ok(idt)
    }

    /// Records the exception in the variables, then resumes where `var::RESUME` says or, if
    /// it says nothing, reports the exception as unexpected and exits 0x100 + vector.
    fn exception_handler(&mut self) -> Result {
        // The stack: vector, error code, EIP, CS, EFLAGS (and ESP, SS from ring 3).
        self.push(ds)?;
        self.push(eax)?;
        self.mov(ax, u32::from(DATA0))?;
        self.mov(ds, ax)?;
        let frame = [
            var::VECTOR,
            var::ERROR,
            var::EIP,
            var::CS,
            var::EFLAGS,
            var::ESP,
            var::SS,
        ];
        for (i, variable) in frame.into_iter().enumerate() {
            self.mov(eax, dword_ptr(esp + 8 + 4 * i as u32))?;
            self.mov(dword_ptr(variable), eax)?;
        }
        self.inc(dword_ptr(var::COUNT))?;
        let unexpected = self.label();
        self.mov(eax, dword_ptr(var::RESUME))?;
        self.test(eax, eax)?;
        self.jz(unexpected)?;
        self.mov(dword_ptr(esp + 16), eax)?;
        self.mov(dword_ptr(var::RESUME), 0)?;
        self.pop(eax)?;
        self.pop(ds)?;
        self.add(esp, 8)?;
        self.iretd()?;

        self.bind(unexpected)?;
        self.print("unexpected exception ")?;
        self.mov(edx, dword_ptr(var::VECTOR))?;
        self.print_hex()?;
        self.print(" error ")?;
        self.mov(edx, dword_ptr(var::ERROR))?;
        self.print_hex()?;
        self.print(" at ")?;
        self.mov(edx, dword_ptr(var::CS))?;
        self.print_hex()?;
        self.print(":")?;
        self.mov(edx, dword_ptr(var::EIP))?;
        self.print_hex()?;
        self.print("\n")?;
        self.mov(eax, dword_ptr(var::VECTOR))?;
        self.or(eax, 0x100)?;
        self.out(u32::from(EXIT), eax)?;
        self.stop()
    }

    /// Where a failed check's stub goes after printing what failed: adds EAX as it was (now
    /// in EBX) and the last exception, then exits with the check's number (in EBP). Reads the
    /// variables through CS, which is flat in every test.
    fn report(&mut self) -> Result {
        self.print(" (eax=")?;
        self.mov(edx, ebx)?;
        self.print_hex()?;
        for (text, variable) in [
            ("; last exception ", var::VECTOR),
            (" error ", var::ERROR),
            (" at ", var::EIP),
        ] {
            self.print(text)?;
            self.mov(edx, dword_ptr(variable).cs())?;
            self.print_hex()?;
        }
        self.print(")\n")?;
        self.mov(eax, ebp)?;
        self.out(u32::from(EXIT), eax)?;
        self.stop()
    }

    /// Prints EDX as eight hex digits (clobbers EAX, ECX, EDX).
    fn print_hex(&mut self) -> Result {
        self.mov(ecx, 8)?;
        let next = self.here()?;
        self.rol(edx, 4)?;
        self.mov(al, dl)?;
        self.and(al, 0xF)?;
        self.cmp(al, 10)?;
        let digit = self.label();
        self.jb(digit)?;
        self.add(al, i32::from(b'A' - b'0' - 10))?;
        self.bind(digit)?;
        self.add(al, i32::from(b'0'))?;
        self.out(u32::from(CONSOLE), al)?;
        self.loop_(next)?;
        Ok(())
    }

    /// The data section: GDT, IDT, the kernel's TSS, then the tests' data.
    fn tables(&mut self, idt: &[u64]) -> Result {
        let data = self.data;
        self.switch_to(data);
        let mut gdt = vec![
            0,
            flat(access::CODE_R | access::ACCESSED),
            flat(access::DATA_W | access::ACCESSED),
            flat(access::CODE_R | access::ACCESSED | access::DPL3),
            flat(access::DATA_W | access::ACCESSED | access::DPL3),
            segment(TSS, TSS_END - TSS - 1, access::TSS32, 0),
        ];
        gdt.extend_from_slice(&self.descriptors);
        if gdt.len() > GDT_ENTRIES {
            return Err(Error(format!(
                "{} GDT entries; the kernel has room for {GDT_ENTRIES}",
                gdt.len()
            )));
        }
        gdt.resize(GDT_ENTRIES, 0);
        self.dq(&gdt)?;
        self.dw(&[(GDT_ENTRIES * 8 - 1) as u16])?;
        self.dd(&[GDT])?;
        self.dw(&[0, u16::from(VECTORS) * 8 - 1])?;
        self.dd(&[IDT])?;
        self.pad(IDT_POINTER + 6, IDT)?;
        self.dq(idt)?;
        self.pad(IDT + 8 * idt.len() as u32, TSS)?;
        self.kernel_tss()?;
        self.pad(TSS_END, EXTRA_DATA)?;
        let mut at = EXTRA_DATA;
        for (label, words) in std::mem::take(&mut self.extra_data) {
            self.bind(label)?;
            self.dd(&words)?;
            let end = at + 4 * words.len() as u32;
            at = end.next_multiple_of(16);
            self.pad(end, at)?;
        }
        Ok(())
    }

    /// Zero bytes from `from` up to `to` in the data section.
    fn pad(&mut self, from: u32, to: u32) -> Result {
        if to > from {
            self.db(&vec![0; (to - from) as usize])?;
        }
        Ok(())
    }

    /// The kernel task's TSS: the ring-0 stack for interrupts from ring 3, and an I/O bitmap
    /// that lets ring 3 use the console and exit ports (so failure reports work there) and
    /// nothing else below 0x400; ports from 0x400 lie beyond the TSS limit.
    fn kernel_tss(&mut self) -> Result {
        let mut words = [0u32; 26];
        words[1] = ISTACK;
        words[2] = u32::from(DATA0);
        words[25] = 0x68 << 16;
        self.dd(&words)?;
        let mut bitmap = vec![0xFFu8; IO_BITMAP_BYTES as usize + 1];
        for port in [0xE9u16, 0xF4, 0xF5, 0xF6, 0xF7] {
            bitmap[usize::from(port / 8)] &= !(1 << (port % 8));
        }
        self.db(&bitmap)?;
        Ok(())
    }
}
