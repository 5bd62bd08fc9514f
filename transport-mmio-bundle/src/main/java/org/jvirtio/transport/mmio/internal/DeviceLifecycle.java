package org.jvirtio.transport.mmio.internal;

import org.jvirtio.api.DeviceStatus;

/**
 * The device status register as every transport keeps it: transitions checked against
 * {@link DeviceStatus#isValidTransition}, the FEATURES_OK check (a refused set reads back without the
 * bit, spec 3.1.1), activation at DRIVER_OK, reset on 0, and DEVICE_NEEDS_RESET which the device side
 * sets from any thread. Transport-neutral: what activation and reset do is the transport's
 * ({@link Steps}). Not thread-safe except {@link #needsReset} and {@link #status()}.
 */
public final class DeviceLifecycle {

    /** What the transport does at each step. */
    public interface Steps {
        /** Why the features cannot be accepted, or null to accept them. */
        String refuseFeatures();

        /** The features are accepted (FEATURES_OK is being set). */
        void featuresAccepted();

        /** Starts the device; why it failed, or null. */
        String activate();

        /** Stops everything and forgets the driver's state (status 0). */
        void reset();
    }

    /** What a status write did. */
    public enum Outcome {
        /** Status set (possibly with nothing new). */
        SET,
        /** Status 0: the device was reset. */
        RESET,
        /** The write skips or clears steps: ignored. */
        BAD_TRANSITION,
        /** FEATURES_OK was asked and refused: the status reads back without it. */
        FEATURES_REFUSED,
        /** DRIVER_OK was set and the device could not start: DEVICE_NEEDS_RESET is set. */
        ACTIVATION_FAILED
    }

    private final Steps steps;
    /** Written by the register thread only; volatile so that management reads see it whole. */
    private volatile int status;
    /** Set from any thread (a worker that found a broken ring), cleared by reset. */
    private volatile boolean needsReset;
    private String lastRefusal;

    public DeviceLifecycle(Steps steps) {
        this.steps = steps;
    }

    /** The status as the driver reads it: its own bits plus DEVICE_NEEDS_RESET. */
    public int status() {
        return status | (needsReset ? DeviceStatus.DEVICE_NEEDS_RESET : 0);
    }

    public boolean has(int bit) {
        return (status & bit) != 0;
    }

    public boolean needsReset() {
        return needsReset;
    }

    /**
     * Sets DEVICE_NEEDS_RESET.
     *
     * @return true the first time since the last reset (the caller raises the config interrupt)
     */
    public boolean setNeedsReset() {
        synchronized (this) {
            if (needsReset) {
                return false;
            }
            needsReset = true;
            return true;
        }
    }

    /** Why FEATURES_OK or DRIVER_OK was last refused (for logs). */
    public String lastRefusal() {
        return lastRefusal;
    }

    /** The driver wrote {@code value} to the status register. */
    public Outcome write(int value) {
        int next = value & 0xff & ~DeviceStatus.DEVICE_NEEDS_RESET;
        if (next == 0) {
            steps.reset();
            status = 0;
            synchronized (this) {
                needsReset = false;
            }
            return Outcome.RESET;
        }
        int current = status;
        if (!DeviceStatus.isValidTransition(current, next)) {
            return Outcome.BAD_TRANSITION;
        }
        int added = next & ~current;
        if ((added & DeviceStatus.FEATURES_OK) != 0) {
            String refusal = steps.refuseFeatures();
            if (refusal != null) {
                lastRefusal = refusal;
                // without FEATURES_OK (and without what needs it): the driver re-reads and gives up
                status = next & ~(DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
                return Outcome.FEATURES_REFUSED;
            }
            steps.featuresAccepted();
        }
        status = next;
        if ((added & DeviceStatus.DRIVER_OK) != 0) {
            String failure = steps.activate();
            if (failure != null) {
                lastRefusal = failure;
                return Outcome.ACTIVATION_FAILED;
            }
        }
        return Outcome.SET;
    }
}
