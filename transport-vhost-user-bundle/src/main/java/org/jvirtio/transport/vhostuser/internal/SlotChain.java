package org.jvirtio.transport.vhostuser.internal;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DescriptorChain;

/**
 * The chain view a {@link QueueSlot} hands out: it forwards to a chain of whichever ring currently
 * serves the slot, replacing that inner view (one allocation) only when the ring itself was replaced.
 */
final class SlotChain implements DescriptorChain {
    DescriptorChain inner;
    Object innerOwner;

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
