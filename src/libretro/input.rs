//! Xbox controllers on the RetroPad: descriptors, the controller list per port, polling, rumble.
//!
//! The face buttons keep their positions: Xbox A (south) is RetroPad B, B (east) is A, X (west)
//! is Y, Y (north) is X. White and Black sit on L and R, the triggers on L2 and R2, Back on
//! Select. Every pressure-sensitive button is read through the analog-button interface and
//! falls back to the digital bit (fully pressed) when the frontend reports no pressure.

use super::env;
use crate::input::{Analog, Gamepad, PORTS, Rumble, button};
use parking_lot::Mutex;
use rust_libretro_sys as sys;
use std::ffi::{CStr, c_uint};
use std::ptr;

/// Our device: the Xbox controller, a subclass of the analog RetroPad (so netplay carries both
/// sticks).
pub const XBOX_CONTROLLER: c_uint =
    ((1 << sys::RETRO_DEVICE_TYPE_SHIFT) | sys::RETRO_DEVICE_ANALOG) as c_uint;

const DIGITAL: [(u32, u16, &CStr); 8] = [
    (sys::RETRO_DEVICE_ID_JOYPAD_UP, button::DPAD_UP, c"D-Pad Up"),
    (
        sys::RETRO_DEVICE_ID_JOYPAD_DOWN,
        button::DPAD_DOWN,
        c"D-Pad Down",
    ),
    (
        sys::RETRO_DEVICE_ID_JOYPAD_LEFT,
        button::DPAD_LEFT,
        c"D-Pad Left",
    ),
    (
        sys::RETRO_DEVICE_ID_JOYPAD_RIGHT,
        button::DPAD_RIGHT,
        c"D-Pad Right",
    ),
    (sys::RETRO_DEVICE_ID_JOYPAD_START, button::START, c"Start"),
    (sys::RETRO_DEVICE_ID_JOYPAD_SELECT, button::BACK, c"Back"),
    (
        sys::RETRO_DEVICE_ID_JOYPAD_L3,
        button::LEFT_THUMB,
        c"Left Thumb",
    ),
    (
        sys::RETRO_DEVICE_ID_JOYPAD_R3,
        button::RIGHT_THUMB,
        c"Right Thumb",
    ),
];

const PRESSURE: [(u32, Analog, &CStr); 8] = [
    (sys::RETRO_DEVICE_ID_JOYPAD_B, Analog::A, c"A"),
    (sys::RETRO_DEVICE_ID_JOYPAD_A, Analog::B, c"B"),
    (sys::RETRO_DEVICE_ID_JOYPAD_Y, Analog::X, c"X"),
    (sys::RETRO_DEVICE_ID_JOYPAD_X, Analog::Y, c"Y"),
    (sys::RETRO_DEVICE_ID_JOYPAD_R, Analog::Black, c"Black"),
    (sys::RETRO_DEVICE_ID_JOYPAD_L, Analog::White, c"White"),
    (
        sys::RETRO_DEVICE_ID_JOYPAD_L2,
        Analog::LeftTrigger,
        c"Left Trigger",
    ),
    (
        sys::RETRO_DEVICE_ID_JOYPAD_R2,
        Analog::RightTrigger,
        c"Right Trigger",
    ),
];

const STICKS: [(u32, u32, &CStr); 4] = [
    (
        sys::RETRO_DEVICE_INDEX_ANALOG_LEFT,
        sys::RETRO_DEVICE_ID_ANALOG_X,
        c"Left Stick X",
    ),
    (
        sys::RETRO_DEVICE_INDEX_ANALOG_LEFT,
        sys::RETRO_DEVICE_ID_ANALOG_Y,
        c"Left Stick Y",
    ),
    (
        sys::RETRO_DEVICE_INDEX_ANALOG_RIGHT,
        sys::RETRO_DEVICE_ID_ANALOG_X,
        c"Right Stick X",
    ),
    (
        sys::RETRO_DEVICE_INDEX_ANALOG_RIGHT,
        sys::RETRO_DEVICE_ID_ANALOG_Y,
        c"Right Stick Y",
    ),
];

