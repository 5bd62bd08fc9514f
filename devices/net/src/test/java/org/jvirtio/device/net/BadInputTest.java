package org.jvirtio.device.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumSet;
import java.util.Set;

import org.jvirtio.api.queue.ScatterGatherList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each way a driver (or a backend) can get a frame wrong: the frame is dropped, its own counter moves
 * and no other drop counter does, and the queue then carries good frames both ways.
 */
class BadInputTest {
    private static final Set<NetCounter> DROPS = EnumSet.of(NetCounter.TX_SHORT_HEADER, NetCounter.TX_SHORT_FRAME,
            NetCounter.TX_LONG_FRAME, NetCounter.TX_GSO_NOT_NEGOTIATED, NetCounter.TX_CSUM_NOT_NEGOTIATED,
            NetCounter.TX_BAD_CSUM_OFFSETS, NetCounter.TX_BAD_GSO, NetCounter.TX_BAD_HDR_LEN,
            NetCounter.TX_WRITABLE_DESCRIPTOR, NetCounter.TX_GUEST_MEMORY, NetCounter.RX_NO_BUFFER,
            NetCounter.RX_CHAIN_TOO_SMALL, NetCounter.RX_CHAIN_READABLE, NetCounter.RX_LONG_FRAME,
            NetCounter.RX_GUEST_MEMORY, NetCounter.RX_FILTERED, NetCounter.RX_BAD_HEADER);
    private static final int MTU = 1500;

    private NetRig rig;

    private void start(boolean packed) throws Exception {
        rig = new NetRig(NetRig.options().mtu(MTU).build(), packed, 0);
    }

    /** Exactly one drop, counted as {@code counter} on queue {@code q}. */
    private void assertDropped(int q, NetCounter counter) {
        assertThat(rig.device.metrics(q).get(counter)).as(counter.name()).isEqualTo(1);
        for (NetCounter other : DROPS) {
            if (other != counter) {
                assertThat(rig.device.count(other)).as(other.name()).isZero();
            }
        }
    }

    @AfterEach
    void queuesGoOn() {
        rig.assertStillWorks();
    }

