/**
 * Guest memory as the device sees it: checked, little-endian accesses by guest-physical address,
 * acquire/release accessors for ring indexes, and the backing that a region is built on.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.jvirtio.api.memory;
