package org.jvirtio.transport.vhostuser.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.jvirtio.api.memory.GuestMemory;

/**
 * In-flight tracking for one split queue over its {@link InflightArea} region, following the steps of
 * vhost-user.rst: on pop set {@code counter} and {@code inflight}; on use link the head into the
 * last-batch list; after the used index is published clear {@code inflight} for the batch and store
 * {@code used_idx}. Called only from the thread that serves the queue (under the connection lock).
 */
final class SplitInflight {
    private final ByteBuffer region;
    private final int size;
    private final int[] batch;
    private int batchCount;
    private long counter;

    SplitInflight(ByteBuffer region, int size) {
        this.region = region;
        this.size = size;
        this.batch = new int[size];
        long max = 0;
        for (int i = 0; i < size; i++) {
            max = Math.max(max, region.getLong(desc(i) + 8));
        }
        this.counter = max + 1;
    }

    /** Whether the region was written for a queue of this size (version 1, desc_num == size). */
    static boolean fits(ByteBuffer region, int size) {
        return region.getShort(InflightArea.VERSION_OFFSET) == 1
                && (region.getShort(InflightArea.DESC_NUM_OFFSET) & 0xFFFF) == size;
    }

    private static int desc(int head) {
        return InflightArea.HEADER + head * InflightArea.DESC_STATE;
    }

    void popped(int head) {
        region.putLong(desc(head) + 8, counter++);
        region.put(desc(head), (byte) 1);
    }

    void used(int head) {
        if (batchCount == batch.length) {
            return; // more completions than the ring holds: a device bug; the flags stay set, resubmitted later
        }
        region.putShort(desc(head) + 6, region.getShort(InflightArea.LAST_BATCH_HEAD_OFFSET));
        region.putShort(InflightArea.LAST_BATCH_HEAD_OFFSET, (short) head);
        batch[batchCount++] = head;
    }

    /** The used index {@code usedIdx} is now visible to the driver. */
    void published(int usedIdx) {
        for (int i = 0; i < batchCount; i++) {
            region.put(desc(batch[i]), (byte) 0);
        }
        batchCount = 0;
        region.putShort(InflightArea.USED_IDX_OFFSET, (short) usedIdx);
    }

    /**
     * Recovery before the ring restarts (vhost-user.rst "When reconnecting"): if the used index the
     * driver sees ran ahead of {@code used_idx}, the last batch was published but not cleared; clear it
     * (we read the used ring's ids, which is exact even for batches of more than one). Returns the
     * in-flight heads in the order they were fetched.
     *
     * @param usedRingIdx the used ring's idx as the driver sees it
     * @param usedRing    guest address of the used ring
     */
    List<Integer> recover(int usedRingIdx, GuestMemory memory, long usedRing) {
        int recorded = region.getShort(InflightArea.USED_IDX_OFFSET) & 0xFFFF;
        int missed = (usedRingIdx - recorded) & 0xFFFF;
        if (missed > 0 && missed <= size) {
            for (int k = 0; k < missed; k++) {
                int slot = (recorded + k) & (size - 1);
                int id = memory.getInt(usedRing + 4 + 8L * slot);
                if (id >= 0 && id < size) {
                    region.put(desc(id), (byte) 0);
                }
            }
        }
        region.putShort(InflightArea.USED_IDX_OFFSET, (short) usedRingIdx);
        List<long[]> pending = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            if (region.get(desc(i)) != 0) {
                pending.add(new long[] {region.getLong(desc(i) + 8), i});
            }
        }
        pending.sort((a, b) -> Long.compare(a[0], b[0]));
        List<Integer> heads = new ArrayList<>(pending.size());
        for (long[] p : pending) {
            heads.add((int) p[1]);
        }
        return heads;
    }
}
