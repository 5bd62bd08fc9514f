package org.jvirtio.device.net.queue;

import java.nio.ByteBuffer;
import java.util.Arrays;

import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.device.net.NetCounter;
import org.jvirtio.device.net.NetHeader;
import org.jvirtio.device.net.QueueMetrics;

/**
 * A receive queue: writes each delivered frame, behind a virtio-net header, straight into the driver's
 * buffers. With MRG_RXBUF a frame spans as many chains as it needs and num_buffers in the first says
 * how many; without it a frame takes exactly one chain (num_buffers 1).
 *
 * <p>Threads: frames arrive on whichever thread the backend delivers on (a switch: the sending port's
 * transmit thread), so every access to the ring holds the queue's serve lock
 * ({@link DeviceQueue#serveLock()}): the lock the transport takes before it changes the ring (a new
 * memory table, a stopped ring), so a change never meets a frame half copied. It is held only while
 * copying into this queue's ring (once per batch when the backend delivers batches) and never while
 * calling out of the device, so two devices sending to each other cannot deadlock. Buffers are taken
 * when frames arrive, so a kick only counts, and asks the driver not to kick again (a kick costs the
 * driver a system call and this side a wake-up, for nothing). Asked at a kick rather than once,
 * because the transport may plug in a new ring (vhost-user: ring restarted, memory table changed)
 * whose flags say the opposite.
 *
 * <p>No receive buffer for a frame: the frame is dropped and counted (RX_NO_BUFFER); there is no
 * backlog, so a slow driver loses frames instead of making the sender wait, as a NIC does. Chains taken
 * from the ring that were not enough for a frame are kept, in ring order, for the next one (without
 * MRG_RXBUF a chain too small for this frame waits for a smaller one: drivers post chains for the
 * largest frame, virtio 1.2 section 5.1.6.3.1). A chain that can never hold a frame (device-readable
 * parts, less room than the header) is used at once with length 0 and counted.
 */
public final class RxQueue {
    /**
     * The header of a frame that has no offload and takes one buffer (num_buffers 1, little-endian; all
     * else 0): made once, so a frame written into one chain costs no header fill.
     */
    private static final byte[] ONE_BUFFER_HEADER = oneBufferHeaderBytes();
    /** Its last four bytes as a little-endian int (csum_offset 0, num_buffers 1); the first eight are 0. */
    private static final int ONE_BUFFER_HEADER_TAIL = 1 << ((NetHeader.NUM_BUFFERS - Long.BYTES) * Byte.SIZE);

    private final int index;
    private final DeviceQueue queue;
    private final DescriptorChain chain;
    private final DriverNotifier notifier;
    private final QueueMetrics metrics;
    private final boolean mergeable;
    private final int maxFrame;
    private final RxBuffer[] held;
    private final byte[] header = new byte[NetHeader.SIZE];
    /** {@link #header} as the buffer guest memory copies from, so that no copy wraps it anew. */
    private final ByteBuffer headerBuffer = ByteBuffer.wrap(header);
    /** The chains of the batch's current run of single-buffer frames, between popping and writing. */
    private final SingleBufferRun run = new SingleBufferRun();
    private final Object lock;
    private int heldCount;
    /** Frames of this batch's runs that could not be written (counted as RX_GUEST_MEMORY, not as RX_FRAMES). */
    private int runFailures;
    private boolean unpublished;
    private boolean stopped;

    /**
     * @param maxChains the queue's largest size: no more chains than that can be held
     * @param maxFrame  the longest Ethernet frame delivered (MTU + 14 + 4; with GUEST_TSO, MAX_GSO_FRAME)
     */
    public RxQueue(int index, DeviceQueue queue, DriverNotifier notifier, QueueMetrics metrics, boolean mergeable,
            int maxChains, int maxFrame) {
        this.index = index;
        this.queue = queue;
        this.lock = queue.serveLock();
        this.chain = queue.newChain();
        this.notifier = notifier;
        this.metrics = metrics;
        this.mergeable = mergeable;
        this.maxFrame = maxFrame;
        this.held = new RxBuffer[maxChains];
        for (int i = 0; i < maxChains; i++) {
            held[i] = new RxBuffer();
        }
    }

    private static byte[] oneBufferHeaderBytes() {
        byte[] h = new byte[NetHeader.SIZE];
        h[NetHeader.NUM_BUFFERS] = 1;
        return h;
    }

    /** The driver added buffers; they are taken when frames arrive: count the kick, and ask for no more. */
    public void kick() {
        synchronized (lock) { // every counter of a receive queue is written under its lock
            metrics.increment(NetCounter.KICKS);
            queue.disableNotifications(); // never enabled again: nothing waits for the driver's buffers
        }
    }

