package org.jvirtio.api.device;

import org.osgi.annotation.versioning.ProviderType;

/**
 * How a device interrupts its driver; the transport delivers it (eventfd call, irqfd, MSI-X message,
 * INTx with the ISR register). Safe to call from any thread.
 */
@ProviderType
public interface DriverNotifier {

    /** Used buffers are available on queue {@code index}. */
    void notifyUsed(int index);

    /** The device configuration changed (the transport bumps the config generation). */
    void notifyConfigChanged();

    /**
     * The device hit an error it cannot recover from without a reset (a broken queue, a failed
     * backend): the transport sets DEVICE_NEEDS_RESET and raises a configuration interrupt.
     */
    void deviceNeedsReset(String reason);
}
