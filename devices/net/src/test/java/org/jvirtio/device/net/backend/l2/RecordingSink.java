package org.jvirtio.device.net.backend.l2;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.jvirtio.device.net.backend.FrameSink;

/** A port's far end in switch tests: keeps copies of what it receives, or refuses everything. */
final class RecordingSink implements FrameSink {
    final List<byte[]> received = new CopyOnWriteArrayList<>();
    volatile boolean full;
    volatile int flushes;

    @Override
    public boolean receive(ByteBuffer frame) {
        if (full) {
            return false;
        }
        byte[] copy = new byte[frame.remaining()];
        frame.get(frame.position(), copy);
        received.add(copy);
        return true;
    }

    @Override
    public void flush() {
        flushes++;
    }
}
