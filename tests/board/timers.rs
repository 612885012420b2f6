//! The MCPX's timers and interrupt controllers, checked from inside the guest against each
//! other: the 8254 PIT and the RTC's periodic and update interrupts timed by the ACPI PM
//! timer, the PM timer against the CPU's time-stamp counter, and the 8259 pair's masking,
//! end of interrupt, cascade and edge/level control.
//!
//! Expected values come from the parts' datasheets (Intel 8254 and 8259A, Motorola MC146818A,
//! Intel PIIX4 for the ELCR) and the Xbox's clocks: CPU 733,333,333 Hz, PIT 1,125,000 Hz, PM
//! timer 3,375,000 Hz (three PM ticks per PIT clock), RTC time base 32,768 Hz.

use super::harness::*;
use oxbox::asm::{Asm, Cc, Label, Result};
use oxbox::machine::Config;

/// Interrupts counted by the stamping handler.
const COUNT: u32 = 0x3000;
/// When nonzero the stamping handler sends no EOI.
const NO_EOI: u32 = 0x3004;
/// The PM timer when the program started something (a count, a wait).
const START: u32 = 0x3008;
/// Bytes the handlers' extras record.
const SAVED: u32 = 0x3010;
/// The PM timer at each of the first [`STAMPS`] interrupts.
const TIMES: u32 = 0x4000;
const STAMPS: u32 = 64;

/// The PIT's count for 100 Hz: 1,125,000 / 11,250.
const HUNDRED_HZ: u32 = 11_250;
/// PM timer ticks per PIT clock: 3,375,000 / 1,125,000.
const PM_PER_PIT: u32 = 3;
/// The CPU clock, as RDTSC counts it.
const CPU_HZ: u32 = 733_333_333;

/// An interrupt handler that stores the PM timer in `TIMES[COUNT]` (for the first [`STAMPS`]),
/// runs `extra` (ECX = the count before this interrupt; EAX, ECX, EDX are free), counts the
/// interrupt and, unless [`NO_EOI`] is set, sends a non-specific EOI to each of `eoi`.
fn stamping_handler(
    a: &mut Asm,
    handler: Label,
    eoi: &[u16],
    extra: impl Fn(&mut Asm) -> Result,
) -> Result {
    a.bind(handler)?;
    for r in [eax, ecx, edx] {
        a.push(r)?;
    }
    pm_timer(a)?;
    a.mov(ecx, dword_ptr(COUNT))?;
    let full = a.label();
    a.cmp(ecx, STAMPS as i32)?;
    a.jae(full)?;
    a.mov(dword_ptr(ecx * 4 + TIMES), eax)?;
    a.bind(full)?;
    extra(a)?;
    a.inc(dword_ptr(COUNT))?;
    let done = a.label();
    a.cmp(dword_ptr(NO_EOI), 0)?;
    a.jne(done)?;
    for &port in eoi {
        outb(a, port, 0x20)?;
    }
    a.bind(done)?;
    for r in [edx, ecx, eax] {
        a.pop(r)?;
    }
    a.iretd()?;
    Ok(())
}

fn nothing(_: &mut Asm) -> Result {
    Ok(())
}

/// Halts until [`COUNT`] reaches `count`.
fn wait_for_count(a: &mut Asm, count: u32) -> Result {
    let wait = a.here()?;
    a.hlt()?;
    a.cmp(dword_ptr(COUNT), count as i32)?;
    a.jb(wait)?;
    Ok(())
}

/// Spins until the PM timer has advanced `ticks` (clobbers EAX, EDX, ESI).
fn spin_pm(a: &mut Asm, ticks: u32) -> Result {
    pm_timer(a)?;
    a.mov(esi, eax)?;
    let spin = a.here()?;
    pm_timer(a)?;
    a.sub(eax, esi)?;
    a.cmp(eax, ticks as i32)?;
    a.jb(spin)?;
    Ok(())
}

