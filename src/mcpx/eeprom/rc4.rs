//! RC4, the stream cipher that hides the EEPROM's confounder, hard-disk key and region.

pub struct Rc4 {
    s: [u8; 256],
    i: u8,
    j: u8,
}

impl Rc4 {
    /// The cipher keyed with `key` (1 to 256 bytes; an empty key counts as one zero byte).
    pub fn new(key: &[u8]) -> Rc4 {
        let key = if key.is_empty() { &[0u8][..] } else { key };
        let mut s = [0u8; 256];
        for (i, v) in s.iter_mut().enumerate() {
            *v = i as u8;
        }
        let mut j = 0u8;
        for i in 0..256 {
            j = j.wrapping_add(s[i]).wrapping_add(key[i % key.len()]);
            s.swap(i, usize::from(j));
        }
        Rc4 { s, i: 0, j: 0 }
    }

    /// XORs the next bytes of the keystream into `data` (encrypting and decrypting alike).
    pub fn apply(&mut self, data: &mut [u8]) {
        for byte in data {
            self.i = self.i.wrapping_add(1);
            self.j = self.j.wrapping_add(self.s[usize::from(self.i)]);
            self.s.swap(usize::from(self.i), usize::from(self.j));
            let k = self.s[usize::from(self.i)].wrapping_add(self.s[usize::from(self.j)]);
            *byte ^= self.s[usize::from(k)];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keystream(key: &[u8], len: usize) -> Vec<u8> {
        let mut out = vec![0; len];
        Rc4::new(key).apply(&mut out);
        out
    }

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn rfc_6229_forty_bit_key() {
        let stream = keystream(&[1, 2, 3, 4, 5], 1552);
        let expected = [
            (0, "b2 39 63 05 f0 3d c0 27 cc c3 52 4a 0a 11 18 a8"),
            (16, "69 82 94 4f 18 fc 82 d5 89 c4 03 a4 7a 0d 09 19"),
            (240, "28 cb 11 32 c9 6c e2 86 42 1d ca ad b8 b6 9e ae"),
            (256, "1c fc f6 2b 03 ed db 64 1d 77 df cf 7f 8d 8c 93"),
            (496, "42 b7 d0 cd d9 18 a8 a3 3d d5 17 81 c8 1f 40 41"),
            (512, "64 59 84 44 32 a7 da 92 3c fb 3e b4 98 06 61 f6"),
            (752, "ec 10 32 7b de 2b ee fd 18 f9 27 76 80 45 7e 22"),
            (768, "eb 62 63 8d 4f 0b a1 fe 9f ca 20 e0 5b f8 ff 2b"),
            (1008, "45 12 90 48 e6 a0 ed 0b 56 b4 90 33 8f 07 8d a5"),
            (1024, "30 ab bc c7 c2 0b 01 60 9f 23 ee 2d 5f 6b b7 df"),
            (1520, "32 94 f7 44 d8 f9 79 05 07 e7 0f 62 e5 bb ce ea"),
            (1536, "d8 72 9d b4 18 82 25 9b ee 4f 82 53 25 f5 a1 30"),
        ];
        for (offset, hex) in expected {
            assert_eq!(
                stream[offset..offset + 16],
                unhex(hex)[..],
                "offset {offset}"
            );
        }
    }

    #[test]
    fn rfc_6229_longer_keys() {
        assert_eq!(
            keystream(&[1, 2, 3, 4, 5, 6, 7], 16),
            unhex("29 3f 02 d4 7f 37 c9 b6 33 f2 af 52 85 fe b4 6b")
        );
        assert_eq!(
            keystream(&[1, 2, 3, 4, 5, 6, 7, 8], 16),
            unhex("97 ab 8a 1b f0 af b9 61 32 f2 f6 72 58 da 15 a8")
        );
    }

    #[test]
    fn applying_twice_restores_and_pieces_continue_the_stream() {
        let mut data = *b"the quick brown fox";
        Rc4::new(b"key").apply(&mut data);
        let mut split = *b"the quick brown fox";
        let mut c = Rc4::new(b"key");
        let (a, b) = split.split_at_mut(7);
        c.apply(a);
        c.apply(b);
        assert_eq!(data, split);
        Rc4::new(b"key").apply(&mut data);
        assert_eq!(&data, b"the quick brown fox");
    }
}
