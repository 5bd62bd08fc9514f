package org.jvirtio.transport.pci.proxy;

import org.jvirtio.api.memory.GuestMemory;
import org.osgi.annotation.versioning.ConsumerType;

/** Builds the function a proxy serves, once the proxy knows the guest's memory and interrupt route. */
@ConsumerType
@FunctionalInterface
public interface PciFunctionFactory {

    /**
     * @param memory the guest's memory; swappable: the proxy replaces the map on every SYNC_SYSMEM,
     *        so take {@link GuestMemory#snapshot()} per batch
     * @param interrupts how the function interrupts the guest
     */
    PciFunction create(GuestMemory memory, PciInterrupts interrupts);
}
