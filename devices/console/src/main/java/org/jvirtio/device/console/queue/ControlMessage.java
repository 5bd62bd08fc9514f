package org.jvirtio.device.console.queue;

/**
 * A virtio-console control message (virtio 1.2 section 5.3.6.2), little-endian:
 * <pre>
 *  0  le32 id       the port (DEVICE_READY: 0xFFFFFFFF)
 *  4  le16 event
 *  6  le16 value
 *  8  payload       RESIZE: le16 cols, le16 rows; PORT_NAME: the name's bytes (no NUL)
 * </pre>
 * Events the driver sends: DEVICE_READY, PORT_READY, PORT_OPEN. Events the device sends: DEVICE_ADD
 * (PORT_ADD), DEVICE_REMOVE (PORT_REMOVE), CONSOLE_PORT, RESIZE, PORT_OPEN, PORT_NAME.
 */
public final class ControlMessage {
    public static final int HEADER = 8;
    public static final int ID = 0;
    public static final int EVENT = 4;
    public static final int VALUE = 6;

    public static final int DEVICE_READY = 0;
    public static final int PORT_ADD = 1;
    public static final int PORT_REMOVE = 2;
    public static final int PORT_READY = 3;
    public static final int CONSOLE_PORT = 4;
    public static final int RESIZE = 5;
    public static final int PORT_OPEN = 6;
    public static final int PORT_NAME = 7;

    /** The id of messages about the device rather than a port. */
    public static final int NO_PORT = 0xFFFF_FFFF;

    private ControlMessage() {
    }

    /** The message's bytes: header, then {@code payload}. */
    public static byte[] encode(int id, int event, int value, byte[] payload) {
        byte[] m = new byte[HEADER + payload.length];
        m[ID] = (byte) id;
        m[ID + 1] = (byte) (id >>> 8);
        m[ID + 2] = (byte) (id >>> 16);
        m[ID + 3] = (byte) (id >>> 24);
        m[EVENT] = (byte) event;
        m[EVENT + 1] = (byte) (event >>> 8);
        m[VALUE] = (byte) value;
        m[VALUE + 1] = (byte) (value >>> 8);
        System.arraycopy(payload, 0, m, HEADER, payload.length);
        return m;
    }

    /** RESIZE's payload: cols, then rows (the order Linux reads them in). */
    public static byte[] size(int cols, int rows) {
        return new byte[] {(byte) cols, (byte) (cols >>> 8), (byte) rows, (byte) (rows >>> 8)};
    }

    public static int id(byte[] m) {
        return m[ID] & 0xFF | (m[ID + 1] & 0xFF) << 8 | (m[ID + 2] & 0xFF) << 16 | (m[ID + 3] & 0xFF) << 24;
    }

    public static int event(byte[] m) {
        return m[EVENT] & 0xFF | (m[EVENT + 1] & 0xFF) << 8;
    }

    public static int value(byte[] m) {
        return m[VALUE] & 0xFF | (m[VALUE + 1] & 0xFF) << 8;
    }
}
