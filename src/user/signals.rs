//! Signals: dispositions, the blocked and pending sets, the alternate stack, and the i386 signal
//! frames Linux builds (`struct sigframe` without SA_SIGINFO, `struct rt_sigframe` with it)
//! and takes back on sigreturn and rt_sigreturn.
//!
//! The FPU state (`fpstate`, see that module) sits above each frame, 64-byte aligned, where
//! Linux puts it; the kernel saves and restores it through the CPU.

use super::fpstate;
use super::layout::selector;
use super::memory::{BadAddress, Memory};
use super::ring0::Context;
use super::syscalls::errno;
use crate::cpu::Cpu;
use crate::cpu::state::{flag, reg};

pub const SIGILL: u8 = 4;
pub const SIGTRAP: u8 = 5;
pub const SIGBUS: u8 = 7;
pub const SIGFPE: u8 = 8;
pub const SIGKILL: u8 = 9;
pub const SIGSEGV: u8 = 11;
pub const SIGSTOP: u8 = 19;

const SIG_DFL: u32 = 0;
const SIG_IGN: u32 = 1;

const SA_SIGINFO: u32 = 0x4;
const SA_RESTORER: u32 = 0x0400_0000;
const SA_ONSTACK: u32 = 0x0800_0000;
const SA_NODEFER: u32 = 0x4000_0000;
const SA_RESETHAND: u32 = 0x8000_0000;

const SS_ONSTACK: u32 = 1;
const SS_DISABLE: u32 = 2;
const MINSIGSTKSZ: u32 = 2048;

const NR_SIGRETURN: u8 = 119;
const NR_RT_SIGRETURN: u8 = 173;

/// si_code values.
pub mod code {
    pub const SI_USER: i32 = 0;
    pub const SI_KERNEL: i32 = 0x80;
    pub const SI_TKILL: i32 = -6;
    pub const ILL_ILLOPN: i32 = 2;
    pub const FPE_INTDIV: i32 = 1;
    pub const FPE_FLTINV: i32 = 7;
    pub const SEGV_MAPERR: i32 = 1;
    pub const SEGV_ACCERR: i32 = 2;
    pub const BUS_ADRALN: i32 = 1;
    pub const TRAP_TRACE: i32 = 2;
}

/// The flags sigreturn takes from the user's sigcontext (Linux's FIX_EFLAGS).
const FIX_EFLAGS: u32 = flag::AC
    | flag::OF
    | flag::DF
    | flag::TF
    | flag::SF
    | flag::ZF
    | flag::AF
    | flag::PF
    | flag::CF
    | flag::RF;

fn bit(signal: u8) -> u64 {
    1 << (signal - 1)
}

/// SIGKILL and SIGSTOP cannot be blocked.
const UNBLOCKABLE: u64 = 1 << (SIGKILL - 1) | 1 << (SIGSTOP - 1);

/// A `struct sigaction` (the rt form: handler, flags, restorer, 64-bit mask).
#[derive(Clone, Copy, Debug, Default)]
struct Action {
    handler: u32,
    flags: u32,
    restorer: u32,
    mask: u64,
}

/// The `siginfo_t` of a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    pub signal: u8,
    pub code: i32,
    pub fields: Fields,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fields {
    /// A fault: the faulting address (si_addr).
    Fault(u32),
    /// Sent by a process (si_pid, si_uid).
    Sender { pid: u32, uid: u32 },
}

impl Info {
    /// The 128-byte siginfo_t.
    fn bytes(&self) -> [u8; 128] {
        let mut bytes = [0; 128];
        let mut put =
            |at: usize, value: u32| bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
        put(0, u32::from(self.signal));
        put(8, self.code as u32);
        match self.fields {
            Fields::Fault(address) => put(12, address),
            Fields::Sender { pid, uid } => {
                put(12, pid);
                put(16, uid);
            }
        }
        bytes
    }
}

