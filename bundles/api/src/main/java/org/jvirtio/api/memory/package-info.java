/**
 * Guest memory as the device sees it: checked, little-endian accesses by guest-physical address,
 * acquire/release accessors for ring indexes, and the backing that a region is built on.
 *
 * <p>1.1: {@code GuestMemory.size()} and {@code discard} (give pages back to the host, for the balloon
 * device), with {@code MemoryBacking.discard} underneath.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package org.jvirtio.api.memory;
