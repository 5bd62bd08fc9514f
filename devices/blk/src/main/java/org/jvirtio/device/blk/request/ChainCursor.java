package org.jvirtio.device.blk.request;

import java.nio.ByteBuffer;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DescriptorChain;

/**
 * One direction of a chain (its readable or its writable descriptors) as a byte stream with a position,
 * so that a header, data or a status byte can sit anywhere across descriptor boundaries. Reusable: one
 * per queue worker, re-aimed per request; copies go through {@link GuestMemory}, which checks every
 * range again (the map may have been swapped since the chain was validated).
 */
public final class ChainCursor {
    private DescriptorChain chain;
    private GuestMemory memory;
    private int index;
    private int end;
    /** Bytes of descriptor {@code index} already consumed. */
    private long consumed;

    /** Aims at the readable stream, {@code skip} bytes in. */
    public ChainCursor readable(DescriptorChain c, long skip) {
        return aim(c, 0, c.readableCount(), skip);
    }

    /** Aims at the writable stream, {@code skip} bytes in. */
    public ChainCursor writable(DescriptorChain c, long skip) {
        return aim(c, c.readableCount(), c.count(), skip);
    }

    private ChainCursor aim(DescriptorChain c, int first, int last, long skip) {
        chain = c;
        memory = c.memory();
        index = first;
        end = last;
        consumed = 0;
        skip(skip);
        return this;
    }

    private long length(int i) {
        // descriptor lengths are u32: 0x8000_0000 and up are lengths, not negatives
        return Integer.toUnsignedLong(chain.length(i));
    }

    /** Moves forward {@code n} bytes (stopping at the end of the stream). */
    public void skip(long n) {
        long left = n;
        while (left > 0 && index < end) {
            long inDescriptor = length(index) - consumed;
            if (left < inDescriptor) {
                consumed += left;
                return;
            }
            left -= inDescriptor;
            index++;
            consumed = 0;
        }
    }

    /**
     * Copies guest bytes into {@code dst} from its position to its limit, advancing both.
     *
     * @return false if the stream ended first (the caller checked the lengths, so this is a bug guard)
     */
    public boolean gather(ByteBuffer dst) {
        return copy(dst, false);
    }

    /** Copies {@code src}'s remaining bytes into the guest, advancing both; false if the stream ended first. */
    public boolean scatter(ByteBuffer src) {
        return copy(src, true);
    }

    private boolean copy(ByteBuffer buffer, boolean toGuest) {
        int limit = buffer.limit();
        try {
            while (buffer.hasRemaining()) {
                if (index >= end) {
                    return false;
                }
                long inDescriptor = length(index) - consumed;
                if (inDescriptor == 0) {
                    index++;
                    consumed = 0;
                    continue;
                }
                int n = (int) Math.min(inDescriptor, buffer.remaining());
                long address = chain.address(index) + consumed;
                buffer.limit(buffer.position() + n);
                if (toGuest) {
                    memory.write(address, buffer);
                } else {
                    memory.read(address, buffer);
                }
                buffer.limit(limit);
                consumed += n;
            }
            return true;
        } finally {
            buffer.limit(limit);
        }
    }
}
