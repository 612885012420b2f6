//! PTIMER's alarm and PCRTC's vertical blank in emulated time, through the whole NV2A (BAR0,
//! `next_event`, `tick`, PMC and the PCI line), and the vblank interrupt on the whole machine.
//!
//! Sources: PTIMER from envytools docs/hw/bus/ptimer.rst (clock = source x CLOCK_MUL /
//! CLOCK_DIV, TIME_LOW bits 5-31 the counter's low 27 bits, the alarm when ALARM bits 5-31
//! equal TIME_LOW's, masked interrupts still shown in INTR, PMC line 20); the core clock from
//! the 16.667 MHz crystal through NVPLL (`crystal x N / (M x 2^P)`, nouveau's PLL formula);
//! the CPU at 733,333,333 Hz; NTSC's 60000/1001 fields per second; the modes' totals from
//! CEA-861 (480p 858x525 and 800x525 for VGA, 720p 1650x750, 1080i 2200x1125).

use super::harness::*;
use super::rig::*;
use oxbox::asm::{Asm, Cc, Result};
use oxbox::cpu::CLOCK_HZ;
use oxbox::frame::PixelFormat;
use oxbox::input::{Gamepad, PORTS};
use oxbox::machine::Config;
use oxbox::nv2a::Nv2a;
use oxbox::nv2a::scanout::{ModeRequest, mode_set_writes};

/// The crystal: 16,666,666.67 Hz as a fraction.
const CRYSTAL: (u128, u128) = (50_000_000, 3);

/// The first CPU cycle at which a counter that starts at 0 on cycle 0 has counted `ticks`,
/// for a PTIMER clock of crystal x N / (M x 2^P) x MUL / DIV.
fn cycle_of_tick(ticks: u128, (m, n, p): (u128, u128, u32), mul: u128, div: u128) -> u64 {
    let hz_num = CRYSTAL.0 * n * mul;
    let hz_den = CRYSTAL.1 * (m << p) * div;
    (ticks * u128::from(CLOCK_HZ) * hz_den).div_ceil(hz_num) as u64
}

struct Gpu {
    gpu: Nv2a,
    ram: Vec<u8>,
}

impl Gpu {
    fn new() -> Gpu {
        Gpu {
            gpu: Nv2a::new(64 << 20),
            ram: vec![0; 1 << 20],
        }
    }

    fn r(&mut self, now: u64, offset: u32) -> u32 {
        self.gpu.read(now, offset, 4)
    }

    fn w(&mut self, now: u64, offset: u32, value: u32) {
        self.gpu.write(&mut self.ram, now, offset, 4, value);
    }

    fn tick(&mut self, now: u64) {
        self.gpu.tick(&mut self.ram, now);
    }
}

/// PTIMER at 25 MHz: NVPLL M 1, N 28, P 1 (233.33 MHz); CLOCK_DIV 28, CLOCK_MUL 3; the alarm
/// at 1,000,000 ticks (40 ms).
#[test]
fn the_ptimer_alarm_fires_at_the_cycle_the_clock_ratio_gives() {
    let mut g = Gpu::new();
    g.w(0, PRAMDAC_NVPLL_COEFF, 1 << 16 | 28 << 8 | 1);
    g.w(0, PTIMER_NUMERATOR, 28);
    g.w(0, PTIMER_DENOMINATOR, 3);
    g.w(0, PTIMER_INTR_EN_0, 1);
    g.w(0, PMC_INTR_EN_0, PMC_EN_HARDWARE);
    const TICKS: u128 = 1_000_000;
    g.w(0, PTIMER_ALARM_0, (TICKS as u32) << 5);
    let pll = (1, 28, 1);
    let at = cycle_of_tick(TICKS, pll, 3, 28);
    // 1,000,000 ticks at 25 MHz are 40 ms: 29,333,333.32 cycles.
    assert_eq!(at, 29_333_334);
    assert_eq!(g.gpu.next_event(), Some(at));

    g.tick(at - 1);
    assert_eq!(g.r(at - 1, PTIMER_INTR_0), 0);
    assert_eq!(g.r(at - 1, PMC_INTR_0), 0);
    assert!(!g.gpu.irq());
    g.tick(at);
    assert_eq!(g.r(at, PTIMER_INTR_0), 1, "ALARM");
    assert_eq!(g.r(at, PMC_INTR_0), PMC_PTIMER, "PMC line 20");
    assert!(g.gpu.irq());
    // TIME_LOW's bits 5-31 equal the alarm's.
    assert_eq!(g.r(at, PTIMER_TIME_0), (TICKS as u32) << 5);
    assert_eq!(g.r(at, PTIMER_TIME_1), 0);

    // Acknowledged, the next match comes when the low 27 bits come round again.
    g.w(at, PTIMER_INTR_0, 1);
    assert_eq!(g.r(at, PMC_INTR_0), 0);
    assert!(!g.gpu.irq());
    let next = cycle_of_tick(TICKS + (1 << 27), pll, 3, 28);
    assert_eq!(g.gpu.next_event(), Some(next));

    // Masked, the alarm shows in INTR but not on PMC's line.
    g.w(at, PTIMER_INTR_EN_0, 0);
    g.tick(next);
    assert_eq!(g.r(next, PTIMER_INTR_0), 1);
    assert_eq!(g.r(next, PMC_INTR_0), 0);
    assert!(!g.gpu.irq());
    g.w(next, PTIMER_INTR_EN_0, 1);
    assert_eq!(g.r(next, PMC_INTR_0), PMC_PTIMER);
    assert!(g.gpu.irq());
}

