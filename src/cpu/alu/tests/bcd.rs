//! DAA DAS AAA AAS AAM AAD, which 64-bit mode lacks, and the #DE cases of DIV/IDIV, which
//! would kill the test process: both run in a 32-bit helper built with `gcc -m32` (Debian:
//! package gcc-multilib) that catches SIGFPE. Without that compiler these tests pass with a
//! loud message. The adjusts are checked exhaustively over AL/AH and the input flags.

use super::super as alu;
use super::{FLAG_NAMES, Out, RANDOM, Rng, SIZES, Size, Tally, host::Host};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// One case for the helper, as its `struct in`.
#[derive(Clone, Copy)]
struct Case {
    op: Op,
    imm: u8,
    flags: u32,
    eax: u32,
    edx: u32,
    src: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Daa,
    Das,
    Aaa,
    Aas,
    Aam,
    Aad,
    Div(Size),
    Idiv(Size),
}

impl Op {
    fn code(self) -> u8 {
        let size = |s: Size| s.bits().trailing_zeros() as u8 - 3;
        match self {
            Op::Daa => 0,
            Op::Das => 1,
            Op::Aaa => 2,
            Op::Aas => 3,
            Op::Aam => 4,
            Op::Aad => 5,
            Op::Div(s) => 6 + size(s),
            Op::Idiv(s) => 9 + size(s),
        }
    }
}

impl Case {
    /// A decimal-adjust case: only EAX, the flags and the immediate matter.
    fn adjust(op: Op, imm: u8, flags: u32, eax: u32) -> Case {
        Case {
            op,
            imm,
            flags,
            eax,
            edx: 0,
            src: 0,
        }
    }
}

/// The helper's answer: EAX, EDX, EFLAGS, or None after #DE.
type Answer = Option<(u32, u32, u32)>;

const HELPER_SOURCE: &str = r#"
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct in { uint8_t op, imm; uint16_t flags; uint32_t eax, edx, src; };
struct out { uint32_t eax, edx, flags, fault; };

static sigjmp_buf fault;
static void on_fpe(int sig) { (void)sig; siglongjmp(fault, 1); }

#define RUN(insn) __asm__ volatile( \
    "pushfl\n\tandl $0xfffff72a, (%%esp)\n\torl %2, (%%esp)\n\tpopfl\n\t" \
    insn "\n\tpushfl\n\tpopl %2" \
    : "+a"(a), "+d"(d), "+r"(f) : "c"(s) : "cc", "memory")

static void run(const struct in *c, struct out *o) {
    uint32_t a = c->eax, d = c->edx, f = c->flags, s = c->src;
    if (sigsetjmp(fault, 0)) { o->eax = o->edx = o->flags = 0; o->fault = 1; return; }
    switch (c->op) {
    case 0: RUN("daa"); break;
    case 1: RUN("das"); break;
    case 2: RUN("aaa"); break;
    case 3: RUN("aas"); break;
    case 4: switch (c->imm) { AAM_CASES } break;
    case 5: switch (c->imm) { AAD_CASES } break;
    case 6: RUN("divb %%cl"); break;
    case 7: RUN("divw %%cx"); break;
    case 8: RUN("divl %%ecx"); break;
    case 9: RUN("idivb %%cl"); break;
    case 10: RUN("idivw %%cx"); break;
    case 11: RUN("idivl %%ecx"); break;
    }
    o->eax = a; o->edx = d; o->flags = f; o->fault = 0;
}

int main(void) {
    static struct in ins[4096];
    static struct out outs[4096];
    struct sigaction sa;
    size_t n;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fpe;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGFPE, &sa, NULL);
    while ((n = fread(ins, sizeof ins[0], 4096, stdin)) > 0) {
        for (size_t i = 0; i < n; i++) run(&ins[i], &outs[i]);
        if (fwrite(outs, sizeof outs[0], n, stdout) != n) return 1;
    }
    return 0;
}
"#;

/// The compiled helper, removed again on drop.
struct Helper {
    dir: PathBuf,
}

