//! Scripted controller input for the runner.
//!
//! One event per line (or per `--press`): `FRAMES PORT CONTROL[=VALUE]`, where FRAMES is `N` or
//! `N-M` (inclusive, counting from 0), PORT counts from 0 and CONTROL is an Xbox control:
//! `a b x y black white lt rt` (pressure 1-255; without a value only the digital button is
//! reported, as with a pad that has no pressure sensors), `back start ls rs up down left right`,
//! or a stick axis `lx ly rx ry` with a libretro value (-32768..32767, y grows downwards).
//! `#` starts a comment.

use rust_libretro_sys as sys;
use std::ffi::c_uint;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Control {
    /// A RetroPad button, with pressure 0..=0x7FFF when the script gives one.
    Button(u32, Option<i16>),
    /// A stick axis: (stick index, axis id, value).
    Axis(u32, u32, i16),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Event {
    first: u64,
    last: u64,
    port: usize,
    control: Control,
}

#[derive(Clone, Debug, Default)]
pub struct Script {
    events: Vec<Event>,
}

impl Script {
    /// Adds the events in `text` (several lines allowed).
    pub fn parse(&mut self, text: &str) -> Result<(), String> {
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let event = parse_event(line)
                .map_err(|why| format!("input line {}: {line:?}: {why}", number + 1))?;
            self.events.push(event);
        }
        Ok(())
    }

    /// What the frontend reports for one `input_state` query during `frame`.
    pub fn state(&self, frame: u64, port: usize, device: c_uint, index: c_uint, id: c_uint) -> i16 {
        let active = self
            .events
            .iter()
            .filter(|e| e.port == port && (e.first..=e.last).contains(&frame));
        let mut result = 0i32;
        for event in active {
            match (device, event.control) {
                (sys::RETRO_DEVICE_JOYPAD, Control::Button(button, _)) if index == 0 => {
                    if id == sys::RETRO_DEVICE_ID_JOYPAD_MASK {
                        result |= 1 << button;
                    } else if id == button {
                        result = 1;
                    }
                }
                (sys::RETRO_DEVICE_ANALOG, Control::Button(button, Some(pressure)))
                    if index == sys::RETRO_DEVICE_INDEX_ANALOG_BUTTON && id == button =>
                {
                    result = pressure.into();
                }
                (sys::RETRO_DEVICE_ANALOG, Control::Axis(stick, axis, value))
                    if index == stick && id == axis =>
                {
                    result = value.into();
                }
                _ => {}
            }
        }
        result as i16
    }
}

fn parse_event(line: &str) -> Result<Event, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [frames, port, control] = fields[..] else {
        return Err("expected FRAMES PORT CONTROL[=VALUE]".into());
    };
    let number = |text: &str| {
        text.parse::<u64>()
            .map_err(|_| format!("{text:?} is not a number"))
    };
    let (first, last) = match frames.split_once('-') {
        Some((a, b)) => (number(a)?, number(b)?),
        None => (number(frames)?, number(frames)?),
    };
    if last < first {
        return Err("the frame range runs backwards".into());
    }
    let port = number(port)? as usize;
    if port >= 4 {
        return Err("ports are 0 to 3".into());
    }
    let (name, value) = match control.split_once('=') {
        Some((name, value)) => {
            let value = value
                .parse::<i32>()
                .map_err(|_| format!("{value:?} is not a number"))?;
            (name, Some(value))
        }
        None => (control, None),
    };
    Ok(Event {
        first,
        last,
        port,
        control: parse_control(name, value)?,
    })
}

