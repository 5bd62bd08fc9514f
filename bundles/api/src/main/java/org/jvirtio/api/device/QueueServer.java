package org.jvirtio.api.device;

import java.util.concurrent.atomic.AtomicInteger;

import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;

/**
 * Serves one virtqueue the driver fills with requests, for device models: pops chains, has
 * {@link #handle} complete each, publishes the used entries every {@link #PUBLISH_EVERY} chains (or as many
 * as the device model asks for) and at
 * the end of a drained batch, then polls the ring for a while that adapts to the driver
 * ({@link AdaptivePoll}) before it sleeps until the next kick.
 *
 * <p>Threads: {@link #kick()} serves on the calling (transport) thread. A work-in-progress counter
 * makes a kick that arrives while another thread serves hand its work to that thread, which goes round
 * again: no kick is lost and no lock is taken. A broken ring or an unexpected exception stops the
 * server for good and asks the transport for DEVICE_NEEDS_RESET; a malformed request is the
 * subclass's business (count it, complete it, go on).
 *
 * @since 1.3
 */
public abstract class QueueServer {
    /**
     * Completions made visible at once at the most, unless the device model says otherwise: a driver
     * that keeps many requests in flight starts reusing the first while the device serves the rest,
     * instead of both sides taking turns.
     */
    public static final int PUBLISH_EVERY = 8;
    /** The longest an idle server keeps polling the ring before it sleeps until the next kick. */
    public static final long MAX_POLL_NANOS = 50_000;

    protected final int index;
    private final DeviceQueue queue;
    private final DescriptorChain chain;
    private final DriverNotifier notifier;
    private final String name;
    private final AtomicInteger pendingKicks = new AtomicInteger();
    private final AdaptivePoll poll = new AdaptivePoll(MAX_POLL_NANOS);
    /** When the server last went to sleep (System.nanoTime), or 0 before the first serve. */
    private long sleptAt;
    private volatile boolean stopped;
    private boolean broken;
    private final int publishEvery;

    /** @param name the queue in failure reasons, e.g. {@code virtio-blk queue 0} */
    protected QueueServer(int index, DeviceQueue queue, DriverNotifier notifier, String name) {
        this(index, queue, notifier, name, PUBLISH_EVERY);
    }

    /**
     * @param name         the queue in failure reasons, e.g. {@code virtio-blk queue 0}
     * @param publishEvery completions made visible at once at the most (1 or more): a queue whose
     *                     driver takes its buffers back in bursts and waits for nothing in particular (a
     *                     network transmit queue) publishes less often, since every publication is a
     *                     store to a line the driver reads and a look at one it writes
     * @since 1.4
     */
    protected QueueServer(int index, DeviceQueue queue, DriverNotifier notifier, String name, int publishEvery) {
        if (publishEvery < 1) {
            throw new IllegalArgumentException("publishEvery must be at least 1: " + publishEvery);
        }
        this.publishEvery = publishEvery;
        this.index = index;
        this.queue = queue;
        this.chain = queue.newChain();
        this.notifier = notifier;
        this.name = name;
    }

    /** Handles the chain (which the server completes with what this returns): bytes written into it. */
    protected abstract int handle(DescriptorChain chain);

    /** {@code kicks} kicks were served together (a counter's business). */
    protected abstract void kicked(int kicks);

    /** The driver was interrupted (a counter's business). */
    protected abstract void interrupted();

    /** The chains handled so far are about to be published (a transmit queue flushes its backend). */
    protected void endOfBatch() {
    }

    /** The driver kicked the queue: serve it now on this thread, unless another thread already is. */
    public final void kick() {
        if (pendingKicks.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            kicked(missed);
            serve();
            missed = pendingKicks.addAndGet(-missed);
        } while (missed != 0);
    }

    /** Stops serving after the chain in hand (device reset); the transport has quiesced the queue. */
    public final void stop() {
        stopped = true;
    }

    /** Whether the queue broke and the server gave up on it. */
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
                    if (++unpublished == publishEvery) {
                        publish();
                        unpublished = 0;
                    }
                }
                // what is left of the drained batch at once, so that the driver refills the ring while we poll
                publish();
            } while (!stopped && queue.error() == QueueError.NONE
                    && (poll.chainArrivesWithinWindow(queue) || queue.enableNotifications()));
        } catch (RuntimeException e) {
            fail(name + " failed: " + e);
            return;
        }
        QueueError error = queue.error();
        if (error != QueueError.NONE) {
            fail(error.description());
        }
        sleptAt = System.nanoTime();
    }

    private void publish() {
        endOfBatch();
        if (queue.publishUsed()) {
            interrupted();
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
