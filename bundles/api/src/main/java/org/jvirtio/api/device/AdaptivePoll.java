package org.jvirtio.api.device;

import org.jvirtio.api.queue.DeviceQueue;

/**
 * For device models: how long a queue worker polls the ring before it sleeps until the next kick, adapted to the driver
 * (the rule of QEMU's adaptive event-loop polling): a driver that answers each completion with a new
 * request within microseconds (a deep-enough queue, or queue depth 1 on a fast front end) finds the
 * worker still polling, so no kick and no wake-up is needed; a driver whose requests come further
 * apart than the longest window (a guest under emulation, a mostly idle disk) gets no polling at all,
 * so the worker burns no CPU the guest could use.
 *
 * <p>After every sleep the worker reports how long it slept: shorter than the longest window means a
 * longer poll would have caught the request, so the window grows (from {@link #FIRST_WINDOW_NANOS},
 * doubling up to the maximum); longer means polling was wasted, so it halves, to zero. Used by one
 * thread at a time.
 */
public final class AdaptivePoll {
    /** The window after a sleep that polling would have avoided, starting from none. */
    public static final long FIRST_WINDOW_NANOS = 4_000;

    private final long maxNanos;
    private long windowNanos;

    public AdaptivePoll(long maxNanos) {
        this.maxNanos = maxNanos;
    }

    /** How long to poll now. */
    public long windowNanos() {
        return windowNanos;
    }

    /** The worker slept {@code sleptNanos} before the next kick. */
    public void slept(long sleptNanos) {
        if (sleptNanos > maxNanos) {
            windowNanos = windowNanos <= FIRST_WINDOW_NANOS ? 0 : windowNanos / 2;
        } else if (windowNanos < maxNanos) {
            windowNanos = windowNanos == 0 ? FIRST_WINDOW_NANOS : Math.min(maxNanos, windowNanos * 2);
        }
    }

    /**
     * Watches {@code queue} for the current window before the worker re-arms notifications and
     * sleeps: a driver that answers a completion with a new request then finds the worker awake, and
     * waking a sleeping thread costs more than the request itself. At most one window (50 µs in the
     * devices here) even if the worker is being stopped meanwhile.
     *
     * @return true if a chain arrived meanwhile
     */
    public boolean chainArrivesWithinWindow(DeviceQueue queue) {
        long window = windowNanos;
        if (window == 0) {
            return false;
        }
        long deadline = System.nanoTime() + window;
        do {
            if (queue.hasAvailable()) {
                return true;
            }
            Thread.onSpinWait();
        } while (System.nanoTime() - deadline < 0);
        return false;
    }
}
