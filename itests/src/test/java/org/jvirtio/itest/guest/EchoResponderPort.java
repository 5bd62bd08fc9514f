package org.jvirtio.itest.guest;

import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.NetPort;
import org.jvirtio.device.net.backend.Transmitter;
import org.jvirtio.device.net.backend.l2.L2Switch;

/**
 * A test host on a jvirtio {@link L2Switch} port that owns one IPv4 address and answers ARP requests for
 * it and ICMP echo requests to it: a guest on the same switch can ping it, and nothing leaves the JVM.
 * Replies are sent from the responder's own thread, never from the sender's delivery call.
 */
final class EchoResponderPort implements FrameSink, AutoCloseable {
    private static final int ETH_HEADER = 14;
    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_ARP = 0x0806;

    private final byte[] mac;
    private final byte[] ip;
    private final NetPort port;
    private final BlockingQueue<byte[]> replies = new LinkedBlockingQueue<>();
    private final Thread sender;
    final AtomicLong arpReplies = new AtomicLong();
    final AtomicLong echoReplies = new AtomicLong();
    private volatile boolean closed;

    EchoResponderPort(L2Switch lan, byte[] mac, byte[] ip) {
        this.mac = mac.clone();
        this.ip = ip.clone();
        this.port = lan.attach(this, mac);
        this.sender = new Thread(this::sendReplies, "echo-responder");
        sender.setDaemon(true);
        sender.start();
    }

    @Override
    public boolean receive(ByteBuffer frame) {
        ByteBuffer f = frame.duplicate().order(java.nio.ByteOrder.BIG_ENDIAN);
        int p = f.position();
        int length = f.remaining();
        if (length < ETH_HEADER) {
            return true;
        }
        int type = f.getShort(p + 12) & 0xffff;
        if (type == ETHERTYPE_ARP && length >= ETH_HEADER + 28 && f.getShort(p + 20) == 1
                && matches(f, p + 38, ip)) {
            replies.add(arpReply(f, p));
        } else if (type == ETHERTYPE_IPV4 && length >= ETH_HEADER + 20 && matches(f, p, mac)) {
            int ihl = (f.get(p + 14) & 0x0f) * 4;
            int total = f.getShort(p + 16) & 0xffff;
            if (f.get(p + 23) == 1 && ihl >= 20 && total >= ihl + 8 && ETH_HEADER + total <= length
                    && matches(f, p + 30, ip) && f.get(p + ETH_HEADER + ihl) == 8) {
                replies.add(echoReply(f, p, ihl, total));
            }
        }
        return true;
    }

    @Override
    public void flush() {
        // replies go out from the sender thread
    }

    private byte[] arpReply(ByteBuffer f, int p) {
        ByteBuffer r = ByteBuffer.allocate(ETH_HEADER + 28);
        byte[] requesterMac = bytes(f, p + 22, 6);
        byte[] requesterIp = bytes(f, p + 28, 4);
        r.put(requesterMac).put(mac).putShort((short) ETHERTYPE_ARP);
        r.putShort((short) 1).putShort((short) ETHERTYPE_IPV4).put((byte) 6).put((byte) 4).putShort((short) 2);
        r.put(mac).put(ip).put(requesterMac).put(requesterIp);
        arpReplies.incrementAndGet();
        return r.array();
    }

    private byte[] echoReply(ByteBuffer f, int p, int ihl, int total) {
        byte[] r = bytes(f, p, ETH_HEADER + total);
        System.arraycopy(r, 6, r, 0, 6); // to the sender
        System.arraycopy(mac, 0, r, 6, 6);
        byte[] src = bytes(f, p + 26, 4);
        System.arraycopy(r, 30, r, 26, 4); // from us (the IP header's sum does not change when the two swap)
        System.arraycopy(src, 0, r, 30, 4);
        int icmp = ETH_HEADER + ihl;
        r[icmp] = 0; // echo reply
        r[icmp + 2] = 0;
        r[icmp + 3] = 0;
        int sum = checksum(r, icmp, total - ihl);
        r[icmp + 2] = (byte) (sum >> 8);
        r[icmp + 3] = (byte) sum;
        echoReplies.incrementAndGet();
        return r;
    }

    private void sendReplies() {
        Transmitter tx = port.newTransmitter();
        try {
            while (!closed) {
                byte[] reply = replies.poll(100, TimeUnit.MILLISECONDS);
                if (reply != null) {
                    tx.transmit(ByteBuffer.wrap(reply));
                    tx.flush();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int checksum(byte[] b, int offset, int length) {
        long sum = 0;
        for (int i = 0; i + 1 < length; i += 2) {
            sum += ((b[offset + i] & 0xff) << 8) | (b[offset + i + 1] & 0xff);
        }
        if ((length & 1) != 0) {
            sum += (b[offset + length - 1] & 0xff) << 8;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }

    private static boolean matches(ByteBuffer f, int at, byte[] expected) {
        for (int i = 0; i < expected.length; i++) {
            if (f.get(at + i) != expected[i]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] bytes(ByteBuffer f, int at, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = f.get(at + i);
        }
        return b;
    }

    @Override
    public void close() throws Exception {
        closed = true;
        sender.join(5_000);
        port.close();
    }
}
