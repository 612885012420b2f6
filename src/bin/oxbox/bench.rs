//! `oxbox bench cpu`: the shared CPU benchmark kernels on our CPU, against the same programs
//! run natively on the host. A benchmark, not a test: it reports guest MIPS and the slowdown
//! against native measured in one run (host time is used here, and only here, to measure).
//!
//! The kernels come from `../shared/bench` (built with its own scripts, which need gcc's 32-bit
//! multilib) or from `--kernels DIR` holding `bench32` and `bench_bare.elf`. Each runs twice:
//! as a multiboot kernel on the bare-metal test machine, and as a Linux program under the
//! user-mode harness; both checksums must equal the native one.

use oxbox::testmachine::{Config, Stop, TestMachine};
use oxbox::user;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

pub const USAGE: &str = "\
usage: oxbox bench cpu [--engine interp] [--kernels DIR] [--quick] [--only KERNEL]

Runs the CPU benchmark kernels (int, x87, sse, mem) on the interpreter, as multiboot kernels on
the bare-metal test machine and as Linux programs under `oxbox user`, and natively on the host;
prints one line per kernel and machine with the checksums (ours must equal native), guest MIPS
and the slowdown against native.

  --engine interp   the execution engine (the interpreter is the only one so far)
  --kernels DIR     a folder with bench32 and bench_bare.elf (default: build them from
                    ../shared/bench into target/bench with its scripts; needs gcc-multilib)
  --quick           1/100 of the reference repetitions (checksums are still checked against
                    the native run of the same repetitions)
  --only KERNEL     run one kernel
";

/// The kernels and the repetitions the shared README gives reference checksums for.
const KERNELS: [(&str, u32); 4] = [("int", 5000), ("x87", 2000), ("sse", 40000), ("mem", 8)];

pub fn run(args: &[String]) -> Result<(), String> {
    let mut kernels_dir = None;
    let mut quick = false;
    let mut only = None;
    let mut args = args.iter();
    if args.next().map(String::as_str) != Some("cpu") {
        return Err(format!("expected `bench cpu`\n\n{USAGE}"));
    }
    while let Some(arg) = args.next() {
        let mut value = || args.next().cloned().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--engine" => {
                let engine = value()?;
                if engine != "interp" {
                    return Err(format!(
                        "unknown engine {engine:?}: only `interp` exists so far"
                    ));
                }
            }
            "--kernels" => kernels_dir = Some(PathBuf::from(value()?)),
            "--quick" => quick = true,
            "--only" => only = Some(value()?),
            other => return Err(format!("bench: unexpected argument {other}\n\n{USAGE}")),
        }
    }
    let dir = match kernels_dir {
        Some(dir) => dir,
        None => build_kernels()?,
    };
    let read = |name: &str| {
        std::fs::read(dir.join(name))
            .map_err(|e| format!("cannot read {}: {e}", dir.join(name).display()))
    };
    let bare = read("bench_bare.elf")?;
    let linux = read("bench32")?;
    let mut failures = 0;
    for (kernel, reference_reps) in KERNELS {
        if only.as_deref().is_some_and(|k| k != kernel) {
            continue;
        }
        let reps = if quick {
            (reference_reps / 100).max(1)
        } else {
            reference_reps
        };
        let (native_checksum, native_seconds) = native(&dir.join("bench32"), kernel, reps)?;
        let runs = [
            ("testmachine", bare_metal(&bare, kernel, reps)?),
            ("user", user_mode(&linux, kernel, reps)?),
        ];
        for (machine, run) in runs {
            let ok = run.checksum == native_checksum;
            failures += usize::from(!ok);
            let mips = run.instructions as f64 / run.seconds / 1e6;
            println!(
                "bench: kernel={kernel} reps={reps} engine=interp machine={machine} checksum={} \
                 native={native_checksum} {} instructions={} seconds={:.2} mips={mips:.1} \
                 native_seconds={native_seconds:.3} slowdown={:.0}x",
                run.checksum,
                if ok { "ok" } else { "MISMATCH" },
                run.instructions,
                run.seconds,
                run.seconds / native_seconds.max(1e-6),
            );
        }
    }
    if failures > 0 {
        return Err(format!(
            "{failures} kernel(s) gave a checksum other than native"
        ));
    }
    Ok(())
}

