//! `oxbox`: the headless runner and workbench. Each command drives the core or its parts the way
//! a user or a frontend would, and prints results anyone can rerun and compare.

mod bench;
mod bench_state;
mod cpu_system;
mod egl;
mod frontend;
mod golden;
mod hostdiff;
mod linediff;
mod png;
mod script;
mod test_i386;
mod testmachine;
mod user;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage: oxbox run [OPTIONS] [CONTENT]
       oxbox testmachine (--rom FILE | --multiboot FILE) [OPTIONS]   (below)
       oxbox cpu-test host-diff [OPTIONS]   (see oxbox help cpu-test)
       oxbox cpu-test test-i386 [OPTIONS]   (see oxbox help cpu-test)
       oxbox cpu-test system [OPTIONS]      (see oxbox help cpu-test)
       oxbox bench cpu [OPTIONS]            (see oxbox help bench)
       oxbox user [OPTIONS] PROGRAM [ARGS...]   (see oxbox user --help)
       oxbox nv2a-golden [--golden DIR] [--out DIR] SUITE...   (see oxbox help nv2a-golden)

Plays the Oxbox libretro core as a frontend would: loads oxbox_libretro.so, gives it a headless
OpenGL context (EGL, surfaceless), runs it and ends with the line
  frames=N video_crc32=XXXXXXXX audio_crc32=XXXXXXXX state_crc32=XXXXXXXX|-
(CRC-32 of every presented frame as RGBA8 rows top first, of every audio sample as
little-endian i16, in order, and of a save state taken at the end; N counts the frames the
CRCs cover).

options:
  --core FILE         the core (default: oxbox_libretro.so or liboxbox.so beside oxbox,
                      whichever was built last)
  --system DIR        the frontend's system directory (firmware)
  --save DIR          the frontend's save directory
  --frames N          frames to run (default 60)
  --screenshot FILE   write the last frame as a PNG
  --input FILE        scripted input, one event per line: FRAMES PORT CONTROL[=VALUE]
  --press EVENT       one scripted input event, e.g. --press '10-20 0 a=200'
  --option KEY=VALUE  set a core option
  --option-at 'N KEY=VALUE'
                      change a core option before frame N (counting from 0)
  --ports N           controllers plugged in, from port 1 (default 1)
  --reset-context-at N
                      destroy the GL context before frame N and give the core a new one
  --old-frontend      offer no core-options API, message interface or bitmask input,
                      like frontends from before those existed
  --save-state-at 'N FILE'
                      save a state to FILE after N frames
  --load-state FILE   load a state before the first frame
  --crc-from N        the CRCs cover frames N onwards (counting from 0)

usage: oxbox testmachine (--rom FILE | --multiboot FILE [--cmdline TEXT]) [OPTIONS]

Runs a CPU test program on the bare-metal test machine (RAM, a ROM, debug ports; no devices),
streams what it writes to the console port to stdout and ends with the line
  testmachine: stop=exit|halt|shutdown|limit exit=VALUE|- post=0xNN|- instructions=N cycles=N
