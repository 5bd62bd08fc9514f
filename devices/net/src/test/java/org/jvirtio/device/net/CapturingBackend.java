package org.jvirtio.device.net;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.NetBackend;
import org.jvirtio.device.net.backend.NetOffload;
import org.jvirtio.device.net.backend.NetPort;
import org.jvirtio.device.net.backend.Transmitter;

/**
 * Keeps a copy of every transmitted frame (and of its header, when it declares offloads) and lets a
 * test deliver frames into the device, with or without a header.
 */
final class CapturingBackend implements NetBackend {
    final List<byte[]> sent = new CopyOnWriteArrayList<>();
    /** The header of each frame in {@link #sent} that came with one. */
    final List<byte[]> sentHeaders = new CopyOnWriteArrayList<>();
    /** Every set of receive offloads the device enabled, in order. */
    final List<Set<NetOffload>> enabled = new CopyOnWriteArrayList<>();
    private final Set<NetOffload> offloads;
    volatile FrameSink sink;
    volatile int flushes;
    volatile boolean closed;

    CapturingBackend() {
        this(Set.of());
    }

    CapturingBackend(Set<NetOffload> offloads) {
        this.offloads = offloads;
    }

    @Override
    public Set<NetOffload> offloads() {
        return offloads;
    }

    @Override
    public NetPort attach(FrameSink sink, byte[] mac) {
        this.sink = sink;
        closed = false;
        return new NetPort() {
            @Override
            public Transmitter newTransmitter() {
                return new Transmitter() {
                    @Override
                    public void transmit(ByteBuffer frame) {
                        byte[] copy = new byte[frame.remaining()];
                        frame.get(frame.position(), copy);
                        sent.add(copy);
                    }

                    @Override
                    public void transmitWithHeader(ByteBuffer headerAndFrame) {
                        byte[] header = new byte[NetHeader.SIZE];
                        headerAndFrame.get(headerAndFrame.position(), header);
                        byte[] frame = new byte[headerAndFrame.remaining() - NetHeader.SIZE];
                        headerAndFrame.get(headerAndFrame.position() + NetHeader.SIZE, frame);
                        sentHeaders.add(header);
                        sent.add(frame);
                    }

                    @Override
                    public void flush() {
                        flushes++;
                    }
                };
            }

            @Override
            public void enableReceiveOffloads(Set<NetOffload> offloads) {
                enabled.add(Set.copyOf(offloads));
            }

            @Override
            public void close() {
                closed = true;
            }
        };
    }

    /** Delivers {@code frame} as one batch; false if the device dropped it. */
    boolean deliver(byte[] frame) {
        ByteBuffer b = ByteBuffer.wrap(frame);
        boolean accepted = sink.receive(b);
        sink.flush();
        if (b.position() != 0 || b.limit() != frame.length) {
            throw new AssertionError("the sink moved the frame's position or limit");
        }
        return accepted;
    }

    /** Delivers {@code headerAndFrame} (a 12-byte virtio-net header, then the frame) as one batch. */
    boolean deliverWithHeader(byte[] headerAndFrame) {
        ByteBuffer b = ByteBuffer.wrap(headerAndFrame);
        boolean accepted = sink.receiveWithHeader(b);
        sink.flush();
        if (b.position() != 0 || b.limit() != headerAndFrame.length) {
            throw new AssertionError("the sink moved the buffer's position or limit");
        }
        return accepted;
    }
}
