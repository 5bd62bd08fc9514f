package org.jvirtio.device.net;

import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.Set;

import org.jvirtio.device.net.backend.NetOffload;

/**
 * The receive offloads the driver takes now (GUEST_CSUM, GUEST_TSO4, GUEST_TSO6, GUEST_ECN as negotiated, or as
 * GUEST_OFFLOADS_SET last changed them), and the check of a backend's header against them. Immutable.
 *
 * <p>A header asking for more than enabled, or whose offsets leave the frame, drops the frame
 * (RX_BAD_HEADER): the device completes no checksum and cuts no segment for the driver. Without
 * GUEST_CSUM the flags the driver sees are zero (virtio 1.2 section 5.1.6.4.1: the device MUST set
 * flags to zero then), so a TAP's DATA_VALID on a finished frame is dropped, not the frame.
 */
final class ReceiveOffloads {
    private final boolean csum;
    private final boolean tso4;
    private final boolean tso6;
    private final boolean ecn;

    ReceiveOffloads(boolean csum, boolean tso4, boolean tso6, boolean ecn) {
        this.csum = csum;
        // segments need partial checksums, and ECN needs segments (virtio 1.2 section 5.1.3.1)
        this.tso4 = csum && tso4;
        this.tso6 = csum && tso6;
        this.ecn = (this.tso4 || this.tso6) && ecn;
    }

    /** From GUEST_* feature bits (negotiated features, or GUEST_OFFLOADS_SET's argument). */
    static ReceiveOffloads fromFeatures(long bits) {
        return new ReceiveOffloads((bits & 1L << NetFeatures.GUEST_CSUM) != 0, (bits & 1L << NetFeatures.GUEST_TSO4) != 0,
                (bits & 1L << NetFeatures.GUEST_TSO6) != 0, (bits & 1L << NetFeatures.GUEST_ECN) != 0);
    }

    /** What either enables. */
    ReceiveOffloads or(ReceiveOffloads other) {
        return new ReceiveOffloads(csum || other.csum, tso4 || other.tso4, tso6 || other.tso6, ecn || other.ecn);
    }

    /** As the backend SPI names them. */
    Set<NetOffload> asSet() {
        Set<NetOffload> set = EnumSet.noneOf(NetOffload.class);
        if (csum) {
            set.add(NetOffload.CSUM);
        }
        if (tso4) {
            set.add(NetOffload.TSO4);
        }
        if (tso6) {
            set.add(NetOffload.TSO6);
        }
        if (ecn) {
            set.add(NetOffload.TSO_ECN);
        }
        return set;
    }

    /** Whether received segments can be larger than the MTU allows. */
    boolean segments() {
        return tso4 || tso6;
    }

    /**
     * The flags byte to give the driver for the frame at {@code frame}'s position behind the header at
     * {@code headerAt}, or -1 if the header asks for what is not enabled or does not fit the frame.
     */
    int flagsFor(ByteBuffer frame, int headerAt) {
        int flags = frame.get(headerAt + NetHeader.FLAGS) & 0xFF;
        int gsoType = frame.get(headerAt + NetHeader.GSO_TYPE) & 0xFF;
        if ((gsoType & NetHeader.GSO_ECN) != 0 && ecn) {
            gsoType &= ~NetHeader.GSO_ECN; // allowed on TCPV4 or TCPV6, checked below
        }
        int length = frame.remaining();
        if ((flags & NetHeader.F_NEEDS_CSUM) != 0) {
            int start = NetHeader.le16(frame, headerAt + NetHeader.CSUM_START);
            int offset = NetHeader.le16(frame, headerAt + NetHeader.CSUM_OFFSET);
            if (!csum || start + offset + 2 > length) {
                return -1;
            }
        }
        if (gsoType != NetHeader.GSO_NONE) {
            boolean enabled = gsoType == NetHeader.GSO_TCPV4 ? tso4 : gsoType == NetHeader.GSO_TCPV6 && tso6;
            int gsoSize = NetHeader.le16(frame, headerAt + NetHeader.GSO_SIZE);
            if (!enabled || gsoSize == 0 || (flags & NetHeader.F_NEEDS_CSUM) == 0) {
                return -1;
            }
        }
        return csum ? flags & (NetHeader.F_NEEDS_CSUM | NetHeader.F_DATA_VALID) : 0;
    }
}
