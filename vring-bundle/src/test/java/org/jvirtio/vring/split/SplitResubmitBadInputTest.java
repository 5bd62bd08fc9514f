package org.jvirtio.vring.split;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.vring.testkit.RawSplitRing.INDIRECT;
import static org.jvirtio.vring.testkit.RawSplitRing.NEXT;
import static org.jvirtio.vring.testkit.RawSplitRing.WRITE;

import java.nio.ByteBuffer;

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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Resubmitting split chains: heads the ring cannot take are refused and change nothing; a resubmitted
 * head whose descriptors break a rule breaks the queue on pop with the rule's specific error, never an
 * exception, and no byte outside guest memory is touched.
 */
class SplitResubmitBadInputTest {
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

    private DeviceVring device(long features) throws VringSetupException {
        return Vrings.device(config, features, memory.map());
    }

    /** Resubmits {@code head}, pops once expecting failure, checks the queue stays broken; returns why. */
    private QueueError popError(long features, int head) throws VringSetupException {
        DeviceVring queue = device(features);
        assertThat(queue.resubmitSplit(head)).isTrue();
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
    private static void assertUnchanged(DeviceVring queue, int inFlight) {
        assertThat(queue.hasAvailable()).isFalse();
        assertThat(queue.pop(queue.newChain())).isFalse();
        assertThat(queue.error()).isEqualTo(QueueError.NONE);
        assertThat(queue.inFlight()).isEqualTo(inFlight);
    }

    // --- refused calls ---

    @ParameterizedTest(name = "head {0}")
    @ValueSource(ints = {-1, SIZE, SIZE + 1, 0xFFFF, Integer.MIN_VALUE, Integer.MAX_VALUE})
    void headOutOfRangeIsRefused(int head) throws Exception {
        DeviceVring queue = device(0);
        assertThat(queue.resubmitSplit(head)).isFalse();
        assertUnchanged(queue, 0);
    }

    @Test
    void headQueuedTwiceIsRefusedTheSecondTime() throws Exception {
        ring.descriptor(3, buffer, 16, 0, 0);
        DeviceVring queue = device(0);
        assertThat(queue.resubmitSplit(3)).isTrue();
        assertThat(queue.resubmitSplit(3)).isFalse();
        DescriptorChain chain = queue.newChain();
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.head()).isEqualTo(3);
        assertUnchanged(queue, 1);
    }

    @Test
    void headHeldByTheDeviceIsRefused() throws Exception {
        ring.descriptor(2, buffer, 16, 0, 0).makeAvailable(2);
        DeviceVring queue = device(0);
        assertThat(queue.pop(queue.newChain())).isTrue();
        assertThat(queue.resubmitSplit(2)).isFalse();
        assertUnchanged(queue, 1);
    }

    @Test
    void headUsedAgainCanBeResubmittedAgain() throws Exception {
        ring.descriptor(2, buffer, 16, 0, 0);
        DeviceVring queue = device(0);
        DescriptorChain chain = queue.newChain();
        assertThat(queue.resubmitSplit(2)).isTrue();
        assertThat(queue.pop(chain)).isTrue();
        queue.addUsed(chain, 0);
        assertThat(queue.resubmitSplit(2)).isTrue();
        assertThat(queue.pop(chain)).isTrue();
        assertThat(queue.inFlight()).isEqualTo(1);
    }

    @Test
    void packedResubmitOnASplitRingIsRefused() throws Exception {
        DeviceVring queue = device(0);
        ByteBuffer copy = ByteBuffer.allocate(16);
        assertThat(queue.resubmitPacked(copy, 1)).isFalse();
        assertUnchanged(queue, 0);
    }

    // --- resubmitted heads whose descriptors break a rule ---

    @Test
    void descriptorLoop() throws Exception {
        ring.descriptor(0, buffer, 16, NEXT, 1).descriptor(1, buffer, 16, NEXT, 0);
        assertThat(popError(0, 0)).isEqualTo(QueueError.CHAIN_TOO_LONG);
    }

    @Test
    void nextOutOfRange() throws Exception {
        ring.descriptor(4, buffer, 16, NEXT, SIZE);
        assertThat(popError(0, 4)).isEqualTo(QueueError.NEXT_OUT_OF_RANGE);
    }

    @Test
    void indirectWithNext() throws Exception {
        long table = memory.allocate(16, 16);
        RawSplitRing.tableEntry(memory.map(), table, 0, buffer, 16, 0, 0);
        ring.descriptor(0, table, 16, INDIRECT | NEXT, 1).descriptor(1, buffer, 16, 0, 0);
        assertThat(popError(INDIRECT_FEATURES, 0)).isEqualTo(QueueError.INDIRECT_WITH_NEXT);
    }

    @Test
    void indirectInsideIndirect() throws Exception {
        long table = memory.allocate(32, 16);
        RawSplitRing.tableEntry(memory.map(), table, 0, buffer, 16, NEXT, 1);
        RawSplitRing.tableEntry(memory.map(), table, 1, table, 16, INDIRECT, 0);
        ring.descriptor(0, table, 32, INDIRECT, 0);
        assertThat(popError(INDIRECT_FEATURES, 0)).isEqualTo(QueueError.INDIRECT_NESTED);
    }

    @Test
    void indirectNotNegotiated() throws Exception {
        long table = memory.allocate(16, 16);
        RawSplitRing.tableEntry(memory.map(), table, 0, buffer, 16, 0, 0);
        ring.descriptor(0, table, 16, INDIRECT, 0);
        assertThat(popError(0, 0)).isEqualTo(QueueError.INDIRECT_NOT_NEGOTIATED);
    }

    @ParameterizedTest(name = "address {0}")
    @ValueSource(longs = {0, TestMemory.BASE - 16, 0xFFFF_FFFF_FFFF_FFF0L, Long.MIN_VALUE})
    void bufferOutsideMemory(long address) throws Exception {
        ring.descriptor(5, buffer, 16, NEXT, 6).descriptor(6, address, 0x20, WRITE, 0);
        assertThat(popError(0, 5)).isEqualTo(QueueError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void bufferCrossingTheEndOfMemory() throws Exception {
        ring.descriptor(0, memory.end() - 8, 16, 0, 0);
        assertThat(popError(0, 0)).isEqualTo(QueueError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void readableAfterWritable() throws Exception {
        ring.descriptor(0, buffer, 16, WRITE | NEXT, 1).descriptor(1, buffer, 16, 0, 0);
        assertThat(popError(0, 0)).isEqualTo(QueueError.READABLE_AFTER_WRITABLE);
    }

    @Test
    void resubmittedHeadMadeAvailableAgainWhileHeld() throws Exception {
        ring.descriptor(2, buffer, 16, 0, 0).makeAvailable(2);
        DeviceVring queue = device(0);
        assertThat(queue.resubmitSplit(2)).isTrue();
        assertThat(queue.pop(queue.newChain())).isTrue();
        assertThat(popError(queue)).isEqualTo(QueueError.BUFFER_ID_IN_USE);
    }
}
