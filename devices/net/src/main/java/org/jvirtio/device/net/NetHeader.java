package org.jvirtio.device.net;

/**
 * The layout of {@code struct virtio_net_hdr} with VERSION_1 (virtio 1.2 section 5.1.6): 12 bytes in
 * front of every frame, on both queues.
 *
 * <pre>
 *  0 u8   flags        (1 NEEDS_CSUM, 2 DATA_VALID, 4 RSC_INFO)
 *  1 u8   gso_type     (0 NONE)
 *  2 le16 hdr_len
 *  4 le16 gso_size
 *  6 le16 csum_start
 *  8 le16 csum_offset
 * 10 le16 num_buffers  (rx: chains the frame spans; 1 without MRG_RXBUF)
 * </pre>
 */
public final class NetHeader {
    public static final int FLAGS = 0;
    public static final int GSO_TYPE = 1;
    public static final int CSUM_START = 6;
    public static final int CSUM_OFFSET = 8;
    public static final int NUM_BUFFERS = 10;
    public static final int SIZE = 12;

    public static final int F_NEEDS_CSUM = 1;
    public static final int GSO_NONE = 0;

    /** Ethernet header: destination, source, ethertype. */
    public static final int ETH_HEADER = 14;
    /** An 802.1Q tag a frame may carry on top of the MTU. */
    public static final int VLAN_TAG = 4;

    private NetHeader() {
    }

    /** The longest frame (Ethernet header and one VLAN tag included, no virtio header) for {@code mtu}. */
    public static int maxFrame(int mtu) {
        return mtu + ETH_HEADER + VLAN_TAG;
    }
}
