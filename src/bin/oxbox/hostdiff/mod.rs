//! `oxbox cpu-test host-diff`: every instruction form the interpreter implements, run on
//! random operands both on `oxbox::cpu::Cpu` and natively on the host CPU, which is the
//! hardware oracle; registers, EIP, memory, flags and FPU/SSE state are compared.
//!
//! - [`forms`]: which iced-x86 `Code`s are tested: valid in 32-bit code, available on a
//!   Pentium III (`cpu::decode::pentium_iii_has`), user-mode data instructions.
//! - [`case`]: random operands and the instruction's bytes (iced's `Encoder`).
//! - [`ours`]: one case on the interpreter; [`host`]: on the host, through `host32.c`, a
//!   32-bit helper built with `gcc -m32` at run time.
//! - [`compare`]: the comparison, masked as below.
//!
//! A form whose cases all raise #UD on our side (or whose FXRSTOR does, for x87, MMX and SSE
//! forms) is counted as unimplemented, not compared, and listed at the end.
//!
//! # What is compared
//!
//! How the instruction ended (completed with EIP just past it, or the exception vector), and
//! if it completed: the eight GPRs, the scratch memory, CF PF AF ZF SF OF and DF, and for
//! x87/MMX/SSE forms the defined fields of the FXSAVE image (see [`fx::fields`] and
//! [`fx::pointers`]). Only what the SDM (Vol. 2, "Flags Affected" and "Operation" of each
//! instruction) calls undefined is masked; the host's undefined values differ between CPU
//! makers and models. RCPPS, RCPSS, RSQRTPS and RSQRTSS results are held to their documented
//! error bound rather than compared bit for bit (see `compare::Approximation`).
//!
//! | Instruction                | Undefined, so not compared                                   |
//! |----------------------------|--------------------------------------------------------------|
//! | AND OR XOR TEST            | AF                                                           |
//! | SHL SAL SHR SAR            | masked count ≠ 0: AF; count > 1: OF; SHL/SHR count ≥ width: CF |
//! | ROL ROR RCL RCR            | masked count > 1: OF                                         |
//! | SHLD SHRD                  | count ≠ 0: AF; count > 1: OF; count > width (16-bit): all six flags and the destination |
//! | MUL IMUL (all forms)       | SF ZF AF PF                                                  |
//! | DIV IDIV                   | all six flags                                                |
//! | BSF BSR                    | CF OF SF AF PF; the destination when the source is 0         |
//! | BT BTS BTR BTC             | OF SF AF PF                                                  |
//! | DAA DAS                    | OF                                                           |
//! | AAA AAS                    | OF SF ZF PF                                                  |
//! | AAM AAD                    | OF AF CF                                                     |
//! | BSWAP r16                  | the destination                                              |
//! | x87 instructions           | FSW C0 C1 C2 C3 as listed in [`fx::fields`]                  |
//!
//! Counts are the count operand masked to 5 bits, as the processor masks it.

mod case;
mod compare;
mod forms;
mod fx;
mod host;
mod ours;
mod rng;

use case::Case;
use compare::{REGISTERS, differences};
use forms::Form;
use iced_x86::{Formatter, IntelFormatter, OpKind};
use ours::{End, Ours, Outcome};
use rng::Rng;

pub const USAGE: &str = "\
usage: oxbox cpu-test host-diff [--cases N] [--seed S] [--filter TEXT]

