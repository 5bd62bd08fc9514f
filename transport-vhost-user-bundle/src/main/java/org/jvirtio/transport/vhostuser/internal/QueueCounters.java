package org.jvirtio.transport.vhostuser.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

import org.jvirtio.api.management.QueueStatistics;

/**
 * One ring's counters, kept by the back end across connections and device replacements. Written by
 * whoever uses the ring, which the queue API serialises (the ring's thread, or a thread holding its
 * serve lock), so plain increments with opaque accesses suffice: a reader sees each counter whole and
 * recent, not all of them at one instant. Errors come from other threads and count atomically.
 */
final class QueueCounters {
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

    void popped(long readableBytes) {
        add(CHAINS, 1);
        add(BYTES_READ, readableBytes);
    }

    void completed(int writtenLength) {
        add(COMPLETED, 1);
        add(BYTES_WRITTEN, writtenLength);
    }

    void kicked() {
        add(KICKS, 1);
    }

    void interrupted() {
        add(INTERRUPTS, 1);
    }

    void suppressed() {
        add(SUPPRESSED, 1);
    }

    void failed() {
        errors.incrementAndGet();
    }

    QueueStatistics snapshot() {
        return new QueueStatistics(get(CHAINS), get(COMPLETED), get(BYTES_READ), get(BYTES_WRITTEN), get(KICKS),
                get(INTERRUPTS), get(SUPPRESSED), errors.get());
    }

    private void add(int slot, long n) {
        SLOT.setOpaque(slots, slot, (long) SLOT.getOpaque(slots, slot) + n);
    }

    private long get(int slot) {
        return (long) SLOT.getOpaque(slots, slot);
    }
}
