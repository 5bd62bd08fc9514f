package org.jvirtio.vring.packed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.VringSetupException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Ring positions as vhost-user encodes them (15-bit index, wrap counter in bit 15), saved and restored. */
class PackedPositionTest {
    private static final int SIZE = 5;

    private final PackedPair pair;
    private final long buffer;

    PackedPositionTest() throws Exception {
        pair = new PackedPair(SIZE, 0);
        buffer = pair.memory.allocate(256, 16);
    }

    @AfterEach
    void guards() {
        assertThat(pair.memory.guardsIntact()).isTrue();
    }

    private void roundTrips(DeviceVring device, int count, int descriptors) {
        DescriptorChain chain = device.newChain();
        for (int i = 0; i < count; i++) {
            ScatterGatherList sg = new ScatterGatherList(descriptors);
            for (int d = 0; d < descriptors; d++) {
                sg.addWritable(buffer + 16 * d, 16);
            }
            assertThat(pair.driver.add(sg, i, false)).isTrue();
            pair.driver.kick();
            assertThat(device.pop(chain)).isTrue();
            assertThat(chain.count()).isEqualTo(descriptors);
            device.addUsed(chain, 16 * descriptors);
            device.publishUsed();
            assertThat(pair.driver.pollUsed()).isEqualTo(i);
            assertThat(pair.driver.lastUsedLength()).isEqualTo(16 * descriptors);
        }
    }

    @Test
    void freshRingStartsAtSlotZeroWithWrapCounterOne() {
        assertThat(pair.device.availPosition()).isEqualTo(0x8000);
        assertThat(pair.device.usedPosition()).isEqualTo(0x8000);
        assertThat(pair.device.isPacked()).isTrue();
        assertThat(pair.device.size()).isEqualTo(SIZE);
    }

    @Test
    void positionsEncodeIndexAndWrapCounter() {
        roundTrips(pair.device, 3, 2); // 6 slots on a ring of 5: slot 1, wrap 0
        assertThat(pair.device.availPosition()).isEqualTo(1);
        assertThat(pair.device.usedPosition()).isEqualTo(1);
        roundTrips(pair.device, 2, 2); // 10 slots: slot 0, wrap 1
        assertThat(pair.device.availPosition()).isEqualTo(0x8000);
        roundTrips(pair.device, 1, 3); // 13 slots: slot 3, wrap 1
        assertThat(pair.device.availPosition()).isEqualTo(0x8003);
    }

    @Test
    void rebuiltDeviceContinuesWhereTheOldOneStopped() throws Exception {
        roundTrips(pair.device, 4, 2); // slot 3, wrap 0
        int avail = pair.device.availPosition();
        int used = pair.device.usedPosition();
        assertThat(avail).isEqualTo(3);
        DeviceVring next = Vrings.device(pair.config, pair.features, pair.memory.map(), avail, used);
        assertThat(next.availPosition()).isEqualTo(avail);
        assertThat(next.usedPosition()).isEqualTo(used);
        roundTrips(next, 20, 3);
        assertThat(next.error()).isEqualTo(QueueError.NONE);
        assertThat(pair.driver.error()).isEqualTo(QueueError.NONE);
    }

    @Test
    void rebuiltDevicePopsWhatTheDriverMadeAvailableMeanwhile() throws Exception {
        roundTrips(pair.device, 2, 2); // slot 4, wrap 1
        pair.driver.add(new ScatterGatherList(2).addWritable(buffer, 8).addWritable(buffer + 8, 8), 40, false);
        pair.driver.add(new ScatterGatherList(1).addWritable(buffer + 16, 8), 41, false);
        pair.driver.kick();
        DeviceVring next = Vrings.device(pair.config, pair.features, pair.memory.map(),
                pair.device.availPosition(), pair.device.usedPosition());
        DescriptorChain chain = next.newChain();
        assertThat(next.pop(chain)).isTrue();
        assertThat(chain.count()).isEqualTo(2); // slots 4 and 0 across the wrap
        next.addUsed(chain, 16);
        assertThat(next.pop(chain)).isTrue();
        next.addUsed(chain, 8);
        next.publishUsed();
        assertThat(pair.driver.pollUsed()).isEqualTo(40);
        assertThat(pair.driver.pollUsed()).isEqualTo(41);
        assertThat(pair.driver.pollUsed()).isEqualTo(DriverQueue.NO_TOKEN);
        assertThat(next.availPosition()).isEqualTo(2);
    }

    @Test
    void positionOutsideTheRingIsRefused() {
        assertThatThrownBy(() -> Vrings.device(pair.config, pair.features, pair.memory.map(), SIZE, 0))
                .isInstanceOf(VringSetupException.class);
        assertThatThrownBy(() -> Vrings.device(pair.config, pair.features, pair.memory.map(), 0, 0x8000 | SIZE))
                .isInstanceOf(VringSetupException.class);
        assertThatThrownBy(() -> Vrings.device(pair.config, pair.features, pair.memory.map(), 0x1_0000, 0))
                .isInstanceOf(VringSetupException.class);
    }
}