/// EAX = `TIMES[to]` - `TIMES[from]`.
fn stamp_delta(a: &mut Asm, from: u32, to: u32) -> Result {
    a.mov(eax, dword_ptr(TIMES + 4 * to))?;
    a.sub(eax, dword_ptr(TIMES + 4 * from))?;
    Ok(())
}

/// Reads a 16-bit count from PIT counter 0 (LSB then MSB) into BX or CX (clobbers AL, DX).
fn read_counter0(a: &mut Asm, low: AsmRegister8, high: AsmRegister8) -> Result {
    inb(a, 0x40)?;
    a.mov(low, al)?;
    inb(a, 0x40)?;
    a.mov(high, al)?;
    Ok(())
}

/// PIT counter 0 in mode 2 with a count of 11,250 interrupts at 100 Hz: each period is
/// 11,250 PIT clocks, 33,750 PM ticks (8254 datasheet, mode 2: OUT goes low for the one clock
/// when the count reaches 1, then the count reloads; the IRQ0 edge is OUT's rise). The first
/// interrupt comes N + 1 clocks after the count is written (loaded on the next clock, then N
/// clocks down to the reload). A latched count holds still until read and goes down with
/// the PM timer, one per three ticks.
#[test]
fn pit_counter_0_interrupts_at_its_programmed_rate() {
    const PERIODS: u32 = 20;
    const PERIOD: u32 = HUNDRED_HZ * PM_PER_PIT;
    expect_pass("pit-rate", Config::default(), 30, |a| {
        report_eax(a)?;
        let irq0 = a.label();
        install_idt(a, &[(0x20, irq0)])?;
        enable_acpi(a)?;
        a.mov(dword_ptr(COUNT), 0u32)?;
        a.mov(dword_ptr(NO_EOI), 0u32)?;
        init_pic(a, 0xFE, 0xFF)?;
        start_pit(a, HUNDRED_HZ as u16)?;
        pm_timer(a)?;
        a.mov(dword_ptr(START), eax)?;
        a.sti()?;
        wait_for_count(a, PERIODS + 1)?;
        a.cli()?;

        // The counter was just reloaded: latch it, wait about 60 PIT clocks, read the latch,
        // then latch and read it again.
        outb(a, 0x43, 0x00)?;
        pm_timer(a)?;
        a.mov(esi, eax)?;
        a.mov(ecx, 20_000u32)?;
        let delay = a.here()?;
        a.dec(ecx)?;
        a.jnz(delay)?;
        a.xor(ebx, ebx)?;
        read_counter0(a, bl, bh)?;
        outb(a, 0x43, 0x00)?;
        pm_timer(a)?;
        a.mov(edi, eax)?;
        a.xor(ecx, ecx)?;
        read_counter0(a, cl, ch)?;
        a.mov(eax, ebx)?;
        a.cmp(eax, (HUNDRED_HZ + 1) as i32)?;
        a.check(Cc::B, "the latched count is at most the initial count")?;
        a.cmp(ecx, ebx)?;
        a.check(Cc::B, "the second latched count is below the first")?;
        // Three PM ticks per count, the first latch taken when the PM timer read ESI.
        a.sub(eax, ecx)?;
        a.lea(eax, ptr(eax + eax * 2))?;
        a.sub(eax, edi)?;
        a.add(eax, esi)?;
        check_near(
            a,
            0,
            6,
            "3 x (latch 1 - latch 2) = PM ticks between the latches",
        )?;

        a.mov(eax, dword_ptr(TIMES))?;
        a.sub(eax, dword_ptr(START))?;
        check_near(
            a,
            PERIOD + 1,
            4,
            "first IRQ0 N+1 PIT clocks after the count write",
        )?;
        for k in 1..=PERIODS {
            stamp_delta(a, k - 1, k)?;
            check_near(a, PERIOD, 3, &format!("period {k} = 33,750 PM ticks"))?;
        }
        stamp_delta(a, 0, PERIODS)?;
        check_near(
            a,
            PERIODS * PERIOD,
            3,
            "20 periods = 675,000 PM ticks (0.2 s)",
        )?;
        pass(a)?;
        stamping_handler(a, irq0, &[0x20], nothing)
    });
}

