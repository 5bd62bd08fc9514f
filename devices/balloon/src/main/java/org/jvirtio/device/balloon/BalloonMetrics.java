package org.jvirtio.device.balloon;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The counters of one balloon queue (or of the device's configuration space): plain longs in one array,
 * written by one thread at a time (the queue's server, or whoever holds the configuration lock) and read
 * by anyone. Opaque accesses make a reader see each counter whole and reasonably recent without a
 * volatile store or an atomic add on the hot path; counters are not consistent with each other.
 *
 * <p>An error is logged the first time and then whenever its count reaches a power of two: a driver
 * that sends garbage on purpose cannot flood the log, and the operator still learns that it goes on.
 */
public final class BalloonMetrics {
    private static final Logger LOG = System.getLogger("org.jvirtio.device.balloon");
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int ERRORS = BalloonCounter.values().length;

    private final String name;
    private final long[] slots = new long[ERRORS + BalloonError.values().length];

    /** @param name what the log calls this queue, e.g. {@code "balloon inflateq"} */
    public BalloonMetrics(String name) {
        this.name = name;
    }

    /** Adds one; single writer only. */
    public void increment(BalloonCounter counter) {
        add(counter.ordinal(), 1);
    }

    /** Adds {@code n}; single writer only. */
    public void add(BalloonCounter counter, long n) {
        add(counter.ordinal(), n);
    }

    /**
     * Counts one {@code error}, logging it the first time and at every power of two; single writer only.
     *
     * @param address the guest address or value concerned (logged in hex)
     */
    public void error(BalloonError error, long address) {
        long n = add(ERRORS + error.ordinal(), 1);
        if (Long.bitCount(n) == 1) {
            LOG.log(Level.WARNING, () -> name + ": " + error + " (0x" + Long.toHexString(address) + "), " + n
                    + (n == 1 ? " time" : " times"));
        }
    }

    private long add(int slot, long n) {
        long value = (long) SLOT.getOpaque(slots, slot) + n;
        SLOT.setOpaque(slots, slot, value);
        return value;
    }

    public long get(BalloonCounter counter) {
        return (long) SLOT.getOpaque(slots, counter.ordinal());
    }

    public long errors(BalloonError error) {
        return (long) SLOT.getOpaque(slots, ERRORS + error.ordinal());
    }
}
