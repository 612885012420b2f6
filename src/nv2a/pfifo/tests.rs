//! PFIFO tests against a fake engine. The channel set-up follows pbkit's: RAMHT at PRAMIN
//! 0x10000 (4 KiB, search 128), RAMFC at 0x11000 with 64-byte slots.

use super::*;
use crate::machine::state::{Snapshot, State};
use crate::nv2a::ramht::{ENGINE_GRAPHICS, ENGINE_SOFTWARE, Ramht};
use crate::nv2a::{Engine, EngineError, Memory, Method, PRAMIN_SIZE, read_u32, write_u32};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    Bind {
        channel: u32,
        subchannel: u32,
        instance: u32,
    },
    Method(Method),
}

#[derive(Default)]
struct FakeEngine {
    calls: Vec<Call>,
    busy: bool,
    /// Methods (by offset) the engine refuses, and how.
    refuse: Vec<(u32, EngineError)>,
}

impl Engine for FakeEngine {
    fn bind(&mut self, _mem: &mut Memory, channel: u32, subchannel: u32, instance: u32) {
        self.calls.push(Call::Bind {
            channel,
            subchannel,
            instance,
        });
    }

    fn method(&mut self, _mem: &mut Memory, method: Method) -> Result<(), EngineError> {
        self.calls.push(Call::Method(method));
        match self.refuse.iter().find(|(m, _)| *m == method.method) {
            Some(&(_, error)) => Err(error),
            None => Ok(()),
        }
    }

    fn busy(&self) -> bool {
        self.busy
    }
}

const RAM_SIZE: usize = 4 << 20;
const RAMHT_REG: u32 = 0x0300_0100;
const RAMFC_REG: u32 = 0x0001_0110;
const RAMFC_BASE: usize = 0x11000;
/// The pushbuffer DMA objects of channels 0 and 1, and where their windows start in RAM.
const PB_INSTANCE: [u32; 2] = [0x12000, 0x12010];
const PB_BASE: [u32; 2] = [0x10_0000, 0x20_0000];
const PB_LIMIT: u32 = 0xFFFF;
/// Graphics objects: handle 0x100 + n at instance 0x13000 + 16 n.
const OBJECT_INSTANCE: u32 = 0x13000;

fn inc(subchannel: u32, method: u32, count: u32) -> u32 {
    count << 18 | subchannel << 13 | method
}

fn non_inc(subchannel: u32, method: u32, count: u32) -> u32 {
    0x4000_0000 | inc(subchannel, method, count)
}

fn method(channel: u32, subchannel: u32, method: u32, param: u32) -> Call {
    Call::Method(Method {
        channel,
        subchannel,
        method,
        param,
    })
}

fn dma_object(pramin: &mut [u8], instance: u32, class: u32, base: u32, limit: u32) {
    let at = instance as usize;
    write_u32(pramin, at, class | 2 << 16 | (base & 0xFFF) << 20);
    write_u32(pramin, at + 4, limit);
    write_u32(pramin, at + 8, base & !0xFFF);
}

struct Rig {
    pfifo: Pfifo,
    ram: Vec<u8>,
    pramin: Vec<u8>,
    engine: FakeEngine,
    /// Where the next submitted word goes, per channel.
    put: [u32; 2],
}

impl Rig {
    /// Channel 0 active in DMA mode, pushing and pulling enabled, all interrupts enabled.
    fn new() -> Rig {
        let mut rig = Rig {
            pfifo: Pfifo::new(),
            ram: vec![0; RAM_SIZE],
            pramin: vec![0; PRAMIN_SIZE],
            engine: FakeEngine::default(),
            put: [0; 2],
        };
        for c in 0..2 {
            dma_object(
                &mut rig.pramin,
                PB_INSTANCE[c],
                crate::nv2a::dma::CLASS_IN_MEMORY,
                PB_BASE[c],
                PB_LIMIT,
            );
        }
        let p = &mut rig.pfifo;
        p.write(RAMHT, 4, RAMHT_REG);
        p.write(RAMFC, 4, RAMFC_REG);
        p.write(MODE, 4, 1);
        p.write(CACHE1_PUSH1, 4, PUSH1_MODE_DMA);
        p.write(CACHE1_DMA_INSTANCE, 4, PB_INSTANCE[0] >> 4);
        p.write(CACHE1_DMA_PUSH, 4, DMA_PUSH_ACCESS);
        p.write(CACHE1_PUSH0, 4, 1);
        p.write(CACHE1_PULL0, 4, PULL0_ACCESS);
        p.write(CACHES, 4, CACHES_REASSIGN);
        p.write(INTR_EN_0, 4, 0xFFFF_FFFF);
        rig
    }

    /// Puts graphics object 0x100 + n for channel `channel` in RAMHT.
    fn object(&mut self, channel: u32, n: u32) -> u32 {
        let table = Ramht::from_register(RAMHT_REG);
        let instance = OBJECT_INSTANCE + 16 * n;
        table
            .insert(
                &mut self.pramin,
                channel,
                0x100 + n,
                instance,
                ENGINE_GRAPHICS,
            )
            .expect("room in RAMHT");
        instance
    }

    /// Binds object 0x100 + s to every subchannel s of channel 0 and forgets the binds.
    fn bound() -> Rig {
        let mut rig = Rig::new();
        let mut words = Vec::new();
        for s in 0..8 {
            rig.object(0, s);
            words.extend([inc(s, 0, 1), 0x100 + s]);
        }
        rig.submit(&words);
        rig.run(1000);
        assert_eq!(rig.engine.calls.len(), 8);
        rig.engine.calls.clear();
        // Start the pushbuffer over, as a driver wrapping its ring would.
        rig.set(CACHE1_DMA_GET, 0);
        rig.set(CACHE1_DMA_PUT, 0);
        rig.put[0] = 0;
        rig
    }