/// What the CPU reported with the last exception: the sigcontext's trapno, err and cr2.
#[derive(Clone, Copy, Debug, Default)]
pub struct Trap {
    pub trapno: u32,
    pub error: u32,
    pub cr2: u32,
}

/// The signal an exception becomes, as Linux's trap handlers decide it.
pub fn for_exception(vector: u8, error: u32, eip: u32, cr2: u32) -> Info {
    let (signal, code, address) = match vector {
        0 => (SIGFPE, code::FPE_INTDIV, eip),
        1 => (SIGTRAP, code::TRAP_TRACE, eip),
        3 => (SIGTRAP, code::SI_KERNEL, 0),
        6 => (SIGILL, code::ILL_ILLOPN, eip),
        11 | 12 => (SIGBUS, code::SI_KERNEL, 0),
        14 if error & 1 != 0 => (SIGSEGV, code::SEGV_ACCERR, cr2),
        14 => (SIGSEGV, code::SEGV_MAPERR, cr2),
        16 | 19 => (SIGFPE, code::FPE_FLTINV, eip),
        17 => (SIGBUS, code::BUS_ADRALN, 0),
        _ => (SIGSEGV, code::SI_KERNEL, 0),
    };
    Info {
        signal,
        code,
        fields: Fields::Fault(address),
    }
}

/// What a signal frame saves besides the registers.
struct Saved<'a> {
    trap: Trap,
    /// A `struct _fpstate_32`.
    fpu: &'a [u8],
    /// The blocked set before the handler.
    mask: u64,
}

/// What delivering a signal did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// A handler frame is on the user stack; the context now enters the handler.
    Handled,
    Ignored,
    /// The default action: the process dies.
    Terminate(u8),
}

#[derive(Clone, Copy, Debug, Default)]
struct AltStack {
    base: u32,
    size: u32,
}

impl AltStack {
    fn contains(&self, sp: u32) -> bool {
        sp > self.base && sp - self.base <= self.size
    }

    /// ss_flags as sigaltstack and uc_stack report them for a thread at `sp`.
    fn flags(&self, sp: u32) -> u32 {
        if self.size == 0 {
            SS_DISABLE
        } else if self.contains(sp) {
            SS_ONSTACK
        } else {
            0
        }
    }
}

pub struct Signals {
    actions: [Action; 64],
    blocked: u64,
    pending: [Option<Info>; 64],
    altstack: AltStack,
}

impl Default for Signals {
    fn default() -> Signals {
        Signals {
            actions: [Action::default(); 64],
            blocked: 0,
            pending: [None; 64],
            altstack: AltStack::default(),
        }
    }
}

/// Whether a signal's default action is to do nothing (SIGCHLD, SIGCONT, SIGURG, SIGWINCH).
/// The stop signals are ignored too: there is no job control.
fn ignored_by_default(signal: u8) -> bool {
    matches!(signal, 17..=23 | 28)
}

impl Signals {
    /// Makes a signal pending (standard signals do not queue: a second one is lost).
    pub fn raise(&mut self, info: Info) {
        let slot = &mut self.pending[usize::from(info.signal - 1)];
        slot.get_or_insert(info);
    }

    /// The lowest-numbered pending signal that is not blocked, taken off the pending set.
    pub fn next_deliverable(&mut self) -> Option<Info> {
        let blocked = self.blocked;
        self.pending
            .iter_mut()
            .enumerate()
            .find(|(i, info)| info.is_some() && blocked & (1 << i) == 0)
            .and_then(|(_, info)| info.take())
    }

