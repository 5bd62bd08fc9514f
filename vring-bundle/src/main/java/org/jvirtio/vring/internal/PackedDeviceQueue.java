package org.jvirtio.vring.internal;

import static org.jvirtio.vring.internal.PackedLayout.DESC_ADDR;
import static org.jvirtio.vring.internal.PackedLayout.DESC_FLAGS;
import static org.jvirtio.vring.internal.PackedLayout.DESC_ID;
import static org.jvirtio.vring.internal.PackedLayout.DESC_LEN;
import static org.jvirtio.vring.internal.PackedLayout.EVENT_F_DESC;
import static org.jvirtio.vring.internal.PackedLayout.EVENT_F_DISABLE;
import static org.jvirtio.vring.internal.PackedLayout.EVENT_F_ENABLE;
import static org.jvirtio.vring.internal.PackedLayout.F_INDIRECT;
import static org.jvirtio.vring.internal.PackedLayout.F_NEXT;
import static org.jvirtio.vring.internal.PackedLayout.F_WRITE;
import static org.jvirtio.vring.internal.PackedLayout.OFFSET_MASK;
import static org.jvirtio.vring.internal.PackedLayout.WRAP_SHIFT;

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
 * The device side of a packed virtqueue (virtio 1.2 section 2.8). Plain state: the descriptor ring and
 * the two event suppression areas resolved once at construction, the next-avail and next-used slots
 * with their wrap counters. The hot path does index arithmetic on those views and allocates nothing.
 *
 * <p>Rules this side enforces on what the driver wrote:
 * <ul>
 * <li>a chain is the run of consecutive available descriptors linked by NEXT, at most {@code size}
 *     of them; its buffer id is in its last descriptor (spec "Next Flag: Descriptor Chaining"),
 *     below {@code size} and not held by the device;</li>
 * <li>every descriptor of a chain must be available: the driver makes the rest of a chain available
 *     before its first (same section), so a later descriptor that is not available means the chain
 *     runs past what the driver made available, exactly like a chain that runs around the ring into
 *     its own head (whose flags then belong to the other lap); both are reported as
 *     {@link QueueError#CHAIN_TOO_LONG};</li>
 * <li>an indirect descriptor stands alone: INDIRECT with NEXT, or INDIRECT on a descriptor that a
 *     NEXT led to, is {@link QueueError#INDIRECT_WITH_NEXT} (spec "Indirect Descriptors", driver
 *     requirements: "MUST NOT write direct descriptors with DESC_F_INDIRECT set in a scatter-gather
 *     list linked by VIRTQ_DESC_F_NEXT"). Its table entries follow each other, table length / 16 of
 *     them; only WRITE is read from an entry (NEXT and id are reserved there), and INDIRECT in an
 *     entry is {@link QueueError#INDIRECT_NESTED} (as virtio-queue's chain walker).</li>
 * </ul>
 *
 * <p>Chains resubmitted after a back-end restart ({@link #resubmitPacked}) are popped before the ring,
 * through the same walk over copies of their descriptors, with the same rules except that the copies'
 * count, not their AVAIL and USED bits, says where the chain must end.
 *
 * <p>Used descriptors are published in batches: {@link #addUsed} writes each used descriptor in full
 * except the flags of the first one since the last publish, which {@link #publishUsed} stores last,
 * with release (spec "Multi-buffer requests"): the driver polls that one slot, so nothing of the
 * batch is visible to it before everything is.
 */
public final class PackedDeviceQueue implements DeviceVring {
    private static final VarHandle SHORT = MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final int size;
    private final GuestMemory memory;
    private final ByteBuffer ring;
    private final ByteBuffer driverEvent;
    private final ByteBuffer deviceEvent;
    private final boolean eventIdx;
    private final boolean indirectAllowed;
    private final boolean inOrder;
    private final int maxChain;
    private final IndirectTable indirect;

    /** Buffer ids the device holds, and the ring slots each one's chain took. */
    private final boolean[] held;
    private final int[] heldSlots;
    /** IN_ORDER: completions wait here until every earlier chain is complete; null otherwise. */
    private final InOrderCompletions inOrderCompletions;
    /**
     * Copies of chains resubmitted after a back-end restart and not yet popped again; null, which is
     * all the hot path tests, except during recovery: created by the first resubmit, dropped once
     * drained.
     */
    private ResubmittedChains resubmitted;

    private int nextAvail;
    private boolean availWrap;
    private int nextUsed;
    private boolean usedWrap;
    /** The first used descriptor not yet published: its slot and the flags held back for it. */
    private int batchSlot = -1;
    private short batchFlags;
    /** Ring slots written since the last publish (the window the EVENT_IDX test looks at). */
    private int batchSlots;
    private int inFlight;
    private QueueError error = QueueError.NONE;

    public PackedDeviceQueue(QueueConfig config, long features, GuestMemory memory, int availPosition,
            int usedPosition) throws VringSetupException {
        size = config.size();
        RingArea.checkSize(size, false);
        this.memory = memory;
        eventIdx = VirtioFeature.has(features, VirtioFeature.RING_EVENT_IDX);
        indirectAllowed = VirtioFeature.has(features, VirtioFeature.RING_INDIRECT_DESC);
        inOrder = VirtioFeature.has(features, VirtioFeature.IN_ORDER);
        GuestMemory map = memory.snapshot();
        ring = RingArea.resolve(map, "descriptor ring", config.descriptorTable(), PackedLayout.ringBytes(size),
                PackedLayout.RING_ALIGN);
        driverEvent = RingArea.resolve(map, "driver event suppression", config.driverArea(),
                PackedLayout.EVENT_BYTES, PackedLayout.EVENT_ALIGN);
        deviceEvent = RingArea.resolve(map, "device event suppression", config.deviceArea(),
                PackedLayout.EVENT_BYTES, PackedLayout.EVENT_ALIGN);
        nextAvail = checkPosition(availPosition, "avail");
        availWrap = (availPosition >>> WRAP_SHIFT & 1) != 0;
        nextUsed = checkPosition(usedPosition, "used");
        usedWrap = (usedPosition >>> WRAP_SHIFT & 1) != 0;
        maxChain = RingArea.maxChainLength(size);
        indirect = indirectAllowed ? new IndirectTable(maxChain) : null;
        held = new boolean[size];
        heldSlots = new int[size];
        inOrderCompletions = inOrder ? new InOrderCompletions(size, this::releaseUsed) : null;
    }

    /** A saved position must name a slot of this ring (vhost-user SET_VRING_BASE is input too). */
    private int checkPosition(int position, String which) throws VringSetupException {
        int index = position & OFFSET_MASK;
        if ((position & ~0xFFFF) != 0 || index >= size) {
            throw new VringSetupException(QueueError.AVAIL_INDEX_TOO_FAR,
                    which + " position 0x" + Integer.toHexString(position) + " is outside a ring of " + size);
        }
        return index;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public boolean isPacked() {
        return true;
    }

    @Override
    public DescriptorChain newChain() {
        return new ChainBuffer(maxChain);
    }

    /**
     * The flags of the descriptor at {@code slot}. Acquire: the driver writes a descriptor (and every
     * later descriptor of its chain) and only then stores the first descriptor's flags with a release
     * barrier; loading the flags with acquire orders our reads of addr, len, id and of the rest of the
     * chain after it, so we never act on a descriptor the flags expose before the driver wrote it.
     */
    private int flagsAcquire(int slot) {
        return (short) SHORT.getAcquire(ring, PackedLayout.desc(slot) + DESC_FLAGS) & 0xFFFF;
    }

    @Override
    public boolean hasAvailable() {
        return error != QueueError.NONE || resubmitted != null
                || PackedLayout.isAvailable(flagsAcquire(nextAvail), availWrap);
    }

    @Override
    public boolean pop(DescriptorChain target) {
        if (error != QueueError.NONE) {
            return false;
        }
        if (resubmitted != null) {
            return popResubmitted(target);
        }
        int headFlags = flagsAcquire(nextAvail);
        if (!PackedLayout.isAvailable(headFlags, availWrap)) {
            return false;
        }
        ChainBuffer chain = ChainBuffer.checkFits(target, maxChain);
        QueueError walked = walk(ring, nextAvail, size, true, headFlags, chain, memory.snapshot());
        if (walked != QueueError.NONE) {
            return fail(walked);
        }
        if (!take(chain)) {
            return false;
        }
        nextAvail += chain.ringSlots();
        if (nextAvail >= size) {
            nextAvail -= size;
            availWrap = !availWrap;
        }
        return true;
    }

    /**
     * Pops the oldest resubmitted chain: its copies walked and checked as the ring would be, but the
     * ring is not read and {@code nextAvail} does not move (the transport started the ring past these
     * chains). The chain must span exactly its copies; one that ends early is refused like one that
     * runs past them, so that its ring slots are what the transport counted.
     */
    private boolean popResubmitted(DescriptorChain target) {
        ChainBuffer chain = ChainBuffer.checkFits(target, maxChain);
        ByteBuffer copies = resubmitted.copies();
        int first = resubmitted.firstSlot();
        int count = resubmitted.firstCount();
        int headFlags = (short) SHORT.get(copies, PackedLayout.desc(first) + DESC_FLAGS) & 0xFFFF;
        QueueError walked = walk(copies, first, count, false, headFlags, chain, memory.snapshot());
        if (walked == QueueError.NONE && chain.ringSlots() != count) {
            walked = QueueError.CHAIN_TOO_LONG;
        }
        if (walked != QueueError.NONE) {
            return fail(walked);
        }
        if (!take(chain)) {
            return false;
        }
        resubmitted.removeFirst();
        if (resubmitted.isEmpty()) {
            resubmitted = null;
        }
        return true;
    }

    /** Checks the buffer id of a walked chain and makes the device hold it. */
    private boolean take(ChainBuffer chain) {
        int id = chain.head();
        if (id >= size) {
            return fail(QueueError.BUFFER_ID_OUT_OF_RANGE);
        }
        if (held[id]) {
            return fail(QueueError.BUFFER_ID_IN_USE);
        }
        held[id] = true;
        heldSlots[id] = chain.ringSlots();
        inFlight++;
        if (inOrder) {
            inOrderCompletions.popped(id);
        }
        return true;
    }

    @Override
    public boolean resubmitSplit(int head) {
        return false;
    }

    @Override
    public boolean resubmitPacked(ByteBuffer descriptors, int count) {
        if (resubmitted == null) {
            if (!ResubmittedChains.fits(descriptors, count, size)) {
                return false;
            }
            resubmitted = new ResubmittedChains(size);
        }
        return resubmitted.add(descriptors, count);
    }

    /**
     * Walks one chain into {@code chain}: consecutive descriptors of {@code source}, a ring of
     * {@code size} slots in the descriptor ring layout, from slot {@code first}, at most {@code limit}
     * of them, wrapping at the ring end. Sets the chain's head to the buffer id (from the last
     * descriptor) and its ring slots; moves no position.
     *
     * <p>{@code source} is the descriptor ring itself ({@code inRing}: from {@code nextAvail}, limit
     * {@code size}), where each later descriptor must also be available in the lap, the wrap counter
     * flipping at the ring end; or the copies of a resubmitted chain, which carry no lap: there the
     * AVAIL and USED bits mean nothing and {@code limit} (the copies' count) alone bounds the chain.
     */
    private QueueError walk(ByteBuffer source, int first, int limit, boolean inRing, int headFlags,
            ChainBuffer chain, GuestMemory map) {
        chain.reset(map, 0);
        int slot = first;
        boolean wrap = availWrap;
        int flags = headFlags;
        for (int slots = 1; slots <= limit; slots++) {
            int at = PackedLayout.desc(slot);
            if (slots > 1) {
                // No barrier needed: the driver made this descriptor available before the head, whose
                // flags we loaded with acquire (and copies are ours alone). In the ring, not available
                // means the chain runs past the driver's.
                flags = (short) SHORT.get(source, at + DESC_FLAGS) & 0xFFFF;
                if (inRing && !PackedLayout.isAvailable(flags, wrap)) {
                    return QueueError.CHAIN_TOO_LONG;
                }
            }
            long address = (long) LONG.get(source, at + DESC_ADDR);
            int length = (int) INT.get(source, at + DESC_LEN);
            int id = (short) SHORT.get(source, at + DESC_ID) & 0xFFFF;
            if ((flags & F_INDIRECT) != 0) {
                if (!indirectAllowed) {
                    return QueueError.INDIRECT_NOT_NEGOTIATED;
                }
                if (slots > 1 || (flags & F_NEXT) != 0) {
                    return QueueError.INDIRECT_WITH_NEXT;
                }
                chain.setHead(id);
                chain.setRingSlots(1);
                return walkIndirect(chain, map, address, length);
            }
            QueueError appended = chain.append(address, length, (flags & F_WRITE) != 0);
            if (appended != QueueError.NONE) {
                return appended;
            }
            if ((flags & F_NEXT) == 0) {
                chain.setHead(id);
                chain.setRingSlots(slots);
                return QueueError.NONE;
            }
            if (++slot == size) {
                slot = 0;
                wrap = !wrap;
            }
        }
        return QueueError.CHAIN_TOO_LONG;
    }

    /**
     * Walks an indirect table: its entries follow each other, {@code length / 16} of them, from a
     * private copy (see {@link IndirectTable}). Only WRITE is read from an entry; NEXT and the id are
     * reserved there and ignored, INDIRECT is refused.
     */
    private QueueError walkIndirect(ChainBuffer chain, GuestMemory map, long address, int length) {
        QueueError loaded = indirect.load(map, address, length);
        if (loaded != QueueError.NONE) {
            return loaded;
        }
        int entries = indirect.entries();
        for (int i = 0; i < entries; i++) {
            int entryFlags = indirect.u16(i, DESC_FLAGS);
            if ((entryFlags & F_INDIRECT) != 0) {
                return QueueError.INDIRECT_NESTED;
            }
            QueueError appended = chain.append(indirect.address(i), indirect.length(i), (entryFlags & F_WRITE) != 0);
            if (appended != QueueError.NONE) {
                return appended;
            }
        }
        return QueueError.NONE;
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
            throw new IllegalArgumentException("buffer id " + head + " is not held by the device");
        }
        if (ringSlots != heldSlots[head]) {
            throw new IllegalArgumentException("buffer id " + head + " took " + heldSlots[head]
                    + " ring slots, not " + ringSlots);
        }
        inFlight--;
        if (!inOrder || inOrderCompletions.releaseIfFirst(head)) {
            held[head] = false;
            writeUsed(head, ringSlots, writtenLength);
            return;
        }
        // A completion waiting for earlier chains keeps its id held: the driver has not seen it used,
        // so offering that id again is still BUFFER_ID_IN_USE.
        inOrderCompletions.complete(head, writtenLength);
    }

    /** An IN_ORDER completion reaches the front of the line. */
    private void releaseUsed(int id, int length) {
        held[id] = false;
        writeUsed(id, heldSlots[id], length);
    }

    /**
     * Writes the used descriptor for {@code id} at {@code nextUsed}: id and len with plain stores, and
     * its flags too unless it is the first of the batch, whose flags {@link #publishUsed} stores. The
     * driver polls only that first slot, so it cannot look at the others before the publish.
     */
    private void writeUsed(int id, int slots, int length) {
        int at = PackedLayout.desc(nextUsed);
        SHORT.set(ring, at + DESC_ID, (short) id);
        INT.set(ring, at + DESC_LEN, length);
        short flags = (short) (PackedLayout.usedFlags(usedWrap) | (length != 0 ? F_WRITE : 0));
        if (batchSlot < 0) {
            batchSlot = nextUsed;
            batchFlags = flags;
        } else {
            SHORT.set(ring, at + DESC_FLAGS, flags);
        }
        batchSlots += slots;
        nextUsed += slots;
        if (nextUsed >= size) {
            nextUsed -= size;
            usedWrap = !usedWrap;
        }
    }

    @Override
    public boolean publishUsed() {
        if (batchSlot < 0) {
            return false;
        }
        // Release: every used descriptor of the batch (ids, lengths, the later ones' flags) must be
        // visible before the first one's flags, the only slot the driver polls; else the driver could
        // consume a used descriptor whose id and len have not landed yet.
        SHORT.setRelease(ring, PackedLayout.desc(batchSlot) + DESC_FLAGS, batchFlags);
        int count = batchSlots;
        batchSlot = -1;
        batchSlots = 0;
        // Full fence (store-load): the flags store must be visible before we read the driver's event
        // suppression. Otherwise it can wait in our store buffer while we read a stale DISABLE or
        // off_wrap, just as the driver re-enables interrupts, re-checks the old flags and goes to
        // sleep: a lost interrupt.
        VarHandle.fullFence();
        // One 32-bit load: flags and off_wrap from the same moment (the driver may rewrite both).
        int word = (int) INT.getOpaque(driverEvent, 0);
        int flags = PackedLayout.eventFlags(word);
        if (flags == EVENT_F_DISABLE) {
            return false;
        }
        if (!eventIdx || flags != EVENT_F_DESC) {
            // ENABLE, the reserved value 3, or DESC without EVENT_IDX (not allowed): notify.
            return true;
        }
        return PackedLayout.needsEvent(PackedLayout.eventOffWrap(word), nextUsed, usedWrap, count, size);
    }

    @Override
    public void disableNotifications() {
        INT.setOpaque(deviceEvent, 0, PackedLayout.eventWord(availPosition(), EVENT_F_DISABLE));
    }

    @Override
    public boolean enableNotifications() {
        // off_wrap and flags in one store: the driver never sees DESC with a stale offset.
        int flags = eventIdx ? EVENT_F_DESC : EVENT_F_ENABLE;
        INT.setOpaque(deviceEvent, 0, PackedLayout.eventWord(availPosition(), flags));
        // Full fence (store-load): the store above must be visible before we re-read the next
        // descriptor's flags. Else the driver may make a chain available, read our old DISABLE and
        // skip its kick while we read the old flags: both sides wait for each other (a lost kick).
        VarHandle.fullFence();
        return hasAvailable();
    }

    @Override
    public QueueError error() {
        return error;
    }

    @Override
    public int availPosition() {
        return PackedLayout.position(nextAvail, availWrap);
    }

    @Override
    public int usedPosition() {
        return PackedLayout.position(nextUsed, usedWrap);
    }

    @Override
    public int inFlight() {
        return inFlight;
    }

    @Override
    public String toString() {
        return "PackedDeviceQueue[size=" + size + ", nextAvail=" + nextAvail + (availWrap ? "/1" : "/0")
                + ", nextUsed=" + nextUsed + (usedWrap ? "/1" : "/0") + ", inFlight=" + inFlight
                + (resubmitted != null ? ", resubmitting" : "") + ", error=" + error + "]";
    }
}
