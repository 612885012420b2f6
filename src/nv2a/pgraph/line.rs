//! SOLID_LINE (class 0x5C, NV04_LIN): solid one-pixel lins (half-open lines) into the 2D
//! destination surface (envytools rnndb nv01_2d.xml, docs/hw/graph/2d/solid.rst):
//!
//! - 0x184 CLIP, 0x188 PATTERN, 0x18C ROP, 0x190 BETA, 0x194 BETA4, 0x198 SURFACE;
//! - 0x2FC OPERATION, 0x300 COLOR_FORMAT (1 X16R5G6B5, 2 X17R5G5B5, 3 X8R8G8B8), 0x304 COLOR;
//! - 0x400 + 8i LINE_START_XY / 0x404 + 8i LINE_END_XY (x in bits 0-15, y in 16-31, signed),
//!   16 pairs: each END draws;
//! - 0x480 + 16i LINE32_START_X, _START_Y, _END_X, _END_Y (32-bit signed), 8 sets: each END_Y
//!   draws;
//! - 0x500 + 4i POLYLINE_XY, 0x580 + 8i / 0x584 + 8i POLYLINE32_X / _Y, 0x600 + 8i / 0x604 + 8i
//!   CPOLYLINE_COLOR / CPOLYLINE_XY: each point after the first draws a lin from the one before.
//!   A method other than these points starts a new polyline.
//!
//! Which pixels a lin covers is [`super::soft::lin_pixels`].

use crate::machine::state::State;

/// A point as the xy16 methods give it: x in bits 0-15, y in bits 16-31, both signed.
pub fn xy16(param: u32) -> (i32, i32) {
    (
        i32::from(param as u16 as i16),
        i32::from((param >> 16) as u16 as i16),
    )
}

/// What a method asks to draw: a lin from one point to another.
pub type Lin = ((i32, i32), (i32, i32));

#[derive(Clone, Debug)]
pub struct SolidLine {
    pub clip: u32,
    pub pattern: u32,
    pub rop: u32,
    pub beta: u32,
    pub beta4: u32,
    pub surface: u32,
    pub operation: u32,
    pub color_format: u32,
    pub color: u32,
    /// The start point last given (LINE_START_XY or LINE32_START_X/Y).
    pub start: (i32, i32),
    /// LINE32_END_X, until END_Y comes.
    pub end_x: i32,
    /// POLYLINE32_X, until its Y comes.
    pub poly_x: i32,
    /// The polyline's last point, once it has one.
    pub poly_last: Option<(i32, i32)>,
}

impl Default for SolidLine {
    fn default() -> SolidLine {
        SolidLine {
            clip: 0,
            pattern: 0,
            rop: 0,
            beta: 0,
            beta4: 0,
            surface: 0,
            operation: 3,
            color_format: 3,
            color: 0,
            start: (0, 0),
            end_x: 0,
            poly_x: 0,
            poly_last: None,
        }
    }
}

impl SolidLine {
    /// Takes a method: whether the class defines it, and the lin it draws, if any.
    pub fn method(&mut self, method: u32, param: u32) -> (bool, Option<Lin>) {
        let polyline = matches!(method, 0x500..=0x57C | 0x580..=0x5FC | 0x600..=0x67C);
        if !polyline {
            self.poly_last = None;
        }
        let signed = param as i32;
        let mut lin = None;
        match method {
            0x184 => self.clip = param,
            0x188 => self.pattern = param,
            0x18C => self.rop = param,
            0x190 => self.beta = param,
            0x194 => self.beta4 = param,
            0x198 => self.surface = param,
            0x2FC => self.operation = param,
            0x300 => self.color_format = param,
            0x304 => self.color = param,
            0x400..=0x47C if method & 4 == 0 => self.start = xy16(param),
            0x400..=0x47C => lin = Some((self.start, xy16(param))),
            0x480..=0x4FC => match method & 0xC {
                0x0 => self.start.0 = signed,
                0x4 => self.start.1 = signed,
                0x8 => self.end_x = signed,
                _ => lin = Some((self.start, (self.end_x, signed))),
            },
            0x500..=0x57C => lin = self.poly_point(xy16(param)),
            0x580..=0x5FC if method & 4 == 0 => self.poly_x = signed,
            0x580..=0x5FC => lin = self.poly_point((self.poly_x, signed)),
            0x600..=0x67C if method & 4 == 0 => self.color = param,
            0x600..=0x67C => lin = self.poly_point(xy16(param)),
            _ => return (false, None),
        }
        (true, lin)
    }

    fn poly_point(&mut self, point: (i32, i32)) -> Option<Lin> {
        self.poly_last.replace(point).map(|last| (last, point))
    }

    pub fn state(&mut self, s: &mut State) {
        for v in [
            &mut self.clip,
            &mut self.pattern,
            &mut self.rop,
            &mut self.beta,
            &mut self.beta4,
            &mut self.surface,
            &mut self.operation,
            &mut self.color_format,
            &mut self.color,
        ] {
            s.u32(v);
        }
        let mut words = [
            self.start.0 as u32,
            self.start.1 as u32,
            self.end_x as u32,
            self.poly_x as u32,
            self.poly_last.map_or(0, |p| p.0 as u32),
            self.poly_last.map_or(0, |p| p.1 as u32),
        ];
        let mut has_last = self.poly_last.is_some();
        for w in words.iter_mut() {
            s.u32(w);
        }
        s.bool(&mut has_last);
        self.start = (words[0] as i32, words[1] as i32);
        self.end_x = words[2] as i32;
        self.poly_x = words[3] as i32;
        self.poly_last = has_last.then_some((words[4] as i32, words[5] as i32));
    }
}
