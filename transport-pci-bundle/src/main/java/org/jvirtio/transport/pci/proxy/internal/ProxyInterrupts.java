package org.jvirtio.transport.pci.proxy.internal;

import org.jvirtio.transport.pci.proxy.PciInterrupts;

/**
 * The {@link PciInterrupts} a function gets. INTx is a level the function asks for; what reaches the
 * guest also depends on the configuration space, which only the proxy's thread may read: the
 * Interrupt Line register (where firmware routed the pin) and the command register's INTx-disable
 * bit. The connection reports those after every configuration write ({@link #configure}); this class
 * drives the line that results, moving the level when the line moves.
 */
final class ProxyInterrupts implements PciInterrupts {
    /** Lines an IOAPIC has (pc and q35): an Interrupt Line outside it (0xff: not routed) drives nothing. */
    static final int LINES = 24;

    private final int source;
    private volatile InterruptDelivery delivery;
    private boolean requested;
    private int line = 0xff;
    private boolean disabled;
    /** The line held high now, or -1. */
    private int driven = -1;
    /** Ticket of a lowering not yet known to have reached the VMM, or 0. */
    private volatile long lowering;
    /** How long the proxy thread waits for a lowering before it answers the access that caused it. */
    static final long SETTLE_MILLIS = 50;

    ProxyInterrupts(int source, InterruptDelivery delivery) {
        this.source = source;
        this.delivery = delivery;
    }

    @Override
    public synchronized void setIntx(boolean asserted) {
        requested = asserted;
        update();
    }

    @Override
    public void sendMsi(long address, int data) {
        delivery.msi(address, data);
    }

    /** The Interrupt Line register and INTx-disable bit as the function now has them. */
    synchronized void configure(int interruptLine, boolean intxDisabled) {
        line = interruptLine;
        disabled = intxDisabled;
        update();
    }

    /** Moves the line to another delivery (SET_IRQFD gave a new irqfd), carrying its level over. */
    synchronized void deliverThrough(InterruptDelivery next) {
        int was = driven;
        if (was >= 0) {
            delivery.intx(source, was, false);
            driven = -1;
        }
        delivery = next;
        update();
    }

    /**
     * Called by the proxy thread before it answers a BAR access: if the access lowered the line (the
     * driver read the ISR), waits, briefly, until the VMM has seen the line fall. Answering first would
     * let the guest acknowledge the interrupt while the line is still high, and take it again, as a
     * spurious interrupt, until the lowering arrives. The wait is bounded because the access may come
     * from QEMU's main loop, which then cannot lower the line until we answer.
     */
    void settleLowering() {
        long ticket = lowering;
        if (ticket != 0) {
            lowering = 0;
            delivery.awaitDelivered(ticket, SETTLE_MILLIS);
        }
    }

    /** Whether the guest sees the line high now (for tests and the shell). */
    synchronized int drivenLine() {
        return driven;
    }

    private void update() {
        int want = requested && !disabled && line >= 0 && line < LINES ? line : -1;
        if (want == driven) {
            return;
        }
        InterruptDelivery d = delivery;
        if (driven >= 0) {
            long ticket = d.intx(source, driven, false);
            if (ticket != 0) {
                lowering = ticket;
            }
        }
        if (want >= 0) {
            d.intx(source, want, true);
        }
        driven = want;
    }
}
