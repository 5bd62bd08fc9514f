package org.jvirtio.device.console.queue;

import java.nio.ByteBuffer;

import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.device.console.ConsoleCounter;
import org.jvirtio.device.console.QueueMetrics;

/**
 * A port's receiveq: host input is written into the driver's buffers when the backend offers it, on
 * the backend's thread, so every use of the ring holds the queue's serve lock
 * ({@link DeviceQueue#serveLock()}), the lock the transport takes before it changes the ring.
 *
 * <p>Back-pressure: a chain is taken only with bytes in hand to fill it, and the backend is told how
 * many bytes went in; the rest stay with the backend until the driver posts buffers again (a kick,
 * after which the device calls the backend's {@code inputRoom}). Notifications stay enabled for good,
 * and each time the ring is found empty they are re-armed (EVENT_IDX: avail_event moved to the
 * present), so the driver's next buffer always kicks.
 *
 * <p>With MULTIPORT a Linux guest throws away what arrives on a port no program has open (its
 * {@code in_intr}), so the queue takes nothing until the driver reports the port open (PORT_OPEN);
 * the console port is opened by the driver itself, and without MULTIPORT port 0 is always open.
 */
public final class PortReceiveQueue {
    private final int index;
    private final DeviceQueue queue;
    private final DescriptorChain chain;
    private final DriverNotifier notifier;
    private final QueueMetrics metrics;
    private final Object lock;
    private boolean open;
    private boolean stopped;

    public PortReceiveQueue(int index, DeviceQueue queue, DriverNotifier notifier, QueueMetrics metrics) {
        this.index = index;
        this.queue = queue;
        this.lock = queue.serveLock();
        this.chain = queue.newChain();
        this.notifier = notifier;
        this.metrics = metrics;
    }

    /** The driver posted buffers: count the kick. The device then asks the backend to offer input. */
    public void kick() {
        synchronized (lock) { // every counter of a receive queue is written under its lock
            metrics.increment(ConsoleCounter.KICKS);
        }
    }

    /** Whether the guest takes input on this port now. */
    public boolean isOpen() {
        synchronized (lock) {
            return open && !stopped;
        }
    }

    /** The guest opened or closed the port (PORT_OPEN), or the port is always open (no MULTIPORT). */
    public void setOpen(boolean open) {
        synchronized (lock) {
            this.open = open;
        }
    }

    /** Nothing is written after this returns (device reset). */
    public void stop() {
        synchronized (lock) {
            stopped = true;
        }
    }

    /**
     * Writes as much of {@code input} as the driver's buffers hold now, each chain used with what it got.
     *
     * @return bytes taken (the position advanced past them)
     */
    public int offer(ByteBuffer input) {
        synchronized (lock) {
            if (stopped || !open) {
                return 0;
            }
            int taken = 0;
            boolean unpublished = false;
            while (input.hasRemaining()) {
                if (!take()) {
                    break;
                }
                if (chain.writableBytes() == 0) {
                    drop(ConsoleCounter.RX_CHAIN_NOT_WRITABLE);
                    unpublished = true;
                    continue;
                }
                if (chain.readableCount() != 0) {
                    drop(ConsoleCounter.RX_CHAIN_READABLE);
                    unpublished = true;
                    continue;
                }
                int at = input.position();
                int written;
                try {
                    written = ChainBytes.scatter(chain, input);
                } catch (GuestMemoryException e) {
                    // nothing of it counts as delivered: the bytes go into the next chain
                    input.position(at);
                    drop(ConsoleCounter.RX_GUEST_MEMORY);
                    unpublished = true;
                    continue;
                }
                queue.addUsed(chain, written);
                unpublished = true;
                taken += written;
            }
            metrics.add(ConsoleCounter.RX_BYTES, taken);
            if (unpublished && queue.publishUsed()) {
                metrics.increment(ConsoleCounter.INTERRUPTS);
                notifier.notifyUsed(index);
            }
            if (queue.error() != QueueError.NONE) {
                stopped = true;
                notifier.deviceNeedsReset("virtio-console queue " + index + ": " + queue.error().description());
            }
            return taken;
        }
    }

    /** Pops the next chain, re-arming notifications when the ring is empty; false if there is none. */
    private boolean take() {
        if (queue.pop(chain)) {
            return true;
        }
        if (queue.error() == QueueError.NONE && queue.enableNotifications() && queue.pop(chain)) {
            return true;
        }
        metrics.increment(ConsoleCounter.RX_NO_ROOM);
        return false;
    }

    private void drop(ConsoleCounter reason) {
        metrics.increment(reason);
        queue.addUsed(chain, 0);
    }
}
