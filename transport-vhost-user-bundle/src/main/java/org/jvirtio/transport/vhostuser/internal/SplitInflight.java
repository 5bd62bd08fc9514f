package org.jvirtio.transport.vhostuser.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;

/**
 * In-flight tracking for one split queue over its {@link InflightArea} region, following the steps of
 * vhost-user.rst: on pop set {@code counter} and {@code inflight}; on use link the head into the
 * last-batch list; after the used index is published clear {@code inflight} for the batch and store
 * {@code used_idx}. Called only from the thread that serves the queue.
 *
 * <pre>
 * QueueRegionSplit                       DescStateSplit (16 bytes, one per descriptor)
 *  0  u64 features (0)                    0  u8  inflight
 *  8  u16 version (1)                     1  u8  padding[5]
 * 10  u16 desc_num                        6  u16 next      (last-batch list)
 * 12  u16 last_batch_head                 8  u64 counter   (order of fetching)
 * 14  u16 used_idx
 * 16  DescStateSplit desc[desc_num]
 * </pre>
 *
 * <p>The region is shared with the front end, which may write anything into it: every head read back
 * from it is range-checked, and what it names is validated again when the ring walks it.
 */
final class SplitInflight implements InflightTracker {
    private static final int LAST_BATCH_HEAD = 12;
    private static final int USED_IDX = 14;
    private static final int HEADER = 16;
    private static final int DESC_STATE = 16;
    private static final int NEXT = 6;
    private static final int COUNTER = 8;

    private final ByteBuffer region;
    private final int size;
    private final int[] batch;
    private int batchCount;
    private long counter;

    SplitInflight(ByteBuffer region, int size) {
        this.region = region;
        this.size = size;
        this.batch = new int[size];
        this.counter = InflightArea.nextCounter(region, HEADER, DESC_STATE, COUNTER, size);
    }

    /** Bytes of a split region for a queue of {@code size}. */
    static long regionBytes(int size) {
        return HEADER + (long) DESC_STATE * size;
    }

    private static int desc(int head) {
        return HEADER + head * DESC_STATE;
    }

    @Override
    public void popped(DeviceVring ring, int availBefore, DescriptorChain chain) {
        if (ring.availPosition() == availBefore) {
            return; // resubmitted: still on record, with its original fetch order
        }
        int head = chain.head();
        region.putLong(desc(head) + COUNTER, counter++);
        region.put(desc(head), (byte) 1);
    }

    @Override
    public void used(int head) {
        if (batchCount == batch.length) {
            return; // more completions than the ring holds: a device bug; the flags stay set, resubmitted later
        }
        region.putShort(desc(head) + NEXT, region.getShort(LAST_BATCH_HEAD));
        region.putShort(LAST_BATCH_HEAD, (short) head);
        batch[batchCount++] = head;
    }

    @Override
    public void publishing(DeviceVring ring) {
        // Nothing first: recovery compares used_idx with the used ring's idx to find an unfinished batch.
    }

    /** The used index is now visible to the driver: the batch is no longer in flight. */
    @Override
    public void published(DeviceVring ring) {
        for (int i = 0; i < batchCount; i++) {
            region.put(desc(batch[i]), (byte) 0);
        }
        batchCount = 0;
        region.putShort(USED_IDX, (short) ring.usedPosition());
    }

    @Override
    public void attach(DeviceVring running) {
        region.putShort(USED_IDX, (short) running.usedPosition());
    }

    /**
     * Recovery before the ring restarts (vhost-user.rst "When reconnecting"): if the used index the
     * driver sees ran ahead of {@code used_idx}, the last batch was published but not cleared; clear it
     * (we read the used ring's ids, which is exact even for batches of more than one). The in-flight
     * heads are resubmitted in the order they were fetched, and the ring resumes past them: every chain
     * fetched was either used or is in flight, so the avail position is the used index plus their number.
     *
     * @param usedIdx the used ring's idx as the driver sees it
     */
    @Override
    public Recovered recover(GuestMemory memory, QueueConfig config, int availPosition, int usedIdx) throws Failure {
        int recorded = region.getShort(USED_IDX) & 0xFFFF;
        int missed = (usedIdx - recorded) & 0xFFFF;
        if (missed > 0 && missed <= size) {
            for (int k = 0; k < missed; k++) {
                long element = config.deviceArea() + 4 + 8L * ((recorded + k) % size);
                if (!memory.contains(element, 4)) {
                    throw new Failure("used ring outside guest memory");
                }
                int id = memory.getInt(element);
                if (id >= 0 && id < size) {
                    region.put(desc(id), (byte) 0);
                }
            }
        }
        region.putShort(USED_IDX, (short) usedIdx);
        List<long[]> pending = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            if (region.get(desc(i)) != 0) {
                pending.add(new long[] {region.getLong(desc(i) + COUNTER), i});
            }
        }
        if (pending.isEmpty()) {
            return new Recovered(availPosition, usedIdx, List.of());
        }
        pending.sort((a, b) -> Long.compareUnsigned(a[0], b[0]));
        List<Recovered.Resubmission> chains = new ArrayList<>(pending.size());
        for (long[] p : pending) {
            int head = (int) p[1];
            chains.add(ring -> ring.resubmitSplit(head));
        }
        return new Recovered((usedIdx + pending.size()) & 0xFFFF, usedIdx, chains);
    }
}
