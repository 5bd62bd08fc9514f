package org.jvirtio.itest.guest;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.NetBackend;
import org.jvirtio.device.net.backend.NetPort;
import org.jvirtio.device.net.backend.Transmitter;

/**
 * A host on a jvirtio switch, written for tests: it answers ARP requests for its IPv4 address and ICMP
 * echo requests to it, and keeps a description of every other frame it sees, so that a test can show
 * that a guest reached it and sent nothing anywhere else. Frames are answered on a thread of its own
 * (the switch delivers on the sender's transmit thread, which must not be made to transmit).
 */
final class PingResponder implements FrameSink, AutoCloseable {
    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_ARP = 0x0806;
    private static final int ETH_HEADER = 14;
    private static final int ARP_REQUEST = 1;
    private static final int ARP_REPLY = 2;
    private static final int ICMP = 1;
    private static final int ICMP_ECHO_REPLY = 0;
    private static final int ICMP_ECHO_REQUEST = 8;

    private final byte[] mac;
    private final byte[] ip;
    private final NetPort port;
    private final Transmitter transmitter;
    private final BlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
    private final List<String> unexpected = new ArrayList<>();
    private final AtomicInteger arpAnswered = new AtomicInteger();
    private final AtomicInteger echoesAnswered = new AtomicInteger();
    private final Thread answering;

    /** Attaches to {@code network} with address {@code mac} ("52:54:00:...") and {@code ip} ("10.0.2.2"). */
    PingResponder(NetBackend network, String mac, String ip) {
        this.mac = HexFormat.ofDelimiter(":").parseHex(mac);
        this.ip = ipv4(ip);
        this.port = network.attach(this, this.mac);
        this.transmitter = port.newTransmitter();
        this.answering = new Thread(this::answer, "ping-responder-" + ip);
        answering.setDaemon(true);
        answering.start();
    }

    @Override
    public boolean receive(ByteBuffer frame) {
        byte[] copy = new byte[frame.remaining()];
        frame.duplicate().get(copy);
        received.add(copy);
        return true;
    }

    @Override
    public void flush() {
        // frames are answered as they come
    }

    /** ARP requests for this address that were answered. */
    int arpAnswered() {
        return arpAnswered.get();
    }

    /** ICMP echo requests to this address that were answered. */
    int echoesAnswered() {
        return echoesAnswered.get();
    }

    /** Frames that were neither an ARP request for this address nor an echo request to it. */
    synchronized List<String> unexpected() {
        return List.copyOf(unexpected);
    }

    private void answer() {
        try {
            while (true) {
                byte[] f = received.poll(1, TimeUnit.SECONDS);
                if (f == null) {
                    continue;
                }
                ByteBuffer reply = replyTo(f);
                if (reply == null) {
                    synchronized (this) {
                        unexpected.add(HexFormat.of().formatHex(f, 0, Math.min(f.length, 64)));
                    }
                    continue;
                }
                transmitter.transmit(reply);
                transmitter.flush();
            }
        } catch (InterruptedException e) {
            // closed
        }
    }

    /** The answer to {@code f}, or null if it is nothing this host answers. */
    private ByteBuffer replyTo(byte[] f) {
        if (f.length < ETH_HEADER) {
            return null;
        }
        ByteBuffer in = ByteBuffer.wrap(f);
        int type = in.getShort(12) & 0xffff;
        if (type == ETHERTYPE_ARP && f.length >= ETH_HEADER + 28 && in.getShort(ETH_HEADER + 6) == ARP_REQUEST
                && regionEquals(f, ETH_HEADER + 24, ip)) {
            ByteBuffer out = ByteBuffer.allocate(ETH_HEADER + 28);
            out.put(f, 6, 6).put(mac).putShort((short) ETHERTYPE_ARP);
            out.putShort((short) 1).putShort((short) ETHERTYPE_IPV4).put((byte) 6).put((byte) 4)
                    .putShort((short) ARP_REPLY);
            out.put(mac).put(ip).put(f, ETH_HEADER + 8, 6).put(f, ETH_HEADER + 14, 4);
            arpAnswered.incrementAndGet();
            return out.flip();
        }
        if (type == ETHERTYPE_IPV4 && f.length >= ETH_HEADER + 20 && regionEquals(f, 0, mac)) {
            int ihl = (f[ETH_HEADER] & 0x0f) * 4;
            int total = in.getShort(ETH_HEADER + 2) & 0xffff;
            int icmp = ETH_HEADER + ihl;
            if (f[ETH_HEADER + 9] == ICMP && regionEquals(f, ETH_HEADER + 16, ip) && total >= ihl + 8
                    && ETH_HEADER + total <= f.length && (f[icmp] & 0xff) == ICMP_ECHO_REQUEST) {
                byte[] r = f.clone();
                System.arraycopy(f, 6, r, 0, 6);
                System.arraycopy(mac, 0, r, 6, 6);
                // addresses swapped: the header checksum, a sum of 16-bit words, stays right
                System.arraycopy(f, ETH_HEADER + 16, r, ETH_HEADER + 12, 4);
                System.arraycopy(f, ETH_HEADER + 12, r, ETH_HEADER + 16, 4);
                r[icmp] = ICMP_ECHO_REPLY;
                r[icmp + 2] = 0;
                r[icmp + 3] = 0;
                int sum = checksum(r, icmp, total - ihl);
                r[icmp + 2] = (byte) (sum >> 8);
                r[icmp + 3] = (byte) sum;
                echoesAnswered.incrementAndGet();
                return ByteBuffer.wrap(r, 0, ETH_HEADER + total);
            }
        }
        return null;
    }

    private static boolean regionEquals(byte[] f, int at, byte[] expected) {
        if (at + expected.length > f.length) {
            return false;
        }
        for (int i = 0; i < expected.length; i++) {
            if (f[at + i] != expected[i]) {
                return false;
            }
        }
        return true;
    }

    /** The Internet checksum (RFC 1071) of {@code length} bytes from {@code at}. */
    private static int checksum(byte[] b, int at, int length) {
        long sum = 0;
        for (int i = 0; i + 1 < length; i += 2) {
            sum += ((b[at + i] & 0xff) << 8) | (b[at + i + 1] & 0xff);
        }
        if ((length & 1) != 0) {
            sum += (b[at + length - 1] & 0xff) << 8;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }

    private static byte[] ipv4(String dotted) {
        String[] parts = dotted.split("\\.");
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            b[i] = (byte) Integer.parseInt(parts[i]);
        }
        return b;
    }

    @Override
    public void close() {
        answering.interrupt();
        port.close();
    }
}
