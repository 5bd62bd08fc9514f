package org.jvirtio.transport.pci.internal;

/**
 * The ISR status register (virtio 1.2 section 4.1.4.5): bit 0 a queue interrupt, bit 1 a configuration
 * change. Reading returns the bits and clears them, which is how an INTx driver acknowledges the
 * interrupt. Plain state under the {@link InterruptRouter}'s lock.
 */
final class IsrStatus {
    static final int QUEUE = 1;
    static final int CONFIG = 2;

    private int bits;

    void set(int bit) {
        bits |= bit;
    }

    boolean pending() {
        return bits != 0;
    }

    /** The bits, cleared by the read. */
    int readAndClear() {
        int v = bits;
        bits = 0;
        return v;
    }
}
