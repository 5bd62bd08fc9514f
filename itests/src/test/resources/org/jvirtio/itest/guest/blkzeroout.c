/*
 * blkzeroout DEVICE OFFSET LENGTH: ioctl(BLKZEROOUT) on a block device, which Linux sends as
 * REQ_OP_WRITE_ZEROES (virtio-blk VIRTIO_BLK_T_WRITE_ZEROES) when the disk offers it. busybox has no
 * applet for this (its blkdiscard has no -z). No libc: raw x86-64 syscalls, so the binary is tiny and
 * static. Build (x86-64 Linux, gcc + binutils):
 *   gcc -Os -static -nostdlib -fno-pie -no-pie -fno-asynchronous-unwind-tables -fno-stack-protector \
 *       -Wl,--build-id=none -Wl,-n -s -o blkzeroout blkzeroout.c
 * Exit status: 0 done, 1 bad arguments, 2 open failed, 3 ioctl failed.
 */
#define BLKZEROOUT 0x127f
#define O_WRONLY 1

static long sys3(long n, long a, long b, long c) {
    long r;
    __asm__ volatile ("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}

static int num(const char *s, unsigned long long *out) {
    unsigned long long v = 0;
    if (!*s) return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        v = v * 10 + (unsigned long long)(*s - '0');
    }
    *out = v;
    return 1;
}

static int run(long argc, char **argv) {
    unsigned long long range[2];
    if (argc != 4 || !num(argv[2], &range[0]) || !num(argv[3], &range[1])) return 1;
    long fd = sys3(2 /* open */, (long)argv[1], O_WRONLY, 0);
    if (fd < 0) return 2;
    if (sys3(16 /* ioctl */, fd, BLKZEROOUT, (long)range) < 0) return 3;
    return 0;
}

void __attribute__((noreturn)) start_c(long *sp) {
    int rc = run(sp[0], (char **)(sp + 1));
    sys3(60 /* exit */, rc, 0, 0);
    __builtin_unreachable();
}

__asm__(".globl _start\n_start:\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call start_c\n");
