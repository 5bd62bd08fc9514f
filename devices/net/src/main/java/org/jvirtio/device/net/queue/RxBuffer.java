package org.jvirtio.device.net.queue;

import java.util.Arrays;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DescriptorChain;

/**
 * A receive chain taken from the ring and not yet used: its id and writable descriptors, copied out of
 * the pop flyweight so that several can be held at once (a frame spanning chains with MRG_RXBUF, or a
 * chain kept for the next frame). Reused; its arrays grow to the longest chain seen and stay.
 */
final class RxBuffer {
    int head;
    int ringSlots;
    GuestMemory memory;
    long bytes;
    /** Bytes of the frame written into it, while it is being filled. */
    int written;
    int segments;
    long[] addresses = new long[4];
    int[] lengths = new int[4];

    void copyFrom(DescriptorChain chain) {
        head = chain.head();
        ringSlots = chain.ringSlots();
        GuestMemory chainMemory = chain.memory();
        if (memory != chainMemory) { // as in SingleBufferRun: a reference store costs a fence in the old generation
            memory = chainMemory;
        }
        bytes = chain.writableBytes();
        int first = chain.readableCount();
        segments = chain.count() - first;
        if (segments > addresses.length) {
            addresses = Arrays.copyOf(addresses, Integer.highestOneBit(segments) << 1);
            lengths = Arrays.copyOf(lengths, addresses.length);
        }
        for (int i = 0; i < segments; i++) {
            addresses[i] = chain.address(first + i);
            lengths[i] = chain.length(first + i);
        }
    }
}