/// Over 0.1 s of PIT interrupts, the TSC (733,333,333 Hz) and the PM timer (3,375,000 Hz)
/// agree: TSC delta = PM delta x 733,333,333 / 3,375,000 within 0.1%.
#[test]
fn pm_timer_counts_3_375_mhz_against_the_tsc() {
    expect_pass("pm-rate", Config::default(), 20, |a| {
        report_eax(a)?;
        let irq0 = a.label();
        install_idt(a, &[(0x20, irq0)])?;
        enable_acpi(a)?;
        a.mov(dword_ptr(COUNT), 0u32)?;
        a.mov(dword_ptr(NO_EOI), 0u32)?;
        init_pic(a, 0xFE, 0xFF)?;
        start_pit(a, HUNDRED_HZ as u16)?;
        a.sti()?;
        wait_for_count(a, 1)?;
        pm_timer(a)?;
        a.mov(esi, eax)?;
        a.rdtsc()?;
        a.mov(edi, eax)?;
        wait_for_count(a, 11)?;
        pm_timer(a)?;
        a.mov(ebx, eax)?;
        a.rdtsc()?;
        a.sub(eax, edi)?;
        a.mov(edi, eax)?; // the TSC's delta
        a.mov(eax, ebx)?;
        a.sub(eax, esi)?; // the PM timer's
        a.mov(esi, eax)?;
        check_near(
            a,
            10 * HUNDRED_HZ * PM_PER_PIT,
            10,
            "0.1 s of PIT = 337,500 PM ticks",
        )?;
        // The TSC delta the PM ticks predict, and 0.1% of it.
        a.mov(eax, esi)?;
        a.mov(edx, CPU_HZ)?;
        a.mul(edx)?;
        a.mov(ecx, PM_TIMER_HZ)?;
        a.div(ecx)?;
        a.mov(ecx, eax)?;
        a.xor(edx, edx)?;
        a.mov(ebx, 1000u32)?;
        a.div(ebx)?;
        a.mov(ebx, eax)?;
        a.mov(eax, edi)?;
        a.sub(eax, ecx)?;
        a.add(eax, ebx)?;
        a.lea(edx, ptr(ebx * 2 + 1))?;
        a.cmp(eax, edx)?;
        a.check(
            Cc::B,
            "TSC delta = PM delta x 733,333,333 / 3,375,000 within 0.1%",
        )?;
        pass(a)?;
        stamping_handler(a, irq0, &[0x20], nothing)
    });
}

/// The Xbox's PM timer is 32 bits wide (ACPI's is 24): it passes 2^24 about 4.97 s after
/// power-on (16,777,216 / 3,375,000 s) and keeps counting up, where a 24-bit one would
/// wrap to 0. The guest halts between slow PIT interrupts (65,536 clocks, 17 Hz) and
/// watches the timer never go backwards until bits 24-31 are set.
#[test]
fn pm_timer_is_32_bits_wide() {
    expect_pass("pm-width", Config::default(), 320, |a| {
        report_eax(a)?;
        let irq0 = a.label();
        install_idt(a, &[(0x20, irq0)])?;
        enable_acpi(a)?;
        a.mov(dword_ptr(COUNT), 0u32)?;
        a.mov(dword_ptr(NO_EOI), 0u32)?;
        init_pic(a, 0xFE, 0xFF)?;
        start_pit(a, 0)?; // 0 counts 65,536
        a.sti()?;
        pm_timer(a)?;
        a.mov(esi, eax)?;
        let watch = a.here()?;
        a.hlt()?;
        pm_timer(a)?;
        a.cmp(eax, esi)?;
        a.check(Cc::Ae, "the PM timer never goes backwards")?;
        a.mov(esi, eax)?;
        a.cmp(eax, 0x0100_0000)?;
        a.jb(watch)?;
        // Reached by counting: at most one PIT period (196,608 PM ticks) past 2^24.
        check_near(
            a,
            0x0100_0000 + 3 * 65_536 / 2,
            3 * 65_536 / 2 + 10,
            "the PM timer passes 2^24 by counting",
        )?;
        pass(a)?;
        stamping_handler(a, irq0, &[0x20], nothing)
    });
}

