package org.jvirtio.device.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

import org.jvirtio.device.net.backend.NetOffload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Offloads through the backend SPI: what the device offers over a backend that carries headers and
 * over one that does not, headers passed through unchanged both ways, and each header the device
 * cannot honour dropped under its own counter with the queues going on.
 */
class OffloadTest {
    private static final int MTU = 1500;
    private static final long ALL_OFFLOAD_FEATURES = 1L << NetFeatures.GUEST_CSUM | 1L << NetFeatures.CTRL_GUEST_OFFLOADS
            | 1L << NetFeatures.GUEST_TSO4 | 1L << NetFeatures.GUEST_TSO6 | 1L << NetFeatures.HOST_TSO4
            | 1L << NetFeatures.HOST_TSO6 | 1L << NetFeatures.GUEST_ECN | 1L << NetFeatures.HOST_ECN;
    private static final int GUEST_OFFLOADS = 5;

    private NetRig rig;

    private void start(boolean packed, long withheld) throws Exception {
        rig = new NetRig(new CapturingBackend(EnumSet.allOf(NetOffload.class)), NetRig.options().mtu(MTU).build(), packed,
                withheld);
    }

    /** A virtio-net header with these fields, little-endian. */
    static byte[] header(int flags, int gsoType, int hdrLen, int gsoSize, int csumStart, int csumOffset) {
        return ByteBuffer.allocate(NetHeader.SIZE).order(ByteOrder.LITTLE_ENDIAN).put((byte) flags).put((byte) gsoType)
                .putShort((short) hdrLen).putShort((short) gsoSize).putShort((short) csumStart)
                .putShort((short) csumOffset).array();
    }

    static byte[] join(byte[] header, byte[] frame) {
        byte[] b = Arrays.copyOf(header, header.length + frame.length);
        System.arraycopy(frame, 0, b, header.length, frame.length);
        return b;
    }

    private static byte[] frame(int length) {
        return Frames.frame(Frames.mac(1), Frames.mac(2), length, length);
    }

