package org.jvirtio.nativeio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jvirtio.nativeio.TestFrames.ETHERTYPE;
import static org.jvirtio.nativeio.TestFrames.ETHERTYPE_ARP;
import static org.jvirtio.nativeio.TestFrames.ETHERTYPE_IPV4;
import static org.jvirtio.nativeio.TestFrames.ETH_HEADER;
import static org.jvirtio.nativeio.TestFrames.IPV4_HEADER;
import static org.jvirtio.nativeio.TestFrames.PEER_MAC;
import static org.jvirtio.nativeio.TestFrames.bytes;

import java.nio.ByteBuffer;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.jvirtio.nativeio.internal.Errno;

/**
 * TAP interfaces against the real kernel: creation and removal as {@code ip} sees them, and frames
 * answered by the kernel's ARP and ICMP inside a network namespace the test creates (traffic never
 * leaves it).
 */
@Timeout(60)
class TapTest {

    private static final int HEADER = Tap.VNET_HEADER_SIZE;

    @Test
    void opensWithVnetHeaderAndCloseRemovesTheInterface() throws Exception {
        String name = TapSupport.uniqueName("jvt");
        Tap tap = TapSupport.open(name, true);
        try {
            assertThat(tap.name()).isEqualTo(name);
            assertThat(tap.vnetHeaderSize()).isEqualTo(12);
            assertThat(TapSupport.linkExists(name)).isTrue();
            assertThat(TapSupport.ipOk("-d", "link", "show", "dev", name)).contains("tun type tap");
        } finally {
            tap.close();
        }
        assertThat(TapSupport.linkExists(name)).isFalse();
    }

    @Test
    void aNamePatternIsNumberedByTheKernel() throws Exception {
        String prefix = TapSupport.uniqueName("jvp").substring(0, 10);
        try (Tap first = TapSupport.open(prefix + "%d", false); Tap second = TapSupport.open(prefix + "%d", false)) {
            assertThat(first.name()).isEqualTo(prefix + "0");
            assertThat(second.name()).isEqualTo(prefix + "1");
            assertThat(first.vnetHeaderSize()).isZero();
            assertThat(TapSupport.linkExists(second.name())).isTrue();
        }
    }

