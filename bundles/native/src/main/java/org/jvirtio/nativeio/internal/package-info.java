/**
 * The JNA side of the native bundle: direct-mapped libc calls, errno decoding, the structure layouts of
 * x86-64 Linux, and the small helpers that make every descriptor and mapping go away exactly once.
 * Not exported: nothing outside this bundle may see a JNA type.
 */
package org.jvirtio.nativeio.internal;
