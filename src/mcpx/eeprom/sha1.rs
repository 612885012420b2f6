//! SHA-1 (FIPS 180-4) and HMAC-SHA1 (RFC 2104), as the Xbox kernel uses them to seal the
//! EEPROM's security section. Not for anything where collisions matter.

const IV: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
const BLOCK: usize = 64;

/// A SHA-1 computation in progress.
#[derive(Clone)]
pub struct Sha1 {
    state: [u32; 5],
    /// Bytes hashed so far, including blocks folded into `state` before this value existed
    /// (an HMAC's keyed starting states stand for one block already hashed).
    length: u64,
    buffer: [u8; BLOCK],
    buffered: usize,
}

impl Sha1 {
    pub fn new() -> Sha1 {
        Sha1::resume(IV, 0)
    }

    /// Continues from `state` after `length` bytes (a multiple of 64) were hashed.
    pub fn resume(state: [u32; 5], length: u64) -> Sha1 {
        Sha1 {
            state,
            length,
            buffer: [0; BLOCK],
            buffered: 0,
        }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.length = self.length.wrapping_add(data.len() as u64);
        while !data.is_empty() {
            let n = (BLOCK - self.buffered).min(data.len());
            self.buffer[self.buffered..self.buffered + n].copy_from_slice(&data[..n]);
            self.buffered += n;
            data = &data[n..];
            if self.buffered == BLOCK {
                compress(&mut self.state, &self.buffer);
                self.buffered = 0;
            }
        }
    }

    pub fn finish(mut self) -> [u8; 20] {
        let bits = self.length.wrapping_mul(8);
        // The padding: a one bit, zeros up to 56 bytes into a block, then the bit length.
        let pad = (BLOCK + 55 - self.buffered) % BLOCK + 1;
        let mut tail = [0u8; BLOCK + 8];
        tail[0] = 0x80;
        tail[pad..pad + 8].copy_from_slice(&bits.to_be_bytes());
        let length = self.length;
        self.update(&tail[..pad + 8]);
        self.length = length;
        let mut out = [0u8; 20];
        for (bytes, word) in out.chunks_exact_mut(4).zip(self.state) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        out
    }
}

/// The SHA-1 digest of `data`.
pub fn digest(data: &[u8]) -> [u8; 20] {
    let mut h = Sha1::new();
    h.update(data);
    h.finish()
}

/// Folds one 64-byte block into the state.
fn compress(state: &mut [u32; 5], block: &[u8; BLOCK]) {
    let mut w = [0u32; 80];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    for t in 16..80 {
        w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
    }
    let [mut a, mut b, mut c, mut d, mut e] = *state;
    for (t, wt) in w.iter().enumerate() {
        let (f, k) = match t / 20 {
            0 => ((b & c) | (!b & d), 0x5A827999),
            1 => (b ^ c ^ d, 0x6ED9EBA1),
            2 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
            _ => (b ^ c ^ d, 0xCA62C1D6),
        };
        let temp = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(*wt);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = temp;
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e]) {
        *s = s.wrapping_add(v);
    }
}

/// An HMAC-SHA1 key, kept as the SHA-1 states after its inner and outer padded blocks: the
/// form in which the Xbox community first published the EEPROM keys ("the middle message").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HmacKey {
    pub inner: [u32; 5],
    pub outer: [u32; 5],
}

impl HmacKey {
    pub fn new(key: &[u8]) -> HmacKey {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            block[..20].copy_from_slice(&digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let keyed = |pad: u8| {
            let mut state = IV;
            compress(&mut state, &block.map(|b| b ^ pad));
            state
        };
        HmacKey {
            inner: keyed(0x36),
            outer: keyed(0x5C),
        }
    }

    /// The HMAC of the concatenation of `parts`.
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 20] {
        let mut inner = Sha1::resume(self.inner, BLOCK as u64);
        parts.iter().for_each(|p| inner.update(p));
        let mut outer = Sha1::resume(self.outer, BLOCK as u64);
        outer.update(&inner.finish());
        outer.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn fips_180_examples() {
        assert_eq!(
            hex(&digest(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&digest(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        // One million 'a's, fed in uneven pieces to cross block boundaries mid-update.
        let mut h = Sha1::new();
        let chunk = [b'a'; 1000];
        for i in 0..1000 {
            let (x, y) = chunk.split_at(i % 70);
            h.update(x);
            h.update(y);
        }
        assert_eq!(hex(&h.finish()), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
        assert_eq!(
            hex(&digest(b"")),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
    }

    #[test]
    fn padding_lengths_around_the_block_edge() {
        // 55 bytes leave room for the length in their block; 56 need one more (digests from
        // python3's hashlib).
        assert_eq!(
            hex(&digest(&[b'a'; 55])),
            "c1c8bbdc22796e28c0e15163d20899b65621d65a"
        );
        assert_eq!(
            hex(&digest(&[b'a'; 56])),
            "c2db330f6083854c99d4b5bfb6e8f29f201be699"
        );
        assert_eq!(
            hex(&digest(&[b'a'; 64])),
            "0098ba824b5c16427bd7a1122a5a442a25ec644d"
        );
    }

    #[test]
    fn rfc_2202_hmac_sha1() {
        let long = [0xAAu8; 80];
        let cases: [(&[u8], &[u8], &str); 7] = [
            (
                &[0x0B; 20],
                b"Hi There",
                "b617318655057264e28bc0b6fb378c8ef146be00",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
            ),
            (
                &[0xAA; 20],
                &[0xDD; 50],
                "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
            ),
            (
                &[
                    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                    23, 24, 25,
                ],
                &[0xCD; 50],
                "4c9007f4026250c6bc8414f9bf50c86c2d7235da",
            ),
            (
                &[0x0C; 20],
                b"Test With Truncation",
                "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04",
            ),
            (
                &long,
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "aa4ae5e15272d00e95705637ce8a3b55ed402112",
            ),
            (
                &long,
                b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
                "e8e99d0f45237d786d6bbaa7965c7808bbff1a91",
            ),
        ];
        for (key, data, expected) in cases {
            assert_eq!(hex(&HmacKey::new(key).mac(&[data])), expected);
        }
        // Split input hashes the same as whole input.
        let key = HmacKey::new(b"Jefe");
        assert_eq!(
            key.mac(&[b"what do ya ", b"want for nothing?"]),
            key.mac(&[b"what do ya want for nothing?"])
        );
    }
}
