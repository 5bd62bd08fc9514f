/**
 * What carries a virtio-net device's frames: {@link org.jvirtio.device.net.backend.NetBackend}. The
 * device attaches to a backend with a {@link org.jvirtio.device.net.backend.FrameSink} of its own and
 * transmits through the {@link org.jvirtio.device.net.backend.NetPort} it gets back. Backend bundles
 * implement the backend and register it as a service; the device model finds it by service filter.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package org.jvirtio.device.net.backend;
