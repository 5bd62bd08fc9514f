package org.jvirtio.transport.pci.internal;

import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.RingChainView;

/**
 * The {@link DeviceQueue} a device holds for one queue: stable for the device's whole activation,
 * while the ring behind it is plugged in when the driver enables the queue and pulled out on reset
 * (of the device, or of this queue with RING_RESET). Without a ring it looks empty.
 *
 * <p>The ring changes only under {@link #serveLock()}, which the kick worker holds while the device
 * serves the queue. To stop a device that is serving, {@link #pause()} first: pop then finds nothing,
 * so the device's loop returns and the lock is released soon. Chains the device held when the ring
 * was pulled are dropped with it (the driver reset the queue, it owns them again).
 *
 * <p>Transport-neutral.
 */
public final class QueuePlug implements DeviceQueue {
    private final Object serveLock;
    /**
     * Volatile: the register thread plugs and pulls rings under the serve lock, but the device reads
     * this also from threads of its own (holding the serve lock, which orders it too) and {@link #size()}
     * without it; each method reads it once so a ring pulled meanwhile is never half seen.
     */
    private volatile DeviceVring vring;
    /** Volatile: set by the register thread without the serve lock, so that a serving device sees it and returns. */
    private volatile boolean paused;

    public QueuePlug(Object serveLock) {
        this.serveLock = serveLock;
    }

    @Override
    public Object serveLock() {
        return serveLock;
    }

    /** Serves {@code ring} from now on; the caller holds the serve lock. */
    void plug(DeviceVring ring) {
        vring = ring;
        paused = false;
    }

    /** Takes the ring out; the caller holds the serve lock. */
    void unplug() {
        vring = null;
    }

    boolean plugged() {
        return vring != null;
    }

    /** From now on the queue offers no chain, so a device serving it returns soon. */
    void pause() {
        paused = true;
    }

    boolean paused() {
        return paused;
    }

    @Override
    public int size() {
        DeviceVring ring = vring;
        return ring == null ? 0 : ring.size();
    }

    @Override
    public DescriptorChain newChain() {
        return new RingChainView();
    }

    @Override
    public boolean pop(DescriptorChain chain) {
        DeviceVring ring = vring;
        if (ring == null || paused) {
            return false;
        }
        if (!(chain instanceof RingChainView)) {
            throw new IllegalArgumentException("use a chain from this queue's newChain(): " + chain);
        }
        return ring.pop(((RingChainView) chain).on(ring));
    }

    @Override
    public boolean hasAvailable() {
        DeviceVring ring = vring;
        return ring != null && !paused && ring.hasAvailable();
    }

    @Override
    public void addUsed(int head, int ringSlots, int writtenLength) {
        DeviceVring ring = vring;
        if (ring != null) {
            ring.addUsed(head, ringSlots, writtenLength);
        }
    }

    @Override
    public boolean publishUsed() {
        DeviceVring ring = vring;
        return ring != null && ring.publishUsed();
    }

    @Override
    public void disableNotifications() {
        DeviceVring ring = vring;
        if (ring != null) {
            ring.disableNotifications();
        }
    }

    @Override
    public boolean enableNotifications() {
        DeviceVring ring = vring;
        return ring != null && ring.enableNotifications() && !paused;
    }

    @Override
    public QueueError error() {
        DeviceVring ring = vring;
        return ring == null ? QueueError.NONE : ring.error();
    }
}
