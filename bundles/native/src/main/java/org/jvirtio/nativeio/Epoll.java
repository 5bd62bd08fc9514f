package org.jvirtio.nativeio;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

import org.jvirtio.nativeio.internal.Errno;
import org.jvirtio.nativeio.internal.FdGate;
import org.jvirtio.nativeio.internal.LibC;
import org.jvirtio.nativeio.internal.Scratch;

/**
 * Readiness of many descriptors at once (Linux epoll, level-triggered): one thread waits for the kick
 * eventfds of all queues of a device, or for the sockets of a transport, and learns which are ready by
 * the caller's own integer tags.
 *
 * <p>{@link #wait} allocates nothing: the kernel fills a native {@code epoll_event} array made once
 * per instance. {@link #wakeup()} lets another thread end a wait (to reconfigure, or to stop), through an
 * internal eventfd whose readiness {@link #wait} consumes and never reports.
 *
 * <p>Thread safety: {@link #add}, {@link #modify}, {@link #remove} and {@link #wakeup()} may be called
 * from any thread, also during a wait. One thread at a time may wait. {@link #close()} from another thread
 * ends a blocked wait, which then returns 0; descriptors are released when that wait has returned.
 */
public final class Epoll implements AutoCloseable {

    /** Readable ({@code EPOLLIN}). */
    public static final int IN = 0x001;
    /** Writable ({@code EPOLLOUT}). */
    public static final int OUT = 0x004;
    /** Error condition ({@code EPOLLERR}); always reported, need not be asked for. */
    public static final int ERR = 0x008;
    /** Hang-up ({@code EPOLLHUP}); always reported, need not be asked for. */
    public static final int HUP = 0x010;

    /** Default number of events one {@link #wait} can return. */
    public static final int DEFAULT_CAPACITY = 64;

    /**
     * {@code struct epoll_event} is packed on x86-64: {@code uint32 events} at 0, {@code uint64 data}
     * at 4, 12 bytes, with no padding between array elements.
     */
    private static final int EVENT_SIZE = 12;
    private static final int EVENT_DATA = 4;
    /** User tags occupy the low 32 bits of {@code data}; this value cannot collide with any of them. */
    private static final long WAKEUP_DATA = 1L << 32;

    private final FdGate gate;
    private final EventFd wakeupFd;
    private final Memory events;
    private final long eventsAddress;
    private final int capacity;
    private final AtomicBoolean waiting = new AtomicBoolean();

    private Epoll(NativeFd epfd, EventFd wakeupFd, Memory events, int capacity) {
        this.wakeupFd = wakeupFd;
        this.events = events;
        this.eventsAddress = Pointer.nativeValue(events);
        this.capacity = capacity;
        this.gate = new FdGate(epfd, () -> {
            epfd.close();
            wakeupFd.close();
            events.close();
        });
    }

    /** An epoll instance whose {@link #wait} returns up to {@value #DEFAULT_CAPACITY} tags. */
    public static Epoll create() throws NativeException {
        return create(DEFAULT_CAPACITY);
    }

    /**
     * An epoll instance whose {@link #wait} returns up to {@code capacity} tags at a time; more ready
     * descriptors are reported by the following waits.
     */
    public static Epoll create(int capacity) throws NativeException {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        int raw = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        if (raw < 0) {
            throw Errno.failure("epoll_create1", "EPOLL_CLOEXEC");
        }
        NativeFd epfd = NativeFd.adopt(raw);
        EventFd wakeupFd = null;
        try {
            wakeupFd = EventFd.create(true);
            Memory events = new Memory((long) capacity * EVENT_SIZE);
            control(raw, LibC.EPOLL_CTL_ADD, wakeupFd.fd().value(), IN, WAKEUP_DATA, "ADD wakeup");
            return new Epoll(epfd, wakeupFd, events, capacity);
        } catch (NativeException | RuntimeException e) {
            epfd.close();
            if (wakeupFd != null) {
                wakeupFd.close();
            }
            throw e;
        }
    }

    /**
     * Watches {@code fd} for {@code events} ({@link #IN} | {@link #OUT}), reported as {@code tag}.
     * Epoll holds no reference to {@code fd}: {@link #remove} it before closing it (the kernel forgets a
     * closed descriptor by itself only when no duplicate of it is open).
     */
    public void add(NativeFd fd, int events, int tag) throws NativeException {
        ctl(LibC.EPOLL_CTL_ADD, fd, events, tag, "ADD");
    }

