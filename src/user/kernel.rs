//! The supervisor: runs the CPU until it enters ring 0, services the system call or turns the
//! exception into a signal, delivers pending signals, and returns to user mode.

use super::ldt::Ldt;
use super::memory::{BadAddress, Memory};
use super::ring0::{self, Context, Entry};
use super::signals::{self, Delivery, Info, SIGSEGV, Signals, Trap};
use super::syscalls::UID;
use super::{Error, Options, Outcome, Program, elf, exec, fpstate};
use crate::cpu::fault::vector;
use crate::cpu::state::reg;
use crate::cpu::{Cpu, Stop};
use std::collections::BTreeSet;
use std::io::Write;

/// How the guest ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// exit or exit_group with this status.
    Code(u8),
    /// Killed by this signal.
    Signal(u8),
}

/// What to do after servicing an entry.
pub(super) enum Flow {
    Continue,
    Exit(Exit),
    /// The harness went wrong (see `Error::Internal`).
    Fail(String),
}

/// Deterministic "random" bytes (SplitMix64 from a fixed seed) for AT_RANDOM and getrandom.
pub(super) struct Random(u64);

impl Random {
    pub(super) fn fill(&mut self, bytes: &mut [u8]) {
        for chunk in bytes.chunks_mut(8) {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

pub struct Kernel<'a> {
    pub(super) cpu: Cpu,
    pub(super) memory: Memory,
    pub(super) signals: Signals,
    pub(super) ldt: Ldt,
    /// The LDT changed: LDTR must be reloaded before user mode runs again.
    pub(super) ldt_changed: bool,
    /// The program break: where the heap starts, and where it ends now.
    pub(super) brk: (u32, u32),
    /// What the last exception reported (the sigcontext's trapno, err, cr2).
    trap: Trap,
    pub(super) exe: Vec<u8>,
    pub(super) random: Random,
    /// Unknown system calls already reported.
    pub(super) noted: BTreeSet<u32>,
    options: Options,
    pub(super) stdout: &'a mut dyn Write,
    pub(super) stderr: &'a mut dyn Write,
}

impl<'a> Kernel<'a> {
    /// Loads the program, ready to run.
    pub fn new(
        program: &Program,
        options: Options,
        stdout: &'a mut dyn Write,
        stderr: &'a mut dyn Write,
    ) -> Result<Kernel<'a>, Error> {
        let image = elf::parse(program.file).map_err(Error::Elf)?;
        let mut memory = Memory::new(options.memory).map_err(|_| Error::OutOfMemory)?;
        ring0::install(&mut memory);
        let brk = exec::load_segments(&mut memory, &image).map_err(|_| Error::OutOfMemory)?;
        let mut random = Random(0x0B0C_5EED);
        let mut auxv_random = [0; 16];
        random.fill(&mut auxv_random);
        let context = exec::build_stack(&mut memory, &image, program.args, auxv_random, UID)?;
        let mut cpu = Cpu::new();
        ring0::boot(&mut cpu, &mut memory, &context);
        Ok(Kernel {
            cpu,
            memory,
            signals: Signals::default(),
            ldt: Ldt::default(),
            ldt_changed: false,
            brk: (brk, brk),
            trap: Trap::default(),
            exe: program.path.to_vec(),
            random,
            noted: BTreeSet::new(),
            options,
            stdout,
            stderr,
        })
    }

    /// Runs the program to its end.
    pub fn run(mut self) -> Result<Outcome, Error> {
        let deadline = self.options.limit.unwrap_or(u64::MAX);
        loop {
            match self.cpu.run(&mut self.memory, deadline) {
                Stop::Halted => {}
                Stop::Deadline => return Err(Error::Limit(self.cpu.cycles)),
                Stop::Shutdown => {
                    return Err(Error::Internal(
                        "the CPU shut down (a fault while delivering a double fault)".into(),
                    ));
                }
            }
            let flow = match ring0::entry(&self.cpu, &self.memory) {
                Entry::User {
                    vector,
                    error,
                    mut context,
                } => {
                    let flow = if vector == 0x80 {
                        self.syscall(&mut context)
                    } else {
                        self.exception(&mut context, vector, error)
                    };
                    match flow {
                        Flow::Continue => self.return_to_user(context),
                        exit => exit,
                    }
                }
                Entry::BadSegment { slot } => {
                    ring0::retry_with_null_segment(&mut self.cpu, &mut self.memory, slot);
                    Flow::Continue
                }
                Entry::BadReturn { vector, error } => {
                    let _ = writeln!(
                        self.stderr,
                        "oxbox user: returning to the guest faulted (exception {vector}, error \
                         {error:#x}): its saved context is invalid"
                    );
                    Flow::Exit(Exit::Signal(SIGSEGV))
                }
                Entry::Unexpected(what) => return Err(Error::Internal(what)),
            };
            match flow {
                Flow::Continue => {}
                Flow::Exit(exit) => {
                    let _ = self.stdout.flush();
                    return Ok(Outcome {
                        exit,
                        cycles: self.cpu.cycles,
                        instructions: self.cpu.instructions,
                    });
                }
                Flow::Fail(what) => return Err(Error::Internal(what)),
            }
        }
    }

    /// Delivers the pending signals that are not blocked, then resumes user mode.
    fn return_to_user(&mut self, mut context: Context) -> Flow {
        while let Some(info) = self.signals.next_deliverable() {
            let flow = self.deliver(&mut context, info, false);
            if !matches!(flow, Flow::Continue) {
                return flow;
            }
        }
        if self.memory.freed_frames {
            // Freed frames are reused for new pages: drop any code decoded from them.
            self.cpu.flush_code();
            self.memory.freed_frames = false;
        }
        let reload = self.memory.stale_tlb || self.ldt_changed;
        self.memory.stale_tlb = false;
        self.ldt_changed = false;
        let ldt = reload.then(|| self.ldt.selector());
        ring0::resume(&mut self.cpu, &mut self.memory, &context, ldt);
        Flow::Continue
    }

    fn exception(&mut self, context: &mut Context, vector: u8, error: u32) -> Flow {
        if vector == vector::PF {
            self.trap.cr2 = self.cpu.cr2;
        }
        self.trap.trapno = u32::from(vector);
        self.trap.error = error;
        let info = signals::for_exception(vector, error, context.eip, self.cpu.cr2);
        self.deliver(context, info, true)
    }

    /// Delivers a signal; a handler gets the FPU state Linux gives one (FNINIT's), the
    /// interrupted code's being saved in the frame.
    pub(super) fn deliver(&mut self, context: &mut Context, info: Info, forced: bool) -> Flow {
        let images = match ring0::save_fpu(&mut self.cpu, &mut self.memory) {
            Ok(images) => images,
            Err(what) => return Flow::Fail(what),
        };
        let fpu = fpstate::frame(&images.fnsave, &images.fxsave);
        let delivery = self.signals.deliver(
            &mut self.memory,
            &mut self.cpu,
            context,
            info,
            self.trap,
            &fpu,
            forced,
        );
        match delivery {
            Ok(Delivery::Handled) => match ring0::reset_fpu(&mut self.cpu, &mut self.memory) {
                Ok(()) => Flow::Continue,
                Err(what) => Flow::Fail(what),
            },
            Ok(Delivery::Ignored) => Flow::Continue,
            Ok(Delivery::Terminate(signal)) => Flow::Exit(Exit::Signal(signal)),
            Err(_) => {
                let _ = writeln!(
                    self.stderr,
                    "oxbox user: no room for the frame of signal {} on the stack at {:#010x}",
                    info.signal,
                    context.regs[reg::ESP]
                );
                Flow::Exit(Exit::Signal(SIGSEGV))
            }
        }
    }

    /// sigreturn and rt_sigreturn: the context, mask and FPU state from the frame the handler
    /// returned through (no FPU state in it: FNINIT's, as Linux does).
    pub(super) fn sigreturn(&mut self, context: &mut Context, rt: bool) -> Flow {
        let fpu = match self.signals.sigreturn(&self.memory, context, rt) {
            Ok(fpu) => fpu,
            Err(BadAddress) => return self.bad_frame(),
        };
        let restored = if fpu == 0 {
            ring0::reset_fpu(&mut self.cpu, &mut self.memory)
        } else {
            let mut frame = [0; fpstate::SIZE as usize];
            if self.memory.read_user(fpu, &mut frame).is_err() {
                return self.bad_frame();
            }
            let image = fpstate::restore(&frame);
            ring0::load_fpu(&mut self.cpu, &mut self.memory, &image)
        };
        match restored {
            Ok(()) => Flow::Continue,
            Err(what) => Flow::Fail(what),
        }
    }

    /// A sigreturn whose frame cannot be read: the process dies as Linux kills it.
    pub(super) fn bad_frame(&mut self) -> Flow {
        let _ = writeln!(
            self.stderr,
            "oxbox user: sigreturn found no readable signal frame"
        );
        Flow::Exit(Exit::Signal(SIGSEGV))
    }
}
