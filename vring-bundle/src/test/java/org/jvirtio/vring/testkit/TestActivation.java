package org.jvirtio.vring.testkit;

import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DeviceQueue;

/** What a transport hands a device at DRIVER_OK, made of plain values, for device-model tests. */
public record TestActivation(long negotiatedFeatures, DeviceQueue[] queues, GuestMemory memory,
        DriverNotifier notifier) implements DeviceActivation {

    @Override
    public DeviceQueue queue(int index) {
        return index >= 0 && index < queues.length ? queues[index] : null;
    }
}
