//! The interpreter against the host CPU: `oxbox cpu-test host-diff` on 200 random cases per
//! instruction form must find no difference. Needs gcc with 32-bit support (gcc-multilib);
//! without it the command, and so this test, fails with a message saying so.

use std::process::Command;

#[test]
fn interpreter_matches_the_host_cpu() {
    let out = Command::new(env!("CARGO_BIN_EXE_oxbox"))
        .args(["cpu-test", "host-diff", "--cases", "200", "--seed", "1"])
        .output()
        .expect("oxbox runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "host-diff failed:\n{stdout}\n{stderr}"
    );
    let last = stdout.lines().last().unwrap_or_default();
    let field = |name: &str| -> u64 {
        last.split_whitespace()
            .find_map(|part| part.strip_prefix(name)?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {last:?}"))
    };
    assert_eq!(field("mismatches="), 0, "{stdout}");
    // Every integer form runs: an enumeration that lost forms would pass vacuously.
    assert!(field("forms=") >= 700, "{last}");
    assert_eq!(field("cases="), 200 * field("forms="), "{last}");
}

#[test]
fn cpu_test_needs_a_known_subcommand() {
    let out = Command::new(env!("CARGO_BIN_EXE_oxbox"))
        .args(["cpu-test", "nonsense"])
        .output()
        .expect("oxbox runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("host-diff"));
}
