//! The core as a frontend sees it: `oxbox run` loads the built `liboxbox.so`, answers its
//! environment calls, backs its OpenGL request with a surfaceless EGL context and records what
//! it presents. These tests check that path end to end against the machine run directly.

use oxbox::input::{Analog, Gamepad, PORTS, button};
use oxbox::machine::{Config, Machine};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("oxbox-runner-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("system/xbox")).unwrap();
        fs::create_dir_all(dir.join("save")).unwrap();
        Scratch(dir)
    }

    fn system(&self) -> PathBuf {
        self.0.join("system")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The core cargo built for this test run: `cargo test` leaves the fresh cdylib in `deps/` and
/// copies it beside the runner only on `cargo build`.
fn core() -> PathBuf {
    let runner = Path::new(env!("CARGO_BIN_EXE_oxbox"));
    let core = runner.with_file_name("deps").join("liboxbox.so");
    assert!(core.is_file(), "{} was not built", core.display());
    core
}

struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

fn oxbox(dir: &Scratch, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_oxbox"))
        .arg("run")
        .arg("--core")
        .arg(core())
        .arg("--system")
        .arg(dir.system())
        .arg("--save")
        .arg(dir.0.join("save"))
        .args(args)
        .output()
        .expect("oxbox runs");
    let run = Run {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("internal error") && !run.stderr.contains("panicked"),
        "the core panicked:\n{}",
        run.stderr
    );
    run
}

/// The `frames=` line a run ends with, up to its save-state CRC (which the machine run
/// directly has no counterpart for; the board tests check it).
fn result_line(run: &Run) -> &str {
    assert!(run.success, "oxbox run failed:\n{}", run.stderr);
    let line = run.stdout.lines().last().unwrap_or_default();
    assert!(
        line.starts_with("frames=") && line.contains(" state_crc32="),
        "unexpected output: {:?}",
        run.stdout
    );
    line.split(" state_crc32=").next().unwrap_or_default()
}

/// What `oxbox run` must print for the machine run directly with `pads`: the CRC of every frame
/// as RGBA8 (GL's read-back of XRGB pixels, alpha opaque), and of the audio as little-endian
/// i16. Each phase is a flash file name and a frame count; a new phase is a new machine, as when
/// an option change restarts the console.
fn expected_line(system: &Path, phases: &[(&str, u64)], pads: [Gamepad; PORTS]) -> String {
    let (mut video, mut audio) = (crc32fast::Hasher::new(), crc32fast::Hasher::new());
    for &(flash_file, frames) in phases {
        let mut machine = Machine::new(Config {
            system_dir: Some(system.to_path_buf()),
            save_dir: None,
            flash_file: flash_file.into(),
            ..Config::default()
        });
        for _ in 0..frames {
            let out = machine.run_frame(&pads);
            for pixel in &out.video.to_frame().pixels {
                let [b, g, r, _] = pixel.to_le_bytes();
                video.update(&[r, g, b, 0xFF]);
            }
            for sample in out.audio {
                audio.update(&sample.to_le_bytes());
            }
        }
    }
    let frames: u64 = phases.iter().map(|p| p.1).sum();
    format!(
        "frames={frames} video_crc32={:08X} audio_crc32={:08X}",
        video.finalize(),
        audio.finalize()
    )
}

fn one_pad(pad: Gamepad) -> [Gamepad; PORTS] {
    let mut pads = [Gamepad::default(); PORTS];
    pads[0] = Gamepad {
        connected: true,
        ..pad
    };
    pads
}

#[test]
fn status_screen_is_presented_exactly_and_deterministically() {
    let dir = Scratch::new("status");
    let shot = dir.0.join("s.png");
    let first = oxbox(
        &dir,
        &["--frames", "60", "--screenshot", shot.to_str().unwrap()],
    );
    let second = oxbox(&dir, &["--frames", "60"]);
    assert_eq!(result_line(&first), result_line(&second));
    let expected = expected_line(
        &dir.system(),
        &[("Complex_4627.bin", 60)],
        one_pad(Gamepad::default()),
    );
    assert_eq!(result_line(&first), expected);
    // 60 NTSC fields carry 48000 * 1001 / 1000 stereo samples.
    let png = fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(
        &png[16..24],
        [0, 0, 2, 128, 0, 0, 1, 224],
        "a 640x480 picture"
    );
}

#[test]
fn missing_files_are_named_with_the_folders_searched() {
    let dir = Scratch::new("missing");
    let run = oxbox(&dir, &["--frames", "1"]);
    result_line(&run);
    let system = dir.system().display().to_string();
    for expected in [
        format!(
            "MCPX boot ROM mcpx_1.0.bin not found; expected exactly 512 bytes; searched {system}, {system}/xbox"
        ),
        format!(
            "flash BIOS Complex_4627.bin not found; expected 256 KiB, 512 KiB, 768 KiB or 1 MiB; searched {system}, {system}/xbox"
        ),
    ] {
        assert!(
            run.stderr.contains(&format!("[message] Oxbox: {expected}")),
            "no on-screen message {expected:?} in:\n{}",
            run.stderr
        );
    }
}

#[test]
fn bad_user_files_get_clear_messages_and_the_core_runs_on() {
    // (name, how to spoil the system folder, the message that must follow)
    type Case = (&'static str, fn(&Path), &'static str);
    let cases: [Case; 4] = [
        (
            "short-mcpx",
            |system| fs::write(system.join("mcpx_1.0.bin"), [0u8; 100]).unwrap(),
            "mcpx_1.0.bin is 100 bytes; expected exactly 512 bytes",
        ),
        (
            "empty-flash",
            |system| fs::write(system.join("xbox/Complex_4627.bin"), []).unwrap(),
            "Complex_4627.bin is empty; expected 256 KiB, 512 KiB, 768 KiB or 1 MiB",
        ),
        (
            "directory",
            |system| fs::create_dir(system.join("mcpx_1.0.bin")).unwrap(),
            "mcpx_1.0.bin is not a file; expected exactly 512 bytes",
        ),
        (
            "unreadable",
            |system| {
                let path = system.join("Complex_4627.bin");
                std::os::unix::fs::symlink(&path, &path).unwrap();
            },
            "Complex_4627.bin cannot be read",
        ),
    ];
    for (tag, make, message) in cases {
        let dir = Scratch::new(tag);
        make(&dir.system());
        let run = oxbox(&dir, &["--frames", "3"]);
        result_line(&run);
        assert!(
            run.stderr.contains(message),
            "{tag}: no message {message:?} in:\n{}",
            run.stderr
        );
    }
}

#[test]
fn controller_input_reaches_the_machine() {
    let dir = Scratch::new("input");
    let script = dir.0.join("input.txt");
    fs::write(
        &script,
        "# port 1 holds A at 200, X without pressure, the left stick up, Start and the left trigger\n\
         0-9 0 a=200\n0-9 0 x\n0-9 0 ly=-32768\n0-9 0 start\n0-9 0 lt=255\n",
    )
    .unwrap();
    let run = oxbox(
        &dir,
        &["--frames", "10", "--input", script.to_str().unwrap()],
    );
    let mut pad = Gamepad {
        buttons: button::START,
        left_stick: [0, i16::MAX],
        ..Gamepad::default()
    };
    pad.analog[Analog::A as usize] = 200;
    pad.analog[Analog::X as usize] = 255;
    pad.analog[Analog::LeftTrigger as usize] = 255;
    assert_eq!(
        result_line(&run),
        expected_line(&dir.system(), &[("Complex_4627.bin", 10)], one_pad(pad))
    );
    assert!(
        run.stderr.contains("[rumble] frame 0 port 0 strong 0xffff"),
        "{}",
        run.stderr
    );
}

#[test]
fn unplugged_ports_read_no_input() {
    let dir = Scratch::new("ports");
    let run = oxbox(
        &dir,
        &["--frames", "2", "--ports", "0", "--press", "0-1 0 start"],
    );
    assert_eq!(
        result_line(&run),
        expected_line(
            &dir.system(),
            &[("Complex_4627.bin", 2)],
            [Gamepad::default(); PORTS]
        )
    );
}

#[test]
fn the_flash_option_picks_another_file() {
    let dir = Scratch::new("option");
    fs::write(dir.system().join("xbox/other.bin"), vec![0u8; 256 * 1024]).unwrap();
    let run = oxbox(
        &dir,
        &["--frames", "2", "--option", "oxbox_flash_bios=other.bin"],
    );
    assert_eq!(
        result_line(&run),
        expected_line(
            &dir.system(),
            &[("other.bin", 2)],
            one_pad(Gamepad::default())
        )
    );
    assert!(run.stderr.contains("flash BIOS: "), "{}", run.stderr);
    assert!(!run.stderr.contains("flash BIOS other.bin not found"));

    let unknown = oxbox(
        &dir,
        &["--frames", "1", "--option", "oxbox_flash_bios=absent.bin"],
    );
    assert!(
        !unknown.success,
        "an option value the core does not offer is an error"
    );
}

#[test]
fn content_is_refused_with_a_message() {
    let dir = Scratch::new("content");
    let game = dir.0.join("game.iso");
    fs::write(&game, [0u8; 16]).unwrap();
    let run = oxbox(&dir, &["--frames", "1", game.to_str().unwrap()]);
    assert!(!run.success);
    assert!(
        run.stderr.contains("cannot load games yet"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_option_change_restarts_the_console_with_the_new_file() {
    let dir = Scratch::new("option-at");
    fs::write(dir.system().join("other.bin"), vec![0u8; 512 * 1024]).unwrap();
    let run = oxbox(
        &dir,
        &[
            "--frames",
            "8",
            "--option-at",
            "5 oxbox_flash_bios=other.bin",
        ],
    );
    assert_eq!(
        result_line(&run),
        expected_line(
            &dir.system(),
            &[("Complex_4627.bin", 5), ("other.bin", 3)],
            one_pad(Gamepad::default())
        )
    );
}

/// A frontend without core options v1/v2, the message interface or bitmask input gets plain
/// variables, `SET_MESSAGE` and one query per button, with the same results.
#[test]
fn old_frontends_get_the_fallbacks() {
    let dir = Scratch::new("old");
    fs::write(dir.system().join("other.bin"), vec![0u8; 256 * 1024]).unwrap();
    let args = [
        "--frames",
        "4",
        "--option",
        "oxbox_flash_bios=other.bin",
        "--press",
        "0-3 0 rt=100",
        "--press",
        "0-3 0 y",
    ];
    let old = oxbox(&dir, &[&args[..], &["--old-frontend"]].concat());
    let modern = oxbox(&dir, &args);
    assert_eq!(result_line(&old), result_line(&modern));
    let mut pad = Gamepad::default();
    pad.analog[Analog::RightTrigger as usize] = 100;
    pad.analog[Analog::Y as usize] = 255;
    assert_eq!(
        result_line(&old),
        expected_line(&dir.system(), &[("other.bin", 4)], one_pad(pad))
    );
    assert!(
        old.stderr
            .contains("[message] Oxbox: MCPX boot ROM mcpx_1.0.bin not found"),
        "{}",
        old.stderr
    );
}

/// Losing the GL context (a fullscreen toggle, a driver restart) costs nothing visible: the core
/// rebuilds its GL objects in the new context.
#[test]
fn a_new_gl_context_is_picked_up() {
    let dir = Scratch::new("context");
    let plain = oxbox(&dir, &["--frames", "6"]);
    let reset = oxbox(
        &dir,
        &[
            "--frames",
            "6",
            "--reset-context-at",
            "2",
            "--reset-context-at",
            "5",
        ],
    );
    assert_eq!(result_line(&plain), result_line(&reset));
}
