package org.jvirtio.device.console.queue;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.device.console.ConsoleCounter;
import org.jvirtio.device.console.QueueMetrics;

/**
 * The control receiveq: messages from the device to the driver, one per chain, in the order sent.
 * Messages wait in a bounded outbox until the driver has a buffer for them (Linux posts a page per
 * buffer and re-posts each after handling its message); beyond {@code capacity} waiting messages a new
 * one is dropped and counted. Senders are the control transmitq's thread, the backends' threads (host
 * connection changes) and management (resize), so every use holds the ring's serve lock, which
 * {@link #lock()} exposes to callers that must send several messages as one step.
 */
public final class ControlOutbox {
    private final int index;
    private final DeviceQueue queue;
    private final DescriptorChain chain;
    private final DriverNotifier notifier;
    private final QueueMetrics metrics;
    private final Object lock;
    private final ArrayDeque<byte[]> pending = new ArrayDeque<>();
    private final int capacity;
    private boolean stopped;

    public ControlOutbox(int index, DeviceQueue queue, DriverNotifier notifier, QueueMetrics metrics, int capacity) {
        this.index = index;
        this.queue = queue;
        this.lock = queue.serveLock();
        this.chain = queue.newChain();
        this.notifier = notifier;
        this.metrics = metrics;
        this.capacity = capacity;
    }

    /** Held for every change of the outbox; reentrant (a monitor). */
    public Object lock() {
        return lock;
    }

    /** Queues a message and delivers what the driver has buffers for. */
    public void send(int id, int event, int value, byte[] payload) {
        synchronized (lock) {
            if (stopped) {
                return;
            }
            if (pending.size() == capacity) {
                metrics.increment(ConsoleCounter.CTRL_OUTBOX_FULL);
                return;
            }
            pending.add(ControlMessage.encode(id, event, value, payload));
            flush();
        }
    }

    /** The driver posted buffers. */
    public void kick() {
        synchronized (lock) {
            metrics.increment(ConsoleCounter.KICKS);
            flush();
        }
    }

    /** Messages not yet delivered. */
    public int pending() {
        synchronized (lock) {
            return pending.size();
        }
    }

    public void stop() {
        synchronized (lock) {
            stopped = true;
            pending.clear();
        }
    }

    private void flush() {
        if (stopped) {
            return;
        }
        boolean unpublished = false;
        while (!pending.isEmpty() && take()) {
            byte[] message = pending.peek();
            if (chain.readableCount() != 0 || chain.writableBytes() == 0) {
                drop(ConsoleCounter.CTRL_RX_CHAIN_NOT_WRITABLE);
            } else if (chain.writableBytes() < message.length) {
                drop(ConsoleCounter.CTRL_RX_CHAIN_TOO_SMALL);
            } else {
                try {
                    queue.addUsed(chain, ChainBytes.scatter(chain, ByteBuffer.wrap(message)));
                    pending.remove();
                    metrics.increment(ConsoleCounter.CTRL_SENT);
                } catch (GuestMemoryException e) {
                    drop(ConsoleCounter.CTRL_GUEST_MEMORY); // the message waits for the next buffer
                }
            }
            unpublished = true;
        }
        if (unpublished && queue.publishUsed()) {
            metrics.increment(ConsoleCounter.INTERRUPTS);
            notifier.notifyUsed(index);
        }
        if (queue.error() != QueueError.NONE) {
            stopped = true;
            notifier.deviceNeedsReset("virtio-console queue " + index + ": " + queue.error().description());
        }
    }

    /** Pops the next chain, re-arming notifications when the ring is empty (see PortReceiveQueue). */
    private boolean take() {
        return queue.pop(chain)
                || queue.error() == QueueError.NONE && queue.enableNotifications() && queue.pop(chain);
    }

    private void drop(ConsoleCounter reason) {
        metrics.increment(reason);
        queue.addUsed(chain, 0);
    }
}
