//! The Linux i386 user-mode harness (`oxbox::user`) on small static programs built here from
//! hand-assembled bytes: one RWX segment at 0x08048000 with the code at 0x08048054 (right after
//! the ELF and program headers) and data at 0x08049000.

use oxbox::user::{self, Error, Exit, Options, Outcome, Program};

const DATA: u32 = 0x0804_9000;

/// Machine code from instructions written as hex bytes, one instruction per string.
fn assemble(code: &[&str]) -> Vec<u8> {
    code.iter()
        .flat_map(|instruction| instruction.split_whitespace())
        .map(|byte| u8::from_str_radix(byte, 16).expect("hex byte"))
        .collect()
}

/// A static executable from instructions and data.
fn executable(code: &[&str], data: &[u8]) -> Vec<u8> {
    executable_from(&assemble(code), data)
}

fn executable_from(text: &[u8], data: &[u8]) -> Vec<u8> {
    assert!(84 + text.len() <= 0x1000, "code runs into the data");
    let mut file = vec![0u8; 0x1000];
    file.extend(data);
    let words = |file: &mut Vec<u8>, at: usize, values: &[u32]| {
        for (i, value) in values.iter().enumerate() {
            file[at + 4 * i..at + 4 * i + 4].copy_from_slice(&value.to_le_bytes());
        }
    };
    file[..16].copy_from_slice(b"\x7fELF\x01\x01\x01\0\0\0\0\0\0\0\0\0");
    // e_type EXEC, e_machine 386; e_version; e_entry; e_phoff; e_shoff; e_flags
    words(&mut file, 16, &[0x0003_0002, 1, 0x0804_8054, 52, 0, 0]);
    // e_ehsize 52, e_phentsize 32; e_phnum 1
    words(&mut file, 40, &[0x0020_0034, 1]);
    // PT_LOAD: offset 0, vaddr = paddr 0x08048000, file size, memory size (+ 4 KiB), RWX
    let size = file.len() as u32;
    words(
        &mut file,
        52,
        &[
            1,
            0,
            0x0804_8000,
            0x0804_8000,
            size,
            size + 0x1000,
            7,
            0x1000,
        ],
    );
    file[84..84 + text.len()].copy_from_slice(text);
    file
}

