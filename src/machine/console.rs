//! The running console: the CPU on the board, and how it boots.
//!
//! Two boot paths. With the user's MCPX ROM (or any 512-byte ROM in its place) the CPU starts
//! at the reset vector inside it, exactly as on hardware. Without one, the high-level MCPX
//! (`mcpx::hle`) interprets the flash image's X-codes and continues the way the real ROM does
//! when its second-stage check fails, which is how open flash images boot; a retail flash
//! can not boot that way and stops with a message.
//!
//! Time: the CPU's cycle counter is the clock. One call of [`Console::run_field`] runs until
//! the end of the current video field, the CPU stopping at every device event in between.

use super::board::{Board, BoardConfig};
use super::state::{Snapshot, State};
use super::timing::{FIELD_RATE_DEN, FIELD_RATE_NUM};
use crate::cpu::{Bus, CLOCK_HZ, Cpu, Stop};
use crate::mcpx::hle::{BootRom, Outcome};
use crate::mcpx::smc::PowerRequest;

/// CPU cycles from power-on to the start of field `n` (exact: no drift over any run).
pub fn field_start(n: u64) -> u64 {
    (u128::from(n) * u128::from(CLOCK_HZ) * u128::from(FIELD_RATE_DEN) / u128::from(FIELD_RATE_NUM))
        as u64
}

/// What the console is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The high-level MCPX is running the flash's X-codes.
    Xcodes,
    /// The CPU runs guest code.
    Running,
    /// Stopped for good (until reset), with the reason for the user.
    Stopped(String),
}

pub struct Console {
    pub cpu: Cpu,
    pub board: Board,
    /// The high-level MCPX, when booting without a ROM.
    hle: Option<BootRom>,
    phase: Phase,
    /// Whether the high-level path boots this console (fixed by the configuration).
    high_level: bool,
    /// Lines for the host's log (guest output, boot events).
    log: Vec<String>,
}

impl Console {
    pub fn new(config: BoardConfig) -> Console {
        let high_level = config.mcpx.is_none();
        let mut console = Console {
            cpu: Cpu::new(),
            board: Board::new(config),
            hle: None,
            phase: Phase::Running,
            high_level,
            log: Vec::new(),
        };
        console.power_on();
        console
    }

    /// Reset: the CPU and chipset restart the boot; RAM keeps its contents.
    fn power_on(&mut self) {
        self.cpu.reset();
        self.board.reset();
        if self.high_level {
            self.hle = Some(BootRom::new());
            self.phase = Phase::Xcodes;
        } else {
            self.phase = Phase::Running;
        }
    }

    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// Lines for the host's log since the last call.
    pub fn take_log(&mut self) -> Vec<String> {
        let mut lines = std::mem::take(&mut self.log);
        lines.extend(self.board.take_log());
        lines
    }

    /// Runs until the end of video field `field` (counting from 0).
    pub fn run_field(&mut self, field: u64) {
        let end = field_start(field + 1);
        self.board.schedule_field_end(end);
        loop {
            match self.phase {
                Phase::Xcodes => self.step_xcodes(end),
                Phase::Running => match self.cpu.run(&mut self.board, end) {
                    Stop::Deadline => {}
                    // Nothing runs until an interrupt: skip to the next event.
                    Stop::Halted => {
                        self.cpu.cycles = self.cpu.cycles.max(self.board.next_event().min(end))
                    }
                    Stop::Shutdown => {
                        self.log
                            .push("CPU shutdown (triple fault): the board resets".into());
                        self.power_on();
                    }
                },
                Phase::Stopped(_) => self.cpu.cycles = self.cpu.cycles.max(end),
            }
            if self.board.take_rom_hidden() {
                // Code decoded from the boot ROM is not there any more.
                self.cpu.flush_code();
            }
            match self.board.take_power_request() {
                Some(PowerRequest::Reset | PowerRequest::PowerCycle) => {
                    self.log.push("SMC: reset".into());
                    self.power_on();
                }
                Some(PowerRequest::PowerOff) => {
                    self.log.push("SMC: power off".into());
                    self.phase = Phase::Stopped("The Xbox switched itself off.".into());
                }
                None => {}
            }
            if self.board.run_events(self.cpu.cycles) {
                return;
            }
        }
    }

    /// Runs X-codes until the next event, then follows the ROM's path out of them.
    fn step_xcodes(&mut self, end: u64) {
        let Some(hle) = &mut self.hle else {
            self.phase = Phase::Running;
            return;
        };
        let rom_hidden = |board: &Board| board.pci.rom_hidden();
        match hle.step(&mut self.cpu, &mut self.board, rom_hidden, end) {
            Outcome::Running => {}
            Outcome::FellIntoFlash | Outcome::WrappedToZero => {
                self.hle = None;
                self.phase = Phase::Running;
            }
            Outcome::NeedsMcpxRom(message) => {
                self.log.push(message.into());
                self.hle = None;
                self.phase = Phase::Stopped(message.into());
            }
        }
    }

    /// A CRC of RAM, for determinism checks.
    pub fn ram_crc(&self) -> u32 {
        crc32fast::hash(&self.board.ram)
    }
}

impl Snapshot for Console {
    fn state(&mut self, s: &mut State) {
        self.cpu.state(s);
        self.board.state(s);
        // The phase: 0 X-codes, 1 running, 2 stopped (the message is rebuilt on load).
        let mut phase: u8 = match self.phase {
            Phase::Xcodes => 0,
            Phase::Running => 1,
            Phase::Stopped(_) => 2,
        };
        s.u8(&mut phase);
        let mut message = match &self.phase {
            Phase::Stopped(m) => m.clone().into_bytes(),
            _ => Vec::new(),
        };
        let mut text = [0u8; 256];
        let n = message.len().min(text.len());
        text[..n].copy_from_slice(&message[..n]);
        s.bytes(&mut text);
        let mut hle = self.hle.take().unwrap_or_default();
        hle.state(s);
        if s.is_loading() {
            message = text.split(|&b| b == 0).next().unwrap_or(&[]).to_vec();
            self.phase = match phase {
                0 if self.high_level => Phase::Xcodes,
                2 => Phase::Stopped(String::from_utf8_lossy(&message).into_owned()),
                _ => Phase::Running,
            };
        }
        self.hle = (self.phase == Phase::Xcodes).then_some(hle);
    }
}
