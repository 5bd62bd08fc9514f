package org.jvirtio.device.net;

import java.nio.ByteBuffer;

import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.queue.RxQueue;

/**
 * The device's side of its backend port: filters each frame as the driver asked ({@link RxFilter}),
 * checks the offload header a backend may deliver against what the driver enabled
 * ({@link ReceiveOffloads}), picks the receive queue and flushes them. One instance per activation, so a
 * backend still holding the sink of a reset device reaches stopped queues.
 *
 * <p>Steering: with one active pair everything goes to receiveq 0; after VQ_PAIRS_SET to N pairs a
 * frame goes to the queue its Ethernet addresses hash to, so one conversation stays on one queue (in
 * order) while different ones spread over the queues.
 */
final class ReceivePath implements FrameSink {
    private final RxQueue[] queues;
    private volatile int activePairs = 1;
    private volatile RxFilter filter;
    private volatile ReceiveOffloads offloads;

    ReceivePath(RxQueue[] queues, RxFilter filter, ReceiveOffloads offloads) {
        this.queues = queues;
        this.filter = filter;
        this.offloads = offloads;
    }

    void setActivePairs(int pairs) {
        activePairs = Math.min(pairs, queues.length);
    }

    RxFilter filter() {
        return filter;
    }

    /** Set on the control queue's thread only, so a read-modify-write of the filter needs no lock. */
    void setFilter(RxFilter next) {
        filter = next;
    }

    ReceiveOffloads offloads() {
        return offloads;
    }

    void setOffloads(ReceiveOffloads next) {
        offloads = next;
    }

    @Override
    public boolean receive(ByteBuffer frame) {
        RxQueue queue = queues[queueFor(frame, activePairs)];
        if (!filter.accepts(frame)) {
            queue.countDrop(NetCounter.RX_FILTERED);
            return false;
        }
        return queue.receive(frame);
    }

    @Override
    public boolean receiveWithHeader(ByteBuffer headerAndFrame) {
        int at = headerAndFrame.position();
        if (headerAndFrame.remaining() < NetHeader.SIZE) {
            queues[0].countDrop(NetCounter.RX_BAD_HEADER);
            return false;
        }
        headerAndFrame.position(at + NetHeader.SIZE);
        try {
            RxQueue queue = queues[queueFor(headerAndFrame, activePairs)];
            if (!filter.accepts(headerAndFrame)) {
                queue.countDrop(NetCounter.RX_FILTERED);
                return false;
            }
            int flags = offloads.flagsFor(headerAndFrame, at);
            if (flags < 0) {
                queue.countDrop(NetCounter.RX_BAD_HEADER);
                return false;
            }
            headerAndFrame.position(at);
            return queue.receiveWithHeader(headerAndFrame, flags);
        } finally {
            headerAndFrame.position(at);
        }
    }

    /**
     * One queue and nothing to filter: the whole batch under its lock at once. Otherwise each frame is
     * filtered and goes to its flow's queue; a frame the driver's filter does not want is counted and
     * taken (not handed back: no ring will ever want it), the first one refused for lack of room ends
     * the batch.
     */
    @Override
    public int receive(ByteBuffer[] frames, int count) {
        int pairs = activePairs;
        RxFilter wanted = filter;
        if (pairs <= 1 && wanted.acceptsAll()) {
            return queues[0].receive(frames, count);
        }
        for (int i = 0; i < count; i++) {
            RxQueue queue = queues[queueFor(frames[i], pairs)];
            if (!wanted.accepts(frames[i])) {
                queue.countDrop(NetCounter.RX_FILTERED);
            } else if (!queue.receive(frames[i])) {
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
