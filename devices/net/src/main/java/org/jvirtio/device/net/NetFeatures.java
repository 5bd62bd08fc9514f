package org.jvirtio.device.net;

/** virtio-net feature bits (virtio 1.2 section 5.1.3) this device knows, as bit numbers. */
public final class NetFeatures {
    /** The driver may hand over frames with a partial checksum; the device completes it. */
    public static final int CSUM = 0;
    /** The driver takes received frames with a partial checksum (NEEDS_CSUM) or one already verified (DATA_VALID). */
    public static final int GUEST_CSUM = 1;
    /** Control class GUEST_OFFLOADS: the driver turns receive offloads on and off while running. */
    public static final int CTRL_GUEST_OFFLOADS = 2;
    /** mtu in configuration space is the largest payload the device accepts and delivers. */
    public static final int MTU = 3;
    /** mac in configuration space is the device's address. */
    public static final int MAC = 5;
    /** The driver takes received TCP/IPv4 segments of up to 64 KiB (gso_type TCPV4). */
    public static final int GUEST_TSO4 = 7;
    /** The driver takes received TCP/IPv6 segments of up to 64 KiB (gso_type TCPV6). */
    public static final int GUEST_TSO6 = 8;
    /** The driver takes received segments with ECN (gso_type | ECN: CWR set in the first segment only). */
    public static final int GUEST_ECN = 9;
    /** The driver may transmit TCP/IPv4 segments of up to 64 KiB for the device (its backend) to cut. */
    public static final int HOST_TSO4 = 11;
    /** The driver may transmit TCP/IPv6 segments of up to 64 KiB. */
    public static final int HOST_TSO6 = 12;
    /** The driver may transmit segments with ECN. */
    public static final int HOST_ECN = 13;
    /** A received frame may span several rx chains; num_buffers says how many. */
    public static final int MRG_RXBUF = 15;
    /** status in configuration space says whether the link is up. */
    public static final int STATUS = 16;
    /** The control queue exists. */
    public static final int CTRL_VQ = 17;
    /** Control class RX: promiscuous and all-multicast switches, and the MAC filter table. */
    public static final int CTRL_RX = 18;
    /** The driver announces itself (gratuitous ARP) when status says ANNOUNCE, and acks on the control queue. */
    public static final int GUEST_ANNOUNCE = 21;
    /** max_virtqueue_pairs and the MQ VQ_PAIRS_SET command. */
    public static final int MQ = 22;
    /** Control command MAC_ADDR_SET. */
    public static final int CTRL_MAC_ADDR = 23;

    private NetFeatures() {
    }
}
