package org.jvirtio.vring.split;

import static org.assertj.core.api.Assertions.assertThat;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RawSplitRing;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;
import org.junit.jupiter.api.Test;

/** Kick and interrupt suppression on split rings: flags, and EVENT_IDX's crossing rule. */
class SplitNotificationTest {
    private final TestMemory memory = new TestMemory(1 << 20);
    private final long buf = memory.allocate(4096, 8);
    private final ScatterGatherList sg = new ScatterGatherList(1);

    private QueueConfig config;
    private DriverQueue driver;
    private DeviceVring device;
    private DescriptorChain chain;

    private void open(long features) throws Exception {
        config = RingPlacement.place(memory, 8);
        driver = Vrings.driver(config, features, memory.map());
        device = Vrings.device(config, features, memory.map());
        chain = device.newChain();
    }

    private void addOne(int token) {
        assertThat(driver.add(sg.clear().addWritable(buf, 8), token, false)).isTrue();
    }

    @Test
    void flagsSuppressKicksWhileTheDevicePolls() throws Exception {
        open(0);
        addOne(0);
        assertThat(driver.kick()).as("device has not disabled kicks").isTrue();
        device.disableNotifications();
        addOne(1);
        assertThat(driver.kick()).isFalse();
        assertThat(device.enableNotifications()).as("two chains are waiting").isTrue();
        addOne(2);
        assertThat(driver.kick()).isTrue();
        assertThat(driver.kick()).as("nothing new since the last kick").isFalse();
    }

    @Test
    void flagsSuppressInterruptsWhileTheDriverPolls() throws Exception {
        open(0);
        addOne(0);
        addOne(1);
        driver.kick();
        driver.disableInterrupts();
        device.pop(chain);
        device.addUsed(chain, 0);
        assertThat(device.publishUsed()).isFalse();
        assertThat(driver.enableInterrupts()).as("one used buffer is waiting").isTrue();
        device.pop(chain);
        device.addUsed(chain, 0);
        assertThat(device.publishUsed()).isTrue();
    }

    @Test
    void eventIndexKicksOnlyWhenTheDriverCrossesAvailEvent() throws Exception {
        open(VirtioFeature.of(VirtioFeature.RING_EVENT_IDX));
        RawSplitRing raw = new RawSplitRing(memory.map(), config);
        assertThat(device.enableNotifications()).isFalse();
        assertThat(raw.availEvent()).isZero();
        addOne(0);
        assertThat(driver.kick()).as("0 -> 1 crosses avail_event 0").isTrue();
        addOne(1);
        assertThat(driver.kick()).as("1 -> 2 does not cross 0 again").isFalse();
        device.pop(chain);
        device.pop(chain);
        assertThat(device.enableNotifications()).isFalse();
        assertThat(raw.availEvent()).isEqualTo(2);
        addOne(2);
        addOne(3);
        assertThat(driver.kick()).as("2 -> 4 crosses 2").isTrue();
    }

    @Test
    void eventIndexInterruptsOnlyWhenTheDeviceCrossesUsedEvent() throws Exception {
        open(VirtioFeature.of(VirtioFeature.RING_EVENT_IDX));
        RawSplitRing raw = new RawSplitRing(memory.map(), config);
        for (int t = 0; t < 6; t++) {
            addOne(t);
        }
        driver.kick();
        raw.setUsedEvent(2);
        device.pop(chain);
        device.addUsed(chain, 0);
        device.pop(chain);
        device.addUsed(chain, 0);
        assertThat(device.publishUsed()).as("0 -> 2 does not cross used_event 2").isFalse();
        device.pop(chain);
        device.addUsed(chain, 0);
        assertThat(device.publishUsed()).as("2 -> 3 crosses 2").isTrue();
        device.pop(chain);
        device.addUsed(chain, 0);
        assertThat(device.publishUsed()).as("3 -> 4 does not").isFalse();
    }

    @Test
    void eventIndexSurvivesSixteenBitWrap() throws Exception {
        open(VirtioFeature.of(VirtioFeature.RING_EVENT_IDX));
        long kicks = 0;
        long interrupts = 0;
        for (int t = 0; t < 70_000; t++) {
            addOne(t);
            if (driver.kick()) {
                kicks++;
            }
            assertThat(device.pop(chain)).isTrue();
            device.addUsed(chain, 0);
            driver.enableInterrupts();
            if (device.publishUsed()) {
                interrupts++;
            }
            assertThat(driver.pollUsed()).isEqualTo(t);
            assertThat(device.enableNotifications()).isFalse();
        }
        assertThat(kicks).as("device re-armed every time: every add is kicked").isEqualTo(70_000);
        assertThat(interrupts).as("driver re-armed every time").isEqualTo(70_000);
    }
}
