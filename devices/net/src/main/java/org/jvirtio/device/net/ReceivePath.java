package org.jvirtio.device.net;

import java.nio.ByteBuffer;

import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.queue.RxQueue;

/**
 * The device's side of its backend port: picks the receive queue for each frame and flushes them. One
 * instance per activation, so a backend still holding the sink of a reset device reaches stopped queues.
 *
 * <p>Steering: with one active pair everything goes to receiveq 0; after VQ_PAIRS_SET to N pairs a
 * frame goes to the queue its Ethernet addresses hash to, so one conversation stays on one queue (in
 * order) while different ones spread over the queues.
 */
final class ReceivePath implements FrameSink {
    private final RxQueue[] queues;
    private volatile int activePairs = 1;

    ReceivePath(RxQueue[] queues) {
        this.queues = queues;
    }

    void setActivePairs(int pairs) {
        activePairs = Math.min(pairs, queues.length);
    }

    @Override
    public boolean receive(ByteBuffer frame) {
        return queues[queueFor(frame, activePairs)].receive(frame);
    }

    /** One queue: the whole batch under its lock at once; several: each frame to its flow's queue. */
    @Override
    public int receive(ByteBuffer[] frames, int count) {
        int pairs = activePairs;
        if (pairs <= 1) {
            return queues[0].receive(frames, count);
        }
        for (int i = 0; i < count; i++) {
            if (!queues[queueFor(frames[i], pairs)].receive(frames[i])) {
                return i;
            }
        }
        return count;
    }

    @Override
    public void flush() {
        for (RxQueue q : queues) {
            q.flush();
        }
    }

    void stop() {
        for (RxQueue q : queues) {
            q.stop();
        }
    }

    /** The receive queue of {@code frame}'s flow among the first {@code pairs}. */
    static int queueFor(ByteBuffer frame, int pairs) {
        if (pairs <= 1 || frame.remaining() < NetHeader.ETH_HEADER) {
            return 0;
        }
        int at = frame.position();
        // destination and source, order-independent, so both directions of a conversation agree; read
        // byte by byte, so the buffer's byte order does not matter
        long a = 0;
        long b = 0;
        for (int i = 0; i < 6; i++) {
            a = a << 8 | (frame.get(at + i) & 0xFF);
            b = b << 8 | (frame.get(at + 6 + i) & 0xFF);
        }
        long h = (a ^ b) * 0x9E37_79B9_7F4A_7C15L;
        return (int) ((h >>> 32) % pairs);
    }
}
