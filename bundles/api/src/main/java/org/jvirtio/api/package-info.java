/**
 * Virtio constants shared by every bundle: device ids, feature bits and device status bits
 * (virtio 1.2 sections 2.1, 5 and 6).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.jvirtio.api;
