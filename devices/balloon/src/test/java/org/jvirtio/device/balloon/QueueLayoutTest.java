package org.jvirtio.device.balloon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.annotation.Annotation;

import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.DeviceActivationException;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.vring.testkit.RecordingNotifier;
import org.jvirtio.vring.testkit.TestActivation;
import org.junit.jupiter.api.Test;

/** Queue numbering by features, as Linux numbers them, and the DS component's configuration. */
class QueueLayoutTest {
    private static final long STATS = 1L << BalloonFeatures.STATS_VQ;
    private static final long HINTS = 1L << BalloonFeatures.FREE_PAGE_HINT;
    private static final long REPORTING = 1L << BalloonFeatures.PAGE_REPORTING;

    @Test
    void queuesOfFeaturesNotNegotiatedTakeNoIndex() {
        QueueLayout all = QueueLayout.of(STATS | HINTS | REPORTING);
        assertThat(new int[] {all.stats(), all.freePage(), all.reporting(), all.count()}).containsExactly(2, 3, 4, 5);
        QueueLayout noStats = QueueLayout.of(HINTS | REPORTING);
        assertThat(new int[] {noStats.stats(), noStats.freePage(), noStats.reporting(), noStats.count()})
                .containsExactly(QueueLayout.ABSENT, 2, 3, 4);
        QueueLayout reportingOnly = QueueLayout.of(REPORTING);
        assertThat(reportingOnly.reporting()).isEqualTo(2);
        assertThat(QueueLayout.of(0).count()).isEqualTo(2);
    }

    @Test
    void theDeviceOffersTheQueuesOfItsOfferedFeatures() {
        BalloonDevice all = new BalloonDevice(BalloonOptions.defaults());
        assertThat(all.deviceId()).isEqualTo(VirtioDeviceId.BALLOON);
        assertThat(all.queueCount()).isEqualTo(5);
        assertThat(all.queueMaxSize(4)).isEqualTo(128);
        assertThat(all.configSize()).isEqualTo(BalloonConfigSpace.SIZE);
        assertThat(VirtioFeature.has(all.offeredFeatures(), BalloonFeatures.MUST_TELL_HOST)).isFalse();
        assertThat(VirtioFeature.has(all.offeredFeatures(), VirtioFeature.VERSION_1)).isTrue();
        BalloonDevice bare = new BalloonDevice(BalloonOptions.defaults().withFeatures(false, false, false, false, false));
        assertThat(bare.queueCount()).isEqualTo(2);
    }

    @Test
    void withoutStatisticsReportingIsQueueThreeAndReleasesPages() throws Exception {
        try (BalloonRig rig = BalloonRig.start(BalloonRig.options(), STATS)) {
            assertThat(rig.layout.reporting()).isEqualTo(3);
            long page = rig.ram.page(4);
            rig.ram.fill(page, (byte) 8);
            rig.report(new long[] {page, GuestRam.PAGE});
            assertThat(rig.ram.pageIs(page, (byte) 0)).isTrue();
            assertThat(rig.device.statistics().sequence()).isZero();
            rig.assertStillWorks();
        }
    }

    @Test
    void packedRingsWorkToo() throws Exception {
        try (BalloonRig rig = new BalloonRig(new GuestRam(16 << 20), new BalloonDevice(BalloonRig.options()), 0, true)) {
            assertThat(VirtioFeature.has(rig.features, VirtioFeature.RING_PACKED)).isTrue();
            rig.assertStillWorks();
            rig.deflate(rig.ram.page(40));
            assertThat(rig.device.count(BalloonCounter.PAGES_DEFLATED)).isEqualTo(1);
        }
    }

    @Test
    void activationWithoutTheInflateQueueFails() throws Exception {
        BalloonDevice device = new BalloonDevice(BalloonRig.options());
        try (GuestRam ram = new GuestRam(1 << 20)) {
            assertThatThrownBy(() -> device.activate(new TestActivation(device.offeredFeatures(), new DeviceQueue[0],
                    ram.map(), new RecordingNotifier()))).isInstanceOf(DeviceActivationException.class);
            assertThat(device.isActive()).isFalse();
        }
    }

    @Test
    void theComponentIsBuiltFromItsConfigurationAndTakesANewTargetLive() throws Exception {
        BalloonDevice device = new BalloonDevice(config(100, 64, false));
        assertThat(device.queueCount()).as("no statistics queue").isEqualTo(4);
        assertThat(device.queueMaxSize(0)).isEqualTo(64);
        assertThat(device.targetPages()).isEqualTo(100);
        try (BalloonRig rig = new BalloonRig(new GuestRam(16 << 20), device, 0, false)) {
            device.modified(config(100, 64, false));
            assertThat(rig.notifier.configChanges).as("the same target: nothing to tell").isZero();
            device.modified(config(2048, 64, false));
            assertThat(rig.notifier.configChanges).isEqualTo(1);
            assertThat(rig.configInt(BalloonConfigSpace.NUM_PAGES)).isEqualTo(2048);
            device.modified(config(2048, 128, true)); // logged: applies only to a new device
            assertThat(device.queueCount()).isEqualTo(4);
        }
        device.deactivate();
        assertThat(device.isActive()).isFalse();
    }

    private static BalloonDevice.Config config(long target, int queueSize, boolean stats) {
        return new BalloonDevice.Config() {
            public Class<? extends Annotation> annotationType() { return BalloonDevice.Config.class; }
            public long targetPages() { return target; }
            public int statsPeriodSeconds() { return 0; }
            public int queueSize() { return queueSize; }
            public boolean statsVq() { return stats; }
            public boolean deflateOnOom() { return true; }
            public boolean freePageHint() { return true; }
            public boolean pageReporting() { return true; }
            public boolean pagePoison() { return true; }
            public boolean packed() { return false; }
        };
    }
}
