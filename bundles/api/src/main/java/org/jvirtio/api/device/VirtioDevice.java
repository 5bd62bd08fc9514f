package org.jvirtio.api.device;

import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A virtio device model, as a transport sees it. Device bundles implement this (usually by extending
 * {@link AbstractVirtioDevice}); transports never know the device type beyond {@link #deviceId()}.
 * A transport calls these methods from one thread at a time per device, unless the device says its
 * queues are independent ({@link #servesQueuesConcurrently()}).
 */
@ConsumerType
public interface VirtioDevice {

    /** The virtio device id ({@link org.jvirtio.api.VirtioDeviceId}). */
    int deviceId();

    /** Number of virtqueues the device offers. */
    int queueCount();

    /** The largest size queue {@code index} may have. */
    int queueMaxSize(int index);

    /** Every feature bit the device offers, device-independent ones included. */
    long offeredFeatures();

    /** Bytes of device configuration space. */
    int configSize();

    /** Reads configuration space; bytes past {@link #configSize()} read as zero. */
    void readConfig(int offset, byte[] dst, int dstOffset, int length);

    /** Writes configuration space; bytes outside the writable fields are ignored. */
    void writeConfig(int offset, byte[] src, int srcOffset, int length);

    /**
     * Starts the device: the driver has set DRIVER_OK.
     *
     * @throws DeviceActivationException if the device cannot run with what was negotiated; the
     *         transport then sets DEVICE_NEEDS_RESET
     */
    void activate(DeviceActivation activation);

    /** The driver notified (kicked) queue {@code index}. */
    void queueNotified(int index);

    /**
     * Whether {@link #queueNotified} may run for different queues at the same time (each queue still
     * on one thread at a time), and {@link #readConfig} / {@link #writeConfig} while queues are served.
     * A device whose queues share nothing mutable says so and gets a thread per queue from transports
     * that have one; {@link #activate} and {@link #reset} still never overlap anything. The default
     * keeps every call one at a time.
     */
    default boolean servesQueuesConcurrently() {
        return false;
    }

    /** Stops the device and forgets all driver state; the device may be activated again. */
    void reset();

    /**
     * The device model's counters by name (requests, errors by reason, ...), summed over its queues,
     * for the shell and JMX. Read from any thread: a value may lag behind by the requests in progress.
     *
     * @since 1.3
     */
    default Map<String, Long> counters() {
        return Map.of();
    }
}
