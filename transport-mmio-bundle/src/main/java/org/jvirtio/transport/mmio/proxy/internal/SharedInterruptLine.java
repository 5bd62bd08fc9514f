package org.jvirtio.transport.mmio.proxy.internal;

import org.jvirtio.transport.mmio.MmioInterruptLine;
import org.jvirtio.transport.pci.proxy.PciInterrupts;

/**
 * The function's INTx pin as the wired OR of its windows' level lines (the SSDT declares the same
 * shared, level, active-high interrupt for every window; virtio_mmio reads InterruptStatus to learn
 * whether the interrupt was its window's). The pin is raised when the first window asserts and lowered
 * when the last one deasserts.
 *
 * <p>Windows change their lines from different threads (queue threads, vCPU accesses). The asserted
 * set and the call to {@link PciInterrupts#setIntx} are made under one lock, so two changes cannot
 * reach the VMM in the opposite order of the set they describe (a lowering overtaking the raise after it
 * would leave the pin low with an interrupt pending). Each window calls here under its own interrupt
 * lock and this lock is taken last, so there is no lock cycle.
 */
final class SharedInterruptLine {
    private final PciInterrupts interrupts;
    private final Object lock = new Object();
    /** Bit i: window i's line is asserted. Written under {@link #lock}; read by config reads. */
    private volatile long asserted;
    private long raises;

    SharedInterruptLine(PciInterrupts interrupts) {
        this.interrupts = interrupts;
    }

    /** The line window {@code index} (0 to 63) drives. */
    MmioInterruptLine window(int index) {
        if (index < 0 || index >= Long.SIZE) {
            throw new IllegalArgumentException("window " + index + ", expected 0 to 63");
        }
        long bit = 1L << index;
        return level -> set(bit, level);
    }

    private void set(long bit, boolean level) {
        synchronized (lock) {
            long before = asserted;
            long after = level ? before | bit : before & ~bit;
            asserted = after;
            if ((before == 0) != (after == 0)) {
                if (after != 0) {
                    raises++;
                }
                interrupts.setIntx(after != 0);
            }
        }
    }

    /** Whether any window asserts its line: the pin's level, and the status register's interrupt bit. */
    boolean isAsserted() {
        return asserted != 0;
    }

    /** How often the pin went from low to high. */
    long raises() {
        synchronized (lock) {
            return raises;
        }
    }
}
