//! Hostile input, bounded so the suite stays fast: random pushbuffers and random BAR0 traffic
//! through the whole NV2A on a small RAM, with time moving on, and on the whole machine a
//! guest that writes random values to random BAR0 offsets. Nothing may panic; PMC's line must
//! always follow its registers (envytools pmc.rst: INTR_0 holds the units' lines, INTA is
//! asserted while a hardware one is active with INTR_EN_0 bit 0, or the software one with
//! bit 1); and where no GPU engine can write memory, RAM stays as the guest left it.

use super::harness::*;
use super::rig::*;
use super::timers::{BAR0, map_bar0};
use oxbox::bootrom::nv2a::{self as rom, PUSHBUFFER, PUSHBUFFER_SIZE};
use oxbox::cpu::CLOCK_HZ;
use oxbox::input::{Gamepad, PORTS};
use oxbox::machine::Config;
use oxbox::nv2a::driver::Driver;

/// xorshift64*: small and deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    }

    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }
}

/// Block bases in BAR0 and how far their registers reach, so that random offsets hit
/// registers often: PMC, PBUS, PFIFO, PVIDEO, PTIMER, PRMVIO, PFB, PSTRAPS, PGRAPH, PCRTC,
/// PRMCIO, PRAMDAC, PRMDIO, PRAMIN, USER.
const BLOCKS: [(u32, u32); 15] = [
    (0x00_0000, 0x1000),
    (0x00_1000, 0x1000),
    (0x00_2000, 0x2000),
    (0x00_8000, 0x1000),
    (0x00_9000, 0x1000),
    (0x0C_0000, 0x1000),
    (0x10_0000, 0x1000),
    (0x10_1000, 0x1000),
    (0x40_0000, 0x2000),
    (0x60_0000, 0x1000),
    (0x60_1000, 0x1000),
    (0x68_0000, 0x1000),
    (0x68_1000, 0x1000),
    (0x70_0000, 0x2_0000),
    (0x80_0000, 0x20_0000),
];

fn random_offset(rng: &mut Rng) -> u32 {
    if rng.chance(30) {
        rng.next() & 0x00FF_FFFF
    } else {
        let (base, size) = BLOCKS[rng.below(BLOCKS.len() as u32) as usize];
        base + rng.below(size)
    }
}

fn random_value(rng: &mut Rng) -> u32 {
    match rng.below(6) {
        0 => 0,
        1 => u32::MAX,
        2 => 1 << rng.below(32),
        3 => rng.below(0x100),
        _ => rng.next(),
    }
}

/// A command: mostly a method header with a few parameters, sometimes a jump, call or return
/// into the pushbuffer (or just past it), a bind, or any word at all.
fn random_command(rng: &mut Rng, words: &mut Vec<u32>) {
    match rng.below(10) {
        0..=6 => {
            let count = rng.below(6);
            let method = if rng.chance(50) {
                // Kelvin's and the 2D objects' state, and PFIFO's own methods.
                [
                    0x0000, 0x0050, 0x0060, 0x0064, 0x006C, 0x0100, 0x0104, 0x0180, 0x0194,
                ][rng.below(9) as usize]
                    + 4 * rng.below(3)
            } else {
                rng.next() & 0x1FFC
            };
            // Mostly subchannel 0, where the streams bind KELVIN (handle 0x0D).
            let subchannel = if rng.chance(70) { 0 } else { rng.below(8) };
            let header = inc(subchannel, method, count);
            words.push(if rng.chance(20) {
                header | 0x4000_0000
            } else {
                header
            });
            for _ in 0..count {
                words.push(match rng.below(4) {
                    // The boot ROM's handles, so binds and DMA methods find objects.
                    0 => [0x02, 0x06, 0x0D, 0x10, 0x11][rng.below(5) as usize],
                    _ => random_value(rng),
                });
            }
        }
        7 => {
            let target = rng.below(PUSHBUFFER_SIZE / 4 + 64) * 4;
            words.push(match rng.below(4) {
                0 => old_jump(target),
                1 => jump(target),
                2 => call(target),
                _ => RETURN,
            });
        }
        // A bind of one of the boot ROM's graphics objects (KELVIN on subchannel 0).
        8 => {
            let subchannel = rng.below(4);
            let handle = if subchannel == 0 {
                0x0D
            } else {
                [0x0D, 0x10, 0x11][rng.below(3) as usize]
            };
            words.extend([inc(subchannel, 0, 1), handle]);
        }
        // Anything: half of all words are jumps or calls to anywhere.
        _ => words.push(rng.next()),
    }
}

