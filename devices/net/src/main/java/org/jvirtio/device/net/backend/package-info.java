/**
 * What carries a virtio-net device's frames: {@link org.jvirtio.device.net.backend.NetBackend}. The
 * device attaches to a backend with a {@link org.jvirtio.device.net.backend.FrameSink} of its own and
 * transmits through the {@link org.jvirtio.device.net.backend.NetPort} it gets back. Backend bundles
 * implement the backend and register it as a service; the device model finds it by service filter.
 *
 * <p>1.1 added offloads, all as default methods: a backend declares what it carries
 * ({@link org.jvirtio.device.net.backend.NetBackend#offloads()}, {@link org.jvirtio.device.net.backend.NetOffload}),
 * and frames then cross behind their {@link org.jvirtio.device.net.backend.VnetHeader} both ways.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package org.jvirtio.device.net.backend;
