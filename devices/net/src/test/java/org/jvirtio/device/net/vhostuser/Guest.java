package org.jvirtio.device.net.vhostuser;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.net.NetHeader;
import org.jvirtio.transport.vhostuser.VhostUserFrontend;

/**
 * A virtio-net driver over a {@link VhostUserFrontend}: posts receive buffers on queue 0, sends frames
 * on queue 1 (or another transmit queue), sends control commands on the control queue, and puts received frames back together from the
 * chains num_buffers says they span. One thread only, like the front end.
 */
final class Guest {
    private static final long TIMEOUT_NANOS = 10_000_000_000L;

    private final VhostUserFrontend fe;
    private final boolean mergeable;
    private final int rxBufferSize;
    private final long[] rxBuffers;
    private final long txBuffer;
    private final long ctrlBuffer;
    private final ScatterGatherList sg = new ScatterGatherList(2);

    private final int ctrlQueue;

    Guest(VhostUserFrontend fe, boolean mergeable, int rxBufferSize) throws IOException {
        this(fe, mergeable, rxBufferSize, 2);
    }

    /** @param ctrlQueue the control queue's index (2 pairs with MQ: 4) */
    Guest(VhostUserFrontend fe, boolean mergeable, int rxBufferSize, int ctrlQueue) throws IOException {
        this.fe = fe;
        this.ctrlQueue = ctrlQueue;
        this.mergeable = mergeable;
        this.rxBufferSize = rxBufferSize;
        int slots = fe.queue(0).size();
        rxBuffers = new long[slots];
        for (int i = 0; i < slots; i++) {
            rxBuffers[i] = fe.allocate(rxBufferSize, 64);
            assertThat(fe.queue(0).add(sg.clear().addWritable(rxBuffers[i], rxBufferSize), i, false)).isTrue();
        }
        kick(0);
        txBuffer = fe.allocate(NetHeader.SIZE + 65536, 64);
        ctrlBuffer = fe.allocate(64, 64);
    }

    private void kick(int q) throws IOException {
        if (fe.queue(q).kick()) {
            fe.kick(q);
        }
    }

    /** Waits for the next used buffer of queue {@code q}; returns its token. */
    private int awaitUsed(int q) throws IOException {
        DriverQueue queue = fe.queue(q);
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (true) {
            int token = queue.pollUsed();
            if (token != DriverQueue.NO_TOKEN) {
                return token;
            }
            assertThat(queue.error()).isEqualTo(QueueError.NONE);
            assertThat(System.nanoTime() - deadline).as("used buffer on queue %d in time", q).isNegative();
            if (!queue.enableInterrupts()) {
                fe.awaitCall(q, 50);
            }
        }
    }

    /** Sends one frame on transmitq 1 behind a zero header and waits until the device has used the chain. */
    void send(byte[] frame) throws IOException {
        send(1, frame);
    }

    /** Sends one frame on transmit queue {@code q}. */
    void send(int q, byte[] frame) throws IOException {
        send(q, new byte[NetHeader.SIZE], frame);
    }

    /** Sends one frame behind {@code header} (12 bytes) on transmit queue {@code q}. */
    void send(int q, byte[] header, byte[] frame) throws IOException {
        fe.memory().write(txBuffer, header, 0, NetHeader.SIZE);
        fe.memory().write(txBuffer + NetHeader.SIZE, frame, 0, frame.length);
        assertThat(fe.queue(q).add(sg.clear().addReadable(txBuffer, NetHeader.SIZE + frame.length), 7, false)).isTrue();
        kick(q);
        assertThat(awaitUsed(q)).isEqualTo(7);
        assertThat(fe.queue(q).lastUsedLength()).isZero();
    }

    /** Sends a control command; returns the ack. */
    int control(int cls, int cmd, byte[] data) throws IOException {
        byte[] c = new byte[2 + data.length];
        c[0] = (byte) cls;
        c[1] = (byte) cmd;
        System.arraycopy(data, 0, c, 2, data.length);
        fe.memory().write(ctrlBuffer, c, 0, c.length);
        fe.memory().putByte(ctrlBuffer + 63, (byte) 0x7F);
        assertThat(fe.queue(ctrlQueue).add(sg.clear().addReadable(ctrlBuffer, c.length)
                .addWritable(ctrlBuffer + 63, 1), 3, false)).isTrue();
        kick(ctrlQueue);
        assertThat(awaitUsed(ctrlQueue)).isEqualTo(3);
        assertThat(fe.queue(ctrlQueue).lastUsedLength()).isEqualTo(1);
        return fe.memory().getByte(ctrlBuffer + 63);
    }

    /** Whether a used receive buffer is waiting now (the device publishes before it completes the sender's chain). */
    boolean hasReceived() {
        return peekUsed();
    }

    private int peeked = DriverQueue.NO_TOKEN;
    private int peekedLength;

    private boolean peekUsed() {
        if (peeked == DriverQueue.NO_TOKEN) {
            peeked = fe.queue(0).pollUsed();
            peekedLength = fe.queue(0).lastUsedLength();
        }
        return peeked != DriverQueue.NO_TOKEN;
    }

    private int nextRx() throws IOException {
        if (peeked != DriverQueue.NO_TOKEN) {
            int t = peeked;
            peeked = DriverQueue.NO_TOKEN;
            return t;
        }
        int t = awaitUsed(0);
        peekedLength = fe.queue(0).lastUsedLength();
        return t;
    }

    /** Takes the next received frame (without its header, which must ask for nothing), gives its buffers back. */
    byte[] receive() throws IOException {
        byte[] headerAndFrame = receiveWithHeader();
        assertThat(headerAndFrame).startsWith(new byte[NetHeader.NUM_BUFFERS]); // no checksum or GSO information
        return java.util.Arrays.copyOfRange(headerAndFrame, NetHeader.SIZE, headerAndFrame.length);
    }

    /** Takes the next received frame behind its 12-byte header, gives its buffers back to the device. */
    byte[] receiveWithHeader() throws IOException {
        int token = nextRx();
        int length = peekedLength;
        byte[] first = new byte[length];
        fe.memory().read(rxBuffers[token], first, 0, length);
        int numBuffers = ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN).getShort(NetHeader.NUM_BUFFERS) & 0xFFFF;
        if (!mergeable) {
            assertThat(numBuffers).isEqualTo(1);
        }
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write(first, 0, length);
        repost(token);
        for (int i = 1; i < numBuffers; i++) {
            int t = nextRx();
            byte[] more = new byte[peekedLength];
            fe.memory().read(rxBuffers[t], more, 0, more.length);
            frame.writeBytes(more);
            repost(t);
        }
        kick(0);
        return frame.toByteArray();
    }

    private void repost(int token) {
        assertThat(fe.queue(0).add(sg.clear().addWritable(rxBuffers[token], rxBufferSize), token, false)).isTrue();
    }
}
