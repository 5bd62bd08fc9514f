package org.jvirtio.vring.packed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.vring.packed.RawPackedRing.DESC;
import static org.jvirtio.vring.packed.RawPackedRing.DISABLE;
import static org.jvirtio.vring.packed.RawPackedRing.ENABLE;
import static org.jvirtio.vring.packed.RawPackedRing.offWrap;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Notification suppression on a packed ring: what {@code kick()} and {@code publishUsed()} return for
 * each state of the peer's event suppression structure, and what each side writes into its own.
 */
class PackedNotificationTest {
    private static final long EVENT_IDX = VirtioFeature.of(VirtioFeature.RING_EVENT_IDX);
    private static final int SIZE = 8;

    private PackedPair pair;
    private long buffer;
    private DescriptorChain chain;

    private void open(long features) throws Exception {
        pair = new PackedPair(SIZE, features);
        buffer = pair.memory.allocate(64, 16);
        chain = pair.device.newChain();
    }

    @AfterEach
    void guards() {
        assertThat(pair.memory.guardsIntact()).isTrue();
    }

    private void add(int descriptors) {
        ScatterGatherList sg = new ScatterGatherList(descriptors);
        for (int i = 0; i < descriptors; i++) {
            sg.addWritable(buffer, 8);
        }
        assertThat(pair.driver.add(sg, 0, false)).isTrue();
    }

    /** Moves both sides {@code slots} single-descriptor buffers forward, leaving nothing in flight. */
    private void warmUp(int slots) {
        for (int i = 0; i < slots; i++) {
            add(1);
            pair.driver.kick();
            assertThat(pair.device.pop(chain)).isTrue();
            pair.device.addUsed(chain, 0);
            pair.device.publishUsed();
            assertThat(pair.driver.pollUsed()).isNotEqualTo(DriverQueue.NO_TOKEN);
        }
    }

    /** Adds and kicks {@code count} buffers; the device pops and completes them: publishUsed is next. */
    private void completeUnpublished(int count) {
        for (int i = 0; i < count; i++) {
            add(1);
        }
        pair.driver.kick();
        for (int i = 0; i < count; i++) {
            assertThat(pair.device.pop(chain)).isTrue();
            pair.device.addUsed(chain, 0);
        }
    }

    // --- without EVENT_IDX: flags only ---

    @Test
    void kickFollowsTheDeviceFlags() throws Exception {
        open(0);
        assertThat(pair.driver.kick()).as("nothing added").isFalse();
        add(1);
        assertThat(pair.driver.kick()).as("zeroed area: ENABLE").isTrue();
        assertThat(pair.driver.kick()).as("nothing new").isFalse();
        pair.device.disableNotifications();
        assertThat(pair.raw.deviceEventFlags()).isEqualTo(DISABLE);
        add(1);
        assertThat(pair.driver.kick()).isFalse();
        assertThat(pair.device.enableNotifications()).as("two chains wait").isTrue();
        assertThat(pair.raw.deviceEventFlags()).isEqualTo(ENABLE);
        add(2);
        assertThat(pair.driver.kick()).isTrue();
    }

    @Test
    void enableNotificationsRechecksTheRing() throws Exception {
        open(0);
        assertThat(pair.device.enableNotifications()).isFalse();
        add(1);
        assertThat(pair.device.enableNotifications()).as("added but not kicked: not visible").isFalse();
        pair.driver.kick();
        assertThat(pair.device.enableNotifications()).isTrue();
        assertThat(pair.device.pop(chain)).isTrue();
        assertThat(pair.device.enableNotifications()).isFalse();
    }

    @Test
    void publishUsedFollowsTheDriverFlags() throws Exception {
        open(0);
        assertThat(pair.device.publishUsed()).as("nothing used").isFalse();
        completeUnpublished(1);
        assertThat(pair.device.publishUsed()).as("zeroed area: ENABLE").isTrue();
        assertThat(pair.device.publishUsed()).as("nothing new").isFalse();
        pair.driver.disableInterrupts();
        assertThat(pair.raw.driverEventFlags()).isEqualTo(DISABLE);
        completeUnpublished(1);
        assertThat(pair.device.publishUsed()).isFalse();
        assertThat(pair.driver.enableInterrupts()).as("two used buffers wait").isTrue();
        assertThat(pair.raw.driverEventFlags()).isEqualTo(ENABLE);
        completeUnpublished(1);
        assertThat(pair.device.publishUsed()).isTrue();
    }

