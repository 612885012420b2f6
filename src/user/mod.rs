//! A Linux i386 user-mode harness: runs a static ELF executable on the CPU interpreter at
//! CPL 3, with the system calls and signals such programs need (`oxbox user`).
//!
//! The harness is a small ring-0 kernel whose data structures live in guest memory: the CPU
//! enters it through its own IDT on INT 0x80 and on exceptions, and leaves it with IRET (see
//! `ring0`). `kernel` is the supervisor loop, `syscalls` the system calls, `signals` the
//! signal frames, `ldt` the LDT and TLS descriptors, `memory` the page tables and guest RAM,
//! `elf` and `exec` the loader. Nothing from the host's clock or randomness reaches the guest.

mod elf;
mod exec;
mod fpstate;
mod kernel;
mod layout;
mod ldt;
mod memory;
mod ring0;
mod signals;
mod syscalls;

pub use elf::ElfError;
pub use kernel::Exit;
use std::fmt;
use std::io::Write;

#[derive(Clone, Debug)]
pub struct Options {
    /// Guest RAM in bytes (the ring-0 area, page tables and every user page come from it).
    pub memory: u32,
    /// Stop after this many CPU cycles (about one per simple instruction).
    pub limit: Option<u64>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            memory: 512 << 20,
            limit: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub exit: Exit,
    pub cycles: u64,
    pub instructions: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    Elf(ElfError),
    /// Guest RAM is too small for the program and its stack.
    OutOfMemory,
    /// The arguments do not fit on the stack.
    Arguments,
    /// `Options::limit` was reached after this many cycles.
    Limit(u64),
    /// The harness itself went wrong (a bug): what happened.
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Error::Elf(error) => write!(f, "cannot load the program: {error}"),
            Error::OutOfMemory => write!(f, "guest memory is too small to load the program"),
            Error::Arguments => write!(f, "the arguments do not fit on the stack (2 MiB)"),
            Error::Limit(cycles) => write!(f, "stopped at the cycle limit ({cycles} cycles)"),
            Error::Internal(what) => write!(f, "internal error: {what}"),
        }
    }
}

impl std::error::Error for Error {}

/// A program to run.
#[derive(Clone, Copy, Debug)]
pub struct Program<'a> {
    /// The ELF file's contents.
    pub file: &'a [u8],
    /// Its absolute path, which /proc/self/exe names.
    pub path: &'a [u8],
    /// Its arguments, `args[0]` being its name.
    pub args: &'a [&'a [u8]],
}

/// Runs a program to its end. The guest's standard output and error go to `stdout` and
/// `stderr`; the harness's own notes go to `stderr` too, prefixed "oxbox user:".
pub fn run(
    program: &Program,
    options: Options,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<Outcome, Error> {
    kernel::Kernel::new(program, options, stdout, stderr)?.run()
}

/// The name of a signal, for messages.
pub fn signal_name(signal: u8) -> &'static str {
    const NAMES: [&str; 31] = [
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    NAMES
        .get(usize::from(signal).wrapping_sub(1))
        .copied()
        .unwrap_or("a real-time signal")
}
