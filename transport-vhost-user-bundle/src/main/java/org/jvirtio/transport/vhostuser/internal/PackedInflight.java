package org.jvirtio.transport.vhostuser.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;

/**
 * In-flight tracking for one packed queue over its {@link InflightArea} region (vhost-user.rst). A
 * packed ring's slots are overwritten by used elements, so each fetched descriptor is copied into an
 * entry taken from a free list; a chain's entries are linked by {@code next} from its head entry.
 *
 * <pre>
 * QueueRegionPacked                       DescStatePacked (32 bytes)
 *  0  u64 features (0)                     0  u8  inflight (head entries)
 *  8  u16 version (1)                      1  u8  padding
 * 10  u16 desc_num                         2  u16 next       (free list / chain)
 * 12  u16 free_head                        4  u16 last       (entry of the chain's last descriptor)
 * 14  u16 old_free_head                    6  u16 num        (ring descriptors of the chain)
 * 16  u16 used_idx                         8  u64 counter    (order of fetching)
 * 18  u16 old_used_idx                    16  u16 id
 * 20  u8  used_wrap_counter               18  u16 flags
 * 21  u8  old_used_wrap_counter           20  u32 len
 * 22  u8  padding[7]; desc[] at 32        24  u64 addr
 * </pre>
 *
 * <p>The {@code old_*} fields are the last committed state; {@code free_head}, {@code used_idx} and
 * its wrap counter run ahead only while a batch of completions is being published, so a back end that
 * dies there is rolled forward or back on restart depending on whether the driver can already see the
 * batch. Completions are linked back into the free list only when their batch is published, so a pop
 * always starts from the committed free head (the device may pop between completing and publishing).
 *
 * <p>The front end can write the region: every index read back is range-checked and every list walk
 * bounded; an area that contradicts itself fails the ring's start.
 */
final class PackedInflight implements InflightTracker {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.vhostuser");

    private static final int FREE_HEAD = 12;
    private static final int OLD_FREE_HEAD = 14;
    private static final int USED_IDX = 16;
    private static final int OLD_USED_IDX = 18;
    private static final int USED_WRAP = 20;
    private static final int OLD_USED_WRAP = 21;
    private static final int HEADER = 32;
    private static final int DESC_STATE = 32;

    private static final int INFLIGHT = 0;
    private static final int NEXT = 2;
    private static final int LAST = 4;
    private static final int NUM = 6;
    private static final int COUNTER = 8;
    private static final int ID = 16;
    private static final int FLAGS = 18;
    private static final int LEN = 20;
    private static final int ADDR = 24;

    /** Packed descriptor flags (virtio 1.1 2.8.1): only AVAIL and USED matter for recovery. */
    private static final int F_AVAIL = 1 << 7;
    private static final int F_USED = 1 << 15;
    private static final int WRAP_BIT = 1 << 15;
    /** Bytes of one ring descriptor, and of one resubmitted descriptor copy. */
    private static final int RING_DESC = 16;

    private final ByteBuffer region;
    private final int size;
    /** Buffer id to the head entry of its chain; -1 for an id not on record (popped before attach). */
    private final int[] entryOfId;
    /** Head entries completed since the last publish. */
    private final int[] batch;
    private int batchCount;
    private long counter;
    private GuestMemory memory;
    private long descriptorTable;
    /** Set when the region turned out inconsistent while recording: recording stops, the ring goes on. */
    private boolean broken;

    PackedInflight(ByteBuffer region, int size) {
        this.region = region;
        this.size = size;
        this.entryOfId = new int[size];
        Arrays.fill(entryOfId, -1);
        this.batch = new int[size];
        this.counter = InflightArea.nextCounter(region, HEADER, DESC_STATE, COUNTER, size);
    }

    /** Bytes of a packed region for a queue of {@code size}. */
    static long regionBytes(int size) {
        return HEADER + (long) DESC_STATE * size;
    }

