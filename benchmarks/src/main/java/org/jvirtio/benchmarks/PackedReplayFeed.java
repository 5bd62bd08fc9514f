package org.jvirtio.benchmarks;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A packed-ring driver that writes its descriptors once and then replays them. The device uses every
 * chain of a batch (in order) before the next batch, so its used descriptors land on the chains' first
 * slots; making a chain available again means restoring that first slot's address, length and buffer
 * id (the device wrote its used element over them) and writing the flags words of the chain with the
 * AVAIL/USED bits of the driver's current wrap counter, the first slot last with a release store.
 *
 * <p>{@code chains} (the queue size divided by the ring slots per chain) divides the queue size, so a
 * lap of the ring is always a whole number of chains and chain {@code c} always starts at slot
 * {@code c * slots}, with buffer id {@code c}.
 *
 * <pre>
 * descriptor (16 bytes): +0 addr u64 | +8 len u32 | +12 id u16 | +14 flags u16
 * flags: NEXT 1, WRITE 2, INDIRECT 4, AVAIL 1 &lt;&lt; 7, USED 1 &lt;&lt; 15
 * </pre>
 */
final class PackedReplayFeed implements Feed {
    private static final VarHandle SHORT = MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    private static final int F_NEXT = 1;
    private static final int F_WRITE = 2;
    private static final int F_INDIRECT = 4;
    private static final int F_AVAIL = 1 << 7;
    private static final int F_USED = 1 << 15;

    private final RingRig rig;
    private final ByteBuffer ring;
    private final int slots;
    private final int chains;
    private final int descriptors;
    private final boolean indirect;
    /** Flags of each slot without the AVAIL/USED bits. */
    private final short[] baseFlags;
    private int cursor;
    private boolean wrap = true;

    PackedReplayFeed(RingRig rig, int descriptors, boolean indirect) {
        this.rig = rig;
        this.descriptors = descriptors;
        this.indirect = indirect;
        int n = rig.size;
        ring = rig.memory.view(rig.config.descriptorTable(), 16 * n);
        zero(ring);
        zero(rig.memory.view(rig.config.driverArea(), 4));
        zero(rig.memory.view(rig.config.deviceArea(), 4));
        slots = indirect ? 1 : descriptors;
        chains = n / slots;
        baseFlags = new short[n];
        for (int c = 0; c < chains; c++) {
            if (indirect) {
                ByteBuffer table = rig.memory.view(rig.indirectTable(c), 16 * descriptors);
                for (int i = 0; i < descriptors; i++) {
                    int at = 16 * i;
                    table.putLong(at, rig.buffer(c, i));
                    table.putInt(at + 8, RingRig.BUFFER_SIZE);
                    table.putShort(at + 12, (short) 0);
                    table.putShort(at + 14, (short) (Feed.writable(descriptors, i) ? F_WRITE : 0));
                }
                baseFlags[c] = (short) F_INDIRECT;
            } else {
                for (int i = 0; i < descriptors; i++) {
                    baseFlags[c * slots + i] = (short) ((Feed.writable(descriptors, i) ? F_WRITE : 0)
                            | (i < descriptors - 1 ? F_NEXT : 0));
                }
            }
            for (int i = 0; i < slots; i++) {
                restore(c, i);
            }
        }
    }

    private static void zero(ByteBuffer area) {
        for (int i = 0; i < area.capacity(); i++) {
            area.put(i, (byte) 0);
        }
    }

    /** Address, length and id of slot {@code i} of chain {@code c} (flags untouched). */
    private void restore(int c, int i) {
        int at = 16 * (c * slots + i);
        ring.putLong(at, indirect ? rig.indirectTable(c) : rig.buffer(c, i));
        ring.putInt(at + 8, indirect ? 16 * descriptors : RingRig.BUFFER_SIZE);
        ring.putShort(at + 12, (short) c);
    }

    int maxBatch() {
        return chains;
    }

    @Override
    public void offer(int n) {
        ByteBuffer r = ring;
        short[] base = baseFlags;
        int s = slots;
        for (int k = 0; k < n; k++) {
            int c = cursor;
            int bits = wrap ? F_AVAIL : F_USED;
            int head = c * s;
            for (int i = s - 1; i > 0; i--) {
                r.putShort(16 * (head + i) + 14, (short) (base[head + i] | bits));
            }
            restore(c, 0);
            // Release: the chain's other slots and the restored fields before the flags that expose it.
            SHORT.setRelease(r, 16 * head + 14, (short) (base[head] | bits));
            if (++cursor == chains) {
                cursor = 0;
                wrap = !wrap;
            }
        }
    }

    @Override
    public void collect(int n) {
        // The replaying driver never reads used descriptors: every chain of the batch was used.
    }
}