    /// Delivers `info` to the thread in `context`, whose FPU state is `fpu` (a
    /// `struct _fpstate_32`). A `forced` signal (from an exception) kills the process if it is
    /// blocked or ignored, as Linux's force_sig does.
    #[allow(clippy::too_many_arguments)]
    pub fn deliver(
        &mut self,
        memory: &mut Memory,
        cpu: &mut Cpu,
        context: &mut Context,
        info: Info,
        trap: Trap,
        fpu: &[u8],
        forced: bool,
    ) -> Result<Delivery, BadAddress> {
        let index = usize::from(info.signal - 1);
        let action = self.actions[index];
        if forced && (action.handler == SIG_IGN || self.blocked & bit(info.signal) != 0) {
            self.actions[index] = Action::default();
            self.blocked &= !bit(info.signal);
            return Ok(Delivery::Terminate(info.signal));
        }
        match action.handler {
            SIG_IGN => return Ok(Delivery::Ignored),
            SIG_DFL if ignored_by_default(info.signal) => return Ok(Delivery::Ignored),
            SIG_DFL => return Ok(Delivery::Terminate(info.signal)),
            _ => {}
        }
        let old_mask = self.blocked;
        let saved = Saved {
            trap,
            fpu,
            mask: old_mask,
        };
        self.setup_frame(memory, cpu, context, &action, info, &saved)?;
        let mut added = action.mask;
        if action.flags & SA_NODEFER == 0 {
            added |= bit(info.signal);
        }
        self.blocked = (self.blocked | added) & !UNBLOCKABLE;
        if action.flags & SA_RESETHAND != 0 {
            self.actions[index] = Action::default();
        }
        Ok(Delivery::Handled)
    }

    /// Writes the signal frame on the user stack (or the alternate stack) and points the
    /// context at the handler.
    fn setup_frame(
        &self,
        memory: &mut Memory,
        cpu: &mut Cpu,
        context: &mut Context,
        action: &Action,
        info: Info,
        saved: &Saved,
    ) -> Result<(), BadAddress> {
        let user_sp = context.regs[reg::ESP];
        let mut sp = user_sp;
        if action.flags & SA_ONSTACK != 0 && self.altstack.flags(sp) == 0 {
            sp = self.altstack.base.wrapping_add(self.altstack.size);
        }
        let rt = action.flags & SA_SIGINFO != 0;
        let size = if rt { 268 } else { 732 };
        // The FXSAVE part 64-byte aligned, the legacy part below it (fpu__alloc_mathframe).
        let fpstate = (sp.wrapping_sub(512) & !63).wrapping_sub(fpstate::FXSAVE_OFFSET as u32);
        // The i386 ABI's alignment at function entry: (sp + 4) % 16 == 0.
        let frame = (fpstate.wrapping_sub(size).wrapping_add(4) & !15).wrapping_sub(4);
        let old_mask = saved.mask;
        let sc = sigcontext(context, saved.trap, old_mask as u32, fpstate);
        let retcode_at = frame + size - 8;
        let return_address = if action.flags & SA_RESTORER != 0 {
            action.restorer
        } else {
            retcode_at
        };
        let mut bytes = Vec::with_capacity(size as usize);
        let put = |bytes: &mut Vec<u8>, value: u32| bytes.extend(value.to_le_bytes());
        put(&mut bytes, return_address);
        put(&mut bytes, u32::from(info.signal));
        if rt {
            put(&mut bytes, frame + 16);
            put(&mut bytes, frame + 144);
            bytes.extend(info.bytes());
            put(&mut bytes, 0); // uc_flags
            put(&mut bytes, 0); // uc_link
            put(&mut bytes, self.altstack.base);
            put(&mut bytes, self.altstack.flags(user_sp));
            put(&mut bytes, self.altstack.size);
            bytes.extend(&sc);
            bytes.extend(old_mask.to_le_bytes());
            // mov eax, __NR_rt_sigreturn; int 0x80
            bytes.extend([0xB8, NR_RT_SIGRETURN, 0, 0, 0, 0xCD, 0x80, 0]);
        } else {
            bytes.extend(&sc);
            bytes.extend([0; 624]); // the unused legacy FPU area
            put(&mut bytes, (old_mask >> 32) as u32);
            // pop eax; mov eax, __NR_sigreturn; int 0x80
            bytes.extend([0x58, 0xB8, NR_SIGRETURN, 0, 0, 0, 0xCD, 0x80]);
        }
        // A stack near 0 or 4 GiB wraps these sums: such a frame is not writable user memory.
        let end = fpstate.checked_add(fpstate::SIZE).ok_or(BadAddress)?;
        if frame > end || !memory.user_writable(frame, end - frame) {
            return Err(BadAddress);
        }
        memory.write_user(cpu, fpstate, saved.fpu)?;
        memory.write_user(cpu, frame, &bytes)?;

        context.regs[reg::ESP] = frame;
        context.eip = action.handler;
        context.regs[reg::EAX] = u32::from(info.signal);
        let (info_at, context_at) = if rt {
            (frame + 16, frame + 144)
        } else {
            (0, 0)
        };
        context.regs[reg::EDX] = info_at;
        context.regs[reg::ECX] = context_at;
        context.cs = selector::USER_CS;
        context.ss = selector::USER_DS;
        context.ds = selector::USER_DS;
        context.es = selector::USER_DS;
        context.eflags &= !(flag::DF | flag::RF | flag::TF);
        Ok(())
    }