/// The controller types offered on every port: an Xbox controller, or nothing.
struct ControllerTypes([sys::retro_controller_description; 2]);

// SAFETY: the list never changes and points only at static strings.
unsafe impl Sync for ControllerTypes {}

/// Frontends keep pointing at the list after the call, so it is static.
static CONTROLLER_TYPES: ControllerTypes = ControllerTypes([
    sys::retro_controller_description {
        desc: c"Xbox Controller".as_ptr(),
        id: XBOX_CONTROLLER,
    },
    sys::retro_controller_description {
        desc: c"None".as_ptr(),
        id: sys::RETRO_DEVICE_NONE,
    },
]);

/// Offers the Xbox controller (or nothing) on each of the four ports.
pub fn declare_controllers() {
    let types = &CONTROLLER_TYPES.0;
    let port = sys::retro_controller_info {
        types: types.as_ptr(),
        num_types: types.len() as c_uint,
    };
    let end = sys::retro_controller_info {
        types: ptr::null(),
        num_types: 0,
    };
    let mut info = [port, port, port, port, end];
    // SAFETY: SET_CONTROLLER_INFO takes an array ending in a zeroed entry; the types are static.
    unsafe {
        env::call(
            sys::RETRO_ENVIRONMENT_SET_CONTROLLER_INFO,
            info.as_mut_ptr(),
        )
    };
}

/// Names every input on every port in the Xbox controller's own words.
pub fn declare_descriptors() {
    let mut list = Vec::new();
    for port in 0..PORTS as c_uint {
        let joypad = |id: u32, name: &CStr| sys::retro_input_descriptor {
            port,
            device: sys::RETRO_DEVICE_JOYPAD,
            index: 0,
            id,
            description: name.as_ptr(),
        };
        list.extend(DIGITAL.iter().map(|&(id, _, name)| joypad(id, name)));
        list.extend(PRESSURE.iter().map(|&(id, _, name)| joypad(id, name)));
        list.extend(
            STICKS
                .iter()
                .map(|&(index, id, name)| sys::retro_input_descriptor {
                    port,
                    device: sys::RETRO_DEVICE_ANALOG,
                    index,
                    id,
                    description: name.as_ptr(),
                }),
        );
    }
    list.push(sys::retro_input_descriptor {
        port: 0,
        device: 0,
        index: 0,
        id: 0,
        description: ptr::null(),
    });
    // SAFETY: SET_INPUT_DESCRIPTORS takes an array ending in a null description; the strings
    // are static.
    unsafe {
        env::call(
            sys::RETRO_ENVIRONMENT_SET_INPUT_DESCRIPTORS,
            list.as_mut_ptr(),
        )
    };
}

/// The device the frontend put on each port (it may say so before a game is loaded).
static DEVICES: Mutex<[c_uint; PORTS]> = Mutex::new([sys::RETRO_DEVICE_JOYPAD; PORTS]);

pub fn set_device(port: usize, device: c_uint) {
    if let Some(slot) = DEVICES.lock().get_mut(port) {
        *slot = device;
    }
}

/// The controllers as the frontend reports them, and the rumble we last sent it.
pub struct Controllers {
    bitmasks: bool,
    rumble: sys::retro_set_rumble_state_t,
    sent: [Rumble; PORTS],
}

impl Controllers {
    /// Asks the frontend for bitmask input and the rumble interface.
    pub fn new() -> Controllers {
        let bitmasks = env::set_flag(sys::RETRO_ENVIRONMENT_GET_INPUT_BITMASKS, true);
        let mut interface = sys::retro_rumble_interface {
            set_rumble_state: None,
        };
        // SAFETY: GET_RUMBLE_INTERFACE fills in a retro_rumble_interface.
        unsafe { env::call(sys::RETRO_ENVIRONMENT_GET_RUMBLE_INTERFACE, &mut interface) };
        Controllers {
            bitmasks,
            rumble: interface.set_rumble_state,
            sent: [Rumble::default(); PORTS],
        }
    }

