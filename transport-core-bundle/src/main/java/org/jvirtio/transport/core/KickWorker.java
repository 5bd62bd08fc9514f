package org.jvirtio.transport.core;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A thread that serves kicks for some queues, so that a notify register write returns to the VMM (or
 * the vCPU) at once instead of running the device on the register thread. A kick sets the queue's
 * pending flag and unparks the thread; the thread clears each flag before it serves the queue, so a
 * kick that arrives while the queue is served is served again, never lost (unpark before park leaves a
 * permit). No allocation, no lock per kick.
 */
public final class KickWorker implements Runnable {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.core");

    /** A device whose queue stays busy after it was paused is left behind rather than hang the VMM. */
    private static final long STOP_WAIT_MILLIS = 10_000;

    private final int[] queues;
    private final AtomicIntegerArray pending;
    private final IntConsumer serve;
    private final Thread thread;
    private volatile boolean stopped;

    /**
     * A worker for some queues, not started yet.
     *
     * @param queues the queue indexes this worker serves
     * @param slots  one more than the highest queue index
     * @param serve  serves one queue (should not throw; anything it throws is logged)
     */
    public KickWorker(String name, int[] queues, int slots, IntConsumer serve) {
        this.queues = queues.clone();
        this.pending = new AtomicIntegerArray(slots);
        this.serve = serve;
        this.thread = new Thread(this, name);
        thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** Queue {@code index} (one of this worker's) was notified; returns at once. */
    public void kick(int index) {
        // set before unpark: the thread's getAndSet after waking sees it (both are volatile accesses)
        pending.set(index, 1);
        LockSupport.unpark(thread);
    }

    @Override
    public void run() {
        while (!stopped) {
            boolean served = false;
            for (int q : queues) {
                // getAndSet before serving: a kick landing during the serve sets the flag again
                if (pending.get(q) != 0 && pending.getAndSet(q, 0) != 0 && !stopped) {
                    served = true;
                    try {
                        serve.accept(q);
                    } catch (RuntimeException e) {
                        LOG.log(Level.ERROR, thread.getName() + ": serving queue " + q + " failed", e);
                    }
                }
            }
            if (!served) {
                // a kick between the getAndSet and here left a permit: park returns at once
                LockSupport.park(this);
            }
        }
    }

    /** Ends the thread after the queue it serves now, and waits for it (unless called from it). */
    public void stop() {
        requestStop();
        if (!awaitEnd(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_WAIT_MILLIS))) {
            LOG.log(Level.ERROR, "{0}: still serving after {1} ms; left behind", thread.getName(),
                    Long.toString(STOP_WAIT_MILLIS));
        }
    }

    /**
     * Ends the thread after the queue it serves now, without waiting: it serves nothing more, and a
     * serve in progress finishes on its own time (a device stuck in it keeps the thread).
     *
     * @since 1.1
     */
    public void requestStop() {
        stopped = true;
        LockSupport.unpark(thread);
    }

    /**
     * Waits for the thread to end after {@link #requestStop()}, at most until {@code deadlineNanos}
     * ({@link System#nanoTime()}); at once if called from it.
     *
     * @return whether the thread has ended (or is the caller)
     * @since 1.1
     */
    public boolean awaitEnd(long deadlineNanos) {
        if (thread == Thread.currentThread()) {
            return true;
        }
        try {
            long left = deadlineNanos - System.nanoTime();
            if (left > 0) {
                thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }
}
