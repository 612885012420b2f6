//! PFIFO's pusher and puller end to end through BAR0 and RAM: every command form, the
//! reference counter, semaphores, notifiers, a second channel, and the error interrupts all
//! the way to PMC and the PCI line.
//!
//! Sources: the command forms, the pusher's errors and DMA limit from envytools
//! docs/hw/fifo/dma-pusher.rst; the puller's methods, RAMHT failures and the software engine
//! from docs/hw/fifo/puller.rst; register bits from rnndb/fifo/nv04_pfifo.xml; notifiers from
//! docs/hw/graph/intro.rst; PGRAPH's errors from envytools hwtest (pgraph_mthd.cc,
//! pgraph_class_kelvin.cc) and NVIDIA's NSOURCE names; RAMFC's layout from nouveau (NV17).

use super::rig::*;
use oxbox::bootrom::nv2a::{KELVIN, PUSHBUFFER, PUSHBUFFER_SIZE};
use oxbox::cpu::CLOCK_HZ;

/// Kelvin bound on subchannel 0.
fn kelvin_rig() -> Rig {
    let mut g = Rig::new();
    g.methods(0, METHOD_OBJECT, &[KELVIN.handle]);
    g.kick();
    assert_eq!(g.get(), g.put);
    g
}

/// Four Kelvin methods that only hold state (ALPHA_FUNC_REF, BLEND_FUNC_SFACTOR/DFACTOR,
/// BLEND_COLOR), so that their last parameters show which words ran.
const STATE: [u32; 4] = [0x340, 0x344, 0x348, 0x34C];

fn state(g: &Rig) -> [u32; 4] {
    STATE.map(|m| g.kelvin(m))
}

#[test]
fn every_command_form_reaches_kelvin_and_moves_dma_get() {
    let mut g = kelvin_rig();

    // Increasing methods: one method after another.
    g.methods(0, STATE[0], &[0x11, 0x22, 0x33, 0x44]);
    g.kick();
    assert_eq!(g.get(), g.put, "DMA_GET reaches DMA_PUT");
    assert_eq!(
        g.r(CACHE1_DMA_GET),
        g.put,
        "CACHE1_DMA_GET is the channel's DMA_GET"
    );
    assert_eq!(state(&g), [0x11, 0x22, 0x33, 0x44]);

    // Non-increasing methods: every word to the same method.
    g.emit(&[non_inc(0, STATE[0], 3), 0x55, 0x66, 0x77]);
    g.kick();
    assert_eq!(g.get(), g.put);
    assert_eq!(state(&g), [0x77, 0x22, 0x33, 0x44]);

    // Old jump (001 J..J 00): the words after it are skipped.
    let target = g.put + 0x100;
    g.emit(&[old_jump(target), inc(0, STATE[1], 1), 0xBAD]);
    g.put = target;
    g.methods(0, STATE[1], &[0x88]);
    g.kick();
    assert_eq!(g.get(), g.put);
    assert_eq!(state(&g), [0x77, 0x88, 0x33, 0x44]);

    // New jump (J..J 01), likewise.
    let target = g.put + 0x200;
    g.emit(&[jump(target), inc(0, STATE[2], 1), 0xBAD]);
    g.put = target;
    g.methods(0, STATE[2], &[0x99]);
    g.kick();
    assert_eq!(g.get(), g.put);
    assert_eq!(state(&g), [0x77, 0x88, 0x99, 0x44]);

    // Call (J..J 10) and return (0x00020000): the subroutine runs, then the words after the
    // call.
    let subroutine = 0x2_0000;
    g.place(subroutine, &[inc(0, STATE[3], 1), 0xAA, RETURN]);
    g.emit(&[call(subroutine)]);
    g.methods(0, STATE[0], &[0xBB]);
    g.kick();
    assert_eq!(g.get(), g.put, "back from the subroutine and on to DMA_PUT");
    assert_eq!(state(&g), [0xBB, 0x88, 0x99, 0xAA]);

    // A jump back to the start of the pushbuffer, DMA_PUT set to the start with it (the
    // usual way to wrap, dma-pusher.rst): DMA_GET follows the jump and stops there.
    g.emit(&[jump(0)]);
    g.put = 0;
    g.kick();
    assert_eq!(g.get(), 0);
    g.methods(0, STATE[1], &[0xCC]);
    g.kick();
    assert_eq!(g.get(), g.put);
    assert_eq!(state(&g), [0xBB, 0xCC, 0x99, 0xAA]);
    assert_eq!(g.r(PFIFO_INTR_0), 0, "no error on the way");
}

