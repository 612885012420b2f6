//! The Xbox board, checked from inside the guest: programs assembled here boot from a test
//! flash image through the high-level MCPX and test the hardware themselves, printing PASS
//! or the check that failed on the debug console.

#[path = "board/chipset.rs"]
mod chipset;
#[path = "board/harness.rs"]
mod harness;
#[path = "board/timers.rs"]
mod timers;

use harness::*;
use oxbox::asm::Cc;
use oxbox::input::{Gamepad, PORTS};
use oxbox::machine::{Config, Machine};

/// The documented PCI functions: (bus, device, function, vendor/device ID, revision).
const PCI_TABLE: [(u32, u32, u32, u32, u32); 10] = [
    (0, 0, 0, 0x02A5_10DE, 0xA1),
    (0, 1, 0, 0x01B2_10DE, 0xB2),
    (0, 1, 1, 0x01B4_10DE, 0xB1),
    (0, 2, 0, 0x01C2_10DE, 0xB1),
    (0, 3, 0, 0x01C2_10DE, 0xB1),
    (0, 4, 0, 0x01C3_10DE, 0xB1),
    (0, 5, 0, 0x01B0_10DE, 0xB1),
    (0, 6, 0, 0x01B1_10DE, 0xB1),
    (0, 9, 0, 0x01BC_10DE, 0xB1),
    (0, 0x1E, 0, 0x01B7_10DE, 0xA1),
];

#[test]
fn pci_enumeration_finds_the_documented_functions() {
    expect_pass("pci", Config::default(), 10, |a| {
        for (bus, device, function, id, revision) in PCI_TABLE {
            let what = format!("{bus:02x}:{device:02x}.{function}");
            pci_read(a, config_address(bus, device, function, 0))?;
            a.check_eq(eax, id, &format!("{what} vendor/device"))?;
            pci_read(a, config_address(bus, device, function, 8))?;
            a.and(eax, 0xFF)?;
            a.check_eq(eax, revision, &format!("{what} revision"))?;
        }
        // The NV2A sits behind the AGP bridge on bus 1.
        pci_read(a, config_address(1, 0, 0, 0))?;
        a.check_eq(eax, 0x02A0_10DE, "01:00.0 NV2A")?;
        // Nothing at device 7 or on bus 2.
        pci_read(a, config_address(0, 7, 0, 0))?;
        a.check_eq(eax, -1, "00:07.0 absent")?;
        pci_read(a, config_address(2, 0, 0, 0))?;
        a.check_eq(eax, -1, "bus 2 absent")?;
        pass(a)
    });
}

#[test]
fn flash_is_mirrored_across_the_top_16_mib() {
    expect_pass("flash-mirror", Config::default(), 10, |a| {
        let marker = 0xFF00_1000u32; // this program's first bytes
        a.mov(eax, dword_ptr(marker))?;
        for mirror in [0xFF04_1000u32, 0xFF80_1000, 0xFFFC_1000] {
            a.cmp(eax, dword_ptr(mirror))?;
            a.check(Cc::E, &format!("flash mirror at {mirror:#X}"))?;
        }
        pass(a)
    });
}

#[test]
fn ram_ends_at_64_mib_and_128_mib_as_configured() {
    for mib in [64u32, 128] {
        let config = Config {
            ram_mib: mib,
            ..Config::default()
        };
        expect_pass(&format!("ram-{mib}"), config, 10, |a| {
            let last = (mib << 20) - 4;
            a.mov(dword_ptr(last), 0x1234_5678u32)?;
            a.mov(eax, dword_ptr(last))?;
            a.check_eq(eax, 0x1234_5678, "last dword of RAM")?;
            // Past the end is the PCI hole: nothing answers there.
            a.mov(dword_ptr(last + 4), 0x1234_5678u32)?;
            a.mov(eax, dword_ptr(last + 4))?;
            a.check_eq(eax, -1, "first dword after RAM")?;
            pass(a)
        });
    }
}

/// Per frame: guest RAM's CRC, and every tenth frame the whole state's (CPU and devices).
/// (The picture is the status screen, which names each test's own scratch folder.)
fn frame_record(machine: &mut Machine, frames: u64) -> Vec<(u32, u32)> {
    let pads = [Gamepad::default(); PORTS];
    let mut state = Vec::new();
    (0..frames)
        .map(|_| {
            machine.run_frame(&pads);
            let whole = if machine.frame_count().is_multiple_of(10) {
                machine.save_state(&mut state);
                crc32fast::hash(&state)
            } else {
                0
            };
            (machine.ram_crc(), whole)
        })
        .collect()
}

