package org.jvirtio.device.balloon.queue;

import java.util.Arrays;

import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.device.balloon.BalloonCounter;
import org.jvirtio.device.balloon.BalloonError;
import org.jvirtio.device.balloon.BalloonMetrics;
import org.jvirtio.device.balloon.control.BalloonStatistics;
import org.jvirtio.device.balloon.control.StatTag;

/**
 * statsq (STATS_VQ, virtio 1.2 section 5.5.6.3), which runs the other way round: the driver adds one
 * buffer of statistics ({@code le16 tag, le64 val}, 10 bytes each, device-readable) and the device
 * keeps it; using it (length 0) is how the device asks for the next sample, which the driver sends by
 * adding the buffer again, refilled. So a chain is parsed when it arrives and held until
 * {@link #requestNext()}.
 *
 * <p>Threads: kicks come on the transport's thread, requests for the next sample on the device's timer
 * or a caller's thread; both hold the queue's serve lock ({@link DeviceQueue#serveLock()}) around every
 * use of the queue, and the counters are written only under it. A driver that adds a second buffer while
 * the first is held gets the first back at once (it can only be waiting for it).
 */
public final class StatsQueue {
    private static final int ENTRY = 10;

    private final int index;
    private final DeviceQueue queue;
    private final DescriptorChain chain;
    private final DriverNotifier notifier;
    private final BalloonMetrics metrics;
    private final Object lock;
    private final ChainReader reader = new ChainReader();
    private final long[] values = new long[StatTag.values().length];
    private final boolean[] present = new boolean[values.length];
    private volatile BalloonStatistics latest = BalloonStatistics.NONE;
    private long sequence;
    private int heldHead = -1;
    private int heldSlots;
    private boolean stopped;
    private boolean broken;

    public StatsQueue(int index, DeviceQueue queue, DriverNotifier notifier, BalloonMetrics metrics) {
        this.index = index;
        this.queue = queue;
        this.chain = queue.newChain();
        this.notifier = notifier;
        this.metrics = metrics;
        this.lock = queue.serveLock();
    }

    /** The latest sample, or {@link BalloonStatistics#NONE}. */
    public BalloonStatistics latest() {
        return latest;
    }

    /**
     * The driver added a statistics buffer: parse and hold it.
     *
     * @return whether a new sample arrived (the caller schedules the next request)
     */
    public boolean kick() {
        boolean sampled = false;
        boolean notify = false;
        String failure = null;
        synchronized (lock) {
            metrics.increment(BalloonCounter.KICKS);
            if (stopped || broken) {
                return false;
            }
            // enableNotifications asks for the next kick (with EVENT_IDX: sets avail_event) and catches a
            // buffer added meanwhile; without it the driver's refill would never be announced
            do {
                queue.disableNotifications();
                while (queue.pop(chain)) {
                    sampled |= take(chain);
                }
            } while (queue.error() == QueueError.NONE && queue.enableNotifications());
            notify = publish();
            if (queue.error() != QueueError.NONE) {
                broken = true;
                failure = queue.error().description();
            }
        }
        if (notify) {
            notifier.notifyUsed(index);
        }
        if (failure != null) {
            notifier.deviceNeedsReset(failure);
        }
        return sampled;
    }

    /** Holds {@code chain} as the buffer for the next request, after parsing it; whether it was a sample. */
    private boolean take(DescriptorChain chain) {
        metrics.increment(BalloonCounter.REQUESTS);
        if (heldHead >= 0) {
            queue.addUsed(heldHead, heldSlots, 0);
            heldHead = -1;
        }
        if (chain.writableCount() > 0) {
            metrics.error(BalloonError.WRITABLE_DESCRIPTOR, chain.address(chain.readableCount()));
            queue.addUsed(chain, 0);
            return false;
        }
        parse(chain);
        heldHead = chain.head();
        heldSlots = chain.ringSlots();
        return true;
    }

    /**
     * Hands the held buffer back, which asks the driver for a fresh sample.
     *
     * @return false if no buffer is held (none arrived yet, or it was already handed back)
     */
    public boolean requestNext() {
        boolean notify;
        synchronized (lock) {
            if (stopped || broken || heldHead < 0) {
                return false;
            }
            queue.addUsed(heldHead, heldSlots, 0);
            heldHead = -1;
            metrics.increment(BalloonCounter.STATS_REQUESTS);
            notify = publish();
        }
        if (notify) {
            notifier.notifyUsed(index);
        }
        return true;
    }

    /** Stops serving (device reset): the held buffer is forgotten with the rest of the driver state. */
    public void stop() {
        synchronized (lock) {
            stopped = true;
        }
    }

    private boolean publish() {
        if (queue.publishUsed()) {
            metrics.increment(BalloonCounter.INTERRUPTS);
            return true;
        }
        return false;
    }

    private void parse(DescriptorChain chain) {
        Arrays.fill(present, false);
        reader.reset(chain);
        try {
            while (reader.remaining() >= ENTRY) {
                int tag = reader.readShort() & 0xFFFF;
                long value = reader.readLong();
                StatTag known = StatTag.of(tag);
                if (known == null) {
                    metrics.error(BalloonError.STATS_UNKNOWN_TAG, tag);
                } else {
                    values[tag] = value;
                    present[tag] = true;
                }
            }
            if (reader.remaining() != 0) {
                metrics.error(BalloonError.STATS_TRUNCATED, reader.remaining());
            }
        } catch (GuestMemoryException e) {
            metrics.error(BalloonError.RANGE_OUTSIDE_MEMORY, e.address());
        }
        metrics.increment(BalloonCounter.STATS_SAMPLES);
        latest = new BalloonStatistics(++sequence, values, present);
    }
}