#[test]
fn a_command_split_across_two_kicks_resumes_where_dma_put_stopped() {
    let mut g = kelvin_rig();
    let start = g.put;
    g.methods(0, STATE[0], &[1, 2, 3, 4]);
    // Only the header and two parameters are handed over.
    g.w(user_dma_put(0), start + 12);
    assert_eq!(g.get(), start + 12);
    assert_eq!(state(&g), [1, 2, 0, 0]);
    g.kick();
    assert_eq!(g.get(), g.put);
    assert_eq!(state(&g), [1, 2, 3, 4]);
}

#[test]
fn ref_cnt_sets_the_reference_counter_in_the_user_area() {
    let mut g = kelvin_rig();
    g.methods(0, METHOD_REF_CNT, &[0x1234_5678]);
    g.kick();
    assert_eq!(g.r(user_ref(0)), 0x1234_5678);
    assert_eq!(g.r(CACHE1_REF), 0x1234_5678);
}

#[test]
fn kelvin_releases_a_semaphore_through_its_dma_object() {
    let mut g = kelvin_rig();
    let window = 0x30_0000;
    let object = g.dma_object(CLASS_DMA_IN_MEMORY, window, 0xFFF);
    g.ramht(0x40, 0, object, ENGINE_SOFTWARE);
    g.methods(0, NV097_SET_CONTEXT_DMA_SEMAPHORE, &[0x40]);
    g.methods(0, NV097_SET_SEMAPHORE_OFFSET, &[0x10]);
    g.methods(0, NV097_BACK_END_WRITE_SEMAPHORE_RELEASE, &[0xCAFE_BABE]);
    g.kick();
    assert_eq!(g.get(), g.put);
    assert_eq!(g.ram32(window + 0x10), 0xCAFE_BABE);
    assert_eq!(g.ram32(window + 0xC), 0);
    assert_eq!(g.ram32(window + 0x14), 0);
}

#[test]
fn pfifo_semaphores_release_and_acquire() {
    let mut g = kelvin_rig();
    // pre-G80 DMA_SEMAPHORE takes the class 0x02 objects (puller.rst).
    let window = 0x31_0000;
    let object = g.dma_object(CLASS_DMA_FROM_MEMORY, window, 0xFFF);
    g.ramht(0x41, 0, object, ENGINE_SOFTWARE);
    g.methods(0, METHOD_DMA_SEMAPHORE, &[0x41]);
    g.methods(0, METHOD_SEMAPHORE_OFFSET, &[0x20]);
    g.methods(0, METHOD_SEMAPHORE_RELEASE, &[0x1234_5678]);
    g.kick();
    assert_eq!(
        g.ram32(window + 0x20),
        0x1234_5678,
        "release writes the value"
    );

    // Acquire: the puller holds until memory has the value; the pusher carries on.
    g.methods(0, METHOD_SEMAPHORE_ACQUIRE, &[7]);
    g.methods(0, STATE[0], &[0xABC]);
    g.kick();
    assert_eq!(g.get(), g.put, "the pusher queued everything");
    assert_ne!(
        g.kelvin(STATE[0]),
        0xABC,
        "the method after the acquire waits"
    );
    assert_ne!(g.r(CACHE1_PULL1) & PULL1_ACQUIRE_ACTIVE, 0);
    // A waiting acquire asks the board for time soon, to look at memory again.
    let poll =
        g.d.gpu
            .next_event()
            .expect("the waiting puller asks to look again");
    g.set_ram32(window + 0x20, 7);
    g.d.gpu.tick(&mut g.d.ram, poll);
    assert_eq!(g.kelvin(STATE[0]), 0xABC, "released by the CPU's store");
    assert_eq!(g.r(CACHE1_PULL1) & PULL1_ACQUIRE_ACTIVE, 0);
    assert_eq!(g.r(PFIFO_INTR_0), 0);
}

