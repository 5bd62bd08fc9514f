package org.jvirtio.transport.pci.proxy.internal;

/**
 * Payload of BAR_READ and BAR_WRITE ({@code BarAccessMsg}), little-endian:
 * <pre>
 *  0                 8                 16       20  21     24
 *  +-----------------+-----------------+--------+---+------+
 *  |      addr       |      val        |  size  |mem| pad  |
 *  +-----------------+-----------------+--------+---+------+
 * </pre>
 * {@code addr} is absolute: the BAR's base as the guest placed it plus the offset inside.
 * {@code mem} is 1 for a memory BAR, 0 for an I/O port BAR.
 */
final class BarLayout {
    static final int SIZE = 24;
    static final int ADDRESS = 0;
    static final int VALUE = 8;
    static final int ACCESS_SIZE = 16;
    static final int MEMORY = 20;

    private BarLayout() {
    }
}
