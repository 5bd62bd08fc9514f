package org.jvirtio.device.net.queue;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DescriptorChain;

/**
 * The chains popped for a run of frames of one receive batch, each a single writable descriptor with
 * room for its frame behind the header (what DPDK's and Linux's drivers post with MRG_RXBUF), held
 * between the pass that pops them and the pass that writes the frames: only what writing and using
 * them needs. Reused; no allocation after construction.
 */
final class SingleBufferRun {
    /** The longest run: a batch longer than this is written in several runs. */
    static final int CAPACITY = 64;

    final long[] address = new long[CAPACITY];
    final int[] head = new int[CAPACITY];
    final int[] ringSlots = new int[CAPACITY];
    final GuestMemory[] memory = new GuestMemory[CAPACITY];
    /** Bytes written into each chain (header and frame; 0 if its buffer could not be written). */
    final int[] written = new int[CAPACITY];
    int size;

    void add(DescriptorChain chain) {
        address[size] = chain.address(0);
        head[size] = chain.head();
        ringSlots[size] = chain.ringSlots();
        memory[size] = chain.memory();
        size++;
    }

    /** Empties the run; the memory references go too, so that an old memory map is not kept alive. */
    void clear() {
        for (int i = 0; i < size; i++) {
            memory[i] = null;
        }
        size = 0;
    }
}
