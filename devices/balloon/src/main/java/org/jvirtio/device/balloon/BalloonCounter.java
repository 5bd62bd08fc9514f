package org.jvirtio.device.balloon;

/** What a balloon counts besides errors ({@link BalloonError}). */
public enum BalloonCounter {
    /** Chains taken from any queue, good or bad. */
    REQUESTS,
    /** Pages (4 KiB) the driver put into the balloon. */
    PAGES_INFLATED,
    /** Pages the driver took back out of the balloon. */
    PAGES_DEFLATED,
    /** Bytes of host memory given back: inflated pages and reported free pages. */
    BYTES_RELEASED,
    /** Inflated or reported pages whose host memory could not be released (a backing that cannot, e.g. a Java buffer). */
    PAGES_NOT_RELEASED,
    /** Free page reports (reporting_vq chains). */
    REPORTS,
    /** Bytes the driver reported free. */
    BYTES_REPORTED,
    /** Reported bytes kept because the driver poisons free pages (poison_val not 0): released pages would read as zeros. */
    BYTES_KEPT_POISONED,
    /** Statistics samples received. */
    STATS_SAMPLES,
    /** Statistics buffers handed back to the driver to ask for the next sample. */
    STATS_REQUESTS,
    /** Free page hint runs the driver started (it echoed the command id). */
    HINT_RUNS,
    /** Bytes of free pages the driver lent during hint runs. */
    BYTES_HINTED,
    /** Targets set by the host. */
    TARGET_CHANGES,
    /** Configuration-change interrupts raised (targets, free page hint commands). */
    CONFIG_INTERRUPTS,
    /** Kicks delivered by the transport. */
    KICKS,
    /** Used-buffer notifications sent to the driver. */
    INTERRUPTS
}
