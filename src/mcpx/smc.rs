//! The System Management Controller (a PIC16LC at SMBus address 0x10): version string, power
//! control, DVD tray and AV pack sensing, LEDs and fan, temperatures, and the interrupt reasons
//! it signals to the kernel.

use super::adm1032;
use super::smbus::SmbusDevice;
use crate::machine::state::{Snapshot, State};

// Registers.
const VERSION: u8 = 0x01;
const POWER: u8 = 0x02;
const TRAY: u8 = 0x03;
const AV_PACK: u8 = 0x04;
const CPU_TEMPERATURE: u8 = 0x09;
const BOARD_TEMPERATURE: u8 = 0x0A;
const ERROR_WRITE: u8 = 0x0E;
const ERROR_READ: u8 = 0x0F;
const INTERRUPT_REASON: u8 = 0x11;
const SCRATCH: u8 = 0x1B;
const CHALLENGE: u8 = 0x1C;

/// What the challenge registers 0x1C-0x1F read; the kernel only needs them non-zero.
const CHALLENGE_BYTES: [u8; 4] = [0x52, 0x72, 0xEA, 0x46];

// Power register bits.
const POWER_RESET: u8 = 0x01;
const POWER_CYCLE: u8 = 0x40;
const POWER_OFF: u8 = 0x80;

// Interrupt reason bits.
const REASON_POWER_BUTTON: u8 = 0x01;
const REASON_TRAY_CLOSED: u8 = 0x02;
const REASON_TRAY_OPENING: u8 = 0x04;
const REASON_EJECT_BUTTON: u8 = 0x20;

/// The scratch bit the kernel reads to skip the boot animation.
const SCRATCH_SHORT_ANIMATION: u8 = 0x04;

/// Registers that simply keep what the guest writes (fan, LEDs, interrupt enable, scratch,
/// error code and the rest): 0x00-0x1F.
const KEPT: usize = 0x20;

const VERSION_LEN: usize = 3;

/// The AV cable plugged into the console, as the SMC reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AvPack {
    Scart,
    Hdtv,
    Vga,
    Rfu,
    SVideo,
    Composite,
    None,
}

impl AvPack {
    pub fn code(self) -> u8 {
        match self {
            AvPack::Scart => 0x00,
            AvPack::Hdtv => 0x01,
            AvPack::Vga => 0x02,
            AvPack::Rfu => 0x03,
            AvPack::SVideo => 0x04,
            AvPack::Composite => 0x06,
            AvPack::None => 0x07,
        }
    }
}

/// The DVD tray as the SMC reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrayState {
    Open,
    ClosedEmpty,
    ClosedWithMedia,
}

impl TrayState {
    fn code(self) -> u8 {
        match self {
            TrayState::Open => 0x10,
            TrayState::ClosedEmpty => 0x40,
            TrayState::ClosedWithMedia => 0x60,
        }
    }
}

/// What the guest asked of the power register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerRequest {
    Reset,
    PowerCycle,
    PowerOff,
}

impl PowerRequest {
    const ALL: [PowerRequest; 3] = [
        PowerRequest::Reset,
        PowerRequest::PowerCycle,
        PowerRequest::PowerOff,
    ];
}

pub struct Smc {
    version: [u8; VERSION_LEN],
    /// The next version character a read returns.
    version_index: usize,
    pointer: u8,
    kept: [u8; KEPT],
    tray: u8,
    av_pack: u8,
    interrupt_reason: u8,
    power_request: Option<PowerRequest>,
}

impl Smc {
    pub const ADDRESS: u8 = 0x10;

    pub fn new(version: [u8; VERSION_LEN], av_pack: AvPack, short_animation: bool) -> Smc {
        let mut kept = [0; KEPT];
        if short_animation {
            kept[usize::from(SCRATCH)] = SCRATCH_SHORT_ANIMATION;
        }
        Smc {
            version,
            version_index: 0,
            pointer: 0,
            kept,
            tray: TrayState::ClosedEmpty.code(),
            av_pack: av_pack.code(),
            interrupt_reason: 0,
            power_request: None,
        }
    }

    pub fn take_power_request(&mut self) -> Option<PowerRequest> {
        self.power_request.take()
    }

    pub fn power_request_pending(&self) -> bool {
        self.power_request.is_some()
    }

