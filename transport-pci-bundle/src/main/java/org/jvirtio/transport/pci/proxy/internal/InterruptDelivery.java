package org.jvirtio.transport.pci.proxy.internal;

/**
 * Where a function's interrupts go: QEMU's qtest socket under TCG ({@link QtestDelivery}), KVM's
 * irqfd otherwise ({@link IrqfdDelivery}). Neither method may block on the VMM: the caller may be
 * the connection's thread, which QEMU is waiting for.
 */
public interface InterruptDelivery {

    /**
     * Drives interrupt line {@code line} (the Interrupt Line register's value) for source
     * {@code source}; a line shared by several functions is high while any of them holds it high.
     */
    void intx(int source, int line, boolean level);

    /** Performs the MSI write of {@code data} to {@code address}. */
    void msi(long address, int data);
}
