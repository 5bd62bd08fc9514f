package org.jvirtio.transport.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioFeature;

/** The status machine's steps, without any register layout. */
class StatusMachineTest {
    private static final long OFFERED = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_EVENT_IDX);

    /** Offers VERSION_1 and EVENT_IDX; the driver has accepted VERSION_1. */
    private final FeatureWindows features = new FeatureWindows(OFFERED);

    StatusMachineTest() {
        features.selectDriver(1);
        features.writeDriverWindow(1);
    }

    /** Records the steps; fails activation on demand. */
    private static final class Recorder implements StatusMachine.Steps {
        final List<String> steps = new ArrayList<>();
        String activationFailure;

        @Override
        public String activate() {
            steps.add("activate");
            return activationFailure;
        }

        @Override
        public void reset() {
            steps.add("reset");
        }

        /** A device that has not let go of its queues yet: the reset stays pending while this is false. */
        boolean letGo = true;

        @Override
        public boolean resetDone() {
            if (!letGo) {
                steps.add("reset held up");
            }
            return letGo;
        }
    }

    @Test
    void stepsRunOnceInOrder() {
        Recorder r = new Recorder();
        StatusMachine l = new StatusMachine(features, r);
        int s = DeviceStatus.ACKNOWLEDGE;
        assertThat(l.write(s)).isEqualTo(StatusMachine.Outcome.SET);
        s |= DeviceStatus.DRIVER;
        assertThat(l.write(s)).isEqualTo(StatusMachine.Outcome.SET);
        s |= DeviceStatus.FEATURES_OK;
        assertThat(features.isLocked()).isFalse();
        assertThat(l.write(s)).isEqualTo(StatusMachine.Outcome.SET);
        assertThat(features.isLocked()).as("FEATURES_OK fixes the set").isTrue();
        assertThat(l.write(s)).isEqualTo(StatusMachine.Outcome.SET); // again: nothing new happens
        s |= DeviceStatus.DRIVER_OK;
        assertThat(l.write(s)).isEqualTo(StatusMachine.Outcome.SET);
        assertThat(l.write(s | DeviceStatus.DEVICE_NEEDS_RESET)).isEqualTo(StatusMachine.Outcome.SET);
        assertThat(l.status()).isEqualTo(s);
        assertThat(r.steps).containsExactly("activate");
        assertThat(l.write(0)).isEqualTo(StatusMachine.Outcome.RESET);
        assertThat(r.steps).endsWith("reset");
        assertThat(l.status()).isZero();
        assertThat(features.isLocked()).isFalse();
        assertThat(features.accepted()).as("reset forgets the driver's features").isZero();
    }

    @Test
    void skippedOrClearedStepsAreRefused() {
        Recorder r = new Recorder();
        StatusMachine l = new StatusMachine(features, r);
        assertThat(l.write(DeviceStatus.DRIVER)).isEqualTo(StatusMachine.Outcome.BAD_TRANSITION);
        assertThat(l.status()).isZero();
        l.write(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        assertThat(l.write(DeviceStatus.ACKNOWLEDGE)).isEqualTo(StatusMachine.Outcome.BAD_TRANSITION);
        assertThat(l.status()).isEqualTo(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        assertThat(r.steps).isEmpty();
    }

    @Test
    void deviceNeedsResetAloneResetsTheDevice() {
        Recorder r = new Recorder();
        StatusMachine l = new StatusMachine(features, r);
        l.write(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
        assertThat(l.write(DeviceStatus.DEVICE_NEEDS_RESET)).isEqualTo(StatusMachine.Outcome.RESET);
        assertThat(r.steps).endsWith("reset");
        assertThat(l.status()).isZero();
    }

    @Test
    void refusedFeaturesLeaveFeaturesOkUnset() {
        Recorder r = new Recorder();
        features.selectDriver(0);
        features.writeDriverWindow(0x4); // never offered
        StatusMachine l = new StatusMachine(features, r);
        l.write(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        assertThat(l.write(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK))
                .isEqualTo(StatusMachine.Outcome.FEATURES_REFUSED);
        assertThat(l.status()).isEqualTo(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        assertThat(l.lastRefusal()).contains("never offered").contains("0x4");
        assertThat(features.isLocked()).isFalse();
        assertThat(r.steps).isEmpty();
    }

    @Test
    void needsResetIsReportedOnceAndClearedByReset() {
        Recorder r = new Recorder();
        r.activationFailure = "cannot";
        StatusMachine l = new StatusMachine(features, r);
        int ok = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK;
        l.write(ok);
        assertThat(l.write(ok | DeviceStatus.DRIVER_OK)).isEqualTo(StatusMachine.Outcome.ACTIVATION_FAILED);
        assertThat(l.lastRefusal()).isEqualTo("cannot");
        assertThat(l.setNeedsReset()).isTrue();
        assertThat(l.setNeedsReset()).isFalse();
        assertThat(l.status()).isEqualTo(ok | DeviceStatus.DRIVER_OK | DeviceStatus.DEVICE_NEEDS_RESET);
        l.write(0);
        assertThat(l.needsReset()).isFalse();
        assertThat(l.setNeedsReset()).isTrue();
    }

    @Test
    void aResetTheDeviceHoldsUpReadsNeedsResetAndRefusesEverythingButZeroUntilDone() {
        Recorder r = new Recorder();
        StatusMachine l = new StatusMachine(features, r);
        int ok = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK;
        l.write(ok);
        r.letGo = false;
        assertThat(l.write(0)).isEqualTo(StatusMachine.Outcome.RESET);
        assertThat(r.steps).containsExactly("activate", "reset", "reset held up");
        assertThat(l.resetPending()).isTrue();
        assertThat(l.read()).as("never 0 while the device still holds a queue").isEqualTo(DeviceStatus.DEVICE_NEEDS_RESET);
        assertThat(features.isLocked()).isFalse();
        assertThat(l.write(DeviceStatus.ACKNOWLEDGE)).isEqualTo(StatusMachine.Outcome.BAD_TRANSITION);
        assertThat(l.write(0)).as("a reset is under way already").isEqualTo(StatusMachine.Outcome.RESET);
        assertThat(r.steps).as("reset once").containsOnlyOnce("reset");
        assertThat(l.status()).isEqualTo(DeviceStatus.DEVICE_NEEDS_RESET);

        r.letGo = true;
        assertThat(l.read()).as("completed at the driver's next read").isZero();
        assertThat(l.resetPending()).isFalse();
        assertThat(l.needsReset()).isFalse();
        assertThat(l.write(DeviceStatus.ACKNOWLEDGE)).isEqualTo(StatusMachine.Outcome.SET);
    }
}
