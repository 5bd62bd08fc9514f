package org.jvirtio.transport.vhostuser.component;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.management.QueueStatistics;
import org.jvirtio.api.management.ServedDevice;
import org.jvirtio.transport.vhostuser.VhostUserBackend;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * One vhost-user socket serving the device service that {@code device.target} selects, as a DS
 * component: each factory configuration of {@link #PID} is one socket.
 *
 * <p>The socket outlives the device behind it. When the device service is replaced (its bundle
 * updated, its backend swapped, a configuration changed), the front end keeps its connection and its
 * rings: the leaving device finishes what it holds and an {@link AbsentDevice} holds its place until
 * the next one arrives and resumes where it left off ({@link VhostUserBackend#replaceDevice}). Only a
 * device that cannot take over the negotiated rings (another type, other queues, fewer features), or
 * one that will not let go of its requests in time, costs the front end its connection, which it
 * re-establishes (QEMU with {@code reconnect=N}) to negotiate afresh.
 *
 * <p>The socket is opened when the first device arrives, not before: a front end never meets a
 * socket with nothing behind it.
 */
@Component(configurationPid = VhostUserTransport.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = ServedDevice.class, immediate = true)
@Designate(ocd = VhostUserTransport.Config.class, factory = true)
public final class VhostUserTransport implements ServedDevice {
    public static final String PID = "org.jvirtio.vhostuser.transport";
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.vhostuser");

    @ObjectClassDefinition(name = "jvirtio vhost-user transport", description = "A vhost-user socket serving one device")
    public @interface Config {
        @AttributeDefinition(description = "Path of the Unix socket (server mode: created; client mode: QEMU's)")
        String socket();

        @AttributeDefinition(description = "Connect to the front end's socket instead of listening")
        boolean client() default false;

        @AttributeDefinition(description = "Client mode: seconds between connection attempts")
        int reconnect() default 1;

        @AttributeDefinition(description = "Milliseconds a leaving device may take to finish its requests")
        long drainMillis() default 5000;

        @AttributeDefinition(description = "Filter selecting the device service, e.g. (jvirtio.id=blk0)")
        String device_target() default "(objectClass=org.jvirtio.api.device.VirtioDevice)";
    }

    private final Object lock = new Object();
    private Config config;
    private String id = "";
    private VirtioDevice bound;
    private VhostUserBackend backend;

    @Activate
    void activate(Config config, Map<String, Object> properties) {
        synchronized (lock) {
            this.config = config;
            Object name = properties.get(ServedDevice.ID);
            this.id = name != null ? name.toString() : String.valueOf(Path.of(config.socket()).getFileName());
            if (bound != null) {
                open(bound);
            }
        }
    }

    @Deactivate
    void deactivate() {
        synchronized (lock) {
            config = null;
            if (backend != null) {
                backend.close();
                backend = null;
            }
        }
    }

    @Reference(name = "device", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindDevice(VirtioDevice device) {
        synchronized (lock) {
            bound = device;
            if (config == null) {
                return; // activate opens the socket
            }
            if (backend == null) {
                open(device);
            } else {
                replace(device);
            }
        }
    }

    void unbindDevice(VirtioDevice device) {
        synchronized (lock) {
            if (bound != device) {
                return; // already replaced by a greedy bind
            }
            bound = null;
            if (backend != null) {
                replace(AbsentDevice.standingInFor(device));
            }
        }
    }

    /** The back end, once a device arrived; for tests and the shell. */
    VhostUserBackend backend() {
        synchronized (lock) {
            return backend;
        }
    }

    // ------------------------------------------------------------------ ServedDevice

    @Override
    public String id() {
        return id;
    }

    @Override
    public int deviceType() {
        VirtioDevice d = current();
        return d == null ? 0 : d.deviceId();
    }

    @Override
    public String transport() {
        return "vhost-user";
    }

    @Override
    public String address() {
        synchronized (lock) {
            return config == null ? "" : (config.client() ? "client:" : "") + config.socket();
        }
    }

    @Override
    public String state() {
        VhostUserBackend b = backend();
        if (b == null) {
            return "waiting";
        }
        return b.device() instanceof AbsentDevice ? "device-absent" : b.state();
    }

    @Override
    public long negotiatedFeatures() {
        VhostUserBackend b = backend();
        return b == null ? 0 : b.negotiatedFeatures();
    }

    @Override
    public int queueCount() {
        VirtioDevice d = current();
        return d == null ? 0 : d.queueCount();
    }

    @Override
    public QueueStatistics queueStatistics(int index) {
        VhostUserBackend b = backend();
        return b == null ? QueueStatistics.NONE : b.queueStatistics(index);
    }

    @Override
    public Map<String, Long> deviceCounters() {
        VirtioDevice d = current();
        return d == null ? Map.of() : d.counters();
    }

    @Override
    public void reset() {
        VhostUserBackend b = backend();
        if (b != null) {
            LOG.log(Level.INFO, "{0}: reset on request: the front end reconnects", id);
            b.disconnectAndServe(b.device());
        }
    }

    private VirtioDevice current() {
        synchronized (lock) {
            return backend != null ? backend.device() : bound;
        }
    }

    // ------------------------------------------------------------------ serving

    /**
     * Opens the socket for {@code device}. A socket that cannot be opened (a directory that does not
     * exist or is not writable, a path too long) is logged with this device's name and leaves it
     * unserved; the other devices are not affected.
     */
    private void open(VirtioDevice device) {
        Path socket = Path.of(config.socket());
        try {
            backend = config.client()
                    ? VhostUserBackend.connect(device, socket, Duration.ofSeconds(Math.max(1, config.reconnect())))
                    : VhostUserBackend.start(device, socket);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.ERROR, "{0}: cannot serve on vhost-user socket {1}: {2}", id, socket, e.getMessage());
        }
    }

    private void replace(VirtioDevice next) {
        try {
            Duration paused = backend.replaceDevice(next, Duration.ofMillis(Math.max(0, config.drainMillis())));
            LOG.log(Level.INFO, "{0}: now served by {1} (front end paused {2} us)", config.socket(), next,
                    Long.toString(paused.toNanos() / 1000)); // a string: no locale grouping of digits
        } catch (IllegalArgumentException | IllegalStateException e) {
            LOG.log(Level.WARNING, "{0}: {1}; the front end reconnects to {2}", config.socket(), e.getMessage(), next);
            backend.disconnectAndServe(next);
        }
    }
}