#[test]
fn a_state_saved_at_frame_100_replays_frames_101_to_300_exactly() {
    let image = flash(ticker);
    let (mut first, _a) = machine("replay-a", &image, None, Config::default());
    let size = first.state_size();
    let before = frame_record(&mut first, 100);
    let mut state = Vec::new();
    first.save_state(&mut state);
    assert_eq!(state.len(), size, "the state has the announced size");
    let after = frame_record(&mut first, 200);
    assert_eq!(first.state_size(), size, "the state size never changes");
    // The guest really ran: its timer interrupts moved RAM on every frame.
    assert!(
        after.windows(2).all(|w| w[0].0 != w[1].0),
        "RAM changes each frame"
    );

    let (mut second, _b) = machine("replay-b", &image, None, Config::default());
    second.load_state(&state).expect("the state loads");
    assert_eq!(
        frame_record(&mut second, 200),
        after,
        "frames 101-300 after loading"
    );

    let (mut third, _c) = machine("replay-c", &image, None, Config::default());
    let fresh = frame_record(&mut third, 300);
    assert_eq!(fresh[..100], before[..], "a second fresh run, frames 1-100");
    assert_eq!(
        fresh[100..],
        after[..],
        "a second fresh run, frames 101-300"
    );
}

#[test]
fn bad_states_are_refused_and_the_machine_runs_on_unchanged() {
    use oxbox::machine::savestate::Error;
    let image = flash(ticker);
    let (mut machine_a, _a) = machine("bad-a", &image, None, Config::default());
    let (mut reference, _r) = machine("bad-r", &image, None, Config::default());
    frame_record(&mut machine_a, 30);
    frame_record(&mut reference, 30);
    let mut good = Vec::new();
    machine_a.save_state(&mut good);

    let mut corrupt = good.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0x40;
    let mut wrong_version = good.clone();
    wrong_version[8] = wrong_version[8].wrapping_add(1);
    let (mut big, _b) = machine(
        "bad-128",
        &image,
        None,
        Config {
            ram_mib: 128,
            ..Config::default()
        },
    );
    let mut other_ram = Vec::new();
    big.save_state(&mut other_ram);
    type Expect = fn(&Error) -> bool;
    let cases: [(&str, &[u8], Expect); 5] = [
        ("empty", &[], |e| matches!(e, Error::Truncated { .. })),
        ("truncated", &good[..good.len() - 1], |e| {
            matches!(e, Error::Truncated { .. })
        }),
        ("corrupt", &corrupt, |e| *e == Error::Corrupt),
        ("wrong version", &wrong_version, |e| {
            matches!(e, Error::Version(_))
        }),
        ("128 MiB state", &other_ram, |e| {
            *e == Error::OtherConfiguration
        }),
    ];
    for (what, state, expected) in cases {
        let error = machine_a.load_state(state).expect_err(what);
        assert!(expected(&error), "{what}: {error:?}");
        assert!(!error.to_string().is_empty());
    }
    assert_eq!(
        frame_record(&mut machine_a, 30),
        frame_record(&mut reference, 30),
        "after the refusals the machine runs as if nothing happened"
    );
}

/// `oxbox run` through the built core: two fresh runs agree, and a state saved at frame 100
/// and loaded into a new run reproduces the CRC line of frames 101-300.
#[test]
fn the_runner_replays_a_saved_state_through_the_core() {
    let scratch = Scratch::new("runner");
    scratch.put(FLASH_FILE, &flash(ticker));
    let state = scratch.0.join("frame100.state");
    let run = |extra: &[&str]| -> String {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_oxbox"))
            .args(["run", "--core"])
            .arg(core())
            .arg("--system")
            .arg(scratch.system())
            .arg("--save")
            .arg(scratch.save())
            .args(extra)
            .output()
            .expect("oxbox runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "oxbox run failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout.lines().last().unwrap_or("").to_string()
    };
    let save_spec = format!("100 {}", state.display());
    let whole = run(&[
        "--frames",
        "300",
        "--crc-from",
        "100",
        "--save-state-at",
        &save_spec,
    ]);
    assert!(
        whole.starts_with("frames=200 ") && !whole.ends_with("state_crc32=-"),
        "{whole}"
    );
    let again = run(&["--frames", "300", "--crc-from", "100"]);
    assert_eq!(whole, again, "two fresh runs");
    let replay = run(&["--frames", "200", "--load-state", state.to_str().unwrap()]);
    assert_eq!(whole, replay, "frames 101-300 from the saved state");
}

/// The core cargo built for this test run (`cargo test` leaves it in `deps/`).
fn core() -> std::path::PathBuf {
    let runner = std::path::Path::new(env!("CARGO_BIN_EXE_oxbox"));
    runner.with_file_name("deps").join("liboxbox.so")
}