    /// Writes pushbuffer words at `at` in channel `channel`'s window.
    fn words(&mut self, channel: usize, at: u32, words: &[u32]) {
        for (i, &w) in words.iter().enumerate() {
            write_u32(&mut self.ram, (PB_BASE[channel] + at) as usize + 4 * i, w);
        }
    }

    fn set_put(&mut self, channel: u32, put: u32) {
        self.pfifo
            .user_write(&mut self.pramin, channel << 16 | USER_DMA_PUT, 4, put);
    }

    /// Appends words to channel 0's pushbuffer and moves its DMA_PUT past them.
    fn submit(&mut self, words: &[u32]) {
        self.submit_on(0, words);
    }

    fn submit_on(&mut self, channel: usize, words: &[u32]) {
        let at = self.put[channel];
        self.words(channel, at, words);
        self.put[channel] = at + 4 * words.len() as u32;
        self.set_put(channel as u32, self.put[channel]);
    }

    fn run(&mut self, budget: u32) -> u32 {
        let mut mem = Memory {
            ram: &mut self.ram,
            pramin: &mut self.pramin,
        };
        self.pfifo.run(&mut mem, &mut self.engine, budget)
    }

    fn reg(&self, offset: u32) -> u32 {
        self.pfifo.read(offset, 4)
    }

    fn set(&mut self, offset: u32, value: u32) {
        self.pfifo.write(offset, 4, value);
    }

    fn user(&self, channel: u32, offset: u32) -> u32 {
        self.pfifo
            .user_read(&self.pramin, channel << 16 | offset, 4)
    }

    fn dma_error(&self) -> u32 {
        self.reg(CACHE1_DMA_STATE) >> 29
    }

    /// What pbkit's handler does after a DMA_PUSHER error: clear it, drop the command state,
    /// step over the word at fault and resume.
    fn skip_pusher_error(&mut self) {
        self.set(INTR_0, INTR_DMA_PUSHER);
        self.set(CACHE1_DMA_STATE, 0);
        let get = self.reg(CACHE1_DMA_GET);
        self.set(CACHE1_DMA_GET, get + 4);
        self.set(CACHE1_DMA_PUSH, DMA_PUSH_ACCESS);
    }

    /// What pbkit's handler does after a CACHE_ERROR: step over the entry when the puller
    /// flagged a hash failure or a software method, then re-enable pulling.
    fn skip_cache_error(&mut self) {
        let pull0 = self.reg(CACHE1_PULL0);
        self.set(CACHE1_PULL0, 0);
        self.set(INTR_0, INTR_CACHE_ERROR);
        if pull0 & (PULL0_HASH_FAILED | PULL0_DEVICE_SOFTWARE) != 0 {
            let get = self.reg(CACHE1_GET);
            self.set(CACHE1_GET, get + 4);
        }
        self.set(CACHE1_HASH, 0);
        self.set(CACHE1_PULL0, PULL0_ACCESS);
    }

    /// The method currently at CACHE1_GET (method word, parameter).
    fn cache_head(&self) -> (u32, u32) {
        let at = (self.reg(CACHE1_GET) >> 2 & 127) * 8;
        (self.reg(CACHE1_METHOD + at), self.reg(CACHE1_DATA + at))
    }
}

#[test]
fn increasing_methods_reach_the_engine_in_order() {
    let mut rig = Rig::bound();
    rig.submit(&[inc(1, 0x100, 3), 10, 11, 12, inc(2, 0x1FFC, 1), 13]);
    // Six words read, four methods pulled.
    assert_eq!(rig.run(1000), 10);
    assert_eq!(
        rig.engine.calls,
        [
            method(0, 1, 0x100, 10),
            method(0, 1, 0x104, 11),
            method(0, 1, 0x108, 12),
            method(0, 2, 0x1FFC, 13),
        ]
    );
    assert_eq!(rig.user(0, USER_DMA_GET), rig.put[0]);
    assert_eq!(rig.user(0, USER_DMA_PUT), rig.put[0]);
    let push = rig.reg(CACHE1_DMA_PUSH);
    assert_eq!(
        push & (DMA_PUSH_BUSY | DMA_PUSH_BUFFER_EMPTY),
        DMA_PUSH_BUFFER_EMPTY
    );
    assert_eq!(rig.reg(CACHE1_STATUS), STATUS_EMPTY);
    assert_eq!(
        rig.reg(CACHE1_DMA_DCOUNT),
        4,
        "one data word of the last command"
    );
    assert_eq!(rig.reg(CACHE1_DMA_RSVD_SHADOW), inc(2, 0x1FFC, 1));
    assert_eq!(rig.reg(CACHE1_DMA_DATA_SHADOW), 13);
    assert!(!rig.pfifo.pending());
    assert!(!rig.pfifo.has_work());
}

#[test]
fn non_increasing_methods_repeat_one_method() {
    let mut rig = Rig::bound();
    let first = rig.reg(CACHE1_PUT) * 2;
    rig.submit(&[non_inc(3, 0x1818, 3), 1, 2, 3]);
    rig.run(1000);
    assert_eq!(rig.engine.calls, [1, 2, 3].map(|p| method(0, 3, 0x1818, p)));
    // The queue recorded the non-increasing flag in its method words.
    assert_eq!(rig.reg(CACHE1_METHOD + first), 3 << 13 | 0x1818 | 1);
    // An empty header is a no-op.
    rig.engine.calls.clear();
    rig.submit(&[inc(1, 0x100, 0), non_inc(1, 0x100, 0), inc(1, 0x200, 1), 5]);
    rig.run(1000);
    assert_eq!(rig.engine.calls, [method(0, 1, 0x200, 5)]);
}

