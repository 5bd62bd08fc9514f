package org.jvirtio.device.console.queue;

import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.device.QueueServer;
import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.device.console.ConsoleCounter;
import org.jvirtio.device.console.QueueMetrics;

/**
 * The control transmitq: messages from the driver, each an 8-byte header (bytes past it are ignored),
 * checked and handed to the {@link ControlTarget}; every chain is used with length 0. The driver spins
 * until its message is used, so it is handled on the kick's thread. A chain with writable descriptors,
 * a message shorter than its header, an event the driver never sends, a port id not below max_nr_ports:
 * each dropped and counted, the queue goes on.
 */
public final class ControlInbox extends QueueServer {
    private final QueueMetrics metrics;
    private final ControlTarget target;
    private final int maxPorts;
    private final byte[] header = new byte[ControlMessage.HEADER];

    public ControlInbox(int index, DeviceQueue queue, DriverNotifier notifier, QueueMetrics metrics,
            ControlTarget target, int maxPorts) {
        super(index, queue, notifier, "virtio-console queue " + index);
        this.metrics = metrics;
        this.target = target;
        this.maxPorts = maxPorts;
    }

    @Override
    protected int handle(DescriptorChain chain) {
        ConsoleCounter outcome = dispatch(chain);
        if (outcome != null) {
            metrics.increment(outcome);
        }
        return 0;
    }

    private ConsoleCounter dispatch(DescriptorChain chain) {
        if (chain.writableCount() != 0) {
            return ConsoleCounter.CTRL_WRITABLE_DESCRIPTOR;
        }
        if (chain.readableBytes() < ControlMessage.HEADER) {
            return ConsoleCounter.CTRL_SHORT;
        }
        try {
            ChainBytes.readPrefix(chain, header);
        } catch (GuestMemoryException e) {
            return ConsoleCounter.CTRL_GUEST_MEMORY;
        }
        metrics.increment(ConsoleCounter.CTRL_MESSAGES);
        int event = ControlMessage.event(header);
        boolean value = ControlMessage.value(header) != 0;
        if (event == ControlMessage.DEVICE_READY) {
            return target.deviceReady(value); // its id is 0xFFFFFFFF, no port
        }
        if (event != ControlMessage.PORT_READY && event != ControlMessage.PORT_OPEN) {
            return ConsoleCounter.CTRL_UNKNOWN_EVENT;
        }
        int id = ControlMessage.id(header);
        if (Integer.compareUnsigned(id, maxPorts) >= 0) {
            return ConsoleCounter.CTRL_BAD_PORT_ID;
        }
        return event == ControlMessage.PORT_READY ? target.portReady(id, value) : target.portOpen(id, value);
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
