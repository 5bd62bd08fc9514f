package org.jvirtio.transport.mmio.internal;

import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.RingChainView;

/**
 * The {@link DeviceQueue} a device gets for one queue index: stable for the life of an activation,
 * while the ring behind it comes and goes with QueueReady and QueueReset. With no ring plugged in, or
 * paused, it offers no chain, so a device serving it returns soon; completions of chains taken before
 * the ring was pulled are dropped (the driver reset the queue and owns those buffers again).
 *
 * <p>The ring changes only under the queue's serve lock, after {@link #pause()}: the device's loop then
 * finds nothing more and leaves {@code queueNotified}, and the transport's lock waits for that.
 */
public final class QueueSlot implements DeviceQueue {
    private final Object serveLock;
    private volatile DeviceVring vring;
    private volatile boolean paused;

    public QueueSlot(Object serveLock) {
        this.serveLock = serveLock;
    }

    @Override
    public Object serveLock() {
        return serveLock;
    }

    public DeviceVring vring() {
        return vring;
    }

    /** Serves {@code ring} from now on (under the serve lock). */
    public void plug(DeviceVring ring) {
        vring = ring;
    }

    /** Takes the ring out (under the serve lock); the slot then looks empty. */
    public void unplug() {
        vring = null;
    }

    /** From now on no chain is offered (DEVICE_NEEDS_RESET, or a change to the ring is coming). */
    public void pause() {
        paused = true;
    }

    public void resume() {
        paused = false;
    }

    public boolean isPaused() {
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
        // a new ring after QueueReset or reset gets chain views that fit its size (allocates once per ring)
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
        // paused: the device is told that nothing waits, so that it returns
        return ring != null && ring.enableNotifications() && !paused;
    }

    @Override
    public QueueError error() {
        DeviceVring ring = vring;
        return ring == null ? QueueError.NONE : ring.error();
    }
}
