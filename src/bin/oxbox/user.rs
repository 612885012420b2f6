//! `oxbox user`: runs a static Linux i386 program on the CPU interpreter.

use oxbox::user::{self, Exit, Options, Program};
use std::process::ExitCode;

const USAGE: &str = "\
usage: oxbox user [--limit CYCLES] [--memory MIB] PROGRAM [ARGS...]

Runs a static Linux i386 executable on the CPU interpreter at CPL 3, emulating the system calls
and signals it needs. Its standard output and error are ours; the exit status is the
program's (128 + N when signal N killed it).

options:
  --limit CYCLES  stop after this many CPU cycles (about one per simple instruction)
  --memory MIB    guest RAM (default 512)
";

/// Parses the options before PROGRAM; everything from PROGRAM on belongs to the guest.
fn parse(args: &[String]) -> Result<(Options, &[String]), String> {
    let mut options = Options::default();
    let mut rest = args;
    while let Some((arg, tail)) = rest.split_first() {
        let value = || tail.first().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--limit" => {
                options.limit = Some(super::number(value()?)?);
                rest = &tail[1..];
            }
            "--memory" => {
                let mib = super::number(value()?)?;
                if !(1..=3072).contains(&mib) {
                    return Err(format!("--memory {mib}: expected 1 to 3072 MiB"));
                }
                options.memory = (mib << 20) as u32;
                rest = &tail[1..];
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ => break,
        }
    }
    if rest.is_empty() {
        return Err(format!("expected a program\n\n{USAGE}"));
    }
    Ok((options, rest))
}

pub fn command(args: &[String]) -> Result<ExitCode, String> {
    if matches!(args.first().map(String::as_str), Some("--help" | "-h")) {
        print!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    }
    let (options, guest) = parse(args)?;
    let program = &guest[0];
    let file = std::fs::read(program).map_err(|e| format!("cannot read {program}: {e}"))?;
    let path = std::fs::canonicalize(program).map_err(|e| format!("cannot find {program}: {e}"))?;
    let args: Vec<&[u8]> = guest.iter().map(|a| a.as_bytes()).collect();
    let to_run = Program {
        file: &file,
        path: path.as_os_str().as_encoded_bytes(),
        args: &args,
    };
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    let outcome = user::run(&to_run, options, &mut stdout, &mut stderr)
        .map_err(|e| format!("{program}: {e}"))?;
    Ok(match outcome.exit {
        Exit::Code(code) => ExitCode::from(code),
        Exit::Signal(signal) => {
            eprintln!(
                "oxbox user: {program} killed by {}",
                user::signal_name(signal)
            );
            ExitCode::from(128 + signal)
        }
    })
}