/// The ratio is applied to the clock, not to the time already counted: a new ratio at one
/// second keeps TIME and changes its rate.
#[test]
fn a_new_clock_ratio_changes_the_rate_from_then_on() {
    let mut g = Gpu::new();
    g.w(0, PRAMDAC_NVPLL_COEFF, 1 << 16 | 28 << 8 | 1);
    g.w(0, PTIMER_NUMERATOR, 28);
    g.w(0, PTIMER_DENOMINATOR, 3);
    let time = |g: &mut Gpu, now| {
        u64::from(g.r(now, PTIMER_TIME_1)) << 32 | u64::from(g.r(now, PTIMER_TIME_0))
    };
    assert_eq!(time(&mut g, CLOCK_HZ), 25_000_000 << 5);
    // 112/15: 31.25 MHz, nanoseconds in TIME.
    g.w(CLOCK_HZ, PTIMER_NUMERATOR, 112);
    g.w(CLOCK_HZ, PTIMER_DENOMINATOR, 15);
    assert_eq!(time(&mut g, CLOCK_HZ), 25_000_000 << 5);
    assert_eq!(time(&mut g, 3 * CLOCK_HZ), (25_000_000 + 62_500_000) << 5);
}

fn mode(width: u32, height: u32) -> ModeRequest {
    let (htotal, vtotal, interlaced) = match (width, height) {
        (640, 480) => (800, 525, false),
        (720, 480) => (858, 525, false),
        (1280, 720) => (1650, 750, false),
        _ => (2200, 1125, true),
    };
    ModeRequest {
        width,
        height,
        format: PixelFormat::X8R8G8B8,
        interlaced,
        start: 0x0010_0000,
        htotal,
        vtotal,
    }
}

pub const MODES: [(u32, u32); 4] = [(640, 480), (720, 480), (1280, 720), (1920, 1080)];

/// The vertical blank interrupt, run the way the board runs it: to each event `next_event`
/// gives, acknowledged there. Over 10 emulated seconds: 10 x 60000/1001 = 599.4 vblanks, one
/// a field (1001/60000 s apart), whatever the mode.
#[test]
fn vblanks_come_at_60000_1001_hz_in_every_mode() {
    const SECONDS: u64 = 10;
    let field = CLOCK_HZ as f64 * 1001.0 / 60_000.0;
    for (width, height) in MODES {
        let mut g = Gpu::new();
        for (offset, size, value) in mode_set_writes(&mode(width, height)) {
            g.gpu.write(&mut g.ram, 0, offset, size, value);
        }
        g.w(0, PCRTC_INTR_0, 1);
        g.w(0, PCRTC_INTR_EN_0, 1);
        g.w(0, PMC_INTR_EN_0, PMC_EN_HARDWARE);
        let mut times = Vec::new();
        while let Some(at) = g.gpu.next_event().filter(|&at| at < SECONDS * CLOCK_HZ) {
            g.tick(at);
            assert_eq!(g.r(at, PCRTC_INTR_0), 1, "{width}x{height}: VBLANK");
            assert_eq!(
                g.r(at, PMC_INTR_0),
                PMC_PCRTC,
                "{width}x{height}: PMC line 24"
            );
            assert!(g.gpu.irq());
            assert!(
                g.r(at, PCRTC_RASTER) & 0x7FF >= height / if height == 1080 { 2 } else { 1 },
                "{width}x{height}: the raster is past the visible lines"
            );
            g.w(at, PCRTC_INTR_0, 1);
            assert!(!g.gpu.irq());
            times.push(at);
        }
        let expected = SECONDS as f64 * 60_000.0 / 1001.0;
        let count = times.len() as f64;
        assert!(
            (count - expected).abs() <= 1.0,
            "{width}x{height}: {count} vblanks in {SECONDS} s, expected {expected:.1}"
        );
        assert!(
            (times[0] as f64) < field,
            "{width}x{height}: the first field's"
        );
        for pair in times.windows(2) {
            let gap = (pair[1] - pair[0]) as f64;
            assert!(
                (gap - field).abs() <= 1.0,
                "{width}x{height}: {gap} cycles between vblanks, a field is {field:.1}"
            );
        }
    }
}

