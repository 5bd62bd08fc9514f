package org.jvirtio.device.net;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The counters of one queue (Firecracker {@code metrics.rs}): plain longs in one array, read by anyone.
 * Writers are serialised by the queue (a transmit or control queue has one serving thread at a time; a
 * receive queue is written only under its lock), so opaque accesses suffice: a reader sees each counter
 * whole and reasonably recent, without an atomic add on the hot path. Counters are not consistent with
 * each other at any instant.
 */
public final class QueueMetrics {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] slots = new long[NetCounter.values().length];

    /** Adds one; one writer at a time. */
    public void increment(NetCounter counter) {
        add(counter, 1);
    }

    /** Adds {@code n}; one writer at a time. */
    public void add(NetCounter counter, long n) {
        int slot = counter.ordinal();
        SLOT.setOpaque(slots, slot, (long) SLOT.getOpaque(slots, slot) + n);
    }

    public long get(NetCounter counter) {
        return (long) SLOT.getOpaque(slots, counter.ordinal());
    }
}
