package org.jvirtio.vring.split;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jvirtio.vring.testkit.RawSplitRing.INDIRECT;
import static org.jvirtio.vring.testkit.RawSplitRing.NEXT;
import static org.jvirtio.vring.testkit.RawSplitRing.WRITE;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.VringSetupException;
import org.jvirtio.vring.testkit.RawSplitRing;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Everything a driver can write wrongly into a split ring: each case breaks only the queue, with its
 * specific error, and no byte outside guest memory is touched (the guards around the region hold).
 */
class SplitBadInputTest {
    private static final int SIZE = 8;
    private static final long INDIRECT_FEATURES = VirtioFeature.of(VirtioFeature.RING_INDIRECT_DESC);

    private final TestMemory memory = new TestMemory(1 << 20);
    private final QueueConfig config = RingPlacement.place(memory, SIZE);
    private final RawSplitRing ring = new RawSplitRing(memory.map(), config);
    private final long buffer = memory.allocate(4096, 16);

    @AfterEach
    void nothingOutsideGuestMemoryWasTouched() {
        assertThat(memory.guardsIntact()).isTrue();
    }

    private QueueError popError(long features) throws VringSetupException {
        DeviceVring queue = Vrings.device(config, features, memory.map());
        DescriptorChain chain = queue.newChain();
        assertThat(queue.pop(chain)).isFalse();
        assertThat(queue.pop(chain)).as("a broken queue stays broken").isFalse();
        assertThat(queue.hasAvailable()).as("so that its worker looks at error()").isTrue();
        return queue.error();
    }

    @Test
    void descriptorLoopIsChainTooLong() throws Exception {
        ring.descriptor(0, buffer, 16, NEXT, 1).descriptor(1, buffer, 16, NEXT, 0).makeAvailable(0);
        assertThat(popError(0)).isEqualTo(QueueError.CHAIN_TOO_LONG);
    }

