package org.jvirtio.nativeio.internal;

import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicLong;

import org.jvirtio.nativeio.NativeException;

/**
 * A native handle (a descriptor number or a mapping address) that is released exactly once, however
 * many threads call {@link #release()} and however often.
 *
 * <p>Releasing twice is worse than leaking: a second {@code close(fd)} closes whatever descriptor the
 * number was reused for in the meantime, a second {@code munmap} unmaps somebody else's memory. The
 * handle is therefore swapped out atomically and only the caller that got it calls the release
 * function.
 */
public final class ReleaseOnce {

    /** What a released handle reads as; neither a valid descriptor nor a user-space address. */
    private static final long RELEASED = Long.MIN_VALUE;
    private static final System.Logger LOG = System.getLogger("org.jvirtio.nativeio");

    /** Gives a handle back to the kernel; failures are reported, the handle is gone either way. */
    @FunctionalInterface
    public interface Release {
        void release(long handle) throws NativeException;
    }

    private final AtomicLong handle;
    private final String what;
    private final Release release;

    /**
     * @param handle  the descriptor or address, now owned by this object
     * @param what    how the handle is named in messages, e.g. {@code "file descriptor"}
     * @param release the call that gives it back
     */
    public ReleaseOnce(long handle, String what, Release release) {
        this.handle = new AtomicLong(handle);
        this.what = what;
        this.release = release;
    }

    /** The handle; {@link IllegalStateException} once released, so a use after close fails loudly. */
    public long get() {
        long h = handle.get();
        if (h == RELEASED) {
            throw new IllegalStateException(what + " is closed");
        }
        return h;
    }

    public boolean isOpen() {
        return handle.get() != RELEASED;
    }

    /**
     * Releases the handle if nobody did before; later calls do nothing. A failure is logged, not
     * thrown: the kernel has dropped the handle in any case (close(2) frees the number even on EINTR
     * or EIO) and a retry could only hit a reused number.
     */
    public void release() {
        long h = handle.getAndSet(RELEASED);
        if (h == RELEASED) {
            return;
        }
        try {
            release.release(h);
        } catch (NativeException e) {
            LOG.log(Level.WARNING, "releasing " + what + " " + h + " failed: " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        long h = handle.get();
        return h == RELEASED ? "closed" : Long.toString(h);
    }
}
