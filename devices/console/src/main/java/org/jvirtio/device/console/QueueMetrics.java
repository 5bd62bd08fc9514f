package org.jvirtio.device.console;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The counters of one queue: plain longs in one array, read by anyone. Writers are serialised by the
 * queue (a transmit queue has one serving thread at a time; a receive queue is written only under its
 * lock), so opaque accesses suffice: a reader sees each counter whole and reasonably recent, without an
 * atomic add on the data path. {@link #incrementShared} is for the rare counters any thread may bump.
 */
public final class QueueMetrics {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] slots = new long[ConsoleCounter.values().length];

    /** Adds one; one writer at a time. */
    public void increment(ConsoleCounter counter) {
        add(counter, 1);
    }

    /** Adds {@code n}; one writer at a time. */
    public void add(ConsoleCounter counter, long n) {
        int slot = counter.ordinal();
        SLOT.setOpaque(slots, slot, (long) SLOT.getOpaque(slots, slot) + n);
    }

    /** Adds one, from any thread (an atomic add: for events off the data path). */
    public void incrementShared(ConsoleCounter counter) {
        SLOT.getAndAdd(slots, counter.ordinal(), 1L);
    }

    public long get(ConsoleCounter counter) {
        return (long) SLOT.getOpaque(slots, counter.ordinal());
    }
}
