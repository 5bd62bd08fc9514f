package org.jvirtio.vring;

import static org.assertj.core.api.Assertions.assertThat;

import org.jvirtio.api.management.QueueStatistics;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;
import org.junit.jupiter.api.Test;

/**
 * What a {@link PluggableQueue} counts as a device serves it, driven from the driver side of a real
 * split ring: chains and the bytes they offer when taken, completions and the bytes written when given
 * back, publications the driver asked not to hear of; nothing while no ring is plugged in.
 */
class PluggableQueueCountersTest {
    private static final int SIZE = 8;

    private final TestMemory memory = new TestMemory(1 << 20);
    private final QueueConfig config = RingPlacement.place(memory, SIZE);
    private final long buffer = memory.allocate(4096, 16);

    private static void offer(DriverQueue driver, long buffer, int readable, int writable, int token) {
        assertThat(driver.add(new ScatterGatherList(2).addReadable(buffer, readable)
                .addWritable(buffer + 2048, writable), token, false)).isTrue();
        driver.kick(); // publishes it; whether the device would be notified is the transport's business
    }

    @Test
    void countsWhatTheDeviceTakesGivesBackAndPublishes() throws Exception {
        DriverQueue driver = Vrings.driver(config, 0, memory.map());
        PluggableQueue queue = new PluggableQueue(new Object());
        queue.plug(Vrings.device(config, 0, memory.map()));
        DescriptorChain chain = queue.newChain();

        offer(driver, buffer, 100, 50, 1);
        offer(driver, buffer, 30, 20, 2);
        assertThat(queue.pop(chain)).isTrue();
        int firstHead = chain.head();
        int firstSlots = chain.ringSlots();
        assertThat(queue.counters().snapshot()).isEqualTo(new QueueStatistics(1, 0, 100, 0, 0, 0, 0, 0));
        assertThat(queue.pop(chain)).isTrue();
        assertThat(queue.pop(chain)).as("nothing more available").isFalse();
        assertThat(queue.counters().snapshot()).isEqualTo(new QueueStatistics(2, 0, 130, 0, 0, 0, 0, 0));

        queue.addUsed(firstHead, firstSlots, 40);
        queue.addUsed(chain.head(), chain.ringSlots(), 20);
        assertThat(queue.publishUsed()).as("the driver wants interrupts").isTrue();
        assertThat(queue.counters().snapshot()).isEqualTo(new QueueStatistics(2, 2, 130, 60, 0, 0, 0, 0));
        assertThat(driver.pollUsed()).isEqualTo(1);
        assertThat(driver.pollUsed()).isEqualTo(2);

        driver.disableInterrupts();
        offer(driver, buffer, 7, 9, 3);
        assertThat(queue.pop(chain)).isTrue();
        queue.addUsed(chain.head(), chain.ringSlots(), 9);
        assertThat(queue.publishUsed()).as("the driver asked for no interrupt").isFalse();
        assertThat(queue.publishUsed()).as("nothing new published").isFalse();
        assertThat(queue.counters().snapshot()).as("one suppressed publication, not two")
                .isEqualTo(new QueueStatistics(3, 3, 137, 69, 0, 0, 1, 0));
    }

    @Test
    void countsNothingWithoutARingAndKeepsCountingAcrossRings() throws Exception {
        DriverQueue driver = Vrings.driver(config, 0, memory.map());
        PluggableQueue queue = new PluggableQueue(new Object());
        DescriptorChain chain = queue.newChain();
        offer(driver, buffer, 16, 1, 1);
        assertThat(queue.pop(chain)).as("no ring plugged in").isFalse();

        queue.plug(Vrings.device(config, 0, memory.map()));
        assertThat(queue.pop(chain)).isTrue();
        queue.unplug();
        queue.addUsed(chain.head(), chain.ringSlots(), 1); // dropped: the ring was pulled meanwhile
        assertThat(queue.publishUsed()).isFalse();
        assertThat(queue.counters().snapshot()).isEqualTo(new QueueStatistics(1, 0, 16, 0, 0, 0, 0, 0));

        // the driver reset the queue and set it up again: the counters go on
        QueueConfig again = RingPlacement.place(memory, SIZE);
        DriverQueue driver2 = Vrings.driver(again, 0, memory.map());
        queue.plug(Vrings.device(again, 0, memory.map()));
        offer(driver2, buffer, 32, 4, 7);
        assertThat(queue.pop(chain)).isTrue();
        queue.addUsed(chain.head(), chain.ringSlots(), 4);
        assertThat(queue.publishUsed()).isTrue();
        assertThat(queue.counters().snapshot()).isEqualTo(new QueueStatistics(2, 1, 48, 4, 0, 0, 0, 0));
    }

    @Test
    void aBrokenRingCountsNoChain() throws Exception {
        PluggableQueue queue = new PluggableQueue(new Object());
        queue.plug(Vrings.device(config, 0, memory.map()));
        // the avail index runs past the ring size
        memory.map().putShort(config.driverArea() + 2, (short) (SIZE + 5));
        assertThat(queue.pop(queue.newChain())).isFalse();
        assertThat(queue.error()).isNotEqualTo(org.jvirtio.api.queue.QueueError.NONE);
        assertThat(queue.counters().snapshot()).isEqualTo(QueueStatistics.NONE);
    }

    @Test
    void theTransportsCountsAddUp() {
        QueueCounters counters = new QueueCounters();
        counters.kicked();
        counters.kicked();
        counters.interrupted();
        counters.failed();
        counters.completed(-1); // a used length is a u32: 0xFFFFFFFF bytes, not minus one
        assertThat(counters.snapshot()).isEqualTo(new QueueStatistics(0, 1, 0, 0xFFFF_FFFFL, 2, 1, 0, 1));
    }
}
