//! The emulated console as seen from outside: configuration in, one video frame, its audio and
//! the controllers' rumble out per call. Nothing here knows about libretro, so the core, the
//! headless runner and the tests all drive the same machine.
//!
//! Until the board can boot, the machine shows the status screen: what Oxbox is, which of the
//! user's files it found, and a live test of the controllers.

pub mod clock;
pub mod state;
pub mod timing;

use crate::firmware::{self, Firmware};
use crate::frame::Frame;
use crate::input::{Analog, Gamepad, PORTS, Rumble};
use crate::screen::status;
use std::path::PathBuf;

/// Everything the machine is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Read-only firmware (the frontend's system directory).
    pub system_dir: Option<PathBuf>,
    /// Per-user writable data (the frontend's save directory).
    pub save_dir: Option<PathBuf>,
    /// The flash BIOS's file name inside the system directory.
    pub flash_file: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            system_dir: None,
            save_dir: None,
            flash_file: firmware::DEFAULT_FLASH_FILE.to_string(),
        }
    }
}

/// What one frame produced.
pub struct FrameOutput<'a> {
    pub video: &'a Frame,
    /// Interleaved stereo samples at [`timing::SAMPLE_RATE`].
    pub audio: &'a [i16],
    pub rumble: [Rumble; PORTS],
}

pub struct Machine {
    config: Config,
    firmware: Firmware,
    frame: u64,
    video: Frame,
    audio: Vec<i16>,
}

impl Machine {
    pub fn new(config: Config) -> Machine {
        let firmware = Firmware::locate(config.system_dir.as_deref(), &config.flash_file);
        Machine {
            config,
            firmware,
            frame: 0,
            video: Frame::new(status::WIDTH, status::HEIGHT, 0),
            audio: Vec::new(),
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

    /// Runs one video frame with the controllers in `pads`.
    pub fn run_frame(&mut self, pads: &[Gamepad; PORTS]) -> FrameOutput<'_> {
        status::draw(&mut self.video, &self.firmware, pads, self.frame);
        // Nothing makes a sound yet: the frame's share of samples is silence.
        self.audio.clear();
        self.audio
            .resize(2 * timing::samples_in_frame(self.frame), 0);
        self.frame += 1;
        FrameOutput {
            video: &self.video,
            audio: &self.audio,
            rumble: pads.map(controller_test_rumble),
        }
    }
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
