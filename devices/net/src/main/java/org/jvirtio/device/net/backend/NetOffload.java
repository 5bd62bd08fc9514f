package org.jvirtio.device.net.backend;

/**
 * Work on a frame that its virtio-net header ({@link VnetHeader}) can leave undone for the other side,
 * as a backend declares it ({@link NetBackend#offloads()}) and as a device enables it for the frames
 * it receives ({@link NetPort#enableReceiveOffloads}).
 *
 * @since 1.1
 */
public enum NetOffload {
    /** Partial checksums (NEEDS_CSUM with csum_start and csum_offset) and DATA_VALID. */
    CSUM,
    /** TCP segmentation over IPv4 (gso_type TCPV4, gso_size, hdr_len); needs {@link #CSUM}. */
    TSO4,
    /** TCP segmentation over IPv6 (gso_type TCPV6); needs {@link #CSUM}. */
    TSO6,
    /** TCP segments with the CWR flag set (gso_type | ECN); needs {@link #TSO4} or {@link #TSO6}. */
    TSO_ECN
}