    /// Reports the tray's new state, with the interrupt reason for the change.
    pub fn set_tray(&mut self, state: TrayState) {
        if self.tray == state.code() {
            return;
        }
        self.tray = state.code();
        self.interrupt_reason |= if state == TrayState::Open {
            REASON_TRAY_OPENING
        } else {
            REASON_TRAY_CLOSED
        };
    }

    pub fn press_power_button(&mut self) {
        self.interrupt_reason |= REASON_POWER_BUTTON;
    }

    pub fn press_eject_button(&mut self) {
        self.interrupt_reason |= REASON_EJECT_BUTTON;
    }

    /// Whether an interrupt reason awaits the kernel (the board signals it as EXTSMI).
    pub fn interrupt_pending(&self) -> bool {
        self.interrupt_reason != 0
    }
}

impl SmbusDevice for Smc {
    fn read_register(&mut self, register: u8) -> u8 {
        match register {
            VERSION => {
                let c = self.version[self.version_index];
                self.version_index = (self.version_index + 1) % VERSION_LEN;
                c
            }
            TRAY => self.tray,
            AV_PACK => self.av_pack,
            CPU_TEMPERATURE => adm1032::CPU_CELSIUS,
            BOARD_TEMPERATURE => adm1032::BOARD_CELSIUS,
            ERROR_READ => self.kept[usize::from(ERROR_WRITE)],
            INTERRUPT_REASON => std::mem::take(&mut self.interrupt_reason),
            CHALLENGE..=0x1F => CHALLENGE_BYTES[usize::from(register - CHALLENGE)],
            _ => self.kept.get(usize::from(register)).copied().unwrap_or(0),
        }
    }

    fn write_register(&mut self, register: u8, value: u8) {
        match register {
            // Any write rewinds the version string.
            VERSION => self.version_index = 0,
            POWER => {
                let request = if value & POWER_RESET != 0 {
                    PowerRequest::Reset
                } else if value & POWER_CYCLE != 0 {
                    PowerRequest::PowerCycle
                } else if value & POWER_OFF != 0 {
                    PowerRequest::PowerOff
                } else {
                    return;
                };
                self.power_request = Some(request);
            }
            _ => {
                if let Some(kept) = self.kept.get_mut(usize::from(register)) {
                    *kept = value;
                }
            }
        }
    }

    fn pointer(&mut self) -> &mut u8 {
        &mut self.pointer
    }
}

