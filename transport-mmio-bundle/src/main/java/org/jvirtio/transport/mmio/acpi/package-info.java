/**
 * The ACPI side of virtio-mmio behind a PCI BAR: {@link org.jvirtio.transport.mmio.acpi.MmioSsdt} builds
 * an SSDT (AML encoded in Java, no ACPI compiler needed) that declares one {@code LNRO0005} device per
 * register window, for QEMU's {@code -acpitable file=...}.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.jvirtio.transport.mmio.acpi;
