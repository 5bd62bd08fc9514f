package org.jvirtio.api.device;

import org.osgi.annotation.versioning.ConsumerType;

/** The driver side's way to notify (kick) a device: an eventfd write, a doorbell register store. */
@ConsumerType
@FunctionalInterface
public interface DeviceNotifier {

    /** Buffers are available on queue {@code index}. */
    void kick(int index);
}
