//! `oxbox cpu-test system`: bare-metal programs that exercise every system feature of the CPU
//! interpreter on the test machine, each checking its own results from inside the guest.
//!
//! A case is a multiboot kernel (see [`kernel`]) or a raw ROM started at the reset vector.
//! It reports through the test machine's ports: the console says what failed, the exit port
//! carries 0 for a pass and the failed check's number otherwise. A few cases end in a triple
//! fault on purpose; they pass when the machine shuts down after the text they print first.
//! QEMU's multiboot `memory` test, built from its source (`ci/build-qemu-memory-test`), can
//! run as one more case.

mod alignment;
mod control;
mod debug;
pub mod descriptor;
mod faults;
mod identity;
mod interrupts;
mod io;
pub mod kernel;
mod paging;
mod privilege;
mod realmode;
mod segments;
mod smc;
mod tasks;

use crate::asm;
use crate::testmachine::{Config, Stop, TestMachine};
use kernel::Kernel;

/// Every case gets this many instructions; none needs a tenth of them.
const LIMIT: u64 = 2_000_000;
/// QEMU's memory test retires about 150 million.
const MEMORY_TEST_LIMIT: u64 = 1_000_000_000;
/// What QEMU's memory test prints when every access read back as it should.
const MEMORY_TEST_PASSED: &str = "Test complete: PASSED";

/// How a case's program is made.
#[derive(Clone, Copy)]
pub enum Source {
    /// A multiboot kernel: the runtime of `kernel` around this body.
    Kernel(fn(&mut Kernel) -> asm::Result),
    /// A raw ROM image.
    Rom(fn() -> asm::Result<Vec<u8>>),
}

/// How a case must end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The program writes 0 to the exit port.
    Pass,
    /// The processor shuts down (a triple fault) after the program printed this.
    Shutdown(&'static str),
}

#[derive(Clone, Copy)]
pub struct Case {
    pub name: &'static str,
    pub source: Source,
    pub expect: Expect,
}

impl Case {
    pub const fn kernel(name: &'static str, body: fn(&mut Kernel) -> asm::Result) -> Case {
        Case {
            name,
            source: Source::Kernel(body),
            expect: Expect::Pass,
        }
    }

    pub const fn rom(name: &'static str, build: fn() -> asm::Result<Vec<u8>>) -> Case {
        Case {
            name,
            source: Source::Rom(build),
            expect: Expect::Pass,
        }
    }

    /// A kernel that must end in a triple fault after printing `before`.
    pub const fn triple_fault(
        name: &'static str,
        before: &'static str,
        body: fn(&mut Kernel) -> asm::Result,
    ) -> Case {
        Case {
            name,
            source: Source::Kernel(body),
            expect: Expect::Shutdown(before),
        }
    }
}

/// The result of one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub name: String,
    pub passed: bool,
    /// How the run ended and what the program printed.
    pub detail: String,
}

/// Every case, in the order they run.
pub fn cases() -> Vec<Case> {
    [
        realmode::cases(),
        identity::cases(),
        control::cases(),
        segments::cases(),
        interrupts::cases(),
        privilege::cases(),
        paging::cases(),
        tasks::cases(),
        faults::cases(),
        debug::cases(),
        alignment::cases(),
        smc::cases(),
        io::cases(),
    ]
    .concat()
}

/// Assembles and runs one case.
pub fn run(case: &Case) -> Verdict {
    let image = match case.source {
        Source::Kernel(body) => kernel::build(body).map(|image| (image, true)),
        Source::Rom(build) => build().map(|image| (image, false)),
    };
    let (image, multiboot) = match image {
        Ok(built) => built,
        Err(error) => return verdict(case.name, false, format!("cannot assemble: {error}")),
    };
    let outcome = match boot_and_run(&image, multiboot, LIMIT) {
        Ok(outcome) => outcome,
        Err(error) => return verdict(case.name, false, error),
    };
    let console = String::from_utf8_lossy(&outcome.console).into_owned();
    let passed = match case.expect {
        Expect::Pass => outcome.stop == Stop::Exit(0),
        Expect::Shutdown(text) => outcome.stop == Stop::Shutdown && console.ends_with(text),
    };
    verdict(case.name, passed, describe(outcome.stop, &console))
}

/// Runs QEMU's multiboot memory test, the kernel at `image`.
pub fn run_memory_test(image: &[u8]) -> Verdict {
    const NAME: &str = "qemu/memory";
    let outcome = match boot_and_run(image, true, MEMORY_TEST_LIMIT) {
        Ok(outcome) => outcome,
        Err(error) => return verdict(NAME, false, error),
    };
    let console = String::from_utf8_lossy(&outcome.console).into_owned();
    let passed = console.lines().any(|line| line == MEMORY_TEST_PASSED);
    // Its output is long; the end tells what happened.
    let tail: Vec<&str> = console.lines().rev().take(3).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    verdict(NAME, passed, describe(outcome.stop, &tail.join("\n")))
}

fn boot_and_run(
    image: &[u8],
    multiboot: bool,
    limit: u64,
) -> Result<crate::testmachine::Outcome, String> {
    let mut machine = TestMachine::new(&Config::default()).map_err(|e| e.to_string())?;
    let booted = if multiboot {
        machine.boot_multiboot(image, "")
    } else {
        machine.boot_rom(image)
    };
    let mut cpu = booted.map_err(|e| format!("cannot boot: {e}"))?;
    Ok(machine.run(&mut cpu, limit, &mut |_| {}))
}

fn describe(stop: Stop, console: &str) -> String {
    let how = match stop {
        Stop::Exit(value) => format!("exit {value:#X}"),
        Stop::Halted { .. } => "halted".into(),
        Stop::Shutdown => "shutdown".into(),
        Stop::Limit => "instruction limit".into(),
    };
    if console.is_empty() {
        how
    } else {
        format!("{how}: {}", console.trim_end())
    }
}

fn verdict(name: &str, passed: bool, detail: String) -> Verdict {
    Verdict {
        name: name.into(),
        passed,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asm::code_asm::*;

    #[test]
    fn a_failed_check_reports_its_number_text_and_eax() {
        let verdict = run(&Case::kernel("failing", |k| {
            k.mov(eax, 5)?;
            k.check_eq(eax, 5, "five is five")?;
            k.check_eq(eax, 6, "five is six")
        }));
        assert!(!verdict.passed);
        assert!(
            verdict
                .detail
                .starts_with("exit 0x2: check 2 failed: five is six (eax=00000005;"),
            "{}",
            verdict.detail
        );
    }

    #[test]
    fn an_unexpected_exception_is_reported() {
        let verdict = run(&Case::kernel("faulting", |k| {
            k.ud2()?;
            Ok(())
        }));
        assert!(!verdict.passed);
        assert!(
            verdict.detail.starts_with(
                "exit 0x106: unexpected exception 00000006 error 00000000 at 00000008:"
            ),
            "{}",
            verdict.detail
        );
    }

    #[test]
    fn a_triple_fault_passes_only_after_its_text() {
        fn triple(k: &mut Kernel) -> asm::Result {
            k.xor(eax, eax)?;
            k.lidt(ptr(eax))?; // a zero-limit IDT: nothing can be delivered
            k.ud2()?;
            Ok(())
        }
        assert!(run(&Case::triple_fault("silent", "", triple)).passed);
        let verdict = run(&Case::triple_fault("missing text", "never printed", triple));
        assert!(!verdict.passed);
        assert_eq!(verdict.detail, "shutdown");
        let verdict = run(&Case::kernel("passing", |_| Ok(())));
        assert!(verdict.passed, "{}", verdict.detail);
    }
}
