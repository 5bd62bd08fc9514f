package org.jvirtio.transport.pci.proxy;

import org.osgi.annotation.versioning.ProviderType;

/**
 * How a PCI function interrupts the guest. The proxy delivers it: through KVM's irqfd where the VMM gave
 * one, otherwise (TCG) through QEMU's qtest socket. Safe to call from any thread.
 */
@ProviderType
public interface PciInterrupts {

    /** Raises ({@code true}) or lowers the function's INTx line (level-triggered). */
    void setIntx(boolean asserted);

    /**
     * Sends a message-signalled interrupt: the 32-bit {@code data} written to {@code address}, as the
     * guest programmed them into an MSI-X table entry.
     */
    void sendMsi(long address, int data);
}
