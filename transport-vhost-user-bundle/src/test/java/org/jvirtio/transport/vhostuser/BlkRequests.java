package org.jvirtio.transport.vhostuser;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;

/**
 * A minimal virtio-blk driver over one {@link VhostUserFrontend} queue (virtio 1.2 section 5.2.6): each
 * request is a 16-byte header (type, reserved, sector) readable by the device, then data, then one
 * writable status byte. Requests live in fixed slots of guest memory; a batch of up to {@link #SLOTS}
 * requests is published with one kick. Works with any back end, so it holds no jvirtio blk classes.
 */
final class BlkRequests {
    static final int T_IN = 0;
    static final int T_OUT = 1;
    static final int T_FLUSH = 4;
    static final byte S_OK = 0;
    static final byte S_IOERR = 1;
    static final int SECTOR = 512;
    static final int SLOTS = 8;
    static final int MAX_DATA = 64 * 1024;

    /** What came back for one request: the status byte and the used length the device reported. */
    record Completion(byte status, int usedLength, byte[] data) {
    }

    private final VhostUserFrontend frontend;
    private final int queueIndex;
    private final DriverQueue queue;
    private final GuestMemory memory;
    private final long headers;
    private final long data;
    private final long statuses;
    private final int[] lengths = new int[SLOTS];
    private int pending;

    BlkRequests(VhostUserFrontend frontend, int queueIndex) {
        this.frontend = frontend;
        this.queueIndex = queueIndex;
        this.queue = frontend.queue(queueIndex);
        this.memory = frontend.memory();
        this.headers = frontend.allocate(16L * SLOTS, 16);
        this.data = frontend.allocate((long) MAX_DATA * SLOTS, 4096);
        this.statuses = frontend.allocate(SLOTS, 1);
    }

    // ------------------------------------------------------------------ one request at a time

    Completion write(long sector, byte[] bytes) throws IOException {
        add(T_OUT, sector, bytes, 0);
        return submit()[0];
    }

    Completion read(long sector, int length) throws IOException {
        add(T_IN, sector, null, length);
        return submit()[0];
    }

    Completion flush() throws IOException {
        add(T_FLUSH, 0, null, 0);
        return submit()[0];
    }

    // ------------------------------------------------------------------ batches

    /**
     * Queues one request in the next slot (not yet visible to the device): {@code out} is written to the
     * device for OUT, {@code inLength} bytes are read from it for IN.
     */
    void add(int type, long sector, byte[] out, int inLength) {
        int slot = pending++;
        assertThat(slot).as("slots").isLessThan(SLOTS);
        long header = headers + 16L * slot;
        long buffer = data + (long) MAX_DATA * slot;
        long status = statuses + slot;
        byte[] h = new byte[16];
        ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).putInt(0, type).putInt(4, 0).putLong(8, sector);
        memory.write(header, h, 0, h.length);
        memory.write(status, new byte[] {(byte) 0xFF}, 0, 1); // "not written" stays visible
        ScatterGatherList sg = new ScatterGatherList(3).addReadable(header, 16);
        int length = 0;
        if (out != null && out.length > 0) {
            assertThat(out.length).isLessThanOrEqualTo(MAX_DATA);
            memory.write(buffer, out, 0, out.length);
            sg.addReadable(buffer, out.length);
        } else if (inLength > 0) {
            assertThat(inLength).isLessThanOrEqualTo(MAX_DATA);
            byte[] poison = new byte[inLength];
            Arrays.fill(poison, (byte) 0xEE);
            memory.write(buffer, poison, 0, inLength);
            sg.addWritable(buffer, inLength);
            length = inLength;
        }
        sg.addWritable(status, 1);
        lengths[slot] = length;
        assertThat(queue.add(sg, slot, false)).as("room in the ring").isTrue();
    }

    /** Publishes every added request with one kick and waits for all of them; results by slot. */
    Completion[] submit() throws IOException {
        int count = pending;
        pending = 0;
        if (queue.kick()) {
            frontend.kick(queueIndex);
        }
        Completion[] done = new Completion[count];
        int got = 0;
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (got < count) {
            int slot = queue.pollUsed();
            if (slot == DriverQueue.NO_TOKEN) {
                assertThat(queue.error()).isEqualTo(QueueError.NONE);
                assertThat(System.nanoTime()).as("request %d of %d completed in time", got, count).isLessThan(deadline);
                if (!queue.enableInterrupts()) {
                    frontend.awaitCall(queueIndex, 50);
                }
                continue;
            }
            assertThat(slot).isBetween(0, count - 1);
            assertThat(done[slot]).as("slot %d completed once", slot).isNull();
            byte[] bytes = new byte[lengths[slot]];
            memory.read(data + (long) MAX_DATA * slot, bytes, 0, bytes.length);
            byte[] status = new byte[1];
            memory.read(statuses + slot, status, 0, 1);
            done[slot] = new Completion(status[0], queue.lastUsedLength(), bytes);
            got++;
        }
        return done;
    }

    static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed * 131 + i * 7 + (i >> 9));
        }
        return b;
    }
}
