//! `oxbox cpu-test test-i386`: runs QEMU's test-i386 (built by `ci/build-test-i386`) under the
//! user-mode harness and compares its output with the same binary's native output.

use super::linediff::{self, Section};
use oxbox::user::{self, Exit, Options, Program};
use std::path::{Path, PathBuf};

pub const USAGE: &str = "\
usage: oxbox cpu-test test-i386 [--binary PATH] [--reference PATH] [--limit CYCLES]

Runs QEMU's tests/tcg/i386/test-i386 (ci/build-test-i386 builds it) under `oxbox user` and
compares its output with the native output, section by section. Ends with the line
  test-i386: M/N lines match native
and fails unless M = N. Lines whose results Intel's manual leaves undefined (16-bit SHLD/SHRD
with counts above 16) are set aside and counted.

options:
  --binary PATH     the test program (default: target/test-i386/test-i386 beside this
                    executable's target directory)
  --reference PATH  the native output (default: run the binary natively)
  --limit CYCLES    stop the emulated run after this many cycles (default 10000000000)
";

/// The sections of test-i386's output in order, by the start of their first line.
const SECTIONS: &[Section] = &[
    ("add", &["addl"]),
    ("sub", &["subl"]),
    ("xor", &["xorl"]),
    ("and", &["andl"]),
    ("or", &["orl"]),
    ("cmp", &["cmpl"]),
    ("adc", &["adcl"]),
    ("sbb", &["sbbl"]),
    ("inc", &["incl"]),
    ("dec", &["decl"]),
    ("neg", &["negl"]),
    ("not", &["notl"]),
    ("shl", &["shll"]),
    ("shr", &["shrl"]),
    ("sar", &["sarl"]),
    ("rol", &["roll"]),
    ("ror", &["rorl"]),
    ("rcr", &["rcrl"]),
    ("rcl", &["rcll"]),
    ("shld", &["shldl"]),
    ("shrd", &["shrdl"]),
    ("bt", &["btl"]),
    ("bts", &["btsl"]),
    ("btr", &["btrl"]),
    ("btc", &["btcl"]),
    ("bsf/bsr", &["bsrw"]),
    ("mul/div", &["imulb"]),
    ("jcc/setcc/cmov", &["jne"]),
    ("loop/jcxz", &["jcxz"]),
    ("x87", &["a="]),
    ("bcd", &["daa"]),
    ("xchg/xadd/cmpxchg", &["xchgl"]),
    ("string", &["stosb"]),
    ("misc (xlat, lret, iret, pop)", &["xlat:"]),
    ("lea", &["lea "]),
    ("segments (LDT, lar/lsl, arpl)", &["FS[1] = "]),
    ("16-bit code", &["func1() = "]),
    ("exceptions and signals", &["DIVZ exception:"]),
    ("self-modifying code", &["self modifying code:"]),
    ("single step (TF)", &["EIP="]),
    ("conversions", &["cbw "]),
];

/// Runs the comparison with the options after `cpu-test test-i386`.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut args = args.iter();
    let mut binary = None;
    let mut reference = None;
    let mut limit = 10_000_000_000;
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--binary" => binary = Some(PathBuf::from(value()?)),
            "--reference" => reference = Some(PathBuf::from(value()?)),
            "--limit" => limit = super::number(value()?)?,
            other => return Err(format!("unexpected argument {other}\n\n{USAGE}")),
        }
    }
    let binary = match binary {
        Some(path) => path,
        None => default_binary()?,
    };
    let native = match reference {
        Some(path) => {
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
        }
        None => run_natively(&binary)?,
    };
    let file = std::fs::read(&binary).map_err(|e| {
        format!(
            "cannot read {}: {e} (build it with ci/build-test-i386)",
            binary.display()
        )
    })?;
    let path = std::fs::canonicalize(&binary).unwrap_or(binary.clone());
    let name = binary.as_os_str().as_encoded_bytes();
    let options = Options {
        limit: Some(limit),
        ..Options::default()
    };
    let mut output = Vec::new();
    let program = Program {
        file: &file,
        path: path.as_os_str().as_encoded_bytes(),
        args: &[name],
    };
    let outcome = user::run(&program, options, &mut output, &mut std::io::stderr());
    match &outcome {
        Ok(outcome) => {
            let exit = match outcome.exit {
                Exit::Code(code) => format!("exit status {code}"),
                Exit::Signal(signal) => format!("killed by {}", user::signal_name(signal)),
            };
            println!(
                "oxbox: {exit} after {} instructions ({} cycles)",
                outcome.instructions, outcome.cycles
            );
        }
        Err(error) => println!("oxbox: {error}"),
    }
    report(
        &String::from_utf8_lossy(&native),
        &String::from_utf8_lossy(&output),
    )
}

