package org.jvirtio.nativeio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Ethernet frames a made-up peer sends to a TAP interface, big-endian (network order), each preceded
 * by a zero vnet header when the TAP has one. Offsets below are from the start of the Ethernet header.
 */
final class TestFrames {

    static final int ETHERTYPE = 12;
    static final int ETHERTYPE_IPV4 = 0x0800;
    static final int ETHERTYPE_ARP = 0x0806;
    static final int ETH_HEADER = 14;
    static final int ARP_LENGTH = 28;
    static final int IPV4_HEADER = 20;
    static final int ICMP_HEADER = 8;
    static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};
    /** Locally administered, unicast: cannot be anybody's real address. */
    static final byte[] PEER_MAC = {0x02, 0x6a, 0x76, 0x00, 0x00, 0x01};

    private TestFrames() {
    }

    /** An ARP request "who has {@code target}? tell {@code sender}" from {@link #PEER_MAC}. */
    static ByteBuffer arpRequest(int vnetHeader, byte[] sender, byte[] target) {
        ByteBuffer frame = ByteBuffer.allocateDirect(vnetHeader + ETH_HEADER + ARP_LENGTH);
        frame.position(vnetHeader);
        frame.put(BROADCAST).put(PEER_MAC).putShort((short) ETHERTYPE_ARP);
        frame.putShort((short) 1).putShort((short) ETHERTYPE_IPV4).put((byte) 6).put((byte) 4).putShort((short) 1);
        frame.put(PEER_MAC).put(sender).put(new byte[6]).put(target);
        return frame.flip();
    }

    /** An ICMP echo request from {@link #PEER_MAC}/{@code source} to {@code mac}/{@code destination}. */
    static ByteBuffer echoRequest(int vnetHeader, byte[] mac, byte[] source, byte[] destination, short id, short seq,
            byte[] payload) {
        int ipLength = IPV4_HEADER + ICMP_HEADER + payload.length;
        ByteBuffer frame = ByteBuffer.allocateDirect(vnetHeader + ETH_HEADER + ipLength);
        frame.position(vnetHeader);
        frame.put(mac).put(PEER_MAC).putShort((short) ETHERTYPE_IPV4);
        int ip = frame.position();
        frame.put((byte) 0x45).put((byte) 0).putShort((short) ipLength).putShort((short) 0x1234).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 1).putShort((short) 0).put(source).put(destination);
        frame.putShort(ip + 10, checksum(frame, ip, IPV4_HEADER));
        int icmp = frame.position();
        frame.put((byte) 8).put((byte) 0).putShort((short) 0).putShort(id).putShort(seq).put(payload);
        frame.putShort(icmp + 2, checksum(frame, icmp, ICMP_HEADER + payload.length));
        return frame.flip();
    }

    /** The Internet checksum (RFC 1071) of {@code length} bytes at {@code offset}. */
    static short checksum(ByteBuffer buffer, int offset, int length) {
        ByteBuffer b = buffer.duplicate().order(ByteOrder.BIG_ENDIAN);
        long sum = 0;
        for (int i = 0; i + 1 < length; i += 2) {
            sum += b.getShort(offset + i) & 0xffff;
        }
        if ((length & 1) != 0) {
            sum += (b.get(offset + length - 1) & 0xff) << 8;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (short) ~sum;
    }

    static byte[] bytes(ByteBuffer frame, int offset, int length) {
        byte[] out = new byte[length];
        frame.get(offset, out);
        return out;
    }
}
