/**
 * What the register-based transports (virtio-pci, virtio-mmio) share, with no register offset in it:
 * the device-status state machine ({@link org.jvirtio.transport.core.StatusMachine}), feature
 * negotiation through 32-bit windows ({@link org.jvirtio.transport.core.FeatureWindows}), a queue's
 * set-up registers ({@link org.jvirtio.transport.core.QueueSetup}) and the thread that serves kicks off
 * the register thread ({@link org.jvirtio.transport.core.KickWorker}). A transport decodes its own
 * register layout into these calls and counts each refused access under its own names.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.jvirtio.transport.core;
