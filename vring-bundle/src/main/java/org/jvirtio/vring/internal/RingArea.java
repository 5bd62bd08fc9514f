package org.jvirtio.vring.internal;

import java.nio.ByteBuffer;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.vring.VringSetupException;

/** Resolves one ring area, once, at set-up: aligned, inside guest memory, one contiguous view. */
final class RingArea {
    private RingArea() {
    }

    static ByteBuffer resolve(GuestMemory memory, String name, long address, int length, int alignment)
            throws VringSetupException {
        if ((address & (alignment - 1)) != 0) {
            throw new VringSetupException(QueueError.RING_MISALIGNED,
                    name + " at 0x" + Long.toHexString(address) + " is not " + alignment + "-byte aligned");
        }
        if (!memory.contains(address, length)) {
            throw new VringSetupException(QueueError.RING_OUTSIDE_MEMORY,
                    name + " [0x" + Long.toHexString(address) + ", +" + length + ")");
        }
        try {
            return memory.view(address, length);
        } catch (GuestMemoryException e) {
            throw new VringSetupException(QueueError.RING_OUTSIDE_MEMORY, name + ": " + e.getMessage());
        }
    }

    /** Split rings need a power of two; packed rings any size. Both at most 32768. */
    static void checkSize(int size, boolean powerOfTwo) throws VringSetupException {
        if (size < 1 || size > 32768 || (powerOfTwo && Integer.bitCount(size) != 1)) {
            throw new VringSetupException(QueueError.QUEUE_SIZE_INVALID, "size " + size);
        }
    }

    /** Longest chain a queue of {@code size} accepts: its size, but at least room for typical indirect tables. */
    static int maxChainLength(int size) {
        return Math.max(size, 1024);
    }
}
