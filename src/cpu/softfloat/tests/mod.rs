//! Checks against the host CPU: every operation is run natively (see `host`) and in
//! software on hand-picked edge cases and seeded random operands, and must agree bit for
//! bit on results and flags.

mod host;
mod rng;
mod sse;
mod x87;

use core::fmt::Debug;

/// Random operands per operation (each run under every control setting); fewer in
/// unoptimised builds. `SOFTFLOAT_RANDOM=n` overrides it for longer soak runs.
fn random_cases() -> usize {
    let default = if cfg!(debug_assertions) {
        5_000
    } else {
        200_000
    };
    std::env::var("SOFTFLOAT_RANDOM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Collects disagreements between software and host and reports them together.
struct Check {
    name: &'static str,
    cases: usize,
    failures: Vec<String>,
}

impl Check {
    fn new(name: &'static str) -> Check {
        Check {
            name,
            cases: 0,
            failures: Vec::new(),
        }
    }

    fn eq<T: PartialEq + Debug>(&mut self, soft: T, host: T, input: impl FnOnce() -> String) {
        self.cases += 1;
        if soft != host && self.failures.len() < 12 {
            self.failures.push(format!(
                "{}\n    soft {soft:X?}\n    host {host:X?}",
                input()
            ));
        }
    }
}

impl Drop for Check {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            eprintln!("{}: {} cases", self.name, self.cases);
            assert!(
                self.failures.is_empty(),
                "{}: mismatches\n{}",
                self.name,
                self.failures.join("\n")
            );
        }
    }
}