#[test]
fn old_and_new_jumps_move_dma_get() {
    for (word, target) in [(0x2000_0400, 0x400), (0x0000_0801, 0x800)] {
        let mut rig = Rig::bound();
        rig.words(0, 0, &[word, inc(1, 0x100, 1), 99]);
        rig.words(0, target, &[inc(1, 0x104, 1), 7]);
        rig.set_put(0, target + 8);
        rig.run(1000);
        assert_eq!(rig.engine.calls, [method(0, 1, 0x104, 7)], "jump {word:#x}");
        assert_eq!(rig.reg(CACHE1_DMA_GET), target + 8);
        assert_eq!(rig.reg(CACHE1_DMA_GET_JMP_SHADOW), 4);
    }
}

#[test]
fn a_call_runs_a_subroutine_and_return_comes_back() {
    let mut rig = Rig::bound();
    rig.words(0, 0x800, &[inc(1, 0x200, 2), 20, 21, 0x0002_0000]);
    rig.submit(&[0x802, inc(1, 0x100, 1), 10]);
    assert_eq!(rig.run(1), 1);
    assert_eq!(rig.reg(CACHE1_DMA_SUBROUTINE), 4 | SUBROUTINE_ACTIVE);
    assert_eq!(rig.reg(CACHE1_DMA_GET), 0x800);
    rig.run(1000);
    assert_eq!(
        rig.engine.calls,
        [
            method(0, 1, 0x200, 20),
            method(0, 1, 0x204, 21),
            method(0, 1, 0x100, 10),
        ]
    );
    assert_eq!(rig.reg(CACHE1_DMA_SUBROUTINE) & SUBROUTINE_ACTIVE, 0);
    assert_eq!(rig.reg(CACHE1_DMA_GET), rig.put[0]);
    assert!(!rig.pfifo.pending());
}

#[test]
fn a_nested_call_is_a_pusher_error_the_host_can_step_over() {
    let mut rig = Rig::bound();
    let nested = 0x902;
    rig.words(0, 0x800, &[nested, inc(1, 0x200, 1), 20, 0x0002_0000]);
    rig.words(0, 0x900, &[inc(1, 0x300, 1), 30, 0x0002_0000]);
    rig.submit(&[0x802, inc(1, 0x100, 1), 10]);
    rig.run(1000);
    assert!(rig.engine.calls.is_empty());
    assert_eq!(rig.dma_error(), DMA_ERROR_CALL_SUBR_ACTIVE);
    assert_eq!(rig.reg(INTR_0), INTR_DMA_PUSHER);
    assert!(rig.pfifo.pending());
    assert_ne!(rig.reg(CACHE1_DMA_PUSH) & DMA_PUSH_SUSPENDED, 0);
    assert_eq!(rig.reg(CACHE1_DMA_PUSH) & DMA_PUSH_BUSY, 0);
    assert_eq!(rig.reg(CACHE1_DMA_GET), 0x800, "left at the call");
    assert_eq!(rig.reg(CACHE1_DMA_RSVD_SHADOW), nested);
    assert_eq!(rig.run(1000), 0, "suspended");

    rig.skip_pusher_error();
    assert!(!rig.pfifo.pending());
    rig.run(1000);
    assert_eq!(
        rig.engine.calls,
        [method(0, 1, 0x200, 20), method(0, 1, 0x100, 10)]
    );
}

#[test]
fn a_return_outside_a_subroutine_is_a_pusher_error() {
    let mut rig = Rig::bound();
    rig.submit(&[inc(1, 0x100, 1), 1, 0x0002_0000, inc(1, 0x104, 1), 2]);
    rig.run(1000);
    assert_eq!(rig.engine.calls, [method(0, 1, 0x100, 1)]);
    assert_eq!(rig.dma_error(), DMA_ERROR_RET_SUBR_INACTIVE);
    assert_eq!(rig.reg(CACHE1_DMA_GET), 8);
    rig.skip_pusher_error();
    rig.run(1000);
    assert_eq!(rig.engine.calls.len(), 2);
}

#[test]
fn reserved_command_words_are_invalid_commands() {
    // Long non-increasing (IB mode only), SLI conditional (NV40+), the 011 and 1xx forms, and
    // method headers with bits 16-17 set.
    for word in [
        0x0003_0000,
        0x0001_0000,
        0x6000_0000,
        0x8000_0000,
        0xE000_0000,
        inc(1, 0x100, 1) | 0x0001_0000,
        non_inc(1, 0x100, 1) | 0x0002_0000,
        0x2000_0001 | 0x4000_0000,
    ] {
        let mut rig = Rig::bound();
        rig.submit(&[inc(1, 0x100, 1), 1, word, 2, 3]);
        rig.run(1000);
        if word & 3 != 0 {
            // A jump or call form: not reserved after all.
            continue;
        }
        assert_eq!(rig.dma_error(), DMA_ERROR_INVALID_COMMAND, "{word:#x}");
        assert_eq!(rig.reg(CACHE1_DMA_RSVD_SHADOW), word);
        assert_eq!(rig.reg(CACHE1_DMA_GET), 8, "left at the word");
        assert_eq!(rig.reg(INTR_0), INTR_DMA_PUSHER);
        assert_eq!(rig.engine.calls, [method(0, 1, 0x100, 1)]);
    }
}

