package org.jvirtio.device.net.backend;

import java.util.Set;

import org.osgi.annotation.versioning.ConsumerType;

/** One device's attachment to a {@link NetBackend}. */
@ConsumerType
public interface NetPort extends AutoCloseable {

    /**
     * A transmitter for one transmit queue. Each transmitter is used by one thread at a time, so it can
     * keep per-batch state without locks; a device with several queues takes one per queue.
     */
    Transmitter newTransmitter();

    /**
     * Which of the backend's {@linkplain NetBackend#offloads() offloads} the device's driver takes in
     * received frames (GUEST_CSUM, GUEST_TSO4/6 as negotiated, or as the driver last set them with
     * GUEST_OFFLOADS_SET). Frames delivered after this returns ask for no other offload; until the first
     * call, for none. Called on the device's control thread; does nothing by default.
     *
     * @since 1.1
     */
    default void enableReceiveOffloads(Set<NetOffload> offloads) {
    }

    /**
     * Detaches: the backend delivers nothing more to the device's sink. A delivery already under way
     * on another thread may still reach it; the device stops its receive queues itself.
     */
    @Override
    void close();
}