    /** Changes the events and tag of a watched descriptor. */
    public void modify(NativeFd fd, int events, int tag) throws NativeException {
        ctl(LibC.EPOLL_CTL_MOD, fd, events, tag, "MOD");
    }

    /** Stops watching {@code fd}. */
    public void remove(NativeFd fd) throws NativeException {
        ctl(LibC.EPOLL_CTL_DEL, fd, 0, 0, "DEL");
    }

    private void ctl(int op, NativeFd fd, int events, int tag, String opName) throws NativeException {
        int epfd = gate.enter();
        try {
            control(epfd, op, fd.value(), events, Integer.toUnsignedLong(tag), opName);
        } finally {
            gate.exit();
        }
    }

    private static void control(int epfd, int op, int fd, int events, long data, String opName)
            throws NativeException {
        Scratch event = Scratch.get();
        event.setInt(0, events);
        event.setLong(EVENT_DATA, data);
        if (LibC.epoll_ctl(epfd, op, fd, event.address()) < 0) {
            throw Errno.failure("epoll_ctl", opName + ", epfd=" + epfd + ", fd=" + fd);
        }
    }

    /**
     * Waits until watched descriptors are ready, {@link #wakeup()} is called, or the timeout passes,
     * and writes the tags of the ready ones to {@code readyTags}. Interrupted system calls (EINTR) are
     * resumed with the time that is left.
     *
     * @param readyTags     receives up to {@code min(readyTags.length, capacity)} tags
     * @param timeoutMillis -1 waits without limit, 0 only polls
     * @return how many tags were written; 0 on timeout, on wakeup, and when closed meanwhile
     * @throws IllegalStateException if another thread is waiting, or once closed
     */
    public int wait(int[] readyTags, int timeoutMillis) throws NativeException {
        int max = Math.min(readyTags.length, capacity);
        if (max == 0) {
            throw new IllegalArgumentException("readyTags has no room");
        }
        if (!waiting.compareAndSet(false, true)) {
            throw new IllegalStateException("another thread is already waiting on this epoll");
        }
        try {
            int epfd = gate.enter();
            try {
                return await(epfd, readyTags, max, timeoutMillis);
            } finally {
                gate.exit();
            }
        } finally {
            waiting.set(false);
        }
    }

    private int await(int epfd, int[] readyTags, int max, int timeoutMillis) throws NativeException {
        long deadline = timeoutMillis > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis) : 0;
        int timeout = timeoutMillis;
        for (;;) {
            // Never more slots than tags: an event the kernel returns but we dropped would be lost
            // for an edge-triggered descriptor. A wakeup taking a slot only postpones one event.
            int n = LibC.epoll_wait(epfd, eventsAddress, max, timeout);
            if (n >= 0) {
                return collect(n, readyTags);
            }
            int errno = Errno.last();
            if (errno != Errno.EINTR) {
                throw new NativeException("epoll_wait", "epfd=" + epfd, errno);
            }
            if (gate.isClosing()) {
                return 0;
            }
            if (timeoutMillis > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return 0;
                }
                timeout = (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left));
            }
        }
    }

    private int collect(int n, int[] readyTags) throws NativeException {
        int count = 0;
        for (int i = 0; i < n; i++) {
            long data = events.getLong((long) i * EVENT_SIZE + EVENT_DATA);
            if (data == WAKEUP_DATA) {
                wakeupFd.read(); // non-blocking; resets the counter so the wakeup is consumed once
            } else {
                readyTags[count++] = (int) data;
            }
        }
        return count;
    }

    /**
     * Makes the current {@link #wait} return, or the next one if nobody waits now (a wakeup is not
     * lost in between). Does nothing once closed, so shutdown code may call it unconditionally.
     */
    public void wakeup() throws NativeException {
        if (!gate.tryEnter()) {
            return;
        }
        try {
            wakeupFd.signal();
        } finally {
            gate.exit();
        }
    }

    /**
     * Closes the epoll instance once; a wait in progress returns 0 and the descriptors are released
     * when it has. Watched descriptors are not closed: they belong to their owners.
     */
    @Override
    public void close() {
        gate.close(epfd -> wakeupFd.signal());
    }

    @Override
    public String toString() {
        return "Epoll[" + gate.fd() + "]";
    }
}
