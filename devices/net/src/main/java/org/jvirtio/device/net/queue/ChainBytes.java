package org.jvirtio.device.net.queue;

import java.nio.ByteBuffer;

import org.jvirtio.api.queue.DescriptorChain;

/** Copies a chain's device-readable bytes, descriptor by descriptor, into a buffer. */
final class ChainBytes {
    private ChainBytes() {
    }

    /**
     * Fills {@code dst} from position 0 with every readable byte of {@code chain}, leaving position 0 and
     * the limit at the count. The caller has checked that they fit.
     *
     * @throws org.jvirtio.api.memory.GuestMemoryException if a descriptor left guest memory meanwhile
     */
    static void gather(DescriptorChain chain, ByteBuffer dst) {
        dst.clear();
        int readable = chain.readableCount();
        for (int i = 0; i < readable; i++) {
            int length = chain.length(i);
            dst.limit(dst.position() + length);
            chain.memory().read(chain.address(i), dst);
        }
        dst.flip();
    }
}
