package org.jvirtio.device.console.queue;

import java.nio.ByteBuffer;

import org.jvirtio.api.queue.DescriptorChain;

/** Copies between a chain's descriptors and the device's buffers, descriptor by descriptor. */
final class ChainBytes {
    private ChainBytes() {
    }

    /**
     * Reads the first {@code dst.length} readable bytes of {@code chain} (the caller checked there are
     * that many).
     *
     * @throws org.jvirtio.api.memory.GuestMemoryException if a descriptor left guest memory meanwhile
     */
    static void readPrefix(DescriptorChain chain, byte[] dst) {
        int filled = 0;
        for (int i = 0; i < chain.readableCount() && filled < dst.length; i++) {
            int n = (int) Math.min(Integer.toUnsignedLong(chain.length(i)), dst.length - filled);
            chain.memory().read(chain.address(i), dst, filled, n);
            filled += n;
        }
    }

    /**
     * Writes as much of {@code src} as the chain's writable descriptors hold, advancing its position.
     *
     * @return bytes written
     * @throws org.jvirtio.api.memory.GuestMemoryException if a descriptor left guest memory meanwhile
     *         (the caller restores the position)
     */
    static int scatter(DescriptorChain chain, ByteBuffer src) {
        int limit = src.limit();
        int written = 0;
        try {
            for (int i = chain.readableCount(); i < chain.count() && src.hasRemaining(); i++) {
                int n = (int) Math.min(Integer.toUnsignedLong(chain.length(i)), src.remaining());
                src.limit(src.position() + n);
                chain.memory().write(chain.address(i), src);
                written += n;
                src.limit(limit);
            }
        } finally {
            src.limit(limit);
        }
        return written;
    }
}
