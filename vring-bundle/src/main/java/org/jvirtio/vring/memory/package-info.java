/**
 * Guest memory maps: immutable maps of guest-physical regions onto host memory, and a holder that
 * swaps them atomically when the VMM changes its memory table.
 *
 * <p>1.1: {@code size()} and {@code discard} (api.memory 1.1) on both.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package org.jvirtio.vring.memory;