    /** No frame is written after this returns (device reset). */
    public void stop() {
        synchronized (lock) {
            stopped = true;
        }
    }

    /** Counts a frame dropped before it reached this queue (filtered, bad header). */
    public void countDrop(NetCounter reason) {
        synchronized (lock) {
            metrics.increment(reason);
        }
    }

    /** Writes the frame between {@code frame}'s position and limit (both restored); false if dropped. */
    public boolean receive(ByteBuffer frame) {
        synchronized (lock) {
            int length = deliverLocked(frame);
            if (length < 0) {
                return false;
            }
            metrics.increment(NetCounter.RX_FRAMES);
            metrics.add(NetCounter.RX_BYTES, length);
            return true;
        }
    }

    /**
     * Writes the frame behind the virtio-net header at {@code headerAndFrame}'s position: the driver
     * gets the header's gso and checksum fields with {@code flags}, all checked by the caller.
     */
    public boolean receiveWithHeader(ByteBuffer headerAndFrame, int flags) {
        int at = headerAndFrame.position();
        headerAndFrame.position(at + NetHeader.SIZE);
        try {
            synchronized (lock) {
                return receiveLocked(headerAndFrame, at, flags);
            }
        } finally {
            headerAndFrame.position(at);
        }
    }

    /**
     * Writes {@code frames[0..count)} in order under one hold of the lock, until one is dropped for
     * lack of room or for its length.
     *
     * <p>Runs of frames that each fit one single-buffer chain go in three passes, as DPDK's vhost
     * writes a burst: pop the run's chains, then write every frame, then use every chain. The driver's
     * core wrote each descriptor and each buffer last, so each is a cache miss here. One frame at a time,
     * every frame waits for its descriptor and then for its buffer's lines, in turn, and the
     * bookkeeping stores between them queue up behind the first store that misses until the core
     * stalls. In passes, the misses of one pass are outstanding together. Anything else (a chain with
     * several descriptors, held chains, a frame too long) goes one frame at a time the general way.
     *
     * @return the index of the dropped frame, or {@code count}
     */
    public int receive(ByteBuffer[] frames, int count) {
        synchronized (lock) {
            int delivered = 0;
            long bytes = 0;
            while (delivered < count) {
                int popped = popRun(frames, delivered, Math.min(count - delivered, SingleBufferRun.CAPACITY));
                if (popped > 0) {
                    bytes += writeRun(frames, delivered);
                    delivered += popped;
                    continue;
                }
                int length = deliverLocked(frames[delivered]);
                if (length < 0) {
                    break;
                }
                delivered++;
                bytes += length;
            }
            // counted per batch: two counter updates per frame were a measurable share of a 64-byte frame
            if (delivered > 0) {
                metrics.add(NetCounter.RX_FRAMES, delivered - runFailures);
                metrics.add(NetCounter.RX_BYTES, bytes);
            }
            runFailures = 0;
            return delivered;
        }
    }

    /**
     * Pops a single-buffer chain for each of up to {@code max} frames from {@code from} on, into
     * {@link #run}, and stops at the first frame that needs the general way: none held from an earlier
     * frame, the ring empty, a frame too long, or a chain that is not one writable descriptor with room
     * in the run's guest memory (that chain is held, or discarded, for the general way to go on with).
     *
     * @return how many chains were popped into the run
     */
    private int popRun(ByteBuffer[] frames, int from, int max) {
        if (stopped || heldCount != 0) {
            return 0;
        }
        int n = 0;
        while (n < max) {
            int length = frames[from + n].remaining();
            if (length > maxFrame || !queue.pop(chain)) {
                break;
            }
            if (chain.count() != 1 || chain.readableCount() != 0
                    || chain.writableBytes() < NetHeader.SIZE + (long) length || !run.add(chain)) {
                admit();
                break;
            }
            n++;
        }
        return n;
    }

