/**
 * The SPI device bundles implement ({@link org.jvirtio.api.device.VirtioDevice}) and what a transport
 * hands a device when the driver sets DRIVER_OK: negotiated features, queues, memory, interrupts.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.4.0")
package org.jvirtio.api.device;
