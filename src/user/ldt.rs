//! `struct user_desc` segments: modify_ldt (a real LDT in guest memory, loaded with LLDT) and
//! set_thread_area/get_thread_area (TLS descriptors in the GDT), as Linux encodes them.

use super::layout::{ring0, selector};
use super::memory::{BadAddress, Memory};
use super::ring0::{gdt_entry, segment_descriptor, set_gdt_entry, set_ldt_size};
use super::syscalls::errno;
use crate::cpu::Cpu;

/// The fields of `struct user_desc` (16 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct UserDesc {
    entry_number: u32,
    base: u32,
    limit: u32,
    seg_32bit: bool,
    contents: u32,
    read_exec_only: bool,
    limit_in_pages: bool,
    seg_not_present: bool,
    useable: bool,
}

impl UserDesc {
    fn read(memory: &Memory, address: u32) -> Result<UserDesc, BadAddress> {
        let mut bytes = [0; 16];
        memory.read_user(address, &mut bytes)?;
        let word =
            |i: usize| u32::from_le_bytes(bytes[i * 4..i * 4 + 4].try_into().unwrap_or_default());
        let bits = word(3);
        Ok(UserDesc {
            entry_number: word(0),
            base: word(1),
            limit: word(2),
            seg_32bit: bits & 1 != 0,
            contents: (bits >> 1) & 3,
            read_exec_only: bits & 8 != 0,
            limit_in_pages: bits & 0x10 != 0,
            seg_not_present: bits & 0x20 != 0,
            useable: bits & 0x40 != 0,
        })
    }

    fn write(&self, memory: &mut Memory, cpu: &mut Cpu, address: u32) -> Result<(), BadAddress> {
        let bits = u32::from(self.seg_32bit)
            | self.contents << 1
            | u32::from(self.read_exec_only) << 3
            | u32::from(self.limit_in_pages) << 4
            | u32::from(self.seg_not_present) << 5
            | u32::from(self.useable) << 6;
        let mut bytes = Vec::with_capacity(16);
        for word in [self.entry_number, self.base, self.limit, bits] {
            bytes.extend(word.to_le_bytes());
        }
        memory.write_user(cpu, address, &bytes)
    }

    /// The request that clears an entry (Linux's LDT_empty).
    fn is_empty(&self) -> bool {
        *self
            == UserDesc {
                entry_number: self.entry_number,
                read_exec_only: true,
                seg_not_present: true,
                ..UserDesc::default()
            }
    }

    /// The descriptor: always DPL 3, with the accessed bit set so it never needs writing.
    fn descriptor(&self) -> u64 {
        let kind = u8::from(!self.read_exec_only) << 1 | (self.contents as u8) << 2 | 1;
        let access = kind | 0x10 | 0x60 | u8::from(!self.seg_not_present) << 7;
        let flags = u8::from(self.useable)
            | u8::from(self.seg_32bit) << 2
            | u8::from(self.limit_in_pages) << 3;
        segment_descriptor(self.base, self.limit, access, flags)
    }

    fn from_descriptor(entry_number: u32, raw: u64) -> UserDesc {
        let bit = |n: u32| raw >> n & 1 != 0;
        UserDesc {
            entry_number,
            base: (raw >> 16 & 0xFF_FFFF | (raw >> 56) << 24) as u32,
            limit: (raw & 0xFFFF | (raw >> 48 & 0xF) << 16) as u32,
            seg_32bit: bit(54),
            contents: (raw >> 42 & 3) as u32,
            read_exec_only: !bit(41),
            limit_in_pages: bit(55),
            seg_not_present: !bit(47),
            useable: bit(52),
        }
    }
}

/// The process's LDT: how many entries are in use (the LDT's limit).
#[derive(Default)]
pub struct Ldt {
    entries: u32,
}

impl Ldt {
    /// The selector LLDT loads: the LDT's GDT descriptor, or null while there is no LDT.
    pub fn selector(&self) -> u16 {
        if self.entries == 0 { 0 } else { selector::LDT }
    }

    /// modify_ldt(func, ptr, bytecount). Returns the result and whether LDTR must be reloaded.
    pub fn modify(
        &mut self,
        memory: &mut Memory,
        cpu: &mut Cpu,
        func: u32,
        ptr: u32,
        count: u32,
    ) -> (i32, bool) {
        let result = match func {
            0 => self.read(memory, cpu, ptr, count),
            1 | 0x11 => return self.write(memory, ptr, count, func == 1),
            // The default LDT: five empty entries on i386.
            2 => {
                let count = count.min(5 * 8);
                memory
                    .write_user(cpu, ptr, &vec![0; count as usize])
                    .map(|()| count as i32)
            }
            _ => Ok(-errno::ENOSYS),
        };
        (result.unwrap_or(-errno::EFAULT), false)
    }

