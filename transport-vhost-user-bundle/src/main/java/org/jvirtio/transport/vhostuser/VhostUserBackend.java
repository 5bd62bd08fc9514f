package org.jvirtio.transport.vhostuser;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Objects;

import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.management.QueueStatistics;
import org.jvirtio.nativeio.UnixServerSocket;
import org.jvirtio.transport.vhostuser.internal.AcceptLoop;
import org.jvirtio.transport.vhostuser.internal.ConnectLoop;
import org.jvirtio.transport.vhostuser.internal.Connection;
import org.jvirtio.transport.vhostuser.internal.ConnectionRunner;

/**
 * A vhost-user back end: serves one {@link VirtioDevice} to one front end (QEMU) at a time over a Unix
 * socket, in either of the two ways QEMU's {@code -chardev socket} can meet it:
 *
 * <ul>
 * <li>{@link #start} (server mode, the usual one): jvirtio listens on the path and QEMU connects
 * ({@code -chardev socket,path=PATH}, optionally {@code reconnect=N}). While one front end is
 * connected, another is turned away (after a short wait, so that a front end reconnecting right after
 * a disconnect is not).
 * <li>{@link #connect} (client mode): QEMU listens ({@code -chardev socket,path=PATH,server=on,wait=off})
 * and jvirtio connects out, trying once per interval until the path accepts, and again one interval
 * after each disconnect.
 * </ul>
 *
 * When a front end leaves, the device is reset and the back end waits for (or looks for) the next one.
 *
 * <p>Threads: one accept or connect thread per back end; per connection one message thread and one kick
 * thread (the device's queues are served on the kick thread, in {@code queueNotified}). Their names
 * all contain the socket's file name.
 *
 * <p>Server mode makes the socket file owner-only ({@code rw-------}) right after it is bound. Between
 * bind and chmod it carries the process umask's permissions; put it in a directory only the owner can
 * enter to close that window. In client mode the socket is the front end's: it decides who may connect.
 */
public final class VhostUserBackend implements AutoCloseable {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.vhostuser");
    /** What a Unix socket path may hold (sun_path is 108 bytes with its NUL), checked before any thread starts. */
    private static final int MAX_PATH_BYTES = 107;

    private final Path socketPath;
    private final ConnectionRunner runner;
    private final Thread loop;
    private final Runnable stopLoop;

    private VhostUserBackend(Path socketPath, ConnectionRunner runner, Runnable loopBody, Runnable stopLoop,
            String threadName) {
        this.socketPath = socketPath;
        this.runner = runner;
        this.stopLoop = stopLoop;
        this.loop = new Thread(loopBody, threadName);
        loop.setDaemon(true);
    }

