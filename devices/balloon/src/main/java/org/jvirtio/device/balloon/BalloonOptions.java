package org.jvirtio.device.balloon;

/**
 * How a balloon presents itself: the size of its queues, which optional features it offers, how often
 * it asks the guest for statistics, and the target it starts with.
 *
 * @param queueSize         entries per queue, a power of two from 32 (Linux wants 32 slots for a
 *                          free page report) to 32768
 * @param statsPeriodMillis how long the device keeps the statistics buffer before it hands it back for
 *                          the next sample; 0: only when asked ({@code requestStatistics})
 * @param targetPages       num_pages at start, in 4 KiB pages
 */
public record BalloonOptions(int queueSize, boolean statsVq, boolean deflateOnOom, boolean freePageHint,
        boolean pageReporting, boolean pagePoison, boolean packed, long statsPeriodMillis, long targetPages) {

    public BalloonOptions {
        if (queueSize < 32 || queueSize > 32768 || Integer.bitCount(queueSize) != 1) {
            throw new IllegalArgumentException("queue size must be a power of two, 32 to 32768: " + queueSize);
        }
        if (statsPeriodMillis < 0) {
            throw new IllegalArgumentException("negative statistics period: " + statsPeriodMillis);
        }
        if (targetPages < 0 || targetPages > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("target must fit 32 bits: " + targetPages);
        }
    }

    /** Every feature offered, queues of 128, statistics every 10 s, no target. */
    public static BalloonOptions defaults() {
        return new BalloonOptions(128, true, true, true, true, true, true, 10_000, 0);
    }

    public BalloonOptions withQueueSize(int v) {
        return new BalloonOptions(v, statsVq, deflateOnOom, freePageHint, pageReporting, pagePoison, packed,
                statsPeriodMillis, targetPages);
    }

    public BalloonOptions withStatsPeriodMillis(long v) {
        return new BalloonOptions(queueSize, statsVq, deflateOnOom, freePageHint, pageReporting, pagePoison, packed,
                v, targetPages);
    }

    public BalloonOptions withTargetPages(long v) {
        return new BalloonOptions(queueSize, statsVq, deflateOnOom, freePageHint, pageReporting, pagePoison, packed,
                statsPeriodMillis, v);
    }

    /** The same options with the optional features switched as given. */
    public BalloonOptions withFeatures(boolean stats, boolean oom, boolean hints, boolean reporting, boolean poison) {
        return new BalloonOptions(queueSize, stats, oom, hints, reporting, poison, packed, statsPeriodMillis,
                targetPages);
    }
}
