package org.jvirtio.device.net.vhostuser;

import java.nio.ByteBuffer;

/**
 * IPv4 frames a guest sends, big-endian (network order), and the Internet checksum to check what comes
 * back. Offsets are from the start of the Ethernet header.
 */
final class Packets {
    static final int ETHERTYPE = 12;
    static final int ETHERTYPE_IPV4 = 0x0800;
    static final int ETHERTYPE_ARP = 0x0806;
    static final int ETH = 14;
    static final int IP = 20;
    static final int UDP = 8;
    static final int TCP = 20;
    static final int TCP_ACK = 0x10;
    static final int TCP_RST = 0x04;
    static final int TCP_SYN = 0x02;
    static final int PROTO_TCP = 6;
    static final int PROTO_ICMP = 1;
    static final int PROTO_UDP = 17;
    static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};

    private Packets() {
    }

    /** "who has {@code target}? tell {@code sender}" from {@code mac}. */
    static byte[] arpRequest(byte[] mac, byte[] sender, byte[] target) {
        ByteBuffer f = ByteBuffer.allocate(ETH + 28);
        f.put(BROADCAST).put(mac).putShort((short) ETHERTYPE_ARP);
        f.putShort((short) 1).putShort((short) ETHERTYPE_IPV4).put((byte) 6).put((byte) 4).putShort((short) 1);
        f.put(mac).put(sender).put(new byte[6]).put(target);
        return f.array();
    }

    /** An Ethernet frame with an IPv4 header (checksum filled in) in front of {@code payload}. */
    static ByteBuffer ipv4(byte[] dstMac, byte[] srcMac, byte[] src, byte[] dst, int protocol, int payload) {
        ByteBuffer f = ByteBuffer.allocate(ETH + IP + payload);
        f.put(dstMac).put(srcMac).putShort((short) ETHERTYPE_IPV4);
        f.put((byte) 0x45).put((byte) 0).putShort((short) (IP + payload)).putShort((short) 0x1234)
                .putShort((short) 0x4000).put((byte) 64).put((byte) protocol).putShort((short) 0).put(src).put(dst);
        f.putShort(ETH + 10, checksum(f, ETH, IP));
        return f;
    }

    /** An ICMP echo request with {@code data}. */
    static byte[] echoRequest(byte[] dstMac, byte[] srcMac, byte[] src, byte[] dst, short id, short seq, byte[] data) {
        ByteBuffer f = ipv4(dstMac, srcMac, src, dst, PROTO_ICMP, 8 + data.length);
        int icmp = ETH + IP;
        f.put((byte) 8).put((byte) 0).putShort((short) 0).putShort(id).putShort(seq).put(data);
        f.putShort(icmp + 2, checksum(f, icmp, 8 + data.length));
        return f.array();
    }

    /**
     * A UDP datagram whose checksum is left partial, as a driver with CSUM leaves it: the field holds
     * the folded pseudo-header sum (not complemented), to be completed from byte ETH + IP on.
     */
    static byte[] udpWithPartialChecksum(byte[] dstMac, byte[] srcMac, byte[] src, byte[] dst, int srcPort, int dstPort,
            byte[] data) {
        int length = UDP + data.length;
        ByteBuffer f = ipv4(dstMac, srcMac, src, dst, PROTO_UDP, length);
        int udp = ETH + IP;
        f.putShort((short) srcPort).putShort((short) dstPort).putShort((short) length).putShort((short) 0).put(data);
        long sum = 0;
        for (int i = 0; i < 4; i += 2) {
            sum += (f.getShort(ETH + 12 + i) & 0xffff) + (f.getShort(ETH + 16 + i) & 0xffff);
        }
        sum += PROTO_UDP + length;
        f.putShort(udp + 6, (short) fold(sum));
        return f.array();
    }

    /**
     * A TCP segment (ACK, no options) carrying {@code data}, its checksum left partial over the
     * pseudo-header as for {@link #udpWithPartialChecksum}; as one frame it may be far beyond the MTU,
     * for the other side to cut (TSO).
     */
    static byte[] tcpWithPartialChecksum(byte[] dstMac, byte[] srcMac, byte[] src, byte[] dst, int srcPort, int dstPort,
            int seq, int ack, byte[] data) {
        int length = TCP + data.length;
        ByteBuffer f = ipv4(dstMac, srcMac, src, dst, PROTO_TCP, length);
        int tcp = ETH + IP;
        f.putShort((short) srcPort).putShort((short) dstPort).putInt(seq).putInt(ack).put((byte) (5 << 4))
                .put((byte) TCP_ACK).putShort((short) 0xffff).putShort((short) 0).putShort((short) 0).put(data);
        long sum = 0;
        for (int i = 0; i < 8; i += 2) {
            sum += f.getShort(ETH + 12 + i) & 0xffff;
        }
        sum += PROTO_TCP + length;
        f.putShort(tcp + 16, (short) fold(sum));
        return f.array();
    }

    /** A SYN-ACK (MSS 1460, window 65535, checksum complete) answering a SYN whose sequence number was {@code peerSeq}. */
    static byte[] synAck(byte[] dstMac, byte[] srcMac, byte[] src, byte[] dst, int srcPort, int dstPort, int seq,
            int peerSeq) {
        int length = TCP + 4;
        ByteBuffer f = ipv4(dstMac, srcMac, src, dst, PROTO_TCP, length);
        int tcp = ETH + IP;
        f.putShort((short) srcPort).putShort((short) dstPort).putInt(seq).putInt(peerSeq + 1).put((byte) (6 << 4))
                .put((byte) (TCP_SYN | TCP_ACK)).putShort((short) 0xffff).putShort((short) 0).putShort((short) 0)
                .put((byte) 2).put((byte) 4).putShort((short) 1460);
        long sum = PROTO_TCP + length;
        for (int i = 0; i < 8; i += 2) {
            sum += f.getShort(ETH + 12 + i) & 0xffff;
        }
        sum += ~checksum(f, tcp, length) & 0xffff;
        f.putShort(tcp + 16, (short) ~fold(sum));
        return f.array();
    }

    /** The Internet checksum (RFC 1071) of {@code length} bytes at {@code offset}: 0 when they verify. */
    static short checksum(ByteBuffer b, int offset, int length) {
        long sum = 0;
        for (int i = 0; i + 1 < length; i += 2) {
            sum += b.getShort(offset + i) & 0xffff;
        }
        if ((length & 1) != 0) {
            sum += (b.get(offset + length - 1) & 0xff) << 8;
        }
        return (short) ~fold(sum);
    }

    static int fold(long sum) {
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) sum;
    }

    /** The UDP checksum of the datagram in {@code f} over its pseudo-header: 0 when it verifies. */
    static short udpChecksum(ByteBuffer f) {
        int length = f.getShort(ETH + IP + 4) & 0xffff;
        long sum = 0;
        for (int i = 0; i < 8; i += 2) {
            sum += f.getShort(ETH + 12 + i) & 0xffff;
        }
        sum += PROTO_UDP + length;
        sum += ~checksum(f, ETH + IP, length) & 0xffff;
        return (short) ~fold(sum);
    }

    static String ipText(byte[] ip) {
        return (ip[0] & 0xff) + "." + (ip[1] & 0xff) + "." + (ip[2] & 0xff) + "." + (ip[3] & 0xff);
    }
}
