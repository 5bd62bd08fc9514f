package org.jvirtio.device.console;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.AbstractVirtioDevice;
import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.device.DeviceActivationException;
import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.device.console.backend.ConsoleBackend;
import org.jvirtio.device.console.backend.ConsolePort;
import org.jvirtio.device.console.queue.ControlInbox;
import org.jvirtio.device.console.queue.ControlOutbox;
import org.jvirtio.device.console.queue.PortOutput;
import org.jvirtio.device.console.queue.PortProtocol;
import org.jvirtio.device.console.queue.PortReceiveQueue;
import org.jvirtio.device.console.queue.PortTransmitQueue;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * A virtio-console device (virtio 1.2 section 5.3) whose ports each talk to a {@link ConsoleBackend}.
 * Queues: port 0's receiveq 0 and transmitq 1; with MULTIPORT the control receiveq 2 and transmitq 3,
 * then port {@code N}'s receiveq {@code 2(N+1)} and transmitq {@code 2(N+1)+1}, for every port below
 * max_nr_ports.
 *
 * <p>Without MULTIPORT the driver makes port 0 its console (hvc0) and learns a new size from a
 * configuration-change interrupt. With MULTIPORT the device adds its ports over the control queues
 * ({@link PortProtocol}): the console port becomes hvc0, named ports appear as /dev/vport{dev}p{port}
 * with their name in /sys/class/virtio-ports/.../name, and RESIZE carries the console's size. A byte
 * the driver writes to emerg_wr goes to port 0's backend, with or without a running driver.
 *
 * <p>Backends are attached when the device is created and closed when it goes away, not at each driver
 * start, so a user attached to a socket stays attached across guest reboots. Transmit and control
 * transmit queues are served on the transport's thread; receive queues are filled on the backends'
 * threads behind their serve locks; the control receiveq behind its own. Queues share nothing else.
 */
@Component(service = VirtioDevice.class, configurationPolicy = ConfigurationPolicy.REQUIRE,
        configurationPid = ConsoleDevice.PID)
@Designate(ocd = ConsoleDevice.Config.class, factory = true)
public final class ConsoleDevice extends AbstractVirtioDevice {
    public static final String PID = "org.jvirtio.console.device";
    private static final Logger LOG = System.getLogger("org.jvirtio.device.console");
    /** Messages kept for a driver that posts no control buffers: a full handshake for every port, and then some. */
    private static final int OUTBOX_PER_PORT = 6;

    @ObjectClassDefinition(name = "jvirtio virtio-console device", description = "A virtio-console device over console backends, one per port")
    public @interface Config {
        /** Filter selecting this device's backends, e.g. {@code (device=con0)}; each says its port in {@code port}. */
        String backends_target() default "(objectClass=org.jvirtio.device.console.backend.ConsoleBackend)";

        /** How many backends DS waits for before it creates the device: set it to {@link #ports()}. */
        int backends_cardinality_minimum() default 1;

        /** Ports the device has, numbered from 0, each needing a backend whose {@code port} property names it. */
        int ports() default 1;

        /** Name of port i at index i ({@code ""} or missing: unnamed); the guest sees it in sysfs. */
        String[] names() default {};

        /** max_nr_ports; 0: as many as {@link #ports()}. */
        int maxPorts() default 0;

        /** The port the guest makes its console (hvc0), -1 for none. */
        int consolePort() default 0;

        boolean size() default true;

        int cols() default 80;

        int rows() default 24;

        boolean multiport() default true;

        boolean emergWrite() default true;

        int queueSize() default 128;

        boolean packed() default true;
    }

    private final ConsoleDeviceOptions options;
    private final QueueMetrics[] metrics;
    /** For the counters of no queue (emerg_wr, kicks for queues the device does not serve). */
    private final QueueMetrics deviceMetrics = new QueueMetrics();
    private final PortLink[] links;
    private final PortOutput[] outputs;
    /**
     * Replaced whole by {@link #resize} (under {@link #resizeLock}, so that the space and the RESIZE
     * message agree), read on transport threads: volatile, so a reader sees the old or the new array,
     * never a half-written one.
     */
    private volatile byte[] config;
    private final Object resizeLock = new Object();
    /** Published at the end of activation and cleared at reset; read by kicks and backend callbacks on other threads. */
    private volatile Running running;

    /** What one driver start runs; replaced as a whole, so a reset never sees half of it. */
    private record Running(boolean multiport, PortReceiveQueue[] rx, PortTransmitQueue[] tx, ControlOutbox outbox,
            ControlInbox inbox, PortProtocol protocol, DriverNotifier notifier) {
    }

