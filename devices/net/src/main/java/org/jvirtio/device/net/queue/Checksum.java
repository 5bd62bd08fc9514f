package org.jvirtio.device.net.queue;

import java.nio.ByteBuffer;

/**
 * Completes a partial checksum (VIRTIO_NET_F_CSUM, virtio 1.2 section 5.1.6.2): the driver has put the
 * folded pseudo-header sum into the checksum field; the device adds every 16-bit big-endian word from
 * csum_start to the end of the frame, and stores the complement of the folded sum at
 * csum_start + csum_offset. A result of 0 is stored as 0xFFFF, the same value in ones' complement, which
 * UDP needs (0 there means "no checksum").
 */
final class Checksum {
    private Checksum() {
    }

    /**
     * Completes the checksum of the frame between {@code frame}'s position and limit; the offsets count
     * from the frame's first byte. The caller has checked that the field lies inside the frame.
     */
    static void complete(ByteBuffer frame, int csumStart, int csumOffset) {
        int base = frame.position();
        int end = frame.limit();
        long sum = 0;
        int at = base + csumStart;
        for (; at + 1 < end; at += 2) {
            sum += (frame.get(at) & 0xFF) << 8 | (frame.get(at + 1) & 0xFF);
        }
        if (at < end) {
            sum += (frame.get(at) & 0xFF) << 8; // an odd last byte is padded with zero
        }
        int result = ~fold(sum) & 0xFFFF;
        int field = base + csumStart + csumOffset;
        if (result == 0) {
            result = 0xFFFF;
        }
        frame.put(field, (byte) (result >>> 8));
        frame.put(field + 1, (byte) result);
    }

    /** The ones' complement sum of {@code sum}'s 16-bit halves, carries folded back in. */
    static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }
}
