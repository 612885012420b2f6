//! Save states: one symmetric function per device walks its fields in a fixed order, and the
//! same walk either writes them out or reads them back (see [`State`]). A device therefore can
//! not save a field it forgets to load.
//!
//! The walk never fails: the machine checks a state's header, size and checksum before any
//! device sees it, so a device's `state` only has to keep what it loads within range (a state
//! can still be hand-made with a valid checksum; loading it must never panic).

/// A device or component that saves and loads its state.
pub trait Snapshot {
    /// Saves into or loads from `s`, visiting the same fields in the same order either way.
    fn state(&mut self, s: &mut State);
}

/// The direction of a walk and its buffer.
pub struct State<'a> {
    mode: Mode<'a>,
}

enum Mode<'a> {
    Save(&'a mut Vec<u8>),
    /// The bytes left to read. Reading past the end yields zeros (the machine never lets that
    /// happen: it checks the size first).
    Load(&'a [u8]),
}

impl<'a> State<'a> {
    /// A walk that appends every field to `out`.
    pub fn saving(out: &'a mut Vec<u8>) -> State<'a> {
        State {
            mode: Mode::Save(out),
        }
    }

    /// A walk that overwrites every field from `data`.
    pub fn loading(data: &'a [u8]) -> State<'a> {
        State {
            mode: Mode::Load(data),
        }
    }

    pub fn is_loading(&self) -> bool {
        matches!(self.mode, Mode::Load(_))
    }

    /// Bytes not yet read (0 when saving).
    pub fn remaining(&self) -> usize {
        match &self.mode {
            Mode::Save(_) => 0,
            Mode::Load(data) => data.len(),
        }
    }

    /// Saves or loads raw bytes.
    pub fn bytes(&mut self, v: &mut [u8]) {
        match &mut self.mode {
            Mode::Save(out) => out.extend_from_slice(v),
            Mode::Load(data) => {
                let n = v.len().min(data.len());
                v[..n].copy_from_slice(&data[..n]);
                v[n..].fill(0);
                *data = &data[n..];
            }
        }
    }

    pub fn u8(&mut self, v: &mut u8) {
        let mut b = [*v];
        self.bytes(&mut b);
        *v = b[0];
    }

    pub fn bool(&mut self, v: &mut bool) {
        let mut b = u8::from(*v);
        self.u8(&mut b);
        *v = b != 0;
    }

    pub fn u16(&mut self, v: &mut u16) {
        let mut b = v.to_le_bytes();
        self.bytes(&mut b);
        *v = u16::from_le_bytes(b);
    }

    pub fn u32(&mut self, v: &mut u32) {
        let mut b = v.to_le_bytes();
        self.bytes(&mut b);
        *v = u32::from_le_bytes(b);
    }

    pub fn u64(&mut self, v: &mut u64) {
        let mut b = v.to_le_bytes();
        self.bytes(&mut b);
        *v = u64::from_le_bytes(b);
    }

    pub fn u128(&mut self, v: &mut u128) {
        let mut b = v.to_le_bytes();
        self.bytes(&mut b);
        *v = u128::from_le_bytes(b);
    }

    pub fn i32(&mut self, v: &mut i32) {
        let mut u = *v as u32;
        self.u32(&mut u);
        *v = u as i32;
    }

    pub fn u16s(&mut self, v: &mut [u16]) {
        v.iter_mut().for_each(|x| self.u16(x));
    }

    pub fn u32s(&mut self, v: &mut [u32]) {
        v.iter_mut().for_each(|x| self.u32(x));
    }

    pub fn u64s(&mut self, v: &mut [u64]) {
        v.iter_mut().for_each(|x| self.u64(x));
    }

    /// A `usize` kept below `bound` on load (indices into fixed tables).
    pub fn index(&mut self, v: &mut usize, bound: usize) {
        let mut u = *v as u32;
        self.u32(&mut u);
        *v = (u as usize).min(bound.saturating_sub(1));
    }

    /// An optional time (an event that may be unscheduled).
    pub fn option_u64(&mut self, v: &mut Option<u64>) {
        let mut present = v.is_some();
        let mut value = v.unwrap_or(0);
        self.bool(&mut present);
        self.u64(&mut value);
        *v = present.then_some(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Sample {
        a: u8,
        b: u32,
        c: bool,
        d: [u16; 3],
        e: Option<u64>,
        i: usize,
    }

    impl Snapshot for Sample {
        fn state(&mut self, s: &mut State) {
            s.u8(&mut self.a);
            s.u32(&mut self.b);
            s.bool(&mut self.c);
            s.u16s(&mut self.d);
            s.option_u64(&mut self.e);
            s.index(&mut self.i, 4);
        }
    }

    #[test]
    fn a_walk_loads_what_it_saved() {
        let mut a = Sample {
            a: 7,
            b: 0xDEAD_BEEF,
            c: true,
            d: [1, 2, 3],
            e: Some(99),
            i: 3,
        };
        let mut bytes = Vec::new();
        a.state(&mut State::saving(&mut bytes));
        let mut b = Sample {
            a: 0,
            b: 0,
            c: false,
            d: [0; 3],
            e: None,
            i: 0,
        };
        let mut load = State::loading(&bytes);
        b.state(&mut load);
        assert_eq!(load.remaining(), 0);
        assert_eq!(
            (b.a, b.b, b.c, b.d, b.e, b.i),
            (7, 0xDEAD_BEEF, true, [1, 2, 3], Some(99), 3)
        );
    }

    #[test]
    fn loaded_indices_stay_in_range() {
        let bytes = 1000u32.to_le_bytes();
        let mut i = 0;
        State::loading(&bytes).index(&mut i, 4);
        assert_eq!(i, 3);
    }
}
