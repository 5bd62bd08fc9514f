package org.jvirtio.vring.packed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jvirtio.vring.packed.RawPackedRing.AVAIL;
import static org.jvirtio.vring.packed.RawPackedRing.INDIRECT;
import static org.jvirtio.vring.packed.RawPackedRing.NEXT;
import static org.jvirtio.vring.packed.RawPackedRing.USED;
import static org.jvirtio.vring.packed.RawPackedRing.WRITE;

import java.nio.ByteBuffer;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.memory.MemoryBacking;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.VringSetupException;
import org.jvirtio.vring.memory.GuestMemoryMap;
import org.jvirtio.vring.memory.GuestRegion;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Everything a driver can write wrongly into a packed ring: each case breaks only the queue, with its
 * specific error, later pops keep failing, and no byte outside guest memory is touched.
 */
class PackedBadInputTest {
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

    /** Pops once, expecting failure; checks that the queue stays broken, and returns why. */
    private QueueError popError(long features) throws VringSetupException {
        return popError(device(features));
    }

    private static QueueError popError(DeviceVring queue) {
        DescriptorChain chain = queue.newChain();
        assertThat(queue.pop(chain)).isFalse();
        assertThat(queue.pop(chain)).as("a broken queue stays broken").isFalse();
        assertThat(queue.hasAvailable()).as("so that its worker looks at error()").isTrue();
        return queue.error();
    }

    // --- buffer ids ---

    @Test
    void bufferIdOutOfRange() throws Exception {
        ring.offer(buffer, 16, SIZE, 0);
        assertThat(popError(PACKED)).isEqualTo(QueueError.BUFFER_ID_OUT_OF_RANGE);
    }

    @Test
    void bufferIdOfTheLastDescriptorCounts() throws Exception {
        ring.offer(buffer, 16, 0, NEXT).offer(buffer, 16, 0xFFFF, 0);
        assertThat(popError(PACKED)).isEqualTo(QueueError.BUFFER_ID_OUT_OF_RANGE);
    }