/// Runs a program; returns how it ended and its standard output and error.
fn run_with(file: &[u8], options: Options) -> (Result<Outcome, Error>, Vec<u8>, String) {
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let program = Program {
        file,
        path: b"/test/program",
        args: &[b"program"],
    };
    let result = user::run(&program, options, &mut stdout, &mut stderr);
    (
        result,
        stdout,
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

fn small() -> Options {
    Options {
        memory: 32 << 20,
        limit: Some(100_000_000),
    }
}

/// Runs a program that must end; returns its exit and standard output.
fn run(code: &[&str], data: &[u8]) -> (Exit, Vec<u8>) {
    let (result, stdout, stderr) = run_with(&executable(code, data), small());
    let outcome = result.unwrap_or_else(|e| panic!("{e}; stderr: {stderr}"));
    (outcome.exit, stdout)
}

const SIGILL: u8 = 4;
const SIGBUS: u8 = 7;
const SIGSEGV: u8 = 11;

#[test]
fn write_and_exit() {
    let code = [
        "b8 04 00 00 00", // mov eax, 4              ; write(1, "hello\n", 6)
        "bb 01 00 00 00", // mov ebx, 1
        "b9 00 90 04 08", // mov ecx, 0x08049000
        "ba 06 00 00 00", // mov edx, 6
        "cd 80",          // int 0x80
        "b8 fc 00 00 00", // mov eax, 252            ; exit_group(7)
        "bb 07 00 00 00", // mov ebx, 7
        "cd 80",          // int 0x80
    ];
    assert_eq!(run(&code, b"hello\n"), (Exit::Code(7), b"hello\n".to_vec()));
}

#[test]
fn brk_grows_and_shrinks_the_heap() {
    let code = [
        "b8 2d 00 00 00",    // mov eax, 45             ; brk(0): the current break
        "31 db",             // xor ebx, ebx
        "cd 80",             // int 0x80
        "89 c6",             // mov esi, eax
        "8d 9e 00 30 00 00", // lea ebx, [esi + 0x3000] ; brk(break + 12 KiB)
        "b8 2d 00 00 00",    // mov eax, 45
        "cd 80",             // int 0x80
        "39 d8",             // cmp eax, ebx
        "75 2f",             // jne fail
        "c7 86 fc 2f 00 00 2a 00 00 00", // mov dword [esi + 0x2ffc], 42
        "b8 04 00 00 00",    // mov eax, 4              ; write(1, "grown\n", 6)
        "bb 01 00 00 00",    // mov ebx, 1
        "b9 00 90 04 08",    // mov ecx, 0x08049000
        "ba 06 00 00 00",    // mov edx, 6
        "cd 80",             // int 0x80
        "b8 2d 00 00 00",    // mov eax, 45             ; brk(break): shrink back
        "89 f3",             // mov ebx, esi
        "cd 80",             // int 0x80
        "8b 86 fc 2f 00 00", // mov eax, [esi + 0x2ffc] ; the page is gone: SIG        "6a 00",                         // push 0                  ; struct sigaction: mask (high, low)
        "6a 00",             // push 0
        "68 16 81 04 08",    // push offset restorer
        "68 04 00 00 04",    // push 0x04000004         ; SA_RESTORER | SA_SIGINFO
        "68 b0 80 04 08",    // push offset handler
        "b8 ae 00 00 00",    // mov eax, 174            ; rt_sigaction(SIGSEGV, esp, NULL, 8)
        "bb 0b 00 00 00",    // mov ebx, 11
        "89 e1",             // mov ecx, esp
        "31 d2",             // xor edx, edx
        "be 08 00 00 00",    // mov esi, 8
        "cd 80",             // int 0x80
        "85 c0",             // test eax, eax
        "75 24",             // jnz fail
        "bf 78 56 34 12",    // mov edi, 0x12345678
        "c7 05 34 12 00 00 01 00 00 00", // mov dword [0x1234], 1   ; faults; the handler skips these 10 bytes
        "81 ff 78 56 34 12",             // cmp edi, 0x12345678
        "75 0d",                         // jne fail
        "8b 1d 00 90 04 08", // mov ebx, [0x08049000]   ; what the handler found wrong (0: nothing)
        "b8 fc 00 00 00",    // mov eax, 252
        "cd 80",             // int 0x80
        // fail:
        "b8 fc 00 00 00", // mov eax, 252
        "bb 64 00 00 00", // mov ebx, 100
        "cd 80",          // int 0x80
        // handler:
        "31 c9",                // xor ecx, ecx
        "83 7c 24 04 0b",       // cmp dword [esp + 4], 11
        "74 03",                // je 1f
        "83 c9 01",             // or ecx, 1
        "8b 44 24 08",          // 1: mov eax, [esp + 8]   ; siginfo
        "83 38 0b",             // cmp dword [eax], 11     ; si_signo
        "74 03",                // je 2f
        "83 c9 02",             // or ecx, 2
        "83 78 08 01",          // 2: cmp dword [eax + 8], 1; si_code: SEGV_MAPERR
        "74 03",                // je 3f
        "83 c9 04",             // or ecx, 4
        "81 78 0c 34 12 00 00", // 3: cmp dword [eax + 12], 0x1234; si_addr
        "74 03",                // je 4f
        "83 c9 08",             // or ecx, 8
        "8b 44 24 0c",          // 4: mov eax, [esp + 12]  ; ucontext; uc_mcontext is at +20
        "83 78 44 0e",          // cmp dword [eax + 68], 14; trapno: #PF
        "74 03",                // je 5f
        "83 c9 10",             // or ecx, 16
        "83 78 48 06", // 5: cmp dword [eax + 72], 6; err: a user write to a page not present
        "74 03",       // je 6f
        "83 c9 20",    // or ecx, 32
        "81 78 68 34 12 00 00", // 6: cmp dword [eax + 104], 0x1234; cr2
        "74 03",       // je 7f
        "83 c9 40",    // or ecx, 64
        "83 78 50 73", // 7: cmp dword [eax + 80], 0x73; cs
        "74 06",       // je 8f
        "81 c9 80 00 00 00", // or ecx, 128
        "83 40 4c 0a", // 8: add dword [eax + 76], 10; eip: past the faulting instruction
        "89 0d 00 90 04 08", // mov [0x08049000], ecx
        "c3",          // ret
        // restorer:
        "b8 ad 00 00 00", // mov eax, 173            ; rt_sigreturn
        "cd 80",          // int 0x80
        // fail:
        "b8 fc 00 00 00", // mov eax, 252
        "bb 01 00 00 00", // mov ebx, 1
        "cd 80",          // int 0x80
    ];
    assert_eq!(
        run(&code, b"grown\n"),
        (Exit::Signal(SIGSEGV), b"grown\n".to_vec())
    );
}

#[test]
fn segv_handler_sees_the_fault_and_skips_it() {
    let code = [
        "6a 00",          // push 0                  ; struct sigaction: mask (high, low)
        "6a 00",          // push 0
        "68 16 81 04 08", // push offset restorer
        "68 04 00 00 04", // push 0x04000004         ; SA_RESTORER | SA_SIGINFO
        "68 b0 80 04 08", // push offset handler
        "b8 ae 00 00 00", // mov eax, 174            ; rt_sigaction(SIGSEGV, esp, NULL, 8)
        "bb 0b 00 00 00", // mov ebx, 11
        "89 e1",          // mov ecx, esp
        "31 d2",          // xor edx, edx
        "be 08 00 00 00", // mov esi, 8
        "cd 80",          // int 0x80
        "85 c0",          // test eax, eax
        "75 24",          // jnz fail
        "bf 78 56 34 12", // mov edi, 0x12345678
        "c7 05 34 12 00 00 01 00 00 00", // mov dword [0x1234], 1   ; faults; the handler skips these 10 bytes
        "81 ff 78 56 34 12",             // cmp edi, 0x12345678
        "75 0d",                         // jne fail
        "8b 1d 00 90 04 08", // mov ebx, [0x08049000]   ; what the handler found wrong (0: nothing)
        "b8 fc 00 00 00",    // mov eax, 252
        "cd 80",             // int 0x80
        // fail:
        "b8 fc 00 00 00", // mov eax, 252
        "bb 64 00 00 00", // mov ebx, 100
        "cd 80",          // int 0x80
        // handler:
        "31 c9",                // xor ecx, ecx
        "83 7c 24 04 0b",       // cmp dword [esp + 4], 11
        "74 03",                // je 1f
        "83 c9 01",             // or ecx, 1
        "8b 44 24 08",          // 1: mov eax, [esp + 8]   ; siginfo
        "83 38 0b",             // cmp dword [eax], 11     ; si_signo
        "74 03",                // je 2f
        "83 c9 02",             // or ecx, 2
        "83 78 08 01",          // 2: cmp dword [eax + 8], 1; si_code: SEGV_MAPERR
        "74 03",                // je 3f
        "83 c9 04",             // or ecx, 4
        "81 78 0c 34 12 00 00", // 3: cmp dword [eax + 12], 0x1234; si_addr
        "74 03",                // je 4f
        "83 c9 08",             // or ecx, 8
        "8b 44 24 0c",          // 4: mov eax, [esp + 12]  ; ucontext; uc_mcontext is at +20
        "83 78 44 0e",          // cmp dword [eax + 68], 14; trapno: #PF
        "74 03",                // je 5f
        "83 c9 10",             // or ecx, 16
        "83 78 48 06", // 5: cmp dword [eax + 72], 6; err: a user write to a page not present
        "74 03",       // je 6f
        "83 c9 20",    // or ecx, 32
        "81 78 68 34 12 00 00", // 6: cmp dword [eax + 104], 0x1234; cr2
        "74 03",       // je 7f
        "83 c9 40",    // or ecx, 64
        "83 78 50 73", // 7: cmp dword [eax + 80], 0x73; cs
        "74 06",       // je 8f
        "81 c9 80 00 00 00", // or ecx, 128
        "83 40 4c 0a", // 8: add dword [eax + 76], 10; eip: past the faulting instruction
        "89 0d 00 90 04 08", // mov [0x08049000], ecx
        "c3",          // ret
        // restorer:
        "b8 ad 00 00 00", // mov eax, 173            ; rt_sigreturn
        "cd 80",          // int 0x80
    ];
    // The handler writes 0 over this if everything it checks is right.
    assert_eq!(run(&code, &99u32.to_le_bytes()).0, Exit::Code(0));
}

#[test]
fn sigill_kills_by_default() {
    let code = [
        "0f 0b", // ud2                     ; no SIGILL handler: the process dies
    ];
    assert_eq!(run(&code, &[]).0, Exit::Signal(SIGILL));
}

#[test]
fn alignment_checks_raise_sigbus() {
    let code = [
        "9c",                   // pushfd                  ; EFLAGS.AC on: Linux runs with CR0.AM set
        "81 0c 24 00 00 04 00", // or dword [esp], 0x40000
        "9d",                   // popfd
        "a1 01 90 04 08",       // mov eax, [0x08049001]   ; misaligned: #AC, SIGBUS
        "b8 fc 00 00 00",       // mov eax, 252
        "31 db",                // xor ebx, ebx
        "cd 80",                // int 0x80
    ];
    assert_eq!(run(&code, &[0; 8]).0, Exit::Signal(SIGBUS));
}

#[test]
fn int3_handler_without_siginfo_returns_through_the_frame() {
    let code = [
        "6a 00", // push 0                  ; struct sigaction: no flags, so no SA_RESTORER either
        "6a 00", // push 0
        "6a 00", // push 0
        "6a 00", // push 0
        "68 a2 80 04 08", // push offset handler
        "b8 ae 00 00 00", // mov eax, 174            ; rt_sigaction(SIGTRAP, esp, NULL, 8)
        "bb 05 00 00 00", // mov ebx, 5
        "89 e1", // mov ecx, esp
        "31 d2", // xor edx, edx
        "be 08 00 00 00", // mov esi, 8
        "cd 80", // int 0x80
        "be 0d f0 0d 60", // mov esi, 0x600df00d
        "cc",    // int3
        "81 fe 0d f0 0d 60", // cmp esi, 0x600df00d     ; restored by sigreturn
        "75 12", // jne fail
        "83 f8 77", // cmp eax, 0x77           ; as the handler left it in the sigcontext
        "75 0d", // jne fail
        "8b 1d 00 90 04 08", // mov ebx, [0x08049000]   ; the signal number the handler saw
        "b8 fc 00 00 00", // mov eax, 252
        "cd 80", // int 0x80
        // fail:
        "b8 fc 00 00 00", // mov eax, 252
        "bb 64 00 00 00", // mov ebx, 100
        "cd 80",          // int 0x80
        // handler:
        "8b 44 24 04",             // mov eax, [esp + 4]
        "a3 00 90 04 08",          // mov [0x08049000], eax
        "be 00 00 00 00",          // mov esi, 0              ; clobbered: sigreturn restores it
        "c7 44 24 34 77 00 00 00", // mov dword [esp + 8 + 44], 0x77; sigcontext eax
        "c3",                      // ret                     ; to the frame's own sigreturn code
    ];
    assert_eq!(run(&code, &[]).0, Exit::Code(5));
}

#[test]
fn handlers_get_a_fresh_fpu_and_sigreturn_restores_the_old_one() {
    let code = [
        "6a 00",             // push 0                  ; struct sigaction
        "6a 00",             // push 0
        "68 cf 80 04 08",    // push offset restorer
        "68 04 00 00 04",    // push 0x04000004         ; SA_RESTORER | SA_SIGINFO
        "68 9f 80 04 08",    // push offset handler
        "b8 ae 00 00 00",    // mov eax, 174            ; rt_sigaction(SIGTRAP, esp, NULL, 8)
        "bb 05 00 00 00",    // mov ebx, 5
        "89 e1",             // mov ecx, esp
        "31 d2",             // xor edx, edx
        "be 08 00 00 00",    // mov esi, 8
        "cd 80",             // int 0x80
        "d9 e8",             // fld1
        "d9 e8",             // fld1
        "de c1",             // faddp                   ; st0 = 2
        "cc",                // int3
        "db 1d 00 90 04 08", // fistp dword [0x08049000]; still 2: the frame saved and restored it
        "8b 1d 00 90 04 08", // mov ebx, [0x08049000]
        "6b db 0a",          // imul ebx, ebx, 10
        "03 1d 04 90 04 08", // add ebx, [0x08049004]   ; exit(2 * 10 + what the handler found)
        "b8 fc 00 00 00",    // mov eax, 252
        "cd 80",             // int 0x80
        // handler:
        "d9 e5",          // fxam                    ; a fresh FPU: st0 is empty (C3 and C0)
        "df e0",          // fnstsw ax
        "66 25 00 45",    // and ax, 0x4500
        "66 3d 00 41",    // cmp ax, 0x4100
        "75 17",          // jne bad
        "8b 44 24 0c",    // mov eax, [esp + 12]
        "8b 40 60",       // mov eax, [eax + 96]     ; uc_mcontext.fpstate
        "66 81 38 7f 03", // cmp word [eax], 0x037f  ; the saved control word
        "75 09",          // jne bad
        "d9 eb",          // fldpi
        "db 1d 04 90 04 08", // fistp dword [0x08049004]; 3
        "c3",             // ret
        // bad:
        "c7 05 04 90 04 08 09 00 00 00", // mov dword [0x08049004], 9
        "c3",                            // ret
        // restorer:
        "b8 ad 00 00 00", // mov eax, 173            ; rt_sigreturn
        "cd 80",          // int 0x80
    ];
    assert_eq!(run(&code, &[0; 8]).0, Exit::Code(23));
}

#[test]
fn blocked_signal_is_delivered_when_unblocked() {
    let code = [
        "6a 00",                // push 0                  ; struct sigaction
        "6a 00",                // push 0
        "68 12 81 04 08",       // push offset restorer
        "68 04 00 00 04",       // push 0x04000004         ; SA_RESTORER | SA_SIGINFO
        "68 e9 80 04 08",       // push offset handler
        "b8 ae 00 00 00",       // mov eax, 174            ; rt_sigaction(SIGUSR1, esp, NULL, 8)
        "bb 0a 00 00 00",       // mov ebx, 10
        "89 e1",                // mov ecx, esp
        "31 d2",                // xor edx, edx
        "be 08 00 00 00",       // mov esi, 8
        "cd 80",                // int 0x80
        "6a 00",                // push 0                  ; sigset: SIGUSR1
        "68 00 02 00 00",       // push 0x200
        "b8 af 00 00 00",       // mov eax, 175            ; rt_sigprocmask(SIG_BLOCK, esp, NULL, 8)
        "31 db",                // xor ebx, ebx
        "89 e1",                // mov ecx, esp
        "31 d2",                // xor edx, edx
        "be 08 00 00 00",       // mov esi, 8
        "cd 80",                // int 0x80
        "b8 14 00 00 00",       // mov eax, 20             ; kill(getpid(), SIGUSR1): pending
        "cd 80",                // int 0x80
        "89 c3",                // mov ebx, eax
        "b8 25 00 00 00",       // mov eax, 37
        "b9 0a 00 00 00",       // mov ecx, 10
        "cd 80",                // int 0x80
        "85 c0",                // test eax, eax
        "75 2f",                // jnz fail
        "83 3d 00 90 04 08 00", // cmp dword [0x08049000], 0; not delivered while blocked
        "75 26",                // jne fail
        "b8 af 00 00 00", // mov eax, 175            ; rt_sigprocmask(SIG_UNBLOCK, esp, NULL, 8): delivered
        "bb 01 00 00 00", // mov ebx, 1
        "89 e1",          // mov ecx, esp
        "31 d2",          // xor edx, edx
        "be 08 00 00 00", // mov esi, 8
        "cd 80",          // int 0x80
        "85 c0",          // test eax, eax           ; the system call's result survives the handler
        "75 0d",          // jnz fail
        "8b 1d 00 90 04 08", // mov ebx, [0x08049000]
        "b8 fc 00 00 00", // mov eax, 252
        "cd 80",          // int 0x80
        // fail:
        "b8 fc 00 00 00", // mov eax, 252
        "bb 64 00 00 00", // mov ebx, 100
        "cd 80",          // int 0x80
        // handler:
        "b9 2a 00 00 00",       // mov ecx, 42
        "8b 44 24 08",          // mov eax, [esp + 8]
        "83 78 08 00",          // cmp dword [eax + 8], 0  ; si_code: SI_USER
        "74 05",                // je 1f
        "b9 01 00 00 00",       // mov ecx, 1
        "81 78 0c e8 03 00 00", // 1: cmp dword [eax + 12], 1000; si_pid
        "74 05",                // je 2f
        "b9 02 00 00 00",       // mov ecx, 2
        "01 0d 00 90 04 08",    // 2: add [0x08049000], ecx
        "c3",                   // ret
        // restorer:
        "b8 ad 00 00 00", // mov eax, 173
        "cd 80",          // int 0x80
    ];
    assert_eq!(run(&code, &[0; 4]).0, Exit::Code(42));
}

#[test]
fn unknown_system_calls_and_bad_pointers_fail_cleanly() {
    let code = [
        "b8 0f 27 00 00", // mov eax, 9999           ; no such system call
        "cd 80",          // int 0x80
        "89 c7",          // mov edi, eax
        "b8 04 00 00 00", // mov eax, 4              ; write(1, 0x10, 4): a bad address
        "bb 01 00 00 00", // mov ebx, 1
        "b9 10 00 00 00", // mov ecx, 0x10
        "ba 04 00 00 00", // mov edx, 4
        "cd 80",          // int 0x80
        "83 f8 f2",       // cmp eax, -14            ; EFAULT
        "75 0b",          // jne fail
        "f7 df",          // neg edi                 ; exit(ENOSYS)
        "89 fb",          // mov ebx, edi
        "b8 fc 00 00 00", // mov eax, 252
        "cd 80",          // int 0x80
        // fail:
        "b8 fc 00 00 00", // mov eax, 252
        "bb 64 00 00 00", // mov ebx, 100
        "cd 80",          // int 0x80
    ];
    let (result, _, stderr) = run_with(&executable(&code, &[]), small());
    assert_eq!(result.map(|o| o.exit), Ok(Exit::Code(38)));
    assert!(
        stderr.contains("system call 9999 is not emulated"),
        "{stderr}"
    );
}

#[test]
fn ldt_and_tls_segments() {
    let code = [
        "b8 7b 00 00 00", // mov eax, 123            ; modify_ldt(0x11, desc, 16): LDT entry 1
        "bb 11 00 00 00", // mov ebx, 0x11
        "b9 00 90 04 08", // mov ecx, 0x08049000
        "ba 10 00 00 00", // mov edx, 16
        "cd 80",          // int 0x80
        "85 c0",          // test eax, eax
        "75 73",          // jnz fail
        "b8 0f 00 00 00", // mov eax, 0xf            ; LDT entry 1, RPL 3
        "8e e0",          // mov fs, ax
        "64 81 3d 04 00 00 00 11 11 11 11", // cmp dword fs:[4], 0x11111111
        "75 5f",          // jne fail
        "b8 f3 00 00 00", // mov eax, 243            ; set_thread_area(desc): the first free TLS slot
        "bb 10 90 04 08", // mov ebx, 0x08049010
        "cd 80",          // int 0x80
        "85 c0",          // test eax, eax
        "75 4f",          // jnz fail
        "a1 10 90 04 08", // mov eax, [0x08049010]   ; the entry number it chose
        "83 f8 06",       // cmp eax, 6
        "75 45",          // jne fail
        "c1 e0 03",       // shl eax, 3
        "83 c8 03",       // or eax, 3
        "8e e8",          // mov gs, ax
        "b8 14 00 00 00", // mov eax, 20             ; a system call in between
        "cd 80",          // int 0x80
        "65 81 3d 00 00 00 00 22 22 22 22", // cmp dword gs:[0], 0x22222222
        "75 29",          // jne fail
        "64 81 3d 04 00 00 00 11 11 11 11", // cmp dword fs:[4], 0x11111111
        "75 1c",          // jne fail
        "b8 04 00 00 00", // mov eax, 4              ; write(1, "ok\n", 3)
        "bb 01 00 00 00", // mov ebx, 1
        "b9 20 90 04 08", // mov ecx, 0x08049020
        "ba 03 00 00 00", // mov edx, 3
        "cd 80",          // int 0x80
        "64 a1 00 01 00 00", // mov eax, fs:[0x100]     ; past the LDT segment's limit: SIGSEGV
        // fail:
        "b8 fc 00 00 00", // mov eax, 252
        "bb 01 00 00 00", // mov ebx, 1
        "cd 80",          // int 0x80
    ];
    let mut data = vec![0u8; 0x204];
    let words = |data: &mut Vec<u8>, at: usize, values: &[u32]| {
        for (i, value) in values.iter().enumerate() {
            data[at + 4 * i..at + 4 * i + 4].copy_from_slice(&value.to_le_bytes());
        }
    };
    // struct user_desc: entry, base, limit, flags (bit 0 32-bit, bit 4 pages, bit 6 useable)
    words(&mut data, 0x00, &[1, DATA + 0x100, 0xFF, 0x41]);
    words(&mut data, 0x10, &[u32::MAX, DATA + 0x200, 0xF_FFFF, 0x51]);
    data[0x20..0x23].copy_from_slice(b"ok\n");
    words(&mut data, 0x104, &[0x1111_1111]);
    words(&mut data, 0x200, &[0x2222_2222]);
    assert_eq!(run(&code, &data), (Exit::Signal(SIGSEGV), b"ok\n".to_vec()));
}

#[test]
fn mprotect_makes_pages_read_only() {
    let code = [
        "b8 c0 00 00 00", // mov eax, 192            ; mmap2(NULL, 8192, PROT_READ | PROT_WRITE,
        "31 db",          // xor ebx, ebx            ; MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        "b9 00 20 00 00", // mov ecx, 0x2000
        "ba 03 00 00 00", // mov edx, 3
        "be 22 00 00 00", // mov esi, 0x22
        "bf ff ff ff ff", // mov edi, -1
        "31 ed",          // xor ebp, ebp
        "cd 80",          // int 0x80
        "a9 ff 0f 00 00", // test eax, 0xfff         ; page aligned (errors are not)
        "75 4c",          // jnz fail
        "89 c6",          // mov esi, eax
        "c7 86 00 10 00 00 07 00 00 00", // mov dword [esi + 0x1000], 7
        "b8 7d 00 00 00", // mov eax, 125            ; mprotect(page, 8192, PROT_READ)
        "89 f3",          // mov ebx, esi
        "b9 00 20 00 00", // mov ecx, 0x2000
        "ba 01 00 00 00", // mov edx, 1
        "cd 80",          // int 0x80
        "85 c0",          // test eax, eax
        "75 29",          // jnz fail
        "83 be 00 10 00 00 07", // cmp dword [esi + 0x1000], 7; still readable
        "75 20",          // jne fail
        "b8 04 00 00 00", // mov eax, 4              ; write(1, "ro\n", 3)
        "bb 01 00 00 00", // mov ebx, 1
        "b9 00 90 04 08", // mov ecx, 0x08049000
        "ba 03 00 00 00", // mov edx, 3
        "cd 80",          // int 0x80
        "c7 86 00 10 00 00 08 00 00 00", // mov dword [esi + 0x1000], 8; read-only now: SIGSEGV
        // fail:
        "b8 fc 00 00 00", // mov eax, 252
        "bb 01 00 00 00", // mov ebx, 1
        "cd 80",          // int 0x80
    ];
    assert_eq!(
        run(&code, b"ro\n"),
        (Exit::Signal(SIGSEGV), b"ro\n".to_vec())
    );
}

#[test]
fn clocks_and_random_bytes_are_deterministic() {
    let code = [
        "b8 63 01 00 00", // mov eax, 355            ; getrandom(buffer, 16, 0)
        "bb 00 90 04 08", // mov ebx, 0x08049000
        "b9 10 00 00 00", // mov ecx, 16
        "31 d2",          // xor edx, edx
        "cd 80",          // int 0x80
        "b8 09 01 00 00", // mov eax, 265            ; clock_gettime(CLOCK_MONOTONIC, buffer + 16)
        "bb 01 00 00 00", // mov ebx, 1
        "b9 10 90 04 08", // mov ecx, 0x08049010
        "cd 80",          // int 0x80
        "b9 a0 86 01 00", // mov ecx, 100000         ; some work
        "e2 fe",          // 1: loop 1b
        "b8 09 01 00 00", // mov eax, 265            ; clock_gettime(CLOCK_MONOTONIC, buffer + 24)
        "bb 01 00 00 00", // mov ebx, 1
        "b9 18 90 04 08", // mov ecx, 0x08049018
        "cd 80",          // int 0x80
        "b8 04 00 00 00", // mov eax, 4              ; write(1, buffer, 32)
        "bb 01 00 00 00", // mov ebx, 1
        "b9 00 90 04 08", // mov ecx, 0x08049000
        "ba 20 00 00 00", // mov edx, 32
        "cd 80",          // int 0x80
        "b8 fc 00 00 00", // mov eax, 252
        "31 db",          // xor ebx, ebx
        "cd 80",          // int 0x80
    ];
    let (exit, first) = run(&code, &[0; 32]);
    assert_eq!(exit, Exit::Code(0));
    assert_eq!(
        run(&code, &[0; 32]).1,
        first,
        "the same run gives the same bytes"
    );
    let bytes = &first;
    assert_eq!(bytes.len(), 32);
    assert_ne!(&bytes[..16], &[0; 16]);
    let time = |at: usize| {
        let word = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
        u64::from(word(at)) * 1_000_000_000 + u64::from(word(at + 4))
    };
    assert!(
        time(24) > time(16),
        "emulated time advances with the work done"
    );
}

#[test]
fn cycle_limit_stops_an_endless_loop() {
    let code = [
        "eb fe", // jmp _start
    ];
    let options = Options {
        limit: Some(10_000),
        ..small()
    };
    let (result, _, _) = run_with(&executable(&code, &[]), options);
    assert!(matches!(result, Err(Error::Limit(cycles)) if cycles >= 10_000));
}

#[test]
fn malformed_executables_and_small_memory_are_errors() {
    let file = executable(&["eb fe"], &[]);
    for len in [0, 3, 51, 60, 84] {
        let (result, _, _) = run_with(&file[..len], small());
        assert!(
            matches!(result, Err(Error::Elf(_))),
            "{len} bytes: {result:?}"
        );
    }
    let tiny = Options {
        memory: 1 << 20,
        ..small()
    };
    assert_eq!(run_with(&file, tiny).0, Err(Error::OutOfMemory));
}

/// Random code, with handlers that step over whatever faults: the harness must neither panic
/// nor fail internally, whatever the guest does to its stack, segments or signal frames.
#[test]
fn random_code_never_breaks_the_harness() {
    let prologue = assemble(&[
        "6a 00",          // push 0                  ; struct sigaction
        "6a 00",          // push 0
        "68 b6 80 04 08", // push offset restorer
        "68 04 00 00 44", // push 0x44000004         ; SA_NODEFER | SA_RESTORER | SA_SIGINFO
        "68 ae 80 04 08", // push offset handler
        "b8 ae 00 00 00", // mov eax, 174            ; rt_sigaction(SIGILL, esp, NULL, 8)
        "bb 04 00 00 00", // mov ebx, 4
        "89 e1",          // mov ecx, esp
        "31 d2",          // xor edx, edx
        "be 08 00 00 00", // mov esi, 8
        "cd 80",          // int 0x80
        "b8 ae 00 00 00", // mov eax, 174            ; SIGTRAP
        "bb 05 00 00 00", // mov ebx, 5
        "cd 80",          // int 0x80
        "b8 ae 00 00 00", // mov eax, 174            ; SIGBUS
        "bb 07 00 00 00", // mov ebx, 7
        "cd 80",          // int 0x80
        "b8 ae 00 00 00", // mov eax, 174            ; SIGFPE
        "bb 08 00 00 00", // mov ebx, 8
        "cd 80",          // int 0x80
        "b8 ae 00 00 00", // mov eax, 174            ; SIGSEGV
        "bb 0b 00 00 00", // mov ebx, 11
        "cd 80",          // int 0x80
        "eb 0f",          // jmp random
        // handler:
        "8b 44 24 0c", // mov eax, [esp + 12]
        "ff 40 4c",    // inc dword [eax + 76]    ; uc_mcontext.eip
        "c3",          // ret
        // restorer:
        "b8 ad 00 00 00", // mov eax, 173            ; rt_sigreturn
        "cd 80",          // int 0x80
                          // random:
    ]);
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for seed in 0..64 {
        let mut code = prologue.clone();
        code.extend((0..3000).map(|_| {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        }));
        let options = Options {
            limit: Some(200_000),
            ..small()
        };
        let (result, _, stderr) = run_with(&executable_from(&code, &[]), options);
        assert!(
            matches!(result, Ok(_) | Err(Error::Limit(_))),
            "program {seed}: {result:?}; {stderr}"
        );
    }
}
