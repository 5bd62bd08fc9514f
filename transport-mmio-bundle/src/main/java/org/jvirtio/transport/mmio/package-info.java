/**
 * virtio-mmio: {@link org.jvirtio.transport.mmio.VirtioMmioTransport} is the version 2 register model
 * (virtio 1.2 section 4.2.2) of one {@link org.jvirtio.api.device.VirtioDevice} over the guest's
 * memory, driven by plain {@code read(offset, size)} / {@code write(offset, size, value)} calls and
 * answering with a level interrupt line ({@link org.jvirtio.transport.mmio.MmioInterruptLine}), so a
 * VMM can embed it in-process or a proxy can serve it from a PCI BAR.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.2.0")
package org.jvirtio.transport.mmio;
