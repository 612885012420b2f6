//! A small macro assembler over iced-x86's `CodeAssembler`, for x86 programs written in Rust
//! as assembly: the CPU's test programs and the built-in boot ROM.
//!
//! - A program has sections: 16- or 32-bit code or data, each with the address its first byte
//!   has (an IP or a linear address) and its place in the image.
//! - Labels are shared by all sections. Branches take them directly; [`Asm::addr`] gives a
//!   label's address as a number, for immediates and data. [`assemble`] runs the program text
//!   until every label's address is the same as in the pass before (addresses decide the size
//!   of some encodings, so this takes two or three passes).
//! - Checks ([`Asm::check`]) branch to a failure stub that prints what failed on the test
//!   machine's console, one `OUT` per character (no stack, no data segment needed), and writes
//!   the check's number to the exit port.

use iced_x86::code_asm::asm_traits::CodeAsmCmp;
use iced_x86::code_asm::{CodeAssembler, CodeLabel, al, eax, ebp, ebx};
use iced_x86::{BlockEncoderOptions, IcedError};
use std::collections::{HashMap, HashSet};
use std::fmt;

pub use iced_x86::code_asm;

/// A place in the program: a branch target, or an address.
pub type Label = CodeLabel;

/// The test machine's console and exit ports (its defaults).
pub const CONSOLE: u8 = 0xE9;
pub const EXIT: u8 = 0xF4;

/// Passes after which the label addresses must have settled.
const MAX_PASSES: usize = 8;
/// The address of a label on the first pass, before any is known: too large for a
/// sign-extended byte, small enough for a 16-bit immediate.
const UNKNOWN: u32 = 0x1000;

/// Why a program could not be assembled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<IcedError> for Error {
    fn from(error: IcedError) -> Error {
        Error(error.to_string())
    }
}

pub type Result<T = ()> = std::result::Result<T, Error>;

/// What emitting code returns: this module's `Result`, or iced's, so that a closure holding
/// one instruction needs no conversion.
pub trait Emitted {
    fn emitted(self) -> Result;
}

impl Emitted for Result {
    fn emitted(self) -> Result {
        self
    }
}

impl Emitted for std::result::Result<(), IcedError> {
    fn emitted(self) -> Result {
        Ok(self?)
    }
}

/// Conditions a check can require, after a CMP or TEST.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cc {
    E,
    Ne,
    /// Unsigned below (CF set).
    B,
    Ae,
    /// Unsigned above.
    A,
}

struct Section {
    code: CodeAssembler,
    /// The address of the section's first byte, as its own code and labels see it.
    origin: u32,
    /// Where the section goes in the image.
    offset: usize,
    /// Failure stubs still to be emitted at the end of the section.
    stubs: Vec<Stub>,
}

struct Stub {
    label: Label,
    number: u32,
    what: String,
}

/// One pass over a program's text.
pub struct Asm {
    sections: Vec<Section>,
    current: usize,
    /// Makes every label, so that labels are unique across the sections' assemblers.
    labels: CodeAssembler,
    /// Label addresses from the previous pass.
    known: HashMap<Label, u32>,
    /// Labels bound in this pass, as (section, label carrying its instruction index).
    bound: Vec<(usize, Label)>,
    bound_set: HashSet<Label>,
    /// Labels whose address was asked for.
    wanted: HashSet<Label>,
    checks: u32,
    /// A 32-bit routine the failure stubs of 32-bit sections jump to (with the check number in
    /// EBP and the failing EAX in EBX) instead of exiting themselves.
    report: Option<Label>,
}

impl std::ops::Deref for Asm {
    type Target = CodeAssembler;
    fn deref(&self) -> &CodeAssembler {
        &self.sections[self.current].code
    }
}

impl std::ops::DerefMut for Asm {
    fn deref_mut(&mut self) -> &mut CodeAssembler {
        &mut self.sections[self.current].code
    }
}

impl Asm {
    /// Code before the first `section` goes to an empty 32-bit one at address and offset 0.
    fn new(known: HashMap<Label, u32>) -> Result<Asm> {
        Ok(Asm {
            sections: vec![Section {
                code: CodeAssembler::new(32)?,
                origin: 0,
                offset: 0,
                stubs: Vec::new(),
            }],
            current: 0,
            labels: CodeAssembler::new(32)?,
            known,
            bound: Vec::new(),
            bound_set: HashSet::new(),
            wanted: HashSet::new(),
            checks: 0,
            report: None,
        })
    }

    /// Starts a section of `bitness`-bit code (or data) whose first byte is at `origin` and
    /// lies `offset` bytes into the image; what follows goes there. Returns its number.
    pub fn section(&mut self, bitness: u32, origin: u32, offset: usize) -> Result<usize> {
        self.sections.push(Section {
            code: CodeAssembler::new(bitness)?,
            origin,
            offset,
            stubs: Vec::new(),
        });
        self.current = self.sections.len() - 1;
        Ok(self.current)
    }

