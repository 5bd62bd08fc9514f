package org.jvirtio.device.net.backend;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The receiving side of a device, as its backend sees it: the device implements it and writes each
 * frame straight into the driver's receive buffers.
 *
 * <p>Safe to call from any thread at the same time (a switch delivers on the sending port's thread).
 * A backend never holds a lock of its own while it calls a sink, so that two ports sending to each
 * other cannot deadlock.
 */
@ProviderType
public interface FrameSink {

    /**
     * Delivers the Ethernet frame between {@code frame}'s position and limit. The sink copies it before
     * it returns and leaves the position and limit as they were; the backend may reuse the buffer.
     * Nothing is visible to the driver before {@link #flush()}.
     *
     * @return false if the frame was dropped (no receive buffer, device stopped, frame too long): the
     *         sink has counted it; a backend may count it too but must not retry
     */
    boolean receive(ByteBuffer frame);

    /**
     * Delivers {@code frames[0]} to {@code frames[count - 1]} in order, as {@link #receive(ByteBuffer)}
     * would one by one, until one is dropped: a receive queue then takes its lock once for the batch
     * instead of once per frame. The dropped frame is counted as a single one would be; the frames after
     * it are not delivered (a full ring would drop them too).
     *
     * @return the index of the dropped frame, or {@code count} if all were taken
     */
    default int receive(ByteBuffer[] frames, int count) {
        for (int i = 0; i < count; i++) {
            if (!receive(frames[i])) {
                return i;
            }
        }
        return count;
    }

    /** Makes every frame received so far visible to the driver (and interrupts it if it asked). */
    void flush();
}
