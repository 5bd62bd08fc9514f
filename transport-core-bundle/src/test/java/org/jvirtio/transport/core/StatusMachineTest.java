package org.jvirtio.transport.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.jvirtio.api.DeviceStatus;

/** The status machine's steps, without any register layout. */
class StatusMachineTest {

    /** Records the steps; fails features or activation on demand. */
    private static final class Recorder implements StatusMachine.Steps {
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
        StatusMachine l = new StatusMachine(r);
        int s = DeviceStatus.ACKNOWLEDGE;
        assertThat(l.write(s)).isEqualTo(StatusMachine.Outcome.SET);
        s |= DeviceStatus.DRIVER;
        assertThat(l.write(s)).isEqualTo(StatusMachine.Outcome.SET);
        s |= DeviceStatus.FEATURES_OK;
        assertThat(l.write(s)).isEqualTo(StatusMachine.Outcome.SET);
        assertThat(l.write(s)).isEqualTo(StatusMachine.Outcome.SET); // again: nothing new happens
        s |= DeviceStatus.DRIVER_OK;
        assertThat(l.write(s)).isEqualTo(StatusMachine.Outcome.SET);
        assertThat(l.write(s | DeviceStatus.DEVICE_NEEDS_RESET)).isEqualTo(StatusMachine.Outcome.SET);
        assertThat(l.status()).isEqualTo(s);
        assertThat(r.steps).containsExactly("check", "accepted", "activate");
        assertThat(l.write(0)).isEqualTo(StatusMachine.Outcome.RESET);
        assertThat(r.steps).endsWith("reset");
        assertThat(l.status()).isZero();
    }

    @Test
    void skippedOrClearedStepsAreRefused() {
        Recorder r = new Recorder();
        StatusMachine l = new StatusMachine(r);
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
        StatusMachine l = new StatusMachine(r);
        l.write(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
        assertThat(l.write(DeviceStatus.DEVICE_NEEDS_RESET)).isEqualTo(StatusMachine.Outcome.RESET);
        assertThat(r.steps).endsWith("reset");
        assertThat(l.status()).isZero();
    }

    @Test
    void refusedFeaturesLeaveFeaturesOkUnset() {
        Recorder r = new Recorder();
        r.featureRefusal = "no";
        StatusMachine l = new StatusMachine(r);
        l.write(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        assertThat(l.write(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK))
                .isEqualTo(StatusMachine.Outcome.FEATURES_REFUSED);
        assertThat(l.status()).isEqualTo(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        assertThat(l.lastRefusal()).isEqualTo("no");
        assertThat(r.steps).containsExactly("check");
    }

    @Test
    void needsResetIsReportedOnceAndClearedByReset() {
        Recorder r = new Recorder();
        r.activationFailure = "cannot";
        StatusMachine l = new StatusMachine(r);
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
}
