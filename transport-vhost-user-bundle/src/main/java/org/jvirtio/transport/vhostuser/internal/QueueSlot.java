package org.jvirtio.transport.vhostuser.internal;

import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.vring.DeviceVring;

/**
 * What a device gets for queue {@code i}: a stable {@link DeviceQueue} whose ring the connection plugs
 * in when the front end starts the ring and pulls out when it stops it (GET_VRING_BASE), changes the
 * memory table, or resets. While no ring is plugged in the queue looks empty. This is how vhost-user's
 * per-ring lifecycle meets the device's activate-once model.
 *
 * <p>Plugging happens under the connection lock, which the kick thread also holds while the device
 * serves a queue ({@code queueNotified}); a device that serves queues inside {@code queueNotified}
 * therefore never sees a ring change under it. With INFLIGHT_SHMFD (split rings) every pop and every
 * use is recorded in the shared in-flight buffer.
 */
public final class QueueSlot implements DeviceQueue {
    private volatile DeviceVring vring;
    private SplitInflight inflight;

    DeviceVring vring() {
        return vring;
    }

    void plug(DeviceVring ring, SplitInflight tracking) {
        this.vring = ring;
        this.inflight = tracking;
    }

    /** Takes the ring out; the slot then looks empty. */
    DeviceVring unplug() {
        DeviceVring ring = vring;
        vring = null;
        inflight = null;
        return ring;
    }

    @Override
    public int size() {
        DeviceVring ring = vring;
        return ring == null ? 0 : ring.size();
    }

    @Override
    public DescriptorChain newChain() {
        return new SlotChain();
    }

    @Override
    public boolean pop(DescriptorChain chain) {
        DeviceVring ring = vring;
        if (ring == null) {
            return false;
        }
        if (!(chain instanceof SlotChain)) {
            throw new IllegalArgumentException("use a chain from this queue's newChain(): " + chain);
        }
        SlotChain view = (SlotChain) chain;
        if (view.innerOwner != ring) {
            view.inner = ring.newChain();
            view.innerOwner = ring;
        }
        if (!ring.pop(view.inner)) {
            return false;
        }
        SplitInflight tracking = inflight;
        if (tracking != null) {
            tracking.popped(view.inner.head());
        }
        return true;
    }

    @Override
    public boolean hasAvailable() {
        DeviceVring ring = vring;
        return ring != null && ring.hasAvailable();
    }

    @Override
    public void addUsed(int head, int ringSlots, int writtenLength) {
        DeviceVring ring = vring;
        if (ring == null) {
            return; // the ring was stopped while the device held this chain: the front end owns it now
        }
        ring.addUsed(head, ringSlots, writtenLength);
        SplitInflight tracking = inflight;
        if (tracking != null) {
            tracking.used(head);
        }
    }

    @Override
    public boolean publishUsed() {
        DeviceVring ring = vring;
        if (ring == null) {
            return false;
        }
        boolean notify = ring.publishUsed();
        SplitInflight tracking = inflight;
        if (tracking != null) {
            tracking.published(ring.usedPosition());
        }
        return notify;
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
        return ring != null && ring.enableNotifications();
    }

    @Override
    public QueueError error() {
        DeviceVring ring = vring;
        return ring == null ? QueueError.NONE : ring.error();
    }

    /** Chains the device holds on the plugged ring. */
    int inFlight() {
        DeviceVring ring = vring;
        return ring == null ? 0 : ring.inFlight();
    }
}
