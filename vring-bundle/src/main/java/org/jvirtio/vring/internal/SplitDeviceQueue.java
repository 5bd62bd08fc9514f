package org.jvirtio.vring.internal;

import static org.jvirtio.vring.internal.SplitLayout.AVAIL_FLAGS;
import static org.jvirtio.vring.internal.SplitLayout.AVAIL_F_NO_INTERRUPT;
import static org.jvirtio.vring.internal.SplitLayout.AVAIL_IDX;
import static org.jvirtio.vring.internal.SplitLayout.DESC_ADDR;
import static org.jvirtio.vring.internal.SplitLayout.DESC_FLAGS;
import static org.jvirtio.vring.internal.SplitLayout.DESC_LEN;
import static org.jvirtio.vring.internal.SplitLayout.DESC_NEXT;
import static org.jvirtio.vring.internal.SplitLayout.F_INDIRECT;
import static org.jvirtio.vring.internal.SplitLayout.F_NEXT;
import static org.jvirtio.vring.internal.SplitLayout.F_WRITE;
import static org.jvirtio.vring.internal.SplitLayout.USED_FLAGS;
import static org.jvirtio.vring.internal.SplitLayout.USED_F_NO_NOTIFY;
import static org.jvirtio.vring.internal.SplitLayout.USED_IDX;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.VringSetupException;

/**
 * The device side of a split virtqueue (virtio 1.2 section 2.7). Plain state: ring views resolved
 * once at construction, 16-bit counters, a cached copy of the driver's avail index. The hot path does
 * index arithmetic on those views and allocates nothing.
 *
 * <p>Chains resubmitted after a back-end restart ({@link #resubmitSplit}) are popped before the
 * available ring, through the same walk; only their head comes from elsewhere.
 */
public final class SplitDeviceQueue implements DeviceVring {
    private static final VarHandle SHORT = MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    /** Descriptors {@link #warm} loads ahead of the pops, at most. */
    private static final int WARM_AHEAD = 64;

    private final int size;
    private final int mask;
    private final GuestMemory memory;
    private final ByteBuffer desc;
    private final ByteBuffer avail;
    private final ByteBuffer used;
    private final boolean eventIdx;
    private final boolean indirectAllowed;
    private final boolean inOrder;
    private final int maxChain;
    private final IndirectTable indirect;

    /** Heads the device holds; a head made available again before it is used is a driver error. */
    private final boolean[] held;
    /** IN_ORDER: completions wait here until every earlier chain is complete; null otherwise. */
    private final InOrderCompletions inOrderCompletions;
    /**
     * Heads resubmitted after a back-end restart and not yet popped again; null, which is all the hot
     * path tests, except during recovery: created by the first resubmit, dropped once drained.
     */
    private ResubmittedHeads resubmitted;

    private int nextAvail;
    private int cachedAvailIdx;
    /** The sum of the words {@link #warm} loaded; never read. */
    private long warmed;
    private int nextUsed;
    private int publishedUsed;
    private int inFlight;
    private QueueError error = QueueError.NONE;