    /** Server mode: binds {@code socketPath} (owner-only) and starts accepting front ends for {@code device}. */
    public static VhostUserBackend start(VirtioDevice device, Path socketPath) throws IOException {
        Objects.requireNonNull(device, "device");
        UnixServerSocket server = UnixServerSocket.bind(socketPath, 4);
        try {
            Files.setPosixFilePermissions(socketPath, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        ConnectionRunner runner = new ConnectionRunner(device, String.valueOf(socketPath.getFileName()));
        AcceptLoop accept = new AcceptLoop(server, runner);
        VhostUserBackend backend = new VhostUserBackend(socketPath, runner, accept, accept::close,
                "vhost-user-accept " + socketPath);
        backend.loop.start();
        LOG.log(Level.INFO, "vhost-user back end for device {0} listening on {1}", device.deviceId(), socketPath);
        return backend;
    }

    /**
     * Client mode: connects to the front end listening at {@code socketPath} and serves {@code device}
     * to it. Returns at once: if nobody listens there yet, the back end tries again every
     * {@code reconnectInterval} (logging once that it waits); when the front end goes away, it connects
     * again one interval later.
     *
     * @throws IllegalArgumentException if the interval is not positive or the path cannot be a Unix
     *                                  socket address (empty, NUL, over 107 bytes)
     */
    public static VhostUserBackend connect(VirtioDevice device, Path socketPath, Duration reconnectInterval) {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(socketPath, "socketPath");
        if (reconnectInterval.isNegative() || reconnectInterval.isZero()) {
            throw new IllegalArgumentException("reconnect interval must be positive: " + reconnectInterval);
        }
        checkAddress(socketPath);
        ConnectionRunner runner = new ConnectionRunner(device, String.valueOf(socketPath.getFileName()));
        ConnectLoop connect = new ConnectLoop(socketPath, reconnectInterval, runner);
        VhostUserBackend backend = new VhostUserBackend(socketPath, runner, connect, connect::close,
                "vhost-user-connect " + socketPath);
        backend.loop.start();
        LOG.log(Level.INFO, "vhost-user back end for device {0} connecting to {1}", device.deviceId(), socketPath);
        return backend;
    }

    /** The loop would only find out on its thread; a caller deserves the error now. */
    private static void checkAddress(Path path) {
        byte[] name = path.toString().getBytes(Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8")));
        if (name.length == 0 || name.length > MAX_PATH_BYTES) {
            throw new IllegalArgumentException("Unix socket path is " + name.length + " bytes long (1 to "
                    + MAX_PATH_BYTES + "): " + path);
        }
        for (byte b : name) {
            if (b == 0) {
                throw new IllegalArgumentException("Unix socket path contains a NUL byte: " + path);
            }
        }
    }

    /** Where this back end listens (server mode) or connects to (client mode). */
    public Path socketPath() {
        return socketPath;
    }

    /**
     * Front-end connections so far: accepted ones in server mode (turned-away ones included),
     * established ones in client mode.
     */
    public int connections() {
        return runner.connections();
    }

    /**
     * Connections accepted so far (turned-away ones included).
     *
     * @deprecated the same as {@link #connections()}, whose name also fits client mode
     */
    @Deprecated
    public int acceptedConnections() {
        return runner.connections();
    }

    /**
     * Serves {@code next} in place of the current device, keeping the front end's connection and rings:
     * new chains stop being handed out, the current device finishes the ones it holds (waiting up to
     * {@code drain}), is reset, and {@code next} starts on the same queues at the same positions. Without
     * a running device (no front end, or not started yet), {@code next} simply serves from now on. Used
     * to update a device bundle or swap a backend under a running guest.
     *
     * @return how long the rings were paused: the longest the guest waited for the device
     * @throws IllegalArgumentException if {@code next} cannot serve the negotiated rings (another device
     *                                  type, queue count, a feature the driver took that it lacks)
     * @throws IllegalStateException    if the current device still held chains after {@code drain}, or
     *                                  {@code next} failed to start; the current device runs on
     */
    public Duration replaceDevice(VirtioDevice next, Duration drain) {
        Objects.requireNonNull(next, "next");
        Objects.requireNonNull(drain, "drain");
        return runner.replaceDevice(next, drain);
    }

    /**
     * Serves {@code next} from the next connection on, ending the current one: the front end sees the
     * back end go away, reconnects (QEMU: {@code -chardev socket,...,reconnect=N}) and negotiates
     * afresh; requests it had in flight come back through its in-flight area if it shares one. For a
     * device that {@link #replaceDevice} cannot put in place. Waits up to five seconds for the old
     * connection to end.
     */
    public void disconnectAndServe(VirtioDevice next) {
        Objects.requireNonNull(next, "next");
        runner.disconnectAndServe(next, 5_000);
    }

    /** What the back end is doing: {@code waiting} (no front end), {@code connected}, {@code running}, {@code needs-reset}. */
    public String state() {
        Connection c = runner.current();
        return c == null ? "waiting" : c.state();
    }

    /** The features the connected front end acknowledged; 0 without one. */
    public long negotiatedFeatures() {
        Connection c = runner.current();
        return c == null ? 0 : c.negotiatedFeatures();
    }

    /** Counters of ring {@code index} since this back end started, across connections. */
    public QueueStatistics queueStatistics(int index) {
        return runner.counters().statistics(index);
    }

    /** The device served now (a stand-in while a replacement is under way). */
    public VirtioDevice device() {
        return runner.device();
    }

    /** Whether a front end is connected now. */
    public boolean isConnected() {
        return runner.isConnected();
    }

    /**
     * Stops accepting or connecting, closes the current connection (resetting the device) and waits for
     * this back end's threads to end. In server mode the socket file is removed.
     */
    @Override
    public void close() {
        stopLoop.run();
        runner.close(10_000);
        try {
            loop.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