    /**
     * Writes the run: every header and frame, then uses every chain in order. Each descriptor was
     * checked against the chain's memory snapshot when it was popped, and each access below checks its
     * range again: a frame whose buffer left guest memory meanwhile is counted (RX_GUEST_MEMORY, and
     * {@link #runFailures}), taken as a filtered frame is (the batch goes on), and its chain used with
     * length 0.
     *
     * @return the bytes of the frames written
     */
    private long writeRun(ByteBuffer[] frames, int from) {
        SingleBufferRun r = run;
        int n = r.size;
        GuestMemory memory = r.memory;
        long bytes = 0;
        for (int i = 0; i < n; i++) {
            ByteBuffer frame = frames[from + i];
            int length = frame.remaining();
            if (writeHeader(memory, r.address[i]) && writeFrame(memory, r.address[i] + NetHeader.SIZE, frame)) {
                r.written[i] = NetHeader.SIZE + length;
                bytes += length;
            } else {
                metrics.increment(NetCounter.RX_GUEST_MEMORY);
                runFailures++;
                r.written[i] = 0;
            }
        }
        for (int i = 0; i < n; i++) {
            queue.addUsed(r.head[i], r.ringSlots[i], r.written[i]);
        }
        r.clear();
        unpublished = true;
        return bytes;
    }

    /**
     * Makes the 12 bytes at {@code address} the one-buffer header, storing only if they differ; false if
     * they are not in guest memory.
     *
     * <p>Why load first: the driver read this header last (num_buffers), so its core holds the line
     * shared. A store must take the line from it (a miss here) and makes the driver's next read of
     * num_buffers a miss there. A driver that reposts its buffers gets the same header in the same place
     * frame after frame, so the load finds it already right and neither core misses (DPDK's vhost does
     * the same, ASSIGN_UNLESS_EQUAL). A guest that changes the bytes between the load and its own read
     * only garbles its own buffer, which it had handed to the device.
     */
    private static boolean writeHeader(GuestMemory memory, long address) {
        try {
            if (memory.getLong(address) != 0 || memory.getInt(address + Long.BYTES) != ONE_BUFFER_HEADER_TAIL) {
                memory.write(address, ONE_BUFFER_HEADER, 0, NetHeader.SIZE);
            }
            return true;
        } catch (GuestMemoryException e) {
            return false;
        }
    }

    /** Copies the frame (position and limit left as they were) to guest memory; false if it is not there. */
    private static boolean writeFrame(GuestMemory memory, long address, ByteBuffer frame) {
        int position = frame.position();
        try {
            if (frame.hasArray()) {
                memory.write(address, frame.array(), frame.arrayOffset() + position, frame.remaining());
            } else {
                memory.write(address, frame);
            }
            return true;
        } catch (GuestMemoryException e) {
            return false;
        } finally {
            frame.position(position);
        }
    }

    /**
     * Writes one frame (with a header of zeros) and uses its chains, the lock held; counts a drop but
     * not a delivery.
     *
     * <p>The common case goes straight from the popped chain: nothing held back from an earlier frame,
     * and the next chain is one writable descriptor with room for header and frame (what DPDK's and
     * Linux's drivers post with MRG_RXBUF: one buffer per chain). Anything else, including a chain
     * that must be discarded, goes the general way through the held chains.
     *
     * @return the frame's length, or -1 if it was dropped
     */
    private int deliverLocked(ByteBuffer frame) {
        int length = frame.remaining();
        if (stopped) {
            return -1;
        }
        if (length > maxFrame) {
            metrics.increment(NetCounter.RX_LONG_FRAME);
            return -1;
        }
        if (heldCount == 0) {
            if (!queue.pop(chain)) {
                metrics.increment(NetCounter.RX_NO_BUFFER);
                return -1;
            }
            if (chain.count() == 1 && chain.readableCount() == 0
                    && chain.writableBytes() >= NetHeader.SIZE + (long) length) {
                return writeSingle(frame, length);
            }
            admit();
        }
        return placeLocked(frame, -1, 0) ? length : -1;
    }

    /**
     * Writes header and frame into the popped chain, one writable descriptor with room for both, and
     * uses it. The descriptor was checked against the chain's memory snapshot when it was popped, and
     * each access below checks its range again.
     */
    private int writeSingle(ByteBuffer frame, int length) {
        GuestMemory memory = chain.memory();
        long address = chain.address(0);
        boolean written = writeHeader(memory, address) && writeFrame(memory, address + NetHeader.SIZE, frame);
        unpublished = true;
        if (!written) {
            metrics.increment(NetCounter.RX_GUEST_MEMORY);
            queue.addUsed(chain, 0);
            return -1;
        }
        queue.addUsed(chain, NetHeader.SIZE + length);
        return length;
    }

    /**
     * {@link #receive(ByteBuffer)}, the lock held.
     *
     * @param headerAt where the backend's header is in {@code frame}, or -1: a header of zeros
     */
    private boolean receiveLocked(ByteBuffer frame, int headerAt, int flags) {
        int length = frame.remaining();
        boolean written = placeLocked(frame, headerAt, flags);
        if (written) {
            metrics.increment(NetCounter.RX_FRAMES);
            metrics.add(NetCounter.RX_BYTES, length);
        }
        return written;
    }