fn parse_control(name: &str, value: Option<i32>) -> Result<Control, String> {
    let pressure_button = match name {
        "a" => Some(sys::RETRO_DEVICE_ID_JOYPAD_B),
        "b" => Some(sys::RETRO_DEVICE_ID_JOYPAD_A),
        "x" => Some(sys::RETRO_DEVICE_ID_JOYPAD_Y),
        "y" => Some(sys::RETRO_DEVICE_ID_JOYPAD_X),
        "black" => Some(sys::RETRO_DEVICE_ID_JOYPAD_R),
        "white" => Some(sys::RETRO_DEVICE_ID_JOYPAD_L),
        "lt" => Some(sys::RETRO_DEVICE_ID_JOYPAD_L2),
        "rt" => Some(sys::RETRO_DEVICE_ID_JOYPAD_R2),
        _ => None,
    };
    if let Some(button) = pressure_button {
        let pressure = match value {
            None => None,
            Some(v @ 1..=255) => Some((v * 0x7FFF / 255) as i16),
            Some(v) => return Err(format!("pressure {v} is outside 1-255")),
        };
        return Ok(Control::Button(button, pressure));
    }
    let digital = match name {
        "back" => Some(sys::RETRO_DEVICE_ID_JOYPAD_SELECT),
        "start" => Some(sys::RETRO_DEVICE_ID_JOYPAD_START),
        "ls" => Some(sys::RETRO_DEVICE_ID_JOYPAD_L3),
        "rs" => Some(sys::RETRO_DEVICE_ID_JOYPAD_R3),
        "up" => Some(sys::RETRO_DEVICE_ID_JOYPAD_UP),
        "down" => Some(sys::RETRO_DEVICE_ID_JOYPAD_DOWN),
        "left" => Some(sys::RETRO_DEVICE_ID_JOYPAD_LEFT),
        "right" => Some(sys::RETRO_DEVICE_ID_JOYPAD_RIGHT),
        _ => None,
    };
    if let Some(button) = digital {
        if value.is_some() {
            return Err(format!("{name} is a digital button and takes no value"));
        }
        return Ok(Control::Button(button, None));
    }
    let (stick, axis) = match name {
        "lx" => (
            sys::RETRO_DEVICE_INDEX_ANALOG_LEFT,
            sys::RETRO_DEVICE_ID_ANALOG_X,
        ),
        "ly" => (
            sys::RETRO_DEVICE_INDEX_ANALOG_LEFT,
            sys::RETRO_DEVICE_ID_ANALOG_Y,
        ),
        "rx" => (
            sys::RETRO_DEVICE_INDEX_ANALOG_RIGHT,
            sys::RETRO_DEVICE_ID_ANALOG_X,
        ),
        "ry" => (
            sys::RETRO_DEVICE_INDEX_ANALOG_RIGHT,
            sys::RETRO_DEVICE_ID_ANALOG_Y,
        ),
        _ => return Err(format!("unknown control {name:?}")),
    };
    let value = value.ok_or_else(|| format!("{name} needs a value"))?;
    let value = i16::try_from(value).map_err(|_| format!("{value} is outside -32768..32767"))?;
    Ok(Control::Axis(stick, axis, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_answer_the_right_queries() {
        let mut script = Script::default();
        script
            .parse("10-12 1 a=255 # full press\n11 1 lx=-32768\n5 0 start")
            .unwrap();
        let joypad_mask = |frame, port| {
            script.state(
                frame,
                port,
                sys::RETRO_DEVICE_JOYPAD,
                0,
                sys::RETRO_DEVICE_ID_JOYPAD_MASK,
            )
        };
        assert_eq!(joypad_mask(10, 1), 1 << sys::RETRO_DEVICE_ID_JOYPAD_B);
        assert_eq!(joypad_mask(13, 1), 0);
        assert_eq!(joypad_mask(5, 0), 1 << sys::RETRO_DEVICE_ID_JOYPAD_START);
        let pressure = script.state(
            12,
            1,
            sys::RETRO_DEVICE_ANALOG,
            2,
            sys::RETRO_DEVICE_ID_JOYPAD_B,
        );
        assert_eq!(pressure, 0x7FFF);
        assert_eq!(script.state(11, 1, sys::RETRO_DEVICE_ANALOG, 0, 0), -32768);
        assert_eq!(script.state(12, 1, sys::RETRO_DEVICE_ANALOG, 0, 0), 0);
    }

    #[test]
    fn bad_lines_are_reported() {
        for bad in [
            "1 0",
            "x 0 a",
            "5-2 0 a",
            "1 4 a",
            "1 0 a=300",
            "1 0 up=3",
            "1 0 lx",
            "1 0 jump",
        ] {
            assert!(Script::default().parse(bad).is_err(), "{bad}");
        }
    }
}
