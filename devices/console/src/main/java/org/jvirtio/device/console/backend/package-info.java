/**
 * What a virtio-console port talks to: {@link org.jvirtio.device.console.backend.ConsoleBackend}. The
 * device attaches each of its ports to one backend with a
 * {@link org.jvirtio.device.console.backend.ConsoleInput} of its own (host to guest, with
 * back-pressure) and writes the guest's output through the
 * {@link org.jvirtio.device.console.backend.ConsolePort} it gets back. Backend bundles implement the
 * backend and register it as a service; the device model finds its ports' backends by service filter
 * and each backend's {@code port} service property.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.jvirtio.device.console.backend;
