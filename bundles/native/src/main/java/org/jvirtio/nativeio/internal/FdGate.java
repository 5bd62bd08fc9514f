package org.jvirtio.nativeio.internal;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicInteger;

import org.jvirtio.nativeio.NativeFd;

/**
 * Lets one thread close a descriptor while others are blocked in calls on it (accept, recvmsg,
 * epoll_wait), without ever handing a call a closed or, worse, reused descriptor number.
 *
 * <p>Every call on the descriptor runs between {@link #enter()} and {@link #exit()}. {@link #close}
 * marks the gate closing, then, if calls are inside, runs an interrupt that makes them return
 * ({@code shutdown(SHUT_RDWR)} for sockets, an eventfd write for epoll). The descriptor and the native
 * buffers the calls use are released by whoever leaves last, so they live exactly as long as a call
 * may touch them. This is the JDK's own scheme for asynchronous close of channels, without signals.
 */
public final class FdGate {

    /** Set once closing; the low bits count calls inside. */
    private static final int CLOSING = 1 << 30;
    private static final System.Logger LOG = System.getLogger("org.jvirtio.nativeio");

    /** Wakes calls that are blocked on {@code fd}; runs at most once, while fd is still open. */
    @FunctionalInterface
    public interface Interrupt {
        void interrupt(int fd) throws IOException;
    }

    private final AtomicInteger state = new AtomicInteger();
    private final NativeFd fd;
    private final Runnable release;

    /**
     * @param fd      the guarded descriptor, owned by the gate from now on
     * @param release closes {@code fd} and frees whatever native memory the calls use; runs once
     */
    public FdGate(NativeFd fd, Runnable release) {
        this.fd = fd;
        this.release = release;
    }

    /** The guarded descriptor (still owned by the gate). */
    public NativeFd fd() {
        return fd;
    }

    /**
     * Admits a call; returns the raw descriptor to use until {@link #exit()}.
     *
     * @throws IllegalStateException if the gate is closing or closed
     */
    public int enter() {
        if (!tryEnter()) {
            throw new IllegalStateException("file descriptor is closed");
        }
        return fd.value();
    }

    /** Admits a call unless closing; false means: do nothing, the object is closed. */
    public boolean tryEnter() {
        for (;;) {
            int s = state.get();
            if ((s & CLOSING) != 0) {
                return false;
            }
            if (state.compareAndSet(s, s + 1)) {
                return true;
            }
        }
    }

    /** Ends a call; the last one out after {@link #close} releases. */
    public void exit() {
        if (state.decrementAndGet() == CLOSING) {
            release.run();
        }
    }

    /** True once {@link #close} began: a call that returns now was (probably) interrupted by it. */
    public boolean isClosing() {
        return (state.get() & CLOSING) != 0;
    }

    /**
     * Closes once; later calls do nothing. Calls inside are interrupted and release happens when the
     * last of them leaves, possibly after this method returned.
     *
     * @return true for the call that closed, false if the gate was closing already
     */
    public boolean close(Interrupt interrupt) {
        int before;
        for (;;) {
            before = state.get();
            if ((before & CLOSING) != 0) {
                return false;
            }
            // Count this close as a call, so the descriptor stays valid for the interrupt.
            if (state.compareAndSet(before, (before + 1) | CLOSING)) {
                break;
            }
        }
        try {
            if (before != 0) {
                interrupt.interrupt(fd.value());
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "interrupting calls on " + fd + " failed", e);
        } finally {
            exit();
        }
        return true;
    }
}
