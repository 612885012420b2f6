//! `oxbox cpu-test system`: the interpreter's system features, tested from inside the guest by
//! the bare-metal programs of `oxbox::cputest::system` on the test machine.

use oxbox::cputest::system::{self, Verdict};

pub const USAGE: &str = "\
usage: oxbox cpu-test system [--filter TEXT] [--memory-test FILE]

Runs bare-metal test programs on the test machine, one per system feature of the CPU
interpreter (real and protected mode, segment checks, paging and the TLB, interrupts and
exceptions, privilege levels, task switches, double and triple faults, CPUID, the TSC, MSRs,
control and debug registers, single-step, alignment checks, self-modifying code, the I/O
bitmap). Each checks its own results and reports through the machine's ports; a failure names
the check. --filter keeps the cases whose name contains TEXT. --memory-test adds QEMU's
multiboot memory test (tests/tcg/multiarch/system/memory.c, built by ci/build-qemu-memory-test),
which must print \"Test complete: PASSED\". Ends with the line
  system: P/T passed
and fails unless P = T.
";

pub fn run(args: &[String]) -> Result<(), String> {
    let mut filter = None;
    let mut memory_test = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().cloned().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--filter" => filter = Some(value()?),
            "--memory-test" => memory_test = Some(value()?),
            other => {
                return Err(format!(
                    "cpu-test system: unexpected argument {other}\n\n{USAGE}"
                ));
            }
        }
    }
    let mut verdicts: Vec<Verdict> = Vec::new();
    for case in system::cases() {
        if filter
            .as_ref()
            .is_some_and(|text| !case.name.contains(text.as_str()))
        {
            continue;
        }
        let verdict = system::run(&case);
        show(&verdict);
        verdicts.push(verdict);
    }
    if let Some(path) = memory_test {
        let image = std::fs::read(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let verdict = system::run_memory_test(&image);
        show(&verdict);
        verdicts.push(verdict);
    }
    let passed = verdicts.iter().filter(|v| v.passed).count();
    println!("system: {passed}/{} passed", verdicts.len());
    if passed == verdicts.len() {
        Ok(())
    } else {
        Err(format!(
            "cpu-test system: {} of {} cases failed",
            verdicts.len() - passed,
            verdicts.len()
        ))
    }
}

fn show(verdict: &Verdict) {
    if verdict.passed {
        println!("ok    {}", verdict.name);
    } else {
        println!("FAIL  {}: {}", verdict.name, verdict.detail);
    }
}
