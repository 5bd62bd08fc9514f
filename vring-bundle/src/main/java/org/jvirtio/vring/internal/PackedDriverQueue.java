package org.jvirtio.vring.internal;

import static org.jvirtio.vring.internal.PackedLayout.DESC_ADDR;
import static org.jvirtio.vring.internal.PackedLayout.DESC_FLAGS;
import static org.jvirtio.vring.internal.PackedLayout.DESC_ID;
import static org.jvirtio.vring.internal.PackedLayout.DESC_LEN;
import static org.jvirtio.vring.internal.PackedLayout.DESC_SIZE;
import static org.jvirtio.vring.internal.PackedLayout.EVENT_F_DESC;
import static org.jvirtio.vring.internal.PackedLayout.EVENT_F_DISABLE;
import static org.jvirtio.vring.internal.PackedLayout.EVENT_F_ENABLE;
import static org.jvirtio.vring.internal.PackedLayout.F_INDIRECT;
import static org.jvirtio.vring.internal.PackedLayout.F_NEXT;
import static org.jvirtio.vring.internal.PackedLayout.F_WRITE;

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
 * The driver side of a packed virtqueue. Its bookkeeping (free buffer ids, tokens, ring slots per
 * buffer, writable bytes) lives in Java arrays, never read back from guest memory, so a device that
 * scribbles on the ring can break the queue ({@link #error()}) but not the driver's state.
 *
 * <p>Publishing: {@link #add} writes every descriptor of a chain, the head's flags last, except for
 * the first chain added since the last {@link #kick}: its head flags are held back and
 * {@link #kick} stores them with release. The device polls only that slot and reads the ring in
 * order, so every chain of the batch becomes visible at once, as with a split ring's index.
 */
public final class PackedDriverQueue implements DriverQueue {
    private static final VarHandle SHORT = MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final int size;
    private final ByteBuffer ring;
    private final ByteBuffer driverEvent;
    private final ByteBuffer deviceEvent;
    private final boolean eventIdx;
    private final boolean inOrder;
    private final ByteBuffer indirectTables;
    private final long indirectArea;
    private final int maxIndirect;

    /** Free buffer ids, a stack. */
    private final int[] freeIds;
    private final int[] tokens;
    private final int[] slotsOf;
    private final long[] writableBytes;
    private final boolean[] inFlightId;
    /** IN_ORDER: ids in the order they were made available, to expand a batched used descriptor. */
    private final int[] availOrder;

    private int freeIdCount;
    private int freeSlots;
    private int inFlight;
    private int nextAvail;
    private boolean availWrap = true;
    /** The first chain added since the last kick: its head slot and the flags held back for it. */
    private int batchHead = -1;
    private short batchHeadFlags;
    /** Ring slots made available since the last kick (the window the EVENT_IDX test looks at). */
    private int batchSlots;
    private int lastUsed;
    private boolean usedWrap = true;
    private int orderAdd;
    private int orderCursor;
    /** IN_ORDER: the last id of a used batch still being handed out, or -1; and its length. */
    private int batchEndId = -1;
    private int batchEndLength;
    private int lastLength;
    private QueueError error = QueueError.NONE;

    public PackedDriverQueue(QueueConfig config, long features, GuestMemory memory, long indirectArea,
            int maxIndirect) throws VringSetupException {
        size = config.size();
        RingArea.checkSize(size, false);
        eventIdx = VirtioFeature.has(features, VirtioFeature.RING_EVENT_IDX);
        inOrder = VirtioFeature.has(features, VirtioFeature.IN_ORDER);
        GuestMemory map = memory.snapshot();
        ring = RingArea.resolve(map, "descriptor ring", config.descriptorTable(), PackedLayout.ringBytes(size),
                PackedLayout.RING_ALIGN);
        driverEvent = RingArea.resolve(map, "driver event suppression", config.driverArea(),
                PackedLayout.EVENT_BYTES, PackedLayout.EVENT_ALIGN);
        deviceEvent = RingArea.resolve(map, "device event suppression", config.deviceArea(),
                PackedLayout.EVENT_BYTES, PackedLayout.EVENT_ALIGN);
        this.indirectArea = indirectArea;
        this.maxIndirect = maxIndirect;
        if (maxIndirect < 0 || (long) size * maxIndirect * DESC_SIZE > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(size + " indirect tables of " + maxIndirect + " entries");
        }
        indirectTables = indirectArea == 0 || maxIndirect == 0 ? null
                : RingArea.resolve(map, "indirect tables", indirectArea, size * maxIndirect * DESC_SIZE, DESC_SIZE);
        freeIds = new int[size];
        for (int i = 0; i < size; i++) {
            freeIds[i] = size - 1 - i;
        }
        freeIdCount = size;
        freeSlots = size;
        tokens = new int[size];
        slotsOf = new int[size];
        writableBytes = new long[size];
        inFlightId = new boolean[size];
        availOrder = inOrder ? new int[size] : null;
        // The ring starts zeroed (flags 0: neither available nor used in the first lap, whose wrap
        // counter is 1) and both event areas at off_wrap 0, ENABLE.
        zero(ring);
        zero(driverEvent);
        zero(deviceEvent);
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
        return freeSlots;
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
        // Each buffer takes at least one slot, so a free slot implies a free id; checked anyway.
        if (error != QueueError.NONE || freeSlots < needed || freeIdCount == 0) {
            return false;
        }
        int id = freeIds[--freeIdCount];
        int head = nextAvail;
        int headFlags;
        if (useIndirect) {
            int table = id * maxIndirect * DESC_SIZE;
            for (int i = 0; i < n; i++) {
                int at = table + i * DESC_SIZE;
                LONG.set(indirectTables, at + DESC_ADDR, buffers.address(i));
                INT.set(indirectTables, at + DESC_LEN, buffers.length(i));
                SHORT.set(indirectTables, at + DESC_ID, (short) 0);
                SHORT.set(indirectTables, at + DESC_FLAGS, (short) (buffers.isWritable(i) ? F_WRITE : 0));
            }
            int at = PackedLayout.desc(head);
            LONG.set(ring, at + DESC_ADDR, indirectArea + table);
            INT.set(ring, at + DESC_LEN, n * DESC_SIZE);
            SHORT.set(ring, at + DESC_ID, (short) id);
            headFlags = F_INDIRECT | PackedLayout.availFlags(availWrap);
            advance(1);
        } else {
            headFlags = 0;
            for (int i = 0; i < n; i++) {
                int at = PackedLayout.desc(nextAvail);
                int flags = (buffers.isWritable(i) ? F_WRITE : 0) | (i < n - 1 ? F_NEXT : 0)
                        | PackedLayout.availFlags(availWrap);
                LONG.set(ring, at + DESC_ADDR, buffers.address(i));
                INT.set(ring, at + DESC_LEN, buffers.length(i));
                // The id belongs in the last descriptor; Linux writes it in all of them, so do we.
                SHORT.set(ring, at + DESC_ID, (short) id);
                if (i == 0) {
                    headFlags = flags;
                } else {
                    SHORT.set(ring, at + DESC_FLAGS, (short) flags);
                }
                advance(1);
            }
        }
        if (batchHead < 0) {
            // Held back until kick(), which releases the whole batch.
            batchHead = head;
            batchHeadFlags = (short) headFlags;
        } else {
            // Plain store, written after the rest of the chain: the device reaches this slot only
            // after loading the batch head's flags with acquire, and kick() stores those with
            // release after this store, so the whole chain is visible to it by then.
            SHORT.set(ring, PackedLayout.desc(head) + DESC_FLAGS, (short) headFlags);
        }
        batchSlots += needed;
        freeSlots -= needed;
        slotsOf[id] = needed;
        tokens[id] = token;
        writableBytes[id] = buffers.writableBytes();
        inFlightId[id] = true;
        inFlight++;
        if (inOrder) {
            availOrder[orderAdd] = id;
            orderAdd = orderAdd + 1 == size ? 0 : orderAdd + 1;
        }
        return true;
    }

    private void advance(int slots) {
        nextAvail += slots;
        if (nextAvail >= size) {
            nextAvail -= size;
            availWrap = !availWrap;
        }
    }

    @Override
    public boolean kick() {
        if (batchHead < 0) {
            return false;
        }
        // Release: every descriptor of every chain added since the last kick (and their indirect
        // tables) must be visible before the first head's flags, which expose them all; else the
        // device could walk a descriptor whose address and length have not landed yet.
        SHORT.setRelease(ring, PackedLayout.desc(batchHead) + DESC_FLAGS, batchHeadFlags);
        int count = batchSlots;
        batchHead = -1;
        batchSlots = 0;
        // Full fence (store-load): the flags must be visible before we read the device's event
        // suppression. Otherwise the device may re-enable notifications and re-check our old flags
        // while we read its old DISABLE / off_wrap and skip the kick: a lost kick.
        VarHandle.fullFence();
        // One 32-bit load: flags and off_wrap from the same moment (Linux reads the same snapshot).
        int word = (int) INT.getOpaque(deviceEvent, 0);
        int flags = PackedLayout.eventFlags(word);
        if (flags == EVENT_F_DISABLE) {
            return false;
        }
        if (!eventIdx || flags != EVENT_F_DESC) {
            return true;
        }
        return PackedLayout.needsEvent(PackedLayout.eventOffWrap(word), nextAvail, availWrap, count, size);
    }

    @Override
    public int pollUsed() {
        if (error != QueueError.NONE) {
            return NO_TOKEN;
        }
        if (batchEndId >= 0) {
            return nextOfBatch();
        }
        int at = PackedLayout.desc(lastUsed);
        // Acquire: the device writes id and len, then the flags with release; our reads of id and
        // len must not move before this load, or we could read them before they land.
        int flags = (short) SHORT.getAcquire(ring, at + DESC_FLAGS) & 0xFFFF;
        if (!PackedLayout.isUsed(flags, usedWrap)) {
            return NO_TOKEN;
        }
        int id = (short) SHORT.get(ring, at + DESC_ID) & 0xFFFF;
        // len is read whatever the WRITE flag says: QEMU leaves WRITE clear and reports len anyway.
        int length = (int) INT.get(ring, at + DESC_LEN);
        if (id >= size || !inFlightId[id]) {
            return failed(QueueError.USED_ID_INVALID);
        }
        if (Integer.toUnsignedLong(length) > writableBytes[id]) {
            return failed(QueueError.USED_LENGTH_TOO_LARGE);
        }
        if (!inOrder) {
            skip(slotsOf[id]);
            return release(id, length);
        }
        // IN_ORDER: the used descriptor may stand for a batch, every buffer made available up to and
        // including id; the device skipped the ring slots of all of them. Move past the whole batch
        // now, before any of its ids or slots is freed, so that a chain added meanwhile can never
        // overwrite this used descriptor; then hand the batch out one buffer per call.
        int slots = 0;
        int cursor = orderCursor;
        for (int budget = inFlight; budget > 0; budget--) {
            int next = availOrder[cursor];
            slots += slotsOf[next];
            if (next == id) {
                break;
            }
            cursor = cursor + 1 == size ? 0 : cursor + 1;
        }
        skip(slots);
        batchEndId = id;
        batchEndLength = length;
        return nextOfBatch();
    }

    /** Hands out the oldest buffer of a batched used descriptor: the earlier ones with length 0. */
    private int nextOfBatch() {
        int id = availOrder[orderCursor];
        orderCursor = orderCursor + 1 == size ? 0 : orderCursor + 1;
        if (id != batchEndId) {
            return release(id, 0);
        }
        batchEndId = -1;
        return release(id, batchEndLength);
    }

    private void skip(int slots) {
        lastUsed += slots;
        if (lastUsed >= size) {
            lastUsed -= size;
            usedWrap = !usedWrap;
        }
    }

    private int release(int id, int length) {
        freeIds[freeIdCount++] = id;
        freeSlots += slotsOf[id];
        inFlightId[id] = false;
        inFlight--;
        lastLength = length;
        return tokens[id];
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
        int offWrap = PackedLayout.position(lastUsed, usedWrap);
        INT.setOpaque(driverEvent, 0, PackedLayout.eventWord(offWrap, EVENT_F_DISABLE));
    }

    @Override
    public boolean enableInterrupts() {
        // off_wrap and flags in one store: the device never sees DESC with a stale offset.
        int offWrap = PackedLayout.position(lastUsed, usedWrap);
        INT.setOpaque(driverEvent, 0, PackedLayout.eventWord(offWrap, eventIdx ? EVENT_F_DESC : EVENT_F_ENABLE));
        // Full fence (store-load): the store must be visible before we re-check the next used slot,
        // or the device may publish, read our old DISABLE and skip the interrupt while we read the
        // old flags.
        VarHandle.fullFence();
        if (error != QueueError.NONE || batchEndId >= 0) {
            return true;
        }
        int flags = (short) SHORT.getAcquire(ring, PackedLayout.desc(lastUsed) + DESC_FLAGS) & 0xFFFF;
        return PackedLayout.isUsed(flags, usedWrap);
    }

    @Override
    public QueueError error() {
        return error;
    }

    @Override
    public String toString() {
        return "PackedDriverQueue[size=" + size + ", nextAvail=" + nextAvail + (availWrap ? "/1" : "/0")
                + ", lastUsed=" + lastUsed + (usedWrap ? "/1" : "/0") + ", inFlight=" + inFlight + ", error="
                + error + "]";
    }
}
