package org.jvirtio.device.net.backend;

import java.util.Set;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Where a virtio-net device's frames go and come from: an L2 switch, a sink, a tap. A device attaches
 * when its driver starts it and closes the port when the driver resets it.
 *
 * <p>Frames are plain Ethernet frames (destination, source, ethertype, payload; no FCS). Nothing on
 * the path allocates per frame: the device hands frames over in a buffer it reuses, the backend
 * delivers them in a buffer it owns, and each side copies what it keeps.
 *
 * <p>A backend that declares {@linkplain #offloads() offloads} exchanges frames behind their
 * {@link VnetHeader} instead ({@link Transmitter#transmitWithHeader}, {@link FrameSink#receiveWithHeader}),
 * so a partial checksum or a 64 KiB TCP segment crosses the SPI as the driver wrote it and the other
 * side (a Linux TAP, a NIC) finishes it. A backend without offloads sees only finished frames: the
 * device completes checksums itself and offers the driver no segmentation.
 */
@ConsumerType
public interface NetBackend {

    /**
     * Attaches a device.
     *
     * @param sink where the backend delivers frames for this device; safe to call from any thread
     * @param mac  the device's address now (informational: a switch learns addresses from traffic)
     * @return the device's port; the device transmits through it and closes it when it stops
     * @throws RuntimeException if the backend cannot take a device now (a TAP that cannot be opened):
     *         the message names what failed; the device's activation fails with it
     */
    NetPort attach(FrameSink sink, byte[] mac);

    /**
     * The offloads this backend carries in {@link VnetHeader}s, both ways: it accepts transmitted
     * frames that leave this work undone, and can deliver such frames to a device that
     * {@linkplain NetPort#enableReceiveOffloads enabled} them. {@link NetOffload#TSO4} and
     * {@link NetOffload#TSO6} count only together with {@link NetOffload#CSUM}. None by default.
     *
     * @since 1.1
     */
    default Set<NetOffload> offloads() {
        return Set.of();
    }
}
