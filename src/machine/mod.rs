//! The emulated console as seen from outside: configuration in, one video frame, its audio and
//! the controllers' rumble out per call. Nothing here knows about libretro, so the core, the
//! headless runner and the tests all drive the same machine.
//!
//! Until the board can boot, the machine shows the status screen: what Oxbox is, which of the
//! user's files it found, and a live test of the controllers.

pub mod board;
pub mod clock;
pub mod console;
mod eeprom_file;
pub mod savestate;
pub mod state;
pub mod timing;

use crate::bootrom::{self, BootInfo};
use crate::firmware::{self, Firmware};
use crate::frame::{Frame, Pixels, RawFrame};
use crate::input::{Analog, Gamepad, PORTS, Rumble};
use crate::mcpx::smbus::SmbusConfig;
use crate::mcpx::smc::AvPack;
use crate::mcpx::video_encoder::Encoder;
use crate::screen::status;
use board::{BoardConfig, MCPX_SIZE};
use console::{Console, Phase};
pub use eeprom_file::EepromSettings;
use state::{Snapshot, State};
use std::path::PathBuf;

/// Everything the machine is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Read-only firmware (the frontend's system directory).
    pub system_dir: Option<PathBuf>,
    /// Per-user writable data (the frontend's save directory): the EEPROM lives here.
    pub save_dir: Option<PathBuf>,
    /// The flash BIOS's file name inside the system directory.
    pub flash_file: String,
    /// 64 (retail) or 128 (development kits).
    pub ram_mib: u32,
    pub encoder: Encoder,
    pub av_pack: AvPack,
    /// The SMC's scratch flag that makes the kernel skip its boot animation.
    pub short_animation: bool,
    /// What a newly created EEPROM holds.
    pub eeprom: EepromSettings,
    /// The RTC's time at power-on, in seconds since 2000-01-01 00:00:00 UTC. Fixed, so runs
    /// are reproducible.
    pub rtc_start: u64,
    /// Boot Oxbox's own boot ROM even when there is a flash image (it always boots when
    /// there is none).
    pub builtin_rom: bool,
}

/// 2001-11-15 00:00:00 UTC, the Xbox's North American launch, as seconds since 2000.
pub const DEFAULT_RTC_START: u64 = 59_097_600;

impl Default for Config {
    fn default() -> Config {
        Config {
            system_dir: None,
            save_dir: None,
            flash_file: firmware::DEFAULT_FLASH_FILE.to_string(),
            ram_mib: 64,
            encoder: Encoder::Conexant,
            av_pack: AvPack::Hdtv,
            short_animation: false,
            eeprom: EepromSettings::default(),
            rtc_start: DEFAULT_RTC_START,
            builtin_rom: false,
        }
    }
}

/// What one frame produced.
pub struct FrameOutput<'a> {
    /// The picture: the NV2A's scan-out once the guest has set up the display, else the
    /// status screen.
    pub video: Pixels<'a>,
    /// Interleaved stereo samples at [`timing::SAMPLE_RATE`].
    pub audio: &'a [i16],
    pub rumble: [Rumble; PORTS],
}

pub struct Machine {
    config: Config,
    firmware: Firmware,
    frame: u64,
    video: Frame,
    /// The last scan-out picture, when the guest's display is on.
    scanout: Option<RawFrame>,
    audio: Vec<i16>,
    /// The emulated console: it boots the user's flash, or our boot ROM.
    console: Console,
    /// Where the EEPROM is kept, and why not when it can not be.
    eeprom_file: eeprom_file::EepromFile,
    /// Messages for the user (boot problems), taken by the frontend.
    notices: Vec<String>,
    /// Fixes the layout of this machine's save states.
    fingerprint: u32,
    /// The save state's body length (fixed per configuration), once measured.
    state_body: Option<usize>,
}