A raw ROM image (up to 1 MiB) ends at 1 MiB and at 4 GiB and starts at the reset vector; a
multiboot kernel (ELF, or flat with the header's load addresses) starts in flat 32-bit
protected mode with EAX=0x2BADB002 and EBX pointing at the boot information.

options:
  --cmdline TEXT      the multiboot command line (default: empty)
  --ram MIB           RAM from address 0, in MiB (default 64, at most 3072)
  --limit N           stop after N instructions (default: no limit)
  --console-port N    port whose bytes go to the console (default 0xE9)
  --exit-port N       port whose write stops the machine with that value (default 0xF4)
  --post-port N       port that latches POST codes (default 0x80)

exit status: 0 when the program wrote 0 to the exit port; for another value V, QEMU's
isa-debug-exit status (V << 1) | 1, modulo 256; 2 when it halted, shut down (triple fault) or
reached the limit; 1 when it could not be started.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]).map(|()| ExitCode::SUCCESS),
        Some("testmachine") => testmachine::run(&args[1..]),
        Some("bench") if args.get(1).map(String::as_str) == Some("board") => {
            bench_state::run(&args[2..]).map(|()| ExitCode::SUCCESS)
        }
        Some("bench") => bench::run(&args[1..]).map(|()| ExitCode::SUCCESS),
        Some("cpu-test") => match args.get(1).map(String::as_str) {
            Some("host-diff") => hostdiff::run(&args[2..]).map(|()| ExitCode::SUCCESS),
            Some("test-i386") => test_i386::run(&args[2..]).map(|()| ExitCode::SUCCESS),
            Some("system") => cpu_system::run(&args[2..]).map(|()| ExitCode::SUCCESS),
            _ => Err(format!(
                "expected a cpu-test command\n\n{}\n{}\n{}",
                hostdiff::USAGE,
                test_i386::USAGE,
                cpu_system::USAGE
            )),
        },
        // The guest's exit status becomes ours.
        Some("user") => user::command(&args[1..]),
        Some("nv2a-golden") => golden::run(&args[1..]).map(|()| ExitCode::SUCCESS),
        Some("help" | "--help" | "-h") => {
            match args.get(1).map(String::as_str) {
                Some("cpu-test") => print!(
                    "{}\n{}\n{}",
                    hostdiff::USAGE,
                    test_i386::USAGE,
                    cpu_system::USAGE
                ),
                Some("bench") => print!("{}\n{}", bench::USAGE, bench_state::USAGE),
                Some("nv2a-golden") => print!("{}", golden::USAGE),
                _ => print!("{USAGE}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(format!("expected a command\n\n{USAGE}")),
    };
    match result {
        Ok(code) => code,
        Err(why) => {
            eprintln!("oxbox: {why}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let mut settings = frontend::Settings {
        core: default_core()?,
        system_dir: None,
        save_dir: None,
        content: None,
        frames: 60,
        options: BTreeMap::new(),
        ports: 1,
        input: script::Script::default(),
        option_changes: Vec::new(),
        context_resets: Vec::new(),
        old_frontend: false,
        save_state_at: None,
        load_state: None,
        crc_from: 0,
    };
    let mut screenshot = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().cloned().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--core" => settings.core = value()?.into(),
            "--system" => settings.system_dir = Some(value()?.into()),
            "--save" => settings.save_dir = Some(value()?.into()),
            "--frames" => settings.frames = number(&value()?)?,
            "--screenshot" => screenshot = Some(PathBuf::from(value()?)),
            "--input" => {
                let path = value()?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {path}: {e}"))?;
                settings.input.parse(&text)?;
            }
            "--press" => settings.input.parse(&value()?)?,
            "--option" => {
                let pair = value()?;
                let (key, val) = pair
                    .split_once('=')
                    .ok_or(format!("--option {pair}: expected KEY=VALUE"))?;
                settings.options.insert(key.into(), val.into());
            }
            "--option-at" => {
                let spec = value()?;
                let parsed = spec.split_once(' ').and_then(|(frame, pair)| {
                    let (key, val) = pair.split_once('=')?;
                    Some((number(frame).ok()?, key.to_string(), val.to_string()))
                });
                settings.option_changes.push(
                    parsed.ok_or(format!("--option-at {spec:?}: expected 'FRAME KEY=VALUE'"))?,
                );
            }
            "--ports" => settings.ports = number(&value()?)? as usize,
            "--old-frontend" => settings.old_frontend = true,
            "--reset-context-at" => settings.context_resets.push(number(&value()?)?),
            "--save-state-at" => {
                let spec = value()?;
                let (frame, file) = spec
                    .split_once(' ')
                    .ok_or(format!("--save-state-at {spec:?}: expected 'N FILE'"))?;
                settings.save_state_at = Some((number(frame)?, file.into()));
            }
            "--load-state" => settings.load_state = Some(value()?.into()),
            "--crc-from" => settings.crc_from = number(&value()?)?,
            flag if flag.starts_with("--") => {
                return Err(format!("unknown option {flag}\n\n{USAGE}"));
            }
            content if settings.content.is_none() => settings.content = Some(content.into()),
            extra => return Err(format!("unexpected argument {extra}")),
        }
    }
    let outcome = frontend::run(settings)?;
    if let Some(path) = screenshot {
        let (width, height, rgba) = outcome
            .last_frame
            .as_ref()
            .ok_or("no frame was presented to screenshot")?;
        let rgb: Vec<u8> = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        let mut file = std::fs::File::create(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        png::write_rgb(&mut file, *width, *height, &rgb)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let state = outcome
        .state_crc32
        .map_or("-".to_string(), |crc| format!("{crc:08X}"));
    println!(
        "frames={} video_crc32={:08X} audio_crc32={:08X} state_crc32={state}",
        outcome.frames, outcome.video_crc32, outcome.audio_crc32
    );
    Ok(())
}

fn number(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a number"))
}

/// The core beside this executable: `oxbox_libretro.so` (what `ci/build` makes) or cargo's own
/// `liboxbox.so`, whichever was built last.
fn default_core() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let candidates = [dir.join("oxbox_libretro.so"), dir.join("liboxbox.so")];
    let built = |path: &PathBuf| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    Ok(candidates
        .iter()
        .filter(|path| path.is_file())
        .max_by_key(|path| built(path))
        .unwrap_or(&candidates[0])
        .clone())
}
