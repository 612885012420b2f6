//! The state of an Xbox gamepad (the "Duke" and the Controller S report the same thing), in the
//! controller's own terms. Frontends translate their input into this; the machine reads it.

/// Number of controller ports on the front of the console.
pub const PORTS: usize = 4;

/// The digital buttons, as bits of [`Gamepad::buttons`] (the XID report's bit order).
pub mod button {
    pub const DPAD_UP: u16 = 1 << 0;
    pub const DPAD_DOWN: u16 = 1 << 1;
    pub const DPAD_LEFT: u16 = 1 << 2;
    pub const DPAD_RIGHT: u16 = 1 << 3;
    pub const START: u16 = 1 << 4;
    pub const BACK: u16 = 1 << 5;
    pub const LEFT_THUMB: u16 = 1 << 6;
    pub const RIGHT_THUMB: u16 = 1 << 7;
}

/// The pressure-sensitive buttons: indexes into [`Gamepad::analog`] (the XID report's order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Analog {
    A = 0,
    B = 1,
    X = 2,
    Y = 3,
    Black = 4,
    White = 5,
    LeftTrigger = 6,
    RightTrigger = 7,
}

impl Analog {
    pub const ALL: [Analog; 8] = [
        Analog::A,
        Analog::B,
        Analog::X,
        Analog::Y,
        Analog::Black,
        Analog::White,
        Analog::LeftTrigger,
        Analog::RightTrigger,
    ];

    /// The label printed on the controller.
    pub fn label(self) -> &'static str {
        match self {
            Analog::A => "A",
            Analog::B => "B",
            Analog::X => "X",
            Analog::Y => "Y",
            Analog::Black => "Black",
            Analog::White => "White",
            Analog::LeftTrigger => "LT",
            Analog::RightTrigger => "RT",
        }
    }
}

/// One controller's state. Stick axes follow the controller: x grows to the right and
/// **y grows upwards**.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gamepad {
    /// Whether a controller is plugged into the port.
    pub connected: bool,
    /// Digital buttons, see [`button`].
    pub buttons: u16,
    /// Pressure of each [`Analog`] button, 0 (released) to 255 (fully pressed).
    pub analog: [u8; 8],
    pub left_stick: [i16; 2],
    pub right_stick: [i16; 2],
}

impl Gamepad {
    pub fn pressure(&self, button: Analog) -> u8 {
        self.analog[button as usize]
    }
}

/// The two rumble motors of a controller, 0 (off) to 0xFFFF (full): the left one is the heavy,
/// low-frequency motor, the right one the light, high-frequency motor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rumble {
    pub left: u16,
    pub right: u16,
}
