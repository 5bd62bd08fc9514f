package org.jvirtio.device.net.vhostuser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.DeviceActivationException;
import org.jvirtio.device.net.NetCounter;
import org.jvirtio.device.net.NetDevice;
import org.jvirtio.device.net.NetDeviceOptions;
import org.jvirtio.device.net.NetFeatures;
import org.jvirtio.device.net.NetHeader;
import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.tap.HostNamespace;
import org.jvirtio.device.net.backend.tap.TapBackend;
import org.jvirtio.device.net.backend.tap.TapPort;
import org.jvirtio.transport.vhostuser.VhostUserBackend;
import org.jvirtio.transport.vhostuser.VhostUserFrontend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The tap backend against the real kernel: a virtio-net device served over vhost-user, driven by the
 * Java front end as its guest, on a TAP interface that the test moves into a network namespace of its
 * own and addresses there. The namespace's stack answers the guest's ARP and ping, finishes the
 * guest's partial UDP checksum, and hands the guest partial checksums only when it negotiated
 * GUEST_CSUM. The guest talks to nothing but the namespace's one address.
 */
@Timeout(120)
class TapBackendTest {
    private static final byte[] GUEST_MAC = {0x52, 0x54, 0, 0x7a, 0x70, 0x01};

    @TempDir
    Path dir;

    private final int subnet = ThreadLocalRandom.current().nextInt(256);
    private final byte[] hostIp = {10, 98, (byte) subnet, 1};
    private final byte[] guestIp = {10, 98, (byte) subnet, 2};
    private final String ifname = HostNamespace.uniqueInterfaceName("jvtap");
    private HostNamespace namespace;
    private VhostUserBackend server;
    private VhostUserFrontend fe;
    private NetDevice device;
    private Guest guest;
    private byte[] hostMac;

    @AfterEach
    void close() throws Exception {
        if (fe != null) {
            fe.close();
        }
        if (server != null) {
            server.close();
        }
        if (device != null) {
            device.reset(); // closes the port: the TAP goes away with it
        }
        if (namespace != null) {
            namespace.close();
        }
    }

    private static final long GUEST_TSO4 = 1L << NetFeatures.GUEST_CSUM | 1L << NetFeatures.GUEST_TSO4;

