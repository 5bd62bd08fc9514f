package org.jvirtio.vring.packed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.api.queue.DriverQueue.NO_TOKEN;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a device can write wrongly into a packed ring, seen from the driver side: the queue breaks
 * with its specific error, later polls return nothing, and the driver's own bookkeeping is untouched.
 */
class PackedDriverBadInputTest {
    private PackedPair pair;
    private long buffer;
    private int id;

    @BeforeEach
    void oneBufferInFlight() throws Exception {
        open(0);
    }

    private void open(long features) throws Exception {
        pair = new PackedPair(4, features);
        buffer = pair.memory.allocate(64, 16);
        assertThat(pair.driver.add(new ScatterGatherList(2).addReadable(buffer, 16).addWritable(buffer + 16, 32), 9,
                false)).isTrue();
        pair.driver.kick();
        id = pair.raw.id(1);
    }

    @AfterEach
    void guards() {
        assertThat(pair.memory.guardsIntact()).isTrue();
    }

    private void assertBroken(QueueError expected) {
        assertThat(pair.driver.pollUsed()).isEqualTo(NO_TOKEN);
        assertThat(pair.driver.error()).isEqualTo(expected);
        assertThat(pair.driver.pollUsed()).as("stays broken").isEqualTo(NO_TOKEN);
        assertThat(pair.driver.enableInterrupts()).as("so that its owner looks at error()").isTrue();
        assertThat(pair.driver.inFlight()).isEqualTo(1);
        assertThat(pair.driver.add(new ScatterGatherList(1).addReadable(buffer, 8), 10, false)).isFalse();
    }

    @Test
    void usedIdNotInFlight() {
        pair.raw.used(0, (id + 1) % 4, 0, true);
        assertBroken(QueueError.USED_ID_INVALID);
    }

    @Test
    void usedIdOutOfRange() {
        pair.raw.used(0, 4, 0, true);
        assertBroken(QueueError.USED_ID_INVALID);
    }

    @Test
    void usedIdAlreadyReturned() {
        pair.raw.used(0, id, 32, true);
        assertThat(pair.driver.pollUsed()).isEqualTo(9);
        pair.driver.add(new ScatterGatherList(1).addReadable(buffer, 8), 10, false);
        pair.raw.used(2, id == 0 ? 1 : 0, 0, true); // an id that is free again
        assertThat(pair.driver.pollUsed()).isEqualTo(NO_TOKEN);
        assertThat(pair.driver.error()).isEqualTo(QueueError.USED_ID_INVALID);
    }

    @Test
    void usedLengthLargerThanTheWritableBytes() {
        pair.raw.used(0, id, 33, true);
        assertBroken(QueueError.USED_LENGTH_TOO_LARGE);
    }

    @Test
    void usedLengthNegativeAsUnsigned() {
        pair.raw.used(0, id, -1, true);
        assertBroken(QueueError.USED_LENGTH_TOO_LARGE);
    }

    @Test
    void usedLengthEqualToTheWritableBytesIsFine() {
        pair.raw.used(0, id, 32, true);
        assertThat(pair.driver.pollUsed()).isEqualTo(9);
        assertThat(pair.driver.lastUsedLength()).isEqualTo(32);
        assertThat(pair.driver.error()).isEqualTo(QueueError.NONE);
    }

    @Test
    void usedDescriptorOfTheWrongLapIsNotSeen() {
        pair.raw.used(0, id, 0, false);
        assertThat(pair.driver.pollUsed()).isEqualTo(NO_TOKEN);
        assertThat(pair.driver.error()).isEqualTo(QueueError.NONE);
    }

    @Test
    void inOrderBatchNamingAnIdNotInFlight() throws Exception {
        open(VirtioFeature.of(VirtioFeature.IN_ORDER));
        pair.raw.used(0, (id + 2) % 4, 0, true);
        assertBroken(QueueError.USED_ID_INVALID);
    }
}