    /// Continues a section started earlier.
    pub fn switch_to(&mut self, section: usize) {
        self.current = section;
    }

    pub fn label(&mut self) -> Label {
        self.labels.create_label()
    }

    /// Binds `label` to the current position.
    pub fn bind(&mut self, label: Label) -> Result {
        if !self.bound_set.insert(label) {
            return Err(Error(format!("{label:?} bound twice")));
        }
        let mut bound = label;
        self.set_label(&mut bound)?;
        // A zero-length pseudo-instruction carries the label, so that labels may follow one
        // another and their addresses never move with a branch the encoder lengthens.
        self.zero_bytes()?;
        self.bound.push((self.current, bound));
        Ok(())
    }

    /// A new label bound here.
    pub fn here(&mut self) -> Result<Label> {
        let label = self.label();
        self.bind(label)?;
        Ok(label)
    }

    /// The address of `label` (from the previous pass; a placeholder on the first).
    pub fn addr(&mut self, label: Label) -> u32 {
        self.wanted.insert(label);
        self.known.get(&label).copied().unwrap_or(UNKNOWN)
    }

    /// NOPs up to `address`, so that what follows starts there. An error if the code is
    /// already past it.
    pub fn pad_to(&mut self, address: u32) -> Result {
        let here = self.here()?;
        let Some(&at) = self.known.get(&here) else {
            return Ok(());
        };
        let gap = address
            .checked_sub(at)
            .ok_or(Error(format!("code at {at:#X} runs past {address:#X}")))?;
        self.db(&vec![0x90; gap as usize])?;
        Ok(())
    }

    pub fn set_report(&mut self, routine: Label) {
        self.report = Some(routine);
    }

    /// Continues only if `holds` (a condition on the flags); otherwise reports `what`.
    pub fn check(&mut self, holds: Cc, what: &str) -> Result {
        let stub = self.stub(what);
        match holds {
            Cc::E => self.jne(stub),
            Cc::Ne => self.je(stub),
            Cc::B => self.jae(stub),
            Cc::Ae => self.jb(stub),
            Cc::A => self.jbe(stub),
        }?;
        Ok(())
    }

    /// Reports `what` as failed if `value` is not `expected`.
    pub fn check_eq<T, U>(&mut self, value: T, expected: U, what: &str) -> Result
    where
        CodeAssembler: CodeAsmCmp<T, U>,
    {
        self.cmp(value, expected)?;
        self.check(Cc::E, what)
    }

    /// Reports `what` as failed if control gets here.
    pub fn fail(&mut self, what: &str) -> Result {
        let stub = self.stub(what);
        self.jmp(stub)?;
        Ok(())
    }

    /// A failure stub for a new check, emitted at the end of the current section.
    fn stub(&mut self, what: &str) -> Label {
        self.checks += 1;
        let label = self.label();
        let number = self.checks;
        self.sections[self.current].stubs.push(Stub {
            label,
            number,
            what: what.to_string(),
        });
        label
    }

    /// Writes `text` to the console, one immediate byte at a time (clobbers AL).
    pub fn print(&mut self, text: &str) -> Result {
        for byte in text.bytes() {
            self.mov(al, u32::from(byte))?;
            self.out(u32::from(CONSOLE), al)?;
        }
        Ok(())
    }

    /// Writes `value` to the exit port and stops there.
    pub fn exit(&mut self, value: u32) -> Result {
        self.mov(eax, value)?;
        self.out(u32::from(EXIT), eax)?;
        self.stop()
    }

    /// Spins here for good: after the exit port, the machine stops at its next check.
    pub fn stop(&mut self) -> Result {
        let spin = self.here()?;
        self.jmp(spin)?;
        Ok(())
    }