    @Test
    void descFlagWithoutEventIdxCountsAsEnable() throws Exception {
        open(0);
        completeUnpublished(1);
        pair.raw.setDriverEvent(offWrap(5, false), DESC);
        assertThat(pair.device.publishUsed()).isTrue();
        add(1);
        pair.raw.setDeviceEvent(offWrap(5, false), DESC);
        assertThat(pair.driver.kick()).isTrue();
    }

    @Test
    void reservedFlagsValueCountsAsEnable() throws Exception {
        open(EVENT_IDX);
        completeUnpublished(1);
        pair.raw.setDriverEvent(0, 3);
        assertThat(pair.device.publishUsed()).isTrue();
    }

    // --- with EVENT_IDX ---

    @Test
    void deviceWritesItsEventArea() throws Exception {
        open(EVENT_IDX);
        warmUp(SIZE + 3);
        pair.device.disableNotifications();
        assertThat(pair.raw.deviceEventFlags()).isEqualTo(DISABLE);
        assertThat(pair.device.enableNotifications()).isFalse();
        assertThat(pair.raw.deviceEventFlags()).isEqualTo(DESC);
        assertThat(pair.raw.deviceEventOffWrap()).isEqualTo(offWrap(3, false)).isEqualTo(pair.device.availPosition());
    }

    @Test
    void driverWritesItsEventArea() throws Exception {
        open(EVENT_IDX);
        warmUp(SIZE + 5);
        pair.driver.disableInterrupts();
        assertThat(pair.raw.driverEventFlags()).isEqualTo(DISABLE);
        assertThat(pair.driver.enableInterrupts()).isFalse();
        assertThat(pair.raw.driverEventFlags()).isEqualTo(DESC);
        assertThat(pair.raw.driverEventOffWrap()).isEqualTo(offWrap(5, false));
    }

    @Test
    void disabledStillMeansNoWithEventIdx() throws Exception {
        open(EVENT_IDX);
        pair.device.disableNotifications();
        add(1);
        assertThat(pair.driver.kick()).isFalse();
        pair.driver.disableInterrupts();
        assertThat(pair.device.pop(chain)).isTrue();
        pair.device.addUsed(chain, 0);
        assertThat(pair.device.publishUsed()).isFalse();
    }

    @Test
    void kickOncePerEnable() throws Exception {
        open(EVENT_IDX);
        assertThat(pair.device.enableNotifications()).isFalse(); // event at slot 0, lap 1
        add(1);
        assertThat(pair.driver.kick()).isTrue();
        add(1);
        assertThat(pair.driver.kick()).as("slot 0 was crossed already").isFalse();
        assertThat(pair.device.pop(chain)).isTrue();
        assertThat(pair.device.pop(chain)).isTrue();
        assertThat(pair.device.enableNotifications()).isFalse(); // event at slot 2
        add(2);
        assertThat(pair.driver.kick()).isTrue();
    }

    @Test
    void interruptOncePerEnable() throws Exception {
        open(EVENT_IDX);
        assertThat(pair.driver.enableInterrupts()).isFalse(); // event at slot 0, lap 1
        completeUnpublished(1);
        assertThat(pair.device.publishUsed()).isTrue();
        completeUnpublished(1);
        assertThat(pair.device.publishUsed()).as("slot 0 was crossed already").isFalse();
        assertThat(pair.driver.pollUsed()).isZero();
        assertThat(pair.driver.pollUsed()).isZero();
        assertThat(pair.driver.enableInterrupts()).isFalse(); // event at slot 2
        completeUnpublished(2);
        assertThat(pair.device.publishUsed()).isTrue();
    }

