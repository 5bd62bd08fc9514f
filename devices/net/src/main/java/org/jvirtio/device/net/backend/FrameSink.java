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
     * @return false if the frame was dropped (no receive buffer, device stopped, frame too long,
     *         filtered out by the driver's receive filter): the sink has counted it; a backend may count
     *         it too but must not retry
     */
    boolean receive(ByteBuffer frame);

    /**
     * Delivers a frame behind its {@link VnetHeader} (header at the position, frame after it, up to the
     * limit; num_buffers is ignored). The header may ask for the offloads the device enabled with
     * {@link NetPort#enableReceiveOffloads} and no others; a header asking for more, or with offsets
     * beyond the frame, drops the frame (counted). Otherwise as {@link #receive}. The device does not
     * write into the buffer. By default a header that asks for nothing is skipped and any other drops
     * the frame: a sink that enables no offloads is never asked for more.
     *
     * @since 1.1
     */
    default boolean receiveWithHeader(ByteBuffer headerAndFrame) {
        int position = headerAndFrame.position();
        if ((headerAndFrame.get(position + VnetHeader.FLAGS) & VnetHeader.F_NEEDS_CSUM) != 0
                || headerAndFrame.get(position + VnetHeader.GSO_TYPE) != VnetHeader.GSO_NONE) {
            return false;
        }
        headerAndFrame.position(position + VnetHeader.SIZE);
        try {
            return receive(headerAndFrame);
        } finally {
            headerAndFrame.position(position);
        }
    }

    /**
     * Delivers {@code frames[0]} to {@code frames[count - 1]} in order, as {@link #receive(ByteBuffer)}
     * would one by one, until one is refused for lack of room: a receive queue then takes its lock once
     * for the batch instead of once per frame. The refused frame is counted as a single one would be;
     * the frames after it are not delivered (a full ring would refuse them too). A frame the driver's
     * filter does not want is counted and taken.
     *
     * @return the index of the refused frame, or {@code count} if all were taken
     * @since 1.1
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
