package org.jvirtio.device.net;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.NetBackend;
import org.jvirtio.device.net.backend.NetPort;
import org.jvirtio.device.net.backend.Transmitter;

/** Keeps a copy of every transmitted frame and lets a test deliver frames into the device. */
final class CapturingBackend implements NetBackend {
    final List<byte[]> sent = new CopyOnWriteArrayList<>();
    volatile FrameSink sink;
    volatile int flushes;
    volatile boolean closed;

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
                    public void flush() {
                        flushes++;
                    }
                };
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
}
