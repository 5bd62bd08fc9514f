/**
 * virtio-mmio through a VMM's PCI proxy: {@link org.jvirtio.transport.mmio.proxy.VirtioMmioSlot} serves
 * virtio-mmio register windows from the BAR of a PCI function that no PCI driver claims, for guests that
 * find the windows through jvirtio's SSDT ({@link org.jvirtio.transport.mmio.acpi.MmioSsdt}).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.jvirtio.transport.mmio.proxy;