    /** A fresh region: every entry free, both used positions at slot 0 with wrap counter 1. */
    static void initialize(ByteBuffer region, int size) {
        for (int i = 0; i < size; i++) {
            region.putShort(desc(i) + NEXT, (short) (i + 1));
        }
        region.putShort(FREE_HEAD, (short) 0).putShort(OLD_FREE_HEAD, (short) 0);
        region.putShort(USED_IDX, (short) 0).putShort(OLD_USED_IDX, (short) 0);
        region.put(USED_WRAP, (byte) 1).put(OLD_USED_WRAP, (byte) 1);
    }

    private static int desc(int entry) {
        return HEADER + entry * DESC_STATE;
    }

    private int u16(int offset) {
        return region.getShort(offset) & 0xFFFF;
    }

    // ------------------------------------------------------------------ recording

    @Override
    public void placed(QueueConfig config, GuestMemory memory) {
        this.memory = memory;
        this.descriptorTable = config.descriptorTable();
    }

    @Override
    public void attach(DeviceVring running) {
        writeUsed(running.usedPosition());
        commit();
    }

    @Override
    public void popped(DeviceVring ring, int availBefore, DescriptorChain chain) {
        if (broken || ring.availPosition() == availBefore) {
            return; // resubmitted chains are still on record
        }
        int head = u16(OLD_FREE_HEAD);
        int entry = head;
        int slots = chain.ringSlots();
        int slot = availBefore & ~WRAP_BIT;
        try {
            if (head >= size) {
                throw new IllegalStateException("free head " + head);
            }
            region.putShort(desc(head) + NUM, (short) 0);
            region.putLong(desc(head) + COUNTER, counter++);
            region.put(desc(head) + INFLIGHT, (byte) 1);
            for (int k = 0; k < slots; k++) {
                if (entry >= size) {
                    throw new IllegalStateException("free list runs out at entry " + entry);
                }
                if (k == slots - 1) {
                    region.putShort(desc(head) + LAST, (short) entry);
                }
                region.putShort(desc(head) + NUM, (short) (k + 1));
                copyDescriptor(slot, entry);
                entry = u16(desc(entry) + NEXT);
                if (++slot == size) {
                    slot = 0;
                }
            }
        } catch (IllegalStateException | GuestMemoryException e) {
            stopRecording("cannot record a fetched chain: " + e.getMessage());
            return;
        }
        region.putShort(FREE_HEAD, (short) entry);
        region.putShort(OLD_FREE_HEAD, (short) entry);
        entryOfId[chain.head()] = head;
    }

    private void copyDescriptor(int slot, int entry) {
        long at = descriptorTable + (long) RING_DESC * slot;
        int d = desc(entry);
        region.putLong(d + ADDR, memory.getLong(at));
        region.putInt(d + LEN, memory.getInt(at + 8));
        region.putShort(d + ID, memory.getShort(at + 12));
        region.putShort(d + FLAGS, memory.getShort(at + 14));
    }

    @Override
    public void used(int id) {
        int head = entryOfId[id];
        entryOfId[id] = -1;
        if (broken || head < 0 || batchCount == batch.length) {
            return; // not on record: popped before the tracker was attached (or while it was broken)
        }
        batch[batchCount++] = head;
    }

    /** Links the batch's entries back into the free list and moves the used position, ahead of the commit. */
    @Override
    public void publishing(DeviceVring ring) {
        if (broken || batchCount == 0) {
            return;
        }
        int freeHead = u16(FREE_HEAD);
        for (int i = 0; i < batchCount; i++) {
            int head = batch[i];
            int last = u16(desc(head) + LAST);
            if (last >= size) { // the front end wrote it while the ring ran
                batchCount = 0;
                stopRecording("last entry " + last + " of a chain in flight is outside a ring of " + size);
                return;
            }
            region.putShort(desc(last) + NEXT, (short) freeHead);
            freeHead = head;
        }
        region.putShort(FREE_HEAD, (short) freeHead);
        writeUsed(ring.usedPosition());
    }

    /** The driver can see the batch: it is no longer in flight; commit. */
    @Override
    public void published(DeviceVring ring) {
        if (broken || batchCount == 0) {
            return;
        }
        for (int i = 0; i < batchCount; i++) {
            region.put(desc(batch[i]) + INFLIGHT, (byte) 0);
        }
        batchCount = 0;
        commit();
    }

