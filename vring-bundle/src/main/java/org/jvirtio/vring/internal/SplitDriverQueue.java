package org.jvirtio.vring.internal;

import static org.jvirtio.vring.internal.SplitLayout.AVAIL_FLAGS;
import static org.jvirtio.vring.internal.SplitLayout.AVAIL_F_NO_INTERRUPT;
import static org.jvirtio.vring.internal.SplitLayout.AVAIL_IDX;
import static org.jvirtio.vring.internal.SplitLayout.DESC_ADDR;
import static org.jvirtio.vring.internal.SplitLayout.DESC_FLAGS;
import static org.jvirtio.vring.internal.SplitLayout.DESC_LEN;
import static org.jvirtio.vring.internal.SplitLayout.DESC_NEXT;
import static org.jvirtio.vring.internal.SplitLayout.DESC_SIZE;
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
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.VringSetupException;

/**
 * The driver side of a split virtqueue. Its bookkeeping (free list, tokens, chain lengths) lives in
 * Java arrays, never read back from guest memory, so a device that scribbles on the rings can break
 * the queue ({@link #error()}) but not the driver's state.
 */
public final class SplitDriverQueue implements DriverQueue {
    private static final VarHandle SHORT = MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final int size;
    private final int mask;
    private final ByteBuffer desc;
    private final ByteBuffer avail;
    private final ByteBuffer used;
    private final boolean eventIdx;
    private final boolean inOrder;
    private final ByteBuffer indirectTables;
    private final long indirectArea;
    private final int maxIndirect;

    private final int[] nextFree;
    private final int[] tokens;
    private final int[] chainLength;
    private final long[] writableBytes;
    private final boolean[] inFlightHead;
    /** IN_ORDER: heads in the order they were made available, to expand a batched used element. */
    private final int[] availOrder;

    private int freeHead;
    private int freeCount;
    private int inFlight;
    private int availIdx;
    private int kickedIdx;
    private int lastUsed;
    private int cachedUsedIdx;
    private int orderCursor;
    private int lastLength;
    private QueueError error = QueueError.NONE;

    public SplitDriverQueue(QueueConfig config, long features, GuestMemory memory, long indirectArea,
            int maxIndirect) throws VringSetupException {
        size = config.size();
        RingArea.checkSize(size, true);
        mask = size - 1;
        eventIdx = VirtioFeature.has(features, VirtioFeature.RING_EVENT_IDX);
        inOrder = VirtioFeature.has(features, VirtioFeature.IN_ORDER);
        GuestMemory map = memory.snapshot();
        desc = RingArea.resolve(map, "descriptor table", config.descriptorTable(),
                SplitLayout.descTableBytes(size), SplitLayout.DESC_ALIGN);
        avail = RingArea.resolve(map, "available ring", config.driverArea(),
                SplitLayout.availBytes(size, eventIdx), SplitLayout.AVAIL_ALIGN);
        used = RingArea.resolve(map, "used ring", config.deviceArea(),
                SplitLayout.usedBytes(size, eventIdx), SplitLayout.USED_ALIGN);
        this.indirectArea = indirectArea;
        this.maxIndirect = maxIndirect;
        long indirectBytes = (long) size * maxIndirect * DESC_SIZE;
        if (maxIndirect < 0 || indirectBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("indirect tables of " + maxIndirect + " entries are too large");
        }
        indirectTables = indirectArea == 0 || maxIndirect == 0 ? null
                : RingArea.resolve(map, "indirect tables", indirectArea, (int) indirectBytes, DESC_SIZE);
        nextFree = new int[size];
        for (int i = 0; i < size; i++) {
            nextFree[i] = i + 1;
        }
        freeCount = size;
        tokens = new int[size];
        chainLength = new int[size];
        writableBytes = new long[size];
        inFlightHead = new boolean[size];
        availOrder = inOrder ? new int[size] : null;
        zero(avail);
        zero(used);
    }

