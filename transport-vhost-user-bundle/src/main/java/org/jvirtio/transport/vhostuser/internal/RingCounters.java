package org.jvirtio.transport.vhostuser.internal;

import java.util.concurrent.atomic.AtomicReferenceArray;

import org.jvirtio.api.management.QueueStatistics;
import org.jvirtio.vring.QueueCounters;

/** The counters of every ring a back end served, by ring index, created when a ring is first set up. */
public final class RingCounters {
    /** vhost-user numbers rings with 8 bits. */
    private static final int MAX_RINGS = 256;
    private final AtomicReferenceArray<QueueCounters> rings = new AtomicReferenceArray<>(MAX_RINGS);

    QueueCounters of(int index) {
        QueueCounters c = rings.get(index);
        if (c == null) {
            rings.compareAndSet(index, null, new QueueCounters());
            c = rings.get(index);
        }
        return c;
    }

    /** Ring {@code index}'s counters so far; zeros for a ring never served. */
    public QueueStatistics statistics(int index) {
        QueueCounters c = index >= 0 && index < MAX_RINGS ? rings.get(index) : null;
        return c == null ? QueueStatistics.NONE : c.snapshot();
    }
}
