//! RAMHT: the hash table in PRAMIN that maps a channel's 32-bit object handles to objects.
//!
//! The table's place and size come from PFIFO's RAMHT register (BAR0 0x002210): the base
//! address in bits 4-8 (in 4 KiB units), the size in bits 16-17 (4, 8, 16 or 32 KiB) and the
//! search length in bits 24-25 (16, 32, 64 or 128 entries).
//!
//! An entry is two dwords: the handle, then the context: the object's instance address in
//! bits 0-15 (in 16-byte units of PRAMIN), the engine in bits 16-17 (0 software, 1 graphics),
//! the owning channel in bits 24-28 and the valid flag in bit 31.
//!
//! The hash folds the handle into as many bits as the table has entries (9 for 4 KiB, up to
//! 12 for 32 KiB) by XOR, then XORs in the channel id shifted to the top four of those bits;
//! this is the NV04-NV40 function nouveau uses on real hardware. A lookup starts at the hashed
//! entry and probes the following ones (wrapping) up to the search length, since drivers place
//! a colliding handle in the next free entry. (xemu and pbkit fold by 11 bits for a 4 KiB
//! table; the two agree on every handle below 512 in channel 0, which is all pbkit uses.)

use super::{read_u32, write_u32};

/// The software engine: methods on it interrupt the host (CACHE_ERROR) instead of executing.
pub const ENGINE_SOFTWARE: u32 = 0;
/// PGRAPH, the graphics engine.
pub const ENGINE_GRAPHICS: u32 = 1;

const CONTEXT_VALID: u32 = 1 << 31;

/// The table's configuration, decoded from the RAMHT register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ramht {
    /// The table's first byte in PRAMIN.
    pub base: u32,
    /// log2 of the number of entries.
    pub bits: u32,
    /// How many entries a lookup probes.
    pub search: u32,
}

/// A valid entry, as a lookup returns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub handle: u32,
    /// The object's byte offset in PRAMIN.
    pub instance: u32,
    pub engine: u32,
    pub channel: u32,
}

/// Builds an entry's context dword from an object's PRAMIN byte offset, engine and channel.
pub fn context(instance: u32, engine: u32, channel: u32) -> u32 {
    CONTEXT_VALID | (channel & 0x1F) << 24 | (engine & 3) << 16 | (instance >> 4) & 0xFFFF
}

impl Ramht {
    pub fn from_register(value: u32) -> Ramht {
        Ramht {
            base: (value & 0x1F0) << 8,
            bits: 9 + (value >> 16 & 3),
            search: 16 << (value >> 24 & 3),
        }
    }

    pub fn entries(&self) -> u32 {
        1 << self.bits
    }

    /// The entry index a handle of `channel` hashes to.
    pub fn hash(&self, handle: u32, channel: u32) -> u32 {
        let mask = self.entries() - 1;
        let mut folded = 0;
        let mut rest = handle;
        while rest != 0 {
            folded ^= rest & mask;
            rest >>= self.bits;
        }
        (folded ^ (channel & 0x1F) << (self.bits - 4)) & mask
    }

    fn slot(&self, index: u32) -> usize {
        self.base as usize + ((index & (self.entries() - 1)) as usize) * 8
    }

    /// Finds `handle` among `channel`'s valid entries.
    pub fn lookup(&self, pramin: &[u8], channel: u32, handle: u32) -> Option<Entry> {
        let start = self.hash(handle, channel);
        (0..self.search.min(self.entries())).find_map(|i| {
            let at = self.slot(start + i);
            let context = read_u32(pramin, at + 4);
            let entry = Entry {
                handle: read_u32(pramin, at),
                instance: (context & 0xFFFF) << 4,
                engine: context >> 16 & 3,
                channel: context >> 24 & 0x1F,
            };
            (context & CONTEXT_VALID != 0 && entry.handle == handle && entry.channel == channel)
                .then_some(entry)
        })
    }

