package org.jvirtio.distribution;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.transport.vhostuser.VhostUserFrontend;

/**
 * A minimal virtio-net driver over the Java vhost-user front end, for the launcher's tests: one queue
 * pair, split rings, VERSION_1 only (a 12-byte header, one buffer per frame). Receive buffers are
 * posted once at the start and reposted as frames are taken. One thread only.
 */
final class NetClient implements AutoCloseable {
    /** virtio_net_hdr with VERSION_1: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers. */
    static final int HEADER = 12;
    private static final int RX = 0;
    private static final int TX = 1;
    private static final int BUFFER = 2048;
    private static final int RX_BUFFERS = 16;

    private final VhostUserFrontend frontend;
    private final long[] rxBuffers = new long[RX_BUFFERS];
    private final long txBuffer;
    private final ScatterGatherList sg = new ScatterGatherList(1);

    /** Connects to a launcher device that listens on {@code socket}. */
    NetClient(Path socket) throws IOException {
        this(VhostUserFrontend.connect(socket, options()));
    }

    /** Listens on {@code socket}, as QEMU with {@code server=on}, for a client-mode launcher device. */
    static NetClient listen(Path socket, Duration timeout) throws IOException {
        return new NetClient(VhostUserFrontend.accept(socket, options(), timeout));
    }

    private static VhostUserFrontend.Options options() {
        return new VhostUserFrontend.Options().queues(2, 64).features(VirtioFeature.bit(VirtioFeature.VERSION_1));
    }

    private NetClient(VhostUserFrontend frontend) throws IOException {
        this.frontend = frontend;
        for (int i = 0; i < RX_BUFFERS; i++) {
            rxBuffers[i] = frontend.allocate(BUFFER, 64);
            post(i);
        }
        kick(RX);
        txBuffer = frontend.allocate(BUFFER, 64);
    }

    /** The device's address, from the configuration space. */
    byte[] mac() throws IOException {
        return frontend.getConfig(0, 6);
    }

    /** Sends {@code frame} behind a zero header; returns once the device has taken it. */
    void send(byte[] frame) throws IOException {
        frontend.memory().write(txBuffer, new byte[HEADER], 0, HEADER);
        frontend.memory().write(txBuffer + HEADER, frame, 0, frame.length);
        if (!frontend.queue(TX).add(sg.clear().addReadable(txBuffer, HEADER + frame.length), 1, false)) {
            throw new IllegalStateException("transmit ring full");
        }
        kick(TX);
        if (await(TX, Duration.ofSeconds(10)) == DriverQueue.NO_TOKEN) {
            throw new IOException("frame not taken in 10 s; queue " + frontend.queue(TX).error());
        }
    }

    /** The next received frame (without its header), or null if none comes within {@code timeout}. */
    byte[] receive(Duration timeout) throws IOException {
        int token = await(RX, timeout);
        if (token == DriverQueue.NO_TOKEN) {
            return null;
        }
        int length = frontend.queue(RX).lastUsedLength();
        byte[] frame = new byte[length - HEADER];
        frontend.memory().read(rxBuffers[token] + HEADER, frame, 0, frame.length);
        post(token);
        kick(RX);
        return frame;
    }

    private void post(int token) {
        if (!frontend.queue(RX).add(sg.clear().addWritable(rxBuffers[token], BUFFER), token, false)) {
            throw new IllegalStateException("receive ring full");
        }
    }

    private void kick(int q) throws IOException {
        if (frontend.queue(q).kick()) {
            frontend.kick(q);
        }
    }

    /** The next used token of queue {@code q}, or NO_TOKEN after {@code timeout}. */
    private int await(int q, Duration timeout) throws IOException {
        DriverQueue queue = frontend.queue(q);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int token = queue.pollUsed();
            if (token != DriverQueue.NO_TOKEN || System.nanoTime() > deadline) {
                return token;
            }
            if (!queue.enableInterrupts()) {
                frontend.awaitCall(q, 20);
            }
        }
    }

    @Override
    public void close() {
        frontend.close();
    }
}