/// 8259A masking and end of interrupt, with IRQ0 from the PIT at 1 kHz (8259A datasheet):
/// a masked request still shows in the IRR (OCW3 0x0A) and is delivered when the mask bit
/// clears; the acknowledge moves it from the IRR to the ISR (OCW3 0x0B); while it is in
/// service nothing of the same or lower priority interrupts, the next edge waits in the
/// IRR, and the EOI lets it through at once.
#[test]
fn pic_masks_holds_in_service_and_ends_on_eoi() {
    const PERIOD: u32 = 1125 * PM_PER_PIT; // 1 ms
    expect_pass("pic-mask-eoi", Config::default(), 20, |a| {
        report_eax(a)?;
        let irq0 = a.label();
        install_idt(a, &[(0x20, irq0)])?;
        enable_acpi(a)?;
        a.mov(dword_ptr(COUNT), 0u32)?;
        a.mov(dword_ptr(NO_EOI), 0u32)?;
        init_pic(a, 0xFF, 0xFF)?;
        start_pit(a, 1125)?;
        a.sti()?;
        // (a) Masked: 3.5 periods, so the reads fall mid-period, away from OUT0's low clock.
        spin_pm(a, 3 * PERIOD + PERIOD / 2)?;
        a.check_eq(dword_ptr(COUNT), 0, "no IRQ0 while masked")?;
        inb(a, 0x21)?;
        a.movzx(eax, al)?;
        a.check_eq(eax, 0xFF, "IMR reads back 0xFF")?;
        outb(a, 0x20, 0x0A)?;
        inb(a, 0x20)?;
        a.movzx(eax, al)?;
        a.check_eq(eax, 0x01, "the IRR holds IRQ0 while masked")?;
        outb(a, 0x21, 0xFE)?;
        a.nop()?;
        a.nop()?;
        a.check_eq(dword_ptr(COUNT), 1, "unmasking delivers the held request")?;
        inb(a, 0x20)?;
        a.movzx(eax, al)?;
        a.check_eq(eax, 0x00, "the acknowledge cleared the IRR")?;
        outb(a, 0x20, 0x0B)?;
        inb(a, 0x20)?;
        a.movzx(eax, al)?;
        a.check_eq(eax, 0x00, "the handler's EOI cleared the ISR")?;

        // (b) No EOI: IRQ0 stays in service and blocks the next ones.
        a.mov(dword_ptr(NO_EOI), 1u32)?;
        wait_for_count(a, 2)?;
        spin_pm(a, 3 * PERIOD + PERIOD / 2)?;
        a.check_eq(dword_ptr(COUNT), 2, "no IRQ0 while IRQ0 is in service")?;
        inb(a, 0x20)?;
        a.movzx(eax, al)?;
        a.check_eq(eax, 0x01, "the ISR shows IRQ0 in service")?;
        outb(a, 0x20, 0x0A)?;
        inb(a, 0x20)?;
        a.movzx(eax, al)?;
        a.check_eq(eax, 0x01, "the IRR holds the next IRQ0")?;
        a.mov(dword_ptr(NO_EOI), 0u32)?;
        outb(a, 0x20, 0x20)?;
        a.nop()?;
        a.nop()?;
        a.check_eq(dword_ptr(COUNT), 3, "the EOI lets the held IRQ0 through")?;
        outb(a, 0x20, 0x0B)?;
        inb(a, 0x20)?;
        a.movzx(eax, al)?;
        a.check_eq(eax, 0x00, "nothing in service after its EOI")?;
        // And the timer goes on interrupting.
        wait_for_count(a, 5)?;
        pass(a)?;
        stamping_handler(a, irq0, &[0x20], nothing)
    });
}

