/**
 * Virtqueues for transports and front ends: {@link org.jvirtio.vring.Vrings} builds the device side or
 * the driver side of a split or packed ring from a {@link org.jvirtio.vring.QueueConfig}, checking every
 * driver-supplied address once, at set-up; {@link org.jvirtio.vring.PluggableQueue} is the stable queue a
 * transport hands a device, and {@link org.jvirtio.vring.QueueCounters} the per-queue counters every
 * transport keeps (1.3).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.3.0")
package org.jvirtio.vring;
