package org.jvirtio.device.console.queue;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.jvirtio.device.console.ConsoleCounter;

/**
 * The MULTIPORT handshake as Linux's virtio_console driver runs it, and the port state it leaves:
 * <ol>
 * <li>the driver fills the control receiveq and sends DEVICE_READY;</li>
 * <li>the device sends PORT_ADD for each of its ports (the driver creates /dev/vport{dev}p{port} and
 *     fills the port's receiveq) and the driver answers PORT_READY;</li>
 * <li>only then does the driver know the port, so only then does the device tell it more: CONSOLE_PORT
 *     for the console port (the driver makes it an hvc console, opens it itself and answers
 *     PORT_OPEN 1), RESIZE for it with SIZE, PORT_NAME for a named port (sysfs {@code name}), and
 *     PORT_OPEN 1 if someone is attached on the host side;</li>
 * <li>a guest program opening or closing /dev/vport{dev}p{port} makes the driver send PORT_OPEN 1 / 0;
 *     the port takes host input only while it is open (a closed port's input would be thrown away).</li>
 * </ol>
 * The driver ignores messages about ports it does not know, so nothing is sent about a port before its
 * PORT_READY. State is guarded by the outbox's lock; the device hears of open and close through
 * {@link PortEvents}, called after the lock is released (it calls into backends).
 */
public final class PortProtocol implements ControlTarget {
    private static final Logger LOG = System.getLogger("org.jvirtio.device.console");

    /** What the device does when the guest opens or closes a port. */
    public interface PortEvents {
        void guestOpened(int port, boolean open);

        /** Whether someone is attached to the port's backend now. */
        boolean hostConnected(int port);
    }

    private final ControlOutbox outbox;
    private final byte[][] names;
    private final int consolePort;
    private final boolean size;
    private final PortEvents events;
    private final boolean[] added;
    private final boolean[] ready;
    private boolean deviceReady;
    private int cols;
    private int rows;

    /**
     * @param names one per port the device has ("" unnamed)
     * @param size  whether SIZE was negotiated: the console port then gets RESIZE messages
     */
    public PortProtocol(ControlOutbox outbox, List<String> names, int consolePort, boolean size, int cols, int rows,
            PortEvents events) {
        this.outbox = outbox;
        this.names = new byte[names.size()][];
        for (int i = 0; i < names.size(); i++) {
            this.names[i] = names.get(i).getBytes(StandardCharsets.UTF_8);
        }
        this.consolePort = consolePort;
        this.size = size;
        this.cols = cols;
        this.rows = rows;
        this.events = events;
        this.added = new boolean[names.size()];
        this.ready = new boolean[names.size()];
    }

    @Override
    public ConsoleCounter deviceReady(boolean ok) {
        if (!ok) {
            LOG.log(Level.WARNING, "virtio-console: the driver failed to set the device up (DEVICE_READY 0)");
            return ConsoleCounter.CTRL_DEVICE_FAILED;
        }
        synchronized (outbox.lock()) {
            deviceReady = true;
            for (int port = 0; port < added.length; port++) {
                add(port);
            }
        }
        return null;
    }

    @Override
    public ConsoleCounter portReady(int port, boolean ok) {
        synchronized (outbox.lock()) {
            if (port >= added.length || !added[port]) {
                return ConsoleCounter.CTRL_PORT_NOT_ADDED;
            }
            if (!ok) {
                LOG.log(Level.WARNING, "virtio-console: the driver failed to set port {0} up (PORT_READY 0)", port);
                return ConsoleCounter.CTRL_PORT_FAILED;
            }
            ready[port] = true;
            if (port == consolePort) {
                outbox.send(port, ControlMessage.CONSOLE_PORT, 1, new byte[0]);
                if (size) {
                    outbox.send(port, ControlMessage.RESIZE, 0, ControlMessage.size(cols, rows));
                }
            }
            if (names[port].length > 0) {
                outbox.send(port, ControlMessage.PORT_NAME, 1, names[port]);
            }
            if (events.hostConnected(port)) {
                outbox.send(port, ControlMessage.PORT_OPEN, 1, new byte[0]);
            }
        }
        return null;
    }

    @Override
    public ConsoleCounter portOpen(int port, boolean open) {
        synchronized (outbox.lock()) {
            if (port >= added.length || !added[port]) {
                return ConsoleCounter.CTRL_PORT_NOT_ADDED;
            }
        }
        events.guestOpened(port, open);
        return null;
    }

    /** Someone attached to or left the port's backend: the guest learns it once the port is ready. */
    public void hostConnected(int port, boolean connected) {
        synchronized (outbox.lock()) {
            if (ready[port]) {
                outbox.send(port, ControlMessage.PORT_OPEN, connected ? 1 : 0, new byte[0]);
            }
        }
    }

    /** The console's size changed: the console port gets RESIZE (with SIZE) once it is ready. */
    public void resize(int newCols, int newRows) {
        synchronized (outbox.lock()) {
            cols = newCols;
            rows = newRows;
            if (size && consolePort >= 0 && ready[consolePort]) {
                outbox.send(consolePort, ControlMessage.RESIZE, 0, ControlMessage.size(cols, rows));
            }
        }
    }

    /** Hot-unplugs the port (PORT_REMOVE): the guest's /dev/vport node goes away. */
    public boolean remove(int port) {
        synchronized (outbox.lock()) {
            if (!added[port]) {
                return false;
            }
            outbox.send(port, ControlMessage.PORT_REMOVE, 1, new byte[0]);
            added[port] = false;
            ready[port] = false;
        }
        events.guestOpened(port, false);
        return true;
    }

    /** Hot-plugs a removed port again (PORT_ADD), once the driver is ready. */
    public boolean add(int port) {
        synchronized (outbox.lock()) {
            if (!deviceReady || added[port]) {
                return false;
            }
            added[port] = true;
            outbox.send(port, ControlMessage.PORT_ADD, 1, new byte[0]);
            return true;
        }
    }

    public boolean isReady(int port) {
        synchronized (outbox.lock()) {
            return port >= 0 && port < ready.length && ready[port];
        }
    }
}
