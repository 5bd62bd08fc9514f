package org.jvirtio.device.blk.worker;

import java.util.concurrent.atomic.AtomicInteger;

import org.jvirtio.api.device.AdaptivePoll;
import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.device.blk.BlockCounter;
import org.jvirtio.device.blk.QueueMetrics;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.jvirtio.device.blk.request.BlockRequest;
import org.jvirtio.device.blk.request.RequestError;
import org.jvirtio.device.blk.request.RequestParser;

/**
 * Serves one virtqueue: pops chains, parses and executes them, completes them with a status byte,
 * publishes the used entries once per drained batch and interrupts the driver when the ring says so,
 * then polls the ring for a while that adapts to the driver ({@link AdaptivePoll}) before it sleeps
 * until the next kick.
 *
 * <p>Threads: {@link #kick()} runs the queue on the calling thread (the transport owns the threads).
 * Kicks of the same queue from two threads never serve it twice at once: a work-in-progress counter
 * lets the first caller serve and makes it go round again for every kick that arrived meanwhile, so no
 * kick is lost and no lock is taken. Different queues share nothing, so they run in parallel.
 *
 * <p>A malformed request fails alone (status byte, counter). A broken ring ({@link DeviceQueue#error()})
 * or an unexpected exception stops this worker for good and asks the transport for DEVICE_NEEDS_RESET.
 */
public final class QueueWorker {
    /**
     * Completions made visible at once at the most: a driver that keeps many requests in flight starts
     * reusing the first while the worker serves the rest, instead of both sides taking turns.
     */
    static final int PUBLISH_EVERY = 8;
    /** The longest an idle worker keeps polling the ring before it sleeps until the next kick. */
    static final long MAX_POLL_NANOS = 50_000;

    private final int index;
    private final DeviceQueue queue;
    private final DescriptorChain chain;
    private final RequestParser parser;
    private final BlockRequest request;
    private final RequestExecutor executor;
    private final DriverNotifier notifier;
    private final QueueMetrics metrics;
    private final AtomicInteger pendingKicks = new AtomicInteger();
    private final AdaptivePoll poll = new AdaptivePoll(MAX_POLL_NANOS);
    /** When the worker last went to sleep (System.nanoTime), or 0 before the first serve. */
    private long sleptAt;
    private volatile boolean stopped;
    private boolean broken;

    public QueueWorker(int index, DeviceQueue queue, RequestParser parser, RequestExecutor executor,
            DriverNotifier notifier, QueueMetrics metrics) {
        this.index = index;
        this.queue = queue;
        this.chain = queue.newChain();
        this.parser = parser;
        this.request = new BlockRequest(parser.limits().maxSegments());
        this.executor = executor;
        this.notifier = notifier;
        this.metrics = metrics;
    }

    /** The driver kicked the queue: serve it now on this thread, unless another thread already is. */
    public void kick() {
        if (pendingKicks.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            metrics.add(BlockCounter.KICKS, missed);
            serve();
            missed = pendingKicks.addAndGet(-missed);
        } while (missed != 0);
    }

    /** Stops serving after the request in hand (device reset); the transport has quiesced the queue. */
    public void stop() {
        stopped = true;
    }

    /** Whether the queue broke and the worker gave up on it. */
    public boolean isBroken() {
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
                    queue.addUsed(chain, handle());
                    if (++unpublished == PUBLISH_EVERY) {
                        publish();
                        unpublished = 0;
                    }
                }
                // Publish what is left of the drained batch at once, so that the driver refills the ring while we poll.
                publish();
            } while (!stopped && queue.error() == QueueError.NONE
                    && (poll.chainArrivesWithinWindow(queue) || queue.enableNotifications()));
        } catch (RuntimeException e) {
            fail("virtio-blk queue " + index + " failed: " + e);
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
            metrics.increment(BlockCounter.INTERRUPTS);
            notifier.notifyUsed(index);
        }
    }


    /**
     * Parses, executes and completes the chain in {@link #chain}.
     *
     * @return bytes written into the chain, status byte included (0 if there was no room for it)
     */
    private int handle() {
        metrics.increment(BlockCounter.REQUESTS);
        RequestError error;
        long written = 0;
        try {
            error = parser.parse(chain, request);
            if (error == RequestError.NONE) {
                error = executor.execute(chain, request);
                written = executor.written();
            }
        } catch (GuestMemoryException e) {
            error = RequestError.GUEST_MEMORY;
        }
        if (error == RequestError.NO_STATUS_BYTE) {
            metrics.error(error);
            return 0;
        }
        if (error != RequestError.NONE) {
            metrics.error(error);
            written = 0;
        }
        try {
            chain.memory().putByte(request.statusAddress(),
                    error == RequestError.NONE ? BlockProtocol.S_OK : error.status());
        } catch (GuestMemoryException e) {
            if (error == RequestError.NONE) {
                metrics.error(RequestError.GUEST_MEMORY);
            }
            return 0;
        }
        // at most the chain's writable bytes, which fit in a u32: the cast keeps the bits
        return (int) (written + 1);
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
