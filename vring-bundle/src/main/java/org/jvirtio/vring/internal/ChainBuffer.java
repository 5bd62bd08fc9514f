package org.jvirtio.vring.internal;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.QueueError;

/**
 * The reusable chain view that both ring formats fill. {@link #append} applies the checks every
 * descriptor needs whatever the ring format: buffer inside guest memory, readable before writable,
 * total length and count bounded.
 */
public final class ChainBuffer implements DescriptorChain {
    private static final long MAX_CHAIN_BYTES = 0xFFFF_FFFFL;

    private final long[] addresses;
    private final int[] lengths;
    private GuestMemory memory;
    private int head;
    private int ringSlots;
    private int count;
    private int readable;
    private long readableBytes;
    private long writableBytes;

    public ChainBuffer(int capacity) {
        addresses = new long[capacity];
        lengths = new int[capacity];
    }

    /**
     * {@code chain} as a ChainBuffer able to hold any chain up to {@code maxChain} descriptors. A view
     * from another queue that is too small is a device bug, not a driver error: it must not break the
     * queue, so it throws instead of failing the pop.
     */
    static ChainBuffer checkFits(DescriptorChain chain, int maxChain) {
        if (!(chain instanceof ChainBuffer) || ((ChainBuffer) chain).capacity() < maxChain) {
            throw new IllegalArgumentException("use a chain from this queue's newChain(): " + chain);
        }
        return (ChainBuffer) chain;
    }

    public int capacity() {
        return addresses.length;
    }

    void reset(GuestMemory memory, int head) {
        // Stored only when it changes (a new memory table): this view lives as long as its queue, so it
        // ends up in the old generation, where G1's write barrier for a reference store crossing
        // regions runs a StoreLoad fence, and one fence per pop waits for every store still buffered.
        if (this.memory != memory) {
            this.memory = memory;
        }
        this.head = head;
        this.ringSlots = 0;
        this.count = 0;
        this.readable = 0;
        this.readableBytes = 0;
        this.writableBytes = 0;
    }

    void setRingSlots(int ringSlots) {
        this.ringSlots = ringSlots;
    }

    void setHead(int head) {
        this.head = head;
    }

    /** Adds one buffer, or says which rule it breaks (and adds nothing). */
    QueueError append(long address, int length, boolean writable) {
        if (count == addresses.length) {
            return QueueError.CHAIN_TOO_LONG;
        }
        long bytes = Integer.toUnsignedLong(length);
        if (!memory.contains(address, bytes)) {
            return QueueError.BUFFER_OUTSIDE_MEMORY;
        }
        if (readableBytes + writableBytes + bytes > MAX_CHAIN_BYTES) {
            return QueueError.CHAIN_TOO_LARGE;
        }
        if (writable) {
            writableBytes += bytes;
        } else {
            if (readable != count) {
                return QueueError.READABLE_AFTER_WRITABLE;
            }
            readable++;
            readableBytes += bytes;
        }
        addresses[count] = address;
        lengths[count] = length;
        count++;
        return QueueError.NONE;
    }

    @Override
    public int head() {
        return head;
    }

    @Override
    public int ringSlots() {
        return ringSlots;
    }

    @Override
    public int count() {
        return count;
    }

    @Override
    public int readableCount() {
        return readable;
    }

    @Override
    public long address(int i) {
        return addresses[check(i)];
    }

    @Override
    public int length(int i) {
        return lengths[check(i)];
    }

    @Override
    public long readableBytes() {
        return readableBytes;
    }

    @Override
    public long writableBytes() {
        return writableBytes;
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }

    private int check(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException(i);
        }
        return i;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Chain[head=").append(head).append(", slots=").append(ringSlots);
        for (int i = 0; i < count; i++) {
            sb.append(i < readable ? ", R 0x" : ", W 0x").append(Long.toHexString(addresses[i])).append('+')
                    .append(Integer.toUnsignedString(lengths[i]));
        }
        return sb.append(']').toString();
    }
}
