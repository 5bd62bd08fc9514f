package org.jvirtio.transport.vhostuser.internal;

import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueCounters;
import org.jvirtio.vring.RingChainView;

/**
 * What a device gets for queue {@code i}: a stable {@link DeviceQueue} whose ring the connection plugs
 * in when the front end starts the ring and pulls out when it stops it (GET_VRING_BASE), changes the
 * memory table, or resets. While no ring is plugged in the queue looks empty. This is how vhost-user's
 * per-ring lifecycle meets the device's activate-once model.
 *
 * <p>The ring changes only while the device does not serve it: the connection first {@link #pause()}s
 * the slot, so that the device's loop finds no new chain and returns from {@code queueNotified}, then
 * takes the ring's serve lock, which the ring's thread holds while the device serves it. A paused slot
 * still takes completions and publishes them, so nothing the device finished is lost. With
 * INFLIGHT_SHMFD every pop and every use is recorded in the shared in-flight buffer.
 */
public final class QueueSlot implements DeviceQueue {
    private final Object serveLock;
    private final QueueCounters counters;
    /** Completions since the last publish: a publish after some that interrupts nobody was suppressed. */
    private int unpublished;
    private volatile DeviceVring vring;
    private volatile boolean paused;
    private InflightTracker inflight;
    /** With IN_ORDER and tracking: completions reach the tracker when the ring releases them. */
    private InOrderRelease inOrder;

    QueueSlot(Object serveLock, QueueCounters counters) {
        this.serveLock = serveLock;
        this.counters = counters;
    }

    /** The ring's serve lock: a device filling this queue from another thread holds it. */
    @Override
    public Object serveLock() {
        return serveLock;
    }

    DeviceVring vring() {
        return vring;
    }

    /**
     * Serves {@code ring} from now on, recording in {@code tracking} if not null; {@code inOrder}
     * says whether VIRTIO_F_IN_ORDER was negotiated.
     */
    void plug(DeviceVring ring, InflightTracker tracking, boolean inOrder) {
        this.inOrder = tracking != null && inOrder ? new InOrderRelease(ring.size()) : null;
        this.inflight = tracking;
        this.vring = ring;
    }

    /** From now on the queue offers no chain, so a device serving it returns soon. */
    void pause() {
        paused = true;
    }

    void resume() {
        paused = false;
    }

    boolean isPaused() {
        return paused;
    }

    /** Takes the ring out; the slot then looks empty. */
    DeviceVring unplug() {
        DeviceVring ring = vring;
        vring = null;
        inflight = null;
        inOrder = null;
        return ring;
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
        DescriptorChain inner = ((RingChainView) chain).on(ring);
        InflightTracker tracking = inflight;
        if (tracking == null) {
            if (!ring.pop(inner)) {
                return false;
            }
            counters.popped(inner.readableBytes());
            return true;
        }
        int availBefore = ring.availPosition();
        if (!ring.pop(inner)) {
            return false;
        }
        counters.popped(inner.readableBytes());
        tracking.popped(ring, availBefore, inner);
        InOrderRelease order = inOrder;
        if (order != null) {
            order.popped(inner.head());
        }
        return true;
    }

    @Override
    public boolean hasAvailable() {
        DeviceVring ring = vring;
        return ring != null && !paused && ring.hasAvailable();
    }

    @Override
    public void addUsed(int head, int ringSlots, int writtenLength) {
        DeviceVring ring = vring;
        if (ring == null) {
            return; // the ring was stopped while the device held this chain: the front end owns it now
        }
        ring.addUsed(head, ringSlots, writtenLength);
        counters.completed(writtenLength);
        unpublished++;
        InflightTracker tracking = inflight;
        if (tracking != null) {
            InOrderRelease order = inOrder;
            if (order != null) {
                order.completed(head);
            } else {
                tracking.used(head);
            }
        }
    }

    @Override
    public boolean publishUsed() {
        DeviceVring ring = vring;
        if (ring == null) {
            return false;
        }
        InflightTracker tracking = inflight;
        boolean notify;
        if (tracking == null) {
            notify = ring.publishUsed();
        } else {
            InOrderRelease order = inOrder;
            if (order != null) {
                order.release(tracking);
            }
            tracking.publishing(ring);
            notify = ring.publishUsed();
            tracking.published(ring);
        }
        if (!notify && unpublished > 0) {
            counters.suppressed();
        }
        unpublished = 0;
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
        // Paused: the driver is still asked to kick (the connection kicks the ring itself on resume), but
        // the device is told nothing waits, so it returns.
        return ring != null && ring.enableNotifications() && !paused;
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
