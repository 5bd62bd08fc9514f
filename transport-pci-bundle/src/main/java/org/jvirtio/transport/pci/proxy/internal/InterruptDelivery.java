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
     *
     * @return a ticket for {@link #awaitDelivered}, or 0 if the change took effect already
     */
    long intx(int source, int line, boolean level);

    /** Performs the MSI write of {@code data} to {@code address}. */
    void msi(long address, int data);

    /**
     * Waits until the change that returned {@code ticket} has reached the VMM, or {@code timeoutMillis}
     * passed. Bounded: the VMM may itself be waiting for the caller.
     */
    default void awaitDelivered(long ticket, long timeoutMillis) {
    }
}