/// PTIMER at 31.25 MHz from a 233.33 MHz core clock (nouveau's nv04_timer_init aims for it:
/// TIME then counts nanoseconds): NVPLL M 1, N 28, P 1 from the 16.667 MHz crystal; CLOCK_DIV
/// ("NUMERATOR") 112 and CLOCK_MUL ("DENOMINATOR") 15.
fn nanosecond_timer(g: &mut Rig) {
    g.w(PRAMDAC_NVPLL_COEFF, 1 << 16 | 28 << 8 | 1);
    g.w(PTIMER_NUMERATOR, 112);
    g.w(PTIMER_DENOMINATOR, 15);
}

fn ptimer_time(g: &mut Rig) -> u64 {
    u64::from(g.r(PTIMER_TIME_1)) << 32 | u64::from(g.r(PTIMER_TIME_0))
}

/// A Kelvin notify window over 16 bytes of RAM, filled with 0xEE.
fn notify_window(g: &mut Rig, at: u32) {
    let object = g.dma_object(CLASS_DMA_IN_MEMORY, at, 0xF);
    g.ramht(0x42, 0, object, ENGINE_SOFTWARE);
    g.methods(0, NV097_SET_CONTEXT_DMA_NOTIFIES, &[0x42]);
    g.kick();
    g.d.ram[at as usize..at as usize + 16].fill(0xEE);
}

fn notification(g: &Rig, at: u32) -> (u64, u32, u32) {
    let time = u64::from(g.ram32(at)) | u64::from(g.ram32(at + 4)) << 32;
    (time, g.ram32(at + 8), g.ram32(at + 12))
}

#[test]
fn notify_writes_a_notification_after_the_next_method_and_can_interrupt() {
    let mut g = kelvin_rig();
    g.enable_interrupts();
    nanosecond_timer(&mut g);
    let at = 0x32_0000;
    notify_window(&mut g, at);

    // NOTIFY alone writes nothing: the write follows the next method.
    g.methods(0, NV097_NOTIFY, &[0]);
    g.kick();
    assert_eq!(&g.d.ram[at as usize..at as usize + 16], &[0xEE; 16]);
    g.now = CLOCK_HZ;
    g.methods(0, NV097_NO_OPERATION, &[0]);
    g.kick();
    let (first, info, status) = notification(&g, at);
    assert_eq!((info, status), (0, 0), "info and status words are 0");
    assert_ne!(first, 0xEEEE_EEEE_EEEE_EEEE, "a timestamp was written");
    // At one emulated second the 31.25 MHz counter is 31,250,000: TIME reads 1e9 ns.
    assert_eq!(ptimer_time(&mut g), 1_000_000_000);
    assert_eq!(g.r(PGRAPH_INTR), 0, "WRITE raises no interrupt");

    // WRITE_AND_AWAKEN (1): the notification, then PGRAPH's NOTIFY interrupt.
    g.now = 2 * CLOCK_HZ;
    g.methods(0, NV097_NOTIFY, &[1]);
    g.methods(0, STATE[0], &[5]);
    g.kick();
    let (second, _, _) = notification(&g, at);
    assert!(second > first, "time moved on: {second} after {first}");
    assert_eq!(g.r(PGRAPH_INTR), GRAPH_NOTIFY);
    assert_ne!(g.r(PMC_INTR_0) & PMC_PGRAPH, 0);
    assert!(g.d.gpu.irq());
    g.w(PGRAPH_INTR, GRAPH_NOTIFY);
    assert_eq!(g.r(PMC_INTR_0) & PMC_PGRAPH, 0);
    assert!(!g.d.gpu.irq());
}

/// envytools docs/hw/graph/intro.rst: the notifier's timestamp is "a concatenation of current
/// values of TIME_LOW and TIME_HIGH" (`PTIMER.TIME_HIGH << 32 | PTIMER.TIME_LOW`), the
/// counter shifted left by 5 (ptimer.rst).
#[test]
fn a_notification_carries_the_ptimer_time() {
    let mut g = kelvin_rig();
    nanosecond_timer(&mut g);
    let at = 0x32_0000;
    notify_window(&mut g, at);
    g.now = CLOCK_HZ;
    g.methods(0, NV097_NOTIFY, &[0]);
    g.methods(0, NV097_NO_OPERATION, &[0]);
    g.kick();
    let time = ptimer_time(&mut g);
    assert_eq!(time, 1_000_000_000);
    assert_eq!(notification(&g, at), (time, 0, 0));
}

