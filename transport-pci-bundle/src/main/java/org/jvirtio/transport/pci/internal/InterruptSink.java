package org.jvirtio.transport.pci.internal;

/**
 * How the transport-neutral device state reaches the driver: the transport maps a queue or the
 * configuration to its interrupt (MSI-X vector, INTx with an ISR bit, an MMIO InterruptStatus bit).
 * Called from any thread.
 */
public interface InterruptSink {

    /** Used buffers on queue {@code index}. */
    void queueInterrupt(int index);

    /** The configuration changed, or the device needs a reset. */
    void configInterrupt();
}