/// The RTC's periodic interrupt on IRQ8 reaches the CPU through the slave 8259 and the
/// master's IR2 (vector 0x28 with the slave at 0x28): while the handler runs the master has
/// IR2 in service and the slave IR0; register C reads IRQF and PF (0xC0) and reading it
/// clears them. With register A's rate select 6 (the MC146818A's 976.5625 us, 1024 Hz) 16
/// periods take 16 x 3,375,000 / 1024 = 52,734.375 PM ticks. Interrupts keep coming only
/// because the handler sends EOIs to both controllers and reads C.
#[test]
fn rtc_periodic_interrupt_cascades_through_the_slave() {
    const ISR_MASTER: u32 = SAVED;
    const ISR_SLAVE: u32 = SAVED + 1;
    const C_ALL: u32 = SAVED + 2;
    const C_AGAIN: u32 = SAVED + 3;
    expect_pass("rtc-cascade", Config::default(), 20, |a| {
        report_eax(a)?;
        let irq8 = a.label();
        install_idt(a, &[(0x28, irq8)])?;
        enable_acpi(a)?;
        a.mov(dword_ptr(COUNT), 0u32)?;
        a.mov(dword_ptr(NO_EOI), 0u32)?;
        a.mov(byte_ptr(C_ALL), 0xFFu32)?;
        init_pic(a, 0xFB, 0xFE)?;
        cmos_read(a, 0x0C)?; // drop stale flags
        cmos_write(a, 0x0A, 0x26)?; // 32.768 kHz time base, rate 6
        cmos_read(a, 0x0B)?;
        a.or(al, 0x40)?; // PIE
        a.mov(ah, al)?;
        outb(a, 0x70, 0x0B)?;
        a.mov(al, ah)?;
        a.mov(dx, 0x71u32)?;
        a.out(dx, al)?;
        a.sti()?;
        wait_for_count(a, 17)?;
        a.cli()?;
        a.movzx(eax, byte_ptr(ISR_MASTER))?;
        a.check_eq(eax, 0x04, "master ISR in the handler: IR2 (the cascade)")?;
        a.movzx(eax, byte_ptr(ISR_SLAVE))?;
        a.check_eq(eax, 0x01, "slave ISR in the handler: IR0 (IRQ8)")?;
        a.movzx(eax, byte_ptr(C_ALL))?;
        a.and(eax, 0xC0)?;
        a.check_eq(eax, 0xC0, "register C reads IRQF and PF in every interrupt")?;
        a.movzx(eax, byte_ptr(C_AGAIN))?;
        a.check_eq(eax, 0x00, "reading register C cleared it")?;
        stamp_delta(a, 0, 16)?;
        check_near(a, 52_734, 3, "16 periods at 1024 Hz = 52,734.375 PM ticks")?;
        pass(a)?;
        stamping_handler(a, irq8, &[0xA0, 0x20], |a| {
            let later = a.label();
            a.test(ecx, ecx)?;
            a.jnz(later)?;
            outb(a, 0x20, 0x0B)?;
            inb(a, 0x20)?;
            a.mov(byte_ptr(ISR_MASTER), al)?;
            outb(a, 0x20, 0x0A)?;
            outb(a, 0xA0, 0x0B)?;
            inb(a, 0xA0)?;
            a.mov(byte_ptr(ISR_SLAVE), al)?;
            outb(a, 0xA0, 0x0A)?;
            a.bind(later)?;
            cmos_read(a, 0x0C)?;
            a.and(byte_ptr(C_ALL), al)?;
            cmos_read(a, 0x0C)?;
            a.mov(byte_ptr(C_AGAIN), al)?;
            Ok(())
        })
    });
}