/// Where `ci/build-test-i386` puts the binary: `target/test-i386/` when this executable is
/// `target/<profile>/oxbox`.
fn default_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
    let target = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    Ok(target.join("test-i386").join("test-i386"))
}

fn run_natively(binary: &Path) -> Result<Vec<u8>, String> {
    let output = std::process::Command::new(binary).output().map_err(|e| {
        format!(
            "cannot run {} natively: {e} (build it with ci/build-test-i386)",
            binary.display()
        )
    })?;
    if !output.status.success() {
        return Err(format!(
            "{} failed natively: {}",
            binary.display(),
            output.status
        ));
    }
    Ok(output.stdout)
}

/// Whether a line reports a result Intel's manual leaves undefined: SHLD/SHRD on 16-bit
/// operands with a count above 16 (result and flags undefined; CPU generations differ, and we
/// model the P6). Such lines are set aside from both outputs, as host-diff masks undefined
/// flags, and counted in the report.
fn undefined(line: &str) -> bool {
    let count = line
        .split_whitespace()
        .find_map(|field| field.strip_prefix("C="))
        .and_then(|hex| u32::from_str_radix(hex, 16).ok());
    (line.starts_with("shldw") || line.starts_with("shrdw")) && count.is_some_and(|c| c & 31 > 16)
}

/// Compares the outputs section by section and prints the result; Err when lines differ.
fn report(native: &str, ours: &str) -> Result<(), String> {
    let keep = |text: &str| {
        text.lines()
            .filter(|line| !undefined(line))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let set_aside = native.lines().filter(|line| undefined(line)).count();
    let (native, ours) = (keep(native), keep(ours));
    let results = linediff::compare(&native, &ours, SECTIONS);
    let width = results.iter().map(|r| r.name.len()).max().unwrap_or(0);
    for result in &results {
        let status = if result.differences.is_empty() {
            "ok"
        } else {
            "DIFFERS"
        };
        println!(
            "  {:width$}  {:5}/{:<5} {status}",
            result.name, result.matched, result.total
        );
        for (theirs, mine) in &result.differences {
            println!("      native: {}", theirs.as_deref().unwrap_or("(no line)"));
            println!("      oxbox:  {}", mine.as_deref().unwrap_or("(no line)"));
        }
    }
    let matched: usize = results.iter().map(|r| r.matched).sum();
    let total: usize = results.iter().map(|r| r.total).sum();
    println!(
        "  set aside: {set_aside} lines of 16-bit SHLD/SHRD with counts 17-31 (undefined in \
         Intel's manual)"
    );
    println!("test-i386: {matched}/{total} lines match native");
    if matched != total {
        return Err(format!("{} lines differ from native", total - matched));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::undefined;

    #[test]
    fn only_wide_counts_of_16_bit_double_shifts_are_undefined() {
        let line = |op: &str, count: u32| {
            format!("{op}      A=12345678 B=21ad3d34 C={count:08x} R=0 CCIN=0000 CC=0000")
        };
        assert!(undefined(&line("shldw", 17)));
        assert!(undefined(&line("shrdw", 31)));
        assert!(!undefined(&line("shldw", 16)));
        assert!(!undefined(&line("shldw", 32)), "counts are taken modulo 32");
        assert!(!undefined(&line("shldl", 17)));
        assert!(!undefined("addl       A=00000001"));
    }
}