/// Channel 1: a pushbuffer DMA object of its own, its RAMFC slot (nouveau's NV17 layout:
/// DMA_PUT, DMA_GET, REF, DMA_INSTANCE, DMA_STATE, DMA_FETCH, ...) and a KELVIN handle of its
/// own in RAMHT; DMA mode in PFIFO_MODE.
const CHANNEL1_PUSHBUFFER: u32 = 0x18_0000;

fn add_channel_1(g: &mut Rig) -> u32 {
    let pushbuffer = g.dma_object(CLASS_DMA_IN_MEMORY, CHANNEL1_PUSHBUFFER, 0xFFFF);
    let slot = PRAMIN + RAMFC + RAMFC_SLOT;
    for k in 0..RAMFC_SLOT / 4 {
        g.w(slot + 4 * k, 0);
    }
    g.w(slot + 0x0C, pushbuffer >> 4);
    g.w(slot + 0x14, 0x0008_6078);
    let kelvin = g.graph_object(0x97);
    g.ramht(KELVIN.handle, 1, kelvin, ENGINE_GRAPHICS);
    let mode = g.r(PFIFO_MODE);
    g.w(PFIFO_MODE, mode | 1 << 1);
    kelvin
}

#[test]
fn a_second_channel_runs_through_its_ramfc_slot_and_user_area() {
    let mut g = kelvin_rig();
    assert_ne!(g.r(PFIFO_RAMFC) & 1 << 16, 0, "64-byte RAMFC slots");
    let kelvin1 = add_channel_1(&mut g);
    let words = [
        inc(0, METHOD_OBJECT, 1),
        KELVIN.handle,
        inc(0, NV097_SET_COLOR_CLEAR_VALUE, 1),
        0x111,
        inc(0, METHOD_REF_CNT, 1),
        0x1001,
    ];
    for (k, &word) in words.iter().enumerate() {
        g.set_ram32(CHANNEL1_PUSHBUFFER + 4 * k as u32, word);
    }
    let put1 = 4 * words.len() as u32;
    g.w(user_dma_put(1), put1);
    assert_eq!(g.r(CACHE1_PUSH1) & 0x1F, 1, "CACHE1 holds channel 1");
    assert_eq!(g.r(user_dma_get(1)), put1);
    assert_eq!(g.r(user_ref(1)), 0x1001);
    assert_eq!(g.kelvin(NV097_SET_COLOR_CLEAR_VALUE), 0x111);
    assert_eq!(g.d.gpu.pgraph().binding(1, 0), Some((kelvin1, 0x97)));
    // Channel 0's state waits in its slot.
    assert_eq!(g.r(user_dma_get(0)), g.put);
    assert_eq!(g.r(PRAMIN + RAMFC + 4), g.put, "slot 0's DMA_GET");

    // Back to channel 0.
    g.methods(0, NV097_SET_COLOR_CLEAR_VALUE, &[0x222]);
    g.methods(0, METHOD_REF_CNT, &[0x2002]);
    g.kick();
    assert_eq!(g.r(CACHE1_PUSH1) & 0x1F, 0, "CACHE1 holds channel 0 again");
    assert_eq!(g.get(), g.put);
    assert_eq!(g.r(user_ref(0)), 0x2002);
    assert_eq!(g.kelvin(NV097_SET_COLOR_CLEAR_VALUE), 0x222);
    // Channel 1's state was saved: its USER area reads it from RAMFC.
    assert_eq!(g.r(user_dma_get(1)), put1);
    assert_eq!(g.r(user_ref(1)), 0x1001);
    let slot1 = PRAMIN + RAMFC + RAMFC_SLOT;
    assert_eq!(g.r(slot1), put1, "slot 1's DMA_PUT");
    assert_eq!(g.r(slot1 + 4), put1, "slot 1's DMA_GET");
    assert_eq!(g.r(slot1 + 8), 0x1001, "slot 1's REF");
    assert_eq!(g.r(PFIFO_INTR_0), 0);
}