    private static void zero(ByteBuffer area) {
        for (int i = 0; i < area.capacity(); i++) {
            area.put(i, (byte) 0);
        }
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public int freeDescriptors() {
        return freeCount;
    }

    @Override
    public int inFlight() {
        return inFlight;
    }

    @Override
    public boolean add(ScatterGatherList buffers, int token, boolean useIndirect) {
        int n = buffers.count();
        if (token < 0) {
            throw new IllegalArgumentException("tokens are non-negative: " + token);
        }
        if (n == 0) {
            throw new IllegalArgumentException("empty scatter-gather list");
        }
        if (useIndirect && (indirectTables == null || n > maxIndirect)) {
            throw new IllegalArgumentException("no indirect table of " + n + " entries configured");
        }
        if (!useIndirect && n > size) {
            throw new IllegalArgumentException(n + " buffers do not fit a queue of " + size);
        }
        int needed = useIndirect ? 1 : n;
        if (error != QueueError.NONE || freeCount < needed) {
            return false;
        }
        int head = freeHead;
        if (useIndirect) {
            int table = head * maxIndirect * DESC_SIZE;
            for (int i = 0; i < n; i++) {
                writeDescriptor(indirectTables, table + i * DESC_SIZE, buffers, i, n, i + 1);
            }
            int at = head * DESC_SIZE;
            LONG.set(desc, at + DESC_ADDR, indirectArea + table);
            INT.set(desc, at + DESC_LEN, n * DESC_SIZE);
            SHORT.set(desc, at + DESC_FLAGS, (short) F_INDIRECT);
            SHORT.set(desc, at + DESC_NEXT, (short) 0);
            freeHead = nextFree[head];
        } else {
            int index = head;
            for (int i = 0; i < n; i++) {
                writeDescriptor(desc, index * DESC_SIZE, buffers, i, n, nextFree[index]);
                index = nextFree[index];
            }
            freeHead = index;
        }
        freeCount -= needed;
        chainLength[head] = needed;
        tokens[head] = token;
        writableBytes[head] = buffers.writableBytes();
        inFlightHead[head] = true;
        inFlight++;
        if (inOrder) {
            availOrder[availIdx & mask] = head;
        }
        SHORT.set(avail, SplitLayout.availEntry(availIdx & mask), (short) head);
        availIdx = (availIdx + 1) & 0xFFFF;
        return true;
    }

    private static void writeDescriptor(ByteBuffer table, int at, ScatterGatherList buffers, int i, int n, int next) {
        int flags = (buffers.isWritable(i) ? F_WRITE : 0) | (i < n - 1 ? F_NEXT : 0);
        LONG.set(table, at + DESC_ADDR, buffers.address(i));
        INT.set(table, at + DESC_LEN, buffers.length(i));
        SHORT.set(table, at + DESC_FLAGS, (short) flags);
        SHORT.set(table, at + DESC_NEXT, (short) (i < n - 1 ? next : 0));
    }

    @Override
    public boolean kick() {
        if (availIdx == kickedIdx) {
            return false;
        }
        // Release: descriptors and avail ring entries must be visible before the index that exposes
        // them, or the device could pop an entry it cannot yet see.
        SHORT.setRelease(avail, AVAIL_IDX, (short) availIdx);
        int old = kickedIdx;
        kickedIdx = availIdx;
        // Full fence (store-load): the index must be visible before we read avail_event / NO_NOTIFY.
        // Otherwise the device may re-enable notifications and re-read our old index while we read its
        // old avail_event and skip the kick: a lost kick.
        VarHandle.fullFence();
        if (eventIdx) {
            int availEvent = (short) SHORT.get(used, SplitLayout.availEvent(size)) & 0xFFFF;
            return EventIndex.needsEvent(availEvent, availIdx, old);
        }
        return ((short) SHORT.get(used, USED_FLAGS) & USED_F_NO_NOTIFY) == 0;
    }

    @Override
    public int pollUsed() {
        if (error != QueueError.NONE) {
            return NO_TOKEN;
        }
        if (lastUsed == cachedUsedIdx) {
            refreshUsed();
            if (error != QueueError.NONE || cachedUsedIdx == lastUsed) {
                return NO_TOKEN;
            }
        }
        int at = SplitLayout.usedEntry(lastUsed & mask);
        int id = (int) INT.get(used, at);
        int length = (int) INT.get(used, at + 4);
        if (id < 0 || id >= size || !inFlightHead[id]) {
            return failed(QueueError.USED_ID_INVALID);
        }
        if (Integer.toUnsignedLong(length) > writableBytes[id]) {
            return failed(QueueError.USED_LENGTH_TOO_LARGE);
        }
        if (inOrder) {
            int expected = availOrder[orderCursor & mask];
            orderCursor = (orderCursor + 1) & 0xFFFF;
            if (expected != id) {
                // A batched element stands for every buffer made available before it: those are used
                // too (with no length reported); the element itself is consumed when its turn comes.
                return release(expected, 0);
            }
        }
        lastUsed = (lastUsed + 1) & 0xFFFF;
        return release(id, length);
    }

    /**
     * Reloads the device's used index. Acquire: the device writes used elements, then releases the
     * index; our reads of the elements must not move before this load.
     */
    private void refreshUsed() {
        cachedUsedIdx = (short) SHORT.getAcquire(used, USED_IDX) & 0xFFFF;
        if (((cachedUsedIdx - lastUsed) & 0xFFFF) > inFlight) {
            failed(QueueError.USED_INDEX_TOO_FAR);
        }
    }

    private int release(int head, int length) {
        int last = head;
        for (int i = 1; i < chainLength[head]; i++) {
            last = nextFree[last];
        }
        nextFree[last] = freeHead;
        freeHead = head;
        freeCount += chainLength[head];
        inFlightHead[head] = false;
        inFlight--;
        lastLength = length;
        return tokens[head];
    }

    private int failed(QueueError cause) {
        if (error == QueueError.NONE) {
            error = cause;
        }
        return NO_TOKEN;
    }

    @Override
    public int lastUsedLength() {
        return lastLength;
    }

    @Override
    public void disableInterrupts() {
        // With EVENT_IDX a used_event left behind already suppresses interrupts past it.
        if (!eventIdx) {
            SHORT.setOpaque(avail, AVAIL_FLAGS, (short) AVAIL_F_NO_INTERRUPT);
        }
    }

    @Override
    public boolean enableInterrupts() {
        if (eventIdx) {
            SHORT.setOpaque(avail, SplitLayout.usedEvent(size), (short) lastUsed);
        } else {
            SHORT.setOpaque(avail, AVAIL_FLAGS, (short) 0);
        }
        // Full fence (store-load): used_event must be visible before we re-read used idx, or the
        // device may publish, read our old used_event and skip the interrupt while we read its old idx.
        VarHandle.fullFence();
        refreshUsed();
        return error != QueueError.NONE || cachedUsedIdx != lastUsed;
    }

    @Override
    public QueueError error() {
        return error;
    }
}
