package org.jvirtio.device.net;

/** virtio-net feature bits (virtio 1.2 section 5.1.3) this device knows, as bit numbers. */
public final class NetFeatures {
    /** The driver may hand over frames with a partial checksum; the device completes it. */
    public static final int CSUM = 0;
    /** mtu in configuration space is the largest payload the device accepts and delivers. */
    public static final int MTU = 3;
    /** mac in configuration space is the device's address. */
    public static final int MAC = 5;
    /** A received frame may span several rx chains; num_buffers says how many. */
    public static final int MRG_RXBUF = 15;
    /** status in configuration space says whether the link is up. */
    public static final int STATUS = 16;
    /** The control queue exists. */
    public static final int CTRL_VQ = 17;
    /** Control class RX: promiscuous and all-multicast switches, and the MAC filter table. */
    public static final int CTRL_RX = 18;
    /** max_virtqueue_pairs and the MQ VQ_PAIRS_SET command. */
    public static final int MQ = 22;
    /** Control command MAC_ADDR_SET. */
    public static final int CTRL_MAC_ADDR = 23;

    private NetFeatures() {
    }
}
