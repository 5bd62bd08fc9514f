/** How the proxy works: the mpqemu channel, memory sync, BAR decoding, interrupt routes, QMP and qtest clients. */
package org.jvirtio.transport.pci.proxy.internal;