    @Activate
    public ConsoleDevice(@Reference(name = "backends", service = ConsoleBackend.class,
            cardinality = ReferenceCardinality.AT_LEAST_ONE) List<Map.Entry<Map<String, Object>, ConsoleBackend>> backends,
            Config config) {
        this(byPort(backends, config.ports()), optionsOf(config));
    }

    /** {@code backends.get(i)} serves port i. */
    public ConsoleDevice(List<? extends ConsoleBackend> backends, ConsoleDeviceOptions options) {
        super(VirtioDeviceId.CONSOLE, queueSizes(options), offered(options));
        if (backends.size() != options.ports()) {
            throw new IllegalArgumentException(options.ports() + " ports need as many backends, not " + backends.size());
        }
        this.options = options;
        this.config = ConsoleConfigSpace.encode(options.cols(), options.rows(), options.maxPorts());
        this.metrics = new QueueMetrics[queueCount()];
        for (int i = 0; i < metrics.length; i++) {
            metrics[i] = new QueueMetrics();
        }
        links = new PortLink[options.ports()];
        outputs = new PortOutput[options.ports()];
        try {
            for (int p = 0; p < links.length; p++) {
                links[p] = new PortLink(p, this::hostConnectionChanged);
                outputs[p] = new PortOutput(backends.get(p).attach(links[p]));
            }
        } catch (RuntimeException e) {
            closePorts();
            throw e;
        }
    }

    static ConsoleDeviceOptions optionsOf(Config c) {
        List<String> names = new ArrayList<>();
        for (int p = 0; p < c.ports(); p++) {
            names.add(p < c.names().length ? c.names()[p] : "");
        }
        return ConsoleDeviceOptions.builder().names(names).maxPorts(c.maxPorts()).consolePort(c.consolePort())
                .size(c.size()).cols(c.cols()).rows(c.rows()).multiport(c.multiport()).emergWrite(c.emergWrite())
                .queueSize(c.queueSize()).packed(c.packed()).build();
    }

    /** Orders the referenced backends by their {@code port} property; every port needs exactly one. */
    static List<ConsoleBackend> byPort(List<Map.Entry<Map<String, Object>, ConsoleBackend>> backends, int ports) {
        ConsoleBackend[] byPort = new ConsoleBackend[Math.max(ports, 0)];
        for (Map.Entry<Map<String, Object>, ConsoleBackend> e : backends) {
            int port = portOf(e.getKey().get(ConsoleBackend.PORT_PROPERTY));
            if (port < 0 || port >= byPort.length) {
                throw new IllegalArgumentException("a console backend serves port " + port + " of a device with "
                        + ports + " port(s): " + e.getKey().get("service.pid"));
            }
            if (byPort[port] != null) {
                throw new IllegalArgumentException("two console backends serve port " + port);
            }
            byPort[port] = e.getValue();
        }
        for (int p = 0; p < byPort.length; p++) {
            if (byPort[p] == null) {
                throw new IllegalArgumentException("no console backend serves port " + p
                        + " (set backends.cardinality.minimum to the number of ports)");
            }
        }
        return Arrays.asList(byPort);
    }

