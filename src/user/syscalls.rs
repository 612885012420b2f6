//! The Linux i386 system calls a static program needs, by number (EAX) with arguments in EBX,
//! ECX, EDX, ESI, EDI and EBP. There are no files: the guest has standard output and error
//! (the host's) and an empty standard input. Time and randomness are deterministic: clocks
//! derive from the CPU's cycle counter, random bytes from a fixed-seed generator.

use super::kernel::{Exit, Flow, Kernel};
use super::layout::{MMAP_BASE, MMAP_MIN, PAGE, USER_TOP, page_down, page_up};
use super::ldt;
use super::memory::{BadAddress, prot};
use super::ring0::Context;
use super::signals::{Fields, Info, code};
use crate::cpu::CLOCK_HZ;
use crate::cpu::state::reg;
use std::io::Write;

/// Error numbers (returned negated).
pub mod errno {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const ESRCH: i32 = 3;
    pub const EIO: i32 = 5;
    pub const EBADF: i32 = 9;
    pub const ENOMEM: i32 = 12;
    pub const EFAULT: i32 = 14;
    pub const EEXIST: i32 = 17;
    pub const ENODEV: i32 = 19;
    pub const EINVAL: i32 = 22;
    pub const ENOTTY: i32 = 25;
    pub const ESPIPE: i32 = 29;
    pub const ENOSYS: i32 = 38;
}
use errno::*;

/// The guest's process and user identity.
pub const PID: u32 = 1000;
pub const UID: u32 = 1000;

/// CLOCK_REALTIME starts at the Xbox's launch, 2001-11-15 00:00:00 UTC.
const EPOCH: u64 = 1_005_782_400;

const AT_EMPTY_PATH: u32 = 0x1000;
const MAP_FIXED: u32 = 0x10;
const MAP_ANONYMOUS: u32 = 0x20;
const MAP_FIXED_NOREPLACE: u32 = 0x10_0000;
const RLIM_INFINITY: u64 = u64::MAX;
const EXE_LINK: &[u8] = b"/proc/self/exe";

/// A standard stream: a FIFO (so glibc buffers it fully, whatever the host's stdout is).
const S_IFIFO: u32 = 0o010000;

/// The most one write or writev passes on (a short write beyond).
const MAX_WRITE: usize = 16 << 20;

fn std_fd(fd: u32) -> bool {
    fd <= 2
}

fn result(value: Result<i32, BadAddress>) -> i32 {
    value.unwrap_or(-EFAULT)
}

