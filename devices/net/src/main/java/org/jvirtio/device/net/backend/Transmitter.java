package org.jvirtio.device.net.backend;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Sends one transmit queue's frames. Used by one thread at a time.
 *
 * <p>The device calls {@link #transmit} for every frame of a batch and {@link #flush} once at the end
 * of the batch; a backend may hold deliveries back until the flush (a switch makes the received frames
 * visible to each destination once per batch), but not beyond it.
 */
@ConsumerType
public interface Transmitter {

    /**
     * Sends the frame between {@code frame}'s position and limit. The buffer is the device's and is
     * reused for the next frame: the backend copies what it keeps before it returns, and leaves the
     * position and limit as they were.
     */
    void transmit(ByteBuffer frame);

    /** The end of a batch: whatever the frames of this batch caused is now visible. */
    void flush();
}
