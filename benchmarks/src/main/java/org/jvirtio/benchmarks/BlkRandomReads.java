package org.jvirtio.benchmarks;

import java.io.IOException;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.transport.vhostuser.VhostUserFrontend;

/**
 * A closed-loop virtio-blk driver over one {@link VhostUserFrontend} queue issuing 4 KiB reads at
 * uniformly random 4 KiB-aligned offsets, {@code depth} requests in flight (virtio 1.2 section 5.2.6:
 * a 16-byte readable header {type, reserved, sector}, a writable data buffer, a writable status byte).
 * The request layout is the one of the transport's interop test ({@code BlkRequests}), copied here
 * because benchmarks do not depend on test classes; it works with any back end.
 *
 * <p>The front end busy-polls the used ring with interrupts off (with EVENT_IDX negotiated, a
 * used_event left behind suppresses the back end's call signals) and never waits on the call
 * eventfd. It re-issues every completed slot with a new random sector at once and publishes them
 * with one avail-index store after every {@link #PUBLISH_EVERY} of them and when the used ring is
 * drained, kicking only when the ring says so (so the back end is not left idle while the front end
 * works through a long drain). The hot loop allocates nothing.
 */
final class BlkRandomReads {
    static final int T_IN = 0;
    static final int SECTOR = 512;
    static final int BLOCK = 4096;
    static final byte S_OK = 0;
    static final int PUBLISH_EVERY = 8;

    private final VhostUserFrontend frontend;
    private final DriverQueue queue;
    private final GuestMemory memory;
    private final int depth;
    private final long blocks;
    private final long headers;
    private final long statuses;
    private final ScatterGatherList[] lists;
    private long seed;
    private long completed;
    private long failed;
    private long kicks;

    /** Lays out {@code depth} request slots in the front end's guest memory for a disk of {@code diskBytes}. */
    BlkRandomReads(VhostUserFrontend frontend, int depth, long diskBytes, long seed) {
        this.frontend = frontend;
        this.queue = frontend.queue(0);
        this.memory = frontend.memory();
        this.depth = depth;
        this.blocks = diskBytes / BLOCK;
        this.seed = seed;
        this.headers = frontend.allocate(16L * depth, 16);
        long data = frontend.allocate((long) BLOCK * depth, 4096);
        this.statuses = frontend.allocate(depth, 1);
        this.lists = new ScatterGatherList[depth];
        for (int slot = 0; slot < depth; slot++) {
            long header = headers + 16L * slot;
            memory.putInt(header, T_IN);
            memory.putInt(header + 4, 0);
            lists[slot] = new ScatterGatherList(3).addReadable(header, 16)
                    .addWritable(data + (long) BLOCK * slot, BLOCK).addWritable(statuses + slot, 1);
        }
    }

    /** Requests completed with S_OK and the full used length, since the start. */
    long completed() {
        return completed;
    }

    /** Requests completed with another status or used length (must stay 0). */
    long failed() {
        return failed;
    }

    /** Kicks sent (eventfd writes), since the start. */
    long kicks() {
        return kicks;
    }

    /** Fills the queue: {@code depth} requests, one kick. */
    void start() throws IOException {
        queue.disableInterrupts();
        for (int slot = 0; slot < depth; slot++) {
            issue(slot);
        }
        if (queue.kick()) {
            kicks++;
            frontend.kick(0);
        }
    }

    /** Keeps {@code depth} requests in flight until {@code deadline} (System.nanoTime). */
    void runUntil(long deadline) throws IOException {
        int reissued = 0;
        int turns = 0;
        while (true) {
            int slot = queue.pollUsed();
            if (slot == DriverQueue.NO_TOKEN) {
                if (reissued != 0) {
                    reissued = 0;
                    if (queue.kick()) {
                        kicks++;
                        frontend.kick(0);
                    }
                } else if (queue.error() != QueueError.NONE) {
                    throw new IOException("queue broken: " + queue.error().description());
                }
                if ((++turns & 63) == 0 && System.nanoTime() - deadline >= 0) {
                    return;
                }
                Thread.onSpinWait();
                continue;
            }
            if (memory.getByte(statuses + slot) == S_OK && queue.lastUsedLength() == BLOCK + 1) {
                completed++;
            } else {
                failed++;
            }
            issue(slot);
            if (++reissued == PUBLISH_EVERY) {
                reissued = 0;
                if (queue.kick()) {
                    kicks++;
                    frontend.kick(0);
                }
            }
        }
    }

    /** Collects what is still in flight (at most {@code timeoutNanos}); true if nothing is left. */
    boolean drain(long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (queue.inFlight() > 0 && System.nanoTime() - deadline < 0) {
            if (queue.pollUsed() == DriverQueue.NO_TOKEN) {
                Thread.onSpinWait();
            }
        }
        return queue.inFlight() == 0;
    }

    private void issue(int slot) {
        // xorshift64*: cheap, allocation-free, the same sequence for both peers for a given seed
        long x = seed;
        x ^= x >>> 12;
        x ^= x << 25;
        x ^= x >>> 27;
        seed = x;
        long block = Long.remainderUnsigned(x * 0x2545F4914F6CDD1DL, blocks);
        memory.putLong(headers + 16L * slot + 8, block * (BLOCK / SECTOR));
        memory.putByte(statuses + slot, (byte) 0xFF); // a status the device did not write is not S_OK
        if (!queue.add(lists[slot], slot, false)) {
            throw new IllegalStateException("no room in the ring for slot " + slot);
        }
    }
}
