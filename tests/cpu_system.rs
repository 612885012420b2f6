//! The CPU's system features, tested from inside the guest: every case of
//! `oxbox::cputest::system` passes on the test machine, and `oxbox cpu-test system` passes
//! them all again together with QEMU's multiboot memory test, built from QEMU's source by
//! `ci/build-qemu-memory-test` (which needs gcc with 32-bit support and the network, or the
//! source package already fetched; without them this test fails, it does not skip).

use oxbox::cputest::system;
use std::path::Path;
use std::process::Command;

#[test]
fn every_system_case_passes() {
    let cases = system::cases();
    let failures: Vec<String> = cases
        .iter()
        .map(system::run)
        .filter(|verdict| !verdict.passed)
        .map(|verdict| format!("{}: {}", verdict.name, verdict.detail))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_command_passes_every_case_and_qemus_memory_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let built = Command::new(root.join("ci/build-qemu-memory-test"))
        .output()
        .expect("ci/build-qemu-memory-test runs");
    assert!(
        built.status.success(),
        "ci/build-qemu-memory-test failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let kernel = root.join("target/qemu-memory-test/memory");
    let out = Command::new(env!("CARGO_BIN_EXE_oxbox"))
        .args(["cpu-test", "system", "--memory-test"])
        .arg(&kernel)
        .output()
        .expect("oxbox runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.lines().any(|line| line == "ok    qemu/memory"),
        "{stdout}"
    );
    let total = system::cases().len() + 1;
    assert_eq!(
        stdout.lines().last(),
        Some(format!("system: {total}/{total} passed").as_str()),
        "{stdout}"
    );
}

#[test]
fn a_failing_case_is_reported_and_counted() {
    // A memory test image that is not a kernel fails as a case, and the total says so.
    let path = std::env::temp_dir().join(format!("oxbox-system-{}.bin", std::process::id()));
    std::fs::write(&path, b"not a kernel").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_oxbox"))
        .args([
            "cpu-test",
            "system",
            "--filter",
            "identity/cpuid",
            "--memory-test",
        ])
        .arg(&path)
        .output()
        .expect("oxbox runs");
    std::fs::remove_file(&path).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains("FAIL  qemu/memory: cannot boot: no multiboot header"),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().last(),
        Some("system: 1/2 passed"),
        "{stdout}"
    );
}
