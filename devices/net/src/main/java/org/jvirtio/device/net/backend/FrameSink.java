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

    /** Makes every frame received so far visible to the driver (and interrupts it if it asked). */
    void flush();
}
