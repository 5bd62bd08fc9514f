package org.jvirtio.vring;

import org.jvirtio.api.queue.DeviceQueue;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The device side of a ring as a transport sees it: a {@link DeviceQueue} plus the ring positions a
 * transport saves and restores (vhost-user GET/SET_VRING_BASE, a device handed from one instance to
 * the next).
 *
 * <p>Positions are encoded as vhost-user encodes them: the 16-bit index for split rings; for packed
 * rings the 15-bit index with the wrap counter in bit 15.
 */
@ProviderType
public interface DeviceVring extends DeviceQueue {

    /** Where the device will look for the next available buffer. */
    int availPosition();

    /** Where the device will write the next used element (after everything added is published). */
    int usedPosition();

    /** Chains popped and not yet used (held by the device). */
    int inFlight();

    /** Whether this is a packed ring. */
    boolean isPacked();
}