    /// sigreturn (`rt` false) and rt_sigreturn: restores the context and mask saved in the
    /// frame the handler returned through; returns where its FPU state is (0: none).
    pub fn sigreturn(
        &mut self,
        memory: &Memory,
        context: &mut Context,
        rt: bool,
    ) -> Result<u32, BadAddress> {
        let sp = context.regs[reg::ESP];
        let mut sc = [0u8; 88];
        let mask = if rt {
            // The handler's RET popped the return address.
            let frame = sp.wrapping_sub(4);
            let uc = frame.wrapping_add(144);
            memory.read_user(uc.wrapping_add(20), &mut sc)?;
            let mut mask = [0; 8];
            memory.read_user(uc.wrapping_add(108), &mut mask)?;
            let base = memory.read_user_u32(uc.wrapping_add(8))?;
            let flags = memory.read_user_u32(uc.wrapping_add(12))?;
            let size = memory.read_user_u32(uc.wrapping_add(16))?;
            // Errors from the saved stack are ignored, as Linux's restore_altstack does.
            let _ = self.set_altstack(sp, base, flags, size);
            u64::from_le_bytes(mask)
        } else {
            // RET popped the return address and the restorer's POP EAX the signal number.
            let frame = sp.wrapping_sub(8);
            memory.read_user(frame.wrapping_add(8), &mut sc)?;
            let extra = memory.read_user_u32(frame.wrapping_add(720))?;
            let low = u32::from_le_bytes([sc[80], sc[81], sc[82], sc[83]]);
            u64::from(extra) << 32 | u64::from(low)
        };
        restore_sigcontext(context, &sc);
        self.blocked = mask & !UNBLOCKABLE;
        Ok(u32::from_le_bytes([sc[76], sc[77], sc[78], sc[79]]))
    }

    /// rt_sigaction(signal, act, oact, sigsetsize).
    pub fn rt_sigaction(
        &mut self,
        memory: &mut Memory,
        cpu: &mut Cpu,
        signal: u32,
        act: u32,
        oact: u32,
        size: u32,
    ) -> i32 {
        if size != 8 || !(1..=64).contains(&signal) {
            return -errno::EINVAL;
        }
        let signal = signal as u8;
        if act != 0 && (signal == SIGKILL || signal == SIGSTOP) {
            return -errno::EINVAL;
        }
        let index = usize::from(signal - 1);
        let new = if act == 0 {
            None
        } else {
            let mut bytes = [0u8; 20];
            if memory.read_user(act, &mut bytes).is_err() {
                return -errno::EFAULT;
            }
            let word =
                |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
            Some(Action {
                handler: word(0),
                flags: word(4),
                restorer: word(8),
                mask: u64::from(word(12)) | u64::from(word(16)) << 32,
            })
        };
        if oact != 0 {
            let old = self.actions[index];
            let mut bytes = Vec::with_capacity(20);
            for word in [
                old.handler,
                old.flags,
                old.restorer,
                old.mask as u32,
                (old.mask >> 32) as u32,
            ] {
                bytes.extend(word.to_le_bytes());
            }
            if memory.write_user(cpu, oact, &bytes).is_err() {
                return -errno::EFAULT;
            }
        }
        if let Some(action) = new {
            self.actions[index] = action;
            // Setting a signal to be ignored discards it if pending.
            if action.handler == SIG_IGN
                || (action.handler == SIG_DFL && ignored_by_default(signal))
            {
                self.pending[index] = None;
            }
        }
        0
    }

