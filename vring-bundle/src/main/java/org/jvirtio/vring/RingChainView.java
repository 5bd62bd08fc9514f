package org.jvirtio.vring;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DescriptorChain;

/**
 * A chain view that outlives the ring behind it. Transports hand a device one stable
 * {@link org.jvirtio.api.queue.DeviceQueue} per queue and plug rings into it as the driver starts,
 * stops, resets or moves them (vhost-user's per-ring lifecycle, a PCI or MMIO queue reset, a new memory
 * map); the device's chain views must survive that. This view forwards to a chain view of the ring it was
 * last popped from, and makes a new inner view (one allocation) only when the ring itself was replaced,
 * so the hot path allocates nothing.
 *
 * <p>One thread at a time, like every chain view: the device's queue worker.
 *
 * @since 1.2
 */
public final class RingChainView implements DescriptorChain {
    private DescriptorChain inner;
    private DeviceVring owner;

    /**
     * The inner view to pop {@code ring}'s next chain into: the same one as last time unless the ring was
     * replaced since.
     */
    public DescriptorChain on(DeviceVring ring) {
        if (owner != ring) {
            inner = ring.newChain();
            owner = ring;
        }
        return inner;
    }

    private DescriptorChain inner() {
        if (inner == null) {
            throw new IllegalStateException("no chain popped into this view yet");
        }
        return inner;
    }

    @Override
    public int head() {
        return inner().head();
    }

    @Override
    public int ringSlots() {
        return inner().ringSlots();
    }

    @Override
    public int count() {
        return inner().count();
    }

    @Override
    public int readableCount() {
        return inner().readableCount();
    }

    @Override
    public long address(int i) {
        return inner().address(i);
    }

    @Override
    public int length(int i) {
        return inner().length(i);
    }

    @Override
    public long readableBytes() {
        return inner().readableBytes();
    }

    @Override
    public long writableBytes() {
        return inner().writableBytes();
    }

    @Override
    public GuestMemory memory() {
        return inner().memory();
    }
}