    @Test
    void eventInsideAMultiDescriptorChainIsCrossed() throws Exception {
        open(EVENT_IDX);
        pair.raw.setDeviceEvent(offWrap(2, true), DESC);
        add(3); // slots 0, 1, 2
        assertThat(pair.driver.kick()).isTrue();
        pair.raw.setDeviceEvent(offWrap(4, true), DESC);
        add(1); // slot 3
        assertThat(pair.driver.kick()).isFalse();
    }

    /**
     * Both sides at {@code start} (lap 1 unless past the end), then {@code count} single-descriptor
     * buffers in one batch; the peer asked for an event at {@code off}/{@code wrap}.
     */
    @ParameterizedTest(name = "from {0}, {1} slots, event at {2}/{3}: {4}")
    @CsvSource({
            "0, 1, 0, 1, true",
            "0, 1, 1, 1, false",
            "0, 2, 1, 1, true",
            "0, 2, 2, 1, false",
            "0, 8, 7, 1, true",
            "0, 8, 0, 1, true",
            "0, 8, 0, 0, false",
            "3, 2, 2, 1, false",
            "3, 2, 4, 1, true",
            "3, 2, 5, 1, false",
            // across the wrap: from slot 6 of lap 1 to slot 1 of lap 0
            "6, 3, 5, 1, false",
            "6, 3, 6, 1, true",
            "6, 3, 7, 1, true",
            "6, 3, 0, 0, true",
            "6, 3, 1, 0, false",
            "6, 3, 6, 0, false",
            "6, 3, 1, 1, false",
            // the lap after: wrap counter 0
            "10, 1, 2, 0, true",
            "10, 1, 2, 1, false",
            "14, 4, 7, 0, true",
            "14, 4, 1, 1, true",
            "14, 4, 2, 1, false",
            "14, 4, 5, 0, false",
    })
    void kickDecision(int start, int count, int off, int wrap, boolean expected) throws Exception {
        open(EVENT_IDX);
        warmUp(start);
        pair.raw.setDeviceEvent(offWrap(off, wrap == 1), DESC);
        for (int i = 0; i < count; i++) {
            add(1);
        }
        assertThat(pair.driver.kick()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "from {0}, {1} slots, event at {2}/{3}: {4}")
    @CsvSource({
            "0, 1, 0, 1, true",
            "0, 1, 1, 1, false",
            "0, 2, 1, 1, true",
            "0, 2, 2, 1, false",
            "0, 8, 7, 1, true",
            "0, 8, 0, 0, false",
            "3, 2, 2, 1, false",
            "3, 2, 4, 1, true",
            "3, 2, 5, 1, false",
            "6, 3, 5, 1, false",
            "6, 3, 6, 1, true",
            "6, 3, 7, 1, true",
            "6, 3, 0, 0, true",
            "6, 3, 1, 0, false",
            "6, 3, 6, 0, false",
            "10, 1, 2, 0, true",
            "10, 1, 2, 1, false",
            "14, 4, 1, 1, true",
            "14, 4, 2, 1, false",
    })
    void interruptDecision(int start, int count, int off, int wrap, boolean expected) throws Exception {
        open(EVENT_IDX);
        warmUp(start);
        completeUnpublished(count);
        pair.raw.setDriverEvent(offWrap(off, wrap == 1), DESC);
        assertThat(pair.device.publishUsed()).isEqualTo(expected);
    }

    @Test
    void interruptForAMultiSlotChainAcrossTheWrap() throws Exception {
        open(EVENT_IDX);
        warmUp(6);
        add(4); // slots 6, 7, 0, 1
        pair.driver.kick();
        assertThat(pair.device.pop(chain)).isTrue();
        assertThat(chain.ringSlots()).isEqualTo(4);
        pair.device.addUsed(chain, 0);
        pair.raw.setDriverEvent(offWrap(1, false), DESC);
        assertThat(pair.device.publishUsed()).isTrue();
        assertThat(pair.device.usedPosition()).isEqualTo(offWrap(2, false));
    }
}