    /// Polls the frontend and returns every port's controller.
    pub fn poll(&self) -> [Gamepad; PORTS] {
        let callbacks = env::callbacks();
        let (Some(poll), Some(state)) = (callbacks.input_poll, callbacks.input_state) else {
            return [Gamepad::default(); PORTS];
        };
        // SAFETY: frontend callbacks, called on the frontend's thread inside retro_run.
        unsafe { poll() };
        let devices = *DEVICES.lock();
        let mut pads = [Gamepad::default(); PORTS];
        for (port, pad) in pads.iter_mut().enumerate() {
            if devices[port] == sys::RETRO_DEVICE_NONE {
                continue;
            }
            let port = port as c_uint;
            // SAFETY: input_state is a plain query with no pointers.
            let read = |device, index, id| unsafe { state(port, device, index, id) };
            let held: u32 = if self.bitmasks {
                read(
                    sys::RETRO_DEVICE_JOYPAD,
                    0,
                    sys::RETRO_DEVICE_ID_JOYPAD_MASK,
                ) as u16 as u32
            } else {
                (0..16)
                    .filter(|&id| read(sys::RETRO_DEVICE_JOYPAD, 0, id) != 0)
                    .fold(0, |bits, id| bits | 1 << id)
            };
            pad.connected = true;
            for (id, bit, _) in DIGITAL {
                if held & (1 << id) != 0 {
                    pad.buttons |= bit;
                }
            }
            for (id, which, _) in PRESSURE {
                let pressure = read(
                    sys::RETRO_DEVICE_ANALOG,
                    sys::RETRO_DEVICE_INDEX_ANALOG_BUTTON,
                    id,
                );
                pad.analog[which as usize] = pressure_to_u8(pressure, held & (1 << id) != 0);
            }
            let axis = |index, id| read(sys::RETRO_DEVICE_ANALOG, index, id);
            pad.left_stick = stick(axis(0, 0), axis(0, 1));
            pad.right_stick = stick(axis(1, 0), axis(1, 1));
        }
        pads
    }

    /// Passes the motors' state to the frontend, for the ports where it changed.
    pub fn rumble(&mut self, wanted: &[Rumble; PORTS]) {
        let Some(set) = self.rumble else { return };
        for (port, (want, sent)) in wanted.iter().zip(self.sent.iter_mut()).enumerate() {
            if want != sent {
                // SAFETY: the frontend's rumble callback takes plain values.
                unsafe {
                    set(
                        port as c_uint,
                        sys::retro_rumble_effect::RETRO_RUMBLE_STRONG,
                        want.left,
                    );
                    set(
                        port as c_uint,
                        sys::retro_rumble_effect::RETRO_RUMBLE_WEAK,
                        want.right,
                    );
                }
                *sent = *want;
            }
        }
    }
}

/// A frontend pressure (0..=0x7FFF) as the controller's 0..=255, or fully pressed when the
/// frontend reports no pressure but the digital button is held.
fn pressure_to_u8(pressure: i16, held: bool) -> u8 {
    match pressure.max(0) >> 7 {
        0 if held => 255,
        value => value as u8,
    }
}

/// A libretro stick (y grows downwards) in the controller's terms (y grows upwards); full
/// deflection upwards (-32768) saturates to 32767.
fn stick(x: i16, y: i16) -> [i16; 2] {
    [x, y.saturating_neg()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pressure_falls_back_to_the_digital_bit() {
        assert_eq!(pressure_to_u8(0, false), 0);
        assert_eq!(pressure_to_u8(0, true), 255);
        assert_eq!(pressure_to_u8(0x7fff, true), 255);
        assert_eq!(pressure_to_u8(0x4000, false), 128);
        assert_eq!(pressure_to_u8(-5, false), 0);
    }

    #[test]
    fn stick_y_is_flipped_without_overflow() {
        assert_eq!(stick(0, 0), [0, 0]);
        assert_eq!(stick(0, i16::MIN), [0, i16::MAX]);
        assert_eq!(stick(5, i16::MAX), [5, -i16::MAX]);
    }

    #[test]
    fn every_retropad_button_has_one_meaning() {
        let mut ids: Vec<u32> = DIGITAL
            .iter()
            .map(|d| d.0)
            .chain(PRESSURE.iter().map(|p| p.0))
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 16);
    }
}