/// PMC's line against its registers, and its unit bits against the units' own INTR and
/// INTR_EN (PFIFO 8, PGRAPH 12, PVIDEO 16, PTIMER 20, PCRTC 24), after `tick` brought
/// everything up to `now`.
fn check_lines(d: &mut Driver, now: u64, context: &str) {
    d.gpu.tick(&mut d.ram, now);
    let mut r = |offset| d.gpu.read(now, offset, 4);
    let intr = r(PMC_INTR_0);
    let enable = r(PMC_INTR_EN_0);
    for (bit, intr_at, enable_at) in [
        (PMC_PFIFO, PFIFO_INTR_0, PFIFO_INTR_EN_0),
        (PMC_PGRAPH, PGRAPH_INTR, PGRAPH_INTR_EN),
        (1 << 16, 0x00_8100, 0x00_8140),
        (PMC_PTIMER, PTIMER_INTR_0, PTIMER_INTR_EN_0),
        (PMC_PCRTC, PCRTC_INTR_0, PCRTC_INTR_EN_0),
    ] {
        let unit = r(intr_at) & r(enable_at) != 0;
        assert_eq!(intr & bit != 0, unit, "{context}: PMC bit {bit:#x}");
    }
    let expected = (intr & 0x7FFF_FFFF != 0 && enable & 1 != 0)
        || (intr & 0x8000_0000 != 0 && enable & 2 != 0);
    assert_eq!(
        d.gpu.irq(),
        expected,
        "{context}: INTR_0 {intr:#x} INTR_EN_0 {enable:#x}"
    );
}

/// A driver's interrupt handler, roughly: step over a word the pusher faulted on (pbkit),
/// acknowledge everything and let the FIFO go on.
fn recover(d: &mut Driver, now: u64) {
    if d.gpu.read(now, CACHE1_DMA_STATE, 4) >> 29 != 0 {
        let get = d.gpu.read(now, CACHE1_DMA_GET, 4);
        d.gpu
            .write(&mut d.ram, now, CACHE1_DMA_GET, 4, get.wrapping_add(4));
    }
    // nouveau: a CACHE_ERROR leaves its entry at CACHE1_GET; step over it.
    if d.gpu.read(now, CACHE1_PULL0, 4) & 0x110 != 0 {
        let get = d.gpu.read(now, CACHE1_GET, 4);
        d.gpu
            .write(&mut d.ram, now, CACHE1_GET, 4, get.wrapping_add(4));
    }
    for (offset, value) in [
        (PFIFO_INTR_0, 0xFFFF_FFFF),
        (PGRAPH_INTR, 0xFFFF_FFFF),
        (PGRAPH_FIFO, 1),
        (CACHE1_DMA_STATE, 0),
        (CACHE1_DMA_PUSH, 1),
        (CACHE1_PULL0, 1),
        (PCRTC_INTR_0, 0xFFFF_FFFF),
        (PTIMER_INTR_0, 0xFFFF_FFFF),
    ] {
        d.gpu.write(&mut d.ram, now, offset, 4, value);
    }
}

