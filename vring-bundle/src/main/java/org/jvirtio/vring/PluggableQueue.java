package org.jvirtio.vring;

import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.QueueError;

/**
 * The {@link DeviceQueue} a transport gives a device for one queue index: stable for the device's whole
 * activation, while the ring behind it is plugged in when the driver enables the queue and pulled out
 * on reset (of the device, or of this queue: PCI queue_reset, MMIO QueueReset) or replaced when the
 * memory map changes. With no ring plugged in, or paused, it offers no chain, so a device serving it
 * returns soon; completions of chains taken before the ring was pulled are dropped (the driver reset the
 * queue and owns those buffers again).
 *
 * <p>The ring changes only under {@link #serveLock()}, which the transport's queue thread holds while
 * the device serves the queue. To stop a device that is serving, {@link #pause()} first: pop then finds
 * nothing, the device's loop returns and the lock is soon free. Plugging a ring does not resume a paused
 * queue; the transport says when with {@link #resume()}.
 *
 * <p>It counts what passes through it in its {@link #counters()}, which live as long as the queue
 * (across rings): chains taken and bytes they offer, chains given back and bytes written, publications
 * the driver asked not to be notified of; the transport adds kicks, interrupts and errors. Counting
 * allocates nothing and takes no lock.
 *
 * @since 1.2
 */
public final class PluggableQueue implements DeviceQueue {
    private final Object serveLock;
    /**
     * Volatile: the transport plugs and pulls rings under the serve lock, but the device reads this also
     * from threads of its own (holding the serve lock, which orders it too) and {@link #size()} without
     * it; each method reads it once so that a ring pulled meanwhile is never half seen.
     */
    private volatile DeviceVring vring;
    /** Volatile: set by the transport without the serve lock, so that a serving device sees it and returns. */
    private volatile boolean paused;
    private final QueueCounters counters = new QueueCounters();
    /**
     * Completions since the last publish (the server's, like the ring): a publish after some that
     * interrupts nobody was suppressed.
     */
    private int unpublished;

    public PluggableQueue(Object serveLock) {
        this.serveLock = serveLock;
    }

    /**
     * This queue's counters, for as long as the queue exists (rings plugged in and pulled out, resets
     * of the queue or the device do not clear them).
     *
     * @since 1.3
     */
    public QueueCounters counters() {
        return counters;
    }

    @Override
    public Object serveLock() {
        return serveLock;
    }

    /** The ring plugged in, or null. */
    public DeviceVring vring() {
        return vring;
    }

    /** Serves {@code ring} from now on; the caller holds the serve lock. */
    public void plug(DeviceVring ring) {
        unpublished = 0; // completions on a ring pulled out were dropped, not suppressed
        vring = ring;
    }

    /**
     * Takes the ring out; the caller holds the serve lock. The queue then looks empty. (A transport
     * whose device does not let go of the lock may also pull it without: every method reads the ring
     * once, so a call already under way finishes on the old ring and every later one finds none.)
     */
    public void unplug() {
        vring = null;
    }

    /** From now on no chain is offered (DEVICE_NEEDS_RESET, or a change to the ring is coming). */
    public void pause() {
        paused = true;
    }

    /** Offers chains again (if a ring is plugged in). */
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
        DescriptorChain inner = ((RingChainView) chain).on(ring);
        if (!ring.pop(inner)) {
            return false;
        }
        counters.popped(inner.readableBytes());
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
        if (ring != null) {
            ring.addUsed(head, ringSlots, writtenLength);
            counters.completed(writtenLength);
            unpublished++;
        }
    }

    @Override
    public boolean publishUsed() {
        DeviceVring ring = vring;
        if (ring == null) {
            return false;
        }
        boolean notify = ring.publishUsed();
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
        // paused: the device is told that nothing waits, so that it returns
        return ring != null && ring.enableNotifications() && !paused;
    }

    @Override
    public QueueError error() {
        DeviceVring ring = vring;
        return ring == null ? QueueError.NONE : ring.error();
    }
}