    @Test
    void chainThroughEveryDescriptorIsFineButOneMoreIsALoop() throws Exception {
        for (int i = 0; i < SIZE; i++) {
            ring.descriptor(i, buffer, 16, i < SIZE - 1 ? NEXT : 0, i + 1);
        }
        ring.makeAvailable(0);
        DeviceVring queue = Vrings.device(config, 0, memory.map());
        DescriptorChain chain = queue.newChain();
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.count()).isEqualTo(SIZE);
        queue.addUsed(chain, 0);
        ring.descriptor(SIZE - 1, buffer, 16, NEXT, 0).makeAvailable(0);
        assertThat(queue.pop(chain)).isFalse();
        assertThat(queue.error()).isEqualTo(QueueError.CHAIN_TOO_LONG);
    }

    @Test
    void nextIndexOutOfRange() throws Exception {
        ring.descriptor(0, buffer, 16, NEXT, SIZE).makeAvailable(0);
        assertThat(popError(0)).isEqualTo(QueueError.NEXT_OUT_OF_RANGE);
    }

    @Test
    void headOutOfRange() throws Exception {
        ring.makeAvailable(SIZE + 3);
        assertThat(popError(0)).isEqualTo(QueueError.HEAD_OUT_OF_RANGE);
    }

    @Test
    void availIndexMoreThanQueueSizeAhead() throws Exception {
        ring.descriptor(0, buffer, 16, 0, 0).setAvailIdx(SIZE + 1);
        assertThat(popError(0)).isEqualTo(QueueError.AVAIL_INDEX_TOO_FAR);
    }

    @Test
    void availIndexExactlyQueueSizeAheadIsAccepted() throws Exception {
        for (int i = 0; i < SIZE; i++) {
            ring.descriptor(i, buffer, 16, 0, 0).makeAvailable(i);
        }
        DeviceVring queue = Vrings.device(config, 0, memory.map());
        DescriptorChain chain = queue.newChain();
        int popped = 0;
        while (queue.pop(chain)) {
            popped++;
        }
        assertThat(popped).isEqualTo(SIZE);
        assertThat(queue.error()).isEqualTo(QueueError.NONE);
    }

    @Test
    void headMadeAvailableAgainWhileTheDeviceHoldsIt() throws Exception {
        ring.descriptor(0, buffer, 16, 0, 0).makeAvailable(0).makeAvailable(0);
        DeviceVring queue = Vrings.device(config, 0, memory.map());
        DescriptorChain chain = queue.newChain();
        assertThat(queue.pop(chain)).isTrue();
        assertThat(queue.pop(chain)).isFalse();
        assertThat(queue.error()).isEqualTo(QueueError.BUFFER_ID_IN_USE);
    }

    @Test
    void inOrderHeadOfferedAgainWhileItsCompletionWaitsForEarlierChains() throws Exception {
        ring.descriptor(0, buffer, 16, WRITE, 0).descriptor(1, buffer + 16, 16, WRITE, 0).makeAvailable(0).makeAvailable(1);
        DeviceVring queue = Vrings.device(config, VirtioFeature.of(VirtioFeature.IN_ORDER), memory.map());
        DescriptorChain chain = queue.newChain();
        assertThat(queue.pop(chain)).isTrue();
        assertThat(queue.pop(chain)).isTrue();
        queue.addUsed(1, 1, 16);
        assertThat(queue.publishUsed()).as("held back behind head 0").isFalse();
        ring.makeAvailable(1);
        assertThat(queue.pop(chain)).isFalse();
        assertThat(queue.error()).isEqualTo(QueueError.BUFFER_ID_IN_USE);
    }

    @Test
    void indirectInsideIndirect() throws Exception {
        long table = memory.allocate(64, 16);
        long inner = memory.allocate(16, 16);
        RawSplitRing.tableEntry(memory.map(), table, 0, buffer, 16, NEXT, 1);
        RawSplitRing.tableEntry(memory.map(), table, 1, inner, 16, INDIRECT, 0);
        ring.descriptor(0, table, 32, INDIRECT, 0).makeAvailable(0);
        assertThat(popError(INDIRECT_FEATURES)).isEqualTo(QueueError.INDIRECT_NESTED);
    }

    @Test
    void indirectLengthNotAMultipleOf16() throws Exception {
        long table = memory.allocate(64, 16);
        ring.descriptor(0, table, 17, INDIRECT, 0).makeAvailable(0);
        assertThat(popError(INDIRECT_FEATURES)).isEqualTo(QueueError.INDIRECT_BAD_LENGTH);
    }

    @Test
    void indirectLengthZero() throws Exception {
        ring.descriptor(0, memory.allocate(64, 16), 0, INDIRECT, 0).makeAvailable(0);
        assertThat(popError(INDIRECT_FEATURES)).isEqualTo(QueueError.INDIRECT_BAD_LENGTH);
    }

    @Test
    void indirectTableLargerThanAnyChain() throws Exception {
        ring.descriptor(0, buffer, 16 * 4096, INDIRECT, 0).makeAvailable(0);
        assertThat(popError(INDIRECT_FEATURES)).isEqualTo(QueueError.INDIRECT_BAD_LENGTH);
    }

    @Test
    void indirectTableWithALoopInside() throws Exception {
        long table = memory.allocate(64, 16);
        RawSplitRing.tableEntry(memory.map(), table, 0, buffer, 16, NEXT, 1);
        RawSplitRing.tableEntry(memory.map(), table, 1, buffer, 16, NEXT, 0);
        ring.descriptor(0, table, 32, INDIRECT, 0).makeAvailable(0);
        assertThat(popError(INDIRECT_FEATURES)).isEqualTo(QueueError.CHAIN_TOO_LONG);
    }

    @Test
    void indirectTableNextOutOfRange() throws Exception {
        long table = memory.allocate(64, 16);
        RawSplitRing.tableEntry(memory.map(), table, 0, buffer, 16, NEXT, 2);
        ring.descriptor(0, table, 32, INDIRECT, 0).makeAvailable(0);
        assertThat(popError(INDIRECT_FEATURES)).isEqualTo(QueueError.NEXT_OUT_OF_RANGE);
    }

    @Test
    void indirectWithNext() throws Exception {
        ring.descriptor(0, memory.allocate(64, 16), 32, INDIRECT | NEXT, 1).makeAvailable(0);
        assertThat(popError(INDIRECT_FEATURES)).isEqualTo(QueueError.INDIRECT_WITH_NEXT);
    }

    @Test
    void indirectWithoutTheFeature() throws Exception {
        ring.descriptor(0, memory.allocate(64, 16), 32, INDIRECT, 0).makeAvailable(0);
        assertThat(popError(0)).isEqualTo(QueueError.INDIRECT_NOT_NEGOTIATED);
    }

    @Test
    void indirectTableOutsideGuestMemory() throws Exception {
        ring.descriptor(0, memory.end() - 16, 32, INDIRECT, 0).makeAvailable(0);
        assertThat(popError(INDIRECT_FEATURES)).isEqualTo(QueueError.INDIRECT_OUTSIDE_MEMORY);
    }

    @Test
    void bufferPastTheEndOfGuestMemory() throws Exception {
        ring.descriptor(0, memory.end() - 1, 2, WRITE, 0).makeAvailable(0);
        assertThat(popError(0)).isEqualTo(QueueError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void bufferJustBeforeGuestMemory() throws Exception {
        ring.descriptor(0, TestMemory.BASE - 1, 1, WRITE, 0).makeAvailable(0);
        assertThat(popError(0)).isEqualTo(QueueError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void bufferAddressPlusLengthOverflows() throws Exception {
        ring.descriptor(0, 0xFFFF_FFFF_FFFF_FFF0L, 0x20, WRITE, 0).makeAvailable(0);
        assertThat(popError(0)).isEqualTo(QueueError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void bufferWithLengthOverTwoGigabytesIsUnsignedNotNegative() throws Exception {
        ring.descriptor(0, buffer, 0x8000_0000, 0, 0).makeAvailable(0);
        assertThat(popError(0)).isEqualTo(QueueError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void readableAfterWritable() throws Exception {
        ring.descriptor(0, buffer, 16, WRITE | NEXT, 1).descriptor(1, buffer + 16, 16, 0, 0).makeAvailable(0);
        assertThat(popError(0)).isEqualTo(QueueError.READABLE_AFTER_WRITABLE);
    }

    @Test
    void misalignedRings() {
        assertSetupError(new QueueConfig(SIZE, config.descriptorTable() + 8, config.driverArea(), config.deviceArea()),
                QueueError.RING_MISALIGNED);
        assertSetupError(new QueueConfig(SIZE, config.descriptorTable(), config.driverArea() + 1, config.deviceArea()),
                QueueError.RING_MISALIGNED);
        assertSetupError(new QueueConfig(SIZE, config.descriptorTable(), config.driverArea(), config.deviceArea() + 2),
                QueueError.RING_MISALIGNED);
    }

    @Test
    void ringsOutsideGuestMemory() {
        assertSetupError(new QueueConfig(SIZE, memory.end() - 64, config.driverArea(), config.deviceArea()),
                QueueError.RING_OUTSIDE_MEMORY);
        assertSetupError(new QueueConfig(SIZE, config.descriptorTable(), 0, config.deviceArea()),
                QueueError.RING_OUTSIDE_MEMORY);
        assertSetupError(new QueueConfig(SIZE, config.descriptorTable(), config.driverArea(), -4096),
                QueueError.RING_OUTSIDE_MEMORY);
    }

    @Test
    void queueSizeNotAPowerOfTwoOrOutOfRange() {
        for (int size : new int[] {0, 3, 100, 65536, -8}) {
            assertSetupError(new QueueConfig(size, config.descriptorTable(), config.driverArea(), config.deviceArea()),
                    QueueError.QUEUE_SIZE_INVALID);
        }
    }

    private void assertSetupError(QueueConfig bad, QueueError expected) {
        assertThatThrownBy(() -> Vrings.device(bad, 0, memory.map()))
                .isInstanceOf(VringSetupException.class)
                .satisfies(e -> assertThat(((VringSetupException) e).error()).isEqualTo(expected));
    }
}
