package org.jvirtio.device.net.backend;

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
     * Detaches: the backend delivers nothing more to the device's sink. A delivery already under way
     * on another thread may still reach it; the device stops its receive queues itself.
     */
    @Override
    void close();
}
