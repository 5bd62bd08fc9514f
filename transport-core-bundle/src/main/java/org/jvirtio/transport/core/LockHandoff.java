package org.jvirtio.transport.core;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Takes a serve lock for the register thread without waiting for it beyond a deadline. A serve lock is
 * a plain monitor ({@code DeviceQueue.serveLock()} is an {@code Object}: devices {@code synchronized} on
 * it from threads of their own), and a monitor cannot be entered with a timeout; so the change that
 * needs the lock runs on a handoff thread, and the register thread waits for that thread only until the
 * deadline. A device that never returns from {@code queueNotified} then holds the handoff thread, not
 * the register thread (and with it every other device that thread serves).
 *
 * <p>A change handed off here runs at most once, holding the lock. When the register thread stopped
 * waiting, it {@linkplain Change#abandon() abandons} the change: a change that gets the lock later does
 * nothing. One that got the lock just as the wait ended may still have run; whoever abandons it must
 * leave the queue in a state that does not depend on whether it ran (QueueService pulls every ring of
 * such a device after it, see {@code QueueService}).
 *
 * <p>Only the register paths that change rings use this (a handoff per plug, pull, rebuild or reset,
 * not per kick): serving a queue still enters its lock directly and allocates nothing.
 */
final class LockHandoff {
    private static final AtomicInteger THREAD_NUMBER = new AtomicInteger();
    /**
     * Threads made on demand and kept 60 s when idle: one per change waiting now, so a device stuck
     * for good keeps one (or two: an abandoned change and the pull of its rings) for as long as it is
     * stuck, and the others are not delayed by it.
     */
    private static final ExecutorService THREADS = Executors.newCachedThreadPool(task -> {
        Thread t = new Thread(task, "jvirtio serve-lock handoff " + THREAD_NUMBER.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    private LockHandoff() {
    }

    /** Starts {@code task} on a handoff thread (it may block on a serve lock as long as it has to). */
    static void start(Runnable task) {
        THREADS.execute(task);
    }

    /**
     * Runs {@code change} holding {@code lock}, on a handoff thread unless the caller holds the lock
     * already, and waits for it at most until {@code deadlineNanos} ({@link System#nanoTime()}).
     *
     * @return null if the change ran in time; otherwise the change, still waiting for the lock, for the
     *         caller to {@linkplain Change#abandon() abandon}
     */
    static Change run(Object lock, Runnable change, long deadlineNanos) {
        if (Thread.holdsLock(lock)) {
            change.run();
            return null;
        }
        Change c = new Change(lock, change);
        start(c);
        return c.await(deadlineNanos) ? null : c;
    }

    /** A change waiting for its lock on a handoff thread. */
    static final class Change implements Runnable {
        private final Object lock;
        private final Runnable change;
        private final CountDownLatch done = new CountDownLatch(1);
        /**
         * Volatile: written by the register thread after its wait ended, read by the handoff thread
         * once it holds the lock. Whoever takes the lock after the abandoning thread handed it on (the
         * pull of every ring is started after the abandon) therefore finds the change either done or
         * never to be done.
         */
        private volatile boolean abandoned;

        private Change(Object lock, Runnable change) {
            this.lock = lock;
            this.change = change;
        }

        @Override
        public void run() {
            try {
                synchronized (lock) {
                    if (!abandoned) {
                        change.run();
                    }
                }
            } finally {
                done.countDown();
            }
        }

        /** From now on the change will not run (if it has not yet got the lock). */
        void abandon() {
            abandoned = true;
        }

        private boolean await(long deadlineNanos) {
            try {
                return done.await(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }
}
