package org.jvirtio.device.net.backend;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Where a virtio-net device's frames go and come from: an L2 switch, a sink, a tap. A device attaches
 * when its driver starts it and closes the port when the driver resets it.
 *
 * <p>Frames are plain Ethernet frames (destination, source, ethertype, payload; no virtio header, no
 * FCS). Nothing on the path allocates per frame: the device hands frames over in a buffer it reuses,
 * the backend delivers them in a buffer it owns, and each side copies what it keeps.
 */
@ConsumerType
public interface NetBackend {

    /**
     * Attaches a device.
     *
     * @param sink where the backend delivers frames for this device; safe to call from any thread
     * @param mac  the device's address now (informational: a switch learns addresses from traffic)
     * @return the device's port; the device transmits through it and closes it when it stops
     */
    NetPort attach(FrameSink sink, byte[] mac);
}
