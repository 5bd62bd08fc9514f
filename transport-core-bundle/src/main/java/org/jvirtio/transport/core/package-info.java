/**
 * What the register-based transports (virtio-pci, virtio-mmio) share, with no register offset in it:
 * the device-status state machine ({@link org.jvirtio.transport.core.StatusMachine}), feature
 * negotiation through 32-bit windows ({@link org.jvirtio.transport.core.FeatureWindows}), a queue's
 * set-up registers ({@link org.jvirtio.transport.core.QueueSetup}), and serving the queues
 * ({@link org.jvirtio.transport.core.QueueService}: rings plugged into the vring bundle's
 * {@code PluggableQueue}, kicks served by a {@link org.jvirtio.transport.core.KickWorker} off the
 * register thread, a broken queue reported for DEVICE_NEEDS_RESET). A transport decodes its own
 * register layout into these calls and counts each refused access under its own names.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package org.jvirtio.transport.core;