    @Test
    void aSecondOpenOfTheSameNameFailsWithEbusy() throws Exception {
        String name = TapSupport.uniqueName("jvt");
        try (Tap tap = TapSupport.open(name, true)) {
            assertThatThrownBy(() -> Tap.open(name, true))
                    .isInstanceOfSatisfying(NativeException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EBUSY))
                    .hasMessageContaining("TUNSETIFF").hasMessageContaining("EBUSY").hasMessageContaining(name);
            assertThat(tap.name()).isEqualTo(name); // the first is untouched
            assertThat(TapSupport.linkExists(name)).isTrue();
        }
    }

    @Test
    void namesThatDoNotFitAreRefusedBeforeAnySystemCall() {
        assertThatThrownBy(() -> Tap.open("a-name-of-16-byt", false)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tap.open("nul\0", false)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void offloadsAreAcceptedWithAVnetHeaderAndUnknownCombinationsRefused() throws Exception {
        try (Tap tap = TapSupport.open(TapSupport.uniqueName("jvt"), true)) {
            tap.setOffload(Tap.OFFLOAD_CSUM | Tap.OFFLOAD_TSO4 | Tap.OFFLOAD_TSO6 | Tap.OFFLOAD_TSO_ECN);
            tap.setOffload(Tap.OFFLOAD_CSUM | Tap.OFFLOAD_USO4 | Tap.OFFLOAD_USO6);
            tap.setOffload(0);
            // TSO needs checksum offload; bit 30 is no flag the kernel knows
            assertThatThrownBy(() -> tap.setOffload(Tap.OFFLOAD_TSO4))
                    .isInstanceOfSatisfying(NativeException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL))
                    .hasMessageContaining("TUNSETOFFLOAD 0x2");
            assertThatThrownBy(() -> tap.setOffload(1 << 30))
                    .isInstanceOfSatisfying(NativeException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL));
        }
    }

    @Test
    void readingAnEmptyTapReturnsNothingAtOnceAndCloseIsIdempotent() throws Exception {
        Tap tap = TapSupport.open(TapSupport.uniqueName("jvt"), true);
        ByteBuffer buffer = ByteBuffer.allocateDirect(2048);
        long start = System.nanoTime();
        assertThat(tap.read(buffer)).isZero();
        assertThat(tap.read(new ByteBuffer[] {buffer}, 0, 1)).isZero();
        assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(1));
        assertThat(buffer.position()).isZero();
        assertThatThrownBy(() -> tap.read(ByteBuffer.allocate(64))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tap.read(buffer.asReadOnlyBuffer())).isInstanceOf(java.nio.ReadOnlyBufferException.class);
        tap.close();
        tap.close();
        assertThat(tap.fd().isOpen()).isFalse();
        assertThatThrownBy(() -> tap.read(buffer)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> tap.setOffload(0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aPersistentInterfaceOutlivesItsDescriptorUntilPersistIsCleared() throws Exception {
        String name = TapSupport.uniqueName("jvt");
        try {
            try (Tap tap = TapSupport.open(name, true)) {
                tap.persist(true);
            }
            assertThat(TapSupport.linkExists(name)).isTrue();
            try (Tap again = TapSupport.open(name, true)) {
                assertThat(again.name()).isEqualTo(name);
                again.persist(false);
            }
            assertThat(TapSupport.linkExists(name)).isFalse();
        } finally {
            if (TapSupport.linkExists(name)) {
                TapSupport.ip("link", "delete", "dev", name);
            }
        }
    }

    /**
     * The kernel inside a namespace of our own answers an ARP request and a ping written to the TAP;
     * the answers come back on the TAP descriptor, behind a vnet header. The ARP exchange uses plain
     * read/write, the ping readv/writev with header and frame in separate buffers.
     */
    @Test
    void theKernelAnswersArpAndPingThroughTheTapInsideATestNamespace() throws Exception {
        int subnet = ThreadLocalRandom.current().nextInt(256);
        byte[] tapIp = {10, 99, (byte) subnet, 1};
        byte[] peerIp = {10, 99, (byte) subnet, 2};
        try (TapSupport.Namespace namespace = TapSupport.Namespace.create()) {
            try (Tap tap = TapSupport.open(TapSupport.uniqueName("jvt"), true); Epoll epoll = Epoll.create()) {
                namespace.adopt(tap, "10.99." + subnet + ".1/30");
                byte[] tapMac = namespace.mac(tap.name());
                epoll.add(tap.fd(), Epoll.IN, 1);

                // ARP: who has 10.99.x.1? tell 10.99.x.2
                ByteBuffer request = TestFrames.arpRequest(HEADER, peerIp, tapIp);
                assertThat(tap.write(request)).isEqualTo(HEADER + 42);
                assertThat(request.hasRemaining()).isFalse();
                ByteBuffer reply = ByteBuffer.allocateDirect(2048);
                int length = awaitFrame(tap, epoll, reply, f -> (f.getShort(HEADER + ETHERTYPE) & 0xffff) == ETHERTYPE_ARP
                        && f.getShort(HEADER + ETH_HEADER + 6) == 2);
                assertThat(length).isGreaterThanOrEqualTo(HEADER + 42);
                int arp = HEADER + ETH_HEADER;
                assertThat(bytes(reply, HEADER, 6)).isEqualTo(PEER_MAC);
                assertThat(bytes(reply, HEADER + 6, 6)).isEqualTo(tapMac);
                assertThat(bytes(reply, arp + 8, 6)).as("sender MAC").isEqualTo(tapMac);
                assertThat(bytes(reply, arp + 14, 4)).as("sender IP").isEqualTo(tapIp);
                assertThat(bytes(reply, arp + 18, 6)).as("target MAC").isEqualTo(PEER_MAC);
                assertThat(bytes(reply, arp + 24, 4)).as("target IP").isEqualTo(peerIp);
                assertThat(reply.getShort(4)).as("gso_type: none").isZero();
                // The kernel writes the whole 12 bytes (the buffer was filled with 0x55), num_buffers as 0:
                // the device must set it to the number of buffers it used.
                assertThat(reply.getShort(10)).as("num_buffers, zeroed by the kernel").isZero();

                // Ping, with the vnet header and the frame in separate buffers both ways.
                byte[] payload = "jvirtio!".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                ByteBuffer echo = TestFrames.echoRequest(HEADER, tapMac, peerIp, tapIp, (short) 0x4a56, (short) 7, payload);
                ByteBuffer header = echo.slice(0, HEADER);
                ByteBuffer frame = echo.slice(HEADER, echo.limit() - HEADER);
                assertThat(tap.write(new ByteBuffer[] {header, frame}, 0, 2)).isEqualTo(echo.limit());
                assertThat(header.hasRemaining() || frame.hasRemaining()).isFalse();

                ByteBuffer replyHeader = ByteBuffer.allocateDirect(HEADER);
                ByteBuffer replyFrame = ByteBuffer.allocateDirect(2048);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                int[] tags = new int[4];
                boolean seen = false;
                while (!seen && System.nanoTime() < deadline) {
                    epoll.wait(tags, 100);
                    replyHeader.clear();
                    replyFrame.clear();
                    long n;
                    while (!seen && (n = tap.read(new ByteBuffer[] {replyHeader, replyFrame}, 0, 2)) > 0) {
                        assertThat(replyHeader.hasRemaining()).isFalse();
                        assertThat(replyFrame.position()).isEqualTo((int) n - HEADER);
                        seen = (replyFrame.getShort(ETHERTYPE) & 0xffff) == ETHERTYPE_IPV4
                                && replyFrame.get(ETH_HEADER + 9) == 1 && replyFrame.get(ETH_HEADER + IPV4_HEADER) == 0;
                        if (!seen) {
                            replyHeader.clear();
                            replyFrame.clear();
                        }
                    }
                }
                assertThat(seen).as("ICMP echo reply within 10 s").isTrue();
                int ip = ETH_HEADER;
                int icmp = ip + IPV4_HEADER;
                assertThat(bytes(replyFrame, 0, 6)).isEqualTo(PEER_MAC);
                assertThat(bytes(replyFrame, ip + 12, 4)).as("source IP").isEqualTo(tapIp);
                assertThat(bytes(replyFrame, ip + 16, 4)).as("destination IP").isEqualTo(peerIp);
                assertThat(TestFrames.checksum(replyFrame, ip, IPV4_HEADER)).as("IP checksum verifies").isZero();
                assertThat(replyFrame.getShort(icmp + 4)).as("id").isEqualTo((short) 0x4a56);
                assertThat(replyFrame.getShort(icmp + 6)).as("sequence").isEqualTo((short) 7);
                assertThat(bytes(replyFrame, icmp + 8, payload.length)).isEqualTo(payload);
                assertThat(TestFrames.checksum(replyFrame, icmp, 8 + payload.length)).as("ICMP checksum verifies").isZero();
                epoll.remove(tap.fd());
            }
        }
    }

    /**
     * Reads frames until one matches, waiting with epoll, for at most 10 s; the buffer is filled with
     * 0x55 before each read, so untouched bytes show. Returns the frame's length (header included).
     */
    static int awaitFrame(Tap tap, Epoll epoll, ByteBuffer buffer, Predicate<ByteBuffer> wanted) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int[] tags = new int[4];
        while (System.nanoTime() < deadline) {
            epoll.wait(tags, 100);
            for (;;) {
                buffer.clear();
                while (buffer.hasRemaining()) {
                    buffer.put((byte) 0x55);
                }
                buffer.clear();
                int n = tap.read(buffer);
                if (n == 0) {
                    break;
                }
                if (wanted.test(buffer)) {
                    return n;
                }
            }
        }
        throw new AssertionError("no matching frame within 10 s");
    }
}