/// envytools pmc.rst: PMC INTR_0's bits are the units' interrupt lines, and INTA is asserted
/// while any is active and enabled. A vblank latched by a read of PCRTC (a driver polling
/// RASTER) is as pending as one latched by `tick`.
#[test]
fn a_vblank_latched_by_a_raster_read_raises_the_line() {
    let mut g = Gpu::new();
    g.w(0, PCRTC_INTR_0, 1);
    g.w(0, PCRTC_INTR_EN_0, 1);
    g.w(0, PMC_INTR_EN_0, PMC_EN_HARDWARE);
    let at = g.gpu.next_event().expect("the vblank is scheduled");
    // The driver polls RASTER just after the vblank began, before the board's event.
    g.r(at + 10, PCRTC_RASTER);
    assert_eq!(g.r(at + 10, PCRTC_INTR_0), 1, "VBLANK is pending");
    assert_eq!(g.r(at + 10, PMC_INTR_0), PMC_PCRTC, "PMC shows it");
    assert!(g.gpu.irq(), "and the PCI line is up");
}

/// The same for PTIMER's alarm, latched by a read of TIME_LOW (a driver's delay loop).
#[test]
fn an_alarm_latched_by_a_time_read_raises_the_line() {
    let mut g = Gpu::new();
    g.w(0, PTIMER_INTR_EN_0, 1);
    g.w(0, PMC_INTR_EN_0, PMC_EN_HARDWARE);
    g.w(0, PTIMER_ALARM_0, 1000 << 5);
    let at = g.gpu.next_event().expect("the alarm is scheduled");
    g.r(at + 10, PTIMER_TIME_0);
    assert_eq!(g.r(at + 10, PTIMER_INTR_0), 1, "ALARM is pending");
    assert_eq!(g.r(at + 10, PMC_INTR_0), PMC_PTIMER, "PMC shows it");
    assert!(g.gpu.irq(), "and the PCI line is up");
}

// ---------------------------------------------------------------------------------------------
// The whole machine

/// Where the guest maps the NV2A's registers (the retail X-codes' BAR0).
pub const BAR0: u32 = 0xFD00_0000;
/// Vblank interrupts the guest's handler counted.
const VBLANKS: u32 = 0x3000;
/// The PM timer when the guest started timing.
const START: u32 = 0x3004;
const COUNT_AT_START: u32 = 0x3008;

/// Maps BAR0 at [`BAR0`] with memory decoding on (clobbers EAX, EDX).
pub fn map_bar0(a: &mut Asm) -> Result {
    pci_write(a, config_address(1, 0, 0, 0x10), BAR0)?;
    pci_write(a, config_address(1, 0, 0, 0x04), 0x0000_0006)
}