    fn read(
        &self,
        memory: &mut Memory,
        cpu: &mut Cpu,
        ptr: u32,
        count: u32,
    ) -> Result<i32, BadAddress> {
        if self.entries == 0 {
            return Ok(0);
        }
        let count = count.min(ring0::LDT_ENTRIES * 8);
        let mut bytes = vec![0; count as usize];
        let used = (self.entries * 8).min(count) as usize;
        memory.read_phys(ring0::LDT, &mut bytes[..used]);
        memory.write_user(cpu, ptr, &bytes)?;
        Ok(count as i32)
    }

    fn write(&mut self, memory: &mut Memory, ptr: u32, count: u32, old_mode: bool) -> (i32, bool) {
        if count != 16 {
            return (-errno::EINVAL, false);
        }
        let Ok(desc) = UserDesc::read(memory, ptr) else {
            return (-errno::EFAULT, false);
        };
        if desc.entry_number >= ring0::LDT_ENTRIES
            || (desc.contents == 3 && (old_mode || !desc.seg_not_present))
        {
            return (-errno::EINVAL, false);
        }
        let raw = if (old_mode && desc.base == 0 && desc.limit == 0) || desc.is_empty() {
            0
        } else if old_mode {
            // The old interface has no "useable" bit.
            UserDesc {
                useable: false,
                ..desc
            }
            .descriptor()
        } else {
            desc.descriptor()
        };
        let at = ring0::LDT + desc.entry_number * 8;
        memory.write_u32(at, raw as u32);
        memory.write_u32(at + 4, (raw >> 32) as u32);
        self.entries = self.entries.max(desc.entry_number + 1);
        set_ldt_size(memory, self.entries);
        (0, true)
    }
}

/// set_thread_area(u_info): fills a TLS slot (the first free one for entry -1, which is then
/// written back).
pub fn set_thread_area(memory: &mut Memory, cpu: &mut Cpu, ptr: u32) -> i32 {
    let Ok(mut desc) = UserDesc::read(memory, ptr) else {
        return -errno::EFAULT;
    };
    let slots = selector::TLS_FIRST..selector::TLS_FIRST + selector::TLS_COUNT;
    if desc.entry_number == u32::MAX {
        let Some(free) = slots.clone().find(|&i| gdt_entry(memory, i) == 0) else {
            return -errno::ESRCH;
        };
        desc.entry_number = free;
        if desc.write(memory, cpu, ptr).is_err() {
            return -errno::EFAULT;
        }
    }
    if !slots.contains(&desc.entry_number) {
        return -errno::EINVAL;
    }
    let raw = if desc.is_empty() {
        0
    } else {
        desc.descriptor()
    };
    set_gdt_entry(memory, desc.entry_number, raw);
    0
}

/// get_thread_area(u_info): describes the TLS slot named by its entry_number.
pub fn get_thread_area(memory: &mut Memory, cpu: &mut Cpu, ptr: u32) -> i32 {
    let Ok(entry) = memory.read_user_u32(ptr) else {
        return -errno::EFAULT;
    };
    if !(selector::TLS_FIRST..selector::TLS_FIRST + selector::TLS_COUNT).contains(&entry) {
        return -errno::EINVAL;
    }
    let raw = gdt_entry(memory, entry);
    let desc = if raw == 0 {
        UserDesc {
            entry_number: entry,
            read_exec_only: true,
            seg_not_present: true,
            ..UserDesc::default()
        }
    } else {
        UserDesc::from_descriptor(entry, raw)
    };
    match desc.write(memory, cpu, ptr) {
        Ok(()) => 0,
        Err(BadAddress) => -errno::EFAULT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_round_trip_as_linux_encodes_them() {
        // glibc's TLS request: 4 GiB page-granular 32-bit data, "useable".
        let tls = UserDesc {
            entry_number: 6,
            base: 0x0849_e380,
            limit: 0xF_FFFF,
            seg_32bit: true,
            limit_in_pages: true,
            useable: true,
            ..UserDesc::default()
        };
        assert_eq!(tls.descriptor(), 0x08DF_F349_E380_FFFF);
        assert_eq!(UserDesc::from_descriptor(6, tls.descriptor()), tls);
        // A 16-bit readable code segment, as test-i386 builds for its 16-bit code.
        let code = UserDesc {
            contents: 2,
            limit: 0x1234,
            ..UserDesc::default()
        };
        assert_eq!(code.descriptor() >> 40 & 0xFF, 0xFB);
        assert!(!code.is_empty());
        let empty = UserDesc {
            read_exec_only: true,
            seg_not_present: true,
            entry_number: 3,
            ..UserDesc::default()
        };
        assert!(empty.is_empty());
    }
}