#[test]
fn unknown_fifo_methods_are_invalid_method_errors() {
    let mut rig = Rig::bound();
    rig.submit(&[inc(1, 0x100, 1), 1, inc(2, 0x0004, 2), 0xAA, 0xBB]);
    rig.run(1000);
    assert_eq!(rig.dma_error(), DMA_ERROR_INVALID_METHOD);
    assert_eq!(rig.reg(CACHE1_DMA_DATA_SHADOW), 0xAA);
    assert_eq!(rig.reg(CACHE1_DMA_GET), 12, "left at the data word");
    let state = rig.reg(CACHE1_DMA_STATE);
    assert_eq!(
        (state & 0x1FFC, state >> 13 & 7, state >> 18 & 0x7FF),
        (4, 2, 2)
    );
    assert_eq!(rig.engine.calls, [method(0, 1, 0x100, 1)]);
}

#[test]
fn method_zero_binds_the_object_ramht_names() {
    let mut rig = Rig::new();
    let instance = rig.object(0, 5);
    rig.submit(&[inc(6, 0, 1), 0x105, inc(6, 0x180, 1), 0x105]);
    rig.run(1000);
    assert_eq!(
        rig.engine.calls,
        [
            Call::Bind {
                channel: 0,
                subchannel: 6,
                instance,
            },
            // 0x180-0x1FC take handles: the engine gets the instance.
            method(0, 6, 0x180, instance),
        ]
    );
    assert_eq!(rig.reg(CACHE1_ENGINE), ENGINE_GRAPHICS << 24);
    assert_eq!(rig.reg(CACHE1_HASH), instance >> 4 | HASH_VALID);
    assert_eq!(rig.reg(CACHE1_PULL1) & 0xF, ENGINE_GRAPHICS);
}

#[test]
fn a_lookup_probes_past_a_colliding_entry() {
    let mut rig = Rig::new();
    let table = Ramht::from_register(RAMHT_REG);
    // 0x211 folds to 0x11 ^ 1 = 0x10, the same entry as handle 0x10.
    assert_eq!(table.hash(0x211, 0), table.hash(0x10, 0));
    table.insert(&mut rig.pramin, 0, 0x10, 0x14000, ENGINE_GRAPHICS);
    table.insert(&mut rig.pramin, 0, 0x211, 0x15000, ENGINE_GRAPHICS);
    rig.submit(&[inc(0, 0, 1), 0x211, inc(1, 0, 1), 0x10]);
    rig.run(1000);
    assert_eq!(
        rig.engine.calls,
        [
            Call::Bind {
                channel: 0,
                subchannel: 0,
                instance: 0x15000
            },
            Call::Bind {
                channel: 0,
                subchannel: 1,
                instance: 0x14000
            },
        ]
    );
}

#[test]
fn a_missing_handle_is_a_cache_error_that_keeps_the_entry() {
    let mut rig = Rig::bound();
    rig.submit(&[inc(3, 0, 1), 0x999, inc(3, 0x100, 1), 5]);
    rig.run(1000);
    assert!(rig.engine.calls.is_empty());
    assert_eq!(rig.reg(INTR_0), INTR_CACHE_ERROR);
    assert!(rig.pfifo.pending());
    let pull0 = rig.reg(CACHE1_PULL0);
    assert_eq!(
        pull0 & (PULL0_ACCESS | PULL0_HASH_FAILED),
        PULL0_HASH_FAILED
    );
    assert_eq!(rig.reg(CACHE1_HASH), 0);
    assert_eq!(rig.cache_head(), (3 << 13, 0x999));
    // The pusher went on filling CACHE1.
    assert_eq!(rig.reg(CACHE1_DMA_GET), 16);
    assert_eq!(rig.reg(CACHE1_STATUS), 0);

    rig.skip_cache_error();
    rig.run(1000);
    assert_eq!(
        rig.engine.calls,
        [method(0, 3, 0x100, 5)],
        "the old binding stands"
    );
    assert!(!rig.pfifo.pending());
}

#[test]
fn software_objects_and_unbound_subchannels_go_to_the_host() {
    let mut rig = Rig::new();
    let table = Ramht::from_register(RAMHT_REG);
    table.insert(&mut rig.pramin, 0, 0x77, 0x16000, ENGINE_SOFTWARE);
    rig.submit(&[inc(2, 0, 1), 0x77, inc(4, 0x100, 1), 1]);
    rig.run(1000);
    assert_eq!(rig.reg(CACHE1_PULL0), PULL0_DEVICE_SOFTWARE);
    assert_eq!(rig.cache_head(), (2 << 13, 0x77));
    assert_eq!(
        rig.reg(CACHE1_ENGINE),
        0,
        "subchannel 2 is the software engine's"
    );
    rig.skip_cache_error();
    rig.run(1000);
    // Subchannel 4 was never bound.
    assert_eq!(rig.reg(CACHE1_PULL0), PULL0_DEVICE_SOFTWARE);
    assert_eq!(rig.cache_head(), (4 << 13 | 0x100, 1));
    rig.skip_cache_error();
    rig.run(1000);
    assert!(rig.engine.calls.is_empty());
    assert_eq!(rig.reg(CACHE1_STATUS), STATUS_EMPTY);
}

#[test]
fn a_missing_handle_in_a_context_method_is_a_cache_error() {
    let mut rig = Rig::bound();
    rig.submit(&[inc(1, 0x1A0, 1), 0xDEAD]);
    rig.run(1000);
    assert_eq!(rig.reg(CACHE1_PULL0), PULL0_HASH_FAILED);
    assert!(rig.engine.calls.is_empty());
}

