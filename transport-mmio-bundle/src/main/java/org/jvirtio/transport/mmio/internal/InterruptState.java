package org.jvirtio.transport.mmio.internal;

import org.jvirtio.transport.mmio.MmioInterruptLine;

/**
 * The interrupt status bits and the level line they drive: the line is up exactly while some bit is
 * set. Raised from device threads, acknowledged from the register thread; one lock orders both, so
 * that a raise that races an acknowledgement never leaves the line down with a bit set (or up with
 * none). The line callback runs under that lock, which keeps its calls in order.
 */
public final class InterruptState {
    private final MmioInterruptLine line;
    private int bits;
    private boolean asserted;

    public InterruptState(MmioInterruptLine line) {
        this.line = line;
    }

    /** Sets {@code event} bits, raising the line if it was down. */
    public synchronized void raise(int event) {
        bits |= event;
        update();
    }

    /**
     * Clears {@code handled} bits, lowering the line once none is left.
     *
     * @return whether {@code handled} named only bits that were pending
     */
    public synchronized boolean acknowledge(int handled) {
        boolean known = (handled & ~bits) == 0;
        bits &= ~handled;
        update();
        return known;
    }

    public synchronized int bits() {
        return bits;
    }

    public synchronized boolean isAsserted() {
        return asserted;
    }

    /** Reset: every bit cleared, line down. */
    public synchronized void clear() {
        bits = 0;
        update();
    }

    private void update() {
        boolean want = bits != 0;
        if (want != asserted) {
            asserted = want;
            line.set(want);
        }
    }
}
