package org.jvirtio.device.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The virtio-net header in front of received frames, and how frames spread over rx chains. */
class ReceiveLayoutTest {

    private static int numBuffers(byte[] firstChain) {
        return ByteBuffer.wrap(firstChain).order(ByteOrder.LITTLE_ENDIAN).getShort(NetHeader.NUM_BUFFERS) & 0xFFFF;
    }

    /** Bytes 0..9 of the header are zero: no checksum or GSO information is ever given. */
    private static void assertPlainHeader(byte[] firstChain, int numBuffers) {
        assertThat(Arrays.copyOfRange(firstChain, 0, NetHeader.NUM_BUFFERS)).containsOnly(0);
        assertThat(numBuffers(firstChain)).isEqualTo(numBuffers);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void withoutMergeableBuffersEachFrameTakesOneChainAndNumBuffersIsOne(boolean packed) throws Exception {
        NetRig rig = new NetRig(NetRig.options().build(), packed, 1L << NetFeatures.MRG_RXBUF);
        assertThat(rig.features & 1L << NetFeatures.MRG_RXBUF).isZero();
        rig.postRx(0, 1000, 600); // one chain, two descriptors
        rig.postRx(0, 1600);
        byte[] first = Frames.frame(Frames.mac(1), Frames.mac(2), 1200, 1);
        byte[] second = Frames.frame(Frames.mac(1), Frames.mac(2), 60, 2);
        assertThat(rig.backend.deliver(first)).isTrue();
        assertThat(rig.backend.deliver(second)).isTrue();

        NetRig.Used a = rig.pollRx(0);
        assertThat(rig.drivers[0].lastUsedLength()).isEqualTo(NetHeader.SIZE + 1200);
        assertPlainHeader(a.bytes(), 1);
        byte[] whole = concat(Arrays.copyOf(a.bytes(), 1000), rig.memory.load(rig.rxBuffers.get(a.token())[1], 212));
        assertThat(Arrays.copyOfRange(whole, NetHeader.SIZE, whole.length)).isEqualTo(first);

        NetRig.Used b = rig.pollRx(0);
        assertPlainHeader(b.bytes(), 1);
        assertThat(Arrays.copyOfRange(b.bytes(), NetHeader.SIZE, b.bytes().length)).isEqualTo(second);
        assertThat(rig.pollRx(0)).isNull();
        assertThat(rig.device.metrics(0).get(NetCounter.RX_FRAMES)).isEqualTo(2);
        assertThat(rig.device.metrics(0).get(NetCounter.RX_BYTES)).isEqualTo(1260);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void aBatchIsWrittenInOrderUntilTheRingIsFull(boolean packed) throws Exception {
        NetRig rig = new NetRig(packed);
        rig.postRx(0, 128);
        rig.postRx(0, 128);
        ByteBuffer[] batch = new ByteBuffer[3];
        for (int i = 0; i < 3; i++) {
            batch[i] = ByteBuffer.wrap(Frames.frame(Frames.mac(1), Frames.mac(2), 60 + i, i));
        }
        assertThat(rig.backend.sink.receive(batch, 3)).as("the third finds no buffer").isEqualTo(2);
        rig.backend.sink.flush();
        for (int i = 0; i < 2; i++) {
            NetRig.Used u = rig.pollRx(0);
            assertPlainHeader(u.bytes(), 1);
            assertThat(Arrays.copyOfRange(u.bytes(), NetHeader.SIZE, u.bytes().length)).isEqualTo(batch[i].array());
            assertThat(batch[i].position()).isZero();
            assertThat(batch[i].remaining()).isEqualTo(60 + i);
        }
        assertThat(rig.pollRx(0)).isNull();
        assertThat(rig.device.metrics(0).get(NetCounter.RX_FRAMES)).isEqualTo(2);
        assertThat(rig.device.metrics(0).get(NetCounter.RX_NO_BUFFER)).isEqualTo(1);
    }

    /**
     * One batch over one-buffer chains (written straight from the popped chain: a short frame behind
     * its header in one copy, a long one in two) and a chain too small for its frame in between (the
     * frame then spans two chains through the held ones); every byte and the batch's counters.
     */
    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void aBatchMixesOneBufferFramesAndAFrameSpanningChains(boolean packed) throws Exception {
        NetRig rig = new NetRig(packed);
        for (int size : new int[] {2048, 2048, 64, 2048, 2048}) {
            rig.postRx(0, size);
        }
        int[] lengths = {60, 1400, 150, 60};
        ByteBuffer[] batch = new ByteBuffer[lengths.length];
        for (int i = 0; i < lengths.length; i++) {
            batch[i] = ByteBuffer.wrap(Frames.frame(Frames.mac(1), Frames.mac(2), lengths[i], 10 + i));
        }
        assertThat(rig.backend.sink.receive(batch, batch.length)).isEqualTo(batch.length);
        rig.backend.sink.flush();

        for (int i : new int[] {0, 1}) {
            NetRig.Used u = rig.pollRx(0);
            assertPlainHeader(u.bytes(), 1);
            assertThat(Arrays.copyOfRange(u.bytes(), NetHeader.SIZE, u.bytes().length)).isEqualTo(batch[i].array());
        }
        NetRig.Used head = rig.pollRx(0);
        NetRig.Used tail = rig.pollRx(0);
        assertPlainHeader(head.bytes(), 2);
        assertThat(head.bytes()).hasSize(64);
        assertThat(Arrays.copyOfRange(concat(head.bytes(), tail.bytes()), NetHeader.SIZE, NetHeader.SIZE + 150))
                .isEqualTo(batch[2].array());
        NetRig.Used last = rig.pollRx(0);
        assertPlainHeader(last.bytes(), 1);
        assertThat(Arrays.copyOfRange(last.bytes(), NetHeader.SIZE, last.bytes().length)).isEqualTo(batch[3].array());
        assertThat(rig.pollRx(0)).isNull();
        for (int i = 0; i < batch.length; i++) {
            assertThat(batch[i].position()).isZero();
            assertThat(batch[i].remaining()).isEqualTo(lengths[i]);
        }
        assertThat(rig.device.metrics(0).get(NetCounter.RX_FRAMES)).isEqualTo(4);
        assertThat(rig.device.metrics(0).get(NetCounter.RX_BYTES)).isEqualTo(60 + 1400 + 150 + 60);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void withMergeableBuffersAFrameSpansChainsAndTheFirstSaysHowMany(boolean packed) throws Exception {
        NetRig rig = new NetRig(packed);
        for (int i = 0; i < 4; i++) {
            rig.postRx(0, 64);
        }
        byte[] frame = Frames.frame(Frames.mac(1), Frames.mac(2), 150, 3); // 162 bytes with the header
        assertThat(rig.backend.deliver(frame)).isTrue();

        ByteArrayOutputStream got = new ByteArrayOutputStream();
        int[] lengths = new int[3];
        for (int i = 0; i < 3; i++) {
            NetRig.Used u = rig.pollRx(0);
            assertThat(u).as("chain %d", i).isNotNull();
            lengths[i] = u.bytes().length;
            if (i == 0) {
                assertPlainHeader(u.bytes(), 3);
            }
            got.writeBytes(u.bytes());
        }
        assertThat(lengths).containsExactly(64, 64, 34);
        assertThat(Arrays.copyOfRange(got.toByteArray(), NetHeader.SIZE, 162)).isEqualTo(frame);
        assertThat(rig.pollRx(0)).isNull();

        // the fourth chain is still the driver's, and takes the next small frame alone
        byte[] small = Frames.frame(Frames.mac(1), Frames.mac(2), 40, 4);
        assertThat(rig.backend.deliver(small)).isTrue();
        NetRig.Used u = rig.pollRx(0);
        assertPlainHeader(u.bytes(), 1);
        assertThat(Arrays.copyOfRange(u.bytes(), NetHeader.SIZE, u.bytes().length)).isEqualTo(small);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void aFrameWithoutEnoughBuffersIsDroppedAndTheBuffersWaitForTheNext(boolean packed) throws Exception {
        NetRig rig = new NetRig(packed);
        rig.postRx(0, 64);
        byte[] big = Frames.frame(Frames.mac(1), Frames.mac(2), 200, 5);
        assertThat(rig.backend.deliver(big)).isFalse();
        assertThat(rig.device.metrics(0).get(NetCounter.RX_NO_BUFFER)).isEqualTo(1);
        assertThat(rig.pollRx(0)).isNull(); // the chain was taken but not used: held for the next frame

        for (int i = 0; i < 3; i++) {
            rig.postRx(0, 64);
        }
        assertThat(rig.backend.deliver(big)).isTrue();
        NetRig.Used first = rig.pollRx(0);
        assertPlainHeader(first.bytes(), 4);
        int chains = 1;
        while (rig.pollRx(0) != null) {
            chains++;
        }
        assertThat(chains).isEqualTo(4);
        assertThat(rig.device.metrics(0).get(NetCounter.RX_FRAMES)).isEqualTo(1);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void noReceiveBufferAtAllDropsAndCounts(boolean packed) throws Exception {
        NetRig rig = new NetRig(packed);
        assertThat(rig.backend.deliver(Frames.frame(Frames.mac(1), Frames.mac(2), 60, 6))).isFalse();
        assertThat(rig.device.metrics(0).get(NetCounter.RX_NO_BUFFER)).isEqualTo(1);
        rig.assertStillWorks();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void usedBuffersAreVisibleOnlyAfterFlushAndInterruptOnce(boolean packed) throws Exception {
        NetRig rig = new NetRig(NetRig.options().build(), packed, 1L << 29 /* EVENT_IDX */);
        rig.postRx(0, 2048);
        rig.postRx(0, 2048);
        int before = rig.notifier.used.get(0);
        ByteBuffer a = ByteBuffer.wrap(Frames.frame(Frames.mac(1), Frames.mac(2), 60, 7));
        assertThat(rig.backend.sink.receive(a)).isTrue();
        assertThat(rig.backend.sink.receive(a)).isTrue();
        assertThat(rig.pollRx(0)).isNull();
        rig.backend.sink.flush();
        assertThat(rig.pollRx(0)).isNotNull();
        assertThat(rig.pollRx(0)).isNotNull();
        assertThat(rig.notifier.used.get(0) - before).isEqualTo(1);
    }

    /**
     * The one-buffer header is stored only where the buffer does not hold it already: a driver that
     * reposts its buffers finds the same header in the same place, and a store would take the line from
     * its core for nothing. Three buffers: the header already right, wrong in its first eight bytes
     * (flags), wrong in its last four (csum_offset); through both paths that write one-buffer headers (a
     * run of a batch, a single frame). Every header ends right, and only the two wrong ones are stored.
     */
    @ParameterizedTest(name = "packed={0}, batch={1}")
    @CsvSource({"false,true", "true,true", "false,false", "true,false"})
    void aHeaderAlreadyInPlaceIsNotStoredAgain(boolean packed, boolean batch) throws Exception {
        InterceptingMemory[] deviceMemory = new InterceptingMemory[1];
        // without CTRL_RX nothing is filtered: a batch reaches the queue whole, as runs of frames
        NetRig rig = new NetRig(new CapturingBackend(), NetRig.options().build(), packed, 1L << NetFeatures.CTRL_RX,
                m -> deviceMemory[0] != null ? deviceMemory[0] : (deviceMemory[0] = new InterceptingMemory(m)));
        byte[] right = new byte[NetHeader.SIZE];
        right[NetHeader.NUM_BUFFERS] = 1;
        byte[] wrongFlags = right.clone();
        wrongFlags[NetHeader.FLAGS] = 1;
        byte[] wrongCsumOffset = right.clone();
        wrongCsumOffset[NetHeader.CSUM_OFFSET] = 6;
        byte[][] headers = {right, wrongFlags, wrongCsumOffset};
        long[] headerAt = new long[headers.length];
        ByteBuffer[] frames = new ByteBuffer[headers.length];
        for (int i = 0; i < headers.length; i++) {
            headerAt[i] = rig.rxBuffers.get(rig.postRx(0, 256))[0];
            rig.memory.map().write(headerAt[i], headers[i], 0, NetHeader.SIZE); // the driver's side
            frames[i] = ByteBuffer.wrap(Frames.frame(Frames.mac(1), Frames.mac(2), 60 + i, i));
        }

        if (batch) {
            assertThat(rig.backend.sink.receive(frames, frames.length)).isEqualTo(frames.length);
            rig.backend.sink.flush();
        } else {
            for (ByteBuffer frame : frames) {
                assertThat(rig.backend.deliver(frame.array())).isTrue();
            }
        }

        for (ByteBuffer frame : frames) {
            NetRig.Used used = rig.pollRx(0);
            assertPlainHeader(used.bytes(), 1);
            assertThat(Arrays.copyOfRange(used.bytes(), NetHeader.SIZE, used.bytes().length)).isEqualTo(frame.array());
        }
        assertThat(deviceMemory[0].storesInto(headerAt[0], NetHeader.SIZE)).as("right already: not stored").isZero();
        assertThat(deviceMemory[0].storesInto(headerAt[1], NetHeader.SIZE)).as("wrong flags").isEqualTo(1);
        assertThat(deviceMemory[0].storesInto(headerAt[2], NetHeader.SIZE)).as("wrong csum_offset").isEqualTo(1);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