#[test]
fn reading_past_the_pushbuffer_limit_is_a_memory_fault() {
    let mut rig = Rig::bound();
    // Jump to the window's last word, a header whose data word lies past the limit.
    rig.words(0, 0, &[(PB_LIMIT - 3) | 1]);
    rig.words(0, PB_LIMIT - 3, &[inc(1, 0x100, 1)]);
    rig.set_put(0, PB_LIMIT + 5);
    rig.run(1000);
    assert_eq!(rig.dma_error(), DMA_ERROR_MEM_FAULT);
    assert_eq!(rig.reg(CACHE1_DMA_GET), PB_LIMIT + 1);
    assert_eq!(
        rig.reg(CACHE1_DMA_STATE) >> 18 & 0x7FF,
        1,
        "the command is still open"
    );
    assert_eq!(rig.reg(INTR_0), INTR_DMA_PUSHER);
    assert!(rig.engine.calls.is_empty());

    // A window that runs off the end of RAM faults too.
    let mut rig = Rig::bound();
    dma_object(
        &mut rig.pramin,
        PB_INSTANCE[0],
        crate::nv2a::dma::CLASS_IN_MEMORY,
        RAM_SIZE as u32 - 8,
        0xFFFF,
    );
    rig.submit(&[inc(1, 0x100, 1), 1, inc(1, 0x100, 1), 2]);
    rig.run(1000);
    assert_eq!(rig.dma_error(), DMA_ERROR_MEM_FAULT);
    assert_eq!(rig.reg(CACHE1_DMA_GET), 8);
}

#[test]
fn cache1_fills_to_128_entries_and_drains() {
    let mut rig = Rig::bound();
    rig.set(CACHE1_PULL0, 0);
    let mut words = vec![non_inc(1, 0x100, 200)];
    words.extend(0..200);
    rig.submit(&words);
    // The header and 128 data words, then the pusher waits.
    assert_eq!(rig.run(10_000), 129);
    assert_eq!(rig.reg(CACHE1_STATUS), STATUS_FULL);
    assert_eq!(rig.reg(CACHE1_DMA_GET), 4 + 128 * 4);
    assert_eq!(rig.reg(CACHE1_DMA_STATE) >> 18 & 0x7FF, 72);
    assert_eq!(rig.run(10_000), 0);

    // A busy engine holds the puller too.
    rig.set(CACHE1_PULL0, PULL0_ACCESS);
    rig.engine.busy = true;
    assert_eq!(rig.run(10_000), 0);
    rig.engine.busy = false;
    assert_eq!(rig.run(10_000), 200 + 72);
    let expected: Vec<Call> = (0..200).map(|p| method(0, 1, 0x100, p)).collect();
    assert_eq!(rig.engine.calls, expected);
    assert_eq!(rig.reg(CACHE1_STATUS), STATUS_EMPTY);
}

#[test]
fn the_cache1_arrays_alias_in_their_upper_half() {
    let mut rig = Rig::new();
    rig.set(CACHE1_DATA + 0x400, 0x1234);
    assert_eq!(rig.reg(CACHE1_DATA), 0x1234);
    rig.set(CACHE1_PUT, 0x204);
    rig.set(CACHE1_GET, 0x004);
    assert_eq!(rig.reg(CACHE1_STATUS), STATUS_FULL);
}

/// Channel 1's pushbuffer object and an empty context in its RAMFC slot; both channels in
/// DMA mode.
fn two_channels() -> Rig {
    let mut rig = Rig::bound();
    rig.set(MODE, 3);
    let slot = RAMFC_BASE + 64;
    write_u32(&mut rig.pramin, slot + 0x0C, PB_INSTANCE[1] >> 4);
    rig.object(1, 9);
    rig
}

#[test]
fn a_put_on_another_channel_switches_through_ramfc() {
    let mut rig = two_channels();
    rig.submit(&[inc(0, METHOD_REF_CNT, 1), 5, inc(1, 0x100, 1), 1]);
    rig.run(1000);
    assert_eq!(rig.engine.calls, [method(0, 1, 0x100, 1)]);

    // Channel 1 binds its own object and sends a method.
    rig.submit_on(1, &[inc(2, 0, 1), 0x109, inc(2, 0x300, 1), 3]);
    assert_eq!(rig.reg(DMA), 2, "channel 1 pending");
    assert_eq!(rig.user(1, USER_DMA_PUT), 16, "kept in RAMFC");
    assert_eq!(rig.pfifo.active_channel(), 0);
    rig.run(1000);
    assert_eq!(rig.pfifo.active_channel(), 1);
    assert_eq!(rig.reg(DMA), 0);
    assert_eq!(rig.reg(CACHE1_PUSH1), 1 | PUSH1_MODE_DMA);
    assert_eq!(
        rig.engine.calls[1..],
        [
            Call::Bind {
                channel: 1,
                subchannel: 2,
                instance: OBJECT_INSTANCE + 16 * 9,
            },
            method(1, 2, 0x300, 3),
        ]
    );
    // Channel 0's context went to its slot; USER reads it from there.
    let slot = RAMFC_BASE;
    assert_eq!(read_u32(&rig.pramin, slot), rig.put[0]);
    assert_eq!(read_u32(&rig.pramin, slot + 4), rig.put[0]);
    assert_eq!(read_u32(&rig.pramin, slot + 8), 5);
    assert_eq!(
        read_u32(&rig.pramin, slot + 0x0C) & 0xFFFF,
        PB_INSTANCE[0] >> 4
    );
    assert_eq!(
        read_u32(&rig.pramin, slot + 0x18),
        0x1111_1111,
        "all bound to PGRAPH"
    );
    assert_eq!(rig.user(0, USER_REF), 5);
    assert_eq!(rig.user(0, USER_DMA_GET), rig.put[0]);
    assert_eq!(rig.user(1, USER_DMA_GET), 16);

    // Back to channel 0: its subchannel bindings come back with it.
    rig.submit(&[inc(1, 0x104, 1), 4]);
    rig.run(1000);
    assert_eq!(rig.pfifo.active_channel(), 0);
    assert_eq!(rig.engine.calls.last(), Some(&method(0, 1, 0x104, 4)));
    assert_eq!(rig.reg(CACHE1_ENGINE), 0x1111_1111);
    assert_eq!(rig.reg(CACHE1_REF), 5);
    assert_eq!(
        read_u32(&rig.pramin, RAMFC_BASE + 64 + 0x18),
        ENGINE_GRAPHICS << 8
    );
}