/// A guest that takes the vblank interrupt on IRQ 3 (the NV2A on PIRQC, routed to IRQ 3 by
/// the LPC bridge's reset value 0x00031000 at 0x68) and counts it, acknowledging PCRTC and
/// the PIC. Timed by the PM timer (3,375,000 Hz): 1.001 s = 3,378,375 ticks hold
/// 60000/1001 x 1.001 = 60 vblanks, ± 1 for the phase.
#[test]
fn the_guest_takes_60_vblank_interrupts_in_60_frames() {
    const PM_FOR_60_FIELDS: u32 = 3_378_375;
    let image = flash(|a| {
        report_eax(a)?;
        let handler = a.label();
        install_idt(a, &[(0x23, handler)])?;
        enable_acpi(a)?;
        map_bar0(a)?;
        a.mov(dword_ptr(VBLANKS), 0u32)?;
        init_pic(a, 0xF7, 0xFF)?;
        a.mov(dword_ptr(BAR0 + PCRTC_INTR_0), 1u32)?;
        a.mov(dword_ptr(BAR0 + PCRTC_INTR_EN_0), 1u32)?;
        a.mov(dword_ptr(BAR0 + PMC_INTR_EN_0), PMC_EN_HARDWARE)?;
        a.sti()?;
        // Start timing at a vblank.
        let first = a.here()?;
        a.hlt()?;
        a.cmp(dword_ptr(VBLANKS), 0)?;
        a.je(first)?;
        a.mov(eax, dword_ptr(VBLANKS))?;
        a.mov(dword_ptr(COUNT_AT_START), eax)?;
        pm_timer(a)?;
        a.mov(dword_ptr(START), eax)?;
        // Each vblank wakes the CPU: time is checked then (within a field of 1.001 s).
        let wait = a.here()?;
        a.hlt()?;
        pm_timer(a)?;
        a.sub(eax, dword_ptr(START))?;
        a.cmp(eax, PM_FOR_60_FIELDS as i32)?;
        a.jb(wait)?;
        a.mov(eax, dword_ptr(VBLANKS))?;
        a.sub(eax, dword_ptr(COUNT_AT_START))?;
        check_near(a, 60, 1, "vblank interrupts in 1.001 s")?;
        // The line dropped with each acknowledgement: no interrupt is pending now.
        a.mov(eax, dword_ptr(BAR0 + PMC_INTR_0))?;
        a.and(eax, !PMC_PCRTC)?;
        a.check_eq(eax, 0, "PMC INTR_0 holds nothing else")?;
        // PASS, and go on taking the interrupt for the host's count.
        a.print("PASS\n")?;
        let idle = a.here()?;
        a.hlt()?;
        a.jmp(idle)?;

        a.bind(handler)?;
        a.push(eax)?;
        a.mov(eax, dword_ptr(BAR0 + PMC_INTR_0))?;
        a.test(eax, PMC_PCRTC)?;
        a.check(Cc::Ne, "PMC INTR_0 shows PCRTC in the handler")?;
        a.mov(dword_ptr(BAR0 + PCRTC_INTR_0), 1u32)?;
        a.inc(dword_ptr(VBLANKS))?;
        outb(a, 0x20, 0x20)?;
        a.pop(eax)?;
        a.iretd()?;
        Ok(())
    });
    let (mut machine, _scratch) = machine("nv2a-vblank", &image, None, Config::default());
    let pads = [Gamepad::default(); PORTS];
    let mut lines = Vec::new();
    // Boot and the first vblank, then 60 frames counted by the host as well.
    for _ in 0..5 {
        machine.run_frame(&pads);
        lines.extend(machine.take_guest_log());
    }
    let ram = |machine: &oxbox::machine::Machine| {
        let ram = &machine.console().board.ram;
        u32::from_le_bytes(ram[VBLANKS as usize..][..4].try_into().unwrap())
    };
    let before = ram(&machine);
    assert!(before > 0, "vblank interrupts arrive: {lines:?}");
    for _ in 0..60 {
        machine.run_frame(&pads);
        lines.extend(machine.take_guest_log());
    }
    let counted = ram(&machine) - before;
    assert!(
        counted.abs_diff(60) <= 1,
        "{counted} vblank interrupts in 60 frames; the guest printed:\n{}",
        lines.join("\n")
    );
    assert!(
        lines.iter().any(|l| l.starts_with("PASS")),
        "the guest's own count: {}",
        lines.join("\n")
    );
}

/// A guest that takes the vblank interrupt while it polls PCRTC RASTER (as D3D's
/// GetRasterStatus does): every vblank still interrupts, 6 ± 1 in 6 frames. (Slow: the guest
/// does nothing but BAR0 reads, about 10 s for the 7 frames.)
#[test]
fn polling_raster_loses_no_vblank_interrupt() {
    let image = flash(|a| {
        let handler = a.label();
        install_idt(a, &[(0x23, handler)])?;
        map_bar0(a)?;
        a.mov(dword_ptr(VBLANKS), 0u32)?;
        init_pic(a, 0xF7, 0xFF)?;
        a.mov(dword_ptr(BAR0 + PCRTC_INTR_0), 1u32)?;
        a.mov(dword_ptr(BAR0 + PCRTC_INTR_EN_0), 1u32)?;
        a.mov(dword_ptr(BAR0 + PMC_INTR_EN_0), PMC_EN_HARDWARE)?;
        a.sti()?;
        let poll = a.here()?;
        a.mov(eax, dword_ptr(BAR0 + PCRTC_RASTER))?;
        a.jmp(poll)?;

        a.bind(handler)?;
        a.push(eax)?;
        a.mov(dword_ptr(BAR0 + PCRTC_INTR_0), 1u32)?;
        a.inc(dword_ptr(VBLANKS))?;
        outb(a, 0x20, 0x20)?;
        a.pop(eax)?;
        a.iretd()?;
        Ok(())
    });
    let (mut machine, _scratch) = machine("nv2a-raster", &image, None, Config::default());
    let pads = [Gamepad::default(); PORTS];
    let count = |machine: &oxbox::machine::Machine| {
        let ram = &machine.console().board.ram;
        u32::from_le_bytes(ram[VBLANKS as usize..][..4].try_into().unwrap())
    };
    machine.run_frame(&pads);
    let before = count(&machine);
    for _ in 0..6 {
        machine.run_frame(&pads);
    }
    let counted = count(&machine) - before;
    assert!(
        counted.abs_diff(6) <= 1,
        "{counted} vblank interrupts in 6 frames ({before} in the first)"
    );
}
