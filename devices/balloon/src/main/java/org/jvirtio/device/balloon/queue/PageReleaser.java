package org.jvirtio.device.balloon.queue;

import java.io.UncheckedIOException;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.device.balloon.BalloonCounter;
import org.jvirtio.device.balloon.BalloonError;
import org.jvirtio.device.balloon.BalloonMetrics;

/**
 * Gives the host memory of inflated pages back ({@link GuestMemory#discard}), merging neighbouring
 * pages into one call: a driver inflates pages as its allocator hands them out, often in runs going
 * up or down, and one madvise for a run costs what one costs for a page. The caller has checked that
 * each page lies in guest memory; a run that crosses into another region is released page by page, and
 * a page that itself crosses regions is counted ({@link BalloonError#PFN_STRADDLES_REGION}) and kept.
 * Allocates nothing.
 */
final class PageReleaser {
    private static final long PAGE = GuestMemory.DISCARD_PAGE;

    private final BalloonMetrics metrics;
    private GuestMemory memory;
    private long runStart;
    private long runPages;

    PageReleaser(BalloonMetrics metrics) {
        this.metrics = metrics;
    }

    /** Starts collecting pages of {@code memory} (the chain's snapshot). */
    void begin(GuestMemory memory) {
        this.memory = memory;
        this.runPages = 0;
    }

    /** Adds the page at {@code address} (4 KiB-aligned, in guest memory). */
    void add(long address) {
        if (runPages > 0 && address == runStart + runPages * PAGE) {
            runPages++;
        } else if (runPages > 0 && address == runStart - PAGE) {
            runStart = address;
            runPages++;
        } else {
            flush();
            runStart = address;
            runPages = 1;
        }
    }

    /** Releases the run collected so far. */
    void flush() {
        if (runPages == 0) {
            return;
        }
        long pages = runPages;
        runPages = 0;
        try {
            account(memory.discard(runStart, pages * PAGE), pages);
        } catch (GuestMemoryException crossesRegions) {
            for (long p = 0; p < pages; p++) {
                releaseOne(runStart + p * PAGE);
            }
        } catch (UncheckedIOException refused) {
            metrics.error(BalloonError.RELEASE_FAILED, runStart);
            metrics.add(BalloonCounter.PAGES_NOT_RELEASED, pages);
        }
    }

    private void releaseOne(long address) {
        try {
            account(memory.discard(address, PAGE), 1);
        } catch (GuestMemoryException straddles) {
            metrics.error(BalloonError.PFN_STRADDLES_REGION, address);
        } catch (UncheckedIOException refused) {
            metrics.error(BalloonError.RELEASE_FAILED, address);
            metrics.increment(BalloonCounter.PAGES_NOT_RELEASED);
        }
    }

    private void account(long released, long pages) {
        metrics.add(BalloonCounter.BYTES_RELEASED, released);
        metrics.add(BalloonCounter.PAGES_NOT_RELEASED, pages - released / PAGE);
    }
}
