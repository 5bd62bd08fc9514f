/**
 * The storage behind a virtio-blk device: {@link org.jvirtio.device.blk.backend.BlockBackend}. Backend
 * bundles implement it and register it as a service; the device model finds it by service filter.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.jvirtio.device.blk.backend;
