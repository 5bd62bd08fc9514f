package org.jvirtio.vring.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Packed rings: copies of the ring descriptors of chains a transport resubmitted after a back-end
 * restart, waiting to be popped again (see {@link org.jvirtio.vring.DeviceVring#resubmitPacked}).
 *
 * <p>The copies sit in a ring of {@code size} 16-byte slots laid out exactly like the descriptor ring
 * (see {@link PackedLayout}), chain after chain, so that {@link PackedDeviceQueue}'s walk reads them
 * with the same offsets and the same wrap at {@code size} as it reads the ring. The descriptors
 * waiting never exceed {@code size} (a real ring cannot hold more in flight), so the copies never
 * overlap; a line of chain lengths says where each chain ends.
 */
final class ResubmittedChains {
    private final int size;
    /**
     * Direct, like the guest memory views the walk reads on the hot path: the walk's accessors then
     * see one kind of buffer only, and fresh pops keep their compiled code after a recovery.
     */
    private final ByteBuffer copies;
    /** Descriptors of each waiting chain, oldest first (each chain has at least one). */
    private final int[] counts;
    private int firstChain;
    private int chains;
    /** Slot of the oldest waiting chain's first descriptor, and descriptors waiting in all. */
    private int firstSlot;
    private int descriptors;

    ResubmittedChains(int size) {
        this.size = size;
        copies = ByteBuffer.allocateDirect(PackedLayout.ringBytes(size)).order(ByteOrder.LITTLE_ENDIAN);
        counts = new int[size];
    }

    /**
     * Copies {@code count} descriptors from {@code source} at its position (position and limit left
     * alone), or returns false, copying nothing, if there are not that many bytes or there is no room.
     */
    boolean add(ByteBuffer source, int count) {
        if (!fits(source, count, size - descriptors)) {
            return false;
        }
        int slot = (firstSlot + descriptors) % size;
        for (int i = 0; i < count; i++) {
            // Absolute bulk copy, byte for byte: the layout is little-endian whatever source.order() says.
            copies.put(PackedLayout.desc(slot), source, source.position() + i * PackedLayout.DESC_SIZE,
                    PackedLayout.DESC_SIZE);
            if (++slot == size) {
                slot = 0;
            }
        }
        counts[(firstChain + chains) % size] = count;
        chains++;
        descriptors += count;
        return true;
    }

    /** Whether {@code source} holds {@code count} descriptors, at least one and at most {@code room}. */
    static boolean fits(ByteBuffer source, int count, int room) {
        // count is bounded first, so that count * 16 cannot overflow
        return count >= 1 && count <= room && source.remaining() >= count * PackedLayout.DESC_SIZE;
    }

    boolean isEmpty() {
        return chains == 0;
    }

    /** The copies, a ring of {@code size} slots in the descriptor ring layout. */
    ByteBuffer copies() {
        return copies;
    }

    /** Slot in {@link #copies()} of the oldest waiting chain's first descriptor. */
    int firstSlot() {
        return firstSlot;
    }

    /** Descriptors of the oldest waiting chain. */
    int firstCount() {
        return counts[firstChain];
    }

    void removeFirst() {
        int count = counts[firstChain];
        firstSlot = (firstSlot + count) % size;
        descriptors -= count;
        firstChain = (firstChain + 1) % size;
        chains--;
    }
}
