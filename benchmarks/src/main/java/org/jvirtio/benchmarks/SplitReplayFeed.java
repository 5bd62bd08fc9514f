package org.jvirtio.benchmarks;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A split-ring driver that writes its descriptors and available ring once and then replays them: the
 * device uses every chain of a batch before the next batch, so the same heads may be made available
 * again, and making {@code n} chains available costs one release store of the avail index.
 *
 * <p>Available ring slot {@code s} names chain {@code s mod chains}, where {@code chains} (the queue
 * size divided by the descriptors per chain, or the queue size with indirect tables) is a power of two
 * dividing the queue size; so every lap of the 16-bit avail index sees the same entries, and a batch of
 * at most {@code chains} consecutive slots names distinct heads.
 */
final class SplitReplayFeed implements Feed {
    private static final VarHandle SHORT = MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    private static final int F_NEXT = 1;
    private static final int F_WRITE = 2;
    private static final int F_INDIRECT = 4;
    private static final int AVAIL_IDX = 2;

    private final ByteBuffer avail;
    private final int chains;
    private int availIdx;

    SplitReplayFeed(RingRig rig, int descriptors, boolean indirect) {
        int n = rig.size;
        ByteBuffer desc = rig.memory.view(rig.config.descriptorTable(), 16 * n);
        avail = rig.memory.view(rig.config.driverArea(), 6 + 2 * n);
        ByteBuffer used = rig.memory.view(rig.config.deviceArea(), 6 + 8 * n);
        zero(avail);
        zero(used);
        chains = indirect ? n : n / descriptors;
        for (int c = 0; c < chains; c++) {
            if (indirect) {
                ByteBuffer table = rig.memory.view(rig.indirectTable(c), 16 * descriptors);
                for (int i = 0; i < descriptors; i++) {
                    put(table, i, rig.buffer(c, i), RingRig.BUFFER_SIZE,
                            (Feed.writable(descriptors, i) ? F_WRITE : 0) | (i < descriptors - 1 ? F_NEXT : 0), i + 1);
                }
                put(desc, c, rig.indirectTable(c), 16 * descriptors, F_INDIRECT, 0);
            } else {
                int head = c * descriptors;
                for (int i = 0; i < descriptors; i++) {
                    put(desc, head + i, rig.buffer(c, i), RingRig.BUFFER_SIZE,
                            (Feed.writable(descriptors, i) ? F_WRITE : 0) | (i < descriptors - 1 ? F_NEXT : 0),
                            head + i + 1);
                }
            }
        }
        for (int s = 0; s < n; s++) {
            int chain = s % chains;
            avail.putShort(4 + 2 * s, (short) (indirect ? chain : chain * descriptors));
        }
    }

    private static void zero(ByteBuffer area) {
        for (int i = 0; i < area.capacity(); i++) {
            area.put(i, (byte) 0);
        }
    }

    private static void put(ByteBuffer table, int index, long address, int length, int flags, int next) {
        int at = 16 * index;
        table.putLong(at, address);
        table.putInt(at + 8, length);
        table.putShort(at + 12, (short) flags);
        table.putShort(at + 14, (short) ((flags & F_NEXT) != 0 ? next : 0));
    }

    int maxBatch() {
        return chains;
    }

    @Override
    public void offer(int n) {
        availIdx = (availIdx + n) & 0xFFFF;
        // Release: as a driver must, though the entries and descriptors were written long ago.
        SHORT.setRelease(avail, AVAIL_IDX, (short) availIdx);
    }

    @Override
    public void collect(int n) {
        // The replaying driver never reads the used ring: every chain of the batch was used.
    }
}
