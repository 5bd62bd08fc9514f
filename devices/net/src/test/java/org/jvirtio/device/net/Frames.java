package org.jvirtio.device.net;

/** Ethernet frames and virtio-net headers for tests. */
final class Frames {
    static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};

    private Frames() {
    }

    /** A frame of {@code length} bytes from {@code src} to {@code dst}, ethertype 0x88B5, patterned payload. */
    static byte[] frame(byte[] dst, byte[] src, int length, int seed) {
        byte[] f = new byte[length];
        System.arraycopy(dst, 0, f, 0, 6);
        System.arraycopy(src, 0, f, 6, 6);
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xB5;
        for (int i = 14; i < length; i++) {
            f[i] = (byte) (seed * 31 + i * 7);
        }
        return f;
    }

    static byte[] mac(int last) {
        return new byte[] {0x52, 0x54, 0x00, 0x00, 0x00, (byte) last};
    }

    /** A 12-byte header with {@code flags} and {@code gsoType}, then {@code frame}. */
    static byte[] withHeader(int flags, int gsoType, byte[] frame) {
        byte[] b = new byte[NetHeader.SIZE + frame.length];
        b[NetHeader.FLAGS] = (byte) flags;
        b[NetHeader.GSO_TYPE] = (byte) gsoType;
        System.arraycopy(frame, 0, b, NetHeader.SIZE, frame.length);
        return b;
    }

    static byte[] withHeader(byte[] frame) {
        return withHeader(0, 0, frame);
    }
}
