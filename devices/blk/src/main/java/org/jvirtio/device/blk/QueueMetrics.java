package org.jvirtio.device.blk;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import org.jvirtio.device.blk.request.RequestError;

/**
 * The counters of one queue (Firecracker {@code metrics.rs}): plain longs in one array, written only by
 * the thread serving the queue and read by anyone. Opaque accesses make a reader see each counter
 * whole and reasonably recent without the cost of a volatile store or an atomic add on the hot path;
 * counters are not consistent with each other at any instant.
 */
public final class QueueMetrics {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int ERRORS = BlockCounter.values().length;

    private final long[] slots = new long[ERRORS + RequestError.values().length];

    /** Adds one; single writer only. */
    public void increment(BlockCounter counter) {
        add(counter.ordinal(), 1);
    }

    /** Adds {@code n}; single writer only. */
    public void add(BlockCounter counter, long n) {
        add(counter.ordinal(), n);
    }

    /** Counts one request that failed with {@code error}; single writer only. */
    public void error(RequestError error) {
        add(ERRORS + error.ordinal(), 1);
    }

    private void add(int slot, long n) {
        SLOT.setOpaque(slots, slot, (long) SLOT.getOpaque(slots, slot) + n);
    }

    public long get(BlockCounter counter) {
        return (long) SLOT.getOpaque(slots, counter.ordinal());
    }

    public long errors(RequestError error) {
        return (long) SLOT.getOpaque(slots, ERRORS + error.ordinal());
    }

    /** Requests that failed for any reason. */
    public long totalErrors() {
        long sum = 0;
        for (int i = ERRORS + 1; i < slots.length; i++) {
            sum += (long) SLOT.getOpaque(slots, i);
        }
        return sum;
    }
}