    fn emit_stubs(&mut self) -> Result {
        for index in 0..self.sections.len() {
            self.current = index;
            let stubs = std::mem::take(&mut self.sections[index].stubs);
            let bitness = self.sections[index].code.bitness();
            for stub in stubs {
                self.bind(stub.label)?;
                if bitness == 32 && self.report.is_some() {
                    self.mov(ebx, eax)?;
                }
                self.print(&format!("check {} failed: {}", stub.number, stub.what))?;
                match self.report {
                    Some(report) if bitness == 32 => {
                        self.mov(ebp, stub.number)?;
                        self.jmp(report)?;
                    }
                    _ => {
                        self.print("\n")?;
                        self.exit(stub.number)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Emits the failure stubs, encodes every section and lays them out in an image of `size`
    /// bytes (or as long as the sections need, if `size` is 0) filled with `fill`.
    fn finish(mut self, size: usize, fill: u8) -> Result<(Vec<u8>, HashMap<Label, u32>)> {
        self.emit_stubs()?;
        let mut image = vec![fill; size];
        let mut addresses = HashMap::new();
        let mut ends: Vec<(usize, usize)> = Vec::new();
        for (index, section) in self.sections.iter_mut().enumerate() {
            let result = section.code.assemble_options(
                u64::from(section.origin),
                BlockEncoderOptions::RETURN_NEW_INSTRUCTION_OFFSETS,
            )?;
            for (_, label) in self.bound.iter().filter(|(s, _)| *s == index) {
                addresses.insert(*label, result.label_ip(label)? as u32);
            }
            let bytes = &result.inner.code_buffer;
            let (start, end) = (section.offset, section.offset + bytes.len());
            if let Some(other) = ends.iter().find(|(s, e)| start < *e && *s < end) {
                return Err(Error(format!(
                    "section at image offset {start:#X}..{end:#X} overlaps {:#X}..{:#X}",
                    other.0, other.1
                )));
            }
            ends.push((start, end));
            if size == 0 && image.len() < end {
                image.resize(end, fill);
            }
            image
                .get_mut(start..end)
                .ok_or(Error(format!(
                    "section at image offset {start:#X}..{end:#X} does not fit in {size:#X} bytes"
                )))?
                .copy_from_slice(bytes);
        }
        if let Some(label) = self.wanted.iter().find(|l| !addresses.contains_key(*l)) {
            return Err(Error(format!(
                "the address of {label:?} is used but it is never bound"
            )));
        }
        Ok((image, addresses))
    }
}

/// Assembles the program that `text` writes into an image of `size` bytes (0: as long as its
/// sections need) filled with `fill`, passing over the text until the labels settle.
pub fn assemble(size: usize, fill: u8, text: impl Fn(&mut Asm) -> Result) -> Result<Vec<u8>> {
    let mut known = HashMap::new();
    for _ in 0..MAX_PASSES {
        let mut asm = Asm::new(known.clone())?;
        text(&mut asm)?;
        let (image, addresses) = asm.finish(size, fill)?;
        if addresses == known {
            return Ok(image);
        }
        known = addresses;
    }
    Err(Error(format!(
        "label addresses still moving after {MAX_PASSES} passes"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::code_asm::*;

    #[test]
    fn labels_resolve_across_sections_as_immediates_and_branches() {
        let image = assemble(0, 0, |a| {
            a.section(32, 0x1000, 0)?;
            let data = a.label();
            let target = a.label();
            let address = a.addr(data);
            a.mov(eax, address)?; // B8 imm32
            a.jmp(target)?; // EB rel8
            a.nop()?;
            a.bind(target)?;
            a.ret()?;
            a.section(32, 0x2000, 0x10)?;
            a.bind(data)?;
            a.dd(&[0xDEAD_BEEF])?;
            Ok(())
        })
        .unwrap();
        assert_eq!(
            image,
            [
                0xB8, 0x00, 0x20, 0, 0, 0xEB, 0x01, 0x90, 0xC3, 0, 0, 0, 0, 0, 0, 0, 0xEF, 0xBE,
                0xAD, 0xDE
            ]
        );
    }

    #[test]
    fn unbound_and_twice_bound_labels_are_errors() {
        let unbound = assemble(0, 0, |a| {
            a.section(32, 0, 0)?;
            let nowhere = a.label();
            let address = a.addr(nowhere);
            a.mov(eax, address)?;
            Ok(())
        });
        assert!(unbound.unwrap_err().0.contains("never bound"));
        let twice = assemble(0, 0, |a| {
            a.section(32, 0, 0)?;
            let here = a.here()?;
            a.bind(here)
        });
        assert!(twice.unwrap_err().0.contains("bound twice"));
    }

    #[test]
    fn overlapping_sections_are_errors() {
        let overlap = assemble(0, 0, |a| {
            a.section(32, 0, 0)?;
            a.dd(&[1, 2])?;
            a.section(32, 4, 4)?;
            a.dd(&[3])?;
            Ok(())
        });
        assert!(overlap.unwrap_err().0.contains("overlaps"));
    }

    #[test]
    fn a_failed_check_prints_and_exits_with_its_number() {
        let image = assemble(0, 0, |a| {
            a.section(16, 0, 0)?;
            a.check_eq(ax, 1, "x")?;
            Ok(())
        })
        .unwrap();
        // cmp ax, 1; jne stub; stub: "check 1 failed: x\n", then mov eax, 1; out 0xF4, eax; jmp $.
        assert_eq!(&image[..6], [0x3D, 0x01, 0x00, 0x75, 0x00, 0xB0]);
        assert!(image.ends_with(&[0x66, 0xB8, 1, 0, 0, 0, 0x66, 0xE7, 0xF4, 0xEB, 0xFE]));
    }
}