Runs every instruction form the CPU interpreter implements (integer, and x87/MMX/SSE once it
has them) on N random cases (default 1000) both on the interpreter and natively on the host
CPU, and compares registers, EIP, memory, the flags the manuals define and the FPU/SSE state.
Forms the interpreter does not implement yet (#UD) are listed, not compared. --filter keeps
the forms whose name (an iced-x86 Code, e.g. Add_rm32_r32/mem) contains TEXT. Needs gcc with
32-bit support (gcc-multilib). Ends with the line
  host-diff: forms=F cases=C mismatches=M
and fails when M is not 0.
";

/// The mismatching cases printed per form.
const SHOWN: usize = 3;

struct Options {
    cases: u32,
    seed: u64,
    filter: Option<String>,
}

pub fn run(args: &[String]) -> Result<(), String> {
    let options = parse(args)?;
    let forms: Vec<Form> = forms::all()
        .into_iter()
        .filter(|form| match &options.filter {
            Some(text) => form.name().to_lowercase().contains(&text.to_lowercase()),
            None => true,
        })
        .collect();
    let ours = Ours::new()?;
    let mut host = host::Host::start()?;
    let (mut compared, mut cases_run, mut mismatches) = (0u64, 0u64, 0u64);
    let mut unimplemented = Vec::new();
    let mut unbuildable = Vec::new();
    for form in &forms {
        let name = form.name();
        let mut rng = Rng::for_form(options.seed, &name);
        let cases = match (0..options.cases)
            .map(|_| case::generate(form, &mut rng))
            .collect::<Result<Vec<Case>, String>>()
        {
            Ok(cases) => cases,
            Err(why) => {
                unbuildable.push(format!("{name} ({why})"));
                continue;
            }
        };
        let Some(our_outcomes) = run_ours(&ours, &cases) else {
            unimplemented.push(name);
            continue;
        };
        let host_outcomes = host.run(&cases)?;
        let differing: Vec<(&Case, Vec<String>)> = cases
            .iter()
            .zip(host_outcomes.iter().zip(&our_outcomes))
            .map(|(case, (h, o))| (case, differences(case, h, o)))
            .filter(|(_, diff)| !diff.is_empty())
            .collect();
        if !differing.is_empty() {
            println!(
                "{name}: {} of {} cases differ",
                differing.len(),
                cases.len()
            );
            for (case, diff) in differing.iter().take(SHOWN) {
                print_case(case, diff);
            }
        }
        compared += 1;
        cases_run += cases.len() as u64;
        mismatches += differing.len() as u64;
    }
    if !unimplemented.is_empty() {
        println!(
            "unimplemented ({} forms, #UD in the interpreter): {}",
            unimplemented.len(),
            unimplemented.join(" ")
        );
    }
    for form in &unbuildable {
        println!("not tested, no encoding decodes back to the form: {form}");
    }
    println!("host-diff: forms={compared} cases={cases_run} mismatches={mismatches}");
    if mismatches > 0 {
        return Err(format!("{mismatches} cases differ from the host"));
    }
    Ok(())
}

/// Our outcomes, or None when the form is unimplemented.
fn run_ours(ours: &Ours, cases: &[Case]) -> Option<Vec<Outcome>> {
    let mut outcomes = Vec::with_capacity(cases.len());
    for case in cases {
        outcomes.push(ours.run(case)?);
    }
    let undefined_opcode = End::Fault(oxbox::cpu::fault::vector::UD);
    let all_ud = outcomes.iter().all(|o| o.end == undefined_opcode);
    (!all_ud).then_some(outcomes)
}

fn print_case(case: &Case, diff: &[String]) {
    let mut text = String::new();
    IntelFormatter::new().format(&case.instruction, &mut text);
    let bytes: Vec<String> = case.bytes.iter().map(|b| format!("{b:02X}")).collect();
    println!("  {text}  [{}]", bytes.join(" "));
    let input = &case.input;
    let regs: Vec<String> = REGISTERS
        .iter()
        .zip(input.regs)
        .map(|(name, value)| format!("{name}={value:08X}"))
        .collect();
    println!("    in: {} EFLAGS={:08X}", regs.join(" "), input.eflags);
    let has_memory =
        (0..case.instruction.op_count()).any(|i| case.instruction.op_kind(i) == OpKind::Memory);
    if has_memory {
        let offset = input.memory_offset(&case.instruction) as usize;
        if let Some(bytes) = input
            .memory
            .get(offset..(offset + 16).min(input.memory.len()))
        {
            let bytes: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
            println!("    memory operand at +{offset:#04x}: {}", bytes.join(" "));
        }
    }
    if let Some(image) = &input.fx {
        for line in fx::describe(image) {
            println!("    in: {line}");
        }
    }
    for line in diff {
        println!("    {line}");
    }
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        cases: 1000,
        seed: 1,
        filter: None,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value\n\n{USAGE}"));
        match arg.as_str() {
            "--cases" => options.cases = number(value()?)?,
            "--seed" => options.seed = number(value()?)?,
            "--filter" => options.filter = Some(value()?.clone()),
            other => return Err(format!("unknown argument {other}\n\n{USAGE}")),
        }
    }
    Ok(options)
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a number"))
}