impl Helper {
    /// Builds the helper in a fresh temporary directory; None, with a loud message, if
    /// `gcc -m32` cannot.
    fn build(test: &str) -> Option<Helper> {
        let cases = |byte: u8| {
            (0..=255)
                .map(|i| format!("case {i}: RUN(\".byte {byte}, {i}\"); break;\n"))
                .collect::<String>()
        };
        let source = HELPER_SOURCE
            .replace("AAM_CASES", &cases(0xd4))
            .replace("AAD_CASES", &cases(0xd5));
        let name = format!("oxbox-alu-{}-{test}", std::process::id());
        let helper = Helper {
            dir: std::env::temp_dir().join(name),
        };
        let c = helper.dir.join("helper.c");
        let built = std::fs::create_dir_all(&helper.dir).is_ok()
            && std::fs::write(&c, source).is_ok()
            && Command::new("gcc")
                .args(["-m32", "-O1", "-fno-pie", "-no-pie", "-o"])
                .arg(helper.exe())
                .arg(&c)
                .status()
                .is_ok_and(|s| s.success());
        if !built {
            // Straight to stderr: the test harness captures `eprintln!` of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "\n!!!!!!!! SKIPPED {test}: `gcc -m32` cannot build the 32-bit test helper \
                 (install gcc-multilib), so it is NOT checked !!!!!!!!\n"
            );
        }
        built.then_some(helper)
    }

    fn exe(&self) -> PathBuf {
        self.dir.join("helper")
    }

    /// Runs `make()`'s cases through the helper and hands each answer to `check`.
    fn run<I: Iterator<Item = Case>>(
        &self,
        make: impl Fn() -> I + Sync,
        mut check: impl FnMut(Case, Answer),
    ) {
        let mut child = Command::new(self.exe())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("helper");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let mut w = BufWriter::with_capacity(1 << 16, stdin);
                for c in make() {
                    let [f0, f1] = (c.flags as u16).to_le_bytes();
                    let mut record = vec![c.op.code(), c.imm, f0, f1];
                    for v in [c.eax, c.edx, c.src] {
                        record.extend_from_slice(&v.to_le_bytes());
                    }
                    // The helper only stops early when a check failed; that panic reports.
                    if w.write_all(&record).is_err() {
                        return;
                    }
                }
            });
            // Owned here, so that a failed check closes it while unwinding: the helper then
            // dies of SIGPIPE instead of leaving the writer blocked forever.
            let mut stdout = BufReader::with_capacity(1 << 16, stdout);
            for c in make() {
                let mut record = [0u8; 16];
                stdout.read_exact(&mut record).expect("helper output");
                let word =
                    |i: usize| u32::from_le_bytes(record[4 * i..4 * i + 4].try_into().unwrap());
                check(c, (word(3) == 0).then(|| (word(0), word(1), word(2))));
            }
        });
        assert!(child.wait().expect("helper exit").success());
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every combination of the six status flags.
fn flag_combinations() -> impl Iterator<Item = u32> + Clone {
    (0..64u32).map(|bits| {
        (0..6)
            .filter(|i| bits >> i & 1 != 0)
            .map(|i| FLAG_NAMES[i].1)
            .sum()
    })
}

/// Checks one adjust instruction whose result is in AL (`size` Byte) or AX (Word); the rest of
/// EAX must be unchanged.
fn check_adjust(tally: &mut Tally, size: Size, c: Case, answer: Answer, ours: Out) {
    let (eax, _, flags) = answer.expect("no #DE");
    let unchanged = (eax >> size.bits()) & size.mask();
    let host = Host {
        value: eax & size.mask(),
        extra: unchanged,
        flags: flags & super::STATUS,
    };
    let inputs = [c.eax, u32::from(c.imm)];
    tally.check(
        size,
        &inputs,
        c.flags,
        host,
        ours,
        (c.eax >> size.bits()) & size.mask(),
    );
}

/// DAA, DAS, AAA or AAS: (AL or AX, EFLAGS).
type Adjust = fn(u32, u32) -> Out;

#[test]
fn daa_das() {
    let Some(helper) = Helper::build("daa_das") else {
        return;
    };
    let ops: [(Op, &str, Adjust); 2] = [(Op::Daa, "daa", alu::daa), (Op::Das, "das", alu::das)];
    for (op, name, ours) in ops {
        let mut tally = Tally::new(name);
        // AH and the upper half of EAX must survive.
        let make = || {
            (0..256).flat_map(move |al| {
                flag_combinations().map(move |f| Case::adjust(op, 0, f, 0x1234_5600 | al))
            })
        };
        helper.run(make, |c, answer| {
            check_adjust(&mut tally, Size::Byte, c, answer, ours(c.eax, c.flags))
        });
        tally.report();
    }
}