    /** {@link #receiveLocked} through the held chains, without counting a delivered frame. */
    private boolean placeLocked(ByteBuffer frame, int headerAt, int flags) {
        int length = frame.remaining();
        if (stopped) {
            return false;
        }
        if (length > maxFrame) {
            metrics.increment(NetCounter.RX_LONG_FRAME);
            return false;
        }
        long need = NetHeader.SIZE + (long) length;
        int take = 0;
        long room = 0;
        while (room < need && (mergeable || take == 0)) {
            if (take == heldCount && !takeChain()) {
                break;
            }
            room += held[take++].bytes;
        }
        if (room < need) {
            metrics.increment(NetCounter.RX_NO_BUFFER);
            return false;
        }
        boolean written = write(frame, take, headerAt, flags);
        release(take);
        return written;
    }

    /** Makes the frames written so far visible and interrupts the driver if the ring says so. */
    public void flush() {
        synchronized (lock) {
            if (!unpublished || stopped) {
                return;
            }
            unpublished = false;
            if (queue.publishUsed()) {
                metrics.increment(NetCounter.INTERRUPTS);
                notifier.notifyUsed(index);
            }
        }
    }

    /** Pops chains until one can hold a frame and holds it; false if the ring has none. */
    private boolean takeChain() {
        while (heldCount < held.length && queue.pop(chain)) {
            if (admit()) {
                return true;
            }
        }
        return false;
    }

    /** Holds the chain just popped, or uses it at once (counted) if it can never hold a frame. */
    private boolean admit() {
        if (chain.readableCount() != 0) {
            discard(NetCounter.RX_CHAIN_READABLE);
            return false;
        }
        if (chain.writableBytes() < NetHeader.SIZE) {
            discard(NetCounter.RX_CHAIN_TOO_SMALL);
            return false;
        }
        held[heldCount++].copyFrom(chain);
        return true;
    }

    private void discard(NetCounter reason) {
        metrics.increment(reason);
        queue.addUsed(chain, 0);
        unpublished = true;
    }

    /**
     * Copies header and frame across the first {@code take} held chains and uses each with what it got.
     * A descriptor that left guest memory meanwhile (a memory table change) uses them all with length 0.
     */
    private boolean write(ByteBuffer frame, int take, int headerAt, int flags) {
        int position = frame.position();
        int limit = frame.limit();
        Arrays.fill(header, (byte) 0);
        if (headerAt >= 0) {
            frame.get(headerAt + NetHeader.GSO_TYPE, header, NetHeader.GSO_TYPE, NetHeader.NUM_BUFFERS - NetHeader.GSO_TYPE);
            header[NetHeader.FLAGS] = (byte) flags;
        }
        header[NetHeader.NUM_BUFFERS] = (byte) take;
        header[NetHeader.NUM_BUFFERS + 1] = (byte) (take >>> 8);
        boolean ok = true;
        int headerLeft = NetHeader.SIZE;
        int from = position;
        try {
            for (int b = 0; b < take; b++) {
                RxBuffer buffer = held[b];
                int written = 0;
                for (int s = 0; s < buffer.segments && (headerLeft > 0 || from < limit); s++) {
                    long address = buffer.addresses[s];
                    int room = buffer.lengths[s];
                    if (headerLeft > 0) {
                        int n = Math.min(room, headerLeft);
                        int headerOffset = NetHeader.SIZE - headerLeft;
                        buffer.memory.write(address, headerBuffer.limit(headerOffset + n).position(headerOffset));
                        headerLeft -= n;
                        address += n;
                        room -= n;
                        written += n;
                    }
                    int n = Math.min(room, limit - from);
                    if (n > 0) {
                        frame.limit(from + n).position(from);
                        buffer.memory.write(address, frame);
                        from += n;
                        written += n;
                    }
                }
                buffer.written = written;
            }
        } catch (GuestMemoryException e) {
            metrics.increment(NetCounter.RX_GUEST_MEMORY);
            ok = false;
        } finally {
            frame.limit(limit).position(position);
        }
        for (int b = 0; b < take; b++) {
            queue.addUsed(held[b].head, held[b].ringSlots, ok ? held[b].written : 0);
        }
        unpublished = true;
        return ok;
    }

    /** Forgets the first {@code take} held chains (used now); the rest move to the front, in order. */
    private void release(int take) {
        for (int i = 0; i < heldCount - take; i++) {
            RxBuffer used = held[i];
            held[i] = held[i + take];
            held[i + take] = used;
        }
        heldCount -= take;
    }
}
