//! `oxbox testmachine`: runs a CPU test program (a raw ROM image or a multiboot kernel) on the
//! bare-metal test machine, streams its console to stdout and ends with one summary line.

use oxbox::testmachine::{Config, Outcome, Stop, TestMachine};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

enum Program {
    Rom(PathBuf),
    Multiboot(PathBuf),
}

pub fn run(args: &[String]) -> Result<ExitCode, String> {
    let mut config = Config::default();
    let mut program = None;
    let mut cmdline = None;
    let mut limit = u64::MAX;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().cloned().ok_or(format!("{arg} needs a value"));
        let new_program = match arg.as_str() {
            "--rom" => Some(Program::Rom(value()?.into())),
            "--multiboot" => Some(Program::Multiboot(value()?.into())),
            "--cmdline" => {
                cmdline = Some(value()?);
                None
            }
            "--ram" => {
                config.ram_mib = number(&value()?)?
                    .try_into()
                    .map_err(|_| format!("--ram: at most {} MiB", u32::MAX))?;
                None
            }
            "--limit" => {
                limit = number(&value()?)?;
                None
            }
            "--console-port" => {
                config.console_port = port(&value()?)?;
                None
            }
            "--exit-port" => {
                config.exit_port = port(&value()?)?;
                None
            }
            "--post-port" => {
                config.post_port = port(&value()?)?;
                None
            }
            other => return Err(format!("testmachine: unexpected argument {other}")),
        };
        if new_program.is_some() && program.is_some() {
            return Err("testmachine: give one --rom or --multiboot".into());
        }
        program = program.or(new_program);
    }
    let mut machine = TestMachine::new(&config).map_err(|e| e.to_string())?;
    let read = |path: &PathBuf| {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let mut cpu = match (&program, cmdline) {
        (None, _) => return Err("testmachine: needs --rom FILE or --multiboot FILE".into()),
        (Some(Program::Rom(_)), Some(_)) => {
            return Err("testmachine: --cmdline goes with --multiboot".into());
        }
        (Some(Program::Rom(path)), None) => machine
            .boot_rom(&read(path)?)
            .map_err(|e| format!("{}: {e}", path.display()))?,
        (Some(Program::Multiboot(path)), cmdline) => machine
            .boot_multiboot(&read(path)?, cmdline.as_deref().unwrap_or(""))
            .map_err(|e| format!("{}: {e}", path.display()))?,
    };

    let mut stdout = std::io::stdout().lock();
    let mut streamed: std::io::Result<()> = Ok(());
    let mut line_open = false;
    let outcome = machine.run(&mut cpu, limit, &mut |output| {
        if streamed.is_ok() {
            streamed = stdout.write_all(output).and_then(|()| stdout.flush());
            line_open = !output.ends_with(b"\n");
        }
    });
    let written = streamed.and_then(|()| {
        if line_open {
            writeln!(stdout)?;
        }
        writeln!(stdout, "{}", summary(&outcome))
    });
    written.map_err(|e| format!("cannot write to stdout: {e}"))?;
    let place = format!("{:04X}:{:08X}", cpu.seg[1].selector, cpu.eip);
    match outcome.stop {
        Stop::Exit(_) => {}
        Stop::Halted {
            interrupts_enabled: false,
        } => eprintln!("testmachine: HLT with interrupts disabled; stopped at {place}"),
        Stop::Halted {
            interrupts_enabled: true,
        } => eprintln!(
            "testmachine: HLT with interrupts enabled, but nothing on this machine raises one; \
             stopped at {place}"
        ),
        Stop::Shutdown => {
            eprintln!("testmachine: triple fault at {place}; a PC would reset, this machine stops")
        }
        Stop::Limit => eprintln!("testmachine: instruction limit reached at {place}"),
    }
    Ok(exit_status(outcome.stop))
}

/// `testmachine: stop=... exit=... post=... instructions=N cycles=N`.
fn summary(outcome: &Outcome) -> String {
    let (stop, exit) = match outcome.stop {
        Stop::Exit(value) => ("exit", format!("{value:#X}")),
        Stop::Halted { .. } => ("halt", "-".into()),
        Stop::Shutdown => ("shutdown", "-".into()),
        Stop::Limit => ("limit", "-".into()),
    };
    let post = outcome
        .post
        .map_or("-".into(), |code| format!("0x{code:02X}"));
    format!(
        "testmachine: stop={stop} exit={exit} post={post} instructions={} cycles={}",
        outcome.instructions, outcome.cycles
    )
}

/// 0 for an exit with value 0. Another exit value v gives QEMU's isa-debug-exit status,
/// (v << 1) | 1 (odd, so never 0); a halt, shutdown or limit gives 2.
fn exit_status(stop: Stop) -> ExitCode {
    match stop {
        Stop::Exit(0) => ExitCode::SUCCESS,
        Stop::Exit(value) => ExitCode::from(((value << 1) | 1) as u8),
        _ => ExitCode::from(2),
    }
}

fn number(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a number"))
}

/// A port number, decimal or 0x-prefixed hexadecimal.
fn port(text: &str) -> Result<u16, String> {
    match text.strip_prefix("0x").or(text.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
    .ok_or(format!("{text:?} is not a port number (0 to 0xFFFF)"))
}
