package org.jvirtio.transport.vhostuser.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.jvirtio.nativeio.NativeException;
import org.jvirtio.nativeio.UnixSocket;

/**
 * Client mode: connects out to a front end that listens (QEMU {@code server=on}), serves the connection
 * through the {@link ConnectionRunner}, and when it ends connects again. Every pause between two
 * attempts, failed or not, is the full interval: a peer that accepts and hangs up at once, or a path
 * that is not there yet, costs one connect per interval, never a hot loop.
 *
 * <p>Logging: the wait is logged once per spell (and again only if the reason changes), not per try.
 *
 * <p>Limit: a blocking {@code connect} to a listener whose backlog is full waits inside the kernel
 * until the peer accepts; {@link #close()} cannot interrupt that one call (the back end's close gives
 * up waiting for this thread after a timeout; it is a daemon).
 */
public final class ConnectLoop implements Runnable {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.vhostuser");
    /** Linux errnos of "nobody listens there yet": the normal wait, logged at INFO; others warn. */
    private static final int ENOENT = 2;
    private static final int ECONNREFUSED = 111;

    private final Path path;
    private final long intervalNanos;
    private final String interval;
    private final ConnectionRunner runner;
    private final CountDownLatch closed = new CountDownLatch(1);

    public ConnectLoop(Path path, Duration interval, ConnectionRunner runner) {
        this.path = path;
        this.intervalNanos = interval.toNanos();
        this.interval = interval.toMillis() + " ms";
        this.runner = runner;
    }

    @Override
    public void run() {
        String waitingFor = null; // the reason last logged in this spell of failed attempts
        while (!isClosed()) {
            UnixSocket socket;
            try {
                socket = UnixSocket.connect(path);
            } catch (NativeException e) {
                String reason = e.getMessage();
                if (!reason.equals(waitingFor)) {
                    boolean expected = e.errno() == ENOENT || e.errno() == ECONNREFUSED;
                    LOG.log(expected ? Level.INFO : Level.WARNING,
                            "{0}: waiting for the front end to listen (trying every {1}): {2}", path, interval, reason);
                    waitingFor = reason;
                }
                pause();
                continue;
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "vhost-user connect to " + path + " failed; client stops", e);
                return;
            }
            waitingFor = null;
            runner.arrived();
            LOG.log(Level.INFO, "{0}: connected to the front end", path);
            if (runner.serve(socket)) {
                runner.awaitIdle(0); // until the front end leaves, or close() ends the connection
            }
            if (!isClosed()) {
                LOG.log(Level.INFO, "{0}: connection ended; connecting again in {1}", path, interval);
                pause();
            }
        }
    }

    private boolean isClosed() {
        return closed.getCount() == 0;
    }

    /** Waits one interval, or less if the loop is closed meanwhile. */
    private void pause() {
        try {
            closed.await(intervalNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed.countDown();
        }
    }

    /** Stops connecting; a pause in progress ends at once. The current connection is the runner's to close. */
    public void close() {
        closed.countDown();
    }
}