#[test]
fn no_switch_while_the_active_channel_is_busy_or_reassign_is_off() {
    let mut rig = two_channels();
    rig.set(CACHE1_PULL0, 0);
    rig.submit(&[inc(1, 0x100, 1), 1]);
    rig.submit_on(1, &[inc(2, 0, 1), 0x109]);
    rig.run(1000);
    assert_eq!(rig.pfifo.active_channel(), 0, "CACHE1 still holds a method");
    rig.set(CACHE1_PULL0, PULL0_ACCESS);
    rig.set(CACHES, 0);
    rig.run(1000);
    assert_eq!(rig.pfifo.active_channel(), 0, "reassignment disabled");
    rig.set(CACHES, CACHES_REASSIGN);
    rig.run(1000);
    assert_eq!(rig.pfifo.active_channel(), 1);
    // A channel in PIO mode takes no DMA_PUT.
    rig.pfifo
        .user_write(&mut rig.pramin, 5 << 16 | USER_DMA_PUT, 4, 0x40);
    assert_eq!(rig.reg(DMA), 0);
    assert_eq!(rig.user(5, USER_DMA_PUT), 0);
}

#[test]
fn the_ref_counter_follows_ref_cnt_once_the_engine_is_idle() {
    let mut rig = Rig::bound();
    rig.submit(&[inc(1, METHOD_REF_CNT, 1), 42]);
    rig.engine.busy = true;
    rig.run(1000);
    assert_eq!(rig.user(0, USER_REF), 0);
    rig.engine.busy = false;
    rig.run(1000);
    assert_eq!(rig.user(0, USER_REF), 42);
    assert_eq!(rig.reg(CACHE1_REF), 42);
    // USER's registers repeat in each subchannel's window and take byte reads.
    assert_eq!(rig.pfifo.user_read(&rig.pramin, 0x6000 | USER_REF, 1), 42);
    assert_eq!(
        rig.pfifo.user_read(&rig.pramin, 0x6000 | USER_REF | 1, 1),
        0
    );
    assert!(rig.engine.calls.is_empty(), "REF_CNT is PFIFO's");
}

#[test]
fn the_budget_bounds_a_pushbuffer_that_jumps_to_itself() {
    let mut rig = Rig::bound();
    rig.words(0, 0, &[0x0000_0001]);
    rig.set_put(0, 8);
    assert_eq!(rig.run(1000), 1000);
    assert_eq!(rig.run(7), 7);
    assert_eq!(rig.reg(CACHE1_DMA_GET), 0);
    // The host can still stop it.
    rig.set(CACHE1_DMA_PUSH, 0);
    assert_eq!(rig.run(1000), 0);
}

#[test]
fn the_budget_splits_work_across_calls() {
    let mut rig = Rig::bound();
    let mut words = vec![inc(1, 0x100, 20)];
    words.extend(0..20);
    rig.submit(&words);
    let mut total = 0;
    loop {
        let done = rig.run(3);
        assert!(done <= 3);
        total += done;
        if done < 3 {
            break;
        }
    }
    assert_eq!(total, 21 + 20);
    assert_eq!(rig.engine.calls.len(), 20);
}

#[test]
fn an_engine_error_is_the_engines_to_report() {
    let mut rig = Rig::bound();
    rig.engine.refuse.push((0x104, EngineError::InvalidMethod));
    rig.submit(&[inc(1, 0x100, 3), 1, 2, 3]);
    rig.run(1000);
    // The refused method is consumed; the puller is not at fault and runs on (a real engine
    // holds it by reporting busy until its own interrupt is handled).
    assert_eq!(rig.reg(INTR_0), 0, "no CACHE_ERROR");
    assert_eq!(rig.reg(CACHE1_PULL0), 1, "still pulling");
    assert_eq!(rig.engine.calls.last(), Some(&method(0, 1, 0x108, 3)));

    // An engine without an object on the subchannel: reported like a software method.
    let mut rig = Rig::bound();
    rig.engine.refuse.push((0x100, EngineError::NoObject));
    rig.submit(&[inc(1, 0x100, 1), 1]);
    rig.run(1000);
    assert_eq!(rig.reg(CACHE1_PULL0), PULL0_DEVICE_SOFTWARE);
    assert_eq!(rig.cache_head(), (1 << 13 | 0x100, 1));
}