impl Machine {
    pub fn new(config: Config) -> Machine {
        let firmware = Firmware::locate(config.system_dir.as_deref(), &config.flash_file);
        let eeprom_file = eeprom_file::EepromFile::open(config.save_dir.as_deref(), &config.eeprom);
        let notices = eeprom_file.notices();
        // The user's flash, or our own boot ROM when there is none (or the options ask).
        let flash = match &firmware.flash {
            Ok(flash) if !config.builtin_rom => flash.data.clone(),
            _ => bootrom::build(&BootInfo::new(&config, &firmware)),
        };
        let console = {
            let mcpx = firmware.mcpx.as_ref().ok().map(|rom| {
                let mut bytes = [0; MCPX_SIZE];
                bytes.copy_from_slice(&rom.data);
                bytes
            });
            Console::new(BoardConfig {
                ram_mib: if config.ram_mib == 128 { 128 } else { 64 },
                flash: flash.clone(),
                mcpx,
                smbus: SmbusConfig {
                    encoder: config.encoder,
                    av_pack: config.av_pack,
                    short_animation: config.short_animation,
                    ..SmbusConfig::new(eeprom_file.contents())
                },
                rtc_start: config.rtc_start,
            })
        };
        let fingerprint = fingerprint(&config, &firmware, &flash);
        Machine {
            config,
            firmware,
            frame: 0,
            video: Frame::new(status::WIDTH, status::HEIGHT, 0),
            scanout: None,
            audio: Vec::new(),
            console,
            eeprom_file,
            notices,
            fingerprint,
            state_body: None,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// What was found of the user's firmware.
    pub fn firmware(&self) -> &Firmware {
        &self.firmware
    }

    /// Frames run since power-on.
    pub fn frame_count(&self) -> u64 {
        self.frame
    }

    pub fn console(&self) -> &Console {
        &self.console
    }

    /// Messages for the user since the last call (boot problems, EEPROM file trouble).
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    /// Lines the guest printed (debug UART and console port) since the last call.
    pub fn take_guest_log(&mut self) -> Vec<String> {
        self.console.take_log()
    }

    /// A CRC-32 of guest RAM, for determinism checks.
    pub fn ram_crc(&self) -> u32 {
        self.console.ram_crc()
    }

    /// Runs one video frame with the controllers in `pads`.
    pub fn run_frame(&mut self, pads: &[Gamepad; PORTS]) -> FrameOutput<'_> {
        let console = &mut self.console;
        let before = console.phase().clone();
        console.run_field(self.frame);
        if let Phase::Stopped(why) = console.phase()
            && before != *console.phase()
        {
            self.notices.push(why.clone());
        }
        if console.board.smbus.take_eeprom_dirty() {
            let contents = *console.board.smbus.eeprom();
            if let Err(why) = self.eeprom_file.store(&contents) {
                self.notices.push(why);
            }
        }
        self.scanout = console.board.nv2a.picture(&console.board.ram);
        // Until the guest sets up the display, the status screen says what the console does,
        // and its controller test drives the rumble motors.
        let mut rumble = [Rumble::default(); PORTS];
        if self.scanout.as_ref().and_then(RawFrame::view).is_none() {
            let line = match console.phase() {
                Phase::Xcodes => "Booting: running the flash's X-codes".to_string(),
                Phase::Running => format!("Running: EIP {:08X}", console.cpu.eip),
                Phase::Stopped(why) => why.clone(),
            };
            status::draw(
                &mut self.video,
                &self.firmware,
                Some(&line),
                pads,
                self.frame,
            );
            rumble = pads.map(controller_test_rumble);
        }
        // Nothing makes a sound yet: the frame's share of samples is silence.
        self.audio.clear();
        self.audio
            .resize(2 * timing::samples_in_frame(self.frame), 0);
        self.frame += 1;
        let video = match self.scanout.as_ref().and_then(RawFrame::view) {
            Some(picture) => picture,
            None => self
                .video
                .as_pixels()
                .expect("the status screen is never empty"),
        };
        FrameOutput {
            video,
            audio: &self.audio,
            rumble,
        }
    }

    fn walk(&mut self, s: &mut State) {
        s.u64(&mut self.frame);
        self.console.state(s);
    }

    /// The size of this machine's save states (fixed for its configuration).
    pub fn state_size(&mut self) -> usize {
        savestate::HEADER_LEN + self.body_len()
    }

    fn body_len(&mut self) -> usize {
        if let Some(n) = self.state_body {
            return n;
        }
        let mut body = Vec::new();
        self.walk(&mut State::saving(&mut body));
        self.state_body = Some(body.len());
        body.len()
    }

    /// Saves the whole machine into `out` (replacing its contents).
    pub fn save_state(&mut self, out: &mut Vec<u8>) {
        out.reserve(self.state_size());
        let fingerprint = self.fingerprint;
        savestate::seal(fingerprint, out, |body| self.walk(&mut State::saving(body)));
    }

    /// Loads a state saved by a machine of the same configuration. Anything wrong with it
    /// is found before the machine changes, which then runs on as if nothing happened.
    pub fn load_state(&mut self, data: &[u8]) -> Result<(), savestate::Error> {
        let expected = self.body_len();
        let body = savestate::open(self.fingerprint, expected, data)?;
        let mut s = State::loading(body);
        self.walk(&mut s);
        Ok(())
    }
}

/// What a save state depends on beyond its own bytes: the format of the walk (RAM size, the
/// flash image's size and the boot path) and the firmware it runs (the user's flash or our
/// boot ROM, and the MCPX ROM if any).
fn fingerprint(config: &Config, firmware: &Firmware, flash: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&config.ram_mib.to_le_bytes());
    h.update(flash);
    match &firmware.mcpx {
        Ok(rom) => h.update(&rom.data),
        Err(_) => h.update(b"high-level MCPX"),
    }
    h.finalize()
}

/// The status screen's controller test: each trigger drives the motor on its side.
fn controller_test_rumble(pad: Gamepad) -> Rumble {
    let motor = |button| u16::from(pad.pressure(button)) * 0x101;
    Rumble {
        left: motor(Analog::LeftTrigger),
        right: motor(Analog::RightTrigger),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_drive_the_motors_on_their_side() {
        let mut machine = Machine::new(Config::default());
        let mut pads = [Gamepad::default(); PORTS];
        pads[2].connected = true;
        pads[2].analog[Analog::LeftTrigger as usize] = 255;
        pads[2].analog[Analog::RightTrigger as usize] = 0x80;
        let out = machine.run_frame(&pads);
        assert_eq!(
            out.rumble[2],
            Rumble {
                left: 0xFFFF,
                right: 0x8080
            }
        );
        assert_eq!(out.rumble[0], Rumble::default());
    }

    #[test]
    fn audio_follows_the_field_rate() {
        let mut machine = Machine::new(Config::default());
        let pads = [Gamepad::default(); PORTS];
        let total: usize = (0..5).map(|_| machine.run_frame(&pads).audio.len()).sum();
        assert_eq!(total, 2 * 4004);
        assert_eq!(machine.frame_count(), 5);
    }
}
