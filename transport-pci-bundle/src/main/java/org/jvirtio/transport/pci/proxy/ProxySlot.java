package org.jvirtio.transport.pci.proxy;

import java.util.Objects;

/**
 * One function to attach to a QEMU: the QEMU device id of its {@code x-pci-proxy-dev}, the PCI slot
 * (device number on bus 0, 1 to 31) and what builds the function.
 */
public record ProxySlot(String id, int slot, PciFunctionFactory factory) {

    public ProxySlot {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(factory, "factory");
        if (id.isEmpty() || !id.matches("[A-Za-z][A-Za-z0-9_.-]*")) {
            throw new IllegalArgumentException("not a QEMU device id: '" + id + "'");
        }
        if (slot < 1 || slot > 31) {
            throw new IllegalArgumentException("PCI slot " + slot + ", expected 1 to 31");
        }
    }
}
