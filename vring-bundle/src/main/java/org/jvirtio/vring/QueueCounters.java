package org.jvirtio.vring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

import org.jvirtio.api.management.QueueStatistics;

/**
 * One queue's counters, as every transport keeps them: the queue a device serves
 * ({@link PluggableQueue}, vhost-user's ring slot) counts chains taken and given back, the transport
 * counts kicks, interrupts and errors, and the shell and JMX read a {@link #snapshot()}.
 *
 * <p>Each counter but {@link #failed() errors} has one writer at a time: chains, completions and
 * suppressions are counted by whoever serves the queue, which the queue API serialises (its worker, or
 * a thread holding its serve lock); kicks by the thread that takes the driver's notifications
 * (serialised by the transport); interrupts by whoever notifies the driver for this queue, which is the
 * queue's server. So plain increments with opaque accesses suffice, allocating nothing and taking no
 * lock: a reader sees each counter whole and recent, not all of them at one instant. Errors are rare
 * and come from other threads, so they count atomically.
 *
 * @since 1.3
 */
public final class QueueCounters {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int CHAINS = 0;
    private static final int COMPLETED = 1;
    private static final int BYTES_READ = 2;
    private static final int BYTES_WRITTEN = 3;
    private static final int KICKS = 4;
    private static final int INTERRUPTS = 5;
    private static final int SUPPRESSED = 6;

    private final long[] slots = new long[7];
    private final AtomicLong errors = new AtomicLong();

    /** The device took a chain offering {@code readableBytes} to it. */
    public void popped(long readableBytes) {
        add(CHAINS, 1);
        add(BYTES_READ, readableBytes);
    }

    /** The device gave a chain back, having written {@code writtenLength} bytes into it. */
    public void completed(int writtenLength) {
        add(COMPLETED, 1);
        add(BYTES_WRITTEN, Integer.toUnsignedLong(writtenLength));
    }

    /** The driver notified the queue. */
    public void kicked() {
        add(KICKS, 1);
    }

    /** The driver was notified of used buffers on the queue. */
    public void interrupted() {
        add(INTERRUPTS, 1);
    }

    /** Completions were published and the driver had asked not to be notified of them. */
    public void suppressed() {
        add(SUPPRESSED, 1);
    }

    /** The queue broke and the device needs a reset; any thread. */
    public void failed() {
        errors.incrementAndGet();
    }

    /** The counters so far (allocates the record: for management reads, not the data path). */
    public QueueStatistics snapshot() {
        return new QueueStatistics(get(CHAINS), get(COMPLETED), get(BYTES_READ), get(BYTES_WRITTEN), get(KICKS),
                get(INTERRUPTS), get(SUPPRESSED), errors.get());
    }

    private void add(int slot, long n) {
        // opaque, not volatile: one writer per counter (see the class comment), so no read-modify-write
        // race to prevent; opaque only keeps a reader from seeing a torn or indefinitely stale value
        SLOT.setOpaque(slots, slot, (long) SLOT.getOpaque(slots, slot) + n);
    }

    private long get(int slot) {
        return (long) SLOT.getOpaque(slots, slot);
    }
}
