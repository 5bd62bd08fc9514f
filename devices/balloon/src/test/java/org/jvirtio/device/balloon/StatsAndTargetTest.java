package org.jvirtio.device.balloon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;

import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.balloon.control.BalloonStatistics;
import org.jvirtio.device.balloon.control.StatTag;
import org.junit.jupiter.api.Test;

/** The statistics queue's conversation, and the host's target reaching the driver. */
class StatsAndTargetTest {

    /** Every standard tag, each with a value that names it. */
    private static long[][] allTags(long base) {
        long[][] tv = new long[StatTag.values().length][];
        for (StatTag t : StatTag.values()) {
            tv[t.ordinal()] = new long[] {t.ordinal(), base + t.ordinal()};
        }
        return tv;
    }

    @Test
    void statisticsArriveAreParsedAndTheBufferGoesBackOnRequest() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            int q = rig.layout.stats();
            DriverQueue driver = rig.drivers[q];
            long buffer = rig.statsBuffer(allTags(1000));
            int token = rig.post(q, new ScatterGatherList(1).addReadable(buffer, 10 * StatTag.values().length));

            BalloonStatistics first = rig.device.statistics();
            assertThat(first.sequence()).isEqualTo(1);
            for (StatTag t : StatTag.values()) {
                assertThat(first.get(t)).as(t.name()).isEqualTo(1000 + t.ordinal());
            }
            assertThat(rig.device.counters()).containsEntry("stat.memfree", 1004L).containsEntry("stat.swap_in", 1000L)
                    .containsEntry("stat.htlb_pgfail", 1009L).containsEntry("stats.samples", 1L);
            assertThat(driver.pollUsed()).as("the device holds the buffer until it wants a sample")
                    .isEqualTo(DriverQueue.NO_TOKEN);

            assertThat(rig.device.requestStatistics()).isTrue();
            assertThat(driver.pollUsed()).isEqualTo(token);
            assertThat(rig.device.requestStatistics()).as("nothing held any more").isFalse();

