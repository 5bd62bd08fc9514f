package org.jvirtio.transport.pci.internal;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.vring.DeviceVring;

/**
 * The chain view a {@link QueuePlug} hands out: it forwards to a chain of whichever ring is plugged in,
 * replacing that inner view (one allocation) only when the ring itself was replaced.
 */
final class PlugChain implements DescriptorChain {
    private DescriptorChain inner;
    private DeviceVring owner;

    /** The inner view for {@code ring}, made on the first pop from a newly plugged ring. */
    DescriptorChain on(DeviceVring ring) {
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
