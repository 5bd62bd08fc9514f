package org.jvirtio.transport.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.jvirtio.api.VirtioFeature;

/** Feature windows and queue set-up on their own, as both register layouts drive them. */
class FeatureWindowsTest {
    private static final long OFFERED = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_PACKED) | 0b101;
    private static final long OFFERED_WITH_EVENT_IDX = VirtioFeature.of(VirtioFeature.VERSION_1,
            VirtioFeature.RING_EVENT_IDX) | 0x3;

    @Test
    void windowsSplitTheWordAndPastOneReadZero() {
        FeatureWindows f = new FeatureWindows(OFFERED);
        assertThat(f.deviceWindow()).isEqualTo(0b101);
        f.selectDevice(1);
        assertThat(f.deviceWindow()).isEqualTo(0b101);
        f.selectDevice(2);
        assertThat(f.deviceWindow()).isZero();
        f.selectDriver(1);
        f.writeDriverWindow(1);
        f.selectDriver(0);
        f.writeDriverWindow(0b100);
        f.selectDriver(5);
        f.writeDriverWindow(-1); // no such window: nothing stored
        assertThat(f.accepted()).isEqualTo(VirtioFeature.bit(VirtioFeature.VERSION_1) | 0b100);
        assertThat(f.problem()).isNull();
    }

    @Test
    void problemsNameTheBadBits() {
        FeatureWindows f = new FeatureWindows(OFFERED);
        f.writeDriverWindow(0b10);
        assertThat(f.problem()).contains("never offered").contains("0x2");
        f.writeDriverWindow(0b1);
        assertThat(f.problem()).contains("VERSION_1");
        f.reset();
        assertThat(f.accepted()).isZero();
        assertThat(f.deviceSelect()).isZero();
    }

    @Test
    void featureWordsSelectAndLock() {
        FeatureWindows f = new FeatureWindows(OFFERED_WITH_EVENT_IDX);
        f.selectDevice(0);
        assertThat(f.deviceWindow()).isEqualTo((int) OFFERED_WITH_EVENT_IDX);
        f.selectDevice(1);
        assertThat(f.deviceWindow()).isEqualTo(1); // VERSION_1 is bit 32
        f.selectDevice(2);
        assertThat(f.deviceWindow()).isZero();
        f.selectDriver(1);
        assertThat(f.writeDriverWindow(1)).isTrue();
        f.selectDriver(0);
        assertThat(f.writeDriverWindow(0x1)).isTrue();
        f.selectDriver(7);
        assertThat(f.writeDriverWindow(-1)).isTrue(); // past bit 63: nothing kept
        assertThat(f.accepted()).isEqualTo(VirtioFeature.bit(VirtioFeature.VERSION_1) | 1);
        assertThat(f.problem()).isNull();
        assertThat(f.negotiated()).isZero();
        f.lock();
        assertThat(f.negotiated()).isEqualTo(VirtioFeature.bit(VirtioFeature.VERSION_1) | 1);
        f.selectDriver(0);
        assertThat(f.writeDriverWindow(0x3)).isFalse();
        assertThat(f.negotiated()).isEqualTo(VirtioFeature.bit(VirtioFeature.VERSION_1) | 1);
        f.reset();
        assertThat(f.isLocked()).isFalse();
        assertThat(f.accepted()).isZero();
    }

    @Test
    void refusalNamesUnofferedBitsAndMissingVersion1() {
        FeatureWindows f = new FeatureWindows(OFFERED_WITH_EVENT_IDX);
        f.writeDriverWindow(0x4);
        assertThat(f.problem()).contains("never offered").contains("0x4");
        f.writeDriverWindow(0x1);
        assertThat(f.problem()).contains("VERSION_1");
    }

    @Test
    void queueSizesBySplitAndPackedRules() {
        QueueSetup q = QueueSetup.sizedAtMaximum(3, 256);
        assertThat(q.size()).as("starts at the maximum").isEqualTo(256);
        assertThat(q.sizeProblem(128, false)).isNull();
        assertThat(q.sizeProblem(100, false)).contains("power of two");
        assertThat(q.sizeProblem(100, true)).as("packed takes any size").isNull();
        assertThat(q.sizeProblem(0, true)).isNotNull();
        assertThat(q.sizeProblem(512, true)).isNotNull();
        assertThat(q.setSize(64)).isTrue();
        assertThat(q.setDescriptorTable(0x1000)).isTrue();
        q.setEnabled(true);
        q.reset();
        assertThat(q.enabled()).isFalse();
        assertThat(q.size()).isEqualTo(256);
        assertThat(q.config().descriptorTable()).isZero();
    }

    @Test
    void setUpIsRefusedWhileEnabledAndAnUnsizedQueueStartsAtZero() {
        QueueSetup q = QueueSetup.unsized(1, 64);
        assertThat(q.size()).as("no size until the driver writes one").isZero();
        assertThat(q.sizeProblem(q.size(), true)).isNotNull();
        assertThat(q.setSize(32)).isTrue();
        assertThat(q.setDescriptorLow(0x2000)).isTrue();
        assertThat(q.setDescriptorHigh(1)).isTrue();
        q.setEnabled(true);
        assertThat(q.setSize(16)).isFalse();
        assertThat(q.setDriverLow(0x3000)).isFalse();
        assertThat(q.setDeviceArea(0x4000)).isFalse();
        assertThat(q.size()).isEqualTo(32);
        assertThat(q.descriptorTable()).isEqualTo(0x1_0000_2000L);
        assertThat(q.driverArea()).isZero();
        assertThat(q.deviceArea()).isZero();
        q.reset();
        assertThat(q.size()).isZero();
        assertThat(q.descriptorTable()).isZero();
    }
}
