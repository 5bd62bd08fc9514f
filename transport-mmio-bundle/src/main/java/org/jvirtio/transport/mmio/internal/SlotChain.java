package org.jvirtio.transport.mmio.internal;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DescriptorChain;

/**
 * The chain view a {@link QueueSlot} hands out: forwards to a chain view of whichever ring serves the
 * slot, replaced (one allocation) only when the ring itself was.
 */
final class SlotChain implements DescriptorChain {
    DescriptorChain inner;
    Object owner;

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