    private void writeUsed(int position) {
        region.putShort(USED_IDX, (short) (position & ~WRAP_BIT));
        region.put(USED_WRAP, (byte) (position >>> 15 & 1));
    }

    private void commit() {
        region.putShort(OLD_FREE_HEAD, region.getShort(FREE_HEAD));
        region.putShort(OLD_USED_IDX, region.getShort(USED_IDX));
        region.put(OLD_USED_WRAP, region.get(USED_WRAP));
    }

    /**
     * The area is no longer a true record: it is marked uninitialised (version 0), so that no later
     * start resubmits from it requests this one completed after recording stopped.
     */
    private void stopRecording(String why) {
        broken = true;
        region.putShort(InflightArea.VERSION_OFFSET, (short) 0);
        LOG.log(Level.WARNING, "in-flight area of a packed ring: {0}; requests are no longer recorded, and a "
                + "restarted back end will not resubmit from it", why);
    }

    // ------------------------------------------------------------------ recovery

    /**
     * vhost-user.rst "When reconnecting", packed: roll an unfinished publish forward if the driver can
     * see its first used element, back otherwise; clear {@code inflight} on every free entry; resubmit
     * the rest by counter. The ring resumes at the committed used position, and its avail position is
     * that plus the ring slots of the chains in flight (every fetched chain is used or in flight).
     * A region that never recorded a fetch defers to the front end's positions.
     */
    @Override
    public Recovered recover(GuestMemory ringMemory, QueueConfig config, int availPosition, int usedPosition)
            throws Failure {
        if (!everFetched()) {
            freeEntries(); // pops take entries from it: it must not loop
            writeUsed(usedPosition);
            commit();
            return new Recovered(availPosition, usedPosition, List.of());
        }
        if (u16(USED_IDX) != u16(OLD_USED_IDX) || region.get(USED_WRAP) != region.get(OLD_USED_WRAP)) {
            int slot = checkedIndex(OLD_USED_IDX, "old_used_idx");
            long flagsAt = config.descriptorTable() + (long) RING_DESC * slot + 14;
            if (!ringMemory.contains(flagsAt, 2)) {
                throw new Failure("descriptor ring outside guest memory");
            }
            boolean wrap = region.get(OLD_USED_WRAP) != 0;
            int flags = ringMemory.getShort(flagsAt) & (F_AVAIL | F_USED);
            if (flags != (wrap ? F_AVAIL : F_USED)) {
                commit(); // the driver can see the batch: it happened
            }
        }
        region.putShort(FREE_HEAD, region.getShort(OLD_FREE_HEAD));
        region.putShort(USED_IDX, region.getShort(OLD_USED_IDX));
        region.put(USED_WRAP, region.get(OLD_USED_WRAP));
        boolean[] free = freeEntries();
        List<long[]> pending = new ArrayList<>();
        for (int e = 0; e < size; e++) {
            if (free[e]) {
                region.put(desc(e) + INFLIGHT, (byte) 0);
            } else if (region.get(desc(e) + INFLIGHT) != 0) {
                pending.add(new long[] {region.getLong(desc(e) + COUNTER), e});
            }
        }
        pending.sort((a, b) -> Long.compareUnsigned(a[0], b[0]));
        if (u16(OLD_USED_IDX) >= size) { // all 16 bits: one with bit 15 set is not a slot either
            throw new Failure("in-flight area: used index " + u16(OLD_USED_IDX) + " outside a ring of " + size);
        }
        int used = u16(OLD_USED_IDX) | (region.get(OLD_USED_WRAP) != 0 ? WRAP_BIT : 0);
        List<Recovered.Resubmission> chains = new ArrayList<>(pending.size());
        int slots = 0;
        for (long[] p : pending) {
            int head = (int) p[1];
            ByteBuffer copy = chainCopy(head);
            int count = copy.remaining() / RING_DESC;
            slots += count;
            if (slots > size) {
                throw new Failure("in-flight area: chains in flight take more than the " + size + " ring slots");
            }
            int id = u16(desc(u16(desc(head) + LAST)) + ID);
            if (id < size) {
                entryOfId[id] = head;
            }
            chains.add(ring -> ring.resubmitPacked(copy, count));
        }
        clearUnpublishedUsed(ringMemory, config, used, slots);
        return new Recovered(advance(used, slots), used, chains);
    }

