package org.jvirtio.device.net;

import java.nio.ByteBuffer;

import org.jvirtio.device.net.backend.VnetHeader;

/**
 * The virtio-net header in front of every frame on both queues, under the names the device's queues
 * use: the layout is the backend SPI's {@link VnetHeader} (virtio 1.2 section 5.1.6), which a backend
 * with offloads sees too. On receive queues num_buffers says how many chains the frame spans (1
 * without MRG_RXBUF). Also the frame lengths the device accepts.
 */
public final class NetHeader {
    public static final int FLAGS = VnetHeader.FLAGS;
    public static final int GSO_TYPE = VnetHeader.GSO_TYPE;
    public static final int HDR_LEN = VnetHeader.HDR_LEN;
    public static final int GSO_SIZE = VnetHeader.GSO_SIZE;
    public static final int CSUM_START = VnetHeader.CSUM_START;
    public static final int CSUM_OFFSET = VnetHeader.CSUM_OFFSET;
    public static final int NUM_BUFFERS = VnetHeader.NUM_BUFFERS;
    public static final int SIZE = VnetHeader.SIZE;

    public static final int F_NEEDS_CSUM = VnetHeader.F_NEEDS_CSUM;
    public static final int F_DATA_VALID = VnetHeader.F_DATA_VALID;
    public static final int GSO_NONE = VnetHeader.GSO_NONE;
    public static final int GSO_TCPV4 = VnetHeader.GSO_TCPV4;
    public static final int GSO_TCPV6 = VnetHeader.GSO_TCPV6;
    public static final int GSO_ECN = VnetHeader.GSO_ECN;

    /** The longest frame with segmentation offload: a transmit chain carries at most SIZE + this. */
    public static final int MAX_GSO_FRAME = VnetHeader.MAX_GSO_FRAME;

    /** Ethernet header: destination, source, ethertype. */
    public static final int ETH_HEADER = 14;
    /** An 802.1Q tag a frame may carry on top of the MTU. */
    public static final int VLAN_TAG = 4;

    private NetHeader() {
    }

    /** The little-endian 16-bit field at {@code at}, whatever the buffer's byte order. */
    public static int le16(ByteBuffer b, int at) {
        return (b.get(at) & 0xFF) | (b.get(at + 1) & 0xFF) << 8;
    }

    /** The longest frame (Ethernet header and one VLAN tag included, no virtio header) for {@code mtu}. */
    public static int maxFrame(int mtu) {
        return mtu + ETH_HEADER + VLAN_TAG;
    }
}
