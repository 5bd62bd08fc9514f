package org.jvirtio.device.net.queue;

import java.util.concurrent.atomic.AtomicInteger;

import org.jvirtio.api.device.AdaptivePoll;
import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.device.net.NetCounter;
import org.jvirtio.device.net.QueueMetrics;

/**
 * Serves one virtqueue the driver fills with requests (transmit, control): pops chains, lets the
 * subclass handle each, publishes the used entries every {@link #PUBLISH_EVERY} chains and at the end
 * of a drained batch, then polls the ring for a while that adapts to the driver ({@link AdaptivePoll})
 * before it sleeps until the next kick. The same loop as virtio-blk's queue worker.
 *
 * <p>Threads: {@link #kick()} runs on the calling (transport) thread; a work-in-progress counter makes
 * a second concurrent kick hand its work to the thread already serving, so no kick is lost and no lock
 * is taken. A broken ring or an unexpected exception stops the loop for good and asks the transport for
 * DEVICE_NEEDS_RESET; a malformed chain is the subclass's business (count it, complete it, go on).
 */
abstract class QueueLoop {
    /** Completions made visible at once at the most, so the driver reuses buffers while we go on. */
    static final int PUBLISH_EVERY = 8;
    /** The longest an idle loop keeps polling the ring before it sleeps until the next kick. */
    static final long MAX_POLL_NANOS = 50_000;

    final int index;
    final QueueMetrics metrics;
    private final DeviceQueue queue;
    private final DescriptorChain chain;
    private final DriverNotifier notifier;
    private final AtomicInteger pendingKicks = new AtomicInteger();
    private final AdaptivePoll poll = new AdaptivePoll(MAX_POLL_NANOS);
    private long sleptAt;
    private volatile boolean stopped;
    private boolean broken;

    QueueLoop(int index, DeviceQueue queue, DriverNotifier notifier, QueueMetrics metrics) {
        this.index = index;
        this.queue = queue;
        this.chain = queue.newChain();
        this.notifier = notifier;
        this.metrics = metrics;
    }

    /** Handles the chain; returns the bytes written into it. */
    abstract int handle(DescriptorChain chain);

    /** The drained batch's frames are handed over (transmit: flush the backend). */
    void endOfBatch() {
    }

    /** The driver kicked the queue: serve it now on this thread, unless another thread already is. */
    public final void kick() {
        if (pendingKicks.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            metrics.add(NetCounter.KICKS, missed);
            serve();
            missed = pendingKicks.addAndGet(-missed);
        } while (missed != 0);
    }

    /** Stops serving after the chain in hand (device reset). */
    public final void stop() {
        stopped = true;
    }

    public final boolean isBroken() {
        return broken;
    }

    private void serve() {
        if (stopped || broken) {
            return;
        }
        if (sleptAt != 0) {
            poll.slept(System.nanoTime() - sleptAt);
        }
        try {
            do {
                queue.disableNotifications();
                int unpublished = 0;
                while (!stopped && queue.pop(chain)) {
                    queue.addUsed(chain, handle(chain));
                    if (++unpublished == PUBLISH_EVERY) {
                        endOfBatch();
                        publish();
                        unpublished = 0;
                    }
                }
                endOfBatch();
                publish();
            } while (!stopped && queue.error() == QueueError.NONE
                    && (poll.chainArrivesWithinWindow(queue) || queue.enableNotifications()));
        } catch (RuntimeException e) {
            fail("virtio-net queue " + index + " failed: " + e);
            return;
        }
        QueueError error = queue.error();
        if (error != QueueError.NONE) {
            fail(error.description());
        }
        sleptAt = System.nanoTime();
    }

    private void publish() {
        if (queue.publishUsed()) {
            metrics.increment(NetCounter.INTERRUPTS);
            notifier.notifyUsed(index);
        }
    }


    private void fail(String reason) {
        broken = true;
        try {
            notifier.deviceNeedsReset(reason);
        } catch (RuntimeException ignored) {
            // the transport's problem; this queue is stopped either way
        }
    }
}