/// The edge/level control registers at 0x4D0 (IRQ0-7) and 0x4D1 (IRQ8-15) power up 0 (all
/// edge-triggered) and read back what is written in the bits an Intel PIIX4-style ELCR makes
/// writable: 0xF8 and 0xDE (IRQ0, 1, 2, 8 and 13 are edge-only there and reserved). The
/// MCPX has no public datasheet; xemu leaves every bit writable, so the reserved bits are not
/// checked.
#[test]
fn elcr_reads_back_its_writable_bits() {
    expect_pass("elcr", Config::default(), 10, |a| {
        report_eax(a)?;
        for port in [0x4D0u16, 0x4D1] {
            inb(a, port)?;
            a.movzx(eax, al)?;
            a.check_eq(eax, 0, &format!("{port:#X} after power-on"))?;
        }
        for (master, slave) in [(0xF8u8, 0xDEu8), (0xA8, 0x5A), (0x50, 0x84), (0x00, 0x00)] {
            outb(a, 0x4D0, master)?;
            outb(a, 0x4D1, slave)?;
            for (port, value, mask) in [(0x4D0u16, master, 0xF8u32), (0x4D1, slave, 0xDE)] {
                inb(a, port)?;
                a.movzx(eax, al)?;
                a.and(eax, mask as i32)?;
                a.check_eq(
                    eax,
                    u32::from(value),
                    &format!("{port:#X} after writing {value:#04X}"),
                )?;
            }
        }
        pass(a)
    });
}

/// The ELCR at work: the SMBus controller's interrupt, routed to IRQ11 through the LPC
/// bridge (register 0x64, byte 1), stays asserted until its status is cleared. With ELCR bit
/// 11 set the request is a level: every EOI while the line is high brings the interrupt back
/// (8259A datasheet, level-triggered mode). With the bit clear it is an edge: one interrupt,
/// however long the line stays high.
#[test]
fn elcr_level_mode_requests_again_until_the_line_drops() {
    const SMBUS: u16 = 0xC000;
    const LEVEL_ROUNDS: u32 = 3;
    expect_pass("elcr-level", Config::default(), 10, |a| {
        report_eax(a)?;
        let irq11 = a.label();
        install_idt(a, &[(0x2B, irq11)])?;
        enable_acpi(a)?;
        // The SMBus host (00:01.1) at 0xC000 (BAR1), its interrupt routed to IRQ11.
        pci_write(a, config_address(0, 1, 1, 0x14), u32::from(SMBUS) | 1)?;
        enable_io(a, config_address(0, 1, 1, 0x04))?;
        pci_read(a, config_address(0, 1, 0, 0x64))?;
        a.and(eax, 0xFFFF_00FFu32 as i32)?;
        a.or(eax, 0x0B00)?;
        a.mov(ecx, eax)?;
        a.mov(eax, config_address(0, 1, 0, 0x64))?;
        a.mov(edx, 0xCF8u32)?;
        a.out(dx, eax)?;
        a.mov(eax, ecx)?;
        a.mov(edx, 0xCFCu32)?;
        a.out(dx, eax)?;
        init_pic(a, 0xFB, 0xF7)?;
        a.mov(dword_ptr(NO_EOI), 0u32)?;
        a.mov(dword_ptr(SAVED), 0u32)?;
        a.sti()?;

        // A quick command to the SMC (address 0x10) with the interrupt enabled.
        let transaction = |a: &mut Asm| -> Result {
            a.mov(dword_ptr(COUNT), 0u32)?;
            outb(a, SMBUS + 4, 0x10 << 1)?;
            outb(a, SMBUS, 0xFF)?;
            outb(a, SMBUS + 2, 0x18)?;
            a.hlt()?;
            // Give the line time to be seen again (several hundred cycles).
            a.mov(ecx, 200u32)?;
            let delay = a.here()?;
            a.dec(ecx)?;
            a.jnz(delay)?;
            Ok(())
        };
        outb(a, 0x4D1, 0x08)?;
        transaction(a)?;
        a.check_eq(
            dword_ptr(COUNT),
            LEVEL_ROUNDS as i32,
            "level: one interrupt per EOI until the handler clears the status",
        )?;
        outb(a, 0x4D1, 0x00)?;
        a.mov(dword_ptr(SAVED), 1u32)?; // the handler never clears the status now
        transaction(a)?;
        spin_pm(a, PM_TIMER_HZ / 1000)?;
        a.check_eq(
            dword_ptr(COUNT),
            1,
            "edge: one interrupt while the line stays high",
        )?;
        inb(a, SMBUS)?;
        a.and(eax, 0x10)?;
        a.check_eq(eax, 0x10, "the SMBus status still says done")?;
        outb(a, SMBUS, 0xFF)?;
        pass(a)?;
        stamping_handler(a, irq11, &[0xA0, 0x20], |a| {
            // On the last level round (and never in the edge round) clear the SMBus status,
            // which drops the line.
            let keep = a.label();
            a.cmp(dword_ptr(SAVED), 0)?;
            a.jne(keep)?;
            a.cmp(ecx, (LEVEL_ROUNDS - 1) as i32)?;
            a.jne(keep)?;
            outb(a, SMBUS, 0xFF)?;
            a.bind(keep)?;
            Ok(())
        })
    });
}

