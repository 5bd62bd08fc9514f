package org.jvirtio.device.net;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The layout of {@code struct virtio_net_config} (virtio 1.2 section 5.1.4) up to {@code mtu}; the
 * speed, duplex and RSS fields that follow are not offered and read as zero.
 *
 * <pre>
 *  0 u8[6] mac                  (MAC)
 *  6 le16  status               (STATUS: bit 0 LINK_UP)
 *  8 le16  max_virtqueue_pairs  (MQ)
 * 10 le16  mtu                  (MTU)
 * </pre>
 */
public final class NetConfigSpace {
    public static final int MAC = 0;
    public static final int STATUS = 6;
    public static final int MAX_VIRTQUEUE_PAIRS = 8;
    public static final int MTU = 10;
    /** Bytes served. */
    public static final int SIZE = 12;
    /** status: the link is up. */
    public static final short LINK_UP = 1;
    /** status: the driver should announce itself (GUEST_ANNOUNCE); cleared by its ANNOUNCE_ACK. */
    public static final short ANNOUNCE = 2;

    private NetConfigSpace() {
    }

    static byte[] encode(byte[] mac, NetDeviceOptions o, boolean linkUp) {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAC, mac);
        b.putShort(STATUS, linkUp ? LINK_UP : 0);
        b.putShort(MAX_VIRTQUEUE_PAIRS, (short) o.queuePairs());
        b.putShort(MTU, (short) o.mtu());
        return b.array();
    }
}
