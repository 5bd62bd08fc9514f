/**
 * What a running platform tells about the devices it serves: each device a transport serves is a
 * {@link org.jvirtio.api.management.ServedDevice} service, read by the shell commands and the JMX
 * beans, and by anyone who wants to watch a device.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.jvirtio.api.management;