#[test]
fn aaa_aas() {
    let Some(helper) = Helper::build("aaa_aas") else {
        return;
    };
    let ops: [(Op, &str, Adjust); 2] = [(Op::Aaa, "aaa", alu::aaa), (Op::Aas, "aas", alu::aas)];
    for (op, name, ours) in ops {
        let mut tally = Tally::new(name);
        let make = || {
            (0..0x1_0000).flat_map(move |ax| {
                flag_combinations().map(move |f| Case::adjust(op, 0, f, 0xabcd_0000 | ax))
            })
        };
        helper.run(make, |c, answer| {
            check_adjust(&mut tally, Size::Word, c, answer, ours(c.eax, c.flags))
        });
        tally.report();
    }
}

#[test]
fn aam_aad() {
    let Some(helper) = Helper::build("aam_aad") else {
        return;
    };
    let mut tally = Tally::new("aam");
    let mut faults = 0;
    // Every AL and base under every flag combination; AH is not an input.
    let make = || {
        (0..0x1_0000u32).flat_map(|i| {
            let (al, imm) = (i & 0xff, (i >> 8) as u8);
            flag_combinations().map(move |f| Case::adjust(Op::Aam, imm, f, 0x5a00 | al))
        })
    };
    helper.run(make, |c, answer| match alu::aam(c.eax, c.imm) {
        Err(alu::DivideError) => {
            assert!(answer.is_none(), "AAM {} of {:#x} must fault", c.imm, c.eax);
            faults += 1;
        }
        Ok(out) => check_adjust(&mut tally, Size::Word, c, answer, out),
    });
    tally.report();
    println!("aam        {faults:>8} #DE cases");

    let mut tally = Tally::new("aad");
    // Every AX and base; AAD reads no flag, so random ones suffice.
    let make = || {
        let mut rng = Rng::new(60);
        (0..0x100_0000u32).map(move |i| {
            let (ax, imm) = (i & 0xffff, (i >> 16) as u8);
            Case::adjust(Op::Aad, imm, rng.flags(), 0x7700_0000 | ax)
        })
    };
    helper.run(make, |c, answer| {
        check_adjust(&mut tally, Size::Word, c, answer, alu::aad(c.eax, c.imm))
    });
    tally.report();
}

/// DIV/IDIV including the faulting cases, which the 64-bit tests cannot run.
#[test]
fn divide_faults() {
    let Some(helper) = Helper::build("divide_faults") else {
        return;
    };
    for signed in [false, true] {
        let name = if signed { "idiv32" } else { "div32" };
        let ours = if signed { alu::idiv } else { alu::div };
        let mut tally = Tally::new(name);
        let (mut faults, mut cases) = (0, 0);
        for size in SIZES {
            let op = if signed {
                Op::Idiv(size)
            } else {
                Op::Div(size)
            };
            let make = || {
                let mut rng = Rng::new(61);
                (0..RANDOM).map(move |i| {
                    // Zero divisors, small ones and random high halves all fault often.
                    let src = if i % 16 == 0 { 0 } else { rng.operand() };
                    let (eax, flags) = (rng.u32(), rng.flags());
                    let edx = if i % 2 == 0 {
                        rng.operand()
                    } else {
                        size.sign_fill(eax)
                    };
                    Case {
                        op,
                        imm: 0,
                        flags,
                        eax,
                        edx,
                        src,
                    }
                })
            };
            helper.run(make, |c, answer| {
                cases += 1;
                let (lo, hi) = match size {
                    Size::Byte => (c.eax, c.eax >> 8),
                    _ => (c.eax, c.edx),
                };
                match (ours(size, lo, hi, c.src), answer) {
                    (Err(_), None) => faults += 1,
                    (Ok((out, rem)), Some((eax, edx, flags))) => {
                        let rem_host = if size == Size::Byte { eax >> 8 } else { edx };
                        let (value, extra) = (eax & size.mask(), rem_host & size.mask());
                        let host = Host {
                            value,
                            extra,
                            flags,
                        };
                        tally.check(size, &[hi, lo, c.src], c.flags, host, out, rem);
                    }
                    (ours, host) => panic!(
                        "{name} {size:?} {hi:#x}:{lo:#x} / {:#x}: ours {ours:?} host {host:?}",
                        c.src
                    ),
                }
            });
        }
        tally.report();
        println!("{name:<10} {faults:>8} of {cases} cases raised #DE on both");
    }
}