#[test]
fn random_pushbuffers_and_bar0_traffic_never_panic() {
    const RAM_MIB: u32 = 2;
    let started = std::time::Instant::now();
    // What the streams reached: PFIFO's and PGRAPH's interrupt bits seen, and kicks after
    // which DMA_GET had caught up with DMA_PUT.
    let (mut seen_fifo, mut seen_graph, mut caught_up) = (0, 0, 0);
    for seed in 1..=4u64 {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x1234_5678_9ABC));
        let mut d = Driver::new(RAM_MIB);
        let mut now = 0u64;
        let mut put = 0u32;
        for step in 0..6000 {
            let context = format!("seed {seed} step {step}");
            match rng.below(100) {
                // Commands into the pushbuffer, then DMA_PUT moved (mostly channel 0's).
                0..=29 => {
                    let mut words = Vec::new();
                    for _ in 0..rng.below(12) + 1 {
                        random_command(&mut rng, &mut words);
                    }
                    if rng.chance(10) {
                        put = rng.below(PUSHBUFFER_SIZE / 4) * 4;
                    }
                    for word in words {
                        let at = (PUSHBUFFER + put) as usize;
                        if let Some(bytes) = d.ram.get_mut(at..at + 4) {
                            bytes.copy_from_slice(&word.to_le_bytes());
                        }
                        put = (put + 4) % (PUSHBUFFER_SIZE + 64);
                    }
                    let channel = if rng.chance(90) { 0 } else { rng.below(32) };
                    let value = if rng.chance(95) { put } else { rng.next() };
                    d.gpu
                        .write(&mut d.ram, now, user_dma_put(channel), 4, value);
                    seen_fifo |= d.gpu.read(now, PFIFO_INTR_0, 4);
                    seen_graph |= d.gpu.read(now, PGRAPH_INTR, 4);
                    if channel == 0 && d.gpu.read(now, user_dma_get(0), 4) == value {
                        caught_up += 1;
                    }
                }
                // Any BAR0 write.
                30..=64 => {
                    let offset = random_offset(&mut rng);
                    let size = [1, 2, 4][rng.below(3) as usize];
                    let value = random_value(&mut rng);
                    d.gpu.write(&mut d.ram, now, offset, size, value);
                }
                // Any BAR0 read.
                65..=79 => {
                    let offset = random_offset(&mut rng);
                    d.gpu.read(now, offset, [1, 2, 4][rng.below(3) as usize]);
                }
                // Time moves on, up to a field at a time, through the events it brings.
                80..=91 => {
                    now += u64::from(rng.below((CLOCK_HZ / 60) as u32));
                    while let Some(at) = d.gpu.next_event().filter(|&at| at <= now) {
                        d.gpu.tick(&mut d.ram, at);
                    }
                    check_lines(&mut d, now, &context);
                }
                92..=96 => recover(&mut d, now),
                // Now and then the channel set up afresh, so that valid streams run again.
                _ => {
                    for op in rom::pfifo_setup(RAM_MIB) {
                        if let rom::Op::Write32(at, value) = op {
                            d.gpu.write(&mut d.ram, now, at, 4, value);
                        }
                    }
                    put = d.gpu.read(now, user_dma_get(0), 4) & (PUSHBUFFER_SIZE - 4);
                }
            }
            if step % 500 == 0 {
                let picture = d.gpu.picture(&d.ram);
                if let Some(p) = picture {
                    assert!(p.bytes.len() >= p.pitch * (p.height - 1), "{context}");
                }
            }
        }
        check_lines(&mut d, now + 1, &format!("seed {seed} at the end"));
    }
    // The streams got somewhere: whole pushbuffers ran, and the errors each kind of garbage
    // raises were raised.
    assert!(caught_up > 10, "{caught_up} kicks ran to DMA_PUT");
    for (what, bit) in [
        ("DMA_PUSHER", FIFO_DMA_PUSHER),
        ("CACHE_ERROR", FIFO_CACHE_ERROR),
        ("SEMAPHORE", FIFO_SEMAPHORE),
    ] {
        assert_ne!(
            seen_fifo & bit,
            0,
            "PFIFO {what} never raised: {seen_fifo:#x}"
        );
    }
    assert_ne!(seen_graph & GRAPH_ERROR, 0, "PGRAPH ERROR never raised");
    // Bounded for CI: a few seconds at most in release builds.
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
}

/// Where the guest keeps its table of block bases, and counts its writes.
const TABLE: u32 = 0x3000;
const WRITES: u32 = 0x3100;

fn guest_writes(machine: &oxbox::machine::Machine) -> u32 {
    let ram = &machine.console().board.ram;
    u32::from_le_bytes(ram[WRITES as usize..][..4].try_into().unwrap())
}