/// Builds the kernels from the shared sources with their own scripts.
fn build_kernels() -> Result<PathBuf, String> {
    let source = Path::new("../shared/bench");
    let out = Path::new("target/bench");
    for script in ["build.sh", "build_bare.sh"] {
        let status = Command::new("sh")
            .arg(source.join(script))
            .env(
                "OUT",
                std::env::current_dir()
                    .map_err(|e| e.to_string())?
                    .join(out),
            )
            .status()
            .map_err(|e| format!("cannot run {}: {e}", source.join(script).display()))?;
        if !status.success() {
            return Err(format!(
                "{} failed (it needs gcc with 32-bit support: apt-get install gcc-multilib)",
                source.join(script).display()
            ));
        }
    }
    Ok(out.to_path_buf())
}

/// Runs `bench32 KERNEL REPS` natively: its checksum and wall time.
fn native(bench32: &Path, kernel: &str, reps: u32) -> Result<(String, f64), String> {
    let start = Instant::now();
    let output = Command::new(bench32)
        .args([kernel, &reps.to_string()])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bench32.display()))?;
    let seconds = start.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    Ok((checksum(&text)?, seconds))
}

struct Interpreted {
    checksum: String,
    instructions: u64,
    seconds: f64,
}

/// Runs the multiboot kernel on the test machine with the interpreter.
fn bare_metal(bare: &[u8], kernel: &str, reps: u32) -> Result<Interpreted, String> {
    // The memory kernel touches up to 65 MiB.
    let config = Config {
        ram_mib: 128,
        ..Config::default()
    };
    let mut machine = TestMachine::new(&config).map_err(|e| e.to_string())?;
    let mut cpu = machine
        .boot_multiboot(bare, &format!("{kernel} {reps}"))
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let outcome = machine.run(&mut cpu, u64::MAX, &mut |_| {});
    let seconds = start.elapsed().as_secs_f64();
    let console = String::from_utf8_lossy(&outcome.console).into_owned();
    if outcome.stop != Stop::Exit(0) {
        return Err(format!(
            "{kernel}: the kernel stopped with {:?} at {:04X}:{:08X}; console: {console:?}",
            outcome.stop, cpu.seg[1].selector, cpu.eip
        ));
    }
    Ok(Interpreted {
        checksum: checksum(&console)?,
        instructions: outcome.instructions,
        seconds,
    })
}

/// Runs the Linux build under the user-mode harness.
fn user_mode(file: &[u8], kernel: &str, reps: u32) -> Result<Interpreted, String> {
    let reps = reps.to_string();
    let args: [&[u8]; 3] = [b"bench32", kernel.as_bytes(), reps.as_bytes()];
    let program = user::Program {
        file,
        path: b"/bench32",
        args: &args,
    };
    let mut output = Vec::new();
    let start = Instant::now();
    let outcome = user::run(
        &program,
        user::Options::default(),
        &mut output,
        &mut std::io::stderr(),
    )
    .map_err(|e| format!("{kernel} under oxbox user: {e}"))?;
    let seconds = start.elapsed().as_secs_f64();
    let console = String::from_utf8_lossy(&output).into_owned();
    if outcome.exit != user::Exit::Code(0) {
        return Err(format!(
            "{kernel} under oxbox user ended with {:?}: {console:?}",
            outcome.exit
        ));
    }
    Ok(Interpreted {
        checksum: checksum(&console)?,
        instructions: outcome.instructions,
        seconds,
    })
}

/// The hex word after "checksum" in a kernel's output.
fn checksum(text: &str) -> Result<String, String> {
    text.split_whitespace()
        .skip_while(|word| *word != "checksum")
        .nth(1)
        .map(str::to_string)
        .ok_or(format!("no checksum in {text:?}"))
}
