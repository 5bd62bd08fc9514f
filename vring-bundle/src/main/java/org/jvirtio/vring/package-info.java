/**
 * Virtqueues for transports and front ends: {@link org.jvirtio.vring.Vrings} builds the device side or
 * the driver side of a split or packed ring from a {@link org.jvirtio.vring.QueueConfig}, checking every
 * driver-supplied address once, at set-up.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.2.0")
package org.jvirtio.vring;