/// Little-endian bytes of 32-bit words.
fn le32(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn le64(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// i386 system call numbers.
mod nr {
    pub const EXIT: u32 = 1;
    pub const READ: u32 = 3;
    pub const WRITE: u32 = 4;
    pub const OPEN: u32 = 5;
    pub const CLOSE: u32 = 6;
    pub const TIME: u32 = 13;
    pub const LSEEK: u32 = 19;
    pub const GETPID: u32 = 20;
    pub const ACCESS: u32 = 33;
    pub const KILL: u32 = 37;
    pub const BRK: u32 = 45;
    pub const IOCTL: u32 = 54;
    pub const GETPPID: u32 = 64;
    pub const GETTIMEOFDAY: u32 = 78;
    pub const READLINK: u32 = 85;
    pub const MUNMAP: u32 = 91;
    pub const SIGRETURN: u32 = 119;
    pub const UNAME: u32 = 122;
    pub const MODIFY_LDT: u32 = 123;
    pub const MPROTECT: u32 = 125;
    pub const LLSEEK: u32 = 140;
    pub const WRITEV: u32 = 146;
    pub const SCHED_YIELD: u32 = 158;
    pub const RT_SIGRETURN: u32 = 173;
    pub const RT_SIGACTION: u32 = 174;
    pub const RT_SIGPROCMASK: u32 = 175;
    pub const SIGALTSTACK: u32 = 186;
    pub const UGETRLIMIT: u32 = 191;
    pub const MMAP2: u32 = 192;
    pub const STAT64: u32 = 195;
    pub const LSTAT64: u32 = 196;
    pub const FSTAT64: u32 = 197;
    pub const GETUID32: u32 = 199;
    pub const GETEGID32: u32 = 202;
    pub const MADVISE: u32 = 219;
    pub const GETTID: u32 = 224;
    pub const TKILL: u32 = 238;
    pub const SET_THREAD_AREA: u32 = 243;
    pub const GET_THREAD_AREA: u32 = 244;
    pub const EXIT_GROUP: u32 = 252;
    pub const SET_TID_ADDRESS: u32 = 258;
    pub const CLOCK_GETTIME: u32 = 265;
    pub const CLOCK_GETRES: u32 = 266;
    pub const TGKILL: u32 = 270;
    pub const OPENAT: u32 = 295;
    pub const FSTATAT64: u32 = 300;
    pub const READLINKAT: u32 = 305;
    pub const FACCESSAT: u32 = 307;
    pub const SET_ROBUST_LIST: u32 = 311;
    pub const PRLIMIT64: u32 = 340;
    pub const GETRANDOM: u32 = 355;
    pub const STATX: u32 = 383;
    pub const RSEQ: u32 = 386;
    pub const CLOCK_GETTIME64: u32 = 403;
    pub const FACCESSAT2: u32 = 439;
}

/// `value` for a standard stream, EBADF for any other descriptor.
fn on_std_fd(fd: u32, value: i32) -> i32 {
    if std_fd(fd) { value } else { -EBADF }
}

impl Kernel<'_> {
    /// Runs the system call in `context` and sets its result.
    pub(super) fn syscall(&mut self, context: &mut Context) -> Flow {
        let r = context.regs;
        let [a, b, c, d, e, f] = [
            r[reg::EBX],
            r[reg::ECX],
            r[reg::EDX],
            r[reg::ESI],
            r[reg::EDI],
            r[reg::EBP],
        ];
        let number = r[reg::EAX];
        let value = match number {
            nr::EXIT | nr::EXIT_GROUP => return Flow::Exit(Exit::Code(a as u8)),
            nr::SIGRETURN | nr::RT_SIGRETURN => {
                return self.sigreturn(context, number == nr::RT_SIGRETURN);
            }
            // Standard input is empty.
            nr::READ => on_std_fd(a, 0),
            nr::WRITE => result(self.write_fd(a, b, c)),
            nr::WRITEV => result(self.writev(a, b, c)),
            nr::CLOSE => on_std_fd(a, 0),
            nr::LSEEK | nr::LLSEEK => on_std_fd(a, -ESPIPE),
            nr::IOCTL => on_std_fd(a, -ENOTTY),
            nr::FSTAT64 => result(self.fstat64(a, b)),
            nr::FSTATAT64 => result(self.fstatat64(a, b, c, d)),
            nr::STATX => result(self.statx(a, b, c, e)),
            // There is no file system.
            nr::OPEN
            | nr::OPENAT
            | nr::ACCESS
            | nr::FACCESSAT
            | nr::FACCESSAT2
            | nr::STAT64
            | nr::LSTAT64 => -ENOENT,
            nr::READLINK => result(self.readlink(a, b, c)),
            nr::READLINKAT => result(self.readlink(b, c, d)),
            nr::BRK => self.brk(a) as i32,
            nr::MMAP2 => self.mmap(a, b, c, d, e),
            nr::MUNMAP => self.munmap(a, b),
            nr::MPROTECT => self.mprotect(a, b, c),
            nr::MADVISE | nr::SCHED_YIELD => 0,
            nr::MODIFY_LDT => {
                let (value, changed) = self.ldt.modify(&mut self.memory, &mut self.cpu, a, b, c);
                self.ldt_changed |= changed;
                value
            }
            nr::SET_THREAD_AREA => ldt::set_thread_area(&mut self.memory, &mut self.cpu, a),
            nr::GET_THREAD_AREA => ldt::get_thread_area(&mut self.memory, &mut self.cpu, a),
            nr::RT_SIGACTION => {
                self.signals
                    .rt_sigaction(&mut self.memory, &mut self.cpu, a, b, c, d)
            }
            nr::RT_SIGPROCMASK => {
                self.signals
                    .rt_sigprocmask(&mut self.memory, &mut self.cpu, a, b, c, d)
            }
            nr::SIGALTSTACK => {
                let sp = context.regs[reg::ESP];
                self.signals
                    .sigaltstack(&mut self.memory, &mut self.cpu, sp, a, b)
            }
            nr::KILL => self.kill(a, b, code::SI_USER),
            nr::TKILL => self.kill(a, b, code::SI_TKILL),
            nr::TGKILL => self.kill(b, c, code::SI_TKILL),
            nr::GETPID | nr::GETTID | nr::SET_TID_ADDRESS => PID as i32,
            nr::GETPPID => 1,
            nr::GETUID32..=nr::GETEGID32 => UID as i32,
            // One thread: the robust futex list is never walked.
            nr::SET_ROBUST_LIST => {
                if b == 12 {
                    0
                } else {
                    -EINVAL
                }
            }
            // glibc registers rseq when it can; saying no is always allowed.
            nr::RSEQ => -ENOSYS,
            nr::UGETRLIMIT => result(self.ugetrlimit(a, b)),
            nr::PRLIMIT64 => result(self.prlimit64(a, b, c, d)),
            nr::TIME => result(self.time(a)),
            nr::GETTIMEOFDAY => result(self.gettimeofday(a, b)),
            nr::CLOCK_GETTIME => result(self.clock_gettime(a, b, false)),
            nr::CLOCK_GETTIME64 => result(self.clock_gettime(a, b, true)),
            nr::CLOCK_GETRES => result(self.clock_getres(a, b)),
            nr::GETRANDOM => result(self.getrandom(a, b)),
            nr::UNAME => result(self.uname(a)),
            _ => {
                self.note_unknown(number, [a, b, c, d, e, f]);
                -ENOSYS
            }
        };
        context.regs[reg::EAX] = value as u32;
        Flow::Continue
    }

    fn note_unknown(&mut self, number: u32, args: [u32; 6]) {
        if self.noted.insert(number) {
            let _ = writeln!(
                self.stderr,
                "oxbox user: system call {number} is not emulated (ENOSYS); first arguments \
                 {args:08x?}"
            );
        }
    }

    fn emit(&mut self, fd: u32, bytes: &[u8]) -> i32 {
        let stream = match fd {
            1 => &mut self.stdout,
            2 => &mut self.stderr,
            _ => return -EBADF,
        };
        match stream.write_all(bytes) {
            Ok(()) => bytes.len() as i32,
            Err(_) => -EIO,
        }
    }

    fn write_fd(&mut self, fd: u32, buffer: u32, len: u32) -> Result<i32, BadAddress> {
        if fd != 1 && fd != 2 {
            return Ok(-EBADF);
        }
        let mut bytes = vec![0; (len as usize).min(MAX_WRITE)];
        self.memory.read_user(buffer, &mut bytes)?;
        Ok(self.emit(fd, &bytes))
    }

    fn writev(&mut self, fd: u32, iov: u32, count: u32) -> Result<i32, BadAddress> {
        if fd != 1 && fd != 2 {
            return Ok(-EBADF);
        }
        if count > 1024 {
            return Ok(-EINVAL);
        }
        let mut bytes = Vec::new();
        for i in 0..count {
            let base = self.memory.read_user_u32(iov.wrapping_add(8 * i))?;
            let len = self.memory.read_user_u32(iov.wrapping_add(8 * i + 4))?;
            // A short write past MAX_WRITE in all, as the kernel may do.
            let start = bytes.len();
            bytes.resize(start + (len as usize).min(MAX_WRITE - start), 0);
            self.memory.read_user(base, &mut bytes[start..])?;
        }
        Ok(self.emit(fd, &bytes))
    }

    /// brk(address): grows or shrinks the heap; returns the break, unchanged on failure.
    fn brk(&mut self, address: u32) -> u32 {
        let (start, current) = self.brk;
        if address < start {
            return current;
        }
        let (Some(old_top), Some(new_top)) = (page_up(current), page_up(address)) else {
            return current;
        };
        if new_top > USER_TOP {
            return current;
        }
        if new_top > old_top {
            let len = new_top - old_top;
            if !self.memory.is_free(old_top, len)
                || self
                    .memory
                    .map(old_top, len, prot::READ | prot::WRITE | prot::EXEC)
                    .is_err()
            {
                return current;
            }
        } else if new_top < old_top {
            self.memory.unmap(new_top, old_top - new_top);
        }
        self.brk.1 = address;
        address
    }

    /// mmap2(address, length, prot, flags, fd, page offset): anonymous mappings only.
    fn mmap(&mut self, address: u32, len: u32, protection: u32, flags: u32, fd: u32) -> i32 {
        if flags & MAP_ANONYMOUS == 0 {
            return if std_fd(fd) { -ENODEV } else { -EBADF };
        }
        let Some(len) = page_up(len).filter(|&len| len > 0) else {
            return if len == 0 { -EINVAL } else { -ENOMEM };
        };
        let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
        let fits = |start: u32| start.checked_add(len).is_some_and(|end| end <= USER_TOP);
        let start = if fixed {
            if !address.is_multiple_of(PAGE) {
                return -EINVAL;
            }
            if address < MMAP_MIN {
                return -EPERM;
            }
            if !fits(address) {
                return -ENOMEM;
            }
            if flags & MAP_FIXED == 0 && !self.memory.is_free(address, len) {
                return -EEXIST;
            }
            address
        } else {
            let hint = page_down(address);
            if hint >= MMAP_MIN && fits(hint) && self.memory.is_free(hint, len) {
                hint
            } else {
                match self.memory.find_free(len, MMAP_BASE) {
                    Some(start) => start,
                    None => return -ENOMEM,
                }
            }
        };
        match self.memory.map(start, len, protection & 7) {
            Ok(()) => start as i32,
            Err(_) => -ENOMEM,
        }
    }

    fn munmap(&mut self, address: u32, len: u32) -> i32 {
        match page_up(len) {
            Some(len)
                if address.is_multiple_of(PAGE)
                    && len > 0
                    && address.checked_add(len).is_some_and(|end| end <= USER_TOP) =>
            {
                self.memory.unmap(address, len);
                0
            }
            _ => -EINVAL,
        }
    }

    fn mprotect(&mut self, address: u32, len: u32, protection: u32) -> i32 {
        let Some(len) = page_up(len) else {
            return -ENOMEM;
        };
        if !address.is_multiple_of(PAGE) {
            return -EINVAL;
        }
        match self.memory.protect(address, len, protection & 7) {
            Ok(()) => 0,
            Err(BadAddress) => -ENOMEM,
        }
    }

    fn kill(&mut self, target: u32, signal: u32, code: i32) -> i32 {
        if !matches!(target as i32, 0 | -1) && target != PID {
            return -ESRCH;
        }
        if signal > 64 {
            return -EINVAL;
        }
        if signal > 0 {
            self.signals.raise(Info {
                signal: signal as u8,
                code,
                fields: Fields::Sender { pid: PID, uid: UID },
            });
        }
        0
    }

    /// Emulated time in nanoseconds since the program started.
    fn nanoseconds(&self) -> u64 {
        (u128::from(self.cpu.cycles) * 1_000_000_000 / u128::from(CLOCK_HZ)) as u64
    }

    /// CLOCK_REALTIME in nanoseconds.
    fn realtime(&self) -> u64 {
        self.nanoseconds() + EPOCH * 1_000_000_000
    }

    /// A clock's time in nanoseconds: the realtime clocks, or time since the start for the
    /// monotonic, boot and CPU-time clocks.
    fn clock(&self, clock: u32) -> Option<u64> {
        match clock {
            0 | 5 => Some(self.realtime()),
            1..=4 | 6 | 7 => Some(self.nanoseconds()),
            _ => None,
        }
    }

    fn clock_gettime(&mut self, clock: u32, address: u32, wide: bool) -> Result<i32, BadAddress> {
        let Some(now) = self.clock(clock) else {
            return Ok(-EINVAL);
        };
        let (seconds, nanoseconds) = (now / 1_000_000_000, now % 1_000_000_000);
        let bytes = if wide {
            le64(&[seconds, nanoseconds])
        } else {
            le32(&[seconds as u32, nanoseconds as u32])
        };
        self.memory.write_user(&mut self.cpu, address, &bytes)?;
        Ok(0)
    }

    fn clock_getres(&mut self, clock: u32, address: u32) -> Result<i32, BadAddress> {
        if self.clock(clock).is_none() {
            return Ok(-EINVAL);
        }
        if address != 0 {
            self.memory
                .write_user(&mut self.cpu, address, &[0, 0, 0, 0, 1, 0, 0, 0])?;
        }
        Ok(0)
    }

    fn gettimeofday(&mut self, tv: u32, tz: u32) -> Result<i32, BadAddress> {
        let now = self.realtime() / 1000;
        if tv != 0 {
            let bytes = le32(&[(now / 1_000_000) as u32, (now % 1_000_000) as u32]);
            self.memory.write_user(&mut self.cpu, tv, &bytes)?;
        }
        if tz != 0 {
            self.memory.write_user(&mut self.cpu, tz, &[0; 8])?;
        }
        Ok(0)
    }

    fn time(&mut self, address: u32) -> Result<i32, BadAddress> {
        let seconds = (self.realtime() / 1_000_000_000) as u32;
        if address != 0 {
            self.memory
                .write_user_u32(&mut self.cpu, address, seconds)?;
        }
        Ok(seconds as i32)
    }

    fn uname(&mut self, address: u32) -> Result<i32, BadAddress> {
        let fields: [&[u8]; 6] = [
            b"Linux",
            b"oxbox",
            b"6.1.0",
            b"#1 SMP oxbox",
            b"i686",
            b"(none)",
        ];
        let mut bytes = vec![0; 6 * 65];
        for (i, field) in fields.iter().enumerate() {
            bytes[i * 65..i * 65 + field.len()].copy_from_slice(field);
        }
        self.memory.write_user(&mut self.cpu, address, &bytes)?;
        Ok(0)
    }

    fn readlink(&mut self, path: u32, buffer: u32, size: u32) -> Result<i32, BadAddress> {
        let path = self.memory.read_user_string(path, 4096)?;
        if path != EXE_LINK {
            return Ok(-ENOENT);
        }
        if size as i32 <= 0 {
            return Ok(-EINVAL);
        }
        let target = self.exe.clone();
        let len = target.len().min(size as usize);
        self.memory
            .write_user(&mut self.cpu, buffer, &target[..len])?;
        Ok(len as i32)
    }

    /// A resource limit: 8 MiB of stack, 1024 files, everything else unlimited.
    fn limit(resource: u32) -> Option<(u64, u64)> {
        match resource {
            3 => Some((8 << 20, RLIM_INFINITY)),
            7 => Some((1024, 1024)),
            0..16 => Some((RLIM_INFINITY, RLIM_INFINITY)),
            _ => None,
        }
    }

    fn ugetrlimit(&mut self, resource: u32, address: u32) -> Result<i32, BadAddress> {
        let Some((current, max)) = Kernel::limit(resource) else {
            return Ok(-EINVAL);
        };
        let narrow = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        let bytes = le32(&[narrow(current), narrow(max)]);
        self.memory.write_user(&mut self.cpu, address, &bytes)?;
        Ok(0)
    }

    /// prlimit64(pid, resource, new, old): reports the limits; new ones are accepted and
    /// have no effect.
    fn prlimit64(
        &mut self,
        pid: u32,
        resource: u32,
        _new: u32,
        old: u32,
    ) -> Result<i32, BadAddress> {
        if pid != 0 && pid != PID {
            return Ok(-ESRCH);
        }
        let Some((current, max)) = Kernel::limit(resource) else {
            return Ok(-EINVAL);
        };
        if old != 0 {
            self.memory
                .write_user(&mut self.cpu, old, &le64(&[current, max]))?;
        }
        Ok(0)
    }

    fn getrandom(&mut self, address: u32, len: u32) -> Result<i32, BadAddress> {
        let len = len.min(0x1FF_FFFF);
        let mut bytes = vec![0; len as usize];
        self.random.fill(&mut bytes);
        self.memory.write_user(&mut self.cpu, address, &bytes)?;
        Ok(len as i32)
    }

    /// struct stat64 (96 bytes) of standard stream `fd`.
    fn fstat64(&mut self, fd: u32, address: u32) -> Result<i32, BadAddress> {
        if !std_fd(fd) {
            return Ok(-EBADF);
        }
        let mut bytes = [0u8; 96];
        let mut put =
            |at: usize, value: u32| bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
        put(12, fd + 1); // __st_ino
        put(16, S_IFIFO | 0o600);
        put(20, 1); // st_nlink
        put(24, UID);
        put(28, UID);
        put(52, PAGE); // st_blksize
        put(88, fd + 1); // st_ino
        self.memory.write_user(&mut self.cpu, address, &bytes)?;
        Ok(0)
    }

    fn fstatat64(
        &mut self,
        dirfd: u32,
        path: u32,
        address: u32,
        flags: u32,
    ) -> Result<i32, BadAddress> {
        let path = self.memory.read_user_string(path, 4096)?;
        if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
            return self.fstat64(dirfd, address);
        }
        Ok(-ENOENT)
    }

    /// struct statx (256 bytes) of standard stream `dirfd` (empty path with AT_EMPTY_PATH).
    fn statx(
        &mut self,
        dirfd: u32,
        path: u32,
        flags: u32,
        address: u32,
    ) -> Result<i32, BadAddress> {
        let path = self.memory.read_user_string(path, 4096)?;
        if !path.is_empty() || flags & AT_EMPTY_PATH == 0 {
            return Ok(-ENOENT);
        }
        if !std_fd(dirfd) {
            return Ok(-EBADF);
        }
        let mut bytes = [0u8; 256];
        let mut put =
            |at: usize, value: u32| bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
        put(0, 0x7FF); // stx_mask: STATX_BASIC_STATS
        put(4, PAGE); // stx_blksize
        put(16, 1); // stx_nlink
        put(20, UID);
        put(24, UID);
        put(28, S_IFIFO | 0o600); // stx_mode (16 bits)
        put(32, dirfd + 1); // stx_ino
        self.memory.write_user(&mut self.cpu, address, &bytes)?;
        Ok(0)
    }
}