/// Each pusher error of envytools' table: DMA_PUSHER in PFIFO INTR, the code in DMA_STATE,
/// the pusher suspended and nothing after the faulty word run; PMC INTR_0 bit 8, and the PCI
/// line once PMC's hardware interrupts are enabled.
#[test]
fn pusher_errors_reach_pmc_and_the_pci_line() {
    let cases: [(&str, Vec<u32>, u32); 7] = [
        (
            "no form matches (100...)",
            vec![0x8000_0000],
            ERROR_INVALID_CMD,
        ),
        (
            "no form matches (111...)",
            vec![0xE000_0000],
            ERROR_INVALID_CMD,
        ),
        (
            "SLI conditional (NV40+)",
            vec![0x0001_0000],
            ERROR_INVALID_CMD,
        ),
        (
            "long non-increasing (IB only)",
            vec![0x0003_0000],
            ERROR_INVALID_CMD,
        ),
        (
            "method 0x0004 (no puller method)",
            vec![inc(0, 4, 1), 0],
            ERROR_INVALID_MTHD,
        ),
        ("return outside a subroutine", vec![RETURN], 3),
        (
            "call inside a subroutine",
            vec![call(0x2_0000)],
            1, // the subroutine at 0x20000 calls again
        ),
    ];
    for (what, words, code) in cases {
        let mut g = kelvin_rig();
        g.place(0x2_0000, &[call(0x2_1000)]);
        g.w(PFIFO_INTR_EN_0, FIFO_DMA_PUSHER);
        g.methods(0, STATE[0], &[1]);
        g.emit(&words);
        g.methods(0, STATE[0], &[2]);
        g.kick();
        assert_eq!(g.kelvin(STATE[0]), 1, "{what}: the words before run");
        assert_eq!(g.r(PFIFO_INTR_0), FIFO_DMA_PUSHER, "{what}");
        assert_eq!(g.pusher_error(), code, "{what}: DMA_STATE.ERROR");
        assert_ne!(g.r(CACHE1_DMA_PUSH) & DMA_PUSH_SUSPENDED, 0, "{what}");
        assert_ne!(g.get(), g.put, "{what}: DMA_GET stops short");
        assert_eq!(g.r(PMC_INTR_0), PMC_PFIFO, "{what}");
        assert!(!g.d.gpu.irq(), "{what}: PMC's enable is still off");
        g.w(PMC_INTR_EN_0, PMC_EN_HARDWARE);
        assert!(g.d.gpu.irq(), "{what}: the PCI line");
        if code == ERROR_INVALID_CMD {
            assert_eq!(g.r(CACHE1_DMA_RSVD_SHADOW), words[0], "{what}: RSVD_SHADOW");
        }
        // Masking the source at PFIFO drops the line; the bit stays in INTR_0.
        g.w(PFIFO_INTR_EN_0, 0);
        assert!(!g.d.gpu.irq(), "{what}");
        assert_eq!(g.r(PFIFO_INTR_0), FIFO_DMA_PUSHER, "{what}");
    }
}

#[test]
fn pbkits_handler_steps_over_an_invalid_command() {
    let mut g = kelvin_rig();
    g.enable_interrupts();
    g.methods(0, STATE[0], &[1]);
    g.emit(&[0x8000_0000]);
    g.methods(0, STATE[0], &[2]);
    g.kick();
    assert!(g.d.gpu.irq());
    g.skip_pusher_error();
    assert_eq!(g.get(), g.put);
    assert_eq!(g.kelvin(STATE[0]), 2);
    assert_eq!(g.r(PFIFO_INTR_0), 0);
    assert_eq!(g.r(PMC_INTR_0), 0);
    assert!(!g.d.gpu.irq());
}

/// dma-pusher.rst: "At all times, dma_get has to be <= dma_limit. Going past the limit ...
/// results in raising DMA_PUSHER error of type MEM_FAULT."
#[test]
fn reading_past_the_pushbuffer_limit_is_a_mem_fault() {
    let mut g = kelvin_rig();
    g.enable_interrupts();
    let last = PUSHBUFFER_SIZE - 8;
    // Four methods whose third word would lie past the window; RAM there holds values that
    // must never arrive.
    g.place(last, &[inc(0, STATE[0], 4), 5]);
    g.set_ram32(PUSHBUFFER + PUSHBUFFER_SIZE, 6);
    g.set_ram32(PUSHBUFFER + PUSHBUFFER_SIZE + 4, 7);
    g.emit(&[jump(last)]);
    g.w(user_dma_put(0), PUSHBUFFER_SIZE + 16);
    assert_eq!(state(&g), [5, 0, 0, 0]);
    assert_eq!(g.r(PFIFO_INTR_0), FIFO_DMA_PUSHER);
    assert_eq!(g.pusher_error(), ERROR_MEM_FAULT);
    assert_eq!(g.r(PMC_INTR_0), PMC_PFIFO);
    assert!(g.d.gpu.irq());
}

