package org.jvirtio.device.net.queue;

import java.nio.ByteBuffer;

import org.jvirtio.device.net.NetCounter;
import org.jvirtio.device.net.NetHeader;

/**
 * What a transmitted frame's header may ask for: the offloads the driver negotiated (CSUM,
 * HOST_TSO4, HOST_TSO6) and whether the backend takes the header along. Checks a header against them
 * and against its frame (virtio 1.2 section 5.1.6.2): what the device cannot honour is named by a
 * counter, and the frame is dropped.
 *
 * @param csum       CSUM negotiated: NEEDS_CSUM allowed
 * @param tso4       HOST_TSO4 negotiated: gso_type TCPV4 allowed
 * @param tso6       HOST_TSO6 negotiated: gso_type TCPV6 allowed
 * @param ecn        HOST_ECN negotiated: the ECN bit allowed on those
 * @param passHeader the backend carries headers: it finishes checksums and segments, not the device
 */
public record TxOffloads(boolean csum, boolean tso4, boolean tso6, boolean ecn, boolean passHeader) {

    /** The longest frame a chain may carry: a 64 KiB segment with TSO, else {@code maxFrame}. */
    int maxChainFrame(int maxFrame) {
        return tso4 || tso6 ? Math.max(maxFrame, NetHeader.MAX_GSO_FRAME) : maxFrame;
    }

    /**
     * What is wrong with the header at 0 of {@code staging} for the frame of {@code frameLength} bytes
     * behind it, or null.
     *
     * @param maxFrame the longest frame without segmentation
     */
    NetCounter check(ByteBuffer staging, int frameLength, int maxFrame) {
        int flags = staging.get(NetHeader.FLAGS);
        int gsoType = staging.get(NetHeader.GSO_TYPE) & 0xFF;
        if ((gsoType & NetHeader.GSO_ECN) != 0 && ecn) {
            gsoType &= ~NetHeader.GSO_ECN; // then the bit rides along on TCPV4 or TCPV6, checked below
        }
        boolean needsCsum = (flags & NetHeader.F_NEEDS_CSUM) != 0;
        if (needsCsum && !csum) {
            return NetCounter.TX_CSUM_NOT_NEGOTIATED;
        }
        if (gsoType == NetHeader.GSO_NONE) {
            if (frameLength > maxFrame) {
                return NetCounter.TX_LONG_FRAME; // only a segment may exceed the MTU
            }
        } else {
            if (!(gsoType == NetHeader.GSO_TCPV4 && tso4 || gsoType == NetHeader.GSO_TCPV6 && tso6)) {
                return NetCounter.TX_GSO_NOT_NEGOTIATED; // also UDP and UDP_L4, never offered, and ECN without HOST_ECN
            }
            if (NetHeader.le16(staging, NetHeader.GSO_SIZE) == 0 || !needsCsum) {
                return NetCounter.TX_BAD_GSO;
            }
        }
        if (NetHeader.le16(staging, NetHeader.HDR_LEN) > frameLength) {
            return NetCounter.TX_BAD_HDR_LEN;
        }
        if (needsCsum && NetHeader.le16(staging, NetHeader.CSUM_START) + NetHeader.le16(staging, NetHeader.CSUM_OFFSET)
                + 2 > frameLength) {
            return NetCounter.TX_BAD_CSUM_OFFSETS;
        }
        return null;
    }
}