#[test]
fn interrupts_reach_the_line_only_when_enabled() {
    let mut rig = Rig::bound();
    rig.set(INTR_EN_0, 0);
    rig.submit(&[0x0003_0000]);
    rig.run(1000);
    assert_eq!(rig.reg(INTR_0), INTR_DMA_PUSHER);
    assert!(!rig.pfifo.pending());
    rig.set(INTR_EN_0, INTR_CACHE_ERROR);
    assert!(!rig.pfifo.pending());
    rig.set(INTR_EN_0, 0xFFFF_FFFF);
    assert_eq!(rig.reg(INTR_EN_0), 0x0111_1111, "only the defined bits");
    assert!(rig.pfifo.pending());
    // INTR_0 is write-one-to-clear, bytes included: byte 1 holds bit 12.
    rig.pfifo.write(INTR_0, 4, INTR_CACHE_ERROR);
    assert!(rig.pfifo.pending());
    rig.pfifo.write(INTR_0 + 1, 1, 0x10);
    assert_eq!(rig.reg(INTR_0), 0);
    assert!(!rig.pfifo.pending());
}

#[test]
fn registers_take_byte_and_word_accesses() {
    let mut rig = Rig::new();
    rig.pfifo.write(CACHE1_REF + 2, 2, 0xBEEF);
    rig.pfifo.write(CACHE1_REF, 1, 0x12);
    assert_eq!(rig.reg(CACHE1_REF), 0xBEEF_0012);
    assert_eq!(rig.pfifo.read(CACHE1_REF + 3, 1), 0xBE);
    assert_eq!(rig.pfifo.read(CACHE1_STATUS, 1), STATUS_EMPTY);
    assert_eq!(rig.pfifo.read(RUNOUT_STATUS, 1), STATUS_EMPTY);
    assert_eq!(rig.pfifo.read(0x2000, 4), 0, "outside the block");
    rig.pfifo.write(0x2000, 4, 1);
    // Read-only and masked registers.
    rig.set(CACHE1_STATUS, 0xFFFF_FFFF);
    assert_eq!(rig.reg(CACHE1_STATUS), STATUS_EMPTY);
    rig.set(CACHE1_DMA_PUT, 0x1003);
    assert_eq!(rig.reg(CACHE1_DMA_PUT), 0x1000);
    // Plain storage for what is not modelled (timeslices, CACHE0).
    rig.set(DMA_TIMESLICE, 0x0101_FFFF);
    rig.set(CACHE0_METHOD, 0x1234);
    assert_eq!(rig.reg(DMA_TIMESLICE), 0x0101_FFFF);
    assert_eq!(rig.reg(CACHE0_METHOD), 0x1234);
}

#[test]
fn big_endian_pushbuffers_are_byte_swapped() {
    let mut rig = Rig::bound();
    rig.set(CACHE1_DMA_FETCH, DMA_FETCH_BIG_ENDIAN);
    rig.submit(&[inc(1, 0x100, 1).swap_bytes(), 0x1122_3344]);
    rig.run(1000);
    assert_eq!(rig.engine.calls, [method(0, 1, 0x100, 0x4433_2211)]);
}

#[test]
fn semaphores_release_and_acquire_through_their_dma_object() {
    let mut rig = Rig::bound();
    let object = 0x17000;
    dma_object(
        &mut rig.pramin,
        object,
        crate::nv2a::dma::CLASS_IN_MEMORY,
        0x30_0000,
        0xFFF,
    );
    Ramht::from_register(RAMHT_REG).insert(&mut rig.pramin, 0, 0x55, object, ENGINE_GRAPHICS);
    rig.submit(&[
        inc(0, METHOD_DMA_SEMAPHORE, 2),
        0x55,
        0x10,
        inc(0, METHOD_SEMAPHORE_RELEASE, 1),
        0xABCD,
        inc(0, METHOD_SEMAPHORE_ACQUIRE, 1),
        7,
        inc(1, 0x100, 1),
        9,
    ]);
    rig.run(1000);
    assert_eq!(read_u32(&rig.ram, 0x30_0010), 0xABCD);
    assert_eq!(
        rig.reg(CACHE1_SEMAPHORE),
        0x30_0000 | 0x10 | SEMAPHORE_VALID
    );
    assert!(rig.engine.calls.is_empty(), "waiting on the acquire");
    assert_ne!(rig.reg(CACHE1_PULL0) & PULL0_ACQUIRE_BUSY, 0);
    assert_eq!(rig.reg(CACHE1_ACQUIRE_VALUE), 7);
    assert!(!rig.pfifo.pending());
    write_u32(&mut rig.ram, 0x30_0010, 7);
    rig.run(1000);
    assert_eq!(rig.engine.calls, [method(0, 1, 0x100, 9)]);
    assert_eq!(rig.reg(CACHE1_PULL0), PULL0_ACCESS);
}

#[test]
fn semaphore_misuse_raises_semaphore_errors() {
    let mut rig = Rig::bound();
    rig.submit(&[inc(0, METHOD_SEMAPHORE_RELEASE, 1), 1, inc(1, 0x100, 1), 2]);
    rig.run(1000);
    assert_eq!(rig.reg(INTR_0), INTR_SEMAPHORE);
    assert_eq!(rig.reg(CACHE1_PULL0), PULL0_SEMAPHORE_INVALID_STATE);
    // The method was consumed: re-enabling the puller moves on.
    rig.set(INTR_0, INTR_SEMAPHORE);
    rig.set(CACHE1_PULL0, PULL0_ACCESS);
    rig.run(1000);
    assert_eq!(rig.engine.calls, [method(0, 1, 0x100, 2)]);

    rig.submit(&[inc(0, METHOD_SEMAPHORE_OFFSET, 1), 0x1000]);
    rig.run(1000);
    assert_eq!(rig.reg(CACHE1_PULL0), PULL0_SEMAPHORE_INVALID_OPERAND);
}