/// puller.rst: a handle RAMHT does not hold is CACHE_ERROR (NO_HASH: PULL0.HASH_FAILED), for
/// method 0 and for the object methods 0x180-0x1FC alike; the puller stops there. nouveau's
/// handler steps CACHE1_GET over the entry and re-enables PULL0.
#[test]
fn a_handle_missing_from_ramht_is_a_cache_error() {
    for (what, sub, method) in [
        ("SET_OBJECT", 1, METHOD_OBJECT),
        ("SET_CONTEXT_DMA_COLOR", 0, NV097_SET_CONTEXT_DMA_COLOR),
    ] {
        let mut g = kelvin_rig();
        g.enable_interrupts();
        g.methods(sub, method, &[0x4242]);
        g.methods(0, STATE[0], &[9]);
        g.kick();
        assert_eq!(g.r(PFIFO_INTR_0), FIFO_CACHE_ERROR, "{what}");
        let pull0 = g.r(CACHE1_PULL0);
        assert_ne!(pull0 & PULL0_HASH_FAILED, 0, "{what}: HASH_FAILED");
        assert_ne!(g.kelvin(STATE[0]), 9, "{what}: the puller stopped");
        assert_eq!(g.r(PMC_INTR_0), PMC_PFIFO, "{what}");
        assert!(g.d.gpu.irq(), "{what}");
        // nouveau's nv04_fifo_cache_error: skip the entry, acknowledge, pull again.
        let get = g.r(CACHE1_GET);
        g.w(CACHE1_GET, get + 4);
        g.w(PFIFO_INTR_0, FIFO_CACHE_ERROR);
        g.w(CACHE1_PULL0, PULL0_ACCESS);
        assert_eq!(g.kelvin(STATE[0]), 9, "{what}: on after the entry");
        assert!(!g.d.gpu.irq(), "{what}");
    }
}

/// puller.rst: binding an object whose RAMHT entry names the SOFTWARE engine, or a method on
/// a subchannel bound to it (every subchannel is, at first), is CACHE_ERROR (EMPTY_SUBCHANNEL,
/// PULL0.DEVICE_SOFTWARE) for the host to handle.
#[test]
fn software_engine_objects_go_to_the_host() {
    const PULL0_DEVICE_SOFTWARE: u32 = 1 << 8;
    for (what, words) in [
        // pbkit's DMA objects are entered with engine 0.
        (
            "binding a DMA object",
            vec![
                inc(1, METHOD_OBJECT, 1),
                oxbox::bootrom::nv2a::DMA_RAM.handle,
            ],
        ),
        (
            "a method on an unbound subchannel",
            vec![inc(5, 0x300, 1), 0],
        ),
    ] {
        let mut g = kelvin_rig();
        g.enable_interrupts();
        g.emit(&words);
        g.methods(0, STATE[0], &[9]);
        g.kick();
        assert_eq!(g.r(PFIFO_INTR_0), FIFO_CACHE_ERROR, "{what}");
        assert_ne!(g.r(CACHE1_PULL0) & PULL0_DEVICE_SOFTWARE, 0, "{what}");
        assert_ne!(g.kelvin(STATE[0]), 9, "{what}");
        assert!(g.d.gpu.irq(), "{what}");
    }
}

/// Acknowledges a PGRAPH error the way a driver would: PGRAPH's INTR and its FIFO access
/// (hwtest's nv04_pgraph_blowup clears it), and PFIFO's puller in case it stopped too.
fn acknowledge_graph_error(g: &mut Rig) {
    g.w(PGRAPH_INTR, 0xFFFF_FFFF);
    g.w(PGRAPH_FIFO, 1);
    g.w(PFIFO_INTR_0, 0xFFFF_FFFF);
    g.w(CACHE1_PULL0, PULL0_ACCESS);
}