    /// Writes an entry where a lookup will find it: over the same handle of the same channel,
    /// else into the first invalid entry of the search window. Returns the entry's PRAMIN
    /// offset, or `None` when the window is full.
    pub fn insert(
        &self,
        pramin: &mut [u8],
        channel: u32,
        handle: u32,
        instance: u32,
        engine: u32,
    ) -> Option<u32> {
        let start = self.hash(handle, channel);
        let window = self.search.min(self.entries());
        let same = (0..window).map(|i| self.slot(start + i)).find(|&at| {
            let context = read_u32(pramin, at + 4);
            context & CONTEXT_VALID != 0
                && read_u32(pramin, at) == handle
                && context >> 24 & 0x1F == channel & 0x1F
        });
        let at = same.or_else(|| {
            (0..window)
                .map(|i| self.slot(start + i))
                .find(|&at| at + 8 <= pramin.len() && read_u32(pramin, at + 4) & CONTEXT_VALID == 0)
        })?;
        write_u32(pramin, at, handle);
        write_u32(pramin, at + 4, context(instance, engine, channel));
        Some(at as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_register_decodes_base_size_and_search() {
        // pbkit: base 0x10000, 4 KiB, search 128.
        let t = Ramht::from_register(0x0300_0100);
        assert_eq!((t.base, t.bits, t.search), (0x10000, 9, 128));
        let t = Ramht::from_register(0x0003_01F0);
        assert_eq!((t.base, t.entries(), t.search), (0x1F000, 4096, 16));
    }

    #[test]
    fn the_hash_folds_the_handle_and_mixes_in_the_channel() {
        let t = Ramht::from_register(0x100);
        // Small handles of channel 0 hash to themselves (pbkit relies on this).
        assert_eq!(t.hash(0x11, 0), 0x11);
        // 0x12345 = 0b1_0010_0011_0100_0101: 9-bit pieces 0x145, 0x91, 0x0.
        assert_eq!(t.hash(0x12345, 0), 0x145 ^ 0x91);
        assert_eq!(t.hash(0x11, 1), 0x11 ^ 1 << 5);
        // The channel can push the hash past a 4 KiB table: it wraps.
        assert!(t.hash(0, 31) < 512);
        let big = Ramht::from_register(0x3_0000);
        assert_eq!(big.hash(0x14D00, 0), 0xD00 ^ 0x14);
        assert_eq!(big.hash(0, 2), 2 << 8);
    }

    #[test]
    fn lookups_probe_past_collisions_and_check_the_channel() {
        let mut pramin = vec![0u8; 0x20000];
        let t = Ramht::from_register(0x0100_0100); // search 32
        let a = t.insert(&mut pramin, 0, 0x11, 0x1100, ENGINE_GRAPHICS);
        // 0x210 folds to 0x10 ^ 1 = 0x11, which 0x11 holds: it goes to the next entry.
        let b = t.insert(&mut pramin, 0, 0x10, 0x1200, ENGINE_SOFTWARE);
        let c = t.insert(&mut pramin, 0, 0x210, 0x1300, ENGINE_GRAPHICS);
        assert_eq!(a, Some(0x10000 + 0x11 * 8));
        assert_eq!(b, Some(0x10000 + 0x10 * 8));
        assert_eq!(c, Some(0x10000 + 0x12 * 8), "0x11 is taken");
        let found = t.lookup(&pramin, 0, 0x210).unwrap();
        assert_eq!(
            found,
            Entry {
                handle: 0x210,
                instance: 0x1300,
                engine: ENGINE_GRAPHICS,
                channel: 0
            }
        );
        assert_eq!(t.lookup(&pramin, 0, 0x10).unwrap().engine, ENGINE_SOFTWARE);
        assert_eq!(t.lookup(&pramin, 1, 0x11), None, "another channel's handle");
        assert_eq!(t.lookup(&pramin, 0, 0x12), None);
        // Re-inserting a handle replaces its entry.
        assert_eq!(t.insert(&mut pramin, 0, 0x11, 0x2000, ENGINE_GRAPHICS), a);
        assert_eq!(t.lookup(&pramin, 0, 0x11).unwrap().instance, 0x2000);
    }

    #[test]
    fn a_table_outside_pramin_finds_nothing() {
        let mut pramin = vec![0u8; 0x1000];
        let t = Ramht::from_register(0x1F0);
        assert_eq!(t.lookup(&pramin, 0, 1), None);
        assert_eq!(t.insert(&mut pramin, 0, 1, 0, 1), None);
    }
}
