package org.jvirtio.transport.pci.proxy.internal;

/**
 * Payload of PCI_CFGREAD and PCI_CFGWRITE ({@code PciConfDataMsg}), little-endian:
 * <pre>
 *  0        4        8        12
 *  +--------+--------+--------+
 *  |  addr  |  val   |  len   |   addr u32, val u32 (writes), len i32
 *  +--------+--------+--------+
 * </pre>
 */
final class ConfigLayout {
    static final int SIZE = 12;
    static final int ADDRESS = 0;
    static final int VALUE = 4;
    static final int LENGTH = 8;

    private ConfigLayout() {
    }
}
