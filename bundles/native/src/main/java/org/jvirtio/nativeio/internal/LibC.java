package org.jvirtio.nativeio.internal;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * Direct-mapped libc calls (Linux, x86-64), the only place where this bundle crosses into C.
 *
 * <p>Direct mapping instead of an interface proxy because kicks and interrupts go through
 * {@link #read} and {@link #write}: a direct call with primitive arguments allocates nothing and skips
 * the reflective proxy. Pointers are passed as raw {@code long} addresses for the same reason. No method
 * declares {@code LastErrorException}: callers test the return value and then read
 * {@link Native#getLastError()}, which JNA saves right after every call; an exception per
 * {@code EAGAIN} would be an allocation on the non-blocking paths.
 */
public final class LibC {

    static {
        Native.register(LibC.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    // fcntl
    public static final int F_DUPFD_CLOEXEC = 1030;
    public static final int F_ADD_SEALS = 1033;
    public static final int F_GET_SEALS = 1034;
    // memfd_create
    public static final int MFD_CLOEXEC = 0x0001;
    public static final int MFD_ALLOW_SEALING = 0x0002;
    // fstat through syscall(2): glibc exports fstat only since 2.33, and one missing symbol fails the
    // registration of every method here. Kernel struct stat (x86-64): 144 bytes, st_size at 48.
    public static final long SYS_FSTAT = 5;
    public static final int STAT_SIZE = 144;
    public static final int STAT_ST_SIZE = 48;
    // mmap
    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final long MAP_FAILED = -1L;
    public static final int SC_PAGESIZE = 30;
    // eventfd, epoll
    public static final int EFD_CLOEXEC = 0x80000;
    public static final int EFD_NONBLOCK = 0x800;
    public static final int EPOLL_CLOEXEC = 0x80000;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    // sockets
    public static final int AF_UNIX = 1;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_SOCKET = 1;
    public static final int SO_PEERCRED = 17;
    public static final int SO_RCVTIMEO = 20;
    public static final int SCM_RIGHTS = 1;
    public static final int MSG_CTRUNC = 0x8;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;
    public static final int SHUT_RDWR = 2;

    private LibC() {
    }

    public static native int close(int fd);

    /** fcntl is variadic; with integer arguments the x86-64 calling convention is the same. */
    public static native int fcntl(int fd, int cmd, int arg);

    public static native int memfd_create(String name, int flags);

    /** syscall is variadic; with integer and pointer arguments the x86-64 calling convention is the same. */
    public static native long syscall(long number, long arg1, byte[] arg2);

    public static native int ftruncate(int fd, long length);

    public static native long mmap(long addr, long length, int prot, int flags, int fd, long offset);

    public static native int munmap(long addr, long length);

    public static native int madvise(long addr, long length, int advice);

    public static native long sysconf(int name);

    public static native int eventfd(int initval, int flags);

    public static native long read(int fd, long buf, long count);

    public static native long write(int fd, long buf, long count);

    public static native int epoll_create1(int flags);

    public static native int epoll_ctl(int epfd, int op, int fd, long event);

    public static native int epoll_wait(int epfd, long events, int maxevents, int timeout);

    public static native int socket(int domain, int type, int protocol);

    public static native int socketpair(int domain, int type, int protocol, int[] sv);

    public static native int connect(int fd, byte[] addr, int addrlen);

    public static native int bind(int fd, byte[] addr, int addrlen);

    public static native int listen(int fd, int backlog);

    public static native int accept4(int fd, long addr, long addrlen, int flags);

    public static native long sendmsg(int fd, long msghdr, int flags);

    public static native long recvmsg(int fd, long msghdr, int flags);

    public static native int shutdown(int fd, int how);

    public static native int setsockopt(int fd, int level, int name, long value, int length);

    public static native int getsockopt(int fd, int level, int name, long value, long lengthAddress);

    public static native String strerror(int errnum);
}
