package org.jvirtio.transport.core;

import org.jvirtio.api.DeviceStatus;

/**
 * The device status register as every register-based transport keeps it: transitions checked against
 * {@link DeviceStatus#isValidTransition}, the FEATURES_OK check against the {@link FeatureWindows} (a
 * refused set reads back without the bit, spec 3.1.1; an accepted one is locked), activation at
 * DRIVER_OK, reset on 0 (features forgotten too), and DEVICE_NEEDS_RESET, which the device side sets
 * from any thread. What activation and reset do is the transport's ({@link Steps}); what a refused
 * write costs (a counter, a log line) is the transport's too, told by the {@link Outcome}.
 *
 * <p>A reset the device cannot finish at once (it still holds a queue, see {@code QueueService}) stays
 * <em>pending</em>: the status reads DEVICE_NEEDS_RESET instead of 0 and every write but 0 is refused,
 * until {@link Steps#resetDone()} says it has completed; each driver {@link #read()} or {@link #write}
 * of the status asks again.
 *
 * <p>Threads: {@link #write} and {@link #read()} on the register thread only; {@link #setNeedsReset()},
 * {@link #status()}, {@link #resetPending()} and {@link #needsReset()} from any thread.
 */
public final class StatusMachine {

    /** What the transport does at each step; called from {@link #write} on the register thread. */
    public interface Steps {
        /** DRIVER_OK: starts the device; why it failed, or null. */
        String activate();

        /**
         * Status 0: stops everything and forgets the driver's state (the feature windows are reset
         * after it, and DEVICE_NEEDS_RESET cleared once {@link #resetDone()} says so).
         */
        void reset();

        /**
         * Whether the last {@link #reset()} has completed; false while the device still holds a queue
         * (see {@code QueueService}), which the transport reports as held (DEVICE_NEEDS_RESET). Asked
         * right after {@link #reset()} and then at each driver access of the status until true; the
         * call that returns true finishes the reset (the device's own reset, say).
         *
         * @since 1.1
         */
        default boolean resetDone() {
            return true;
        }
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
        /** DRIVER_OK was set and the device could not start. */
        ACTIVATION_FAILED
    }

    private final FeatureWindows features;
    private final Steps steps;
    /** Written by the register thread only; volatile so that management reads see it whole. */
    private volatile int status;
    /** Set from any thread (a worker that found a broken ring, the device), cleared by reset. */
    private volatile boolean needsReset;
    /**
     * Status 0 was written and the reset has not completed ({@link Steps#resetDone()} false): the
     * status reads DEVICE_NEEDS_RESET, never 0, and only 0 may be written. Volatile: written by the
     * register thread, read by management.
     */
    private volatile boolean resetPending;
    private String lastRefusal;

    /** @param features the feature windows this status accepts (at FEATURES_OK) and resets (at 0) */
    public StatusMachine(FeatureWindows features, Steps steps) {
        this.features = features;
        this.steps = steps;
    }

    /** The status as the driver reads it: its own bits (as accepted) plus DEVICE_NEEDS_RESET. */
    public int status() {
        return status | (needsReset || resetPending ? DeviceStatus.DEVICE_NEEDS_RESET : 0);
    }

    /**
     * The status as the driver reads it, on the register thread: a reset that was pending completes
     * first if it can now (so a driver polling for 0 after a reset sees it once the device let go).
     *
     * @since 1.1
     */
    public int read() {
        settle();
        return status();
    }

    /**
     * Whether a reset was written and has not completed yet (the device still holds a queue).
     *
     * @since 1.1
     */
    public boolean resetPending() {
        return resetPending;
    }

    /** Completes a pending reset if the transport's steps say it is done now; register thread. */
    private void settle() {
        if (resetPending && steps.resetDone()) {
            synchronized (this) {
                needsReset = false;
            }
            resetPending = false;
        }
    }

    /** Whether the driver's status has {@code bit} (DEVICE_NEEDS_RESET is not the driver's). */
    public boolean has(int bit) {
        return (status & bit) != 0;
    }

    public boolean needsReset() {
        return needsReset;
    }

    /**
     * Sets DEVICE_NEEDS_RESET, from any thread.
     *
     * @return true the first time since the last reset (the caller tells the driver, once)
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

    /** Why FEATURES_OK or DRIVER_OK was last refused (for logs and counters). */
    public String lastRefusal() {
        return lastRefusal;
    }

    /** The driver wrote {@code value} to the status register (only the low 8 bits count). */
    public Outcome write(int value) {
        int next = value & 0xff & ~DeviceStatus.DEVICE_NEEDS_RESET;
        settle();
        if (resetPending) {
            // the device still holds a queue from before the reset: nothing starts until it let go (a
            // driver must wait for the status to read 0, spec 4.1.4.3.2); another 0 changes nothing
            return next == 0 ? Outcome.RESET : Outcome.BAD_TRANSITION;
        }
        // a write of DEVICE_NEEDS_RESET alone (a bit only the device sets) is a reset too: the status
        // must never read 0 while the device still runs
        if (next == 0) {
            steps.reset();
            features.reset();
            status = 0;
            if (steps.resetDone()) {
                synchronized (this) {
                    needsReset = false;
                }
            } else {
                // the status reads DEVICE_NEEDS_RESET (not 0) until the device let go of its queues
                resetPending = true;
            }
            return Outcome.RESET;
        }
        int current = status;
        if (!DeviceStatus.isValidTransition(current, next)) {
            return Outcome.BAD_TRANSITION;
        }
        int added = next & ~current;
        if ((added & DeviceStatus.FEATURES_OK) != 0) {
            String refusal = features.problem();
            if (refusal != null) {
                lastRefusal = refusal;
                // without FEATURES_OK (and without what needs it): the driver re-reads and gives up
                status = next & ~(DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
                return Outcome.FEATURES_REFUSED;
            }
            features.lock();
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
