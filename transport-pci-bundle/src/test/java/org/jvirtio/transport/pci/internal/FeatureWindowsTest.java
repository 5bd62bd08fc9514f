package org.jvirtio.transport.pci.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.jvirtio.api.VirtioFeature;

/** Transport-neutral feature windows and queue set-up, on their own. */
class FeatureWindowsTest {
    private static final long OFFERED = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_PACKED) | 0b101;

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
    void queueSizesBySplitAndPackedRules() {
        QueueSetup q = new QueueSetup(3, 256);
        assertThat(q.size()).as("starts at the maximum").isEqualTo(256);
        assertThat(q.sizeProblem(128, false)).isNull();
        assertThat(q.sizeProblem(100, false)).contains("power of two");
        assertThat(q.sizeProblem(100, true)).as("packed takes any size").isNull();
        assertThat(q.sizeProblem(0, true)).isNotNull();
        assertThat(q.sizeProblem(512, true)).isNotNull();
        q.config().setSize(64).setDescriptorTable(0x1000);
        q.setEnabled(true);
        q.reset();
        assertThat(q.enabled()).isFalse();
        assertThat(q.size()).isEqualTo(256);
        assertThat(q.config().descriptorTable()).isZero();
    }
}
