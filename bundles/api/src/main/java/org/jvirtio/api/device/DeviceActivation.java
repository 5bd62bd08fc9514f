package org.jvirtio.api.device;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DeviceQueue;
import org.osgi.annotation.versioning.ProviderType;

/** What a transport gives a device at DRIVER_OK. */
@ProviderType
public interface DeviceActivation {

    /** The features the driver accepted (a subset of the offered ones). */
    long negotiatedFeatures();

    /** Queue {@code index}, or null if the driver did not enable it. */
    DeviceQueue queue(int index);

    /** The guest's memory (swappable: take {@link GuestMemory#snapshot()} per batch). */
    GuestMemory memory();

    /** How the device interrupts the driver. */
    DriverNotifier notifier();
}
