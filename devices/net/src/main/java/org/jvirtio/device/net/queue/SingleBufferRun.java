package org.jvirtio.device.net.queue;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DescriptorChain;

/**
 * The chains popped for a run of frames of one receive batch, each a single writable descriptor with
 * room for its frame behind the header (what DPDK's and Linux's drivers post with MRG_RXBUF), held
 * between the pass that pops them and the pass that writes the frames: only what writing and using
 * them needs. All chains of a run are in one guest memory map. Reused; no allocation after
 * construction.
 */
final class SingleBufferRun {
    /** The longest run: a batch longer than this is written in several runs. */
    static final int CAPACITY = 64;

    final long[] address = new long[CAPACITY];
    final int[] head = new int[CAPACITY];
    final int[] ringSlots = new int[CAPACITY];
    /** Bytes written into each chain (header and frame; 0 if its buffer could not be written). */
    final int[] written = new int[CAPACITY];
    /**
     * The guest memory of every chain in the run, stored once per run rather than once per chain: this
     * object lives as long as its queue, so it ends up in the old generation, where G1's write barrier
     * for a reference store crossing regions runs a StoreLoad fence, which waits for every store still
     * buffered (the frames of the run before).
     */
    GuestMemory memory;
    int size;

    /**
     * Adds the chain, unless its guest memory is not the run's (a memory table changed between two
     * pops: a transport changes it only under the queue's serve lock, so a run never meets one).
     */
    boolean add(DescriptorChain chain) {
        GuestMemory chainMemory = chain.memory();
        if (size == 0) {
            memory = chainMemory;
        } else if (chainMemory != memory) {
            return false;
        }
        address[size] = chain.address(0);
        head[size] = chain.head();
        ringSlots[size] = chain.ringSlots();
        size++;
        return true;
    }

    /** Empties the run; the memory reference goes too, so that an old memory map is not kept alive. */
    void clear() {
        memory = null;
        size = 0;
    }
}
