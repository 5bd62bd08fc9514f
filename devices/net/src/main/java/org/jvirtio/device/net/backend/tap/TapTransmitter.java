package org.jvirtio.device.net.backend.tap;

import java.nio.ByteBuffer;

import org.jvirtio.device.net.backend.Transmitter;
import org.jvirtio.device.net.backend.VnetHeader;
import org.jvirtio.nativeio.NativeException;
import org.jvirtio.nativeio.Tap;

/**
 * Writes one transmit queue's frames to the TAP, one write each, without blocking: when the kernel
 * would block the frame is dropped and counted, as a NIC drops on a full ring; a frame the kernel
 * refuses is counted as an error. Neither stops the queue. A frame in a direct buffer (the device's
 * staging buffer is one) goes to the kernel as it is; others are copied once into a buffer this
 * transmitter reuses. Nothing is held back, so flush has nothing to do.
 */
final class TapTransmitter implements Transmitter {
    private final Tap tap;
    private final TapPort port;
    private ByteBuffer copy;

    TapTransmitter(Tap tap, TapPort port) {
        this.tap = tap;
        this.port = port;
    }

    /** A plain frame: it goes out behind a header of zeros, which asks the kernel for nothing. */
    @Override
    public void transmit(ByteBuffer frame) {
        ByteBuffer out = copyBuffer();
        out.clear();
        for (int i = 0; i < VnetHeader.SIZE; i++) {
            out.put(i, (byte) 0);
        }
        out.put(VnetHeader.SIZE, frame, frame.position(), frame.remaining());
        out.limit(VnetHeader.SIZE + frame.remaining());
        write(out);
    }

    @Override
    public void transmitWithHeader(ByteBuffer headerAndFrame) {
        if (headerAndFrame.isDirect()) {
            int position = headerAndFrame.position();
            try {
                write(headerAndFrame);
            } finally {
                headerAndFrame.position(position);
            }
            return;
        }
        ByteBuffer out = copyBuffer();
        out.clear();
        out.put(0, headerAndFrame, headerAndFrame.position(), headerAndFrame.remaining());
        out.limit(headerAndFrame.remaining());
        write(out);
    }

    private void write(ByteBuffer headerAndFrame) {
        try {
            if (tap.write(headerAndFrame) == 0) {
                port.txDropped.increment();
            } else {
                port.txFrames.increment();
            }
        } catch (NativeException | IllegalStateException e) {
            port.txErrors.increment(); // EINVAL for a header the kernel rejects, EIO while the link is down
        }
    }

    /** Made on first use: only frames from a heap buffer need it. */
    private ByteBuffer copyBuffer() {
        if (copy == null) {
            copy = ByteBuffer.allocateDirect(VnetHeader.SIZE + VnetHeader.MAX_GSO_FRAME);
        }
        return copy;
    }

    @Override
    public void flush() {
        // every frame was written as it came
    }
}
