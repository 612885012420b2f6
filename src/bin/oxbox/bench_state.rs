//! `oxbox bench board`: the whole console on a tiny built-in flash program (a loop that keeps
//! incrementing a word of RAM), timing emulated frames against real time and the save states
//! run-ahead takes every frame. A benchmark: host time is measured here, and only here.

use oxbox::input::{Gamepad, PORTS};
use oxbox::machine::{Config, Machine};
use std::time::Instant;

pub const USAGE: &str = "\
usage: oxbox bench board [--frames N]

Boots a built-in flash program (X-codes that jump to `inc dword [0x2000]; jmp` at 0xFF001000)
through the high-level MCPX on a 64 MiB console and reports the speed of emulated frames (guest
MIPS, and emulated time against real time) and of save and load states (their size, and
milliseconds each).

  --frames N   frames to time (default 30)
";

/// The flash: the visor jump to 0xFF001000 stored by X-codes, and the loop there.
fn flash() -> Vec<u8> {
    let mut image = vec![0xFF; 256 * 1024];
    let xcodes: [(u8, u32, u32); 3] =
        [(0x03, 0, 0x0010_00B8), (0x03, 4, 0x90E0_FFFF), (0xEE, 0, 0)];
    for (i, (op, a, b)) in xcodes.into_iter().enumerate() {
        let at = 0x80 + 9 * i;
        image[at] = op;
        image[at + 1..at + 5].copy_from_slice(&a.to_le_bytes());
        image[at + 5..at + 9].copy_from_slice(&b.to_le_bytes());
    }
    // inc dword [0x2000]; jmp short back to it.
    image[0x1000..0x1008].copy_from_slice(&[0xFF, 0x05, 0x00, 0x20, 0x00, 0x00, 0xEB, 0xF8]);
    image
}

pub fn run(args: &[String]) -> Result<(), String> {
    let mut frames = 30;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--frames" => {
                frames = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--frames needs a number")?
            }
            other => {
                return Err(format!(
                    "bench board: unexpected argument {other}\n\n{USAGE}"
                ));
            }
        }
    }
    let dir = std::env::temp_dir().join(format!("oxbox-bench-board-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(oxbox::firmware::DEFAULT_FLASH_FILE), flash())
        .map_err(|e| e.to_string())?;
    let mut machine = Machine::new(Config {
        system_dir: Some(dir.clone()),
        ..Config::default()
    });
    let result = measure(&mut machine, frames);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn measure(machine: &mut Machine, frames: u64) -> Result<(), String> {
    let pads = [Gamepad::default(); PORTS];
    // The first frame boots (X-codes, the MCPX's wait): leave it out.
    machine.run_frame(&pads);
    let instructions = |m: &Machine| m.console().cpu.instructions;
    let start_instructions = instructions(machine);
    let start = Instant::now();
    for _ in 0..frames {
        machine.run_frame(&pads);
    }
    let seconds = start.elapsed().as_secs_f64();
    let mips = (instructions(machine) - start_instructions) as f64 / seconds / 1e6;
    let emulated = frames as f64 * 1001.0 / 60000.0;
    println!(
        "board: {frames} frames in {seconds:.2} s: {mips:.1} guest MIPS, {:.3}x real time",
        emulated / seconds
    );

    let mut state = Vec::new();
    let rounds = 20;
    let start = Instant::now();
    for _ in 0..rounds {
        machine.save_state(&mut state);
    }
    let save_ms = start.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds);
    let start = Instant::now();
    for _ in 0..rounds {
        machine.load_state(&state).map_err(|e| e.to_string())?;
    }
    let load_ms = start.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds);
    println!(
        "state: {} bytes, save {save_ms:.1} ms, load {load_ms:.1} ms",
        state.len()
    );
    Ok(())
}
