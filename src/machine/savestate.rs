//! The save-state container: a header that names the format and the configuration, then the
//! machine's state walk.
//!
//! Header (little-endian): magic "OXBOXSAV", format version (u32), configuration fingerprint
//! (u32: a CRC of everything that fixes the state's layout and meaning: RAM size, firmware,
//! boot path), body length (u64), CRC-32 of the body. A state is checked whole before any of
//! it is loaded, so a rejected state leaves the running machine untouched.

use std::fmt;

const MAGIC: &[u8; 8] = b"OXBOXSAV";
/// Bumped whenever any device's state walk changes.
pub const VERSION: u32 = 1;
pub const HEADER_LEN: usize = 8 + 4 + 4 + 8 + 4;

/// Why a state was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Shorter than a header, or shorter than the header says.
    Truncated {
        have: usize,
        need: usize,
    },
    NotAState,
    Version(u32),
    /// Saved by a console configured differently (RAM size, firmware, boot path).
    OtherConfiguration,
    Corrupt,
    /// The buffer the frontend offers is too small.
    BufferTooSmall {
        have: usize,
        need: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Error::Truncated { have, need } => {
                write!(f, "save state is truncated ({have} of {need} bytes)")
            }
            Error::NotAState => f.write_str("not an Oxbox save state"),
            Error::Version(v) => write!(
                f,
                "save state is format version {v}; this Oxbox reads version {VERSION}"
            ),
            Error::OtherConfiguration => f.write_str(
                "save state is from a console configured differently \
                 (RAM size, firmware or boot path)",
            ),
            Error::Corrupt => f.write_str("save state is corrupt (checksum mismatch)"),
            Error::BufferTooSmall { have, need } => {
                write!(f, "save state buffer too small ({have} of {need} bytes)")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Writes a state into `out`: the header, then the body `write_body` appends.
pub fn seal(fingerprint: u32, out: &mut Vec<u8>, write_body: impl FnOnce(&mut Vec<u8>)) {
    out.clear();
    out.resize(HEADER_LEN, 0);
    write_body(out);
    let body_len = (out.len() - HEADER_LEN) as u64;
    let crc = crc32fast::hash(&out[HEADER_LEN..]);
    let header = &mut out[..HEADER_LEN];
    header[..8].copy_from_slice(MAGIC);
    header[8..12].copy_from_slice(&VERSION.to_le_bytes());
    header[12..16].copy_from_slice(&fingerprint.to_le_bytes());
    header[16..24].copy_from_slice(&body_len.to_le_bytes());
    header[24..28].copy_from_slice(&crc.to_le_bytes());
}

/// Checks a whole state and returns its body.
pub fn open(fingerprint: u32, expected_body: usize, data: &[u8]) -> Result<&[u8], Error> {
    let need = HEADER_LEN + expected_body;
    if data.len() < HEADER_LEN {
        return Err(Error::Truncated {
            have: data.len(),
            need,
        });
    }
    let (header, body) = data.split_at(HEADER_LEN);
    let word = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().expect("4 bytes"));
    if &header[..8] != MAGIC {
        return Err(Error::NotAState);
    }
    if word(8) != VERSION {
        return Err(Error::Version(word(8)));
    }
    if word(12) != fingerprint {
        return Err(Error::OtherConfiguration);
    }
    let length = u64::from_le_bytes(header[16..24].try_into().expect("8 bytes"));
    if length != expected_body as u64 {
        return Err(Error::OtherConfiguration);
    }
    // Frontends may hand over a larger buffer than the state; the rest is ignored.
    let Some(body) = body.get(..expected_body) else {
        return Err(Error::Truncated {
            have: data.len(),
            need,
        });
    };
    if crc32fast::hash(body) != word(24) {
        return Err(Error::Corrupt);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed() -> Vec<u8> {
        let mut out = Vec::new();
        seal(7, &mut out, |body| body.extend_from_slice(b"hello"));
        out
    }

    #[test]
    fn a_sealed_state_opens() {
        assert_eq!(open(7, 5, &sealed()), Ok(&b"hello"[..]));
    }

    #[test]
    fn every_damage_is_named() {
        let good = sealed();
        assert!(matches!(
            open(7, 5, &good[..10]),
            Err(Error::Truncated { .. })
        ));
        assert!(matches!(
            open(7, 5, &good[..good.len() - 1]),
            Err(Error::Truncated { .. })
        ));
        assert_eq!(open(8, 5, &good), Err(Error::OtherConfiguration));
        assert_eq!(open(7, 6, &good), Err(Error::OtherConfiguration));
        let mut bad = good.clone();
        bad[0] = b'X';
        assert_eq!(open(7, 5, &bad), Err(Error::NotAState));
        let mut bad = good.clone();
        bad[8] = 99;
        assert_eq!(open(7, 5, &bad), Err(Error::Version(99)));
        let mut bad = good.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(open(7, 5, &bad), Err(Error::Corrupt));
    }
}