    private static int portOf(Object value) {
        if (value == null) {
            return 0;
        }
        if (value instanceof Number n) {
            return n.intValue();
        }
        try {
            return Integer.parseInt(value.toString().trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static int[] queueSizes(ConsoleDeviceOptions o) {
        int[] sizes = new int[o.multiport() ? 2 * (o.maxPorts() + 1) : 2];
        Arrays.fill(sizes, o.queueSize());
        return sizes;
    }

    static long offered(ConsoleDeviceOptions o) {
        long f = VirtioFeature.bit(VirtioFeature.VERSION_1);
        f |= o.indirect() ? VirtioFeature.bit(VirtioFeature.RING_INDIRECT_DESC) : 0;
        f |= o.eventIdx() ? VirtioFeature.bit(VirtioFeature.RING_EVENT_IDX) : 0;
        f |= o.packed() ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0;
        f |= o.size() ? 1L << ConsoleFeatures.SIZE : 0;
        f |= o.multiport() ? 1L << ConsoleFeatures.MULTIPORT : 0;
        f |= o.emergWrite() ? 1L << ConsoleFeatures.EMERG_WRITE : 0;
        return f;
    }

    public ConsoleDeviceOptions options() {
        return options;
    }

    /** The counters of queue {@code index}; they live as long as the device, across resets. */
    public QueueMetrics metrics(int index) {
        return metrics[index];
    }

    /** {@code counter} summed over all queues and the device's own. */
    public long count(ConsoleCounter counter) {
        long sum = deviceMetrics.get(counter);
        for (QueueMetrics m : metrics) {
            sum += m.get(counter);
        }
        return sum;
    }

    /** Every {@link ConsoleCounter} summed, names in lower case: what the shell and JMX show. */
    @Override
    public Map<String, Long> counters() {
        Map<String, Long> counters = new LinkedHashMap<>();
        for (ConsoleCounter c : ConsoleCounter.values()) {
            counters.put(c.name().toLowerCase(Locale.ROOT), count(c));
        }
        return counters;
    }

    @Override
    protected byte[] configSpace() {
        return config;
    }

    @Override
    protected void onActivate(long features, DeviceActivation activation) {
        boolean multiport = VirtioFeature.has(features, ConsoleFeatures.MULTIPORT);
        int queuePorts = multiport ? options.maxPorts() : 1;
        DriverNotifier notifier = activation.notifier();
        PortReceiveQueue[] rx = new PortReceiveQueue[queuePorts];
        PortTransmitQueue[] tx = new PortTransmitQueue[queuePorts];
        for (int p = 0; p < queuePorts; p++) {
            int rxIndex = rxQueue(p);
            DeviceQueue rxRing = activation.queue(rxIndex);
            DeviceQueue txRing = activation.queue(rxIndex + 1);
            boolean hasPort = p < options.ports();
            if (hasPort && (rxRing == null || txRing == null)) {
                throw new DeviceActivationException("virtio-console needs queues " + rxIndex + " and " + (rxIndex + 1)
                        + " for port " + p);
            }
            // the queues of a port the device does not have: kicks and chains on them are counted and dropped
            rx[p] = hasPort ? new PortReceiveQueue(rxIndex, rxRing, notifier, metrics[rxIndex]) : null;
            tx[p] = txRing == null ? null
                    : new PortTransmitQueue(rxIndex + 1, txRing, notifier, metrics[rxIndex + 1], hasPort ? outputs[p] : null);
        }
        ControlOutbox outbox = null;
        ControlInbox inbox = null;
        PortProtocol protocol = null;
        if (multiport) {
            DeviceQueue in = activation.queue(2);
            DeviceQueue out = activation.queue(3);
            if (in == null || out == null) {
                throw new DeviceActivationException("virtio-console with MULTIPORT needs the control queues 2 and 3");
            }
            outbox = new ControlOutbox(2, in, notifier, metrics[2], 16 + OUTBOX_PER_PORT * options.ports());
            byte[] c = config;
            protocol = new PortProtocol(outbox, options.names(), options.consolePort(),
                    VirtioFeature.has(features, ConsoleFeatures.SIZE), cols(c), rows(c), new Events());
            inbox = new ControlInbox(3, out, notifier, metrics[3], protocol, options.maxPorts());
        } else {
            rx[0].setOpen(true); // the driver makes port 0 its console and takes input from the start
        }
        running = new Running(multiport, rx, tx, outbox, inbox, protocol, notifier);
        for (int p = 0; p < Math.min(queuePorts, links.length); p++) {
            links[p].attach(rx[p]);
        }
        if (!multiport) {
            // input that waited for a driver goes as soon as there are buffers: ask now too, in case the
            // driver posted them before DRIVER_OK and the transport dropped that kick
            outputs[0].port().inputRoom();
        }
    }

    private static int rxQueue(int port) {
        return port == 0 ? 0 : 2 * (port + 1);
    }

    @Override
    public void queueNotified(int index) {
        Running r = running;
        if (r == null || index < 0) {
            return;
        }
        if (r.multiport && index == 2) {
            r.outbox.kick();
            return;
        }
        if (r.multiport && index == 3) {
            r.inbox.kick();
            return;
        }
        // queues 2 and 3 are the control queues with MULTIPORT, and nothing without it
        int port = index < 2 ? 0 : r.multiport ? index / 2 - 1 : Integer.MAX_VALUE;
        if (port >= r.rx.length) {
            deviceMetrics.incrementShared(ConsoleCounter.KICK_NO_QUEUE);
            return;
        }
        if ((index & 1) != 0) {
            PortTransmitQueue t = r.tx[port];
            if (t == null) {
                deviceMetrics.incrementShared(ConsoleCounter.KICK_NO_QUEUE);
            } else {
                t.kick();
            }
            return;
        }
        PortReceiveQueue q = r.rx[port];
        if (q == null) {
            metrics[index].incrementShared(ConsoleCounter.RX_NO_PORT);
            return;
        }
        q.kick();
        if (q.isOpen()) {
            outputs[port].port().inputRoom();
        }
    }

    /** Queues share nothing mutable: receive and control receive queues have their own locks. */
    @Override
    public boolean servesQueuesConcurrently() {
        return true;
    }

    @Override
    public void writeConfig(int offset, byte[] src, int srcOffset, int length) {
        // emerg_wr: the driver stores a 32-bit value whose low byte is the character
        if (options.emergWrite() && offset == ConsoleConfigSpace.EMERG_WR && length >= 1) {
            deviceMetrics.incrementShared(ConsoleCounter.EMERG_WRITES);
            outputs[0].writeByte(src[srcOffset]);
        }
    }

    @Override
    protected void onReset() {
        Running r = running;
        running = null;
        for (PortLink l : links) {
            l.detach();
        }
        if (r != null) {
            for (PortReceiveQueue q : r.rx) {
                if (q != null) {
                    q.stop();
                }
            }
            for (PortTransmitQueue t : r.tx) {
                if (t != null) {
                    t.stop();
                }
            }
            if (r.outbox != null) {
                r.outbox.stop();
                r.inbox.stop();
            }
        }
    }

    /** The component goes away (configuration deleted, a backend gone): stop serving and detach the backends. */
    @Deactivate
    public void close() {
        reset();
        closePorts();
    }

    private void closePorts() {
        for (PortOutput o : outputs) {
            if (o != null) {
                try {
                    o.port().close();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "virtio-console: closing a backend port failed", e);
                }
            }
        }
    }

    /**
     * Sets the console's size: cols and rows in configuration space, a configuration-change interrupt
     * (how a driver without MULTIPORT learns it) and, with MULTIPORT, RESIZE for the console port.
     */
    public void resize(int cols, int rows) {
        if (cols < 0 || cols > 0xFFFF || rows < 0 || rows > 0xFFFF) {
            throw new IllegalArgumentException("cols and rows must be 0 to 65535: " + cols + "x" + rows);
        }
        synchronized (resizeLock) {
            config = ConsoleConfigSpace.encode(cols, rows, options.maxPorts());
            Running r = running;
            if (r == null) {
                return;
            }
            if (options.size()) {
                r.notifier.notifyConfigChanged();
            }
            if (r.protocol != null) {
                r.protocol.resize(cols, rows);
            }
        }
    }

    /** Hot-unplugs {@code port} (PORT_REMOVE); false if no driver runs with MULTIPORT or it is not added. */
    public boolean removePort(int port) {
        Running r = running;
        return r != null && r.protocol != null && port >= 0 && port < links.length && r.protocol.remove(port);
    }

    /** Adds a removed {@code port} again (PORT_ADD); false if no driver is ready for it or it is added. */
    public boolean addPort(int port) {
        Running r = running;
        return r != null && r.protocol != null && port >= 0 && port < links.length && r.protocol.add(port);
    }

    /** Whether the running driver set {@code port} up (PORT_READY); port 0 without MULTIPORT once started. */
    public boolean isPortReady(int port) {
        Running r = running;
        if (r == null) {
            return false;
        }
        return r.protocol == null ? port == 0 : r.protocol.isReady(port);
    }

    /** Whether the guest takes input on {@code port} now (opened by a program, or the console). */
    public boolean isPortOpen(int port) {
        Running r = running;
        return r != null && port >= 0 && port < r.rx.length && r.rx[port] != null && r.rx[port].isOpen();
    }

    private static int cols(byte[] c) {
        return c[ConsoleConfigSpace.COLS] & 0xFF | (c[ConsoleConfigSpace.COLS + 1] & 0xFF) << 8;
    }

    private static int rows(byte[] c) {
        return c[ConsoleConfigSpace.ROWS] & 0xFF | (c[ConsoleConfigSpace.ROWS + 1] & 0xFF) << 8;
    }

    private void hostConnectionChanged(int port, boolean connected) {
        Running r = running;
        if (r != null && r.protocol != null) {
            r.protocol.hostConnected(port, connected);
        }
    }

    /** The protocol's view of the ports, on the control transmitq's thread. */
    private final class Events implements PortProtocol.PortEvents {
        @Override
        public void guestOpened(int port, boolean open) {
            Running r = running;
            if (r == null || port >= r.rx.length || r.rx[port] == null) {
                return;
            }
            r.rx[port].setOpen(open);
            if (open) {
                outputs[port].port().inputRoom();
            }
        }

        @Override
        public boolean hostConnected(int port) {
            return links[port].isHostConnected();
        }
    }

    @Override
    public String toString() {
        return "ConsoleDevice[" + options.ports() + " port(s) of " + options.maxPorts() + "]";
    }
}