    /// rt_sigprocmask(how, set, oset, sigsetsize).
    pub fn rt_sigprocmask(
        &mut self,
        memory: &mut Memory,
        cpu: &mut Cpu,
        how: u32,
        set: u32,
        oset: u32,
        size: u32,
    ) -> i32 {
        if size != 8 {
            return -errno::EINVAL;
        }
        let old = self.blocked;
        let new = if set == 0 {
            None
        } else {
            let mut bytes = [0; 8];
            if memory.read_user(set, &mut bytes).is_err() {
                return -errno::EFAULT;
            }
            let set = u64::from_le_bytes(bytes);
            Some(match how {
                0 => old | set,
                1 => old & !set,
                2 => set,
                _ => return -errno::EINVAL,
            })
        };
        if oset != 0 && memory.write_user(cpu, oset, &old.to_le_bytes()).is_err() {
            return -errno::EFAULT;
        }
        if let Some(new) = new {
            self.blocked = new & !UNBLOCKABLE;
        }
        0
    }

    /// sigaltstack(ss, oss) for a thread whose stack pointer is `sp`.
    pub fn sigaltstack(
        &mut self,
        memory: &mut Memory,
        cpu: &mut Cpu,
        sp: u32,
        ss: u32,
        oss: u32,
    ) -> i32 {
        let old = self.altstack;
        if ss != 0 {
            let mut bytes = [0; 12];
            if memory.read_user(ss, &mut bytes).is_err() {
                return -errno::EFAULT;
            }
            let word =
                |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
            if let Err(error) = self.set_altstack(sp, word(0), word(4), word(8)) {
                return -error;
            }
        }
        if oss != 0 {
            let mut bytes = Vec::with_capacity(12);
            for word in [old.base, old.flags(sp), old.size] {
                bytes.extend(word.to_le_bytes());
            }
            if memory.write_user(cpu, oss, &bytes).is_err() {
                self.altstack = old;
                return -errno::EFAULT;
            }
        }
        0
    }

    fn set_altstack(&mut self, sp: u32, base: u32, flags: u32, size: u32) -> Result<(), i32> {
        if self.altstack.contains(sp) {
            return Err(errno::EPERM);
        }
        // SS_AUTODISARM (bit 31) is accepted and not modelled.
        match flags & !(1 << 31) {
            SS_DISABLE => self.altstack = AltStack::default(),
            0 if size < MINSIGSTKSZ => return Err(errno::ENOMEM),
            0 => self.altstack = AltStack { base, size },
            _ => return Err(errno::EINVAL),
        }
        Ok(())
    }
}