/// A guest that maps BAR0 and writes random values of random sizes to random offsets, in a
/// loop, with interrupts off: `blocks` picks the offsets among those blocks' bases (plus a
/// random 12-bit offset), `None` anywhere in the 16 MiB.
fn random_writer(blocks: Option<&'static [u32; 16]>) -> Vec<u8> {
    flash(move |a| {
        map_bar0(a)?;
        init_pic(a, 0xFF, 0xFF)?;
        if let Some(bases) = blocks {
            for (k, &base) in bases.iter().enumerate() {
                a.mov(dword_ptr(TABLE + 4 * k as u32), base)?;
            }
        }
        a.mov(esi, 0x1234_5678u32)?;
        a.mov(edi, 0x9ABC_DEF1u32)?;
        a.mov(dword_ptr(WRITES), 0u32)?;
        let top = a.here()?;
        a.inc(dword_ptr(WRITES))?;
        // xorshift32 in ESI picks the place and size; an LCG in EDI the value.
        for (shift, left) in [(13, true), (17, false), (5, true)] {
            a.mov(eax, esi)?;
            if left {
                a.shl(eax, shift)?;
            } else {
                a.shr(eax, shift)?;
            }
            a.xor(esi, eax)?;
        }
        a.imul_3(edi, edi, 1_103_515_245)?;
        a.add(edi, 12345)?;
        a.mov(ebx, esi)?;
        if blocks.is_some() {
            a.and(ebx, 0xFFF)?;
            a.mov(ecx, esi)?;
            a.shr(ecx, 28)?;
            a.add(ebx, dword_ptr(ecx * 4 + TABLE))?;
        } else {
            a.and(ebx, 0x00FF_FFFF)?;
        }
        a.mov(edx, edi)?;
        let (word, dword, next) = (a.label(), a.label(), a.label());
        a.test(esi, 0x0300_0000)?;
        a.jz(dword)?;
        a.test(esi, 0x0100_0000)?;
        a.jz(word)?;
        a.mov(byte_ptr(ebx + BAR0), dl)?;
        a.jmp(next)?;
        a.bind(word)?;
        a.mov(word_ptr(ebx + BAR0), dx)?;
        a.jmp(next)?;
        a.bind(dword)?;
        a.mov(dword_ptr(ebx + BAR0), edx)?;
        a.bind(next)?;
        a.jmp(top)?;
        Ok(())
    })
}

/// The blocks that move no data to or from RAM of their own accord (PMC, PBUS, PVIDEO,
/// PTIMER, PRMVIO, PFB, PSTRAPS, PCRTC, PRMCIO, PRAMDAC, PRMDIO), some twice to fill 16.
static DISPLAY_SIDE: [u32; 16] = [
    0x00_0000, 0x00_1000, 0x00_8000, 0x00_9000, 0x0C_0000, 0x10_0000, 0x10_1000, 0x60_0000,
    0x60_1000, 0x68_0000, 0x68_1000, 0x60_0000, 0x60_1000, 0x68_0000, 0x00_8000, 0x00_9000,
];

fn run_frames(name: &str, image: &[u8], frames: u32) -> oxbox::machine::Machine {
    let (mut machine, _scratch) = machine(name, image, None, Config::default());
    let pads = [Gamepad::default(); PORTS];
    for _ in 0..frames {
        machine.run_frame(&pads);
    }
    machine
}

/// Random writes to the display side, PMC, PBUS and PTIMER: nothing panics, and RAM above
/// the guest's first MiB (its IDT, table and stack all lie below) stays zero, since none of
/// these blocks writes memory.
#[test]
fn a_guest_writing_random_values_to_the_display_blocks_leaves_ram_alone() {
    let machine = run_frames("nv2a-fuzz-display", &random_writer(Some(&DISPLAY_SIDE)), 4);
    assert!(
        guest_writes(&machine) > 100_000,
        "{}",
        guest_writes(&machine)
    );
    let ram = &machine.console().board.ram;
    let stray = ram[1 << 20..].iter().position(|&b| b != 0);
    assert_eq!(
        stray.map(|k| k + (1 << 20)),
        None,
        "a byte written above 1 MiB"
    );
}

/// Random writes anywhere in BAR0, PFIFO, PGRAPH, PRAMIN and USER included: the GPU may now
/// legitimately write RAM through whatever DMA objects the guest made, but the host never
/// panics and each frame still comes out.
#[test]
fn a_guest_writing_random_values_anywhere_in_bar0_never_panics_the_host() {
    let machine = run_frames("nv2a-fuzz-anywhere", &random_writer(None), 4);
    assert_eq!(machine.frame_count(), 4);
    assert!(
        guest_writes(&machine) > 100_000,
        "{}",
        guest_writes(&machine)
    );
}
