package org.jvirtio.transport.vhostuser;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.nativeio.UnixServerSocket;
import org.jvirtio.nativeio.UnixSocket;
import org.jvirtio.transport.vhostuser.internal.Connection;

/**
 * A vhost-user back end: serves one {@link VirtioDevice} on a Unix socket where a front end (QEMU)
 * connects. One front end at a time: while one is connected, another is turned away (after a short
 * wait, so that a front end reconnecting right after a disconnect is not). When a front end leaves,
 * the device is reset and the server waits for the next one.
 *
 * <p>Threads: one accept thread per server; per connection one message thread and one kick thread
 * (the device's queues are served on the kick thread, in {@code queueNotified}).
 *
 * <p>The socket file is made owner-only ({@code rw-------}) right after it is bound. Between bind and
 * chmod it carries the process umask's permissions; put it in a directory only the owner can enter to
 * close that window.
 */
public final class VhostUserBackend implements AutoCloseable {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.vhostuser");
    private static final long TAKEOVER_WAIT_MILLIS = 2_000;

    private final VirtioDevice device;
    private final UnixServerSocket server;
    private final Thread acceptor;
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile Connection current;
    private volatile Thread currentThread;
    private volatile boolean closed;

    private VhostUserBackend(VirtioDevice device, UnixServerSocket server) {
        this.device = device;
        this.server = server;
        this.acceptor = new Thread(this::acceptLoop, "vhost-user-accept " + server.path());
        acceptor.setDaemon(true);
    }

    /** Binds {@code socketPath} (owner-only) and starts accepting front ends for {@code device}. */
    public static VhostUserBackend start(VirtioDevice device, Path socketPath) throws IOException {
        Objects.requireNonNull(device, "device");
        UnixServerSocket server = UnixServerSocket.bind(socketPath, 4);
        try {
            Files.setPosixFilePermissions(socketPath, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        VhostUserBackend backend = new VhostUserBackend(device, server);
        backend.acceptor.start();
        LOG.log(Level.INFO, "vhost-user back end for device {0} listening on {1}", device.deviceId(), socketPath);
        return backend;
    }

    public Path socketPath() {
        return server.path();
    }

    /** Connections accepted so far (turned-away ones included). */
    public int acceptedConnections() {
        return accepted.get();
    }

    /** Whether a front end is connected now. */
    public boolean isConnected() {
        Thread t = currentThread;
        return t != null && t.isAlive();
    }

    private void acceptLoop() {
        int serial = 0;
        while (!closed) {
            UnixSocket socket;
            try {
                socket = server.accept();
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    LOG.log(Level.ERROR, "vhost-user accept on " + server.path() + " failed; server stops", e);
                }
                return;
            }
            accepted.incrementAndGet();
            if (!awaitPrevious()) {
                LOG.log(Level.WARNING, "{0}: a front end is already connected; turning another away", server.path());
                socket.close();
                continue;
            }
            String name = server.path().getFileName() + "#" + (++serial);
            try {
                Connection connection = new Connection(device, socket, name);
                Thread thread = new Thread(connection, "vhost-user " + name);
                thread.setDaemon(true);
                current = connection;
                currentThread = thread;
                thread.start();
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.ERROR, name + ": cannot serve the connection", e);
                socket.close();
            }
        }
    }

    /** Waits briefly for the previous connection to end; false if it is still alive. */
    private boolean awaitPrevious() {
        Thread previous = currentThread;
        if (previous == null) {
            return true;
        }
        try {
            previous.join(TAKEOVER_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !previous.isAlive();
    }

    /** Stops accepting, closes the current connection (resetting the device) and removes the socket file. */
    @Override
    public void close() {
        closed = true;
        server.close();
        Connection connection = current;
        if (connection != null) {
            connection.close();
        }
        Thread thread = currentThread;
        try {
            acceptor.join(5_000);
            if (thread != null) {
                thread.join(10_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
