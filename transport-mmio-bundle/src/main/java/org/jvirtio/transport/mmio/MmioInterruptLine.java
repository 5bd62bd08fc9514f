package org.jvirtio.transport.mmio;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * The device's level-triggered interrupt line, as the VMM wires it (an IOAPIC pin, a GIC SPI, a qtest
 * {@code set_irq_in}). The model calls it only on a change: asserted when InterruptStatus becomes
 * non-zero, deasserted when InterruptACK clears the last bit (or a reset clears them all). Calls are
 * ordered (never a raise overtaking a lower) because they are made under the model's interrupt lock:
 * the callback must return without calling back into the model.
 */
@ConsumerType
@FunctionalInterface
public interface MmioInterruptLine {

    void set(boolean asserted);
}
