package org.jvirtio.transport.vhostuser.internal;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.nativeio.UnixSocket;

/**
 * Serves one device to one front end at a time, whichever side opened the socket: the part that a
 * listening back end ({@link AcceptLoop}) and a connecting one ({@link ConnectLoop}) share. Each socket
 * handed to {@link #serve} becomes a {@link Connection} on its own thread; the loops decide when the
 * next one may start ({@link #awaitIdle}).
 *
 * <p>Thread safety: {@link #serve} and {@link #close} may race (a loop hands over a socket while the
 * back end is closed); the lock makes sure a connection started then is closed too, never left running.
 */
public final class ConnectionRunner {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.vhostuser");

    private volatile VirtioDevice device;
    private final String baseName;
    private final AtomicInteger connections = new AtomicInteger();
    private final RingCounters counters = new RingCounters();
    private final Object lock = new Object();
    private int serial;
    private Connection current;
    private volatile Thread currentThread;
    private boolean closed;

    /** @param baseName names connections and their threads: {@code baseName#1}, {@code baseName#2}, ... */
    public ConnectionRunner(VirtioDevice device, String baseName) {
        this.device = device;
        this.baseName = baseName;
    }

    /** Counts a front-end socket that arrived (served or turned away). */
    public void arrived() {
        connections.incrementAndGet();
    }

    /** Sockets counted by {@link #arrived} so far. */
    public int connections() {
        return connections.get();
    }

    /** The counters of every ring served so far, across connections. */
    public RingCounters counters() {
        return counters;
    }

    /** The connection being served now, or null. */
    public Connection current() {
        synchronized (lock) {
            Thread t = currentThread;
            return t != null && t.isAlive() ? current : null;
        }
    }

    /** The device served now (or to the next front end). */
    public VirtioDevice device() {
        return device;
    }

    /** Whether a connection is being served now. */
    public boolean isConnected() {
        Thread t = currentThread;
        return t != null && t.isAlive();
    }

    /**
     * Serves {@code socket} on a new thread, taking ownership of it. After {@link #close}, or if the
     * connection cannot be set up, the socket is closed instead.
     *
     * @return whether the connection is being served
     */
    public boolean serve(UnixSocket socket) {
        synchronized (lock) {
            if (closed) {
                socket.close();
                return false;
            }
            String name = baseName + "#" + (++serial);
            try {
                Connection connection = new Connection(device, socket, name, counters);
                Thread thread = new Thread(connection, "vhost-user " + name);
                thread.setDaemon(true);
                current = connection;
                currentThread = thread;
                thread.start();
                return true;
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.ERROR, name + ": cannot serve the connection", e);
                socket.close();
                return false;
            }
        }
    }

    /**
     * Serves {@code next} instead of the current device from now on: in place, if a front end is
     * connected (see {@code DeviceReplacement}); to the next front end otherwise.
     *
     * @return how long the connected front end's rings were paused (zero if none was running)
     */
    public Duration replaceDevice(VirtioDevice next, Duration drain) {
        synchronized (lock) {
            Duration paused = Duration.ZERO;
            Thread t = currentThread;
            if (current != null && t != null && t.isAlive()) {
                paused = current.replaceDevice(next, drain);
            }
            device = next;
            return paused;
        }
    }

    /**
     * Ends the current connection, if any, resetting its device, and serves {@code next} to the next
     * front end; waits up to {@code millis} for the connection's threads to finish.
     */
    public void disconnectAndServe(VirtioDevice next, long millis) {
        Connection connection;
        synchronized (lock) {
            device = next;
            connection = current;
        }
        if (connection != null) {
            connection.close();
        }
        awaitIdle(millis);
    }

    /**
     * Waits up to {@code millis} (0: without limit) for the current connection to end.
     *
     * @return true if no connection is being served any more
     */
    public boolean awaitIdle(long millis) {
        Thread t = currentThread;
        if (t == null) {
            return true;
        }
        try {
            t.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !t.isAlive();
    }

    /**
     * Refuses further sockets, ends the current connection (the device is reset) and waits up to
     * {@code millis} for its threads to finish.
     */
    public void close(long millis) {
        Connection connection;
        synchronized (lock) {
            closed = true;
            connection = current;
        }
        if (connection != null) {
            connection.close();
        }
        awaitIdle(millis);
    }
}
