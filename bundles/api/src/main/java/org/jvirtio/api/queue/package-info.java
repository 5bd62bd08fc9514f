/**
 * Virtqueues as devices and drivers use them: the device side pops {@link org.jvirtio.api.queue.DescriptorChain}s
 * and completes them, the driver side adds scatter-gather lists and collects used buffers. Ring-format
 * independent: split and packed rings both implement these interfaces.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package org.jvirtio.api.queue;
