package org.jvirtio.device.net.backend;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Sends one transmit queue's frames. Used by one thread at a time.
 *
 * <p>The device calls {@link #transmit} (or {@link #transmitWithHeader}) for every frame of a batch
 * and {@link #flush} once at the end of the batch; a backend may hold deliveries back until the flush
 * (a switch makes the received frames visible to each destination once per batch), but not beyond it.
 */
@ConsumerType
public interface Transmitter {

    /**
     * Sends the frame between {@code frame}'s position and limit. The buffer is the device's and is
     * reused for the next frame: the backend copies what it keeps before it returns, and leaves the
     * position and limit as they were.
     */
    void transmit(ByteBuffer frame);

    /**
     * Sends a frame behind its {@link VnetHeader}: the header starts at the buffer's position, the
     * frame follows it up to the limit. The device calls this instead of {@link #transmit} only for a
     * backend that declares {@linkplain NetBackend#offloads() offloads}; the header then asks for no
     * offload the backend did not declare, and the device has checked its offsets against the frame.
     * Same buffer rules as {@link #transmit}. By default the header is skipped, which is right only
     * for a header that asks for nothing: a backend that declares offloads overrides this.
     *
     * @since 1.1
     */
    default void transmitWithHeader(ByteBuffer headerAndFrame) {
        int position = headerAndFrame.position();
        headerAndFrame.position(position + VnetHeader.SIZE);
        try {
            transmit(headerAndFrame);
        } finally {
            headerAndFrame.position(position);
        }
    }

    /** The end of a batch: whatever the frames of this batch caused is now visible. */
    void flush();
}
