package org.jvirtio.device.balloon.queue;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DescriptorChain;

/**
 * Reads the device-readable bytes of a chain in order, as little-endian values, across descriptor
 * boundaries: a value split over two descriptors is put together byte by byte, the common case is one
 * load. A reusable flyweight; allocates nothing. The caller checks {@link #remaining()} first.
 */
final class ChainReader {
    private DescriptorChain chain;
    private GuestMemory memory;
    private int descriptor;
    private long offset;
    private long left;
    private long remaining;

    /** Starts at the first readable byte of {@code chain}. */
    ChainReader reset(DescriptorChain chain) {
        this.chain = chain;
        this.memory = chain.memory();
        this.descriptor = 0;
        this.offset = 0;
        this.remaining = chain.readableBytes();
        this.left = chain.readableCount() > 0 ? Integer.toUnsignedLong(chain.length(0)) : 0;
        return this;
    }

    /** Readable bytes not read yet. */
    long remaining() {
        return remaining;
    }

    int readInt() {
        if (left >= 4) {
            int v = memory.getInt(chain.address(descriptor) + offset);
            advance(4);
            return v;
        }
        return (int) readBytes(4);
    }

    short readShort() {
        if (left >= 2) {
            short v = memory.getShort(chain.address(descriptor) + offset);
            advance(2);
            return v;
        }
        return (short) readBytes(2);
    }

    long readLong() {
        if (left >= 8) {
            long v = memory.getLong(chain.address(descriptor) + offset);
            advance(8);
            return v;
        }
        return readBytes(8);
    }

    private long readBytes(int n) {
        long v = 0;
        for (int i = 0; i < n; i++) {
            while (left == 0) {
                next();
            }
            v |= (memory.getByte(chain.address(descriptor) + offset) & 0xFFL) << (8 * i);
            advance(1);
        }
        return v;
    }

    private void advance(int n) {
        offset += n;
        left -= n;
        remaining -= n;
    }

    private void next() {
        descriptor++;
        if (descriptor >= chain.readableCount()) {
            throw new IllegalStateException("read past the readable bytes of the chain");
        }
        offset = 0;
        left = Integer.toUnsignedLong(chain.length(descriptor));
    }
}
