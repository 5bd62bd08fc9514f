package org.jvirtio.device.console;

/**
 * The virtio-console configuration space (virtio 1.2 section 5.3.4), little-endian:
 * <pre>
 *  0  le16 cols
 *  2  le16 rows
 *  4  le32 max_nr_ports
 *  8  le32 emerg_wr      (write-only: the low byte is one character for port 0)
 * 12
 * </pre>
 */
final class ConsoleConfigSpace {
    static final int COLS = 0;
    static final int ROWS = 2;
    static final int MAX_NR_PORTS = 4;
    static final int EMERG_WR = 8;
    static final int SIZE = 12;

    private ConsoleConfigSpace() {
    }

    /** The space with {@code cols}, {@code rows} and {@code maxPorts}; emerg_wr reads as zero. */
    static byte[] encode(int cols, int rows, int maxPorts) {
        byte[] c = new byte[SIZE];
        putShort(c, COLS, cols);
        putShort(c, ROWS, rows);
        c[MAX_NR_PORTS] = (byte) maxPorts;
        c[MAX_NR_PORTS + 1] = (byte) (maxPorts >>> 8);
        c[MAX_NR_PORTS + 2] = (byte) (maxPorts >>> 16);
        c[MAX_NR_PORTS + 3] = (byte) (maxPorts >>> 24);
        return c;
    }

    private static void putShort(byte[] c, int at, int value) {
        c[at] = (byte) value;
        c[at + 1] = (byte) (value >>> 8);
    }
}
