package org.jvirtio.api.management;

import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A device as its transport serves it, registered as a service (with the device's {@code jvirtio.id}
 * as a service property) for as long as the transport runs.
 */
@ProviderType
public interface ServedDevice {

    /** The service property naming the device. */
    String ID = "jvirtio.id";

    /** The device's name ({@code jvirtio.id}). */
    String id();

    /** The virtio device id ({@link org.jvirtio.api.VirtioDeviceId}), 0 while no device is there. */
    int deviceType();

    /** The transport's name, e.g. {@code vhost-user}. */
    String transport();

    /** Where the transport meets its driver, e.g. the socket path. */
    String address();

    /** What the transport is doing: {@code waiting} (no driver), {@code connected}, {@code running}, {@code needs-reset}. */
    String state();

    /** The features the driver accepted; 0 before it did. */
    long negotiatedFeatures();

    /** Queues of the device. */
    int queueCount();

    /** Counters of queue {@code index} since the transport started, across connections. */
    QueueStatistics queueStatistics(int index);

    /** The device model's own counters (errors by reason, frames, ...), by name; summed over its queues. */
    Map<String, Long> deviceCounters();

    /**
     * Resets the device as the driver would see a back end restart: the transport ends the driver's
     * connection; a driver that reconnects (QEMU with {@code reconnect=N}) negotiates afresh.
     */
    void reset();
}
