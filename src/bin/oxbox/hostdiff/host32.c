/*
 * host32: the host-CPU oracle of `oxbox cpu-test host-diff`. It runs one x86 instruction at a
 * time natively, in a 32-bit process, and reports the state it leaves.
 *
 * Built by the Rust side at run time with
 *   gcc -m32 -O0 -static -fno-pie -no-pie -DSCRATCH_ADDR=.. -DCODE_ADDR=.. -DSCRATCH_SIZE=..
 * so both sides share one definition of the fixed addresses.
 *
 * Protocol on stdin/stdout, little-endian, no padding. A batch is
 *   u32 count, then count requests; the helper answers with count responses and flushes.
 *   request:  u8 len, u8 code[len], u32 regs[8] (EAX ECX EDX EBX ESP EBP ESI EDI), u32 eflags,
 *             u8 memory[SCRATCH_SIZE], u8 has_fp, u8 fxsave[512] if has_fp
 *   response: u32 vector (0xFFFFFFFF: no exception), u32 regs[8], u32 eflags,
 *             u8 memory[SCRATCH_SIZE], u8 fxsave[512] if has_fp
 * A batch count of 0 ends the helper.
 *
 * The instruction is copied to CODE_ADDR and followed by `jmp [resume_ptr]`; run_insn loads
 * the FPU/SSE image (FXRSTOR), EFLAGS and all eight registers, jumps to it, and on return saves
 * the registers and FXSAVE image. A fault raises a signal; its handler reads the exception
 * vector from the kernel's trap number and siglongjmps out. The handler runs on its own stack,
 * since the instruction may run with any ESP.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#define NO_FAULT 0xFFFFFFFFu
#define FXSAVE_SIZE 512
#define PAGE 4096

/* State shared with run_insn (named in its assembly, so not static). */
uint32_t in_regs[8], in_eflags, out_regs[8], out_eflags, host_esp, code_ptr = CODE_ADDR;
uint8_t has_fp;
uint8_t fx_in[FXSAVE_SIZE] __attribute__((aligned(16)));
uint8_t fx_out[FXSAVE_SIZE] __attribute__((aligned(16)));
extern char resume[];
void *resume_ptr = resume;
void run_insn(void);

/* Saves the C registers, loads the case, jumps to the code page; `resume` (reached by the
   jump that follows the instruction) stores the result and returns to C. Only MOVs, which
   leave EFLAGS alone, run between the instruction and the PUSHFL that saves its flags. */
__asm__(
    ".text\n"
    ".globl run_insn\n"
    "run_insn:\n"
    "  pushal\n"
    "  pushfl\n"
    "  movl %esp, host_esp\n"
    "  cmpb $0, has_fp\n"
    "  je 1f\n"
    "  fxrstor fx_in\n"
    "1:\n"
    "  pushl in_eflags\n"
    "  popfl\n"
    "  movl in_regs+0, %eax\n"
    "  movl in_regs+4, %ecx\n"
    "  movl in_regs+8, %edx\n"
    "  movl in_regs+12, %ebx\n"
    "  movl in_regs+20, %ebp\n"
    "  movl in_regs+24, %esi\n"
    "  movl in_regs+28, %edi\n"
    "  movl in_regs+16, %esp\n"
    "  jmp *code_ptr\n"
    ".globl resume\n"
    "resume:\n"
    "  movl %eax, out_regs+0\n"
    "  movl %ecx, out_regs+4\n"
    "  movl %edx, out_regs+8\n"
    "  movl %ebx, out_regs+12\n"
    "  movl %esp, out_regs+16\n"
    "  movl %ebp, out_regs+20\n"
    "  movl %esi, out_regs+24\n"
    "  movl %edi, out_regs+28\n"
    "  movl host_esp, %esp\n"
    "  pushfl\n"
    "  popl out_eflags\n"
    "  cmpb $0, has_fp\n"
    "  je 2f\n"
    "  fxsave fx_out\n"
    "2:\n"
    "  popfl\n"
    "  popal\n"
    "  ret\n");

static sigjmp_buf fault_jump;
static volatile uint32_t fault_vector;

static void on_fault(int sig, siginfo_t *info, void *context) {
    (void)sig;
    (void)info;
    fault_vector = (uint32_t)((ucontext_t *)context)->uc_mcontext.gregs[REG_TRAPNO];
    siglongjmp(fault_jump, 1);
}

static void die(const char *why) {
    fprintf(stderr, "host32: %s\n", why);
    exit(2);
}

static void read_all(void *buffer, size_t size) {
    if (size && fread(buffer, size, 1, stdin) != 1)
        die("short read on stdin");
}

static void write_all(const void *buffer, size_t size) {
    if (fwrite(buffer, size, 1, stdout) != 1)
        die("write to stdout failed");
}

/* Maps one page at exactly `address`. */
static uint8_t *map_fixed(uint32_t address, int protection) {
    void *page = mmap((void *)address, PAGE, protection,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (page != (void *)address)
        die("cannot map a fixed page");
    return page;
}

static void install_handlers(void) {
    static uint8_t alternate[64 * 1024];
    stack_t stack = {.ss_sp = alternate, .ss_size = sizeof alternate, .ss_flags = 0};
    if (sigaltstack(&stack, NULL))
        die("sigaltstack failed");
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    const int signals[] = {SIGSEGV, SIGILL, SIGFPE, SIGBUS, SIGTRAP};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (sigaction(signals[i], &action, NULL))
            die("sigaction failed");
}

int main(void) {
    uint8_t *code = map_fixed(CODE_ADDR, PROT_READ | PROT_WRITE | PROT_EXEC);
    uint8_t *scratch = map_fixed(SCRATCH_ADDR, PROT_READ | PROT_WRITE);
    install_handlers();
    for (;;) {
        uint32_t count;
        read_all(&count, 4);
        if (count == 0)
            return 0;
        while (count--) {
            uint8_t length;
            read_all(&length, 1);
            if (length == 0 || length > 15)
                die("bad instruction length");
            memset(code, 0xCC, PAGE); /* INT3 past the instruction and the jump */
            read_all(code, length);
            code[length] = 0xFF; /* jmp dword [resume_ptr] */
            code[length + 1] = 0x25;
            uint32_t target = (uint32_t)&resume_ptr;
            memcpy(code + length + 2, &target, 4);
            read_all(in_regs, sizeof in_regs);
            read_all(&in_eflags, 4);
            read_all(scratch, SCRATCH_SIZE);
            read_all(&has_fp, 1);
            if (has_fp)
                read_all(fx_in, FXSAVE_SIZE);
            uint32_t vector = NO_FAULT;
            if (sigsetjmp(fault_jump, 1) == 0)
                run_insn();
            else
                vector = fault_vector;
            write_all(&vector, 4);
            write_all(out_regs, sizeof out_regs);
            write_all(&out_eflags, 4);
            write_all(scratch, SCRATCH_SIZE);
            if (has_fp)
                write_all(fx_out, FXSAVE_SIZE);
        }
        if (fflush(stdout))
            die("flush of stdout failed");
    }
}
