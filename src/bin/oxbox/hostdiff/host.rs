//! The host side: builds the 32-bit helper (`host32.c`) with gcc and talks to it over pipes.
//! The protocol is described at the top of `host32.c`.

use super::case::{CODE_ADDR, Case, SCRATCH_ADDR, SCRATCH_SIZE, State};
use super::fx;
use super::ours::{End, Outcome};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

const SOURCE: &str = include_str!("host32.c");
const NO_FAULT: u32 = u32::MAX;

pub struct Host {
    child: Child,
    input: BufWriter<ChildStdin>,
    output: BufReader<ChildStdout>,
    dir: PathBuf,
}

impl Host {
    /// Compiles the helper into a fresh temporary folder and starts it.
    pub fn start() -> Result<Host, String> {
        // One folder per helper, also within a process (tests may start several).
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let name = format!("oxbox-host-diff-{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let source = dir.join("host32.c");
        let binary = dir.join("host32");
        std::fs::write(&source, SOURCE)
            .map_err(|e| format!("cannot write {}: {e}", source.display()))?;
        let built = Command::new("gcc")
            .args(["-m32", "-O0", "-static", "-fno-pie", "-no-pie", "-o"])
            .arg(&binary)
            .arg(&source)
            .arg(format!("-DSCRATCH_ADDR={SCRATCH_ADDR:#x}"))
            .arg(format!("-DCODE_ADDR={CODE_ADDR:#x}"))
            .arg(format!("-DSCRATCH_SIZE={SCRATCH_SIZE}"))
            .output();
        let failure = match built {
            Ok(out) if out.status.success() => None,
            Ok(out) => Some(String::from_utf8_lossy(&out.stderr).into_owned()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(why) = failure {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(format!(
                "cannot build the 32-bit host helper with `gcc -m32 -static`: {}\n\
                 host-diff needs gcc with 32-bit support (Debian/Ubuntu: apt-get install gcc-multilib)",
                why.trim()
            ));
        }
        let mut child = Command::new(&binary)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("the host helper has no pipes".into());
        };
        Ok(Host {
            child,
            input: BufWriter::new(input),
            output: BufReader::new(output),
            dir,
        })
    }

    /// Runs the cases natively, in order. A writer thread feeds the helper while this one
    /// reads its answers, so neither pipe can fill up and stall both processes.
    pub fn run(&mut self, cases: &[Case]) -> Result<Vec<Outcome>, String> {
        let input = &mut self.input;
        let output = &mut self.output;
        std::thread::scope(|scope| {
            let writer = scope.spawn(move || send(input, cases));
            let results: Result<Vec<Outcome>, String> = cases
                .iter()
                .map(|case| receive(output, case.input.fx.is_some()))
                .collect();
            let sent = writer
                .join()
                .unwrap_or_else(|_| Err("the writer thread panicked".into()));
            sent.and(results)
        })
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.input.write_all(&0u32.to_le_bytes());
        let _ = self.input.flush();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn send(input: &mut BufWriter<ChildStdin>, cases: &[Case]) -> Result<(), String> {
    let mut batch = Vec::new();
    batch.extend((cases.len() as u32).to_le_bytes());
    for case in cases {
        batch.push(case.bytes.len() as u8);
        batch.extend(&case.bytes);
        batch.extend(case.input.regs.iter().flat_map(|r| r.to_le_bytes()));
        batch.extend(case.input.eflags.to_le_bytes());
        batch.extend(case.input.memory);
        match &case.input.fx {
            Some(image) => {
                batch.push(1);
                batch.extend(&image[..]);
            }
            None => batch.push(0),
        }
    }
    input
        .write_all(&batch)
        .and_then(|()| input.flush())
        .map_err(|e| format!("the host helper stopped reading: {e}"))
}

fn receive(output: &mut BufReader<ChildStdout>, fp: bool) -> Result<Outcome, String> {
    let mut read = |buffer: &mut [u8]| {
        output
            .read_exact(buffer)
            .map_err(|e| format!("the host helper stopped answering: {e}"))
    };
    let mut words = [0u8; 40];
    read(&mut words)?;
    let word = |i: usize| {
        u32::from_le_bytes([
            words[4 * i],
            words[4 * i + 1],
            words[4 * i + 2],
            words[4 * i + 3],
        ])
    };
    let mut memory = [0u8; SCRATCH_SIZE];
    read(&mut memory)?;
    let fx = if fp {
        let mut image = Box::new([0u8; fx::SIZE]);
        read(&mut image[..])?;
        Some(image)
    } else {
        None
    };
    let end = match word(0) {
        NO_FAULT => End::Next,
        vector => End::Fault(vector as u8),
    };
    Ok(Outcome {
        end,
        state: State {
            regs: std::array::from_fn(|i| word(1 + i)),
            eflags: word(9),
            memory,
            fx,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The x87 path of the helper: FLD1 from an empty stack leaves 1.0 in ST0 and TOP = 7.
    #[test]
    fn fxsave_image_round_trip() {
        let mut host = Host::start().expect("the host helper builds (needs gcc-multilib)");
        let mut image = Box::new([0u8; fx::SIZE]);
        image[0..2].copy_from_slice(&0x037Fu16.to_le_bytes());
        image[24..28].copy_from_slice(&0x1F80u32.to_le_bytes());
        let bytes = vec![0xD9, 0xE8];
        let instruction = iced_x86::Decoder::new(32, &bytes, 0).decode();
        let case = Case {
            bytes,
            instruction,
            input: State {
                regs: [0; 8],
                eflags: 2,
                memory: [0; SCRATCH_SIZE],
                fx: Some(image),
            },
        };
        let outcome = host
            .run(std::slice::from_ref(&case))
            .expect("the helper answers");
        assert_eq!(outcome[0].end, End::Next);
        let fx = outcome[0].state.fx.as_ref().expect("an FXSAVE image");
        assert_eq!((u16::from_le_bytes([fx[2], fx[3]]) >> 11) & 7, 7, "TOP");
        assert_eq!(
            fx[4], 0x80,
            "abridged tag word: only the register at TOP is valid"
        );
        assert_eq!(
            &fx[32..42],
            &[0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0x3F],
            "ST0 = 1.0"
        );
    }
}