/// PGRAPH's errors: ERROR (INTR bit 20 on NV10+) with its cause in NSOURCE and the method in
/// TRAPPED_ADDR/DATA, PMC INTR_0 bit 12 and the PCI line; nothing written outside a DMA
/// window.
#[test]
fn graph_errors_reach_pmc_bit_12() {
    let mut g = kelvin_rig();
    g.enable_interrupts();

    // NOTIFY's parameter above 1 is INVALID_VALUE on NV4+ (graph/intro.rst): DATA_ERROR.
    g.methods(0, NV097_NOTIFY, &[2]);
    g.kick();
    assert_ne!(g.r(PGRAPH_INTR) & GRAPH_ERROR, 0);
    assert_eq!(g.r(PGRAPH_NSOURCE), NSOURCE_DATA_ERROR);
    assert_eq!(g.r(PGRAPH_TRAPPED_ADDR) & 0x1FFC, NV097_NOTIFY);
    assert_eq!(g.r(PGRAPH_TRAPPED_DATA), 2);
    assert_ne!(g.r(PMC_INTR_0) & PMC_PGRAPH, 0);
    assert!(g.d.gpu.irq());
    acknowledge_graph_error(&mut g);
    assert_eq!(g.r(PMC_INTR_0), 0);
    assert!(!g.d.gpu.irq());

    // A semaphore release past its DMA window's limit: DMA_W_PROTECTION.
    let window = 0x34_0000;
    let object = g.dma_object(CLASS_DMA_IN_MEMORY, window, 0xFF);
    g.ramht(0x43, 0, object, ENGINE_SOFTWARE);
    g.methods(0, NV097_SET_CONTEXT_DMA_SEMAPHORE, &[0x43]);
    g.methods(0, NV097_SET_SEMAPHORE_OFFSET, &[0x100]);
    g.methods(0, NV097_BACK_END_WRITE_SEMAPHORE_RELEASE, &[0xDEAD]);
    g.kick();
    assert_ne!(g.r(PGRAPH_INTR) & GRAPH_ERROR, 0);
    assert_eq!(g.r(PGRAPH_NSOURCE), NSOURCE_DMA_W_PROTECTION);
    assert_eq!(g.ram32(window + 0x100), 0, "nothing past the limit");
    assert_ne!(g.r(PMC_INTR_0) & PMC_PGRAPH, 0);
    assert!(g.d.gpu.irq());
    acknowledge_graph_error(&mut g);

    // A clear of a 64x64 X8R8G8B8 surface (16 KiB at pitch 256) through a 4 KiB colour
    // window: LIMIT_COLOR, and RAM past the window untouched.
    let window = 0x35_0000;
    let object = g.dma_object(CLASS_DMA_IN_MEMORY, window, 0xFFF);
    g.ramht(0x44, 0, object, ENGINE_SOFTWARE);
    g.methods(0, NV097_SET_CONTEXT_DMA_COLOR, &[0x44]);
    g.methods(0, NV097_SET_SURFACE_CLIP_HORIZONTAL, &[64 << 16, 64 << 16]);
    // SURFACE_FORMAT: colour X8R8G8B8 (5), pitch layout; SURFACE_PITCH 256; offsets 0.
    g.methods(0, NV097_SET_SURFACE_FORMAT, &[1 << 8 | 5, 256, 0, 0]);
    g.methods(0, NV097_SET_CLEAR_RECT_HORIZONTAL, &[63 << 16, 63 << 16]);
    g.methods(0, NV097_SET_COLOR_CLEAR_VALUE, &[0x00FF_00FF]);
    g.methods(0, NV097_CLEAR_SURFACE, &[0xF0]);
    g.kick();
    assert_ne!(g.r(PGRAPH_INTR) & GRAPH_ERROR, 0);
    assert_eq!(g.r(PGRAPH_NSOURCE), NSOURCE_LIMIT_COLOR);
    assert!(
        g.d.ram[(window + 0x1000) as usize..(window + 0x4000) as usize]
            .iter()
            .all(|&b| b == 0),
        "RAM past the window"
    );
    assert!(g.d.gpu.irq());
    acknowledge_graph_error(&mut g);

    // And the FIFO runs on.
    g.methods(0, STATE[0], &[0x5A]);
    g.kick();
    assert_eq!(g.get(), g.put);
    assert_eq!(g.kelvin(STATE[0]), 0x5A);
    assert!(!g.d.gpu.irq());
}

