package org.jvirtio.nativeio.internal;

import java.nio.ByteBuffer;

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
 *
 * <p>{@link ByteBuffer} parameters take direct buffers only: JNA passes the buffer's address plus its
 * position, through JNI, without allocating (the TAP data path).
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
    // open
    public static final int O_RDWR = 02;
    public static final int O_NONBLOCK = 04000;
    public static final int O_CLOEXEC = 02000000;
    // /dev/net/tun (linux/if_tun.h); ioctl numbers as _IOW/_IOR('T', n, int) on x86-64
    public static final long TUNSETIFF = 0x400454caL;
    public static final long TUNSETPERSIST = 0x400454cbL;
    public static final long TUNSETOFFLOAD = 0x400454d0L;
    public static final long TUNGETIFF = 0x800454d2L;
    public static final long TUNSETVNETHDRSZ = 0x400454d8L;
    public static final short IFF_TAP = 0x0002;
    public static final short IFF_NO_PI = 0x1000;
    public static final short IFF_VNET_HDR = 0x4000;
    /** {@code struct ifreq}: {@code char ifr_name[IFNAMSIZ]} at 0, then a union; {@code short ifr_flags} at 16. */
    public static final int IFREQ_SIZE = 40;
    public static final int IFNAMSIZ = 16;
    public static final int IFREQ_FLAGS = 16;
    /** {@code struct iovec}: {@code void *iov_base} at 0, {@code size_t iov_len} at 8. */
    public static final int IOVEC_SIZE = 16;
    /** The most iovecs one readv/writev takes ({@code UIO_MAXIOV}). */
    public static final int IOV_MAX = 1024;

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

    /** {@code buf} must be direct; data lands at its position. */
    public static native long read(int fd, ByteBuffer buf, long count);

    /** {@code buf} must be direct; data is taken from its position. */
    public static native long write(int fd, ByteBuffer buf, long count);

    public static native long readv(int fd, long iov, int iovcnt);

    public static native long writev(int fd, long iov, int iovcnt);

    /**
     * Used with {@code n == 0} only, as an allocation-free way to learn the address of a direct
     * buffer's position: memmove returns {@code dst}, which JNA computed as address plus position.
     */
    public static native long memmove(ByteBuffer dst, ByteBuffer src, long n);

    /** open is variadic; without O_CREAT the mode argument is not read, so it is left out. */
    public static native int open(String path, int flags);

    /** ioctl is variadic; with integer and pointer arguments the x86-64 calling convention is the same. */
    public static native int ioctl(int fd, long request, long arg);

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
