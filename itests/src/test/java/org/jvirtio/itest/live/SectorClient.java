package org.jvirtio.itest.live;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.transport.vhostuser.VhostUserFrontend;

/**
 * A virtio-blk driver over the Java vhost-user front end that writes and reads one sector at a time
 * and measures how long each request took: what a guest doing synchronous I/O sees of a device swap.
 */
final class SectorClient implements AutoCloseable {
    static final int SECTOR = 512;
    private static final int T_IN = 0;
    private static final int T_OUT = 1;
    private static final long TIMEOUT_NANOS = 20_000_000_000L;

    private final VhostUserFrontend frontend;
    private final long header;
    private final long data;
    private final long status;
    private long longestNanos;

    SectorClient(Path socket) throws IOException {
        frontend = VhostUserFrontend.connect(socket, new VhostUserFrontend.Options().queues(1, 64)
                .features(VirtioFeature.bit(VirtioFeature.VERSION_1)).inflight(true));
        header = frontend.allocate(16, 16);
        data = frontend.allocate(SECTOR, 4096);
        status = frontend.allocate(1, 1);
    }

    /** Writes {@code bytes} (one sector) at {@code sector}; returns the status byte. */
    int write(long sector, byte[] bytes) throws IOException {
        frontend.memory().write(data, bytes, 0, SECTOR);
        return submit(T_OUT, sector, new ScatterGatherList(3).addReadable(header, 16).addReadable(data, SECTOR)
                .addWritable(status, 1));
    }

    /** Reads one sector at {@code sector} into {@code into}; returns the status byte. */
    int read(long sector, byte[] into) throws IOException {
        int s = submit(T_IN, sector, new ScatterGatherList(3).addReadable(header, 16).addWritable(data, SECTOR)
                .addWritable(status, 1));
        frontend.memory().read(data, into, 0, SECTOR);
        return s;
    }

    /** The longest any request took so far. */
    long longestNanos() {
        return longestNanos;
    }

    private int submit(int type, long sector, ScatterGatherList sg) throws IOException {
        byte[] h = new byte[16];
        ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).putInt(0, type).putLong(8, sector);
        frontend.memory().write(header, h, 0, 16);
        frontend.memory().write(status, new byte[] {(byte) 0xFF}, 0, 1);
        DriverQueue q = frontend.queue(0);
        long start = System.nanoTime();
        if (!q.add(sg, 1, false)) {
            throw new IllegalStateException("ring full");
        }
        if (q.kick()) {
            frontend.kick(0);
        }
        while (q.pollUsed() == DriverQueue.NO_TOKEN) {
            if (System.nanoTime() - start > TIMEOUT_NANOS) {
                throw new IOException("request not completed in 20 s; queue " + q.error());
            }
            if (!q.enableInterrupts()) {
                frontend.awaitCall(0, 20);
            }
        }
        longestNanos = Math.max(longestNanos, System.nanoTime() - start);
        byte[] s = new byte[1];
        frontend.memory().read(status, s, 0, 1);
        return s[0];
    }

    @Override
    public void close() {
        frontend.close();
    }
}