    private void transmitDropped(byte[] chain, NetCounter counter) {
        assertThat(rig.transmit(1, chain)).isZero();
        assertThat(rig.backend.sent).isEmpty();
        assertDropped(1, counter);
        assertThat(rig.device.metrics(1).get(NetCounter.TX_FRAMES)).isZero();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void txChainShorterThanTheHeader(boolean packed) throws Exception {
        start(packed);
        transmitDropped(new byte[NetHeader.SIZE - 1], NetCounter.TX_SHORT_HEADER);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void txFrameShorterThanAnEthernetHeader(boolean packed) throws Exception {
        start(packed);
        transmitDropped(new byte[NetHeader.SIZE + 13], NetCounter.TX_SHORT_FRAME);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void txFrameLongerThanMtuPlusEthernetPlusVlan(boolean packed) throws Exception {
        start(packed);
        transmitDropped(Frames.withHeader(Frames.frame(Frames.BROADCAST, Frames.mac(1), MTU + 19, 1)),
                NetCounter.TX_LONG_FRAME);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void txFrameOfExactlyMtuPlusEthernetPlusVlanGoesOut(boolean packed) throws Exception {
        start(packed);
        byte[] frame = Frames.frame(Frames.BROADCAST, Frames.mac(1), MTU + 18, 1);
        assertThat(rig.transmit(1, Frames.withHeader(frame))).isZero();
        assertThat(rig.backend.sent).containsExactly(frame);
        rig.backend.sent.clear();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void txHeaderAskingForGso(boolean packed) throws Exception {
        start(packed);
        transmitDropped(Frames.withHeader(0, 1 /* TCPV4 */, Frames.frame(Frames.BROADCAST, Frames.mac(1), 60, 1)),
                NetCounter.TX_GSO_NOT_NEGOTIATED);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void txHeaderAskingForChecksumNotNegotiated(boolean packed) throws Exception {
        rig = new NetRig(NetRig.options().mtu(MTU).build(), packed, 1L << NetFeatures.CSUM);
        transmitDropped(Frames.withHeader(NetHeader.F_NEEDS_CSUM, 0, Frames.frame(Frames.BROADCAST, Frames.mac(1), 60, 1)),
                NetCounter.TX_CSUM_NOT_NEGOTIATED);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void txChainWithAWritableDescriptor(boolean packed) throws Exception {
        start(packed);
        byte[] chain = Frames.withHeader(Frames.frame(Frames.BROADCAST, Frames.mac(1), 60, 1));
        int used = rig.submit(1, new ScatterGatherList(2).addReadable(rig.memory.store(chain), chain.length)
                .addWritable(rig.memory.allocate(64, 8), 64));
        assertThat(used).isZero();
        assertThat(rig.backend.sent).isEmpty();
        assertDropped(1, NetCounter.TX_WRITABLE_DESCRIPTOR);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void txHeaderAndFrameSpreadOverDescriptorsAndIndirectAreFine(boolean packed) throws Exception {
        start(packed);
        byte[] frame = Frames.frame(Frames.BROADCAST, Frames.mac(1), 300, 2);
        byte[] chain = Frames.withHeader(frame);
        long at = rig.memory.store(chain);
        ScatterGatherList sg = new ScatterGatherList(4).addReadable(at, 5).addReadable(at + 5, 20)
                .addReadable(at + 25, chain.length - 25);
        int t = rig.add(1, sg, true);
        assertThat(rig.drivers[1].pollUsed()).isEqualTo(t);
        assertThat(rig.backend.sent).containsExactly(frame);
        rig.backend.sent.clear();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void rxChainSmallerThanTheHeaderIsUsedEmpty(boolean packed) throws Exception {
        start(packed);
        int small = rig.postRx(0, NetHeader.SIZE - 1);
        int good = rig.postRx(0, 2048);
        byte[] frame = Frames.frame(Frames.mac(1), Frames.mac(2), 60, 3);
        assertThat(rig.backend.deliver(frame)).isTrue();
        NetRig.Used first = rig.pollRx(0);
        assertThat(first.token()).isEqualTo(small);
        assertThat(first.bytes()).isEmpty();
        NetRig.Used second = rig.pollRx(0);
        assertThat(second.token()).isEqualTo(good);
        assertThat(second.bytes()).hasSize(NetHeader.SIZE + 60);
        assertDropped(0, NetCounter.RX_CHAIN_TOO_SMALL);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void rxChainWithADeviceReadableDescriptorIsUsedEmpty(boolean packed) throws Exception {
        start(packed);
        long readable = rig.memory.store(new byte[64]);
        int bad = rig.add(0, new ScatterGatherList(2).addReadable(readable, 64)
                .addWritable(rig.memory.allocate(2048, 8), 2048), false);
        int good = rig.postRx(0, 2048);
        assertThat(rig.backend.deliver(Frames.frame(Frames.mac(1), Frames.mac(2), 60, 4))).isTrue();
        assertThat(rig.drivers[0].pollUsed()).isEqualTo(bad);
        assertThat(rig.drivers[0].lastUsedLength()).isZero();
        NetRig.Used second = rig.pollRx(0);
        assertThat(second.token()).isEqualTo(good);
        assertThat(second.bytes()).hasSize(NetHeader.SIZE + 60);
        assertDropped(0, NetCounter.RX_CHAIN_READABLE);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void rxFrameFromTheBackendLongerThanTheMaximum(boolean packed) throws Exception {
        start(packed);
        rig.postRx(0, 4096);
        assertThat(rig.backend.deliver(Frames.frame(Frames.mac(1), Frames.mac(2), MTU + 19, 5))).isFalse();
        assertDropped(0, NetCounter.RX_LONG_FRAME);
        assertThat(rig.pollRx(0)).isNull(); // the buffer was not touched: the next good frame takes it
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void txChecksumFieldBeyondTheFrame(boolean packed) throws Exception {
        start(packed);
        byte[] chain = Frames.withHeader(NetHeader.F_NEEDS_CSUM, 0, Frames.frame(Frames.BROADCAST, Frames.mac(1), 60, 1));
        ByteBuffer.wrap(chain).order(ByteOrder.LITTLE_ENDIAN).putShort(NetHeader.CSUM_START, (short) 34)
                .putShort(NetHeader.CSUM_OFFSET, (short) 25); // 34 + 25 + 2 = 61 > 60
        transmitDropped(chain, NetCounter.TX_BAD_CSUM_OFFSETS);
    }

    /**
     * A receive buffer that cannot be written once its chain was popped (the front end truncated the
     * memory file): in a batch of single-buffer chains that frame alone is dropped (RX_GUEST_MEMORY) and
     * its chain used empty, and the frames before and after it arrive whole, in order. Without CTRL_RX
     * nothing is filtered, so the batch goes to the queue whole (the path that writes runs of frames).
     */
    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void rxBufferThatCannotBeWrittenInTheMiddleOfABatch(boolean packed) throws Exception {
        InterceptingMemory[] refusing = new InterceptingMemory[1];
        rig = new NetRig(new CapturingBackend(), NetRig.options().mtu(MTU).build(), packed, 1L << NetFeatures.CTRL_RX,
                m -> refusing[0] != null ? refusing[0] : (refusing[0] = new InterceptingMemory(m)));
        int[] tokens = {rig.postRx(0, 256), rig.postRx(0, 256), rig.postRx(0, 256)};
        refusing[0].refuseWritesAt(rig.rxBuffers.get(tokens[1])[0]);
        ByteBuffer[] batch = new ByteBuffer[3];
        for (int i = 0; i < 3; i++) {
            batch[i] = ByteBuffer.wrap(Frames.frame(Frames.mac(1), Frames.mac(2), 60 + i, i));
        }

        assertThat(rig.backend.sink.receive(batch, 3)).as("the failed frame is taken, not refused").isEqualTo(3);
        rig.backend.sink.flush();

        for (int i = 0; i < 3; i++) {
            NetRig.Used used = rig.pollRx(0);
            assertThat(used.token()).as("used in order").isEqualTo(tokens[i]);
            if (i == 1) {
                assertThat(used.bytes()).as("used with length 0").isEmpty();
            } else {
                assertThat(java.util.Arrays.copyOfRange(used.bytes(), NetHeader.SIZE, used.bytes().length))
                        .isEqualTo(batch[i].array());
            }
            assertThat(batch[i].position()).isZero();
        }
        assertDropped(0, NetCounter.RX_GUEST_MEMORY);
        assertThat(rig.device.metrics(0).get(NetCounter.RX_FRAMES)).isEqualTo(2);
        assertThat(rig.device.metrics(0).get(NetCounter.RX_BYTES)).isEqualTo(60 + 62);
    }
}