/// envytools hwtest: pgraph_class_kelvin.cc lists Kelvin's methods (the last is 0x1EA4,
/// TL_PARAM_LOAD_POS); pgraph_mthd.cc's ClassInvalidTests expects every other method of a
/// NV4+ class to raise ERROR with NSOURCE ILLEGAL_MTHD (nv04_pgraph_blowup(0x40)).
#[test]
fn a_method_kelvin_lacks_is_an_illegal_method() {
    let mut g = kelvin_rig();
    g.enable_interrupts();
    g.methods(0, 0x1FFC, &[0x77]);
    g.kick();
    assert_ne!(g.r(PGRAPH_INTR) & GRAPH_ERROR, 0, "PGRAPH ERROR");
    assert_ne!(
        g.r(PGRAPH_NSOURCE) & NSOURCE_ILLEGAL_MTHD,
        0,
        "ILLEGAL_MTHD"
    );
    assert_eq!(g.r(PGRAPH_TRAPPED_ADDR) & 0x1FFC, 0x1FFC);
    assert_eq!(g.r(PGRAPH_TRAPPED_DATA), 0x77);
    assert_ne!(g.r(PMC_INTR_0) & PMC_PGRAPH, 0, "PMC bit 12");
    assert!(g.d.gpu.irq());
}

/// NSTATUS on NV10 and later: nouveau's nouveau_reg.h has NV10_PGRAPH_NSTATUS_STATE_IN_USE
/// bit 23, INVALID_STATE 24, BAD_ARGUMENT 25, PROTECTION_FAULT 26 (nv20_gr_intr decodes the
/// NV20 family's with them), and envytools' hwtest nv04_pgraph_blowup shifts the NV04 bits up
/// by 12 for card_type >= 0x10: a DATA_ERROR (NSOURCE bit 1) sets BAD_ARGUMENT, bit 25.
#[test]
fn nstatus_has_the_nv10_bit_positions() {
    let mut g = kelvin_rig();
    g.methods(0, NV097_NOTIFY, &[2]);
    g.kick();
    assert_eq!(g.r(PGRAPH_NSOURCE), NSOURCE_DATA_ERROR);
    assert_eq!(g.r(PGRAPH_NSTATUS), 0x2000 << 12);
}

/// A PGRAPH error is PGRAPH's: envytools' puller (puller.rst) raises CACHE_ERROR only for a
/// RAMHT miss or the SOFTWARE engine and hands methods on otherwise; hwtest's
/// nv04_pgraph_blowup sets PGRAPH's INTR and NSOURCE and clears its FIFO access (0x720),
/// which the driver turns back on (nouveau's nv10_gr_intr ends by writing 1 there). PFIFO
/// raises nothing, and the next method goes through once PGRAPH is acknowledged.
#[test]
fn a_graph_error_interrupts_through_pgraph_alone() {
    let mut g = kelvin_rig();
    g.enable_interrupts();
    g.methods(0, NV097_NOTIFY, &[2]);
    g.methods(0, STATE[0], &[0x66]);
    g.kick();
    assert_ne!(g.r(PGRAPH_INTR) & GRAPH_ERROR, 0);
    assert_eq!(g.r(PFIFO_INTR_0), 0, "no PFIFO interrupt");
    assert_eq!(g.r(PMC_INTR_0), PMC_PGRAPH, "PGRAPH's line alone");
    assert_ne!(g.kelvin(STATE[0]), 0x66, "the next method waits");
    assert_eq!(g.r(PGRAPH_FIFO) & 1, 0, "PGRAPH stops taking methods");
    g.w(PGRAPH_INTR, GRAPH_ERROR);
    g.w(PGRAPH_FIFO, 1);
    assert_eq!(
        g.kelvin(STATE[0]),
        0x66,
        "and goes through once PGRAPH is acknowledged"
    );
    assert_eq!(g.get(), g.put);
    assert!(!g.d.gpu.irq());
}
