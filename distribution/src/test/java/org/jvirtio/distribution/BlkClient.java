package org.jvirtio.distribution;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.transport.vhostuser.VhostUserFrontend;

/** A one-request-at-a-time virtio-blk driver over the Java vhost-user front end, for the launcher's tests. */
final class BlkClient implements AutoCloseable {
    static final int T_IN = 0;
    static final int T_OUT = 1;
    static final int T_FLUSH = 4;
    static final int F_FLUSH = 9;

    private final VhostUserFrontend frontend;
    private final long header;
    private final long data;
    private final long status;

    /** Connects to a launcher device that listens on {@code socket}. */
    BlkClient(Path socket) throws IOException {
        this(VhostUserFrontend.connect(socket, options()));
    }

    /** Listens on {@code socket}, as QEMU with {@code server=on}, for a client-mode launcher device. */
    static BlkClient listen(Path socket, Duration timeout) throws IOException {
        return new BlkClient(VhostUserFrontend.accept(socket, options(), timeout));
    }

    private static VhostUserFrontend.Options options() {
        return new VhostUserFrontend.Options().features(VirtioFeature.bit(VirtioFeature.VERSION_1) | 1L << F_FLUSH);
    }

    private BlkClient(VhostUserFrontend frontend) {
        this.frontend = frontend;
        header = frontend.allocate(16, 16);
        data = frontend.allocate(64 * 1024, 4096);
        status = frontend.allocate(1, 1);
    }

    /** Capacity in sectors, from the configuration space. */
    long capacity() throws IOException {
        return ByteBuffer.wrap(frontend.getConfig(0, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    int write(long sector, byte[] bytes) throws IOException {
        frontend.memory().write(data, bytes, 0, bytes.length);
        return submit(T_OUT, sector, new ScatterGatherList(3).addReadable(header, 16).addReadable(data, bytes.length)
                .addWritable(status, 1));
    }

    int read(long sector, byte[] into) throws IOException {
        int s = submit(T_IN, sector, new ScatterGatherList(3).addReadable(header, 16).addWritable(data, into.length)
                .addWritable(status, 1));
        frontend.memory().read(data, into, 0, into.length);
        return s;
    }

    int flush() throws IOException {
        return submit(T_FLUSH, 0, new ScatterGatherList(2).addReadable(header, 16).addWritable(status, 1));
    }

    /** Runs one request; returns its status byte. */
    private int submit(int type, long sector, ScatterGatherList sg) throws IOException {
        byte[] h = new byte[16];
        ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).putInt(0, type).putLong(8, sector);
        frontend.memory().write(header, h, 0, 16);
        frontend.memory().write(status, new byte[] {(byte) 0xFF}, 0, 1);
        DriverQueue q = frontend.queue(0);
        if (!q.add(sg, 1, false)) {
            throw new IllegalStateException("ring full");
        }
        if (q.kick()) {
            frontend.kick(0);
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (q.pollUsed() == DriverQueue.NO_TOKEN) {
            if (System.nanoTime() > deadline) {
                throw new IOException("request not completed in 10 s; queue " + q.error());
            }
            if (!q.enableInterrupts()) {
                frontend.awaitCall(0, 50);
            }
        }
        byte[] s = new byte[1];
        frontend.memory().read(status, s, 0, 1);
        return s[0];
    }

    @Override
    public void close() {
        frontend.close();
    }
}
