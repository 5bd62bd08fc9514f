package org.jvirtio.platform.jmx;

import java.beans.ConstructorProperties;

import org.jvirtio.api.management.QueueStatistics;

/** One queue's counters as an MXBean composite (JMX needs getters). */
public final class QueueView {
    private final int index;
    private final QueueStatistics s;

    @ConstructorProperties({"index", "chains", "completed", "bytesRead", "bytesWritten", "kicks", "interrupts",
            "suppressed", "errors"})
    public QueueView(int index, long chains, long completed, long bytesRead, long bytesWritten, long kicks,
            long interrupts, long suppressed, long errors) {
        this(index, new QueueStatistics(chains, completed, bytesRead, bytesWritten, kicks, interrupts, suppressed,
                errors));
    }

    QueueView(int index, QueueStatistics s) {
        this.index = index;
        this.s = s;
    }

    public int getIndex() {
        return index;
    }

    public long getChains() {
        return s.chains();
    }

    public long getCompleted() {
        return s.completed();
    }

    public long getBytesRead() {
        return s.bytesRead();
    }

    public long getBytesWritten() {
        return s.bytesWritten();
    }

    public long getKicks() {
        return s.kicks();
    }

    public long getInterrupts() {
        return s.interrupts();
    }

    public long getSuppressed() {
        return s.suppressed();
    }

    public long getErrors() {
        return s.errors();
    }
}
