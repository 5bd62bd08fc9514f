package org.jvirtio.device.blk.worker;

import org.jvirtio.api.device.QueueServer;
import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.device.blk.BlockCounter;
import org.jvirtio.device.blk.QueueMetrics;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.jvirtio.device.blk.request.BlockRequest;
import org.jvirtio.device.blk.request.RequestError;
import org.jvirtio.device.blk.request.RequestParser;

/**
 * Serves one virtio-blk request queue ({@link QueueServer}: the kick, poll and publish loop): parses
 * and executes each chain and completes it with a status byte. A malformed request fails alone (status
 * byte, counter); different queues share nothing, so they run in parallel.
 */
public final class QueueWorker extends QueueServer {
    private final RequestParser parser;
    private final BlockRequest request;
    private final RequestExecutor executor;
    private final QueueMetrics metrics;

    public QueueWorker(int index, DeviceQueue queue, RequestParser parser, RequestExecutor executor,
            DriverNotifier notifier, QueueMetrics metrics) {
        super(index, queue, notifier, "virtio-blk queue " + index);
        this.parser = parser;
        this.request = new BlockRequest(parser.limits().maxSegments());
        this.executor = executor;
        this.metrics = metrics;
    }

    @Override
    protected void kicked(int kicks) {
        metrics.add(BlockCounter.KICKS, kicks);
    }

    @Override
    protected void interrupted() {
        metrics.increment(BlockCounter.INTERRUPTS);
    }

    /**
     * Parses, executes and completes {@code chain}.
     *
     * @return bytes written into the chain, status byte included (0 if there was no room for it)
     */
    @Override
    protected int handle(DescriptorChain chain) {
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
}