    public SplitDeviceQueue(QueueConfig config, long features, GuestMemory memory, int availPosition,
            int usedPosition) throws VringSetupException {
        size = config.size();
        RingArea.checkSize(size, true);
        mask = size - 1;
        this.memory = memory;
        eventIdx = VirtioFeature.has(features, VirtioFeature.RING_EVENT_IDX);
        indirectAllowed = VirtioFeature.has(features, VirtioFeature.RING_INDIRECT_DESC);
        inOrder = VirtioFeature.has(features, VirtioFeature.IN_ORDER);
        GuestMemory map = memory.snapshot();
        desc = RingArea.resolve(map, "descriptor table", config.descriptorTable(),
                SplitLayout.descTableBytes(size), SplitLayout.DESC_ALIGN);
        avail = RingArea.resolve(map, "available ring", config.driverArea(),
                SplitLayout.availBytes(size, eventIdx), SplitLayout.AVAIL_ALIGN);
        used = RingArea.resolve(map, "used ring", config.deviceArea(),
                SplitLayout.usedBytes(size, eventIdx), SplitLayout.USED_ALIGN);
        maxChain = RingArea.maxChainLength(size);
        indirect = indirectAllowed ? new IndirectTable(maxChain) : null;
        held = new boolean[size];
        inOrderCompletions = inOrder ? new InOrderCompletions(size, this::writeUsed) : null;
        nextAvail = availPosition & 0xFFFF;
        cachedAvailIdx = nextAvail;
        nextUsed = usedPosition & 0xFFFF;
        publishedUsed = nextUsed;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public boolean isPacked() {
        return false;
    }

    @Override
    public DescriptorChain newChain() {
        return new ChainBuffer(maxChain);
    }

    /**
     * Reloads the driver's avail index. Acquire: the driver writes ring entries and descriptors, then
     * publishes the index with a release store; loading it with acquire orders our later reads of
     * those entries after it, so we never read an entry the index covers before the driver wrote it.
     */
    private void refreshAvail() {
        int seen = cachedAvailIdx;
        cachedAvailIdx = (short) SHORT.getAcquire(avail, AVAIL_IDX) & 0xFFFF;
        if (((cachedAvailIdx - nextAvail) & 0xFFFF) > size) {
            fail(QueueError.AVAIL_INDEX_TOO_FAR);
            return;
        }
        warm(seen, cachedAvailIdx);
    }

    /**
     * Loads the first word of each descriptor the driver made available between {@code from} and
     * {@code to} (at most {@link #WARM_AHEAD}), before any is popped. The driver's core wrote them
     * last, so each line is a cache miss here; these loads depend on nothing but the ring, so their
     * misses are outstanding together, where the pops that follow, one chain's walk after another,
     * would meet them one at a time. Heads are masked, not checked: a bad head costs one harmless load
     * here and is refused when popped.
     */
    private void warm(int from, int to) {
        int n = Math.min((to - from) & 0xFFFF, WARM_AHEAD);
        long touched = 0;
        for (int i = 0; i < n; i++) {
            int head = (short) SHORT.get(avail, SplitLayout.availEntry((from + i) & mask)) & mask;
            touched += (long) LONG.get(desc, head * SplitLayout.DESC_SIZE);
        }
        warmed = touched; // a result nobody reads would let the compiler drop the loads
    }

    @Override
    public boolean hasAvailable() {
        if (error != QueueError.NONE || resubmitted != null || cachedAvailIdx != nextAvail) {
            return true;
        }
        refreshAvail();
        return error != QueueError.NONE || cachedAvailIdx != nextAvail;
    }

    @Override
    public boolean pop(DescriptorChain target) {
        if (error != QueueError.NONE) {
            return false;
        }
        if (resubmitted != null) {
            return popResubmitted(target);
        }
        if (cachedAvailIdx == nextAvail) {
            refreshAvail();
            if (error != QueueError.NONE || cachedAvailIdx == nextAvail) {
                return false;
            }
        }
        ChainBuffer chain = ChainBuffer.checkFits(target, maxChain);
        int head = (short) SHORT.get(avail, SplitLayout.availEntry(nextAvail & mask)) & 0xFFFF;
        if (head >= size) {
            return fail(QueueError.HEAD_OUT_OF_RANGE);
        }
        if (!take(head, chain)) {
            return false;
        }
        nextAvail = (nextAvail + 1) & 0xFFFF;
        return true;
    }

    /**
     * Pops the oldest resubmitted head: walked and checked as a fresh one, but the available ring is
     * not read and {@code nextAvail} does not move (the transport started the ring past these chains).
     */
    private boolean popResubmitted(DescriptorChain target) {
        ChainBuffer chain = ChainBuffer.checkFits(target, maxChain);
        if (!take(resubmitted.first(), chain)) {
            return false;
        }
        resubmitted.removeFirst();
        if (resubmitted.isEmpty()) {
            resubmitted = null;
        }
        return true;
    }

    /** Walks the chain at {@code head} (below the size) into {@code chain} and makes the device hold it. */
    private boolean take(int head, ChainBuffer chain) {
        if (held[head]) {
            return fail(QueueError.BUFFER_ID_IN_USE);
        }
        QueueError walked = walk(head, chain, memory.snapshot());
        if (walked != QueueError.NONE) {
            return fail(walked);
        }
        held[head] = true;
        inFlight++;
        if (inOrder) {
            inOrderCompletions.popped(head);
        }
        return true;
    }

    @Override
    public boolean resubmitSplit(int head) {
        if (head < 0 || head >= size || held[head]) {
            return false;
        }
        if (resubmitted == null) {
            resubmitted = new ResubmittedHeads(size);
        }
        return resubmitted.add(head);
    }

    @Override
    public boolean resubmitPacked(ByteBuffer descriptors, int count) {
        return false;
    }

    /** Walks the chain at {@code head} into {@code chain}: at most {@code size} direct descriptors. */
    private QueueError walk(int head, ChainBuffer chain, GuestMemory map) {
        chain.reset(map, head);
        chain.setRingSlots(1);
        int index = head;
        for (int budget = size; budget > 0; budget--) {
            int at = index * SplitLayout.DESC_SIZE;
            // Two 8-byte loads instead of four: addr, then len | flags << 32 | next << 48.
            long address = (long) LONG.get(desc, at + DESC_ADDR);
            long rest = (long) LONG.get(desc, at + DESC_LEN);
            int length = (int) rest;
            int flags = (int) (rest >>> 32) & 0xFFFF;
            int next = (int) (rest >>> 48);
            if ((flags & F_INDIRECT) != 0) {
                return walkIndirect(chain, map, address, length, flags);
            }
            QueueError appended = chain.append(address, length, (flags & F_WRITE) != 0);
            if (appended != QueueError.NONE) {
                return appended;
            }
            if ((flags & F_NEXT) == 0) {
                return QueueError.NONE;
            }
            if (next >= size) {
                return QueueError.NEXT_OUT_OF_RANGE;
            }
            index = next;
        }
        return QueueError.CHAIN_TOO_LONG;
    }

    /** Walks an indirect table (the last descriptor of its chain): at most one step per entry. */
    private QueueError walkIndirect(ChainBuffer chain, GuestMemory map, long address, int length, int flags) {
        if (!indirectAllowed) {
            return QueueError.INDIRECT_NOT_NEGOTIATED;
        }
        if ((flags & F_NEXT) != 0) {
            return QueueError.INDIRECT_WITH_NEXT;
        }
        QueueError loaded = indirect.load(map, address, length);
        if (loaded != QueueError.NONE) {
            return loaded;
        }
        int entries = indirect.entries();
        int index = 0;
        for (int budget = entries; budget > 0; budget--) {
            int entryFlags = indirect.u16(index, DESC_FLAGS);
            if ((entryFlags & F_INDIRECT) != 0) {
                return QueueError.INDIRECT_NESTED;
            }
            QueueError appended = chain.append(indirect.address(index), indirect.length(index),
                    (entryFlags & F_WRITE) != 0);
            if (appended != QueueError.NONE) {
                return appended;
            }
            if ((entryFlags & F_NEXT) == 0) {
                return QueueError.NONE;
            }
            index = indirect.u16(index, DESC_NEXT);
            if (index >= entries) {
                return QueueError.NEXT_OUT_OF_RANGE;
            }
        }
        return QueueError.CHAIN_TOO_LONG;
    }

    private boolean fail(QueueError cause) {
        if (error == QueueError.NONE) {
            error = cause;
        }
        return false;
    }

    @Override
    public void addUsed(int head, int ringSlots, int writtenLength) {
        if (head < 0 || head >= size || !held[head] || (inOrder && inOrderCompletions.isWaiting(head))) {
            throw new IllegalArgumentException("head " + head + " is not held by the device");
        }
        if (!inOrder || inOrderCompletions.releaseIfFirst(head)) {
            writeUsed(head, writtenLength);
            return;
        }
        // The head stays held until its element is written: the driver cannot have it back before.
        inOrderCompletions.complete(head, writtenLength);
    }

    /** Plain stores: the driver cannot look at the element until publishUsed releases the index. */
    private void writeUsed(int head, int length) {
        held[head] = false;
        inFlight--;
        int at = SplitLayout.usedEntry(nextUsed & mask);
        // One 8-byte store of {id, len}; plain accesses through the view may be unaligned (4 + 8k).
        LONG.set(used, at, (head & 0xFFFF_FFFFL) | ((long) length << 32));
        nextUsed = (nextUsed + 1) & 0xFFFF;
    }

    @Override
    public boolean publishUsed() {
        if (nextUsed == publishedUsed) {
            return false;
        }
        // Release: the used elements written by addUsed must be visible before the index that exposes
        // them, or the driver could read an element whose id and len have not landed yet.
        SHORT.setRelease(used, USED_IDX, (short) nextUsed);
        int old = publishedUsed;
        publishedUsed = nextUsed;
        // Full fence (store-load): the index store must be visible before we read used_event / flags.
        // Otherwise the store can wait in our store buffer while we read a stale used_event, just as the
        // driver re-enables interrupts, re-reads the old used idx and goes to sleep: a lost interrupt.
        VarHandle.fullFence();
        if (eventIdx) {
            int usedEvent = (short) SHORT.get(avail, SplitLayout.usedEvent(size)) & 0xFFFF;
            return EventIndex.needsEvent(usedEvent, nextUsed, old);
        }
        return ((short) SHORT.get(avail, AVAIL_FLAGS) & AVAIL_F_NO_INTERRUPT) == 0;
    }

    @Override
    public void disableNotifications() {
        // With EVENT_IDX an avail_event left behind already suppresses kicks: the driver kicks only
        // when its index crosses it, which it did at most once since we last enabled.
        if (!eventIdx) {
            SHORT.setOpaque(used, USED_FLAGS, (short) USED_F_NO_NOTIFY);
        }
    }

    @Override
    public boolean enableNotifications() {
        if (eventIdx) {
            SHORT.setOpaque(used, SplitLayout.availEvent(size), (short) nextAvail);
        } else {
            SHORT.setOpaque(used, USED_FLAGS, (short) 0);
        }
        // Full fence (store-load): the store above must be visible before we re-read avail idx. Else the
        // driver may add a buffer, read our old avail_event / NO_NOTIFY and skip its kick while we read
        // its old idx: both sides wait for each other (a lost kick).
        VarHandle.fullFence();
        return hasAvailable();
    }

    @Override
    public QueueError error() {
        return error;
    }

    @Override
    public int availPosition() {
        return nextAvail;
    }

    @Override
    public int usedPosition() {
        return nextUsed;
    }

    @Override
    public int inFlight() {
        return inFlight;
    }

    @Override
    public String toString() {
        return "SplitDeviceQueue[size=" + size + ", nextAvail=" + nextAvail + ", nextUsed=" + nextUsed
                + ", inFlight=" + inFlight + (resubmitted != null ? ", resubmitting" : "") + ", error=" + error + "]";
    }
}
