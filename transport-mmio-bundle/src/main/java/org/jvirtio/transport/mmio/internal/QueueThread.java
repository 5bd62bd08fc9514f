package org.jvirtio.transport.mmio.internal;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * The thread that serves one queue's notifications, so that a QueueNotify store returns to the vCPU
 * (or the proxy) at once instead of running the device. {@link #kick()} from the register thread sets
 * a flag and unparks; the thread clears the flag before it serves, so a kick that arrives while it
 * serves makes it go round once more and none is lost. Allocates nothing per kick.
 */
public final class QueueThread implements Runnable {
    private final Runnable serve;
    private final AtomicBoolean pending = new AtomicBoolean();
    private final Thread thread;
    private volatile boolean stopped;

    /** @param serve has the device serve the queue (under its serve lock); must not throw */
    public QueueThread(String name, Runnable serve) {
        this.serve = serve;
        this.thread = new Thread(this, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** The driver notified the queue. */
    public void kick() {
        // set before unpark: the thread's getAndSet after waking sees it (both are volatile accesses)
        pending.set(true);
        LockSupport.unpark(thread);
    }

    @Override
    public void run() {
        while (!stopped) {
            if (pending.getAndSet(false)) {
                serve.run();
            } else {
                // a kick between the getAndSet and here left a permit: park returns at once
                LockSupport.park(this);
            }
        }
    }

    /** Ends the thread after the serve in progress and waits for it (not from the thread itself). */
    public void stop() {
        stopped = true;
        LockSupport.unpark(thread);
        if (thread != Thread.currentThread()) {
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    public boolean isOnThread() {
        return thread == Thread.currentThread();
    }
}
