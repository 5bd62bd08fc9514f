package org.jvirtio.vring.packed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.vring.packed.RawPackedRing.AVAIL;
import static org.jvirtio.vring.packed.RawPackedRing.INDIRECT;
import static org.jvirtio.vring.packed.RawPackedRing.NEXT;
import static org.jvirtio.vring.packed.RawPackedRing.USED;
import static org.jvirtio.vring.packed.RawPackedRing.WRITE;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.VringSetupException;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Resubmitting packed chains from copies a front end could have written: calls the ring cannot take
 * are refused and change nothing; copies that break a rule break the queue on pop with the rule's
 * specific error, never an exception, and no byte outside guest memory is touched.
 */
class PackedResubmitBadInputTest {
    private static final int SIZE = 8;
    private static final long PACKED = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_PACKED);
    private static final long INDIRECT_FEATURES = PACKED | VirtioFeature.of(VirtioFeature.RING_INDIRECT_DESC);

    private final TestMemory memory = new TestMemory(1 << 20);
    private final QueueConfig config = RingPlacement.place(memory, SIZE);
    private final RawPackedRing ring = new RawPackedRing(memory.map(), config);
    private final long buffer = memory.allocate(4096, 16);

    @AfterEach
    void nothingOutsideGuestMemoryWasTouched() {
        assertThat(memory.guardsIntact()).isTrue();
    }

    private DeviceVring device(long features) throws VringSetupException {
        return Vrings.device(config, features, memory.map());
    }

    /** Copies in the packed descriptor layout, little-endian. */
    private static final class Copies {
        private final ByteBuffer bytes = ByteBuffer.allocate(16 * 64).order(ByteOrder.LITTLE_ENDIAN);

        Copies add(long address, int length, int id, int flags) {
            bytes.putLong(address).putInt(length).putShort((short) id).putShort((short) flags);
            return this;
        }

        ByteBuffer buffer() {
            return bytes.duplicate().flip();
        }

        int count() {
            return bytes.position() / 16;
        }
    }

    /** Resubmits {@code copies}, pops once expecting failure, checks the queue stays broken; returns why. */
    private QueueError popError(long features, Copies copies) throws VringSetupException {
        DeviceVring queue = device(features);
        assertThat(queue.resubmitPacked(copies.buffer(), copies.count())).isTrue();
        return popError(queue);
    }

    private static QueueError popError(DeviceVring queue) {
        int avail = queue.availPosition();
        DescriptorChain chain = queue.newChain();
        assertThat(queue.pop(chain)).isFalse();
        assertThat(queue.pop(chain)).as("a broken queue stays broken").isFalse();
        assertThat(queue.hasAvailable()).as("so that its worker looks at error()").isTrue();
        assertThat(queue.availPosition()).isEqualTo(avail);
        return queue.error();
    }

    /** A queue that refused a resubmit is as it was: nothing to pop, no error. */
    private static void assertUnchanged(DeviceVring queue) {
        assertThat(queue.hasAvailable()).isFalse();
        assertThat(queue.pop(queue.newChain())).isFalse();
        assertThat(queue.error()).isEqualTo(QueueError.NONE);
        assertThat(queue.inFlight()).isZero();
    }

    // --- refused calls ---

    @ParameterizedTest(name = "count {0}")
    @ValueSource(ints = {0, -1, SIZE + 1, Integer.MAX_VALUE, Integer.MIN_VALUE})
    void countOutOfRangeIsRefused(int count) throws Exception {
        DeviceVring queue = device(PACKED);
        ByteBuffer big = ByteBuffer.allocate(16 * (SIZE + 1));
        assertThat(queue.resubmitPacked(big, count)).isFalse();
        assertUnchanged(queue);
    }

    @Test
    void fewerBytesThanCountIsRefused() throws Exception {
        DeviceVring queue = device(PACKED);
        Copies copies = new Copies().add(buffer, 16, 0, NEXT).add(buffer, 16, 0, 0);
        ByteBuffer short1 = copies.buffer().limit(31);
        assertThat(queue.resubmitPacked(short1, 2)).isFalse();
        assertThat(short1.position()).isZero();
        assertUnchanged(queue);
    }

    @Test
    void chainsTogetherLargerThanTheRingAreRefusedOneByOne() throws Exception {
        DeviceVring queue = device(PACKED);
        Copies five = new Copies();
        for (int i = 0; i < 5; i++) {
            five.add(buffer, 16, 1, i < 4 ? NEXT : 0);
        }
        Copies four = new Copies();
        for (int i = 0; i < 4; i++) {
            four.add(buffer, 16, 2, i < 3 ? NEXT : 0);
        }
        assertThat(queue.resubmitPacked(five.buffer(), 5)).isTrue();
        assertThat(queue.resubmitPacked(four.buffer(), 4)).as("5 + 4 > " + SIZE).isFalse();
        assertThat(queue.resubmitPacked(four.buffer(), 3)).as("5 + 3 fits; the chain is checked on pop").isTrue();
        DescriptorChain chain = queue.newChain();
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.head()).isEqualTo(1);
        assertThat(chain.ringSlots()).isEqualTo(5);
        assertThat(queue.pop(chain)).isFalse();
        assertThat(queue.error()).as("three copies whose last says NEXT").isEqualTo(QueueError.CHAIN_TOO_LONG);
    }

    @Test
    void resubmitOfAPoppedChainFreesItsRoom() throws Exception {
        DeviceVring queue = device(PACKED);
        Copies full = new Copies();
        for (int i = 0; i < SIZE; i++) {
            full.add(buffer, 16, 1, i < SIZE - 1 ? NEXT : 0);
        }
        Copies one = new Copies().add(buffer, 16, 2, 0);
        assertThat(queue.resubmitPacked(full.buffer(), SIZE)).isTrue();
        assertThat(queue.resubmitPacked(one.buffer(), 1)).isFalse();
        DescriptorChain chain = queue.newChain();
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.ringSlots()).isEqualTo(SIZE);
        assertThat(queue.resubmitPacked(one.buffer(), 1)).isTrue();
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.head()).isEqualTo(2);
        assertThat(queue.inFlight()).isEqualTo(2);
    }

    @Test
    void copiesWrapAroundTheirStorageInOrder() throws Exception {
        DeviceVring queue = device(PACKED);
        DescriptorChain chain = queue.newChain();
        Copies three = new Copies();
        for (int i = 0; i < 3; i++) {
            three.add(buffer, 16, 1, i < 2 ? NEXT : 0);
        }
        assertThat(queue.resubmitPacked(three.buffer(), 3)).isTrue();
        assertThat(queue.pop(chain)).isTrue();
        Copies seven = new Copies();
        for (int i = 0; i < 7; i++) {
            seven.add(buffer + 16 * i, 16 + i, 2, i < 6 ? NEXT : 0);
        }
        assertThat(queue.resubmitPacked(seven.buffer(), 7)).as("3 popped: room again").isTrue();
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.head()).isEqualTo(2);
        assertThat(chain.count()).isEqualTo(7);
        for (int i = 0; i < 7; i++) {
            assertThat(chain.address(i)).isEqualTo(buffer + 16 * i);
            assertThat(chain.length(i)).isEqualTo(16 + i);
        }
    }

    @Test
    void splitResubmitOnAPackedRingIsRefused() throws Exception {
        DeviceVring queue = device(PACKED);
        assertThat(queue.resubmitSplit(0)).isFalse();
        assertUnchanged(queue);
    }

    @Test
    void copiesAreTakenFromThePositionInAnyByteOrderAndThePositionStays() throws Exception {
        Copies copies = new Copies().add(0, 0, 0, 0).add(buffer, 16, 3, NEXT).add(buffer + 16, 32, 4, WRITE);
        ByteBuffer source = copies.buffer();
        ByteBuffer bigEndian = source.asReadOnlyBuffer().order(ByteOrder.BIG_ENDIAN).position(16);
        DeviceVring queue = device(PACKED);
        assertThat(queue.resubmitPacked(bigEndian, 2)).isTrue();
        assertThat(bigEndian.position()).isEqualTo(16);
        source.putLong(16, 0); // copied at the call: later writes to the buffer do not matter
        DescriptorChain chain = queue.newChain();
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.head()).isEqualTo(4);
        assertThat(chain.count()).isEqualTo(2);
        assertThat(chain.address(0)).isEqualTo(buffer);
        assertThat(chain.length(1)).isEqualTo(32);
        assertThat(chain.isWritable(1)).isTrue();
        assertThat(chain.ringSlots()).isEqualTo(2);
    }

    @Test
    void copiesIgnoreTheirAvailAndUsedBits() throws Exception {
        Copies copies = new Copies().add(buffer, 16, 3, NEXT | AVAIL | USED).add(buffer, 16, 3, USED);
        DeviceVring queue = device(PACKED);
        assertThat(queue.resubmitPacked(copies.buffer(), 2)).isTrue();
        assertThat(queue.pop(queue.newChain())).isTrue();
    }

    // --- copies that break a rule ---

    @Test
    void nextOnTheLastCopyIsChainTooLong() throws Exception {
        Copies copies = new Copies().add(buffer, 16, 0, NEXT).add(buffer, 16, 0, NEXT);
        assertThat(popError(PACKED, copies)).isEqualTo(QueueError.CHAIN_TOO_LONG);
    }

    @Test
    void chainEndingBeforeTheLastCopyIsChainTooLong() throws Exception {
        Copies copies = new Copies().add(buffer, 16, 0, 0).add(buffer, 16, 1, 0);
        assertThat(popError(PACKED, copies)).isEqualTo(QueueError.CHAIN_TOO_LONG);
    }

    @Test
    void indirectWithNext() throws Exception {
        long table = memory.allocate(16, 16);
        RawPackedRing.tableEntry(memory.map(), table, 0, buffer, 16, 0);
        Copies copies = new Copies().add(table, 16, 0, INDIRECT | NEXT).add(buffer, 16, 0, 0);
        assertThat(popError(INDIRECT_FEATURES, copies)).isEqualTo(QueueError.INDIRECT_WITH_NEXT);
    }

    @Test
    void indirectAfterNext() throws Exception {
        long table = memory.allocate(16, 16);
        RawPackedRing.tableEntry(memory.map(), table, 0, buffer, 16, 0);
        Copies copies = new Copies().add(buffer, 16, 0, NEXT).add(table, 16, 0, INDIRECT);
        assertThat(popError(INDIRECT_FEATURES, copies)).isEqualTo(QueueError.INDIRECT_WITH_NEXT);
    }

    @Test
    void indirectFollowedByMoreCopiesIsChainTooLong() throws Exception {
        long table = memory.allocate(16, 16);
        RawPackedRing.tableEntry(memory.map(), table, 0, buffer, 16, 0);
        Copies copies = new Copies().add(table, 16, 0, INDIRECT).add(buffer, 16, 0, 0);
        assertThat(popError(INDIRECT_FEATURES, copies)).isEqualTo(QueueError.CHAIN_TOO_LONG);
    }

    @Test
    void indirectInsideIndirect() throws Exception {
        long table = memory.allocate(32, 16);
        long inner = memory.allocate(16, 16);
        RawPackedRing.tableEntry(memory.map(), inner, 0, buffer, 16, 0);
        RawPackedRing.tableEntry(memory.map(), table, 0, buffer, 16, 0);
        RawPackedRing.tableEntry(memory.map(), table, 1, inner, 16, INDIRECT);
        Copies copies = new Copies().add(table, 32, 0, INDIRECT);
        assertThat(popError(INDIRECT_FEATURES, copies)).isEqualTo(QueueError.INDIRECT_NESTED);
    }

    @Test
    void indirectNotNegotiated() throws Exception {
        long table = memory.allocate(16, 16);
        RawPackedRing.tableEntry(memory.map(), table, 0, buffer, 16, 0);
        Copies copies = new Copies().add(table, 16, 0, INDIRECT);
        assertThat(popError(PACKED, copies)).isEqualTo(QueueError.INDIRECT_NOT_NEGOTIATED);
    }

    @Test
    void indirectTableOutsideMemory() throws Exception {
        Copies copies = new Copies().add(memory.end() - 16, 32, 0, INDIRECT);
        assertThat(popError(INDIRECT_FEATURES, copies)).isEqualTo(QueueError.INDIRECT_OUTSIDE_MEMORY);
    }

    @Test
    void indirectBadLength() throws Exception {
        Copies copies = new Copies().add(buffer, 24, 0, INDIRECT);
        assertThat(popError(INDIRECT_FEATURES, copies)).isEqualTo(QueueError.INDIRECT_BAD_LENGTH);
    }

    @ParameterizedTest(name = "address {0}")
    @ValueSource(longs = {0, TestMemory.BASE - 16, 0xFFFF_FFFF_FFFF_FFF0L, Long.MIN_VALUE})
    void bufferOutsideMemory(long address) throws Exception {
        Copies copies = new Copies().add(buffer, 16, 0, NEXT).add(address, 0x20, 0, WRITE);
        assertThat(popError(PACKED, copies)).isEqualTo(QueueError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void bufferCrossingTheEndOfMemory() throws Exception {
        Copies copies = new Copies().add(memory.end() - 8, 16, 0, 0);
        assertThat(popError(PACKED, copies)).isEqualTo(QueueError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void readableAfterWritable() throws Exception {
        Copies copies = new Copies().add(buffer, 16, 0, WRITE | NEXT).add(buffer, 16, 0, 0);
        assertThat(popError(PACKED, copies)).isEqualTo(QueueError.READABLE_AFTER_WRITABLE);
    }

    @ParameterizedTest(name = "id {0}")
    @ValueSource(ints = {SIZE, SIZE + 1, 0xFFFF})
    void bufferIdOutOfRange(int id) throws Exception {
        Copies copies = new Copies().add(buffer, 16, 0, NEXT).add(buffer, 16, id, 0);
        assertThat(popError(PACKED, copies)).isEqualTo(QueueError.BUFFER_ID_OUT_OF_RANGE);
    }

    @Test
    void bufferIdResubmittedTwice() throws Exception {
        DeviceVring queue = device(PACKED);
        assertThat(queue.resubmitPacked(new Copies().add(buffer, 16, 3, 0).buffer(), 1)).isTrue();
        assertThat(queue.resubmitPacked(new Copies().add(buffer, 32, 3, 0).buffer(), 1)).isTrue();
        assertThat(queue.pop(queue.newChain())).isTrue();
        assertThat(popError(queue)).isEqualTo(QueueError.BUFFER_ID_IN_USE);
    }

    @Test
    void bufferIdResubmittedWhileTheRingOffersItAgain() throws Exception {
        DeviceVring queue = device(PACKED);
        assertThat(queue.resubmitPacked(new Copies().add(buffer, 16, 3, 0).buffer(), 1)).isTrue();
        ring.offer(buffer, 16, 3, 0);
        assertThat(queue.pop(queue.newChain())).isTrue();
        assertThat(popError(queue)).isEqualTo(QueueError.BUFFER_ID_IN_USE);
    }

    @Test
    void bufferIdHeldFromAFreshPop() throws Exception {
        ring.offer(buffer, 16, 5, 0);
        DeviceVring queue = device(PACKED);
        assertThat(queue.pop(queue.newChain())).isTrue();
        assertThat(queue.resubmitPacked(new Copies().add(buffer, 16, 5, 0).buffer(), 1)).isTrue();
        assertThat(popError(queue)).isEqualTo(QueueError.BUFFER_ID_IN_USE);
    }
}
