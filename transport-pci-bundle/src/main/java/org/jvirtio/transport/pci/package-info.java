/**
 * The virtio-pci modern transport (virtio 1.2 section 4.1): {@link org.jvirtio.transport.pci.VirtioPciFunction}
 * serves one {@link org.jvirtio.api.device.VirtioDevice} as a PCI function, which a proxy
 * ({@link org.jvirtio.transport.pci.proxy}) serves to a VMM.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package org.jvirtio.transport.pci;