#[test]
fn a_saved_state_resumes_identically() {
    let mut a = two_channels();
    a.set(CACHE1_PULL0, 0);
    a.words(0, 0x800, &[inc(1, 0x200, 3), 20, 21, 22, 0x0002_0000]);
    a.submit(&[0x802, inc(1, 0x100, 2), 10, 11]);
    a.submit_on(1, &[inc(2, 0, 1), 0x109, inc(2, 0x300, 1), 3]);
    a.run(3);
    assert_eq!(a.reg(CACHE1_DMA_SUBROUTINE) & SUBROUTINE_ACTIVE, 1);

    let mut saved = Vec::new();
    a.pfifo.state(&mut State::saving(&mut saved));
    assert_eq!(saved.len(), 0x2000, "fixed size");
    let mut b = Rig::new();
    b.ram.clone_from(&a.ram);
    b.pramin.clone_from(&a.pramin);
    let mut load = State::loading(&saved);
    b.pfifo.state(&mut load);
    assert_eq!(load.remaining(), 0);
    for offset in (0..0x2000).step_by(4) {
        assert_eq!(a.reg(offset), b.reg(offset), "register {offset:#x}");
    }
    for rig in [&mut a, &mut b] {
        rig.set(CACHE1_PULL0, PULL0_ACCESS);
        rig.run(1000);
    }
    assert_eq!(a.engine.calls, b.engine.calls);
    assert_eq!(a.engine.calls.len(), 7);
    assert_eq!(a.pfifo.active_channel(), 1);
    assert_eq!(a.pramin, b.pramin);
}

/// xorshift64*: a small deterministic generator for the fuzz test.
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
}

/// A word that is usually a well-formed command, sometimes anything.
fn fuzz_word(rng: &mut Rng) -> u32 {
    let method = rng.below(0x800) << 2;
    let sub = rng.below(8);
    match rng.below(10) {
        0 => inc(sub, method, rng.below(0x800)),
        1 => non_inc(
            sub,
            [0, 0x50, 0x60, 0x64, 0x68, 0x6C, 0x100][rng.below(7) as usize],
            rng.below(4),
        ),
        2 => inc(sub, 0x100 + (method & 0xFFC), rng.below(8)),
        3 => 0x2000_0000 | rng.below(0x2_0000) << 2,
        4 => (rng.below(0x2_0000) << 2) | (1 + rng.below(2)),
        5 => 0x0002_0000,
        6 => rng.below(0x200),
        _ => rng.next(),
    }
}

#[test]
fn random_pushbuffers_and_register_writes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..300 {
        let mut rig = Rig::bound();
        // Small memories so that guest pointers often land outside them.
        rig.ram = vec![0; 1 << 20];
        rig.pramin.truncate(0x20000);
        for instance in PB_INSTANCE {
            dma_object(
                &mut rig.pramin,
                instance,
                crate::nv2a::dma::CLASS_IN_MEMORY,
                rng.below(1 << 20) & !3,
                rng.next() >> rng.below(32),
            );
        }
        let pb = (read_u32(&rig.pramin, PB_INSTANCE[0] as usize + 8)
            | read_u32(&rig.pramin, PB_INSTANCE[0] as usize) >> 20) as usize;
        for i in 0..0x400 {
            let word = fuzz_word(&mut rng);
            write_u32(&mut rig.ram, pb + 4 * i, word);
        }
        for _ in 0..64 {
            let at = rng.below(0x20000) & !3;
            let word = rng.next();
            write_u32(&mut rig.pramin, at as usize, word);
        }
        rig.engine
            .refuse
            .push((rng.below(0x800) << 2, EngineError::InvalidData));
        rig.engine
            .refuse
            .push((rng.below(0x800) << 2, EngineError::NoObject));
        for step in 0..40 {
            match rng.below(6) {
                0 => {
                    let offset = rng.below(0x2000);
                    let size = [1, 2, 4][rng.below(3) as usize];
                    let value = rng.next();
                    rig.pfifo.write(offset, size, value);
                }
                1 => {
                    let offset = [
                        CACHE1_DMA_GET,
                        CACHE1_DMA_STATE,
                        CACHE1_DMA_SUBROUTINE,
                        CACHE1_PUT,
                        CACHE1_GET,
                        CACHE1_PUSH1,
                        CACHE1_ENGINE,
                        CACHE1_PULL1,
                        CACHE1_SEMAPHORE,
                        RAMHT,
                        RAMFC,
                        MODE,
                        DMA,
                    ][rng.below(13) as usize];
                    let value = rng.next();
                    rig.set(offset, value);
                }
                2 => {
                    let offset = rng.below(0x40_0000);
                    let value = rng.next() & 0xFFFC;
                    rig.pfifo.user_write(&mut rig.pramin, offset, 4, value);
                }
                3 => {
                    // Keep the pushers going.
                    rig.set(CACHE1_DMA_PUSH, DMA_PUSH_ACCESS);
                    rig.set(CACHE1_PULL0, PULL0_ACCESS);
                    rig.set(CACHE1_PUSH0, 1);
                    rig.set(INTR_0, 0xFFFF_FFFF);
                }
                4 => rig.engine.busy = rng.below(4) == 0,
                _ => {
                    let offset = rng.below(0x40_0000);
                    let _ = rig.pfifo.user_read(&rig.pramin, offset, 4);
                    let _ = rig.pfifo.read(offset & 0x3FFF, 4);
                }
            }
            let budget = rng.below(300);
            let done = rig.run(budget);
            assert!(done <= budget, "round {round} step {step}");
            let _ = rig.pfifo.pending();
            let _ = rig.pfifo.has_work();
        }
        // A state of arbitrary bytes loads and runs too.
        let garbage: Vec<u8> = (0..0x2000).map(|_| rng.next() as u8).collect();
        rig.pfifo.state(&mut State::loading(&garbage));
        rig.run(500);
    }
}
