package org.jvirtio.device.balloon.control;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The host's side of a balloon: it asks the guest to give back memory by raising the target, and to
 * take it again by lowering it. Sizes are in 4 KiB balloon pages, as in the device's configuration
 * space. Safe to call from any thread.
 */
@ProviderType
public interface BalloonControl {

    /** Bytes in a balloon page. */
    long PAGE_SIZE = 4096;

    /**
     * Sets {@code num_pages}, the size the driver should inflate or deflate the balloon to, and raises
     * a configuration-change interrupt if the driver is running. A target above the guest's memory is
     * cut to the guest's memory (counted, logged).
     *
     * @param pages 0 to 2^32 - 1
     * @return the target now in force (after the cut)
     * @throws IllegalArgumentException if {@code pages} does not fit the 32-bit field
     */
    long setTargetPages(long pages);

    /** The target in force ({@code num_pages}). */
    long targetPages();

    /** The balloon's size as the driver last reported it ({@code actual}). */
    long actualPages();

    /**
     * The guest's latest memory statistics (STATS_VQ), or {@link BalloonStatistics#NONE} before the
     * first sample or without STATS_VQ.
     */
    BalloonStatistics statistics();

    /**
     * Hands the driver its statistics buffer back now, so that a fresh sample arrives soon, instead of
     * at the end of the polling period.
     *
     * @return false if the device holds no buffer (no STATS_VQ, not running, or already asked)
     */
    boolean requestStatistics();

    /**
     * Starts a free page hint run (FREE_PAGE_HINT): a new command id in the configuration space and a
     * configuration-change interrupt; the driver then lends the device blocks of free pages until it
     * runs out and sends STOP, after which the device tells it (DONE) to take them back.
     *
     * @return the run's command id, or 0 if FREE_PAGE_HINT is not negotiated or the device is not running
     */
    long requestFreePageHints();
}