    /**
     * The slots from the committed used position on belong to chains in flight, but a back end that died
     * in the middle of a batch may have left used elements there already: the device writes every
     * element of a batch but the first complete, and flips the first one's flags last. The driver stops at
     * that first slot; once the next back end publishes there, it would read on into the dead one's
     * elements and complete requests that are about to be resubmitted (twice, or out of step with the
     * ring). So their flags go back to "available in this lap", which the driver never takes as used.
     * The ring's next publish (a release store) orders these stores before it.
     */
    private void clearUnpublishedUsed(GuestMemory ringMemory, QueueConfig config, int used, int slots)
            throws Failure {
        int index = used & ~WRAP_BIT;
        boolean wrap = (used & WRAP_BIT) != 0;
        for (int k = 0; k < slots; k++) {
            long flagsAt = config.descriptorTable() + (long) RING_DESC * index + 14;
            if (!ringMemory.contains(flagsAt, 2)) {
                throw new Failure("descriptor ring outside guest memory");
            }
            ringMemory.putShort(flagsAt, (short) (wrap ? F_AVAIL : F_USED));
            if (++index == size) {
                index = 0;
                wrap = !wrap;
            }
        }
    }

    /** Whether a fetch was ever recorded (fetch counters start at 1). */
    private boolean everFetched() {
        for (int e = 0; e < size; e++) {
            if (region.getLong(desc(e) + COUNTER) != 0) {
                return true;
            }
        }
        return false;
    }

    private int checkedIndex(int offset, String what) throws Failure {
        int value = u16(offset);
        if (value >= size) {
            throw new Failure("in-flight area: " + what + " " + value + " outside a ring of " + size);
        }
        return value;
    }

    /** The entries on the free list from {@code free_head}, walked at most {@code size} steps. */
    private boolean[] freeEntries() throws Failure {
        boolean[] free = new boolean[size];
        int entry = u16(FREE_HEAD);
        for (int steps = 0; entry < size; steps++) {
            if (free[entry] || steps == size) {
                throw new Failure("in-flight area: the free list loops");
            }
            free[entry] = true;
            entry = u16(desc(entry) + NEXT);
        }
        return free;
    }

    /** The ring descriptors of the chain headed by {@code head}, as 16-byte ring-layout copies. */
    private ByteBuffer chainCopy(int head) throws Failure {
        int num = u16(desc(head) + NUM);
        if (num < 1 || num > size) {
            throw new Failure("in-flight area: a chain of " + num + " descriptors in a ring of " + size);
        }
        ByteBuffer copy = ByteBuffer.allocate(num * RING_DESC).order(ByteOrder.LITTLE_ENDIAN);
        int entry = head;
        for (int k = 0; k < num; k++) {
            if (entry >= size) {
                throw new Failure("in-flight area: chain entry " + entry + " outside a ring of " + size);
            }
            int d = desc(entry);
            copy.putLong(region.getLong(d + ADDR)).putInt(region.getInt(d + LEN)).putShort(region.getShort(d + ID))
                    .putShort(region.getShort(d + FLAGS));
            if (k == num - 1 && entry != u16(desc(head) + LAST)) {
                throw new Failure("in-flight area: a chain's last entry does not match its list");
            }
            entry = u16(d + NEXT);
        }
        return copy.flip();
    }

    /** {@code position} moved on by {@code slots}, the wrap bit flipping at the end of the ring. */
    private int advance(int position, int slots) {
        int index = (position & ~WRAP_BIT) + slots;
        int wrap = position & WRAP_BIT;
        while (index >= size) {
            index -= size;
            wrap ^= WRAP_BIT;
        }
        return index | wrap;
    }
}