/// The 88-byte `struct sigcontext` (i386).
fn sigcontext(context: &Context, trap: Trap, old_mask: u32, fpstate: u32) -> Vec<u8> {
    let r = &context.regs;
    let words = [
        u32::from(context.gs),
        u32::from(context.fs),
        u32::from(context.es),
        u32::from(context.ds),
        r[reg::EDI],
        r[reg::ESI],
        r[reg::EBP],
        r[reg::ESP],
        r[reg::EBX],
        r[reg::EDX],
        r[reg::ECX],
        r[reg::EAX],
        trap.trapno,
        trap.error,
        context.eip,
        u32::from(context.cs),
        context.eflags,
        r[reg::ESP],
        u32::from(context.ss),
        fpstate,
        old_mask,
        trap.cr2,
    ];
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn restore_sigcontext(context: &mut Context, sc: &[u8; 88]) {
    let word =
        |i: usize| u32::from_le_bytes([sc[4 * i], sc[4 * i + 1], sc[4 * i + 2], sc[4 * i + 3]]);
    context.gs = word(0) as u16;
    context.fs = word(1) as u16;
    context.es = word(2) as u16;
    context.ds = word(3) as u16;
    for (i, register) in [
        reg::EDI,
        reg::ESI,
        reg::EBP,
        reg::ESP,
        reg::EBX,
        reg::EDX,
        reg::ECX,
        reg::EAX,
    ]
    .into_iter()
    .enumerate()
    {
        context.regs[register] = word(4 + i);
    }
    context.eip = word(14);
    // User code can only ask for user privilege.
    context.cs = word(15) as u16 | 3;
    context.eflags = (context.eflags & !FIX_EFLAGS) | (word(16) & FIX_EFLAGS);
    context.ss = word(18) as u16 | 3;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigcontext_round_trips_and_sigreturn_keeps_privileged_flags() {
        let context = Context {
            regs: [1, 2, 3, 4, 5, 6, 7, 8],
            eip: 0x0804_8000,
            eflags: flag::FIXED | flag::IF | flag::CF | flag::DF,
            cs: selector::USER_CS,
            ss: selector::USER_DS,
            ds: selector::USER_DS,
            es: 0,
            fs: 0x0F,
            gs: 0x33,
        };
        let trap = Trap {
            trapno: 14,
            error: 6,
            cr2: 0x1234,
        };
        let bytes: [u8; 88] = sigcontext(&context, trap, 0, 0).try_into().unwrap();
        // The layout of struct sigcontext: gs first, eax at 44, trapno/err/eip at 48/52/56.
        assert_eq!(bytes[0], 0x33);
        assert_eq!(bytes[44], 1);
        assert_eq!(
            &bytes[48..60],
            &[14, 0, 0, 0, 6, 0, 0, 0, 0, 0x80, 0x04, 0x08]
        );
        assert_eq!(&bytes[84..88], &0x1234u32.to_le_bytes());
        let mut restored = Context::default();
        restore_sigcontext(&mut restored, &bytes);
        assert_eq!(
            restored,
            Context {
                eflags: flag::CF | flag::DF,
                ..context
            }
        );

        // A handler can neither lower its privilege nor change IF or IOPL.
        let mut evil = bytes;
        evil[60] = 0x60; // a ring-0 CS
        evil[64..68].copy_from_slice(&(flag::IOPL | flag::TF).to_le_bytes());
        let mut restored = context;
        restore_sigcontext(&mut restored, &evil);
        assert_eq!(restored.cs, 0x63);
        assert_eq!(
            restored.eflags,
            flag::FIXED | flag::IF | flag::TF,
            "only the flags user code may set"
        );
    }

    #[test]
    fn exceptions_become_linux_signals() {
        let signal = |vector, error| for_exception(vector, error, 0x100, 0x200);
        assert_eq!(signal(0, 0).signal, SIGFPE);
        assert_eq!(signal(6, 0).fields, Fields::Fault(0x100));
        assert_eq!(signal(11, 0xC).signal, SIGBUS);
        assert_eq!(signal(13, 0).code, code::SI_KERNEL);
        assert_eq!(signal(14, 7).code, code::SEGV_ACCERR);
        assert_eq!(signal(14, 6).fields, Fields::Fault(0x200));
        assert_eq!(signal(3, 0).signal, SIGTRAP);
        assert_eq!(signal(4, 0).signal, SIGSEGV);
    }
}