            // the driver refills the same buffer with fresh values, fewer tags this time
            rig.ram.map().write(buffer, new byte[10 * StatTag.values().length], 0, 10 * StatTag.values().length);
            long refill = rig.statsBuffer(new long[][] {{StatTag.MEMFREE.ordinal(), 5}, {StatTag.MEMTOT.ordinal(), 6}});
            rig.post(q, new ScatterGatherList(1).addReadable(refill, 20));
            BalloonStatistics second = rig.device.statistics();
            assertThat(second.sequence()).isEqualTo(2);
            assertThat(second.get(StatTag.MEMFREE)).isEqualTo(5);
            assertThat(second.has(StatTag.SWAP_IN)).as("a tag the sample left out").isFalse();
            assertThat(rig.device.count(BalloonCounter.STATS_SAMPLES)).isEqualTo(2);
            assertThat(rig.device.count(BalloonCounter.STATS_REQUESTS)).isEqualTo(1);
        }
    }

    @Test
    void theSampleLinuxPrimesBeforeDriverOkIsTakenAtActivation() throws Exception {
        try (BalloonRig rig = new BalloonRig(new GuestRam(16 << 20), new BalloonDevice(BalloonRig.options()), 0, false,
                false)) {
            long buffer = rig.statsBuffer(new long[][] {{StatTag.MEMTOT.ordinal(), 1 << 30}});
            rig.postUnannounced(rig.layout.stats(), new ScatterGatherList(1).addReadable(buffer, 10));
            assertThat(rig.device.statistics().sequence()).isZero();
            rig.activate();
            assertThat(rig.device.statistics().get(StatTag.MEMTOT)).isEqualTo(1 << 30);
        }
    }

    @Test
    void thePeriodHandsTheBufferBackOnItsOwn() throws Exception {
        try (BalloonRig rig = BalloonRig.start(BalloonRig.options().withStatsPeriodMillis(1), 0)) {
            int q = rig.layout.stats();
            int token = rig.post(q, new ScatterGatherList(1).addReadable(rig.statsBuffer(allTags(0)), 160));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            int used = DriverQueue.NO_TOKEN;
            // the interrupt follows the used element (it is sent after the ring's lock is released): wait for both
            while ((used == DriverQueue.NO_TOKEN || rig.notifier.used.get(q) == 0) && System.nanoTime() < deadline) {
                Thread.sleep(1);
                synchronized (rig.devices[q].serveLock()) {
                    if (used == DriverQueue.NO_TOKEN) {
                        used = rig.drivers[q].pollUsed();
                    }
                }
            }
            assertThat(used).as("the timer asked for the next sample").isEqualTo(token);
            assertThat(rig.notifier.used.get(q)).as("and interrupted the driver").isPositive();
        }
    }

    @Test
    void settingTheTargetRaisesAConfigInterruptAndNumPagesReadsBack() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            assertThat(rig.configInt(BalloonConfigSpace.NUM_PAGES)).isZero();
            assertThat(rig.device.setTargetPages(1024)).isEqualTo(1024);
            assertThat(rig.notifier.configChanges).isEqualTo(1);
            assertThat(rig.configInt(BalloonConfigSpace.NUM_PAGES)).isEqualTo(1024);
            assertThat(rig.device.targetPages()).isEqualTo(1024);

            // the driver inflates and says how far it got
            rig.writeConfigInt(BalloonConfigSpace.ACTUAL, 1024);
            assertThat(rig.device.actualPages()).isEqualTo(1024);
            assertThat(rig.configInt(BalloonConfigSpace.ACTUAL)).isEqualTo(1024);
            // num_pages and the command id are the host's: a driver's write changes nothing
            rig.writeConfigInt(BalloonConfigSpace.NUM_PAGES, 7);
            rig.writeConfigInt(BalloonConfigSpace.FREE_PAGE_HINT_CMD_ID, 7);
            assertThat(rig.configInt(BalloonConfigSpace.NUM_PAGES)).isEqualTo(1024);
            assertThat(rig.configInt(BalloonConfigSpace.FREE_PAGE_HINT_CMD_ID)).isZero();

            assertThat(rig.device.setTargetPages(0)).isZero();
            assertThat(rig.notifier.configChanges).isEqualTo(2);
            assertThat(rig.device.counters()).containsEntry("target_changes", 2L).containsEntry("actual_pages", 1024L);
            assertThatThrownBy(() -> rig.device.setTargetPages(1L << 32)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void aTargetSetBeforeTheDriverStartsIsWhatItReadsAndRaisesNoInterrupt() {
        BalloonDevice device = new BalloonDevice(BalloonRig.options().withTargetPages(10));
        device.setTargetPages(300);
        byte[] b = new byte[4];
        device.readConfig(BalloonConfigSpace.NUM_PAGES, b, 0, 4);
        assertThat(b[0] & 0xFF | (b[1] & 0xFF) << 8).isEqualTo(300);
        assertThat(device.requestFreePageHints()).as("not running").isZero();
        assertThat(device.requestStatistics()).isFalse();
    }

    @Test
    void aResetForgetsTheDriverButKeepsTheTarget() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            rig.device.setTargetPages(64);
            rig.writeConfigInt(BalloonConfigSpace.ACTUAL, 64);
            rig.post(rig.layout.stats(), new ScatterGatherList(1).addReadable(rig.statsBuffer(allTags(0)), 160));
            rig.device.reset();
            assertThat(rig.device.isActive()).isFalse();
            assertThat(rig.device.targetPages()).isEqualTo(64);
            assertThat(rig.device.actualPages()).isZero();
            assertThat(rig.device.requestStatistics()).isFalse();
            assertThat(rig.device.statistics()).isSameAs(BalloonStatistics.NONE);
        }
    }
}
