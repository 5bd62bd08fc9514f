package org.jvirtio.device.net.backend;

/**
 * The 12-byte {@code struct virtio_net_hdr} of virtio 1.x (virtio 1.2 section 5.1.6), little-endian,
 * that carries a frame's offload metadata across the SPI when the backend declares offloads: the same
 * bytes a driver writes in front of a transmitted frame and a Linux TAP reads and writes with
 * {@code IFF_VNET_HDR}.
 *
 * <pre>
 *  0 u8   flags        (1 NEEDS_CSUM, 2 DATA_VALID)
 *  1 u8   gso_type     (0 NONE, 1 TCPV4, 3 UDP, 4 TCPV6, 5 UDP_L4; | 0x80 ECN)
 *  2 le16 hdr_len      (headers up to and including the transport header; a hint)
 *  4 le16 gso_size     (the segment size, MSS)
 *  6 le16 csum_start   (where the checksummed data starts, from the frame's first byte)
 *  8 le16 csum_offset  (where the checksum goes, from csum_start)
 * 10 le16 num_buffers  (receive buffers a frame spans; the device's business, ignored across the SPI)
 * </pre>
 *
 * @since 1.1
 */
public final class VnetHeader {
    public static final int FLAGS = 0;
    public static final int GSO_TYPE = 1;
    public static final int HDR_LEN = 2;
    public static final int GSO_SIZE = 4;
    public static final int CSUM_START = 6;
    public static final int CSUM_OFFSET = 8;
    public static final int NUM_BUFFERS = 10;
    public static final int SIZE = 12;

    /** The checksum from csum_start to the end still has to be completed (the field holds the pseudo-header sum). */
    public static final int F_NEEDS_CSUM = 1;
    /** The checksums of the frame were verified already (received frames only). */
    public static final int F_DATA_VALID = 2;

    public static final int GSO_NONE = 0;
    public static final int GSO_TCPV4 = 1;
    public static final int GSO_UDP = 3;
    public static final int GSO_TCPV6 = 4;
    public static final int GSO_UDP_L4 = 5;
    /** Or'ed into gso_type: the TCP segments carry the CWR flag (TSO with ECN). */
    public static final int GSO_ECN = 0x80;

    /**
     * The longest frame behind a header: a 64 KiB segment (Linux's GSO maximum) plus a 14-byte
     * Ethernet header.
     */
    public static final int MAX_GSO_FRAME = 65550;

    private VnetHeader() {
    }
}
