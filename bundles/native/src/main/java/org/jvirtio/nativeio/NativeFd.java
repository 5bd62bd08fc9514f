package org.jvirtio.nativeio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.nativeio.internal.Errno;
import org.jvirtio.nativeio.internal.LibC;
import org.jvirtio.nativeio.internal.ReleaseOnce;

/**
 * An owned file descriptor: whoever holds this object closes it, exactly once.
 *
 * <p>A raw {@code int} cannot say whether it is still open or who must close it, and closing a number
 * twice closes whatever descriptor reused it meanwhile. This class makes ownership explicit; the
 * second and later {@link #close()} calls do nothing, from any thread.
 *
 * <p>Thread safety: all methods may be called from any thread. Closing while another thread is inside a
 * system call on {@link #value()} is the owner's responsibility to prevent (the socket and epoll classes
 * do this for their own blocking calls).
 */
public final class NativeFd implements AutoCloseable {

    private final ReleaseOnce fd;

    private NativeFd(int fd) {
        this.fd = new ReleaseOnce(fd, "file descriptor", NativeFd::closeFd);
    }

    /**
     * Takes ownership of a descriptor obtained elsewhere (a library, a received message).
     *
     * @throws IllegalArgumentException if {@code fd} is negative
     */
    public static NativeFd adopt(int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("not a file descriptor: " + fd);
        }
        return new NativeFd(fd);
    }

    /**
     * The descriptor number, for passing to a system call.
     *
     * @throws IllegalStateException once closed
     */
    public int value() {
        return (int) fd.get();
    }

    public boolean isOpen() {
        return fd.isOpen();
    }

    /**
     * A second descriptor for the same open file, close-on-exec, owned by the caller. Useful to hand a
     * descriptor to an object that will close it while keeping one's own.
     */
    public NativeFd duplicate() throws NativeException {
        int original = value();
        int copy = LibC.fcntl(original, LibC.F_DUPFD_CLOEXEC, 0);
        if (copy < 0) {
            throw Errno.failure("fcntl", "fd=" + original + ", F_DUPFD_CLOEXEC");
        }
        return new NativeFd(copy);
    }

    /**
     * The size in bytes of the file behind the descriptor ({@code fstat}'s {@code st_size}): what a
     * mapping of it may cover. 0 for things that have no size (sockets, eventfds, pipes).
     */
    public long size() throws NativeException {
        int raw = value();
        byte[] stat = new byte[LibC.STAT_SIZE];
        if (LibC.syscall(LibC.SYS_FSTAT, raw, stat) < 0) {
            throw Errno.failure("fstat", "fd=" + raw);
        }
        return ByteBuffer.wrap(stat).order(ByteOrder.nativeOrder()).getLong(LibC.STAT_ST_SIZE);
    }

    /** Closes the descriptor the first time; afterwards does nothing. */
    @Override
    public void close() {
        fd.release();
    }

    private static void closeFd(long fd) throws NativeException {
        if (LibC.close((int) fd) < 0) {
            // No retry on EINTR: Linux has freed the number already; a retry could close a reused one.
            throw Errno.failure("close", "fd=" + fd);
        }
    }

    @Override
    public String toString() {
        return "NativeFd[" + fd + "]";
    }
}
