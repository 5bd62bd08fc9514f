/**
 * vhost-user: {@link org.jvirtio.transport.vhostuser.VhostUserBackend} serves a
 * {@link org.jvirtio.api.device.VirtioDevice} to a front end (QEMU, or
 * {@link org.jvirtio.transport.vhostuser.VhostUserFrontend}) on a Unix socket, listening there or
 * (since 1.1, client mode) connecting to it;
 * {@link org.jvirtio.transport.vhostuser.VhostUserFrontend} is the driver side in Java, for tests and
 * benchmarks.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.2.0")
package org.jvirtio.transport.vhostuser;