    @Test
    void bufferIdMadeAvailableAgainWhileTheDeviceHoldsIt() throws Exception {
        ring.offer(buffer, 16, 3, 0).offer(buffer, 16, 3, 0);
        DeviceVring queue = device(PACKED);
        DescriptorChain chain = queue.newChain();
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.head()).isEqualTo(3);
        assertThat(popError(queue)).isEqualTo(QueueError.BUFFER_ID_IN_USE);
    }

    // --- chain length ---

    @Test
    void chainThroughEveryDescriptorIsFineButOneMoreIsALoop() throws Exception {
        for (int i = 0; i < SIZE; i++) {
            ring.offer(buffer, 16, 1, i < SIZE - 1 ? NEXT : 0);
        }
        DeviceVring queue = device(PACKED);
        DescriptorChain chain = queue.newChain();
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.count()).isEqualTo(SIZE);
        assertThat(chain.ringSlots()).isEqualTo(SIZE);
        queue.addUsed(chain, 0);
        queue.publishUsed();
        // next lap: every descriptor says NEXT, so the chain would run into its own head
        for (int i = 0; i < SIZE; i++) {
            ring.offer(buffer, 16, 1, NEXT);
        }
        assertThat(popError(queue)).isEqualTo(QueueError.CHAIN_TOO_LONG);
    }

    @Test
    void chainRunningIntoADescriptorNotAvailableIsTooLong() throws Exception {
        // NEXT on the last descriptor the driver made available: slot 2 still holds zero flags
        ring.offer(buffer, 16, 0, NEXT).offer(buffer, 16, 0, NEXT);
        assertThat(popError(PACKED)).isEqualTo(QueueError.CHAIN_TOO_LONG);
    }

    @Test
    void chainWhoseMiddleDescriptorBelongsToTheOtherLapIsTooLong() throws Exception {
        ring.offer(buffer, 16, 0, NEXT);
        ring.descriptor(1, buffer, 16, 0, USED); // AVAIL 0, USED 1: available in lap 0, not lap 1
        assertThat(popError(PACKED)).isEqualTo(QueueError.CHAIN_TOO_LONG);
    }

    // --- indirect tables ---

    @Test
    void indirectNotNegotiated() throws Exception {
        long table = memory.allocate(16, 16);
        RawPackedRing.tableEntry(memory.map(), table, 0, buffer, 16, 0);
        ring.offer(table, 16, 0, INDIRECT);
        assertThat(popError(PACKED)).isEqualTo(QueueError.INDIRECT_NOT_NEGOTIATED);
    }

    @ParameterizedTest(name = "length {0}")
    @ValueSource(ints = {0, 8, 17, 1025 * 16, -16})
    void indirectBadLength(int length) throws Exception {
        long table = memory.allocate(64, 16);
        ring.offer(table, length, 0, INDIRECT);
        assertThat(popError(INDIRECT_FEATURES)).isEqualTo(QueueError.INDIRECT_BAD_LENGTH);
    }

    @Test
    void indirectAsLongAsAllowedIsFine() throws Exception {
        int entries = 1024; // the longest chain a small queue accepts (RingArea.maxChainLength)
        long table = memory.allocate(16L * entries, 16);
        for (int i = 0; i < entries; i++) {
            RawPackedRing.tableEntry(memory.map(), table, i, buffer, 4, WRITE);
        }
        ring.offer(table, 16 * entries, 5, INDIRECT);
        DeviceVring queue = device(INDIRECT_FEATURES);
        DescriptorChain chain = queue.newChain();
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.count()).isEqualTo(entries);
        assertThat(chain.head()).isEqualTo(5);
        assertThat(chain.ringSlots()).isEqualTo(1);
    }

    @Test
    void indirectInsideIndirect() throws Exception {
        long table = memory.allocate(32, 16);
        long inner = memory.allocate(16, 16);
        RawPackedRing.tableEntry(memory.map(), inner, 0, buffer, 16, 0);
        RawPackedRing.tableEntry(memory.map(), table, 0, buffer, 16, 0);
        RawPackedRing.tableEntry(memory.map(), table, 1, inner, 16, INDIRECT);
        ring.offer(table, 32, 0, INDIRECT);
        assertThat(popError(INDIRECT_FEATURES)).isEqualTo(QueueError.INDIRECT_NESTED);
    }

    @Test
    void indirectTableCrossingTheEndOfMemory() throws Exception {
        ring.offer(memory.end() - 16, 32, 0, INDIRECT);
        assertThat(popError(INDIRECT_FEATURES)).isEqualTo(QueueError.INDIRECT_OUTSIDE_MEMORY);
    }

    @Test
    void indirectTablePastTheEndOfMemory() throws Exception {
        ring.offer(memory.end(), 16, 0, INDIRECT);
        assertThat(popError(INDIRECT_FEATURES)).isEqualTo(QueueError.INDIRECT_OUTSIDE_MEMORY);
    }

    @Test
    void indirectWithNext() throws Exception {
        long table = memory.allocate(16, 16);
        RawPackedRing.tableEntry(memory.map(), table, 0, buffer, 16, 0);
        ring.offer(table, 16, 0, INDIRECT | NEXT).offer(buffer, 16, 0, 0);
        assertThat(popError(INDIRECT_FEATURES)).isEqualTo(QueueError.INDIRECT_WITH_NEXT);
    }

    @Test
    void indirectAfterNextInAChain() throws Exception {
        long table = memory.allocate(16, 16);
        RawPackedRing.tableEntry(memory.map(), table, 0, buffer, 16, 0);
        ring.offer(buffer, 16, 0, NEXT).offer(table, 16, 0, INDIRECT);
        assertThat(popError(INDIRECT_FEATURES)).isEqualTo(QueueError.INDIRECT_WITH_NEXT);
    }

    @Test
    void indirectEntryOutsideMemory() throws Exception {
        long table = memory.allocate(32, 16);
        RawPackedRing.tableEntry(memory.map(), table, 0, buffer, 16, 0);
        RawPackedRing.tableEntry(memory.map(), table, 1, memory.end(), 16, WRITE);
        ring.offer(table, 32, 0, INDIRECT);
        assertThat(popError(INDIRECT_FEATURES)).isEqualTo(QueueError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void indirectEntriesReadableAfterWritable() throws Exception {
        long table = memory.allocate(32, 16);
        RawPackedRing.tableEntry(memory.map(), table, 0, buffer, 16, WRITE);
        RawPackedRing.tableEntry(memory.map(), table, 1, buffer, 16, 0);
        ring.offer(table, 32, 0, INDIRECT);
        assertThat(popError(INDIRECT_FEATURES)).isEqualTo(QueueError.READABLE_AFTER_WRITABLE);
    }

    // --- buffers ---

    @Test
    void bufferPastTheEndOfMemory() throws Exception {
        ring.offer(memory.end(), 16, 0, WRITE);
        assertThat(popError(PACKED)).isEqualTo(QueueError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void bufferCrossingTheEndOfMemory() throws Exception {
        ring.offer(buffer, 16, 0, NEXT).offer(memory.end() - 8, 16, 0, WRITE);
        assertThat(popError(PACKED)).isEqualTo(QueueError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void bufferBelowMemory() throws Exception {
        ring.offer(TestMemory.BASE - 16, 16, 0, 0);
        assertThat(popError(PACKED)).isEqualTo(QueueError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void bufferAddressPlusLengthOverflows() throws Exception {
        ring.offer(0xFFFF_FFFF_FFFF_FFF0L, 0x20, 0, WRITE);
        assertThat(popError(PACKED)).isEqualTo(QueueError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void bufferLengthAboveTwoGigabytes() throws Exception {
        ring.offer(buffer, 0x8000_0000, 0, 0);
        assertThat(popError(PACKED)).isEqualTo(QueueError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void readableAfterWritable() throws Exception {
        ring.offer(buffer, 16, 0, WRITE | NEXT).offer(buffer, 16, 0, 0);
        assertThat(popError(PACKED)).isEqualTo(QueueError.READABLE_AFTER_WRITABLE);
    }

    @Test
    void chainOverFourGigabytes() throws Exception {
        // a 4 GiB region that is never read or written: the walk only asks whether buffers lie in it
        MemoryBacking hollow = new MemoryBacking() {
            @Override
            public long size() {
                return 4L << 30;
            }

            @Override
            public ByteBuffer slice(long offset, int length) {
                return ByteBuffer.allocate(0);
            }
        };
        long high = 1L << 32;
        GuestMemoryMap map = GuestMemoryMap.of(memory.map().regions().get(0), new GuestRegion(high, hollow));
        ring.offer(high, 0x8000_0000, 0, NEXT).offer(high + 0x8000_0000L, 0x8000_0000, 0, WRITE);
        assertThat(popError(Vrings.device(config, PACKED, map))).isEqualTo(QueueError.CHAIN_TOO_LARGE);
    }

    // --- set-up ---

    @Test
    void misalignedDescriptorRing() {
        QueueConfig bad = config.copy().setDescriptorTable(config.descriptorTable() + 8);
        assertSetupError(bad, QueueError.RING_MISALIGNED);
    }

    @Test
    void misalignedDriverArea() {
        QueueConfig bad = config.copy().setDriverArea(config.driverArea() + 2);
        assertSetupError(bad, QueueError.RING_MISALIGNED);
    }

    @Test
    void misalignedDeviceArea() {
        QueueConfig bad = config.copy().setDeviceArea(config.deviceArea() + 1);
        assertSetupError(bad, QueueError.RING_MISALIGNED);
    }

    @Test
    void descriptorRingCrossingTheEndOfMemory() {
        QueueConfig bad = config.copy().setDescriptorTable(memory.end() - 16L * SIZE + 16);
        assertSetupError(bad, QueueError.RING_OUTSIDE_MEMORY);
    }

    @Test
    void eventAreaOutsideMemory() {
        assertSetupError(config.copy().setDriverArea(memory.end()), QueueError.RING_OUTSIDE_MEMORY);
        assertSetupError(config.copy().setDeviceArea(0), QueueError.RING_OUTSIDE_MEMORY);
    }

    @ParameterizedTest(name = "size {0}")
    @ValueSource(ints = {0, 32769, -1, 65536})
    void queueSizeInvalid(int size) {
        assertSetupError(config.copy().setSize(size), QueueError.QUEUE_SIZE_INVALID);
    }

    @Test
    void anySizeUpTo32768IsValid() throws Exception {
        TestMemory large = new TestMemory(1 << 20);
        for (int size : new int[] {1, 3, 100, 32768}) {
            QueueConfig c = RingPlacement.place(large, size);
            assertThat(Vrings.device(c, PACKED, large.map()).size()).isEqualTo(size);
            assertThat(Vrings.driver(c, PACKED, large.map()).size()).isEqualTo(size);
        }
    }

    private void assertSetupError(QueueConfig bad, QueueError expected) {
        assertThatThrownBy(() -> Vrings.device(bad, PACKED, memory.map()))
                .isInstanceOfSatisfying(VringSetupException.class, e -> assertThat(e.error()).isEqualTo(expected));
        assertThatThrownBy(() -> Vrings.driver(bad, PACKED, memory.map()))
                .isInstanceOfSatisfying(VringSetupException.class, e -> assertThat(e.error()).isEqualTo(expected));
    }

    // --- nothing is popped from a ring the driver has not touched ---

    @Test
    void zeroedRingHasNothingAvailable() throws Exception {
        DeviceVring queue = device(PACKED);
        assertThat(queue.hasAvailable()).isFalse();
        assertThat(queue.pop(queue.newChain())).isFalse();
        assertThat(queue.error()).isEqualTo(QueueError.NONE);
    }

    @Test
    void descriptorWithBothBitsEqualIsNotAvailable() throws Exception {
        ring.descriptor(0, buffer, 16, 0, AVAIL | USED);
        DeviceVring queue = device(PACKED);
        assertThat(queue.pop(queue.newChain())).isFalse();
        assertThat(queue.error()).isEqualTo(QueueError.NONE);
    }
}