impl Snapshot for Smc {
    fn state(&mut self, s: &mut State) {
        s.bytes(&mut self.version);
        s.index(&mut self.version_index, VERSION_LEN);
        s.u8(&mut self.pointer);
        s.bytes(&mut self.kept);
        s.u8(&mut self.tray);
        s.u8(&mut self.av_pack);
        s.u8(&mut self.interrupt_reason);
        // 0 for none, else 1 + the request's position in ALL.
        let mut request = self.power_request.map_or(0, |r| {
            1 + PowerRequest::ALL.iter().position(|&x| x == r).unwrap_or(0) as u8
        });
        s.u8(&mut request);
        self.power_request = usize::from(request)
            .checked_sub(1)
            .and_then(|i| PowerRequest::ALL.get(i).copied());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::state::Snapshot;

    fn smc() -> Smc {
        Smc::new(*b"P2L", AvPack::Composite, true)
    }

    #[test]
    fn version_string_goes_round_and_a_write_rewinds_it() {
        let mut smc = smc();
        let read: Vec<u8> = (0..7).map(|_| smc.read_byte(VERSION)).collect();
        assert_eq!(read, b"P2LP2LP");
        smc.write_byte(VERSION, 0);
        assert_eq!(smc.read_byte(VERSION), b'P');
        // Receive byte keeps reading register 1 only while the pointer stays there.
        smc.send_byte(VERSION);
        assert_eq!(smc.receive_byte(), b'2');
        smc.receive_byte();
        assert_eq!(
            smc.receive_byte(),
            0x40,
            "register 3: the tray, closed and empty"
        );
    }

    #[test]
    fn interrupt_reason_clears_on_read() {
        let mut smc = smc();
        assert!(!smc.interrupt_pending());
        smc.press_power_button();
        smc.set_tray(TrayState::Open);
        smc.press_eject_button();
        assert!(smc.interrupt_pending());
        assert_eq!(smc.read_byte(INTERRUPT_REASON), 0x01 | 0x04 | 0x20);
        assert_eq!(smc.read_byte(INTERRUPT_REASON), 0);
        assert!(!smc.interrupt_pending());
        assert_eq!(smc.read_byte(TRAY), 0x10);
        smc.set_tray(TrayState::ClosedWithMedia);
        assert_eq!(smc.read_byte(TRAY), 0x60);
        assert_eq!(smc.read_byte(INTERRUPT_REASON), 0x02);
        // No change, no interrupt.
        smc.set_tray(TrayState::ClosedWithMedia);
        assert!(!smc.interrupt_pending());
    }

    #[test]
    fn power_requests() {
        let mut smc = smc();
        assert_eq!(smc.take_power_request(), None);
        smc.write_byte(POWER, 0x00);
        assert_eq!(smc.take_power_request(), None);
        for (value, request) in [
            (0x01, PowerRequest::Reset),
            (0x41, PowerRequest::Reset),
            (0x40, PowerRequest::PowerCycle),
            (0x80, PowerRequest::PowerOff),
        ] {
            smc.write_byte(POWER, value);
            assert_eq!(smc.take_power_request(), Some(request));
            assert_eq!(smc.take_power_request(), None);
        }
    }

    #[test]
    fn fixed_and_kept_registers() {
        let mut smc = smc();
        assert_eq!(smc.read_byte(AV_PACK), 0x06);
        assert_eq!(smc.read_byte(SCRATCH), SCRATCH_SHORT_ANIMATION);
        assert_eq!(Smc::new(*b"P01", AvPack::Hdtv, false).read_byte(SCRATCH), 0);
        assert_eq!(smc.read_byte(CPU_TEMPERATURE), adm1032::CPU_CELSIUS);
        assert_eq!(smc.read_byte(BOARD_TEMPERATURE), adm1032::BOARD_CELSIUS);
        let challenge: Vec<u8> = (0x1C..=0x1F).map(|r| smc.read_byte(r)).collect();
        assert_eq!(challenge, CHALLENGE_BYTES);
        // LED mode and sequence, error code, scratch keep their values.
        smc.write_byte(0x07, 0x01);
        smc.write_byte(0x08, 0xF0);
        smc.write_byte(ERROR_WRITE, 0x0E);
        smc.write_byte(SCRATCH, 0x05);
        assert_eq!(smc.read_byte(0x07), 0x01);
        assert_eq!(smc.read_byte(0x08), 0xF0);
        assert_eq!(smc.read_byte(ERROR_READ), 0x0E);
        assert_eq!(smc.read_byte(SCRATCH), 0x05);
        // Writes to the challenge answer registers, and anything past them, are ignored.
        smc.write_byte(0x20, 0x12);
        smc.write_byte(0xFF, 0x12);
        assert_eq!(smc.read_byte(0x20), 0);
        assert_eq!(smc.read_byte(0xFF), 0);
        let av: Vec<u8> = [
            AvPack::Scart,
            AvPack::Hdtv,
            AvPack::Vga,
            AvPack::Rfu,
            AvPack::SVideo,
            AvPack::Composite,
            AvPack::None,
        ]
        .map(AvPack::code)
        .to_vec();
        assert_eq!(av, [0, 1, 2, 3, 4, 6, 7]);
    }

    #[test]
    fn save_and_load() {
        let mut a = smc();
        a.read_byte(VERSION);
        a.write_byte(0x08, 0xAA);
        a.press_eject_button();
        a.write_byte(POWER, POWER_OFF);
        let mut bytes = Vec::new();
        a.state(&mut State::saving(&mut bytes));
        let mut b = Smc::new(*b"XXX", AvPack::None, false);
        b.state(&mut State::loading(&bytes));
        assert_eq!(b.read_byte(VERSION), b'2');
        assert_eq!(b.read_byte(0x08), 0xAA);
        assert_eq!(b.read_byte(AV_PACK), 0x06);
        assert_eq!(b.take_power_request(), Some(PowerRequest::PowerOff));
        assert_eq!(b.read_byte(INTERRUPT_REASON), REASON_EJECT_BUTTON);
        // A hand-made state with out-of-range values loads within range.
        let junk = [0xFFu8; 64];
        let mut c = smc();
        c.state(&mut State::loading(&junk));
        assert_eq!(c.read_byte(VERSION), 0xFF);
        assert_eq!(c.take_power_request(), None);
    }
}