/// 2001-11-15 00:00:00, the Xbox's North American launch, in seconds since 2000-01-01: 366
/// days of 2000 and 318 of 2001 (304 through October, then 14).
const LAUNCH: u64 = (366 + 318) * 86_400;

/// The clock and date registers for the launch day, in BCD: the Xbox's RTC keeps register
/// B's DM bit clear (ReactOS's FreeLoader for the Xbox, `arch/i386/xboxrtc.c`, decodes every
/// time register as BCD without looking at DM). A Thursday: weekday 5, counting Sunday as 1
/// (MC146818A).
const LAUNCH_BCD: [(u8, u8, &str); 8] = [
    (0x00, 0x00, "seconds"),
    (0x02, 0x00, "minutes"),
    (0x04, 0x00, "hours"),
    (0x06, 0x05, "weekday (Thursday)"),
    (0x07, 0x15, "day of month"),
    (0x08, 0x11, "month"),
    (0x09, 0x01, "year"),
    (0x7F, 0x20, "century (Xbox CMOS 0x7F)"),
];

/// The RTC after power-on, set to the launch day: register B 0x02 (24-hour, BCD, no
/// interrupts, SET clear), D 0x80 (VRT, the rest reading 0), A's divider bits 010 (the
/// 32.768 kHz time base, the only setting that keeps time); the time and date registers in
/// BCD; a free CMOS byte keeps what is written. Then the update-ended interrupt (UIE): one
/// update per second, 3,375,000 PM ticks apart, the seconds register one higher after each,
/// so two updates in take it 2 (+-1) past its first reading. Binary (DM) and 12-hour modes
/// show the same time: day 15 as 0x0F, midnight as 12 AM (0x12).
#[test]
fn rtc_keeps_time_from_the_configured_start() {
    const SECONDS: u32 = SAVED;
    const C_ALL: u32 = SAVED + 4;
    let config = Config {
        rtc_start: LAUNCH,
        ..Config::default()
    };
    expect_pass("rtc-time", config, 150, |a| {
        report_eax(a)?;
        let irq8 = a.label();
        install_idt(a, &[(0x28, irq8)])?;
        enable_acpi(a)?;
        a.mov(dword_ptr(COUNT), 0u32)?;
        a.mov(dword_ptr(NO_EOI), 0u32)?;
        a.mov(byte_ptr(C_ALL), 0xFFu32)?;
        a.xor(eax, eax)?;
        cmos_read(a, 0x0B)?;
        a.check_eq(eax, 0x02, "register B: 24-hour BCD, no interrupts")?;
        cmos_read(a, 0x0D)?;
        a.check_eq(eax, 0x80, "register D: VRT")?;
        cmos_read(a, 0x0A)?;
        a.and(eax, 0x70)?;
        a.check_eq(eax, 0x20, "register A: 32.768 kHz time base")?;
        for (index, value, what) in LAUNCH_BCD {
            cmos_read(a, index)?;
            a.check_eq(eax, u32::from(value), what)?;
        }
        // Free CMOS bytes.
        cmos_write(a, 0x40, 0xA5)?;
        cmos_write(a, 0x41, 0x5A)?;
        cmos_read(a, 0x40)?;
        a.check_eq(eax, 0xA5, "CMOS 0x40 reads back")?;
        cmos_read(a, 0x41)?;
        a.check_eq(eax, 0x5A, "CMOS 0x41 reads back")?;

        // Update-ended interrupts through the cascade.
        init_pic(a, 0xFB, 0xFE)?;
        cmos_read(a, 0x0C)?;
        cmos_write(a, 0x0B, 0x12)?;
        a.sti()?;
        wait_for_count(a, 2)?;
        a.cli()?;
        cmos_write(a, 0x0B, 0x02)?;
        a.xor(eax, eax)?;
        a.mov(al, byte_ptr(C_ALL))?;
        a.and(eax, 0x90)?;
        a.check_eq(eax, 0x90, "register C reads IRQF and UF")?;
        a.movzx(eax, byte_ptr(SECONDS))?;
        a.check_eq(eax, 0x01, "seconds after the first update")?;
        a.movzx(eax, byte_ptr(SECONDS + 1))?;
        a.check_eq(eax, 0x02, "seconds after the second update")?;
        a.movzx(eax, byte_ptr(SECONDS + 1))?;
        check_near(
            a,
            2,
            1,
            "two seconds on, the seconds register is 2 (+-1) higher",
        )?;
        stamp_delta(a, 0, 1)?;
        check_near(a, PM_TIMER_HZ, 3, "updates 1 s (3,375,000 PM ticks) apart")?;

        // Binary, then 12-hour BCD.
        cmos_write(a, 0x0B, 0x06)?;
        a.xor(eax, eax)?;
        for (index, value, what) in [
            (0x07u8, 15u32, "binary day of month"),
            (0x08, 11, "binary month"),
            (0x7F, 20, "binary century"),
        ] {
            cmos_read(a, index)?;
            a.check_eq(eax, value, what)?;
        }
        cmos_write(a, 0x0B, 0x00)?;
        cmos_read(a, 0x04)?;
        a.check_eq(eax, 0x12, "12-hour BCD: midnight is 12 AM")?;
        cmos_write(a, 0x0B, 0x02)?;
        pass(a)?;
        stamping_handler(a, irq8, &[0xA0, 0x20], |a| {
            cmos_read(a, 0x00)?;
            a.mov(byte_ptr(ecx + SECONDS), al)?;
            cmos_read(a, 0x0C)?;
            a.and(byte_ptr(C_ALL), al)?;
            Ok(())
        })
    });
}

/// With the default configuration the RTC shows 2001-11-15 00:00:00, a Thursday, as
/// `oxbox::machine::DEFAULT_RTC_START` documents.
#[test]
fn the_default_rtc_start_is_the_launch_day() {
    assert_eq!(LAUNCH, 59_097_600);
    expect_pass("rtc-default", Config::default(), 10, |a| {
        report_eax(a)?;
        a.xor(eax, eax)?;
        for (index, value, what) in LAUNCH_BCD {
            cmos_read(a, index)?;
            a.check_eq(eax, u32::from(value), what)?;
        }
        pass(a)
    });
}
