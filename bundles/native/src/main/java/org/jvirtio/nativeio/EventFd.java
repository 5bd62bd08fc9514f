package org.jvirtio.nativeio;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

import org.jvirtio.nativeio.internal.Errno;
import org.jvirtio.nativeio.internal.LibC;
import org.jvirtio.nativeio.internal.Scratch;

/**
 * A Linux eventfd: a 64-bit counter behind a descriptor, the doorbell of virtio. Kicks (driver to
 * device) and interrupts (device to driver, via irqfd) are eventfd writes; vhost-user receives both kinds
 * from its peer. Writes add to the counter, a read returns it and resets it to zero, so signals that
 * arrive before the reader looks are merged, never lost.
 *
 * <p>{@link #signal()}, {@link #write} and {@link #read()} allocate nothing: they are on the hot path
 * of every kick and interrupt. Thread safety: all methods may be called from any thread; closing while
 * another thread is blocked in {@link #read()} is the owner's responsibility to prevent.
 */
public final class EventFd implements AutoCloseable {

    private static final int COUNTER_BYTES = 8;
    /** A counter value of 1, written by {@link #signal()}; shared and never modified. */
    private static final Memory ONE = new Memory(COUNTER_BYTES);
    private static final long ONE_ADDRESS = Pointer.nativeValue(ONE);

    static {
        ONE.setLong(0, 1L);
    }

    private final NativeFd fd;

    private EventFd(NativeFd fd) {
        this.fd = fd;
    }

    /**
     * A new eventfd with counter 0, close-on-exec.
     *
     * @param nonBlocking {@link #read()} returns 0 at once instead of waiting when the counter is zero
     *                    (what an epoll-driven reader wants)
     */
    public static EventFd create(boolean nonBlocking) throws NativeException {
        int flags = LibC.EFD_CLOEXEC | (nonBlocking ? LibC.EFD_NONBLOCK : 0);
        int raw = LibC.eventfd(0, flags);
        if (raw < 0) {
            throw Errno.failure("eventfd", nonBlocking ? "EFD_NONBLOCK" : "");
        }
        return new EventFd(NativeFd.adopt(raw));
    }

    /**
     * Wraps an eventfd received from elsewhere (vhost-user's kick and call descriptors), taking
     * ownership: closing this closes {@code fd}. Whether it blocks is whatever its creator chose.
     */
    public static EventFd adopt(NativeFd fd) {
        return new EventFd(fd);
    }

    /** Adds 1 to the counter: one kick or one interrupt. */
    public void signal() throws NativeException {
        writeFrom(ONE_ADDRESS, 1L);
    }

    /**
     * Adds {@code value} to the counter.
     *
     * @param value 1 to 0xffff_ffff_ffff_fffe (unsigned); the kernel refuses all-ones with EINVAL
     */
    public void write(long value) throws NativeException {
        Scratch scratch = Scratch.get();
        scratch.setLong(0, value);
        writeFrom(scratch.address(), value);
    }

    private void writeFrom(long address, long value) throws NativeException {
        int raw = fd.value();
        for (;;) {
            long written = LibC.write(raw, address, COUNTER_BYTES);
            if (written == COUNTER_BYTES) {
                return;
            }
            // A blocking eventfd only sleeps if the counter would overflow; EINTR then means try again.
            if (written >= 0 || Errno.last() != Errno.EINTR) {
                throw Errno.failure("write", "eventfd=" + raw + ", value=" + Long.toUnsignedString(value));
            }
        }
    }

    /**
     * Returns the counter (unsigned) and resets it to zero. Blocks while it is zero, unless the
     * descriptor is non-blocking: then returns 0.
     */
    public long read() throws NativeException {
        int raw = fd.value();
        Scratch scratch = Scratch.get();
        for (;;) {
            long got = LibC.read(raw, scratch.address(), COUNTER_BYTES);
            if (got == COUNTER_BYTES) {
                return scratch.getLong(0);
            }
            int errno = got < 0 ? Errno.last() : 0;
            if (errno == Errno.EAGAIN) {
                return 0;
            }
            if (errno != Errno.EINTR) {
                throw new NativeException("read", "eventfd=" + raw, errno == 0 ? Errno.EINVAL : errno);
            }
        }
    }

    /** The descriptor, still owned by this object: for epoll, or to send to a peer. */
    public NativeFd fd() {
        return fd;
    }

    /** Closes the descriptor the first time; afterwards does nothing. */
    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return "EventFd[" + fd.toString() + "]";
    }
}
