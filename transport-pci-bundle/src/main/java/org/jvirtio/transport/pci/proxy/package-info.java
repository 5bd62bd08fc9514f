/**
 * Serving one PCI function to a VMM through a proxy: QEMU's multi-process proxy device
 * ({@code -device x-pci-proxy-dev}) forwards the configuration-space and BAR accesses of its slot over a
 * UNIX socket. A {@link org.jvirtio.transport.pci.proxy.PciFunction} answers them; the proxy gives it
 * the guest's memory and a way to interrupt ({@link org.jvirtio.transport.pci.proxy.PciInterrupts}).
 * The virtio-pci transport is one such function; the virtio-mmio transport serves its register windows
 * from the BAR of another.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.2.0")
package org.jvirtio.transport.pci.proxy;
