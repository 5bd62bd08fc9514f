package org.jvirtio.transport.mmio.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioFeature;
import org.junit.jupiter.api.Test;

/** The transport-neutral pieces on their own: feature words and the status machine's steps. */
class NegotiationAndLifecycleTest {
    private static final long OFFERED = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_EVENT_IDX) | 0x3;

    @Test
    void featureWordsSelectAndLock() {
        FeatureNegotiation f = new FeatureNegotiation(OFFERED);
        f.selectDeviceWord(0);
        assertThat(f.deviceWord()).isEqualTo((int) OFFERED);
        f.selectDeviceWord(1);
        assertThat(f.deviceWord()).isEqualTo(1); // VERSION_1 is bit 32
        f.selectDeviceWord(2);
        assertThat(f.deviceWord()).isZero();
        f.selectDriverWord(1);
        assertThat(f.writeDriverWord(1)).isTrue();
        f.selectDriverWord(0);
        assertThat(f.writeDriverWord(0x1)).isTrue();
        f.selectDriverWord(7);
        assertThat(f.writeDriverWord(-1)).isTrue(); // past bit 63: nothing kept
        assertThat(f.driverFeatures()).isEqualTo(VirtioFeature.bit(VirtioFeature.VERSION_1) | 1);
        assertThat(f.refusal()).isNull();
        assertThat(f.negotiated()).isZero();
        f.lock();
        assertThat(f.negotiated()).isEqualTo(VirtioFeature.bit(VirtioFeature.VERSION_1) | 1);
        f.selectDriverWord(0);
        assertThat(f.writeDriverWord(0x3)).isFalse();
        assertThat(f.negotiated()).isEqualTo(VirtioFeature.bit(VirtioFeature.VERSION_1) | 1);
        f.reset();
        assertThat(f.isLocked()).isFalse();
        assertThat(f.driverFeatures()).isZero();
    }

    @Test
    void refusalNamesUnofferedBitsAndMissingVersion1() {
        FeatureNegotiation f = new FeatureNegotiation(OFFERED);
        f.writeDriverWord(0x4);
        assertThat(f.refusal()).contains("never offered").contains("0x4");
        f.writeDriverWord(0x1);
        assertThat(f.refusal()).contains("VERSION_1");
    }

    /** Records the steps; fails features or activation on demand. */
    private static final class Recorder implements DeviceLifecycle.Steps {
        final List<String> steps = new ArrayList<>();
        String featureRefusal;
        String activationFailure;

        @Override
        public String refuseFeatures() {
            steps.add("check");
            return featureRefusal;
        }

        @Override
        public void featuresAccepted() {
            steps.add("accepted");
        }

        @Override
        public String activate() {
            steps.add("activate");
            return activationFailure;
        }

        @Override
        public void reset() {
            steps.add("reset");
        }
    }

    @Test
    void stepsRunOnceInOrder() {
        Recorder r = new Recorder();
        DeviceLifecycle l = new DeviceLifecycle(r);
        int s = DeviceStatus.ACKNOWLEDGE;
        assertThat(l.write(s)).isEqualTo(DeviceLifecycle.Outcome.SET);
        s |= DeviceStatus.DRIVER;
        assertThat(l.write(s)).isEqualTo(DeviceLifecycle.Outcome.SET);
        s |= DeviceStatus.FEATURES_OK;
        assertThat(l.write(s)).isEqualTo(DeviceLifecycle.Outcome.SET);
        assertThat(l.write(s)).isEqualTo(DeviceLifecycle.Outcome.SET); // again: nothing new happens
        s |= DeviceStatus.DRIVER_OK;
        assertThat(l.write(s)).isEqualTo(DeviceLifecycle.Outcome.SET);
        assertThat(l.write(s | DeviceStatus.DEVICE_NEEDS_RESET)).isEqualTo(DeviceLifecycle.Outcome.SET);
        assertThat(l.status()).isEqualTo(s);
        assertThat(r.steps).containsExactly("check", "accepted", "activate");
        assertThat(l.write(0)).isEqualTo(DeviceLifecycle.Outcome.RESET);
        assertThat(r.steps).endsWith("reset");
        assertThat(l.status()).isZero();
    }

    @Test
    void refusedFeaturesLeaveFeaturesOkUnset() {
        Recorder r = new Recorder();
        r.featureRefusal = "no";
        DeviceLifecycle l = new DeviceLifecycle(r);
        l.write(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        assertThat(l.write(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK))
                .isEqualTo(DeviceLifecycle.Outcome.FEATURES_REFUSED);
        assertThat(l.status()).isEqualTo(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        assertThat(l.lastRefusal()).isEqualTo("no");
        assertThat(r.steps).containsExactly("check");
    }

    @Test
    void needsResetIsReportedOnceAndClearedByReset() {
        Recorder r = new Recorder();
        r.activationFailure = "cannot";
        DeviceLifecycle l = new DeviceLifecycle(r);
        int ok = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK;
        l.write(ok);
        assertThat(l.write(ok | DeviceStatus.DRIVER_OK)).isEqualTo(DeviceLifecycle.Outcome.ACTIVATION_FAILED);
        assertThat(l.setNeedsReset()).isTrue();
        assertThat(l.setNeedsReset()).isFalse();
        assertThat(l.status()).isEqualTo(ok | DeviceStatus.DRIVER_OK | DeviceStatus.DEVICE_NEEDS_RESET);
        l.write(0);
        assertThat(l.needsReset()).isFalse();
        assertThat(l.setNeedsReset()).isTrue();
    }
}