    @Test
    void offloadsAreOfferedOnlyOverABackendThatCarriesThem() throws Exception {
        long plain = new NetDevice(new CapturingBackend(), NetRig.options().build()).offeredFeatures();
        assertThat(plain & ALL_OFFLOAD_FEATURES).isZero();
        assertThat(plain & 1L << NetFeatures.CSUM).isNotZero(); // the device completes checksums itself
        long carried = new NetDevice(new CapturingBackend(EnumSet.allOf(NetOffload.class)), NetRig.options().build())
                .offeredFeatures();
        assertThat(carried & ALL_OFFLOAD_FEATURES).isEqualTo(ALL_OFFLOAD_FEATURES);
        long csumOnly = new NetDevice(new CapturingBackend(Set.of(NetOffload.CSUM)), NetRig.options().build())
                .offeredFeatures();
        assertThat(csumOnly & ALL_OFFLOAD_FEATURES)
                .isEqualTo(1L << NetFeatures.GUEST_CSUM | 1L << NetFeatures.CTRL_GUEST_OFFLOADS);
        long withoutCsum = new NetDevice(new CapturingBackend(EnumSet.allOf(NetOffload.class)),
                NetRig.options().csum(false).build()).offeredFeatures();
        assertThat(withoutCsum & (ALL_OFFLOAD_FEATURES | 1L << NetFeatures.CSUM)).isZero();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void aPartialChecksumGoesToTheBackendUnfinishedWithItsHeader(boolean packed) throws Exception {
        start(packed, 0);
        byte[] frame = frame(100);
        byte[] header = header(NetHeader.F_NEEDS_CSUM, 0, 54, 0, 34, 16);
        assertThat(rig.transmit(1, join(header, frame))).isZero();
        assertThat(rig.backend.sent).containsExactly(frame); // not completed: the backend does it
        assertThat(rig.backend.sentHeaders).hasSize(1);
        assertThat(Arrays.copyOf(rig.backend.sentHeaders.get(0), NetHeader.NUM_BUFFERS))
                .isEqualTo(Arrays.copyOf(header, NetHeader.NUM_BUFFERS));
        rig.backend.sent.clear();
        rig.assertStillWorks();
    }

    @ParameterizedTest(name = "gsoType={0}")
    @ValueSource(ints = {NetHeader.GSO_TCPV4, NetHeader.GSO_TCPV6})
    void aSegmentOf64KiBGoesToTheBackendWithItsHeader(int gsoType) throws Exception {
        start(false, 0);
        byte[] frame = frame(NetHeader.MAX_GSO_FRAME);
        byte[] header = header(NetHeader.F_NEEDS_CSUM, gsoType, 66, 1448, 34, 16);
        assertThat(rig.transmit(1, join(header, frame))).isZero();
        assertThat(rig.backend.sent).hasSize(1);
        assertThat(rig.backend.sent.get(0)).isEqualTo(frame);
        assertThat(rig.backend.sentHeaders.get(0)[NetHeader.GSO_TYPE]).isEqualTo((byte) gsoType);
        assertThat(rig.device.metrics(1).get(NetCounter.TX_BYTES)).isEqualTo(NetHeader.MAX_GSO_FRAME);
        rig.backend.sent.clear();
        rig.assertStillWorks();
    }

    /** Exactly one frame dropped on tx queue 1, counted as {@code counter}; then both ways still work. */
    private void transmitDropped(byte[] header, byte[] frame, NetCounter counter) {
        assertThat(rig.transmit(1, join(header, frame))).isZero();
        assertThat(rig.backend.sent).isEmpty();
        assertThat(rig.device.metrics(1).get(counter)).as(counter.name()).isEqualTo(1);
        for (NetCounter other : NetCounter.values()) {
            if (other != counter && other.name().startsWith("TX_")) { // no other drop, and no frame or byte sent
                assertThat(rig.device.metrics(1).get(other)).as(other.name()).isZero();
            }
        }
        rig.assertStillWorks();
    }

    @Test
    void aGsoTypeNotNegotiatedIsDropped() throws Exception {
        start(false, 1L << NetFeatures.HOST_TSO6);
        transmitDropped(header(NetHeader.F_NEEDS_CSUM, NetHeader.GSO_TCPV6, 54, 1448, 34, 16), frame(3000),
                NetCounter.TX_GSO_NOT_NEGOTIATED);
    }

    @ParameterizedTest(name = "gsoType={0}")
    @ValueSource(ints = {3 /* UDP */, 5 /* UDP_L4 */, 3 | NetHeader.GSO_ECN})
    void gsoTypesNeverOfferedAreDropped(int gsoType) throws Exception {
        start(false, 0);
        transmitDropped(header(NetHeader.F_NEEDS_CSUM, gsoType, 54, 1448, 34, 16), frame(3000),
                NetCounter.TX_GSO_NOT_NEGOTIATED);
    }

    @Test
    void ecnWithoutHostEcnIsDropped() throws Exception {
        start(false, 1L << NetFeatures.HOST_ECN);
        transmitDropped(header(NetHeader.F_NEEDS_CSUM, NetHeader.GSO_TCPV4 | NetHeader.GSO_ECN, 54, 1448, 34, 16),
                frame(3000), NetCounter.TX_GSO_NOT_NEGOTIATED);
    }

    @Test
    void ecnWithHostEcnGoesOutWithItsHeader() throws Exception {
        start(false, 0);
        byte[] header = header(NetHeader.F_NEEDS_CSUM, NetHeader.GSO_TCPV6 | NetHeader.GSO_ECN, 74, 1428, 54, 16);
        assertThat(rig.transmit(1, join(header, frame(3000)))).isZero();
        assertThat(rig.backend.sentHeaders).hasSize(1);
        assertThat(rig.backend.sentHeaders.get(0)[NetHeader.GSO_TYPE]).isEqualTo((byte) (NetHeader.GSO_TCPV6 | NetHeader.GSO_ECN));
        rig.backend.sent.clear();
        rig.assertStillWorks();
    }

    @Test
    void receivedEcnSegmentsNeedGuestEcn() throws Exception {
        start(false, 1L << NetFeatures.GUEST_ECN);
        assertThat(rig.backend.enabled).containsExactly(Set.of(NetOffload.CSUM, NetOffload.TSO4, NetOffload.TSO6));
        rig.postRx(0, 4096);
        byte[] ecn = header(NetHeader.F_NEEDS_CSUM, NetHeader.GSO_TCPV4 | NetHeader.GSO_ECN, 66, 1448, 34, 16);
        assertThat(rig.backend.deliverWithHeader(join(ecn, frame(3000)))).isFalse();
        assertThat(rig.device.metrics(0).get(NetCounter.RX_BAD_HEADER)).isEqualTo(1);
        byte[] plain = header(NetHeader.F_NEEDS_CSUM, NetHeader.GSO_TCPV4, 66, 1448, 34, 16);
        assertThat(rig.backend.deliverWithHeader(join(plain, frame(3000)))).isTrue();
        assertThat(rig.pollRx(0).bytes()[NetHeader.GSO_TYPE]).isEqualTo((byte) NetHeader.GSO_TCPV4);
        rig.assertStillWorks();
    }

    @Test
    void gsoWithGsoSizeZeroIsDropped() throws Exception {
        start(false, 0);
        transmitDropped(header(NetHeader.F_NEEDS_CSUM, NetHeader.GSO_TCPV4, 54, 0, 34, 16), frame(3000),
                NetCounter.TX_BAD_GSO);
    }

    @Test
    void gsoWithoutNeedsCsumIsDropped() throws Exception {
        start(false, 0);
        transmitDropped(header(0, NetHeader.GSO_TCPV4, 54, 1448, 34, 16), frame(3000), NetCounter.TX_BAD_GSO);
    }

    @Test
    void hdrLenBeyondTheFrameIsDropped() throws Exception {
        start(false, 0);
        transmitDropped(header(NetHeader.F_NEEDS_CSUM, NetHeader.GSO_TCPV4, 3001, 1448, 34, 16), frame(3000),
                NetCounter.TX_BAD_HDR_LEN);
    }

    @Test
    void checksumOffsetsBeyondTheFrameAreDropped() throws Exception {
        start(false, 0);
        transmitDropped(header(NetHeader.F_NEEDS_CSUM, NetHeader.GSO_TCPV4, 54, 1448, 2990, 9), frame(3000),
                NetCounter.TX_BAD_CSUM_OFFSETS);
    }

    @Test
    void aSegmentLongerThan64KiBIsDropped() throws Exception {
        start(false, 0);
        transmitDropped(header(NetHeader.F_NEEDS_CSUM, NetHeader.GSO_TCPV4, 54, 1448, 34, 16),
                frame(NetHeader.MAX_GSO_FRAME + 1), NetCounter.TX_LONG_FRAME);
    }

    @Test
    void aFrameWithoutGsoLongerThanTheMtuIsDroppedEvenWithTso() throws Exception {
        start(false, 0);
        transmitDropped(header(0, 0, 0, 0, 0, 0), frame(NetHeader.maxFrame(MTU) + 1), NetCounter.TX_LONG_FRAME);
    }

    @Test
    void withoutTsoNegotiatedAChainLongerThanTheMtuIsDroppedBeforeItIsRead() throws Exception {
        start(false, 1L << NetFeatures.HOST_TSO4 | 1L << NetFeatures.HOST_TSO6);
        transmitDropped(header(NetHeader.F_NEEDS_CSUM, NetHeader.GSO_TCPV4, 54, 1448, 34, 16), frame(3000),
                NetCounter.TX_LONG_FRAME);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void receivedOffloadHeadersReachTheDriver(boolean packed) throws Exception {
        start(packed, 0);
        assertThat(rig.backend.enabled).containsExactly(EnumSet.allOf(NetOffload.class));
        byte[] header = header(NetHeader.F_NEEDS_CSUM, NetHeader.GSO_TCPV4, 66, 1448, 34, 16);
        byte[] frame = frame(30_000);
        rig.postRx(0, 40_000);
        assertThat(rig.backend.deliverWithHeader(join(header, frame))).isTrue();
        NetRig.Used used = rig.pollRx(0);
        assertThat(used.bytes()).hasSize(NetHeader.SIZE + frame.length);
        assertThat(Arrays.copyOf(used.bytes(), NetHeader.NUM_BUFFERS)).isEqualTo(Arrays.copyOf(header, NetHeader.NUM_BUFFERS));
        assertThat(used.bytes()[NetHeader.NUM_BUFFERS]).isEqualTo((byte) 1);
        assertThat(Arrays.copyOfRange(used.bytes(), NetHeader.SIZE, used.bytes().length)).isEqualTo(frame);
        rig.assertStillWorks();
    }

    @Test
    void withoutGuestCsumTheDriverSeesNoFlagsAndNoPartialChecksum() throws Exception {
        start(false, 1L << NetFeatures.GUEST_CSUM | 1L << NetFeatures.GUEST_TSO4 | 1L << NetFeatures.GUEST_TSO6
                | 1L << NetFeatures.CTRL_GUEST_OFFLOADS);
        assertThat(rig.backend.enabled).containsExactly(Set.of());
        // a finished frame the kernel marked DATA_VALID: delivered, flags cleared
        rig.postRx(0, 2048);
        assertThat(rig.backend.deliverWithHeader(join(header(NetHeader.F_DATA_VALID, 0, 0, 0, 0, 0), frame(80)))).isTrue();
        assertThat(rig.pollRx(0).bytes()[NetHeader.FLAGS]).isZero();
        // a partial checksum the driver cannot finish: dropped
        assertThat(rig.backend.deliverWithHeader(join(header(NetHeader.F_NEEDS_CSUM, 0, 0, 0, 34, 16), frame(80))))
                .isFalse();
        assertThat(rig.device.metrics(0).get(NetCounter.RX_BAD_HEADER)).isEqualTo(1);
        rig.assertStillWorks();
    }

    @Test
    void receivedHeadersTheDriverCannotTakeAreDropped() throws Exception {
        start(false, 1L << NetFeatures.GUEST_TSO6);
        rig.postRx(0, 2048);
        byte[][] bad = {
            header(NetHeader.F_NEEDS_CSUM, NetHeader.GSO_TCPV6, 66, 1448, 34, 16), // TSO6 not negotiated
            header(NetHeader.F_NEEDS_CSUM, 3 /* UDP */, 66, 1448, 34, 16),
            header(NetHeader.F_NEEDS_CSUM, NetHeader.GSO_TCPV4, 66, 0, 34, 16), // no segment size
            header(0, NetHeader.GSO_TCPV4, 66, 1448, 34, 16), // segments without a partial checksum
            header(NetHeader.F_NEEDS_CSUM, 0, 0, 0, 60, 19), // the field beyond the 80-byte frame
        };
        for (byte[] header : bad) {
            assertThat(rig.backend.deliverWithHeader(join(header, frame(80)))).isFalse();
        }
        assertThat(rig.device.metrics(0).get(NetCounter.RX_BAD_HEADER)).isEqualTo(bad.length);
        assertThat(rig.device.metrics(0).get(NetCounter.RX_FRAMES)).isZero();
        assertThat(rig.backend.deliverWithHeader(new byte[NetHeader.SIZE - 1])).isFalse();
        assertThat(rig.device.metrics(0).get(NetCounter.RX_BAD_HEADER)).isEqualTo(bad.length + 1);
        assertThat(rig.pollRx(0)).isNull();
        rig.assertStillWorks();
    }

    private static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    @Test
    void guestOffloadsSetSwitchesWhatTheBackendProducesAndWhatThePathPasses() throws Exception {
        start(false, 1L << NetFeatures.GUEST_TSO6);
        assertThat(rig.backend.enabled).containsExactly(Set.of(NetOffload.CSUM, NetOffload.TSO4, NetOffload.TSO_ECN));
        // GUEST_TSO6 was not negotiated: ERR, nothing changes
        assertThat(rig.control(GUEST_OFFLOADS, 0, le64(1L << NetFeatures.GUEST_CSUM | 1L << NetFeatures.GUEST_TSO6)))
                .isEqualTo(1);
        assertThat(rig.device.metrics(rig.controlQueue()).get(NetCounter.CTRL_BAD_VALUE)).isEqualTo(1);
        assertThat(rig.control(GUEST_OFFLOADS, 0, new byte[4])).isEqualTo(1);
        assertThat(rig.device.metrics(rig.controlQueue()).get(NetCounter.CTRL_BAD_LENGTH)).isEqualTo(1);
        assertThat(rig.backend.enabled).hasSize(1);

        // everything off: the backend is told, and a partial checksum still under way is dropped
        assertThat(rig.control(GUEST_OFFLOADS, 0, le64(0))).isZero();
        assertThat(rig.backend.enabled).last().isEqualTo(Set.of());
        rig.postRx(0, 2048);
        assertThat(rig.backend.deliverWithHeader(join(header(NetHeader.F_NEEDS_CSUM, 0, 0, 0, 34, 16), frame(80))))
                .isFalse();
        assertThat(rig.device.metrics(0).get(NetCounter.RX_BAD_HEADER)).isEqualTo(1);

        // checksums back on
        assertThat(rig.control(GUEST_OFFLOADS, 0, le64(1L << NetFeatures.GUEST_CSUM))).isZero();
        assertThat(rig.backend.enabled).last().isEqualTo(Set.of(NetOffload.CSUM));
        assertThat(rig.backend.deliverWithHeader(join(header(NetHeader.F_NEEDS_CSUM, 0, 0, 0, 34, 16), frame(80))))
                .isTrue();
        assertThat(rig.pollRx(0).bytes()[NetHeader.FLAGS]).isEqualTo((byte) NetHeader.F_NEEDS_CSUM);
        rig.assertStillWorks();
    }
}
