package org.jvirtio.device.console.queue;

import java.nio.ByteBuffer;

import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.device.QueueServer;
import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.device.console.ConsoleCounter;
import org.jvirtio.device.console.QueueMetrics;

/**
 * A port's transmitq: each chain is guest output, all device-readable, handed to the port's backend
 * in chunks of a staging buffer the queue reuses, and used with length 0. The driver's console path
 * spins until its chain is used, so chains are completed on the kick's thread at once. A chain with
 * writable descriptors, or on the queue of a port the device does not have, is dropped and counted.
 */
public final class PortTransmitQueue extends QueueServer {
    /** Large enough for a guest's page-sized writes in one call, small enough to keep per queue. */
    static final int STAGING = 16 * 1024;

    private final QueueMetrics metrics;
    private final PortOutput output;
    private final ByteBuffer staging;

    /** @param output the port's backend, or null for the queue of a port the device does not have */
    public PortTransmitQueue(int index, DeviceQueue queue, DriverNotifier notifier, QueueMetrics metrics,
            PortOutput output) {
        super(index, queue, notifier, "virtio-console queue " + index);
        this.metrics = metrics;
        this.output = output;
        this.staging = output == null ? null : ByteBuffer.allocateDirect(STAGING);
    }

    @Override
    protected int handle(DescriptorChain chain) {
        if (output == null) {
            metrics.increment(ConsoleCounter.TX_NO_PORT);
            return 0;
        }
        if (chain.writableCount() != 0) {
            metrics.increment(ConsoleCounter.TX_WRITABLE_DESCRIPTOR);
            return 0;
        }
        try {
            metrics.add(ConsoleCounter.TX_BYTES, output.write(chain, staging));
        } catch (GuestMemoryException e) {
            metrics.increment(ConsoleCounter.TX_GUEST_MEMORY);
        }
        return 0;
    }

    @Override
    protected void kicked(int kicks) {
        metrics.add(ConsoleCounter.KICKS, kicks);
    }

    @Override
    protected void interrupted() {
        metrics.increment(ConsoleCounter.INTERRUPTS);
    }
}
