//! The CPU's system features, tested from inside the guest: every case of
//! `oxbox::cputest::system` passes on the test machine.

use oxbox::cputest::system;

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