    private static long features(boolean guestCsum) {
        long f = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_EVENT_IDX, NetFeatures.MAC,
                NetFeatures.STATUS, NetFeatures.MTU, NetFeatures.CTRL_VQ, NetFeatures.CTRL_RX, NetFeatures.MRG_RXBUF,
                NetFeatures.CSUM, NetFeatures.HOST_TSO4);
        return f | (guestCsum ? 1L << NetFeatures.GUEST_CSUM : 0);
    }

    /** Skips (fails in CI) where TAP interfaces or namespaces cannot be made. */
    private static void requireTapAndNamespaces() {
        if (!Files.exists(Path.of("/dev/net/tun"))) {
            HostNamespace.unavailable("no /dev/net/tun");
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            HostNamespace.unavailable("not root: TAP interfaces and namespaces need CAP_NET_ADMIN");
        }
    }

    private void start(boolean guestCsum) throws Exception {
        start(features(guestCsum));
    }

    /** The device on a new TAP, the guest connected, the TAP in the namespace with the host's address. */
    private void start(long features) throws Exception {
        requireTapAndNamespaces();
        namespace = HostNamespace.create();
        device = new NetDevice(new TapBackend(ifname, true), NetDeviceOptions.builder().mac(GUEST_MAC).queueSize(64).build());
        server = VhostUserBackend.start(device, dir.resolve("tap.sock"));
        fe = VhostUserFrontend.connect(dir.resolve("tap.sock"), new VhostUserFrontend.Options().queues(3, 64)
                .features(features));
        assertThat(fe.features()).isEqualTo(features);
        guest = new Guest(fe, true, 2048);
        // the device attached (and so created the interface) when the driver started it
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!HostNamespace.linkExists(ifname)) {
            assertThat(System.nanoTime()).as("TAP %s created", ifname).isLessThan(deadline);
            Thread.sleep(20);
        }
        namespace.adopt(ifname, Packets.ipText(hostIp) + "/30");
        namespace.neighbour(ifname, Packets.ipText(guestIp), GUEST_MAC);
        hostMac = namespace.mac(ifname);
    }

    /** Receives frames until one matches (at most 20 others in between). */
    private byte[] receiveMatching(Predicate<ByteBuffer> wanted, boolean withHeader) throws IOException {
        for (int i = 0; i < 20; i++) {
            byte[] headerAndFrame = guest.receiveWithHeader();
            ByteBuffer frame = ByteBuffer.wrap(headerAndFrame, NetHeader.SIZE, headerAndFrame.length - NetHeader.SIZE)
                    .slice();
            if (wanted.test(frame)) {
                return withHeader ? headerAndFrame : Arrays.copyOfRange(headerAndFrame, NetHeader.SIZE, headerAndFrame.length);
            }
        }
        throw new AssertionError("no matching frame among 20");
    }

    private static boolean isIpv4(ByteBuffer f, int protocol) {
        return f.limit() >= Packets.ETH + Packets.IP && (f.getShort(Packets.ETHERTYPE) & 0xffff) == Packets.ETHERTYPE_IPV4
                && f.get(Packets.ETH + 9) == protocol;
    }

    @Test
    void theHostAnswersArpAndPingThroughTheTap() throws Exception {
        start(false);
        guest.send(Packets.arpRequest(GUEST_MAC, guestIp, hostIp));
        ByteBuffer arp = ByteBuffer.wrap(receiveMatching(f -> (f.getShort(Packets.ETHERTYPE) & 0xffff) == Packets.ETHERTYPE_ARP
                && f.getShort(Packets.ETH + 6) == 2, false));
        assertThat(bytes(arp, 0, 6)).as("to the guest").isEqualTo(GUEST_MAC);
        assertThat(bytes(arp, Packets.ETH + 8, 6)).as("sender MAC").isEqualTo(hostMac);
        assertThat(bytes(arp, Packets.ETH + 14, 4)).as("sender IP").isEqualTo(hostIp);

        byte[] data = "jvirtio tap".getBytes(StandardCharsets.US_ASCII);
        guest.send(Packets.echoRequest(hostMac, GUEST_MAC, guestIp, hostIp, (short) 0x7a70, (short) 1, data));
        ByteBuffer reply = ByteBuffer.wrap(receiveMatching(f -> isIpv4(f, Packets.PROTO_ICMP)
                && f.get(Packets.ETH + Packets.IP) == 0, false));
        int icmp = Packets.ETH + Packets.IP;
        assertThat(bytes(reply, Packets.ETH + 12, 4)).as("from the host").isEqualTo(hostIp);
        assertThat(bytes(reply, Packets.ETH + 16, 4)).as("to the guest").isEqualTo(guestIp);
        assertThat(Packets.checksum(reply, Packets.ETH, Packets.IP)).as("IP checksum verifies").isZero();
        assertThat(reply.getShort(icmp + 4)).isEqualTo((short) 0x7a70);
        assertThat(bytes(reply, icmp + 8, data.length)).isEqualTo(data);
        assertThat(Packets.checksum(reply, icmp, 8 + data.length)).as("ICMP checksum verifies").isZero();
        assertThat(device.metrics(1).get(NetCounter.TX_FRAMES)).isEqualTo(2);
        assertThat(device.count(NetCounter.RX_BAD_HEADER)).isZero();
    }

    /**
     * The guest leaves its UDP checksum partial (CSUM); the header crosses the tap backend, and the
     * host's stack takes the datagram as checksummed: to a closed port it answers "port unreachable".
     * Had the header been lost, the field would hold only the pseudo-header sum, the stack would drop
     * the datagram as corrupt (InCsumErrors) and answer nothing.
     */
    @Test
    void aPartialUdpChecksumIsFinishedOnTheHostSide() throws Exception {
        start(false);
        byte[] data = "partial checksum".getBytes(StandardCharsets.US_ASCII);
        byte[] udp = Packets.udpWithPartialChecksum(hostMac, GUEST_MAC, guestIp, hostIp, 40000, 9, data);
        byte[] header = ByteBuffer.allocate(NetHeader.SIZE).order(ByteOrder.LITTLE_ENDIAN)
                .put(NetHeader.FLAGS, (byte) NetHeader.F_NEEDS_CSUM)
                .putShort(NetHeader.CSUM_START, (short) (Packets.ETH + Packets.IP)).putShort(NetHeader.CSUM_OFFSET, (short) 6)
                .array();
        guest.send(1, header, udp);
        ByteBuffer unreachable = ByteBuffer.wrap(receiveMatching(f -> isIpv4(f, Packets.PROTO_ICMP)
                && f.get(Packets.ETH + Packets.IP) == 3, false));
        int icmp = Packets.ETH + Packets.IP;
        assertThat(unreachable.get(icmp + 1)).as("port unreachable").isEqualTo((byte) 3);
        assertThat(unreachable.getShort(icmp + 8 + Packets.IP + 2)).as("quoting our destination port").isEqualTo((short) 9);
        String snmp = namespace.exec("cat", "/proc/net/snmp");
        assertThat(udpCounter(snmp, "InCsumErrors")).isZero();
    }

    /**
     * HOST_TSO4: the guest hands over one 4 KiB TCP segment (gso_size 1448) to a closed port; the
     * host's stack takes it whole, checksum partial, and answers with a reset whose sequence number is
     * our acknowledgement number. A lost NEEDS_CSUM would leave it a wrong checksum and no answer; a
     * malformed GSO header the kernel refuses (EINVAL, counted by the port as an error).
     */
    @Test
    void aTsoSegmentCrossesTheTapWhole() throws Exception {
        start(false);
        byte[] data = new byte[4000];
        Arrays.fill(data, (byte) 'j');
        int ack = 0x6a76_7470;
        byte[] segment = Packets.tcpWithPartialChecksum(hostMac, GUEST_MAC, guestIp, hostIp, 40001, 9, 1, ack, data);
        int headers = Packets.ETH + Packets.IP + Packets.TCP;
        byte[] header = ByteBuffer.allocate(NetHeader.SIZE).order(ByteOrder.LITTLE_ENDIAN)
                .put(NetHeader.FLAGS, (byte) NetHeader.F_NEEDS_CSUM).put(NetHeader.GSO_TYPE, (byte) NetHeader.GSO_TCPV4)
                .putShort(NetHeader.HDR_LEN, (short) headers).putShort(NetHeader.GSO_SIZE, (short) 1448)
                .putShort(NetHeader.CSUM_START, (short) (Packets.ETH + Packets.IP)).putShort(NetHeader.CSUM_OFFSET, (short) 16)
                .array();
        guest.send(1, header, segment);
        int tcp = Packets.ETH + Packets.IP;
        ByteBuffer reset = ByteBuffer.wrap(receiveMatching(f -> isIpv4(f, Packets.PROTO_TCP)
                && (f.get(tcp + 13) & Packets.TCP_RST) != 0, false));
        assertThat(reset.getShort(tcp)).as("from the closed port").isEqualTo((short) 9);
        assertThat(reset.getInt(tcp + 4)).as("the reset's sequence number is our ack").isEqualTo(ack);
        assertThat(device.metrics(1).get(NetCounter.TX_BYTES)).isEqualTo(segment.length);
    }

    /**
     * The host sends the guest a UDP datagram. With GUEST_CSUM the TAP was told (TUNSETOFFLOAD) and
     * the guest gets the checksum partial, with NEEDS_CSUM; without it the guest gets it finished and
     * no flags.
     */
    @ParameterizedTest(name = "guestCsum={0}")
    @ValueSource(booleans = {false, true})
    void theHostLeavesChecksumsToTheGuestOnlyWhenItNegotiatedGuestCsum(boolean guestCsum) throws Exception {
        start(guestCsum);
        namespace.exec("bash", "-c", "echo -n jvirtio > /dev/udp/" + Packets.ipText(guestIp) + "/5555");
        byte[] headerAndFrame = receiveMatching(f -> isIpv4(f, Packets.PROTO_UDP), true);
        ByteBuffer header = ByteBuffer.wrap(headerAndFrame).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer frame = ByteBuffer.wrap(headerAndFrame, NetHeader.SIZE, headerAndFrame.length - NetHeader.SIZE).slice();
        assertThat(frame.getShort(Packets.ETH + Packets.IP + 2)).as("destination port").isEqualTo((short) 5555);
        if (guestCsum) {
            assertThat(header.get(NetHeader.FLAGS) & NetHeader.F_NEEDS_CSUM).isEqualTo(NetHeader.F_NEEDS_CSUM);
            assertThat(header.getShort(NetHeader.CSUM_START)).isEqualTo((short) (Packets.ETH + Packets.IP));
            assertThat(header.getShort(NetHeader.CSUM_OFFSET)).isEqualTo((short) 6);
        } else {
            assertThat(header.get(NetHeader.FLAGS)).isZero();
            assertThat(Packets.udpChecksum(frame)).as("UDP checksum verifies").isZero();
        }
        assertThat(header.get(NetHeader.GSO_TYPE)).isZero();
    }

    /**
     * GUEST_TSO4: the TAP is told (TUN_F_TSO4), so the host's TCP sends the guest segments larger than
     * the MTU, described by the header (gso_type TCPV4, gso_size, a partial checksum), across several
     * mergeable receive buffers. The guest plays just enough TCP: it answers the host's SYN.
     */
    @Test
    void theHostSendsTheGuestWholeTsoSegmentsWhenItNegotiatedGuestTso4() throws Exception {
        start(features(true) | GUEST_TSO4);
        Process client = new ProcessBuilder("ip", "netns", "exec", namespace.name, "bash", "-c",
                "head -c 60000 /dev/zero > /dev/tcp/" + Packets.ipText(guestIp) + "/7000").redirectErrorStream(true).start();
        try {
            int tcp = Packets.ETH + Packets.IP;
            ByteBuffer syn = ByteBuffer.wrap(receiveMatching(f -> isIpv4(f, Packets.PROTO_TCP)
                    && f.getShort(tcp + 2) == 7000 && (f.get(tcp + 13) & Packets.TCP_SYN) != 0, false));
            int clientPort = syn.getShort(tcp) & 0xffff;
            guest.send(Packets.synAck(hostMac, GUEST_MAC, guestIp, hostIp, 7000, clientPort, 0x1000, syn.getInt(tcp + 4)));
            byte[] headerAndFrame = receiveMatching(f -> isIpv4(f, Packets.PROTO_TCP) && f.getShort(tcp + 2) == 7000
                    && f.limit() > 1514, true);
            ByteBuffer header = ByteBuffer.wrap(headerAndFrame).order(ByteOrder.LITTLE_ENDIAN);
            assertThat(header.get(NetHeader.GSO_TYPE)).isEqualTo((byte) NetHeader.GSO_TCPV4);
            assertThat(header.getShort(NetHeader.GSO_SIZE)).isBetween((short) 536, (short) 1460);
            assertThat(header.get(NetHeader.FLAGS) & NetHeader.F_NEEDS_CSUM).isEqualTo(NetHeader.F_NEEDS_CSUM);
            assertThat(header.getShort(NetHeader.NUM_BUFFERS)).as("spread over 2 KiB buffers").isGreaterThan((short) 1);
            assertThat(device.count(NetCounter.RX_BAD_HEADER) + device.count(NetCounter.RX_LONG_FRAME)).isZero();
        } finally {
            client.destroyForcibly();
        }
    }

    /** "Udp: InDatagrams NoPorts InErrors ..." then the values: the one named {@code field}. */
    private static long udpCounter(String snmp, String field) {
        String[] lines = snmp.lines().filter(l -> l.startsWith("Udp:")).toArray(String[]::new);
        String[] names = lines[0].split("\\s+");
        String[] values = lines[1].split("\\s+");
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(field)) {
                return Long.parseLong(values[i]);
            }
        }
        throw new AssertionError("no Udp " + field + " in " + snmp);
    }

    /** The driver goes away: the transport resets the device, which closes its port, its reader and its TAP. */
    @Test
    void aDeviceResetStopsTheReaderAndClosesTheTap() throws Exception {
        start(false);
        assertThat(readerThreads()).isEqualTo(1);
        fe.close();
        fe = null;
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (readerThreads() != 0 || namespace.ip("-o", "link", "show").contains(ifname)) {
            assertThat(System.nanoTime()).as("reader stopped and %s gone after the reset", ifname).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private static final FrameSink NOWHERE = new FrameSink() {
        @Override
        public boolean receive(ByteBuffer frame) {
            return true;
        }

        @Override
        public void flush() {
        }
    };

    @Test
    void aBackendWithoutAnInterfaceNameIsRefused() {
        assertThatThrownBy(() -> new TapBackend(" ", true)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ifname");
    }

    @Test
    void anInterfaceThatCannotBeOpenedFailsTheAttachByName() {
        TapBackend tooLong = new TapBackend("a-name-of-16-byt", true);
        assertThatThrownBy(() -> tooLong.attach(NOWHERE, GUEST_MAC)).isInstanceOf(DeviceActivationException.class)
                .hasMessageContaining("a-name-of-16-byt");
    }

    @Test
    void aSecondDeviceOnTheSameInterfaceFailsNamingItAndClosingRemovesTheInterface() throws Exception {
        requireTapAndNamespaces();
        TapBackend backend = new TapBackend(ifname, true);
        TapPort first = backend.attach(NOWHERE, GUEST_MAC);
        try {
            assertThat(first.ifname()).isEqualTo(ifname);
            assertThat(HostNamespace.linkExists(ifname)).isTrue();
            assertThat(readerThreads()).isEqualTo(1);
            assertThatThrownBy(() -> backend.attach(NOWHERE, GUEST_MAC)).isInstanceOf(DeviceActivationException.class)
                    .hasMessageContaining(ifname).hasMessageContaining("EBUSY");
        } finally {
            first.close();
        }
        assertThat(HostNamespace.linkExists(ifname)).isFalse();
        assertThat(readerThreads()).isZero();
        first.close(); // a second close does nothing
    }

    private long readerThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("jvirtio-tap-" + ifname))
                .count();
    }

    private static byte[] bytes(ByteBuffer b, int offset, int length) {
        byte[] out = new byte[length];
        b.get(offset, out);
        return out;
    }
}
